package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

// timeNow returns the current time at the precision every store keeps.
func timeNow() time.Time { return time.Now().Truncate(time.Millisecond) }

// sameTime compares at the millisecond precision stores must keep.
func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

func liveSession(hash, userID string, now time.Time) latch.Session {
	return latch.Session{
		Hash:       hash,
		UserID:     userID,
		CreatedAt:  now.Add(-time.Minute),
		LastSeenAt: now.Add(-time.Second),
		ExpiresAt:  now.Add(time.Hour),
		IP:         "192.0.2.1",
		UserAgent:  "storetest",
		Data:       []byte("data of " + hash),
	}
}

func liveToken(selector, userID, series string, now time.Time) latch.RememberToken {
	return latch.RememberToken{
		Selector:      selector,
		ValidatorHash: "validator-hash-of-" + selector,
		UserID:        userID,
		Series:        series,
		CreatedAt:     now.Add(-time.Minute),
		LastUsedAt:    now.Add(-time.Second),
		ExpiresAt:     now.Add(24 * time.Hour),
		IP:            "2001:db8::1",
		UserAgent:     "storetest",
	}
}

func newUser(name string) *account.User {
	return &account.User{
		Username:     name,
		Email:        name + "@example.com",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaC1vZi0" + name,
		CreatedAt:    timeNow(),
	}
}

func diffSession(got, want latch.Session) string {
	var d []string
	check := func(field string, ok bool, g, w any) {
		if !ok {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", field, g, w))
		}
	}
	check("Hash", got.Hash == want.Hash, got.Hash, want.Hash)
	check("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	check("Series", got.Series == want.Series, got.Series, want.Series)
	check("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), got.CreatedAt, want.CreatedAt)
	check("LastSeenAt", sameTime(got.LastSeenAt, want.LastSeenAt), got.LastSeenAt, want.LastSeenAt)
	check("ExpiresAt", sameTime(got.ExpiresAt, want.ExpiresAt), got.ExpiresAt, want.ExpiresAt)
	check("IP", got.IP == want.IP, got.IP, want.IP)
	check("UserAgent", got.UserAgent == want.UserAgent, got.UserAgent, want.UserAgent)
	check("Data", bytes.Equal(got.Data, want.Data), got.Data, want.Data)
	return strings.Join(d, "; ")
}

func diffToken(got, want latch.RememberToken) string {
	var d []string
	check := func(field string, ok bool, g, w any) {
		if !ok {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", field, g, w))
		}
	}
	check("Selector", got.Selector == want.Selector, got.Selector, want.Selector)
	check("ValidatorHash", got.ValidatorHash == want.ValidatorHash, got.ValidatorHash, want.ValidatorHash)
	check("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	check("Series", got.Series == want.Series, got.Series, want.Series)
	check("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), got.CreatedAt, want.CreatedAt)
	check("LastUsedAt", sameTime(got.LastUsedAt, want.LastUsedAt), got.LastUsedAt, want.LastUsedAt)
	check("ExpiresAt", sameTime(got.ExpiresAt, want.ExpiresAt), got.ExpiresAt, want.ExpiresAt)
	check("RotatedAt", got.RotatedAt.IsZero() == want.RotatedAt.IsZero() && sameTime(got.RotatedAt, want.RotatedAt),
		got.RotatedAt, want.RotatedAt)
	check("IP", got.IP == want.IP, got.IP, want.IP)
	check("UserAgent", got.UserAgent == want.UserAgent, got.UserAgent, want.UserAgent)
	return strings.Join(d, "; ")
}

func diffUser(got, want account.User) string {
	var d []string
	check := func(field string, ok bool, g, w any) {
		if !ok {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", field, g, w))
		}
	}
	check("ID", got.ID == want.ID, got.ID, want.ID)
	check("Username", got.Username == want.Username, got.Username, want.Username)
	check("Email", got.Email == want.Email, got.Email, want.Email)
	check("PasswordHash", got.PasswordHash == want.PasswordHash, got.PasswordHash, want.PasswordHash)
	check("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), got.CreatedAt, want.CreatedAt)
	check("Disabled", got.Disabled == want.Disabled, got.Disabled, want.Disabled)
	return strings.Join(d, "; ")
}

func mustSaveSession(t *testing.T, s latch.SessionStore, sess latch.Session) {
	t.Helper()
	if err := s.SaveSession(t.Context(), sess); err != nil {
		t.Fatalf("SaveSession(%q): %v", sess.Hash, err)
	}
}

// wantSession checks whether the session hash is found at now, and
// returns it.
func wantSession(t *testing.T, s latch.SessionStore, hash string, now time.Time, found bool) latch.Session {
	t.Helper()
	got, ok, err := s.FindSession(t.Context(), hash, now)
	if err != nil {
		t.Fatalf("FindSession(%q): %v", hash, err)
	}
	if ok != found {
		t.Fatalf("FindSession(%q) found = %v, want %v", hash, ok, found)
	}
	return got
}

func mustCreateRemember(t *testing.T, s latch.RememberStore, tok latch.RememberToken) {
	t.Helper()
	if err := s.CreateRemember(t.Context(), tok); err != nil {
		t.Fatalf("CreateRemember(%q): %v", tok.Selector, err)
	}
}

// wantRemember checks whether the token selector is found at now, and
// returns it.
func wantRemember(t *testing.T, s latch.RememberStore, selector string, now time.Time, found bool) latch.RememberToken {
	t.Helper()
	got, ok, err := s.FindRemember(t.Context(), selector, now)
	if err != nil {
		t.Fatalf("FindRemember(%q): %v", selector, err)
	}
	if ok != found {
		t.Fatalf("FindRemember(%q) found = %v, want %v", selector, ok, found)
	}
	return got
}

func mustCreateUser(t *testing.T, s account.Store, u *account.User) {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%q, %q): %v", u.Username, u.Email, err)
	}
	if u.ID == "" {
		t.Fatalf("CreateUser(%q) left ID empty", u.Username)
	}
}

// wantNotFound checks that err wraps account.ErrNotFound.
func wantNotFound(t *testing.T, call string, err error) {
	t.Helper()
	if !errors.Is(err, account.ErrNotFound) {
		t.Errorf("%s: error = %v, want one wrapping account.ErrNotFound", call, err)
	}
}

func sessionHashes(list []latch.Session) []string {
	var h []string
	for _, s := range list {
		h = append(h, s.Hash)
	}
	return h
}

func tokenSelectors(list []latch.RememberToken) []string {
	var h []string
	for _, t := range list {
		h = append(h, t.Selector)
	}
	return h
}

func userNames(list []account.User) []string {
	var h []string
	for _, u := range list {
		h = append(h, u.Username)
	}
	return h
}
