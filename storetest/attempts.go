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
// readings of them. The window of TakeAttempt and Attempts is the half-open
// interval (at-window, at]: with a window of 2s, attempts at t, t+1s and
// t+2s count 1, 2 and 2. Keys are compared byte for byte (no case folding,
// no pattern characters). TakeAttempt decides exactly as
// throttle.Rule.Wait does, and is linearizable: of 500 calls on one key at
// the same moment, from any number of goroutines, exactly as many are
// allowed as the rule allows one after the other, so a burst cannot slip
// under a limit. DeleteExpiredAttempts keeps an attempt made exactly at
// `before`.
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
		{"TakeDecides", testTakeDecides},
		{"RemoveAttempt", testRemoveAttempt},
		{"Burst", testAttemptBurst},
		{"ClockAhead", testAttemptClockAhead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// unlimited lets every attempt through: for the tests of the window's
// bookkeeping.
func unlimited(window time.Duration) throttle.Rule {
	return throttle.Rule{Window: window, Free: 1 << 30, Base: time.Second, Max: time.Second}
}

// addAttempt takes an attempt that the rule always allows and checks that
// the window then holds want attempts.
func addAttempt(t *testing.T, s throttle.Store, key string, at time.Time, window time.Duration, want int) {
	t.Helper()
	wait, err := s.TakeAttempt(t.Context(), key, at, unlimited(window))
	if err != nil {
		t.Fatalf("TakeAttempt(%q): %v", key, err)
	}
	if wait != 0 {
		t.Fatalf("TakeAttempt(%q) under a rule that allows everything = wait %v", key, wait)
	}
	if n, _, err := s.Attempts(t.Context(), key, at, window); err != nil || n != want {
		t.Errorf("after TakeAttempt(%q, %v, %v): %d attempts (%v), want %d", key, at, window, n, err, want)
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
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			// All at the same moment: a store must not fold equal times.
			if wait, err := s.TakeAttempt(ctx, "contested", now, unlimited(w)); err != nil || wait != 0 {
				t.Errorf("TakeAttempt = %v, %v", wait, err)
			}
		})
	}
	wg.Wait()
	wantAttempts(t, s, "contested", now, w, workers, now)
}

// testTakeDecides walks a rule through its free attempts and its back-off,
// with times chosen by the test: every decision is throttle.Rule.Wait's.
func testTakeDecides(t *testing.T, s throttle.Store) {
	ctx := t.Context()
	rule := throttle.Rule{Window: time.Hour, Free: 3, Base: time.Second, Max: 5 * time.Second}
	t0 := timeNow()
	steps := []struct {
		after time.Duration // since t0
		wait  time.Duration // 0: allowed and recorded
	}{
		{0, 0}, {0, 0}, {0, 0}, // the free ones
		{0, time.Second}, // 3 in the window: wait 1s after the latest
		{999 * time.Millisecond, time.Millisecond}, // still 1ms to go
		{time.Second, 0},                   // allowed: now 4
		{time.Second, 2 * time.Second},     // 4 in the window: 2s
		{3 * time.Second, 0},               // 5
		{3 * time.Second, 4 * time.Second}, // 5: 4s
		{7 * time.Second, 0},               // 6
		{7 * time.Second, 5 * time.Second}, // 6: 8s, capped at 5s
		{12 * time.Second, 0},              // 7
		{12*time.Second + time.Hour, 0},    // the window forgets all but the latest
	}
	for i, st := range steps {
		wait, err := s.TakeAttempt(ctx, "k", t0.Add(st.after), rule)
		if err != nil {
			t.Fatalf("step %d: TakeAttempt: %v", i, err)
		}
		if wait != st.wait {
			t.Fatalf("step %d (t0+%v): wait %v, want %v", i, st.after, wait, st.wait)
		}
	}
	// Refused attempts were not recorded: 8 in all, 2 in the last window.
	wantAttempts(t, s, "k", t0.Add(12*time.Second+time.Hour), time.Hour, 1, t0.Add(12*time.Second+time.Hour))
}

