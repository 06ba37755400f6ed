// Package latchtest helps an application test its pages behind a
// latch.Manager, the way Flask-Login's FlaskLoginClient does: one call
// logs a user in for a request or a client, through the manager itself,
// so the test exercises the real session and cookie.
//
//	srv := httptest.NewServer(m.Handler(mux))
//	client := latchtest.Client(t, m, srv, alice)
//	res, _ := client.Get(srv.URL + "/profile") // logged in as alice
//
// The manager must use a store both the test and the server see (any
// store does in one process: memstore, sqlite, …).
//
// For tests of whole flows — the login form itself, "remember me" across a
// browser restart, logout — a [Browser] drives the server as a browser
// does.
package latchtest

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/latchgo/latch"
)

// Cookies logs u in through m, as a login handler calling LoginUser would,
// and returns the cookies the response set: the session cookie, and the
// remember-me cookie with latch.Remember(true). The login comes from the
// address and User-Agent of an http.Client on this machine, so session
// protection accepts the test's requests as the same client. It fails the
// test if the login fails (an inactive user without latch.Force(), say).
func Cookies[U latch.User](t testing.TB, m *latch.Manager[U], u U, opts ...latch.LoginOption) []*http.Cookie {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("User-Agent", goUserAgent)
	return login(t, m, r, u, opts)
}

// goUserAgent is the User-Agent net/http's client sends by default.
const goUserAgent = "Go-http-client/1.1"

// login runs LoginUser for a request that looks like like.
func login[U latch.User](t testing.TB, m *latch.Manager[U], like *http.Request, u U, opts []latch.LoginOption) []*http.Cookie {
	t.Helper()
	var err error
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err = m.LoginUser(w, r, u, opts...)
	}))
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.RemoteAddr = like.RemoteAddr
	req.Header.Set("User-Agent", like.UserAgent())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if err != nil {
		t.Fatalf("latchtest: log %s in: %v", u.GetID(), err)
	}
	var out []*http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		t.Fatalf("latchtest: logging %s in set no cookie", u.GetID())
	}
	return out
}

// Request returns r with the cookies of a new login of u added, for
// calling a handler directly with httptest.NewRecorder. The login comes
// from r's address and User-Agent.
func Request[U latch.User](t testing.TB, m *latch.Manager[U], r *http.Request, u U, opts ...latch.LoginOption) *http.Request {
	t.Helper()
	r = r.Clone(r.Context())
	for _, c := range login(t, m, r, u, opts) {
		r.AddCookie(c)
	}
	return r
}

// Client returns an HTTP client for srv, logged in as u: its cookie jar
// holds the cookies of a new login, and it does not follow redirects, so
// a test sees each answer (a 303 to the login page, say) as it is.
func Client[U latch.User](t testing.TB, m *latch.Manager[U], srv *httptest.Server, u U, opts ...latch.LoginOption) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	jar.SetCookies(base, Cookies(t, m, u, opts...))
	return &http.Client{
		Transport:     srv.Client().Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
