package latchtest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Browser drives a test server the way a browser does, for tests of whole
// flows (log in, follow the redirect, come back after a restart): it keeps
// cookies, does not follow redirects, so the test sees each 303 as it is,
// and marks its requests as coming from the site itself (Sec-Fetch-Site:
// same-origin), as http.CrossOriginProtection expects of a browser.
//
//	b := latchtest.NewBrowser(t, srv)
//	res := b.Post("/login", url.Values{"email": {"ann@example.com"}, "password": {pw}, "remember": {"1"}})
//	b.Restart()         // session cookies are gone, "remember me" is not
//	b.Get("/profile")   // logged in again by the remember-me cookie
type Browser struct {
	t    testing.TB
	base *url.URL
	// Client is the browser's HTTP client; its Jar holds the cookies.
	Client *http.Client

	mu        sync.Mutex
	persisted map[string]bool // cookies last set with an expiry, by name
}

// NewBrowser returns a Browser with no cookies for srv.
func NewBrowser(t testing.TB, srv *httptest.Server) *Browser {
	t.Helper()
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{t: t, base: base, persisted: map[string]bool{}}
	b.Client = &http.Client{
		Transport:     srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	b.Client.Jar = b.newJar(nil)
	return b
}

func (b *Browser) newJar(keep []*http.Cookie) http.CookieJar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		b.t.Fatal(err)
	}
	jar.SetCookies(b.base, keep)
	return jar
}

// Response is an answer with its body read.
type Response struct {
	*http.Response
	Body string
}

// Get requests path (with its query) from the server.
func (b *Browser) Get(path string) *Response {
	b.t.Helper()
	return b.Do(b.Request(http.MethodGet, path, nil))
}

// Post submits a form to path, as a browser submits a form of the site.
func (b *Browser) Post(path string, form url.Values) *Response {
	b.t.Helper()
	r := b.Request(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(r)
}

// Request returns a request for path on the server, from the site itself,
// for the test to change before Do (a header, another origin).
func (b *Browser) Request(method, path string, body io.Reader) *http.Request {
	b.t.Helper()
	r, err := http.NewRequest(method, b.base.String()+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	return r
}

// Do sends r with the browser's cookies and keeps those the answer sets.
func (b *Browser) Do(r *http.Request) *Response {
	b.t.Helper()
	res, err := b.Client.Do(r)
	if err != nil {
		b.t.Fatalf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("%s %s: read the answer: %v", r.Method, r.URL.Path, err)
	}
	b.mu.Lock()
	for _, c := range res.Cookies() {
		b.persisted[c.Name] = c.MaxAge > 0 || !c.Expires.IsZero()
	}
	b.mu.Unlock()
	return &Response{Response: res, Body: string(body)}
}

// Cookie returns the value of the cookie name the browser would send, or
// "".
func (b *Browser) Cookie(name string) string {
	for _, c := range b.Client.Jar.Cookies(b.base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// SetCookie makes the browser send a cookie, as one copied from another
// browser would be.
func (b *Browser) SetCookie(name, value string) {
	b.Client.Jar.SetCookies(b.base, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// Restart closes and reopens the browser: cookies set without an expiry
// (session cookies) are gone, the others are kept.
func (b *Browser) Restart() {
	b.mu.Lock()
	defer b.mu.Unlock()
	var keep []*http.Cookie
	for _, c := range b.Client.Jar.Cookies(b.base) {
		if b.persisted[c.Name] {
			keep = append(keep, &http.Cookie{Name: c.Name, Value: c.Value, Path: "/", MaxAge: 3600})
		}
	}
	b.Client.Jar = b.newJar(keep)
}
