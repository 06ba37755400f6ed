package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/latchgo/latch/account"
)

// APITokens checks an [account.APITokenStore], on a store that also keeps
// the users the tokens belong to. newStore must return a fresh, empty
// store on each call.
//
// Beyond the interface's doc comments, the suite holds stores to these
// readings of them. A token belongs to an existing user: creating one for
// a user id that names nobody is ErrNotFound. ExpiresAt equal to now is
// expired; a zero ExpiresAt never expires. Token ids are opaque strings
// that only match exactly, and an id that names no token of the user
// (another user's, a deleted one, "abc") is ErrNotFound for
// DeleteAPIToken. TouchAPIToken of a token that is gone is not an error,
// as for TouchSession: a request authenticated a moment before its token
// was deleted should not fail. UserAPITokens lists expired tokens too (the
// contract says "a user's tokens"), so that their owner can see and delete
// them; listing the tokens of a user who has none, or of an id that names
// nobody, gives none.
func APITokens(t *testing.T, newStore func(t *testing.T) account.Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, account.Backend)
	}{
		{"CreateAndLookup", testAPITokenCreateAndLookup},
		{"Missing", testAPITokenMissing},
		{"Expiry", testAPITokenExpiry},
		{"UnknownUser", testAPITokenUnknownUser},
		{"UserAPITokens", testUserAPITokens},
		{"DeleteAPIToken", testDeleteAPIToken},
		{"DeleteUserAPITokens", testDeleteUserAPITokens},
		{"Touch", testTouchAPIToken},
		{"DeleteUser", testAPITokensDeleteUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func testAPITokenCreateAndLookup(t *testing.T, s account.Backend) {
	now := timeNow()
	u := newUser("programmer")
	mustCreateUser(t, s, u)
	first := &account.APIToken{
		UserID:    u.ID,
		Name:      `CI "deploy" token – ünïcödé`,
		Hash:      "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		CreatedAt: now.Add(-time.Hour),
	}
	mustCreateAPIToken(t, s, first)
	second := liveAPIToken("hash-second", u.ID, now)
	mustCreateAPIToken(t, s, second)
	if first.ID == second.ID {
		t.Errorf("two tokens got the same ID %q", first.ID)
	}
	for _, want := range []*account.APIToken{first, second} {
		got := wantAPITokenFound(t, s, want.Hash, now)
		if d := diffAPIToken(*got, *want); d != "" {
			t.Errorf("APITokenByHash(%q): %s", want.Hash, d)
		}
	}
}

func testAPITokenMissing(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u := newUser("holder")
	mustCreateUser(t, s, u)
	mustCreateAPIToken(t, s, liveAPIToken("hash-present", u.ID, now))
	for _, hash := range []string{"", "hash-presen", "hash-present ", "HASH-PRESENT", "%", "hash-%", "\x00", "\xff"} {
		tok, err := s.APITokenByHash(ctx, hash, now)
		wantNotFound(t, fmt.Sprintf("APITokenByHash(%q)", hash), err)
		if tok != nil {
			t.Errorf("APITokenByHash(%q) = %+v, want nil", hash, tok)
		}
	}
}

func testAPITokenExpiry(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u := newUser("expiring")
	mustCreateUser(t, s, u)
	tok := liveAPIToken("hash-expiring", u.ID, now)
	mustCreateAPIToken(t, s, tok)
	wantAPITokenFound(t, s, tok.Hash, tok.ExpiresAt.Add(-time.Millisecond))
	for _, at := range []time.Time{tok.ExpiresAt, tok.ExpiresAt.Add(time.Millisecond), tok.ExpiresAt.Add(1000 * time.Hour)} {
		_, err := s.APITokenByHash(ctx, tok.Hash, at)
		wantNotFound(t, fmt.Sprintf("APITokenByHash at %v, ExpiresAt %v", at, tok.ExpiresAt), err)
	}

	forever := liveAPIToken("hash-forever", u.ID, now)
	forever.ExpiresAt = time.Time{}
	mustCreateAPIToken(t, s, forever)
	got := wantAPITokenFound(t, s, forever.Hash, now.AddDate(100, 0, 0))
	if d := diffAPIToken(*got, *forever); d != "" {
		t.Errorf("APITokenByHash of a token that never expires: %s", d)
	}

	past := liveAPIToken("hash-expired-when-created", u.ID, now)
	past.ExpiresAt = now.Add(-time.Second)
	mustCreateAPIToken(t, s, past)
	_, err := s.APITokenByHash(ctx, past.Hash, now)
	wantNotFound(t, "APITokenByHash of a token created expired", err)
}

func testAPITokenUnknownUser(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	gone := newUser("gone")
	mustCreateUser(t, s, gone)
	if err := s.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	for _, id := range []string{gone.ID, "999999999", "abc", "0" + gone.ID, ""} {
		tok := liveAPIToken("hash-of-"+id, id, now)
		err := s.CreateAPIToken(ctx, tok)
		wantNotFound(t, fmt.Sprintf("CreateAPIToken for user %q", id), err)
		if _, err := s.APITokenByHash(ctx, tok.Hash, now); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("APITokenByHash of the refused token: error = %v, want ErrNotFound", err)
		}
	}
}

func testUserAPITokens(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u, other, none := newUser("lister"), newUser("other"), newUser("tokenless")
	for _, x := range []*account.User{u, other, none} {
		mustCreateUser(t, s, x)
	}
	mk := func(name string, age time.Duration) *account.APIToken {
		tok := liveAPIToken("hash-"+name, u.ID, now)
		tok.Name, tok.CreatedAt = name, now.Add(-age)
		return tok
	}
	old, mid, newest := mk("old", 3*time.Hour), mk("mid", 2*time.Hour), mk("new", time.Hour)
	expired := mk("expired", 30*time.Minute)
	expired.ExpiresAt = now.Add(-time.Minute)
	// Created out of order: the list follows CreatedAt.
	for _, tok := range []*account.APIToken{mid, newest, old, expired} {
		mustCreateAPIToken(t, s, tok)
	}
	mustCreateAPIToken(t, s, liveAPIToken("hash-other", other.ID, now))

	list, err := s.UserAPITokens(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserAPITokens: %v", err)
	}
	// Expired tokens are listed too, so that their owner sees and deletes
	// them.
	want := []*account.APIToken{expired, newest, mid, old}
	var wantNames []string
	for _, w := range want {
		wantNames = append(wantNames, w.Name)
	}
	if !slices.Equal(apiTokenNames(list), wantNames) {
		t.Fatalf("UserAPITokens = %q, want %q (newest first)", apiTokenNames(list), wantNames)
	}
	for i := range want {
		if d := diffAPIToken(list[i], *want[i]); d != "" {
			t.Errorf("UserAPITokens[%d]: %s", i, d)
		}
	}
	for _, id := range []string{none.ID, "999999999", "abc", "", " " + u.ID} {
		list, err := s.UserAPITokens(ctx, id)
		if err != nil {
			t.Errorf("UserAPITokens(%q): %v", id, err)
		} else if len(list) != 0 {
			t.Errorf("UserAPITokens(%q) = %q, want none", id, apiTokenNames(list))
		}
	}
}

func testDeleteAPIToken(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u, other := newUser("owner"), newUser("intruder")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	doomed, kept := liveAPIToken("hash-doomed", u.ID, now), liveAPIToken("hash-kept", u.ID, now)
	mustCreateAPIToken(t, s, doomed)
	mustCreateAPIToken(t, s, kept)
	theirs := liveAPIToken("hash-theirs", other.ID, now)
	mustCreateAPIToken(t, s, theirs)

	// Nobody deletes a token that is not theirs, whatever the id.
	for _, c := range []struct{ user, id string }{
		{other.ID, doomed.ID},
		{u.ID, theirs.ID},
		{"", doomed.ID},
		{"999999999", doomed.ID},
		{u.ID, ""},
		{u.ID, "abc"},
		{u.ID, "0" + doomed.ID},
		{u.ID, doomed.ID + " "},
		{u.ID, "999999999"},
	} {
		wantNotFound(t, fmt.Sprintf("DeleteAPIToken(%q, %q)", c.user, c.id), s.DeleteAPIToken(ctx, c.user, c.id))
	}
	for _, tok := range []*account.APIToken{doomed, kept, theirs} {
		wantAPITokenFound(t, s, tok.Hash, now)
	}

	if err := s.DeleteAPIToken(ctx, u.ID, doomed.ID); err != nil {
		t.Fatalf("DeleteAPIToken by its owner: %v", err)
	}
	_, err := s.APITokenByHash(ctx, doomed.Hash, now)
	wantNotFound(t, "APITokenByHash of a deleted token", err)
	wantNotFound(t, "DeleteAPIToken of a deleted token", s.DeleteAPIToken(ctx, u.ID, doomed.ID))
	wantAPITokenFound(t, s, kept.Hash, now)
	wantAPITokenFound(t, s, theirs.Hash, now)
}

func testDeleteUserAPITokens(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u, other := newUser("revoker"), newUser("bystander")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	for i := range 3 {
		tok := liveAPIToken(fmt.Sprintf("hash-%d", i), u.ID, now)
		if i == 2 {
			tok.ExpiresAt = now.Add(-time.Minute) // expired tokens count too
		}
		mustCreateAPIToken(t, s, tok)
	}
	mustCreateAPIToken(t, s, liveAPIToken("hash-other", other.ID, now))

	for _, c := range []struct {
		user string
		want int
	}{
		{u.ID, 3},
		{u.ID, 0},
		{"", 0},
		{"abc", 0},
		{"999999999", 0},
	} {
		n, err := s.DeleteUserAPITokens(ctx, c.user)
		if err != nil {
			t.Fatalf("DeleteUserAPITokens(%q): %v", c.user, err)
		}
		if n != c.want {
			t.Errorf("DeleteUserAPITokens(%q) = %d, want %d", c.user, n, c.want)
		}
	}
	if list, err := s.UserAPITokens(ctx, u.ID); err != nil || len(list) != 0 {
		t.Errorf("UserAPITokens after DeleteUserAPITokens = %q, %v; want none", apiTokenNames(list), err)
	}
	wantAPITokenFound(t, s, "hash-other", now)
}

func testTouchAPIToken(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u := newUser("toucher")
	mustCreateUser(t, s, u)
	tok, other := liveAPIToken("hash-touched", u.ID, now), liveAPIToken("hash-untouched", u.ID, now)
	mustCreateAPIToken(t, s, tok)
	mustCreateAPIToken(t, s, other)
	if got := wantAPITokenFound(t, s, tok.Hash, now); !got.LastUsedAt.IsZero() {
		t.Errorf("LastUsedAt of an unused token = %v, want zero", got.LastUsedAt)
	}
	want := *tok
	for _, at := range []time.Time{now, now.Add(time.Minute)} {
		if err := s.TouchAPIToken(ctx, tok.ID, at); err != nil {
			t.Fatalf("TouchAPIToken: %v", err)
		}
		want.LastUsedAt = at
		if d := diffAPIToken(*wantAPITokenFound(t, s, tok.Hash, now), want); d != "" {
			t.Errorf("APITokenByHash after TouchAPIToken: %s", d)
		}
	}
	if d := diffAPIToken(*wantAPITokenFound(t, s, other.Hash, now), *other); d != "" {
		t.Errorf("the other token after TouchAPIToken: %s", d)
	}

	if err := s.DeleteAPIToken(ctx, u.ID, tok.ID); err != nil {
		t.Fatalf("DeleteAPIToken: %v", err)
	}
	for _, id := range []string{tok.ID, "999999999", "abc", ""} {
		if err := s.TouchAPIToken(ctx, id, now); err != nil {
			t.Errorf("TouchAPIToken(%q) of a token that does not exist: %v, want nil", id, err)
		}
	}
	_, err := s.APITokenByHash(ctx, tok.Hash, now)
	wantNotFound(t, "APITokenByHash of a deleted token after TouchAPIToken", err)
}

func testAPITokensDeleteUser(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u, other := newUser("leaver"), newUser("stayer")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	mustCreateAPIToken(t, s, liveAPIToken("hash-leaver", u.ID, now))
	mustCreateAPIToken(t, s, liveAPIToken("hash-stayer", other.ID, now))
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.APITokenByHash(ctx, "hash-leaver", now)
	wantNotFound(t, "APITokenByHash of a deleted user's token", err)
	if list, err := s.UserAPITokens(ctx, u.ID); err != nil || len(list) != 0 {
		t.Errorf("UserAPITokens of a deleted user = %q, %v; want none", apiTokenNames(list), err)
	}
	wantAPITokenFound(t, s, "hash-stayer", now)
}
