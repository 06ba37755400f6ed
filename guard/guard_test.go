package guard_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchgo/latch/guard"
	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/sqlite"
	"github.com/latchgo/latch/throttle"
)

// fastParams keep argon2id cheap: these tests hash hundreds of times.
var fastParams = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// env is a Guard over a real SQLite throttle store, with a clock the test
// moves and a count of the hashes the Hasher computed.
type env struct {
	g      *guard.Guard
	store  *sqlite.Store
	path   string
	hasher *password.Hasher
	hashes atomic.Int64
	mu     sync.Mutex
	now    time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shop.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{store: st, path: path, now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	e.hasher = password.NewHasher(fastParams)
	e.hasher.MaxConcurrent = 4
	e.hasher.OnWait = func(time.Duration) { e.hashes.Add(1) }
	e.g = e.newGuard(st)
	return e
}

// newGuard is another instance's Guard on the same attempts.
func (e *env) newGuard(st throttle.Store) *guard.Guard {
	g := guard.New(st, e.hasher)
	g.SetClock(e.clock)
	return g
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func (e *env) hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := e.hasher.Hash(t.Context(), pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// users is a shop's own users table: email → hash.
func users(m map[string]string, calls *atomic.Int64) func(email string) guard.Lookup {
	return func(email string) guard.Lookup {
		return func(context.Context) (string, error) {
			if calls != nil {
				calls.Add(1)
			}
			h, ok := m[email]
			if !ok {
				return "", fmt.Errorf("user %q: %w", email, guard.ErrUnknownAccount)
			}
			return h, nil
		}
	}
}

const right = "correct horse battery staple"

func TestCheck(t *testing.T) {
	e := newEnv(t)
	lookup := users(map[string]string{
		"ann@shop.example":    e.hash(t, right),
		"broken@shop.example": "$argon2id$v=19$m=bad",
	}, nil)
	dbDown := errors.New("database is down")
	for _, c := range []struct {
		name, email, pw string
		lookup          guard.Lookup
		want            error
		counted         int // attempts left recorded against the client
	}{
		{"right password", "ann@shop.example", right, nil, nil, 0},
		{"account name in another case, with spaces", "  ANN@shop.example ", right, lookup("ann@shop.example"), nil, 0},
		{"wrong password", "ann@shop.example", "wrong password", nil, guard.ErrBadCredentials, 1},
		{"unknown account", "nobody@shop.example", right, nil, guard.ErrBadCredentials, 1},
		{"password longer than the hasher takes", "ann@shop.example", string(make([]byte, password.MaxBytes+1)), nil, guard.ErrBadCredentials, 1},
		{"lookup fails", "ann@shop.example", right, func(context.Context) (string, error) { return "", dbDown }, dbDown, 0},
		{"stored hash malformed", "broken@shop.example", right, nil, password.ErrMalformedHash, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ip := "192.0.2." + fmt.Sprint(len(c.name))
			l := c.lookup
			if l == nil {
				l = lookup(c.email)
			}
			_, err := e.g.Check(t.Context(), c.email, c.pw, ip, l)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Check = %v, want %v", err, c.want)
			}
			n, _, err := e.store.Attempts(t.Context(), throttle.ClientKey("login:ip", ip, 64), e.clock(), time.Hour)
			if err != nil || n != c.counted {
				t.Errorf("attempts left against the client = %d, %v; want %d", n, err, c.counted)
			}
		})
	}
}

// TestUnknownAccountCostsAHash: an unknown account is verified against a
// dummy hash, so it takes the time of a real verification.
func TestUnknownAccountCostsAHash(t *testing.T) {
	e := newEnv(t)
	lookup := users(map[string]string{"ann@shop.example": e.hash(t, right)}, nil)
	for _, email := range []string{"ann@shop.example", "nobody@shop.example"} {
		before := e.hashes.Load()
		if _, err := e.g.Check(t.Context(), email, "wrong password", "192.0.2.1", lookup(email)); !errors.Is(err, guard.ErrBadCredentials) {
			t.Fatalf("%s: %v", email, err)
		}
		if n := e.hashes.Load() - before; n != 1 {
			t.Errorf("%s: %d hashes computed, want 1", email, n)
		}
	}
}

// TestAccountLimit: past the account's free failures, attempts from any
// client wait, without the password being checked; the owner's right
// password after the wait clears the failures.
func TestAccountLimit(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int64
	lookup := users(map[string]string{"ann@shop.example": e.hash(t, right)}, &calls)
	for i := range guard.DefaultAccountRule.Free {
		ip := fmt.Sprintf("198.51.100.%d", i)
		if _, err := e.g.Check(t.Context(), "ann@shop.example", "guess", ip, lookup("ann@shop.example")); !errors.Is(err, guard.ErrBadCredentials) {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	calls.Store(0)
	_, err := e.g.Check(t.Context(), "ann@shop.example", right, "203.0.113.9", lookup("ann@shop.example"))
	var limited *throttle.LimitError
	if !errors.As(err, &limited) || limited.RetryAfter != time.Second {
		t.Fatalf("the attempt after the free failures: %v, want a LimitError of 1s", err)
	}
	if calls.Load() != 0 {
		t.Error("a refused attempt reached the lookup")
	}
	e.advance(time.Second)
	if _, err := e.g.Check(t.Context(), "ann@shop.example", right, "203.0.113.9", lookup("ann@shop.example")); err != nil {
		t.Fatalf("the owner after the wait: %v", err)
	}
	if n, _, _ := e.store.Attempts(t.Context(), throttle.Key("login:acct", "ann@shop.example"), e.clock(), time.Hour); n != 0 {
		t.Errorf("a right password left %d failures on the account", n)
	}
}

// TestClientLimit: one client spraying many accounts is slowed, and its
// whole IPv6 /64 counts as one client; logging in to an account of its
// own does not clear its failures.
func TestClientLimit(t *testing.T) {
	e := newEnv(t)
	own := e.hash(t, right)
	lookup := users(map[string]string{"mallory@shop.example": own}, nil)
	for i := range guard.DefaultClientRule.Free {
		ip := fmt.Sprintf("2001:db8:1:2::%x", i+1) // a new address of the /64 each time
		email := fmt.Sprintf("victim%d@shop.example", i)
		if _, err := e.g.Check(t.Context(), email, "Summer2026!", ip, lookup(email)); !errors.Is(err, guard.ErrBadCredentials) {
			t.Fatalf("spray %d: %v", i+1, err)
		}
	}
	// Past the free failures each attempt waits longer than the last. A
	// right password of its own, once the wait is over, does not clear
	// them: the next guess after it still waits, twice as long.
	e.advance(time.Second)
	if _, err := e.g.Check(t.Context(), "mallory@shop.example", right, "2001:db8:1:2::ffff", lookup("mallory@shop.example")); err != nil {
		t.Fatalf("own login: %v", err)
	}
	if _, err := e.g.Check(t.Context(), "victim98@shop.example", "Summer2026!", "2001:db8:1:2:bbbb::1", lookup("victim98@shop.example")); !errors.Is(err, guard.ErrBadCredentials) {
		t.Fatalf("the guess after the wait: %v", err)
	}
	_, err := e.g.Check(t.Context(), "victim99@shop.example", "Summer2026!", "2001:db8:1:2:aaaa::1", lookup("victim99@shop.example"))
	var limited *throttle.LimitError
	if !errors.As(err, &limited) || limited.RetryAfter != 2*time.Second {
		t.Fatalf("another address of the /64 right after: %v, want a LimitError of 2s", err)
	}
	// Another /64 is another client.
	if _, err := e.g.Check(t.Context(), "victim99@shop.example", "Summer2026!", "2001:db8:1:3::1", lookup("victim99@shop.example")); !errors.Is(err, guard.ErrBadCredentials) {
		t.Errorf("another /64: %v, want ErrBadCredentials", err)
	}
}

// TestBurst: 300 concurrent guesses at one account, through two Guards on
// two Stores of one file (two instances), check exactly the free number of
// passwords; the rest are refused before any lookup or hash.
func TestBurst(t *testing.T) {
	e := newEnv(t)
	other, err := sqlite.Open(t.Context(), e.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	guards := []*guard.Guard{e.g, e.newGuard(other)}
	e.hasher.MaxQueue = 1000
	e.hasher.MaxWait = time.Minute
	var calls atomic.Int64
	lookup := users(map[string]string{"ann@shop.example": e.hash(t, right)}, &calls)
	var wg sync.WaitGroup
	var bad, limited atomic.Int64
	for i := range 300 {
		wg.Go(func() {
			_, err := guards[i%2].Check(context.Background(), "ann@shop.example", fmt.Sprint("guess", i), fmt.Sprintf("10.0.%d.%d", i/250, i%250), lookup("ann@shop.example"))
			var le *throttle.LimitError
			switch {
			case errors.Is(err, guard.ErrBadCredentials):
				bad.Add(1)
			case errors.As(err, &le):
				limited.Add(1)
			default:
				t.Errorf("Check: %v", err)
			}
		})
	}
	wg.Wait()
	free := int64(guard.DefaultAccountRule.Free)
	if bad.Load() != free || calls.Load() != free {
		t.Errorf("%d passwords checked (%d lookups) out of 300 concurrent guesses, want exactly %d", bad.Load(), calls.Load(), free)
	}
	if limited.Load() != 300-free {
		t.Errorf("%d refused, want %d", limited.Load(), 300-free)
	}
}

// TestBusy: a saturated hasher turns an attempt away before the limits or
// the lookup, and the attempt does not count.
func TestBusy(t *testing.T) {
	e := newEnv(t)
	h := password.NewHasher(fastParams)
	h.MaxConcurrent, h.MaxQueue = 1, -1
	g := guard.New(e.store, h)
	g.SetClock(e.clock)
	release := make(chan struct{})
	started := make(chan struct{})
	h.OnWait = func(time.Duration) { close(started); <-release }
	go h.Hash(context.Background(), right) // holds the only slot
	<-started
	var calls atomic.Int64
	_, err := g.Check(t.Context(), "ann@shop.example", right, "192.0.2.1", users(map[string]string{}, &calls)("ann@shop.example"))
	close(release)
	if !errors.Is(err, password.ErrBusy) {
		t.Fatalf("Check with the hasher saturated = %v, want ErrBusy", err)
	}
	var busy *password.BusyError
	if !errors.As(err, &busy) || busy.RetryAfter <= 0 {
		t.Errorf("no Retry-After in %v", err)
	}
	if calls.Load() != 0 {
		t.Error("the lookup ran")
	}
	if n, _, _ := e.store.Attempts(t.Context(), throttle.ClientKey("login:ip", "192.0.2.1", 64), e.clock(), time.Hour); n != 0 {
		t.Errorf("%d attempts recorded", n)
	}
}

// TestRehash: a right password stored by another system (real hashes of
// Python bcrypt 3.2.2 and werkzeug 2.2.2, from ../shared/data) comes back
// with a fresh argon2id hash that verifies; a current hash does not.
func TestRehash(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name, hash string
		rehash     bool
	}{
		{"bcrypt $2b$ cost 12", "$2b$12$2h65PZdeL0OjncUz7iDCfOznaoKWMkikqOjh9f/aUuhLxSVkLYw3S", true},
		{"werkzeug pbkdf2:sha256:260000", "pbkdf2:sha256:260000$KXjz6re3o5USqhZS$f696c73ae064e067f60bc4998ac78204e61a7b07a42eef93ac6253529b8f2a12", true},
		{"current argon2id", e.hash(t, right), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			lookup := func(context.Context) (string, error) { return c.hash, nil }
			if _, err := e.g.Check(t.Context(), "ann@shop.example", right+"!", "192.0.2.1", lookup); !errors.Is(err, guard.ErrBadCredentials) {
				t.Fatalf("a wrong password: %v", err)
			}
			res, err := e.g.Check(t.Context(), "ann@shop.example", right, "192.0.2.1", lookup)
			if err != nil {
				t.Fatal(err)
			}
			if !c.rehash {
				if res.NewHash != "" {
					t.Errorf("a current hash was rehashed")
				}
				return
			}
			if f, _ := password.Identify(res.NewHash); f != password.FormatArgon2id {
				t.Fatalf("NewHash is %v, want argon2id", f)
			}
			if ok, _, err := e.hasher.Verify(t.Context(), right, res.NewHash); !ok || err != nil {
				t.Errorf("NewHash does not verify the password: %v", err)
			}
		})
	}
}

// TestPurposeSeparates: two forms with their own Purpose count apart.
func TestPurposeSeparates(t *testing.T) {
	e := newEnv(t)
	staff := e.newGuard(e.store)
	staff.Purpose = "staff-login"
	staff.Account.Free = 1
	lookup := users(map[string]string{"ann@shop.example": e.hash(t, right)}, nil)
	staff.Check(t.Context(), "ann@shop.example", "guess", "192.0.2.1", lookup("ann@shop.example"))
	if _, err := staff.Check(t.Context(), "ann@shop.example", "guess", "192.0.2.2", lookup("ann@shop.example")); !errors.As(err, new(*throttle.LimitError)) {
		t.Fatalf("the staff form's second failure: %v, want a LimitError", err)
	}
	if _, err := e.g.Check(t.Context(), "ann@shop.example", right, "192.0.2.1", lookup("ann@shop.example")); err != nil {
		t.Errorf("the customers' form, counted apart: %v", err)
	}
}
