package latch_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/memstore"
)

// trackedStore is a memstore whose change feed the test controls: it
// counts session reads, can report writes made "elsewhere" (by moving the
// version without going through this store) and can be cut (ok=false).
type trackedStore struct {
	*memstore.Store
	reads    atomic.Int64
	external atomic.Uint64
	cut      atomic.Bool
}

func (s *trackedStore) FindSession(ctx context.Context, hash string, now time.Time) (latch.Session, bool, error) {
	s.reads.Add(1)
	return s.Store.FindSession(ctx, hash, now)
}

func (s *trackedStore) Changes() (uint64, bool) {
	v, _ := s.Store.Changes()
	return v + s.external.Load(), !s.cut.Load()
}

// member is a user type the cache may keep: it has Clone.
type member struct {
	id    string
	name  string
	epoch int64
}

func (u *member) GetID() string          { return u.id }
func (u *member) CredentialEpoch() int64 { return u.epoch }
func (u *member) Clone() *member         { c := *u; return &c }

type cacheSite struct {
	t     *testing.T
	store *trackedStore
	m     *latch.Manager[*member]
	loads atomic.Int64
	h     *harness
}

func newCacheSite(t *testing.T, configure func(*latch.Manager[*member])) *cacheSite {
	c := &cacheSite{t: t, store: &trackedStore{Store: memstore.New()}}
	c.m = latch.New(c.store, func(_ context.Context, id string) (*member, error) {
		c.loads.Add(1)
		return &member{id: id, name: "original"}, nil
	})
	c.m.Cache.Users = true
	if configure != nil {
		configure(c.m)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := c.m.LoginUser(w, r, &member{id: "7", name: "original"}); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		u, ok := c.m.CurrentUser(r)
		if !ok {
			fmt.Fprint(w, "anonymous")
			return
		}
		fmt.Fprint(w, u.id+" "+u.name)
		u.name = "changed by a handler" // must not reach the cache
	})
	mux.HandleFunc("POST /flash", func(w http.ResponseWriter, r *http.Request) {
		_ = c.m.AddFlash(w, r, "m", "hello")
	})
	c.h = &harness{t: t}
	c.h.srv = httptestServer(t, c.m.Handler(mux))
	return c
}

func TestCacheSkipsStoreReads(t *testing.T) {
	c := newCacheSite(t, nil)
	b := c.h.browser()
	b.do("POST", "/login")
	reads, loads := c.store.reads.Load(), c.loads.Load()
	for range 5 {
		if _, body := b.do("GET", "/me"); body != "7 original" {
			t.Fatalf("/me = %q: the cached user was changed by a handler", body)
		}
	}
	if got := c.store.reads.Load() - reads; got != 1 {
		t.Errorf("5 requests read the session %d times, want 1", got)
	}
	if got := c.loads.Load() - loads; got != 1 {
		t.Errorf("5 requests loaded the user %d times, want 1", got)
	}
	// A write moves the version: the next request reads again.
	b.do("POST", "/flash")
	reads = c.store.reads.Load()
	b.do("GET", "/me")
	if got := c.store.reads.Load() - reads; got != 1 {
		t.Errorf("after a write, a request read the session %d times, want 1", got)
	}
}

func TestCacheOff(t *testing.T) {
	c := newCacheSite(t, func(m *latch.Manager[*member]) { m.Cache.Entries = 0 })
	b := c.h.browser()
	b.do("POST", "/login")
	reads := c.store.reads.Load()
	for range 5 {
		b.do("GET", "/me")
	}
	if got := c.store.reads.Load() - reads; got != 5 {
		t.Errorf("with the cache off, 5 requests read the session %d times", got)
	}
}

// TestCacheBypassedWhenFeedIsCut: while the store cannot vouch for its
// version, every request reads the store, so a session deleted by another
// instance (which this one cannot hear of) is refused at once.
func TestCacheBypassedWhenFeedIsCut(t *testing.T) {
	c := newCacheSite(t, nil)
	b := c.h.browser()
	b.do("POST", "/login")
	b.do("GET", "/me") // cached
	c.store.cut.Store(true)
	reads := c.store.reads.Load()
	b.do("GET", "/me")
	if c.store.reads.Load() == reads {
		t.Fatal("a request was served from the cache while the feed was cut")
	}
	// "Another instance" deletes every session of the user, straight in
	// the shared store: this manager's cache hears nothing.
	if _, err := c.store.Store.DeleteUserSessions(context.Background(), "7", ""); err != nil {
		t.Fatal(err)
	}
	if got := b.me(); got != "anonymous" {
		t.Fatalf("with the feed cut, a session deleted elsewhere still works: %q", got)
	}
}

// TestCacheEndsWithExternalChange: a change reported by the feed (another
// instance's write) ends every cached entry.
func TestCacheEndsWithExternalChange(t *testing.T) {
	c := newCacheSite(t, nil)
	b := c.h.browser()
	b.do("POST", "/login")
	b.do("GET", "/me")
	reads := c.store.reads.Load()
	c.store.external.Add(1)
	b.do("GET", "/me")
	if c.store.reads.Load() == reads {
		t.Fatal("an entry of the version before an external change was served")
	}
}

// TestCacheForgetsRevokedUser: RevokeUser ends the user's cached sessions
// at once.
func TestCacheForgetsRevokedUser(t *testing.T) {
	c := newCacheSite(t, nil)
	b := c.h.browser()
	b.do("POST", "/login")
	b.do("GET", "/me")
	if err := c.m.RevokeUser(context.Background(), "7"); err != nil {
		t.Fatal(err)
	}
	if got := b.me(); got != "anonymous" {
		t.Fatalf("a revoked session was served from the cache: %q", got)
	}
}

// TestCacheWithoutClone: a user type without Clone is never cached; the
// session still is.
func TestCacheWithoutClone(t *testing.T) {
	store := &trackedStore{Store: memstore.New()}
	var loads atomic.Int64
	m := latch.New[*testUser](store, func(_ context.Context, id string) (*testUser, error) {
		loads.Add(1)
		return &testUser{id: id, active: true}, nil
	})
	m.Cache.Users = true
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = m.LoginUser(w, r, &testUser{id: "1", active: true})
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		_, ok := m.CurrentUser(r)
		fmt.Fprint(w, ok)
	})
	h := &harness{t: t}
	h.srv = httptestServer(t, m.Handler(mux))
	b := h.browser()
	b.do("POST", "/login")
	reads, before := store.reads.Load(), loads.Load()
	for range 3 {
		if _, body := b.do("GET", "/me"); !strings.Contains(body, "true") {
			t.Fatal(body)
		}
	}
	if got := store.reads.Load() - reads; got != 1 {
		t.Errorf("session reads = %d, want 1", got)
	}
	if got := loads.Load() - before; got != 3 {
		t.Errorf("user loads = %d, want 3 (no Clone: not cached)", got)
	}
}