// testAttemptClockAhead: an instance whose clock runs 2 s ahead stamps
// its attempts in this one's future; they count here too, so the two
// instances together get no more attempts than one.
func testAttemptClockAhead(t *testing.T, s throttle.Store) {
	ctx := t.Context()
	rule := throttle.Rule{Window: time.Hour, Free: 2, Base: time.Minute, Max: time.Minute}
	now := timeNow()
	ahead := now.Add(2 * time.Second)
	for i := range 2 {
		if wait, err := s.TakeAttempt(ctx, "k", ahead, rule); err != nil || wait != 0 {
			t.Fatalf("attempt %d from the instance ahead: wait %v, %v", i+1, wait, err)
		}
	}
	wait, err := s.TakeAttempt(ctx, "k", now, rule)
	if err != nil {
		t.Fatal(err)
	}
	if wait != time.Minute+2*time.Second {
		t.Errorf("the third attempt, from the instance behind: wait %v, want %v (a minute after the latest, 2s in its future)", wait, time.Minute+2*time.Second)
	}
	wantAttempts(t, s, "k", now, time.Hour, 2, ahead)
	// Under the free attempts, one stamped later does not hold up one
	// stamped before it (concurrent requests take their times first).
	other := throttle.Rule{Window: time.Hour, Free: 5, Base: time.Minute, Max: time.Minute}
	if wait, err := s.TakeAttempt(ctx, "free", ahead, other); err != nil || wait != 0 {
		t.Fatalf("a free attempt: %v, %v", wait, err)
	}
	if wait, err := s.TakeAttempt(ctx, "free", now, other); err != nil || wait != 0 {
		t.Errorf("a free attempt stamped before the latest: wait %v, %v; want 0", wait, err)
	}
}

func testRemoveAttempt(t *testing.T, s throttle.Store) {
	ctx := t.Context()
	now := timeNow()
	const w = time.Minute
	addAttempt(t, s, "k", now.Add(-2*time.Second), w, 1)
	addAttempt(t, s, "k", now.Add(-time.Second), w, 2)
	addAttempt(t, s, "k", now.Add(-time.Second), w, 3) // the same millisecond twice
	addAttempt(t, s, "other", now.Add(-time.Second), w, 1)
	if err := s.RemoveAttempt(ctx, "k", now.Add(-time.Second)); err != nil {
		t.Fatalf("RemoveAttempt: %v", err)
	}
	wantAttempts(t, s, "k", now, w, 2, now.Add(-time.Second))
	wantAttempts(t, s, "other", now, w, 1, now.Add(-time.Second))
	if err := s.RemoveAttempt(ctx, "k", now.Add(-time.Second)); err != nil {
		t.Fatalf("RemoveAttempt: %v", err)
	}
	wantAttempts(t, s, "k", now, w, 1, now.Add(-2*time.Second))
	if err := s.RemoveAttempt(ctx, "k", now); err != nil {
		t.Errorf("RemoveAttempt of an attempt never made: %v, want nil", err)
	}
	if err := s.RemoveAttempt(ctx, "never-tried", now); err != nil {
		t.Errorf("RemoveAttempt of an unknown key: %v, want nil", err)
	}
	wantAttempts(t, s, "k", now, w, 1, now.Add(-2*time.Second))
}

// testAttemptBurst: 500 concurrent attempts at one moment get exactly the
// rule's free attempts through.
func testAttemptBurst(t *testing.T, s throttle.Store) {
	burst(t, []throttle.Store{s}, 500)
}

// burst sends n concurrent attempts on one key, spread over the stores (two
// handles on one database are two instances), and checks that exactly the
// rule's free attempts were allowed and recorded.
func burst(t *testing.T, stores []throttle.Store, n int) {
	t.Helper()
	ctx := t.Context()
	now := timeNow()
	rule := throttle.Rule{Window: time.Hour, Free: 5, Base: time.Minute, Max: time.Hour}
	var (
		wg      sync.WaitGroup
		allowed sync.Map
		count   int64
		mu      sync.Mutex
	)
	for i := range n {
		wg.Go(func() {
			wait, err := stores[i%len(stores)].TakeAttempt(ctx, "burst", now, rule)
			if err != nil {
				t.Errorf("TakeAttempt: %v", err)
				return
			}
			if wait == 0 {
				mu.Lock()
				count++
				mu.Unlock()
				allowed.Store(i, true)
			}
		})
	}
	wg.Wait()
	if count != int64(rule.Free) {
		t.Errorf("%d concurrent attempts over %d handles: %d allowed, want exactly %d", n, len(stores), count, rule.Free)
	}
	wantAttempts(t, stores[0], "burst", now, rule.Window, rule.Free, now)
}

// AttemptsShared checks that two handles on one database (two instances of
// a site) share their limits: a burst spread over both gets exactly the
// rule's free attempts. newPair returns the two handles on a fresh
// database.
func AttemptsShared(t *testing.T, newPair func(t *testing.T) (a, b throttle.Store)) {
	a, b := newPair(t)
	burst(t, []throttle.Store{a, b}, 300)
}
