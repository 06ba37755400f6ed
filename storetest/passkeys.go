package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch/account"
)

// Passkeys checks an account.PasskeyStore: passkeys are kept byte for
// byte, found by credential id, unique across users, renamed, used and
// deleted only by their owner, and gone with RevokeCredentials and
// DeleteUser.
func Passkeys(t *testing.T, newStore func(t *testing.T) account.Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, account.Backend)
	}{
		{"AddAndFind", testPasskeyAddAndFind},
		{"UniqueCredentialID", testPasskeyUnique},
		{"UnknownUser", testPasskeyUnknownUser},
		{"Use", testPasskeyUse},
		{"OwnerOnly", testPasskeyOwnerOnly},
		{"GoneWithRevocation", testPasskeyRevoked},
		{"ConcurrentRegistration", testPasskeyConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func newPasskey(userID, name string, credID []byte, now time.Time) *account.Passkey {
	return &account.Passkey{
		UserID: userID, Name: name, CredentialID: credID,
		// Any bytes: the store must not interpret them.
		Credential: append([]byte{0, 0xff, '\'', '"', 0}, credID...),
		CreatedAt:  now,
	}
}

func mustAddPasskey(t *testing.T, s account.Backend, p *account.Passkey) {
	t.Helper()
	if err := s.AddPasskey(t.Context(), p); err != nil {
		t.Fatalf("AddPasskey(%q): %v", p.Name, err)
	}
	if p.ID == "" {
		t.Fatal("AddPasskey left ID empty")
	}
}

func samePasskey(got, want account.Passkey) string {
	switch {
	case got.ID != want.ID, got.UserID != want.UserID, got.Name != want.Name:
		return fmt.Sprintf("got %s/%s %q, want %s/%s %q", got.UserID, got.ID, got.Name, want.UserID, want.ID, want.Name)
	case got.Epoch != want.Epoch:
		return fmt.Sprintf("epoch %d, want %d", got.Epoch, want.Epoch)
	case !bytes.Equal(got.CredentialID, want.CredentialID), !bytes.Equal(got.Credential, want.Credential):
		return fmt.Sprintf("bytes differ: %x %x, want %x %x", got.CredentialID, got.Credential, want.CredentialID, want.Credential)
	case !sameTime(got.CreatedAt, want.CreatedAt), !sameTime(got.LastUsedAt, want.LastUsedAt):
		return fmt.Sprintf("times %v %v, want %v %v", got.CreatedAt, got.LastUsedAt, want.CreatedAt, want.LastUsedAt)
	}
	return ""
}

func testPasskeyAddAndFind(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u := newUser("keyholder")
	mustCreateUser(t, s, u)
	first := newPasskey(u.ID, `Pixel "8" – ünïcödé`, []byte{0, 1, 2, 0xfe, 0xff}, now.Add(-time.Hour))
	second := newPasskey(u.ID, "YubiKey", bytes.Repeat([]byte{7}, 64), now)
	second.Epoch = 3
	mustAddPasskey(t, s, first)
	mustAddPasskey(t, s, second)
	list, err := s.UserPasskeys(ctx, u.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("UserPasskeys = %d, %v; want 2", len(list), err)
	}
	for i, want := range []*account.Passkey{first, second} {
		if d := samePasskey(list[i], *want); d != "" {
			t.Errorf("UserPasskeys[%d]: %s", i, d)
		}
		got, err := s.PasskeyByCredentialID(ctx, want.CredentialID)
		if err != nil {
			t.Fatalf("PasskeyByCredentialID(%x): %v", want.CredentialID, err)
		}
		if d := samePasskey(*got, *want); d != "" {
			t.Errorf("PasskeyByCredentialID(%x): %s", want.CredentialID, d)
		}
	}
	for _, id := range [][]byte{nil, {}, {0, 1, 2}, {0, 1, 2, 0xfe, 0xff, 0}} {
		_, err := s.PasskeyByCredentialID(ctx, id)
		wantNotFound(t, fmt.Sprintf("PasskeyByCredentialID(%x)", id), err)
	}
	if list, err := s.UserPasskeys(ctx, "abc"); err != nil || len(list) != 0 {
		t.Errorf("UserPasskeys of a malformed id = %v, %v", list, err)
	}
}

func testPasskeyUnique(t *testing.T, s account.Backend) {
	now := timeNow()
	a, b := newUser("alpha"), newUser("bravo")
	mustCreateUser(t, s, a)
	mustCreateUser(t, s, b)
	mustAddPasskey(t, s, newPasskey(a.ID, "one", []byte("cred"), now))
	for _, owner := range []*account.User{a, b} {
		err := s.AddPasskey(t.Context(), newPasskey(owner.ID, "again", []byte("cred"), now))
		if !errors.Is(err, account.ErrPasskeyExists) {
			t.Errorf("a credential id registered again (by %s): %v, want ErrPasskeyExists", owner.Username, err)
		}
	}
}

func testPasskeyUnknownUser(t *testing.T, s account.Backend) {
	for _, id := range []string{"999999", "abc", ""} {
		err := s.AddPasskey(t.Context(), newPasskey(id, "orphan", []byte("orphan-"+id), timeNow()))
		wantNotFound(t, fmt.Sprintf("AddPasskey for user %q", id), err)
	}
}

func testPasskeyUse(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u := newUser("user")
	mustCreateUser(t, s, u)
	p := newPasskey(u.ID, "phone", []byte("cred-use"), now)
	mustAddPasskey(t, s, p)
	p.Credential, p.LastUsedAt = []byte("counter 2"), now.Add(time.Minute)
	if err := s.UsePasskey(ctx, p.ID, p.Credential, p.LastUsedAt); err != nil {
		t.Fatal(err)
	}
	got, err := s.PasskeyByCredentialID(ctx, p.CredentialID)
	if err != nil {
		t.Fatal(err)
	}
	if d := samePasskey(*got, *p); d != "" {
		t.Errorf("after UsePasskey: %s", d)
	}
	if err := s.DeletePasskey(ctx, u.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, "UsePasskey of a deleted passkey", s.UsePasskey(ctx, p.ID, []byte("x"), now))
	wantNotFound(t, "UsePasskey of a malformed id", s.UsePasskey(ctx, "x", []byte("x"), now))
}

func testPasskeyOwnerOnly(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	owner, other := newUser("owner"), newUser("other")
	mustCreateUser(t, s, owner)
	mustCreateUser(t, s, other)
	p := newPasskey(owner.ID, "laptop", []byte("cred-owner"), now)
	mustAddPasskey(t, s, p)
	wantNotFound(t, "RenamePasskey by another user", s.RenamePasskey(ctx, other.ID, p.ID, "mine now"))
	wantNotFound(t, "DeletePasskey by another user", s.DeletePasskey(ctx, other.ID, p.ID))
	wantNotFound(t, "RenamePasskey of a missing passkey", s.RenamePasskey(ctx, owner.ID, "999999", "x"))
	if err := s.RenamePasskey(ctx, owner.ID, p.ID, "work laptop"); err != nil {
		t.Fatal(err)
	}
	got, err := s.PasskeyByCredentialID(ctx, p.CredentialID)
	if err != nil || got.Name != "work laptop" {
		t.Fatalf("after RenamePasskey: %+v, %v", got, err)
	}
	if err := s.DeletePasskey(ctx, owner.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.PasskeyByCredentialID(ctx, p.CredentialID)
	wantNotFound(t, "a deleted passkey", err)
	wantNotFound(t, "DeletePasskey twice", s.DeletePasskey(ctx, owner.ID, p.ID))
}

func testPasskeyRevoked(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	revoked, deleted, kept := newUser("revoked"), newUser("deleted"), newUser("kept")
	for _, u := range []*account.User{revoked, deleted, kept} {
		mustCreateUser(t, s, u)
		mustAddPasskey(t, s, newPasskey(u.ID, "key", []byte("cred-"+u.Username), now))
	}
	if _, err := s.RevokeCredentials(ctx, revoked.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*account.User{revoked, deleted} {
		_, err := s.PasskeyByCredentialID(ctx, []byte("cred-"+u.Username))
		wantNotFound(t, "the passkey of a "+u.Username+" user", err)
		if list, err := s.UserPasskeys(ctx, u.ID); err != nil || len(list) != 0 {
			t.Errorf("UserPasskeys of a %s user = %d, %v", u.Username, len(list), err)
		}
	}
	if _, err := s.PasskeyByCredentialID(ctx, []byte("cred-kept")); err != nil {
		t.Errorf("another user's passkey: %v", err)
	}
}

// testPasskeyConcurrent: the same credential registered by two requests
// at once is stored once.
func testPasskeyConcurrent(t *testing.T, s account.Backend) {
	u := newUser("racer")
	mustCreateUser(t, s, u)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = s.AddPasskey(t.Context(), newPasskey(u.ID, "same", []byte("raced"), timeNow())) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, account.ErrPasskeyExists):
			t.Errorf("AddPasskey: %v", err)
		}
	}
	if list, _ := s.UserPasskeys(t.Context(), u.ID); ok != 1 || len(list) != 1 {
		t.Errorf("%d registrations succeeded, %d stored; want 1", ok, len(list))
	}
}
