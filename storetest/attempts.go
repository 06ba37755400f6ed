package storetest

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch/throttle"
)

// Attempts checks a [throttle.Store]. newStore must return a fresh, empty
// store on each call.
//
// Beyond the interface's doc comments, the suite holds stores to these
// readings of them. The window of AddAttempt and Attempts is the half-open
// interval (at-window, at]: with a window of 2s, attempts at t, t+1s and
// t+2s count 1, 2 and 2. Keys are compared byte for byte (no case folding,
// no pattern characters). AddAttempt is linearizable: n calls on one key
// at the same moment, from any number of goroutines, return the counts 1
// to n, each once, so a burst cannot slip under a limit. DeleteExpiredAttempts
// keeps an attempt made exactly at `before`.
func Attempts(t *testing.T, newStore func(t *testing.T) throttle.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, throttle.Store)
	}{
		{"SlidingWindow", testSlidingWindow},
		{"Empty", testAttemptsEmpty},
		{"IndependentKeys", testAttemptKeysIndependent},
		{"Reset", testResetAttempts},
		{"DeleteExpiredAttempts", testDeleteExpiredAttempts},
		{"OddKeys", testAttemptOddKeys},
		{"Concurrent", testAttemptsConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func addAttempt(t *testing.T, s throttle.Store, key string, at time.Time, window time.Duration, want int) {
	t.Helper()
	n, err := s.AddAttempt(t.Context(), key, at, window)
	if err != nil {
		t.Fatalf("AddAttempt(%q): %v", key, err)
	}
	if n != want {
		t.Errorf("AddAttempt(%q, %v, %v) = %d, want %d", key, at, window, n, want)
	}
}

func wantAttempts(t *testing.T, s throttle.Store, key string, now time.Time, window time.Duration, want int, wantLast time.Time) {
	t.Helper()
	n, last, err := s.Attempts(t.Context(), key, now, window)
	if err != nil {
		t.Fatalf("Attempts(%q): %v", key, err)
	}
	if n != want {
		t.Errorf("Attempts(%q, %v, %v) count = %d, want %d", key, now, window, n, want)
	}
	if !sameTime(last, wantLast) || last.IsZero() != wantLast.IsZero() {
		t.Errorf("Attempts(%q, %v, %v) last = %v, want %v", key, now, window, last, wantLast)
	}
}

func testSlidingWindow(t *testing.T, s throttle.Store) {
	t0 := timeNow()
	const w = 2 * time.Second
	addAttempt(t, s, "k", t0, w, 1)
	addAttempt(t, s, "k", t0.Add(time.Second), w, 2)
	addAttempt(t, s, "k", t0.Add(2*time.Second), w, 2) // t0 is out of (t0, t0+2s]

	wantAttempts(t, s, "k", t0.Add(2*time.Second), w, 2, t0.Add(2*time.Second))
	wantAttempts(t, s, "k", t0.Add(3*time.Second-time.Millisecond), w, 2, t0.Add(2*time.Second))
	wantAttempts(t, s, "k", t0.Add(3*time.Second), w, 1, t0.Add(2*time.Second))
	wantAttempts(t, s, "k", t0.Add(4*time.Second), w, 0, time.Time{})

	addAttempt(t, s, "k", t0.Add(5*time.Second), w, 1)
	wantAttempts(t, s, "k", t0.Add(5*time.Second), w, 1, t0.Add(5*time.Second))
}

func testAttemptsEmpty(t *testing.T, s throttle.Store) {
	wantAttempts(t, s, "never-tried", timeNow(), time.Hour, 0, time.Time{})
}

func testAttemptKeysIndependent(t *testing.T, s throttle.Store) {
	now := timeNow()
	const w = time.Minute
	addAttempt(t, s, "login:ip:192.0.2.1", now.Add(-2*time.Second), w, 1)
	addAttempt(t, s, "login:ip:192.0.2.1", now.Add(-time.Second), w, 2)
	addAttempt(t, s, "login:ip:192.0.2.10", now, w, 1)
	addAttempt(t, s, "login:acct:x", now, w, 1)
	wantAttempts(t, s, "login:ip:192.0.2.1", now, w, 2, now.Add(-time.Second))
	wantAttempts(t, s, "login:ip:192.0.2.10", now, w, 1, now)
	wantAttempts(t, s, "login:ip:192.0.2", now, w, 0, time.Time{})
	wantAttempts(t, s, "login:acct:x", now, w, 1, now)
}

func testResetAttempts(t *testing.T, s throttle.Store) {
	ctx := t.Context()
	now := timeNow()
	const w = time.Minute
	addAttempt(t, s, "a", now, w, 1)
	addAttempt(t, s, "a", now, w, 2)
	addAttempt(t, s, "b", now, w, 1)
	if err := s.ResetAttempts(ctx, "a"); err != nil {
		t.Fatalf("ResetAttempts: %v", err)
	}
	wantAttempts(t, s, "a", now, w, 0, time.Time{})
	wantAttempts(t, s, "b", now, w, 1, now)
	addAttempt(t, s, "a", now, w, 1)
	if err := s.ResetAttempts(ctx, "never-tried"); err != nil {
		t.Errorf("ResetAttempts of an unknown key: %v, want nil", err)
	}
}

func testDeleteExpiredAttempts(t *testing.T, s throttle.Store) {
	now := timeNow()
	const w = time.Hour
	before := now.Add(-time.Minute)
	addAttempt(t, s, "old", now.Add(-10*time.Minute), w, 1)
	addAttempt(t, s, "old", now.Add(-5*time.Minute), w, 2)
	addAttempt(t, s, "mixed", now.Add(-10*time.Minute), w, 1)
	addAttempt(t, s, "mixed", now, w, 2)
	addAttempt(t, s, "boundary", before, w, 1)

	n, err := s.DeleteExpiredAttempts(t.Context(), before)
	if err != nil {
		t.Fatalf("DeleteExpiredAttempts: %v", err)
	}
	switch n {
	case 3:
		wantAttempts(t, s, "old", now, w, 0, time.Time{})
		wantAttempts(t, s, "mixed", now, w, 1, now)
	case 0:
		// Such a store forgets whole keys once their window has passed,
		// which it has not here.
		t.Logf("DeleteExpiredAttempts = 0: the store expires attempts by itself")
		wantAttempts(t, s, "mixed", now, w, 2, now)
	default:
		t.Errorf("DeleteExpiredAttempts = %d, want 3 (or 0 from a store that expires attempts by itself)", n)
	}
	wantAttempts(t, s, "boundary", now, w, 1, before)
}

func testAttemptOddKeys(t *testing.T, s throttle.Store) {
	ctx := t.Context()
	now := timeNow()
	const w = time.Minute
	keys := []string{
		"",
		"a",
		"A",
		"a ",
		" a",
		"a%",
		"a_b",
		"axb",
		"%",
		"_",
		"*",
		"?",
		"[a]",
		`a'b"c`,
		`'; DROP TABLE attempts; --`,
		`back\slash`,
		"line\nbreak\ttab\r",
		"ключ 🔑 鍵",
		"\xff\xfe not utf-8 \x80",
		"\x01\x7f",
		"login:ip:2001:db8::1",
		"{braces}:hash:tag",
		strings.Repeat("x", 199),
		strings.Repeat("x", 200),
		strings.Repeat("é", 100), // 200 bytes
	}
	if len(keys) != len(slices.Compact(slices.Sorted(slices.Values(keys)))) {
		t.Fatal("storetest: duplicate key in the test table")
	}
	for i, key := range keys {
		for j := range i + 1 {
			addAttempt(t, s, key, now, w, j+1)
		}
	}
	for i, key := range keys {
		wantAttempts(t, s, key, now, w, i+1, now)
	}
	if err := s.ResetAttempts(ctx, "a%"); err != nil {
		t.Fatalf("ResetAttempts: %v", err)
	}
	for i, key := range keys {
		want := i + 1
		if key == "a%" {
			want = 0
		}
		n, _, err := s.Attempts(ctx, key, now, w)
		if err != nil {
			t.Fatalf("Attempts(%q): %v", key, err)
		}
		if n != want {
			t.Errorf(`after ResetAttempts("a%%"): Attempts(%q) = %d, want %d`, key, n, want)
		}
	}
}

func testAttemptsConcurrent(t *testing.T, s throttle.Store) {
	ctx := t.Context()
	now := timeNow()
	const (
		workers = 20
		w       = time.Minute
	)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts []int
	)
	for range workers {
		wg.Go(func() {
			// All at the same moment: a store must not fold equal times.
			n, err := s.AddAttempt(ctx, "contested", now, w)
			if err != nil {
				t.Errorf("AddAttempt: %v", err)
				return
			}
			mu.Lock()
			counts = append(counts, n)
			mu.Unlock()
		})
	}
	wg.Wait()
	wantAttempts(t, s, "contested", now, w, workers, now)
	slices.Sort(counts)
	want := make([]int, workers)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(counts, want) {
		t.Errorf("counts returned by %d concurrent AddAttempt calls = %v, want each of 1 to %d once", workers, counts, workers)
	}
}
