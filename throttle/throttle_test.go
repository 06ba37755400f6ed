package throttle_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchgo/latch/sqlite"
	"github.com/latchgo/latch/throttle"
)

func TestLimiterBackOff(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	l := &throttle.Limiter{Store: st, Now: func() time.Time { return now }}
	rule := throttle.Rule{Window: time.Hour, Free: 3, Base: time.Second, Max: 10 * time.Second}
	ctx := context.Background()
	// Attempt n (1-based) may be made without waiting for n ≤ Free; after
	// that each attempt must wait Base·2^(n-Free-1) after the previous one,
	// capped at Max.
	wantWait := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, want := range wantWait {
		got, err := l.Wait(ctx, "k", rule)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("before attempt %d: wait %v, want %v", i+1, got, want)
		}
		now = now.Add(want)
		if _, err := l.Add(ctx, "k", rule); err != nil {
			t.Fatal(err)
		}
	}
	if w, _ := l.Wait(ctx, "other", rule); w != 0 {
		t.Fatalf("keys not independent: %v", w)
	}
	// Attempts leave the sliding window.
	now = now.Add(time.Hour + time.Second)
	if w, _ := l.Wait(ctx, "k", rule); w != 0 {
		t.Fatalf("after the window: %v", w)
	}
	now = now.Add(-time.Hour)
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if w, _ := l.Wait(ctx, "k", rule); w != 0 {
		t.Fatalf("after reset: %v", w)
	}
}

func TestKeyAndRetryAfter(t *testing.T) {
	a, b := throttle.Key("login:acct", "alice@example.com"), throttle.Key("login:acct", "bob@example.com")
	if a == b || len(a) != len(b) || a[:11] != "login:acct:" {
		t.Fatalf("keys %q %q", a, b)
	}
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2}, {time.Minute, 60}} {
		if got := throttle.RetryAfterSeconds(tt.d); got != tt.want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

func TestReserveCountsAttemptsInFlight(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := throttle.New(st)
	rule := throttle.Rule{Window: time.Hour, Free: 3, Base: time.Second, Max: time.Minute}
	ctx := context.Background()
	var releases []func()
	for i := range 3 {
		w, release, err := l.Reserve(ctx, "k", rule)
		if err != nil || w != 0 || release == nil {
			t.Fatalf("reservation %d: %v %v", i+1, w, err)
		}
		releases = append(releases, release)
	}
	// Three attempts are in flight, none recorded yet: the fourth waits.
	if w, release, _ := l.Reserve(ctx, "k", rule); w <= 0 || release != nil {
		t.Fatalf("fourth concurrent attempt passed: %v", w)
	}
	for _, r := range releases {
		r()
		r() // releasing twice is harmless
	}
	if w, release, _ := l.Reserve(ctx, "k", rule); w != 0 || release == nil {
		t.Fatalf("after release: %v", w)
	} else {
		release()
	}
}
