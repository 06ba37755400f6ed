package storetest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchgo/latch"
)

// Revocation checks that a [latch.Manager] over the store makes a
// revocation final: once a user's credential epoch has been raised and
// their sessions deleted, no request with one of their old cookies gets
// in, whatever requests were in flight on those sessions meanwhile —
// reads, flash writes, and a User-Agent that changes so that session
// protection rewrites the session. Two managers share the store, as two
// instances of a site do; the revocation goes through one of them while
// requests go to both.
//
// newStore must return a fresh store on each call. The suite takes well
// under a second; CI runs it many times (-count) to shake out rare
// interleavings, with -race.
//
// Every test runs twice: with the managers' read cache on (the default;
// it serves only over a store that implements latch.ChangeTracker) and
// off.
func Revocation(t *testing.T, newStore func(t *testing.T) latch.Store) {
	for _, mode := range []struct {
		name    string
		entries int
	}{{"Cached", latch.DefaultCacheEntries}, {"Uncached", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Run("InFlightRequests", func(t *testing.T) { testRevocationInFlight(t, newStore(t), mode.entries) })
			t.Run("LateWrite", func(t *testing.T) { testRevocationLateWrite(t, newStore(t), mode.entries) })
		})
	}
}

// epochUser is a user with a credential epoch, as an application's users
// table with one more column gives it.
type epochUser struct {
	id    string
	epoch int64
}

func (u *epochUser) GetID() string          { return u.id }
func (u *epochUser) CredentialEpoch() int64 { return u.epoch }

// site is two instances of a tiny application over one store.
type site struct {
	t         *testing.T
	mu        sync.Mutex
	epochs    map[string]int64
	instances [2]*latch.Manager[*epochUser]
	servers   [2]*httptest.Server
}

func newSite(t *testing.T, store latch.Store, cacheEntries int, page http.HandlerFunc) *site {
	s := &site{t: t, epochs: map[string]int64{"alice": 0, "bob": 0}}
	for i := range s.instances {
		m := latch.New(store, func(_ context.Context, id string) (*epochUser, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			e, ok := s.epochs[id]
			if !ok {
				return nil, latch.ErrNoUser
			}
			return &epochUser{id: id, epoch: e}, nil
		})
		m.Cache.Entries = cacheEntries
		s.instances[i] = m
		mux := http.NewServeMux()
		mux.HandleFunc("POST /login/{id}", func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			u := &epochUser{id: r.PathValue("id"), epoch: s.epochs[r.PathValue("id")]}
			s.mu.Unlock()
			if err := m.LoginUser(w, r, u, latch.Remember(true)); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		})
		mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
			if u, ok := m.CurrentUser(r); ok {
				fmt.Fprint(w, u.id)
				return
			}
			fmt.Fprint(w, "anonymous")
		})
		mux.HandleFunc("POST /flash", func(w http.ResponseWriter, r *http.Request) {
			if err := m.AddFlash(w, r, "message", "hello"); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if u, ok := m.CurrentUser(r); ok {
				fmt.Fprint(w, u.id)
				return
			}
			fmt.Fprint(w, "anonymous")
		})
		if page != nil {
			mux.HandleFunc("GET /page", page)
		}
		s.servers[i] = httptest.NewServer(m.Handler(mux))
		t.Cleanup(s.servers[i].Close)
	}
	return s
}

// revoke is what an application's "log out everywhere" does: raise the
// epoch (one atomic write), then delete what can be deleted.
func (s *site) revoke(via int, id string) {
	s.mu.Lock()
	s.epochs[id]++
	s.mu.Unlock()
	if err := s.instances[via].RevokeUser(context.Background(), id); err != nil {
		s.t.Errorf("RevokeUser: %v", err)
	}
}

