package importer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/latchgo/latch/account"
)

// memStore is an in-memory user table with the case-insensitive unique
// usernames and emails of the real stores. failCreate, if set, decides
// the error of CreateUser for a user.
type memStore struct {
	mu         sync.Mutex
	users      map[string]account.User
	next       int
	failCreate func(u *account.User) error
	deleted    []string
}

func newMemStore(users ...account.User) *memStore {
	s := &memStore{users: map[string]account.User{}}
	for _, u := range users {
		if err := s.CreateUser(context.Background(), &u); err != nil {
			panic(err)
		}
	}
	return s
}

func (s *memStore) find(match func(account.User) bool) (*account.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if match(u) {
			return &u, nil
		}
	}
	return nil, fmt.Errorf("mem: %w", account.ErrNotFound)
}

func (s *memStore) UserByUsername(_ context.Context, name string) (*account.User, error) {
	return s.find(func(u account.User) bool { return strings.EqualFold(u.Username, name) })
}

func (s *memStore) UsernameTaken(_ context.Context, name string) (bool, error) {
	_, err := s.find(func(u account.User) bool {
		return strings.EqualFold(u.Username, name) || account.UsernameSkeleton(u.Username) == account.UsernameSkeleton(name)
	})
	return err == nil, nil
}

func (s *memStore) UserByEmail(_ context.Context, email string) (*account.User, error) {
	return s.find(func(u account.User) bool { return strings.EqualFold(u.Email, email) })
}

func (s *memStore) CreateUser(ctx context.Context, u *account.User) error {
	if s.failCreate != nil {
		if err := s.failCreate(u); err != nil {
			return err
		}
	}
	if taken, _ := s.UsernameTaken(ctx, u.Username); taken {
		return account.ErrUsernameTaken
	}
	if _, err := s.UserByEmail(ctx, u.Email); err == nil {
		return account.ErrEmailTaken
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	u.ID = fmt.Sprint(s.next)
	s.users[u.ID] = *u
	return nil
}

func (s *memStore) DeleteUser(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[id]; !ok {
		return account.ErrNotFound
	}
	delete(s.users, id)
	s.deleted = append(s.deleted, id)
	return nil
}

func (s *memStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users)
}

// vector is an entry of password/testdata/legacy-hashes.json: a hash made
// by werkzeug, Django or Python's bcrypt.
type vector struct {
	Format   string `json:"format"`
	Password string `json:"password"`
	Hash     string `json:"hash"`
	Wrong    bool   `json:"wrong"`
}

func legacyHashes(tb testing.TB) []vector {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "password", "testdata", "legacy-hashes.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var file struct{ Hashes []vector }
	if err := json.Unmarshal(b, &file); err != nil {
		tb.Fatal(err)
	}
	if len(file.Hashes) == 0 {
		tb.Fatal("no hashes")
	}
	return file.Hashes
}

// Real hashes for tests that need one of each kind.
const (
	werkzeugHash = "pbkdf2:sha256:260000$KXjz6re3o5USqhZS$f696c73ae064e067f60bc4998ac78204e61a7b07a42eef93ac6253529b8f2a12"
	bcryptHash   = "$2b$12$2h65PZdeL0OjncUz7iDCfOznaoKWMkikqOjh9f/aUuhLxSVkLYw3S"
	djangoHash   = "pbkdf2_sha256$260000$C1RpwS2hGYY6dox2ztDRz8$d/oR4wizy1iETWKvrZ85dSxA8a7ossRw20Fyx3d82EU="
)
