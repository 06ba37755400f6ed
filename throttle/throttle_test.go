package throttle_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch/sqlite"
	"github.com/latchgo/latch/throttle"
)

func newLimiter(t *testing.T, now *time.Time) *throttle.Limiter {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &throttle.Limiter{Store: st, Now: func() time.Time { return *now }}
}

func TestLimiterBackOff(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	l := newLimiter(t, &now)
	rule := throttle.Rule{Window: time.Hour, Free: 3, Base: time.Second, Max: 10 * time.Second}
	ctx := context.Background()
	// Attempt n (1-based) may be made without waiting for n ≤ Free; after
	// that each attempt must wait Base·2^(n-Free-1) after the previous one,
	// capped at Max. An attempt made too early is refused with the rest of
	// the wait, and is not recorded.
	wantWait := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, want := range wantWait {
		if want > 0 {
			if _, w, err := l.Take(ctx, "k", rule); err != nil || w != want {
				t.Fatalf("attempt %d made at once: wait %v, %v; want %v", i+1, w, err, want)
			}
			if w, _ := l.Wait(ctx, "k", rule); w != want {
				t.Fatalf("Wait before attempt %d = %v, want %v", i+1, w, want)
			}
			now = now.Add(want - time.Millisecond)
			if _, w, _ := l.Take(ctx, "k", rule); w != time.Millisecond {
				t.Fatalf("attempt %d a millisecond early: wait %v", i+1, w)
			}
			now = now.Add(time.Millisecond)
		}
		if _, w, err := l.Take(ctx, "k", rule); err != nil || w != 0 {
			t.Fatalf("attempt %d on time: wait %v, %v", i+1, w, err)
		}
	}
	if _, w, _ := l.Take(ctx, "other", rule); w != 0 {
		t.Fatalf("keys not independent: %v", w)
	}
	// Attempts leave the sliding window.
	now = now.Add(time.Hour + time.Second)
	if w, _ := l.Wait(ctx, "k", rule); w != 0 {
		t.Fatalf("after the window: %v", w)
	}
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
}

// TestTakeAllGivesBack: a request refused by its second limit counts
// against neither, and GiveBack forgets exactly the attempts it is given.
func TestTakeAllGivesBack(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	l := newLimiter(t, &now)
	ctx := context.Background()
	wide := throttle.Rule{Window: time.Hour, Free: 100, Base: time.Second, Max: time.Minute}
	narrow := throttle.Rule{Window: time.Hour, Free: 1, Base: time.Minute, Max: time.Hour}
	if _, w, err := l.TakeAll(ctx, throttle.Limit{Key: "a", Rule: wide}, throttle.Limit{Key: "b", Rule: narrow}); err != nil || w != 0 {
		t.Fatalf("first request: %v, %v", w, err)
	}
	for range 3 {
		if _, w, _ := l.TakeAll(ctx, throttle.Limit{Key: "a", Rule: wide}, throttle.Limit{Key: "b", Rule: narrow}); w != time.Minute {
			t.Fatalf("refused by the second limit: wait %v", w)
		}
	}
	if n, _, _ := l.Store.Attempts(ctx, "a", now, time.Hour); n != 1 {
		t.Fatalf("the first limit counts %d attempts; the refused requests must count against neither", n)
	}
	taken, _, _ := l.TakeAll(ctx, throttle.Limit{Key: "a", Rule: wide})
	if err := l.GiveBack(ctx, taken...); err != nil {
		t.Fatal(err)
	}
	if err := l.GiveBack(ctx, throttle.Attempt{}); err != nil {
		t.Fatalf("GiveBack of no attempt: %v", err)
	}
	if n, _, _ := l.Store.Attempts(ctx, "a", now, time.Hour); n != 1 {
		t.Fatalf("after GiveBack: %d attempts, want 1", n)
	}
}

// TestTakeBurst: 200 concurrent Takes get exactly the free attempts.
func TestTakeBurst(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	l := newLimiter(t, &now)
	rule := throttle.Rule{Window: time.Hour, Free: 5, Base: time.Minute, Max: time.Hour}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for range 200 {
		wg.Go(func() {
			if _, w, err := l.Take(context.Background(), "k", rule); err == nil && w == 0 {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != rule.Free {
		t.Fatalf("%d of 200 concurrent attempts allowed, want %d", allowed, rule.Free)
	}
}

func TestRuleDelay(t *testing.T) {
	r := throttle.Rule{Free: 2, Base: time.Second, Max: 5 * time.Second}
	for n, want := range []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
		if got := r.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
	t0 := time.Unix(1000, 0)
	if w := r.Wait(0, time.Time{}, t0); w != 0 {
		t.Errorf("Wait with no attempts = %v", w)
	}
	if w := r.Wait(3, t0, t0.Add(500*time.Millisecond)); w != 1500*time.Millisecond {
		t.Errorf("Wait = %v, want 1.5s", w)
	}
	// Under the free attempts nothing waits, also when the latest attempt
	// is stamped after this one (a concurrent request took its time later
	// but its turn earlier).
	if w := r.Wait(r.Free-1, t0.Add(time.Second), t0); w != 0 {
		t.Errorf("Wait under the free attempts, the latest in the future = %v", w)
	}
	// Past them, an attempt stamped after this one holds it up.
	if w := r.Wait(r.Free, t0.Add(time.Second), t0); w <= time.Second {
		t.Errorf("Wait past the free attempts, the latest in the future = %v, want more than 1s", w)
	}
}

func TestNetwork(t *testing.T) {
	tests := []struct {
		ip     string
		prefix int
		want   string
	}{
		{"192.0.2.7", 64, "192.0.2.7"},
		{"::ffff:192.0.2.7", 64, "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2::ffff", 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", 64, "2001:db8:1:3::/64"},
		{"2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::/48"},
		{"2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6/128"},
		{"2001:db8:1:2:3:4:5:6", 0, "2001:db8:1:2::/64"},
		{"2001:db8:1:2:3:4:5:6", 200, "2001:db8:1:2::/64"},
		{"fe80::1%eth0", 64, "fe80::/64"},
		{"not an address", 64, "not an address"},
		{"", 64, ""},
	}
	for _, tt := range tests {
		if got := throttle.Network(tt.ip, tt.prefix); got != tt.want {
			t.Errorf("Network(%q, %d) = %q, want %q", tt.ip, tt.prefix, got, tt.want)
		}
	}
	if throttle.ClientKey("login:ip", "2001:db8::1", 64) != throttle.ClientKey("login:ip", "2001:db8::ffff:1", 64) {
		t.Error("two addresses of one /64 are two clients")
	}
}

// FuzzNetwork: the client of an address is stable (the network of a
// network is itself), addresses of one /64 are one client, and nothing
// panics on what a proxy header may hold.
func FuzzNetwork(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1", "::ffff:10.0.0.1", "fe80::1%eth0", "::", "1.2.3", "2001:db8::/64", strings.Repeat(":", 50)} {
		f.Add(s, 64)
	}
	f.Fuzz(func(t *testing.T, ip string, prefix int) {
		n := throttle.Network(ip, prefix)
		if again := throttle.Network(n, prefix); again != n {
			t.Fatalf("Network(Network(%q)) = %q, want %q", ip, again, n)
		}
	})
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
