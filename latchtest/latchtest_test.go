package latchtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/latchtest"
	"github.com/latchgo/latch/memstore"
)

type user struct {
	id     string
	active bool
}

func (u *user) GetID() string  { return u.id }
func (u *user) IsActive() bool { return u.active }

func newSite(t *testing.T) (*latch.Manager[*user], *httptest.Server) {
	users := map[string]*user{"1": {"1", true}, "2": {"2", false}}
	m := latch.New(memstore.New(), func(_ context.Context, id string) (*user, error) {
		if u, ok := users[id]; ok {
			return u, nil
		}
		return nil, latch.ErrNoUser
	})
	mux := http.NewServeMux()
	mux.Handle("/private", m.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		fmt.Fprintf(w, "%s fresh=%v", u.id, m.IsFresh(r))
	})))
	srv := httptest.NewServer(m.Handler(mux))
	t.Cleanup(srv.Close)
	return m, srv
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return fmt.Sprintf("%d %s", res.StatusCode, b)
}

func TestClient(t *testing.T) {
	m, srv := newSite(t)
	c := latchtest.Client(t, m, srv, &user{"1", true})
	if got := get(t, c, srv.URL+"/private"); got != "200 1 fresh=true" {
		t.Fatalf("logged-in client: %q", got)
	}
	// Login options are passed on.
	stale := latchtest.Client(t, m, srv, &user{"1", true}, latch.Fresh(false))
	if got := get(t, stale, srv.URL+"/private"); got != "200 1 fresh=false" {
		t.Fatalf("login options: %q", got)
	}
	// A plain client is not logged in.
	res, err := srv.Client().Get(srv.URL + "/private")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/login" {
		t.Fatalf("an anonymous request ended at %s", res.Request.URL.Path)
	}
}

func TestRequest(t *testing.T) {
	m, srv := newSite(t)
	r := latchtest.Request(t, m, httptest.NewRequest("GET", "/private", nil), &user{"1", true}, latch.Remember(true))
	if len(r.Cookies()) != 2 {
		t.Fatalf("cookies %v, want the session and remember-me cookies", r.Cookies())
	}
	rec := httptest.NewRecorder()
	srv.Config.Handler.ServeHTTP(rec, r)
	if rec.Code != 200 || rec.Body.String() != "1 fresh=true" {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
}

// fakeT records a fatal failure instead of stopping the test.
type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper()                        {}
func (f *fakeT) Fatalf(format string, a ...any) { f.failed = fmt.Sprintf(format, a...); panic(f) }

func TestInactiveUserFails(t *testing.T) {
	m, _ := newSite(t)
	ft := &fakeT{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != any(ft) {
				panic(r)
			}
		}()
		latchtest.Cookies(ft, m, &user{"2", false})
	}()
	if ft.failed == "" {
		t.Fatal("logging an inactive user in did not fail the test")
	}
}
