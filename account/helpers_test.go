package account_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/sqlite"
)

// fastParams keep argon2id cheap in tests that hash many times; the
// password package's own tests cover the real parameters.
var fastParams = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type env struct {
	store *sqlite.AccountStore
	svc   *account.Service
	clock *clock
}

// newEnv opens a real SQLite store in a temp dir and a Service on it.
func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := sqlite.OpenAccounts(context.Background(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := newClock()
	svc := account.NewService(st, password.NewHasher(fastParams), st)
	svc.Now = c.Now
	return &env{store: st, svc: svc, clock: c}
}

const goodPassword = "correct horse battery staple"

func (e *env) user(t testing.TB, name string) *account.User {
	t.Helper()
	u, err := e.svc.SignUp(context.Background(), account.SignUpInput{
		Username: name, Email: name + "@example.com", Password: goodPassword,
	}, "192.0.2.1")
	if err != nil {
		t.Fatalf("sign up %s: %v", name, err)
	}
	return u
}

// mailbox is a Notifier that keeps what it was asked to send.
type mailbox struct {
	mu   sync.Mutex
	sent []mail
	got  chan struct{}
}

type mail struct{ to, subject, body string }

func newMailbox() *mailbox { return &mailbox{got: make(chan struct{}, 100)} }

func (m *mailbox) Notify(_ context.Context, to, subject, body string) error {
	m.mu.Lock()
	m.sent = append(m.sent, mail{to, subject, body})
	m.mu.Unlock()
	m.got <- struct{}{}
	return nil
}

// wait returns once n mails have arrived in total.
func (m *mailbox) wait(t *testing.T, n int) []mail {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		m.mu.Lock()
		if len(m.sent) >= n {
			out := append([]mail(nil), m.sent...)
			m.mu.Unlock()
			return out
		}
		m.mu.Unlock()
		select {
		case <-m.got:
		case <-deadline:
			t.Fatalf("waited for %d mails, got %d", n, len(m.sent))
		}
	}
}

func (m *mailbox) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}