// request sends one request to an instance with the given cookies and
// returns the body; it never fails the test from a goroutine other than
// the test's own.
func (s *site) request(instance int, method, path, ua string, cookies ...*http.Cookie) (string, []*http.Cookie, error) {
	req, err := http.NewRequest(method, s.servers[instance].URL+path, nil)
	if err != nil {
		return "", nil, err
	}
	req.Header.Set("User-Agent", ua)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := s.servers[instance].Client().Do(req)
	if err != nil {
		return "", nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return string(body), res.Cookies(), err
}

func (s *site) login(id string) (session, remember *http.Cookie) {
	s.t.Helper()
	_, cookies, err := s.request(0, "POST", "/login/"+id, "storetest")
	if err != nil {
		s.t.Fatalf("login: %v", err)
	}
	for _, c := range cookies {
		switch c.Name {
		case "latch_session":
			session = c
		case "latch_remember":
			remember = c
		}
	}
	if session == nil || remember == nil {
		s.t.Fatalf("login set cookies %v", cookies)
	}
	return session, remember
}

func testRevocationInFlight(t *testing.T, store latch.Store, cacheEntries int) {
	s := newSite(t, store, cacheEntries, nil)
	const devices, workers = 3, 4
	type device struct{ session, remember *http.Cookie }
	alice := make([]device, devices)
	for i := range alice {
		alice[i].session, alice[i].remember = s.login("alice")
	}
	bobSession, _ := s.login("bob")

	var (
		revoked atomic.Bool
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		served  atomic.Int64
	)
	for w := range devices * workers {
		wg.Go(func() {
			d := alice[w%devices]
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				after := revoked.Load()
				method, path := "GET", "/me"
				if n%3 == 1 {
					method, path = "POST", "/flash"
				}
				cookies := []*http.Cookie{d.session}
				if n%4 == 3 {
					// Only the remember-me cookie: a restore.
					cookies = []*http.Cookie{d.remember}
				}
				body, _, err := s.request((w+n)%2, method, path, fmt.Sprintf("agent-%d", n%3), cookies...)
				if err != nil {
					t.Errorf("request: %v", err)
					return
				}
				served.Add(1)
				if after && body != "anonymous" {
					t.Errorf("%s %s after the revocation with an old cookie: %q", method, path, body)
					return
				}
			}
		})
	}
	// Let the requests run on the live sessions for a moment, then
	// revoke through one instance while they go on.
	for served.Load() < 50 && !t.Failed() {
		time.Sleep(time.Millisecond)
	}
	s.revoke(1, "alice")
	revoked.Store(true)
	for start := served.Load(); served.Load() < start+50 && !t.Failed(); {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()

	for i, d := range alice {
		for inst := range s.instances {
			for _, c := range []*http.Cookie{d.session, d.remember} {
				if body, _, err := s.request(inst, "GET", "/me", "storetest", c); err != nil || body != "anonymous" {
					t.Errorf("device %d, instance %d, cookie %s after the revocation: %q, %v", i, inst, c.Name, body, err)
				}
			}
		}
	}
	// A remember-me restore that was in flight may have stored a new
	// session after the deletes; it carries the old epoch, so it is dead.
	list, err := store.UserSessions(context.Background(), "alice", time.Now())
	if err != nil {
		t.Fatalf("UserSessions: %v", err)
	}
	for _, sess := range list {
		if sess.Epoch >= 1 {
			t.Errorf("a session of alice under the new epoch %d exists, nobody logged in since", sess.Epoch)
		}
	}
	if body, _, err := s.request(1, "GET", "/me", "storetest", bobSession); err != nil || body != "bob" {
		t.Errorf("another user's session: %q, %v", body, err)
	}
}

// testRevocationLateWrite holds a request that has loaded a session until
// the session's user is revoked, then lets it write to the session: the
// write does not bring the session back.
func testRevocationLateWrite(t *testing.T, store latch.Store, cacheEntries int) {
	loaded, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var s *site
	s = newSite(t, store, cacheEntries, func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(loaded) })
		<-release
		m := s.instances[0]
		if err := m.AddFlash(w, r, "message", "late"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	session, _ := s.login("alice")
	done := make(chan error, 1)
	go func() {
		_, _, err := s.request(0, "GET", "/page", "storetest", session)
		done <- err
	}()
	<-loaded
	s.revoke(1, "alice")
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("late request: %v", err)
	}
	if body, _, err := s.request(1, "GET", "/me", "storetest", session); err != nil || body != "anonymous" {
		t.Fatalf("after a late write: %q, %v", body, err)
	}
	if _, found, err := store.FindSession(context.Background(), latch.HashToken(session.Value), time.Now()); err != nil || found {
		t.Fatalf("FindSession after a late write = found %v, %v; want not found", found, err)
	}
}
