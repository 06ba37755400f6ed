package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/latchgo/latch/account"
)

// OneTimeTokens checks an [account.OneTimeTokenStore], on a store that
// also keeps the users the tokens belong to. newStore must return a fresh,
// empty store on each call.
//
// Beyond the interface's doc comments, the suite holds stores to these
// readings of them. A token belongs to an existing user: creating one for
// a user id that names nobody is ErrNotFound. ExpiresAt equal to now is
// expired. Presenting a token with the wrong purpose consumes nothing: the
// token still works for its own purpose. "Only the newest link works"
// holds per user and purpose: a new reset link kills the user's older
// reset links, not their confirm links and not other users' reset links.
// Of 20 concurrent consumptions of one token exactly one succeeds, and
// every other one is ErrNotFound, not another error.
func OneTimeTokens(t *testing.T, newStore func(t *testing.T) account.Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, account.Backend)
	}{
		{"ConsumeOnce", testConsumeOnce},
		{"ConsumeConcurrent", testConsumeConcurrent},
		{"Missing", testOneTimeTokenMissing},
		{"WrongPurpose", testOneTimeTokenWrongPurpose},
		{"Expiry", testOneTimeTokenExpiry},
		{"NewestOnly", testOneTimeTokenNewestOnly},
		{"UnknownUser", testOneTimeTokenUnknownUser},
		{"DeleteUserOneTimeTokens", testDeleteUserOneTimeTokens},
		{"DeleteUser", testOneTimeTokensDeleteUser},
		{"DeleteExpired", testDeleteExpiredOneTimeTokens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// consume consumes the token and fails the test unless it is found
// (wantFound) or reported as ErrNotFound (!wantFound).
func consume(t *testing.T, s account.OneTimeTokenStore, purpose account.Purpose, hash string, now time.Time, wantFound bool) account.OneTimeToken {
	t.Helper()
	tok, err := s.ConsumeOneTimeToken(t.Context(), purpose, hash, now)
	switch {
	case wantFound && err != nil:
		t.Fatalf("ConsumeOneTimeToken(%q, %q): %v", purpose, hash, err)
	case !wantFound && !errors.Is(err, account.ErrNotFound):
		t.Fatalf("ConsumeOneTimeToken(%q, %q) = %+v, %v; want ErrNotFound", purpose, hash, tok, err)
	}
	return tok
}

func testConsumeOnce(t *testing.T, s account.Backend) {
	now := timeNow()
	u := newUser("resetter")
	mustCreateUser(t, s, u)
	want := account.OneTimeToken{
		Hash:      "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		UserID:    u.ID,
		Purpose:   account.PurposeConfirm,
		Email:     "New.Address+tag@Example.org",
		CreatedAt: now.Add(-time.Minute),
		ExpiresAt: now.Add(time.Hour),
	}
	mustCreateOneTimeToken(t, s, want)
	got := consume(t, s, want.Purpose, want.Hash, now, true)
	if d := diffOneTimeToken(got, want); d != "" {
		t.Errorf("ConsumeOneTimeToken: %s", d)
	}
	consume(t, s, want.Purpose, want.Hash, now, false)
	consume(t, s, want.Purpose, want.Hash, now.Add(-time.Second), false)
}

func testConsumeConcurrent(t *testing.T, s account.Backend) {
	now := timeNow()
	u := newUser("clicker")
	mustCreateUser(t, s, u)
	tok := liveOneTimeToken("hash-contested", u.ID, account.PurposeReset, now)
	mustCreateOneTimeToken(t, s, tok)
	const workers = 20
	wins := raceOnce(t, workers, func() (bool, error) {
		_, err := s.ConsumeOneTimeToken(t.Context(), tok.Purpose, tok.Hash, now)
		if errors.Is(err, account.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	if wins != 1 {
		t.Errorf("%d concurrent ConsumeOneTimeToken of one token: %d succeeded, want exactly 1", workers, wins)
	}
}

func testOneTimeTokenMissing(t *testing.T, s account.Backend) {
	now := timeNow()
	u := newUser("holder")
	mustCreateUser(t, s, u)
	mustCreateOneTimeToken(t, s, liveOneTimeToken("hash-present", u.ID, account.PurposeReset, now))
	for _, hash := range []string{"", "hash-presen", "HASH-PRESENT", "hash-present ", "%", "hash_present", "\x00", "\xff"} {
		consume(t, s, account.PurposeReset, hash, now, false)
	}
	consume(t, s, account.PurposeReset, "hash-present", now, true)
}

func testOneTimeTokenWrongPurpose(t *testing.T, s account.Backend) {
	now := timeNow()
	u := newUser("confused")
	mustCreateUser(t, s, u)
	reset := liveOneTimeToken("hash-reset", u.ID, account.PurposeReset, now)
	mustCreateOneTimeToken(t, s, reset)
	for _, p := range []account.Purpose{account.PurposeConfirm, "", "RESET", "reset ", "%"} {
		consume(t, s, p, reset.Hash, now, false)
	}
	// Presenting it for the wrong purpose did not use it up.
	got := consume(t, s, account.PurposeReset, reset.Hash, now, true)
	if d := diffOneTimeToken(got, reset); d != "" {
		t.Errorf("ConsumeOneTimeToken after tries with wrong purposes: %s", d)
	}
}

func testOneTimeTokenExpiry(t *testing.T, s account.Backend) {
	now := timeNow()
	u := newUser("late")
	mustCreateUser(t, s, u)
	for i, at := range []time.Duration{0, time.Millisecond, time.Hour} {
		tok := liveOneTimeToken(fmt.Sprintf("hash-late-%d", i), u.ID, account.PurposeReset, now)
		// Each token is the user's newest reset token in turn, so this
		// one is created after the previous was tried.
		mustCreateOneTimeToken(t, s, tok)
		consume(t, s, tok.Purpose, tok.Hash, tok.ExpiresAt.Add(at), false)
	}
	onTime := liveOneTimeToken("hash-on-time", u.ID, account.PurposeReset, now)
	mustCreateOneTimeToken(t, s, onTime)
	consume(t, s, onTime.Purpose, onTime.Hash, onTime.ExpiresAt.Add(-time.Millisecond), true)

	past := liveOneTimeToken("hash-expired-when-created", u.ID, account.PurposeConfirm, now)
	past.ExpiresAt = now.Add(-time.Second)
	mustCreateOneTimeToken(t, s, past)
	consume(t, s, past.Purpose, past.Hash, now, false)
}

func testOneTimeTokenNewestOnly(t *testing.T, s account.Backend) {
	now := timeNow()
	u, other := newUser("forgetful"), newUser("bystander")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	resetA := liveOneTimeToken("hash-reset-a", u.ID, account.PurposeReset, now)
	confirm := liveOneTimeToken("hash-confirm", u.ID, account.PurposeConfirm, now)
	theirs := liveOneTimeToken("hash-theirs", other.ID, account.PurposeReset, now)
	resetB := liveOneTimeToken("hash-reset-b", u.ID, account.PurposeReset, now)
	for _, tok := range []account.OneTimeToken{resetA, confirm, theirs, resetB} {
		mustCreateOneTimeToken(t, s, tok)
	}
	consume(t, s, account.PurposeReset, resetA.Hash, now, false)
	for _, tok := range []account.OneTimeToken{resetB, confirm, theirs} {
		got := consume(t, s, tok.Purpose, tok.Hash, now, true)
		if d := diffOneTimeToken(got, tok); d != "" {
			t.Errorf("ConsumeOneTimeToken(%q): %s", tok.Hash, d)
		}
	}
}

func testOneTimeTokenUnknownUser(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	gone := newUser("gone")
	mustCreateUser(t, s, gone)
	if err := s.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	for _, id := range []string{gone.ID, "999999999", "abc", "0" + gone.ID, ""} {
		tok := liveOneTimeToken("hash-of-"+id, id, account.PurposeReset, now)
		wantNotFound(t, fmt.Sprintf("CreateOneTimeToken for user %q", id), s.CreateOneTimeToken(ctx, tok))
		consume(t, s, tok.Purpose, tok.Hash, now, false)
	}
}

func testDeleteUserOneTimeTokens(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u, other := newUser("cleaner"), newUser("bystander")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	create := func() {
		for _, owner := range []*account.User{u, other} {
			for _, p := range []account.Purpose{account.PurposeReset, account.PurposeConfirm} {
				mustCreateOneTimeToken(t, s, liveOneTimeToken(string(p)+"-"+owner.Username, owner.ID, p, now))
			}
		}
	}
	// check consumes the tokens that should be left, and checks that the
	// others are gone. Only u's tokens are ever deleted.
	check := func(step string, resetLeft, confirmLeft bool) {
		t.Helper()
		for _, c := range []struct {
			owner   *account.User
			purpose account.Purpose
			left    bool
		}{
			{u, account.PurposeReset, resetLeft},
			{u, account.PurposeConfirm, confirmLeft},
			{other, account.PurposeReset, true},
			{other, account.PurposeConfirm, true},
		} {
			hash := string(c.purpose) + "-" + c.owner.Username
			_, err := s.ConsumeOneTimeToken(ctx, c.purpose, hash, now)
			if c.left && err != nil {
				t.Errorf("%s: ConsumeOneTimeToken(%q): %v, want the token", step, hash, err)
			}
			if !c.left && !errors.Is(err, account.ErrNotFound) {
				t.Errorf("%s: ConsumeOneTimeToken(%q): %v, want ErrNotFound", step, hash, err)
			}
		}
	}

	create()
	if err := s.DeleteUserOneTimeTokens(ctx, u.ID, account.PurposeReset); err != nil {
		t.Fatalf("DeleteUserOneTimeTokens(reset): %v", err)
	}
	check("after deleting the reset tokens", false, true)

	create()
	if err := s.DeleteUserOneTimeTokens(ctx, u.ID, ""); err != nil {
		t.Fatalf(`DeleteUserOneTimeTokens(""): %v`, err)
	}
	check("after deleting every purpose", false, false)

	create()
	for _, c := range []struct {
		user    string
		purpose account.Purpose
	}{
		{"", ""},
		{"abc", ""},
		{"999999999", account.PurposeReset},
		{u.ID, "no-such-purpose"},
		{u.ID, "%"},
	} {
		if err := s.DeleteUserOneTimeTokens(ctx, c.user, c.purpose); err != nil {
			t.Errorf("DeleteUserOneTimeTokens(%q, %q): %v, want nil", c.user, c.purpose, err)
		}
	}
	check("after deleting nothing", true, true)
}

func testOneTimeTokensDeleteUser(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u, other := newUser("leaver"), newUser("stayer")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	mustCreateOneTimeToken(t, s, liveOneTimeToken("hash-leaver", u.ID, account.PurposeReset, now))
	mustCreateOneTimeToken(t, s, liveOneTimeToken("hash-stayer", other.ID, account.PurposeReset, now))
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	consume(t, s, account.PurposeReset, "hash-leaver", now, false)
	consume(t, s, account.PurposeReset, "hash-stayer", now, true)
}

func testDeleteExpiredOneTimeTokens(t *testing.T, s account.Backend) {
	now := timeNow()
	a, b := newUser("sweep-a"), newUser("sweep-b")
	mustCreateUser(t, s, a)
	mustCreateUser(t, s, b)
	old := liveOneTimeToken("hash-sweep-old", a.ID, account.PurposeReset, now)
	old.ExpiresAt = now.Add(-time.Minute)
	edge := liveOneTimeToken("hash-sweep-edge", a.ID, account.PurposeConfirm, now)
	edge.ExpiresAt = now
	live := liveOneTimeToken("hash-sweep-live", b.ID, account.PurposeReset, now)
	for _, tok := range []account.OneTimeToken{old, edge, live} {
		mustCreateOneTimeToken(t, s, tok)
	}
	n, err := s.DeleteExpiredOneTimeTokens(t.Context(), now)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredOneTimeTokens = %d, %v; want 2, nil", n, err)
	}
	consume(t, s, live.Purpose, live.Hash, now.Add(-time.Second), true)
	if n, err := s.DeleteExpiredOneTimeTokens(t.Context(), now); err != nil || n != 0 {
		t.Fatalf("second sweep = %d, %v; want 0, nil", n, err)
	}
}
