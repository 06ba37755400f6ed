package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch"
)

// Remember checks a [latch.RememberStore]. newStore must return a fresh,
// empty store on each call.
//
// Beyond the interface's doc comments, the suite holds stores to these
// readings of them: ExpiresAt equal to now is expired; RotateRemember
// keeps every field of the old token but RotatedAt; DeleteUserRemember
// counts each series once however many tokens it had. IP and UserAgent
// are treated as for sessions (see [Sessions]).
func Remember(t *testing.T, newStore func(t *testing.T) latch.RememberStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, latch.RememberStore)
	}{
		{"RoundTrip", testRememberRoundTrip},
		{"ClientText", testRememberClientText},
		{"Missing", testRememberMissing},
		{"Expiry", testRememberExpiry},
		{"Rotate", testRotateRemember},
		{"RotateUnknown", testRotateUnknown},
		{"RotateDeleted", testRotateDeleted},
		{"RotateConcurrent", testRotateConcurrent},
		{"RotatePrunes", testRotatePrunes},
		{"DeleteRememberSeries", testDeleteRememberSeries},
		{"DeleteUserRemember", testDeleteUserRemember},
		{"UserRemember", testUserRemember},
		{"DeleteExpiredRemember", testDeleteExpiredRemember},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// rotate rotates old into next at `at` and fails the test unless the
// result is want.
func rotate(t *testing.T, s latch.RememberStore, old string, at time.Time, next latch.RememberToken, want bool) {
	t.Helper()
	ok, err := s.RotateRemember(t.Context(), old, at, next)
	if err != nil {
		t.Fatalf("RotateRemember(%q -> %q): %v", old, next.Selector, err)
	}
	if ok != want {
		t.Fatalf("RotateRemember(%q -> %q) = %v, want %v", old, next.Selector, ok, want)
	}
}

func testRememberRoundTrip(t *testing.T, s latch.RememberStore) {
	now := timeNow()
	want := latch.RememberToken{
		Selector:      "selector-round-trip",
		ValidatorHash: "sha256:3f786850e387550fdab836ed7e6dc881de23001b",
		UserID:        "42",
		Series:        "series-round-trip",
		Epoch:         12,
		CreatedAt:     now.Add(-time.Hour),
		LastUsedAt:    now.Add(-time.Minute),
		ExpiresAt:     now.Add(30 * 24 * time.Hour),
		IP:            "2001:db8::42",
		UserAgent:     `curl/8.0 "quoted" 'single' ünïcödé`,
	}
	mustCreateRemember(t, s, want)
	got := wantRemember(t, s, want.Selector, now, true)
	if d := diffToken(got, want); d != "" {
		t.Errorf("FindRemember after CreateRemember: %s", d)
	}
}

func testRememberClientText(t *testing.T, s latch.RememberStore) {
	now := timeNow()
	want := liveToken("selector-odd-client", "1", "series-odd-client", now)
	want.IP, want.UserAgent = "192.0.2.1\xff", oddUserAgent
	mustCreateRemember(t, s, want)
	got := wantRemember(t, s, want.Selector, now, true)
	if !sameClientText(got.UserAgent, want.UserAgent) || !sameClientText(got.IP, want.IP) {
		t.Errorf("IP, UserAgent = %q, %q; want %q, %q (or with invalid bytes replaced)", got.IP, got.UserAgent, want.IP, want.UserAgent)
	}
	got.IP, got.UserAgent = want.IP, want.UserAgent
	if d := diffToken(got, want); d != "" {
		t.Errorf("FindRemember: %s", d)
	}
}

func testRememberMissing(t *testing.T, s latch.RememberStore) {
	wantRemember(t, s, "no-such-selector", timeNow(), false)
	wantRemember(t, s, "", timeNow(), false)
}

func testRememberExpiry(t *testing.T, s latch.RememberStore) {
	now := timeNow()
	tok := liveToken("selector-expiry", "1", "series-expiry", now)
	mustCreateRemember(t, s, tok)
	wantRemember(t, s, tok.Selector, tok.ExpiresAt.Add(-time.Millisecond), true)
	wantRemember(t, s, tok.Selector, tok.ExpiresAt, false)
	wantRemember(t, s, tok.Selector, tok.ExpiresAt.Add(time.Millisecond), false)

	past := liveToken("selector-expired-when-created", "1", "series-past", now)
	past.ExpiresAt = now.Add(-time.Second)
	mustCreateRemember(t, s, past)
	wantRemember(t, s, past.Selector, now, false)
}

func testRotateRemember(t *testing.T, s latch.RememberStore) {
	now := timeNow()
	first := liveToken("selector-1", "1", "series-rotate", now.Add(-time.Hour))
	mustCreateRemember(t, s, first)

	at := now.Add(-time.Second)
	second := liveToken("selector-2", "1", "series-rotate", now)
	rotate(t, s, first.Selector, at, second, true)

	got := wantRemember(t, s, first.Selector, now, true)
	wantFirst := first
	wantFirst.RotatedAt = at
	if d := diffToken(got, wantFirst); d != "" {
		t.Errorf("FindRemember of the rotated token: %s", d)
	}
	got = wantRemember(t, s, second.Selector, now, true)
	if d := diffToken(got, second); d != "" {
		t.Errorf("FindRemember of the next token: %s", d)
	}

	// The old token is no longer current: rotating it again does nothing.
	third := liveToken("selector-3", "1", "series-rotate", now)
	rotate(t, s, first.Selector, now, third, false)
	wantRemember(t, s, third.Selector, now, false)
	got = wantRemember(t, s, first.Selector, now, true)
	if !sameTime(got.RotatedAt, at) {
		t.Errorf("RotatedAt = %v after a failed second rotation, want %v", got.RotatedAt, at)
	}

	// The current one rotates.
	rotate(t, s, second.Selector, now, third, true)
	wantRemember(t, s, third.Selector, now, true)

	list, err := s.UserRemember(t.Context(), "1", now)
	if err != nil {
		t.Fatalf("UserRemember: %v", err)
	}
	if !slices.Equal(tokenSelectors(list), []string{third.Selector}) {
		t.Errorf("UserRemember = %q, want only the current token [%q]", tokenSelectors(list), third.Selector)
	}
}

// testRotatePrunes rotates one series many times: only the current token
// and the KeptRotated most recently rotated ones remain, and other series
// keep theirs.
func testRotatePrunes(t *testing.T, s latch.RememberStore) {
	now := timeNow()
	other := liveToken("other-0", "1", "series-other", now)
	mustCreateRemember(t, s, other)
	otherNext := liveToken("other-1", "1", "series-other", now)
	rotate(t, s, other.Selector, now.Add(-time.Hour), otherNext, true)

	const uses = 12
	prev := liveToken("prune-0", "1", "series-prune", now)
	mustCreateRemember(t, s, prev)
	for i := 1; i <= uses; i++ {
		next := liveToken(fmt.Sprintf("prune-%d", i), "1", "series-prune", now)
		rotate(t, s, prev.Selector, now.Add(time.Duration(i-uses)*time.Second), next, true)
		prev = next
	}
	for i := 0; i <= uses; i++ {
		kept := i >= uses-latch.KeptRotated
		got := wantRemember(t, s, fmt.Sprintf("prune-%d", i), now, kept)
		if kept && i < uses && got.RotatedAt.IsZero() {
			t.Errorf("prune-%d: kept, but not marked rotated", i)
		}
	}
	wantRemember(t, s, other.Selector, now, true)
	wantRemember(t, s, otherNext.Selector, now, true)
}

func testRotateUnknown(t *testing.T, s latch.RememberStore) {
	now := timeNow()
	next := liveToken("selector-next", "1", "series-unknown", now)
	rotate(t, s, "no-such-selector", now, next, false)
	wantRemember(t, s, next.Selector, now, false)
}

func testRotateDeleted(t *testing.T, s latch.RememberStore) {
	ctx := t.Context()
	now := timeNow()
	tok := liveToken("selector-deleted", "1", "series-deleted", now)
	mustCreateRemember(t, s, tok)
	if err := s.DeleteRememberSeries(ctx, tok.Series); err != nil {
		t.Fatalf("DeleteRememberSeries: %v", err)
	}
	next := liveToken("selector-after-delete", "1", tok.Series, now)
	rotate(t, s, tok.Selector, now, next, false)
	wantRemember(t, s, next.Selector, now, false)

	// Likewise after DeleteUserRemember.
	tok = liveToken("selector-user-deleted", "2", "series-user-deleted", now)
	mustCreateRemember(t, s, tok)
	if _, err := s.DeleteUserRemember(ctx, "2"); err != nil {
		t.Fatalf("DeleteUserRemember: %v", err)
	}
	next = liveToken("selector-after-user-delete", "2", tok.Series, now)
	rotate(t, s, tok.Selector, now, next, false)
	wantRemember(t, s, next.Selector, now, false)
}

func testRotateConcurrent(t *testing.T, s latch.RememberStore) {
	ctx := t.Context()
	now := timeNow()
	old := liveToken("selector-contested", "1", "series-contested", now)
	mustCreateRemember(t, s, old)

	const workers = 10
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won []string
	)
	for i := range workers {
		wg.Go(func() {
			next := liveToken(fmt.Sprintf("selector-next-%d", i), "1", old.Series, now)
			ok, err := s.RotateRemember(ctx, old.Selector, now, next)
			if err != nil {
				t.Errorf("RotateRemember #%d: %v", i, err)
				return
			}
			if ok {
				mu.Lock()
				won = append(won, next.Selector)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(won) != 1 {
		t.Fatalf("%d of %d concurrent rotations of one token succeeded (%q), want exactly 1", len(won), workers, won)
	}
	var exist []string
	for i := range workers {
		sel := fmt.Sprintf("selector-next-%d", i)
		if _, ok, err := s.FindRemember(ctx, sel, now); err != nil {
			t.Fatalf("FindRemember(%q): %v", sel, err)
		} else if ok {
			exist = append(exist, sel)
		}
	}
	if !slices.Equal(exist, won) {
		t.Errorf("next tokens stored = %q, want only the winner's %q", exist, won)
	}
	list, err := s.UserRemember(ctx, "1", now)
	if err != nil {
		t.Fatalf("UserRemember: %v", err)
	}
	if !slices.Equal(tokenSelectors(list), won) {
		t.Errorf("UserRemember = %q, want only the winner's %q", tokenSelectors(list), won)
	}
}

func testDeleteRememberSeries(t *testing.T, s latch.RememberStore) {
	ctx := t.Context()
	now := timeNow()
	s1a := liveToken("s1-a", "1", "S1", now)
	s1b := liveToken("s1-b", "1", "S1", now)
	mustCreateRemember(t, s, s1a)
	rotate(t, s, s1a.Selector, now, s1b, true)
	mustCreateRemember(t, s, liveToken("s11", "1", "S11", now))
	mustCreateRemember(t, s, liveToken("s2", "2", "S2", now))

	if err := s.DeleteRememberSeries(ctx, "S1"); err != nil {
		t.Fatalf("DeleteRememberSeries: %v", err)
	}
	wantRemember(t, s, "s1-a", now, false)
	wantRemember(t, s, "s1-b", now, false)
	wantRemember(t, s, "s11", now, true)
	wantRemember(t, s, "s2", now, true)
	if err := s.DeleteRememberSeries(ctx, "S1"); err != nil {
		t.Errorf("DeleteRememberSeries of a deleted series: %v, want nil", err)
	}
	if err := s.DeleteRememberSeries(ctx, "no-such-series"); err != nil {
		t.Errorf("DeleteRememberSeries of a missing series: %v, want nil", err)
	}
}

func testDeleteUserRemember(t *testing.T, s latch.RememberStore) {
	ctx := t.Context()
	now := timeNow()
	// User 7: series A rotated twice (three tokens), series B one token.
	a1, a2, a3 := liveToken("a1", "7", "A", now), liveToken("a2", "7", "A", now), liveToken("a3", "7", "A", now)
	mustCreateRemember(t, s, a1)
	rotate(t, s, a1.Selector, now, a2, true)
	rotate(t, s, a2.Selector, now, a3, true)
	mustCreateRemember(t, s, liveToken("b1", "7", "B", now))
	mustCreateRemember(t, s, liveToken("c1", "77", "C", now))

	n, err := s.DeleteUserRemember(ctx, "7")
	if err != nil {
		t.Fatalf("DeleteUserRemember: %v", err)
	}
	if n != 2 {
		t.Errorf("DeleteUserRemember = %d, want 2 (series A and B)", n)
	}
	for _, sel := range []string{"a1", "a2", "a3", "b1"} {
		wantRemember(t, s, sel, now, false)
	}
	wantRemember(t, s, "c1", now, true)

	for _, user := range []string{"7", "nobody", ""} {
		if n, err := s.DeleteUserRemember(ctx, user); err != nil || n != 0 {
			t.Errorf("DeleteUserRemember(%q) = %d, %v; want 0, nil", user, n, err)
		}
	}
	wantRemember(t, s, "c1", now, true)
}

func testUserRemember(t *testing.T, s latch.RememberStore) {
	ctx := t.Context()
	now := timeNow()
	mk := func(sel, user, series string, age time.Duration) latch.RememberToken {
		tok := liveToken(sel, user, series, now)
		tok.CreatedAt = now.Add(-age)
		tok.LastUsedAt = now.Add(-age / 2)
		return tok
	}
	// Series A started 3h ago and was rotated a minute ago: its current
	// token is the newest.
	aOld, aCur := mk("a-old", "7", "A", 3*time.Hour), mk("a-cur", "7", "A", time.Minute)
	b := mk("b", "7", "B", 2*time.Hour)
	c := mk("c", "7", "C", 4*time.Hour)
	expired := mk("expired", "7", "D", 30*time.Minute)
	expired.ExpiresAt = now
	for _, tok := range []latch.RememberToken{aOld, c, b, expired, mk("other", "77", "E", time.Minute)} {
		mustCreateRemember(t, s, tok)
	}
	rotate(t, s, aOld.Selector, now.Add(-time.Minute), aCur, true)

	list, err := s.UserRemember(ctx, "7", now)
	if err != nil {
		t.Fatalf("UserRemember: %v", err)
	}
	want := []latch.RememberToken{aCur, b, c}
	if !slices.Equal(tokenSelectors(list), tokenSelectors(want)) {
		t.Fatalf("UserRemember = %q, want %q (current, unexpired, newest first)", tokenSelectors(list), tokenSelectors(want))
	}
	for i := range want {
		if d := diffToken(list[i], want[i]); d != "" {
			t.Errorf("UserRemember[%d]: %s", i, d)
		}
	}

	for _, c := range []struct {
		user string
		at   time.Time
	}{
		{"nobody", now},
		{"7", now.Add(25 * time.Hour)}, // all expired by then
	} {
		list, err := s.UserRemember(ctx, c.user, c.at)
		if err != nil {
			t.Fatalf("UserRemember(%q): %v", c.user, err)
		}
		if len(list) != 0 {
			t.Errorf("UserRemember(%q, %v) = %q, want none", c.user, c.at, tokenSelectors(list))
		}
	}
}

func testDeleteExpiredRemember(t *testing.T, s latch.RememberStore) {
	ctx := t.Context()
	now := timeNow()
	// Series X: created two days ago, rotated, and both tokens expired.
	x1 := liveToken("x1", "1", "X", now.Add(-48*time.Hour))
	x1.ExpiresAt = now.Add(-time.Hour)
	x2 := liveToken("x2", "1", "X", now.Add(-47*time.Hour))
	x2.ExpiresAt = now
	mustCreateRemember(t, s, x1)
	rotate(t, s, x1.Selector, now.Add(-47*time.Hour), x2, true)
	live := liveToken("live", "1", "L", now)
	mustCreateRemember(t, s, live)

	n, err := s.DeleteExpiredRemember(ctx, now)
	if err != nil {
		t.Fatalf("DeleteExpiredRemember: %v", err)
	}
	// Asked about a moment when they were still valid, a store that kept
	// the expired tokens would return them.
	for _, tok := range []latch.RememberToken{x1, x2} {
		wantRemember(t, s, tok.Selector, tok.ExpiresAt.Add(-time.Minute), false)
	}
	switch n {
	case 2:
	case 0:
		t.Logf("DeleteExpiredRemember = 0: the store expires tokens by itself")
	default:
		t.Errorf("DeleteExpiredRemember = %d, want 2 (or 0 from a store that expires tokens by itself)", n)
	}
	wantRemember(t, s, live.Selector, now, true)
	if n, err := s.DeleteExpiredRemember(ctx, now); err != nil || n != 0 {
		t.Errorf("DeleteExpiredRemember again = %d, %v; want 0, nil", n, err)
	}
}
