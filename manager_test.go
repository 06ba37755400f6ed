package latch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/memstore"
)

type testUser struct {
	id     string
	active bool
	epoch  int64
}

func (u *testUser) GetID() string          { return u.id }
func (u *testUser) IsActive() bool         { return u.active }
func (u *testUser) CredentialEpoch() int64 { return u.epoch }

// bump raises a user's credential epoch, as an application's revocation
// does, and returns a copy of the user as it is now.
func (h *harness) bump(id string) *testUser {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.users[id].epoch++
	cp := *h.users[id]
	return &cp
}

// clock is a settable time source shared by the manager and the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

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

// harness is a small site on an httptest server: a user table in a map,
// the manager in front, and endpoints that call the library.
type harness struct {
	t      *testing.T
	m      *latch.Manager[*testUser]
	store  *memstore.Store
	clock  *clock
	srv    *httptest.Server
	mu     sync.Mutex
	users  map[string]*testUser
	events []latch.Event[*testUser]
}

func newHarness(t *testing.T, configure ...func(*latch.Manager[*testUser])) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		store: memstore.New(),
		clock: &clock{now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)},
		users: map[string]*testUser{
			"alice": {id: "alice", active: true},
			"bob":   {id: "bob", active: true},
			"carol": {id: "carol", active: false},
		},
	}
	h.m = latch.New(h.store, func(_ context.Context, id string) (*testUser, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		u, ok := h.users[id]
		if !ok {
			return nil, fmt.Errorf("load %q: %w", id, latch.ErrNoUser)
		}
		cp := *u
		return &cp, nil
	})
	h.m.Now = h.clock.Now
	h.m.RequestLoader = func(r *http.Request) (*testUser, error) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			return nil, latch.ErrNoUser
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if u, ok := h.users[strings.TrimPrefix(tok, "token-")]; ok && strings.HasPrefix(tok, "token-") {
			cp := *u
			return &cp, nil
		}
		return nil, latch.ErrNoUser
	}
	for _, c := range configure {
		c(h.m)
	}
	h.m.Subscribe(func(_ *http.Request, e latch.Event[*testUser]) {
		h.mu.Lock()
		h.events = append(h.events, e)
		h.mu.Unlock()
	})

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/{id}", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		u, ok := h.users[r.PathValue("id")]
		h.mu.Unlock()
		if !ok {
			http.Error(w, "no such user", http.StatusNotFound)
			return
		}
		var opts []latch.LoginOption
		if r.FormValue("remember") == "1" {
			opts = append(opts, latch.Remember(true))
		}
		if r.FormValue("force") == "1" {
			opts = append(opts, latch.Force())
		}
		if r.FormValue("fresh") == "0" {
			opts = append(opts, latch.Fresh(false))
		}
		if d := r.FormValue("duration"); d != "" {
			dur, _ := time.ParseDuration(d)
			opts = append(opts, latch.Duration(dur))
		}
		if err := h.m.LoginUser(w, r, u, opts...); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := h.m.LogoutUser(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "bye")
	})
	mux.HandleFunc("POST /confirm", func(w http.ResponseWriter, r *http.Request) {
		if err := h.m.ConfirmLogin(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "fresh")
	})
	mux.HandleFunc("POST /flash", func(w http.ResponseWriter, r *http.Request) {
		if err := h.m.AddFlash(w, r, r.FormValue("category"), r.FormValue("message")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /flashes", func(w http.ResponseWriter, r *http.Request) {
		f, err := h.m.Flashes(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(f)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		u, ok := h.m.CurrentUser(r)
		if !ok {
			fmt.Fprint(w, "anonymous")
			return
		}
		fmt.Fprintf(w, "%s %s fresh=%v", u.id, h.m.Source(r), h.m.IsFresh(r))
	})
	mux.HandleFunc("POST /revoke-others", func(w http.ResponseWriter, r *http.Request) {
		u, ok := h.m.CurrentUser(r)
		if !ok {
			http.Error(w, "anonymous", http.StatusForbidden)
			return
		}
		if err := h.m.RevokeOtherSessions(w, r, h.bump(u.id)); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
		}
	})
	mux.Handle("/private", h.m.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "private")
	})))
	mux.Handle("/settings", h.m.RequireFresh(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "settings")
	})))
	h.srv = httptest.NewServer(h.m.Handler(mux))
	t.Cleanup(h.srv.Close)
	return h
}

// browser is an HTTP client with its own cookie jar that does not follow
// redirects, like a browser tab whose requests we inspect one by one.
type browser struct {
	h      *harness
	client *http.Client
	ua     string
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, ua: "test-browser/1.0", client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(method, path string, header ...string) (*http.Response, string) {
	b.h.t.Helper()
	req, err := http.NewRequest(method, b.h.srv.URL+path, nil)
	if err != nil {
		b.h.t.Fatal(err)
	}
	req.Header.Set("User-Agent", b.ua)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(body)
}

func (b *browser) me() string {
	b.h.t.Helper()
	_, body := b.do("GET", "/me")
	return body
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.h.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.h.srv.URL)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// restart forgets the session cookie, as closing the browser does; the
// persistent remember-me cookie stays.
func (b *browser) restart() {
	u, _ := url.Parse(b.h.srv.URL)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "latch_session", Path: "/", MaxAge: -1}})
}

func setCookieHeader(res *http.Response, name string) string {
	for _, v := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, name+"=") {
			return v
		}
	}
	return ""
}

func (h *harness) eventKinds() []latch.EventKind {
	h.mu.Lock()
	defer h.mu.Unlock()
	var k []latch.EventKind
	for _, e := range h.events {
		k = append(k, e.Kind)
	}
	return k
}

func (h *harness) hasEvent(kind latch.EventKind) bool {
	for _, k := range h.eventKinds() {
		if k == kind {
			return true
		}
	}
	return false
}

func TestAnonymousRequest(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	res, body := b.do("GET", "/me")
	if body != "anonymous" {
		t.Fatalf("body = %q", body)
	}
	if len(res.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("anonymous request got cookies: %v", res.Header.Values("Set-Cookie"))
	}
	if res.Header.Get("Cache-Control") == "no-store" {
		t.Fatal("anonymous page marked no-store; only authenticated ones should be")
	}
}

func TestLoginSetsSessionCookie(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	res, body := b.do("POST", "/login/alice")
	if body != "ok" {
		t.Fatalf("login: %d %q", res.StatusCode, body)
	}
	sc := setCookieHeader(res, "latch_session")
	for _, want := range []string{"Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	for _, bad := range []string{"Max-Age", "Expires", "Domain"} {
		if strings.Contains(sc, bad) {
			t.Errorf("session cookie %q has %s; it must end with the browser", sc, bad)
		}
	}
	if setCookieHeader(res, "latch_remember") != "" {
		t.Error("remember cookie set without remember me")
	}
	if got := b.me(); got != "alice session fresh=true" {
		t.Fatalf("me = %q", got)
	}
	res, _ = b.do("GET", "/me")
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("authenticated response Cache-Control = %q, want no-store", res.Header.Get("Cache-Control"))
	}
	if !h.hasEvent(latch.EventLoggedIn) {
		t.Error("no EventLoggedIn")
	}
}

func TestSecureCookiesGetHostPrefix(t *testing.T) {
	h := newHarness(t, func(m *latch.Manager[*testUser]) {
		m.Session.Cookie.Secure = true
		m.Remember.Cookie.Secure = true
	})
	b := h.browser()
	res, _ := b.do("POST", "/login/alice?remember=1")
	for _, name := range []string{"__Host-latch_session", "__Host-latch_remember"} {
		sc := setCookieHeader(res, name)
		if sc == "" || !strings.Contains(sc, "Secure") || strings.Contains(sc, "Domain") {
			t.Errorf("cookie %s: %q", name, sc)
		}
	}
}

func TestLoginRenewsSessionID(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	// An anonymous session (a flash message) exists before login, as does
	// a session id an attacker planted.
	b.do("POST", "/flash?message=hello")
	before := b.cookie("latch_session").Value
	res, _ := b.do("POST", "/login/alice")
	after := b.cookie("latch_session").Value
	if after == before {
		t.Fatal("login kept the pre-login session id (fixation)")
	}
	if res.StatusCode != 200 {
		t.Fatal(res.Status)
	}
	// The old id is dead server-side, even if replayed.
	other := h.browser()
	other.setCookie("latch_session", before)
	if got := other.me(); got != "anonymous" {
		t.Fatalf("pre-login session id still works: %q", got)
	}
	// Flash messages survive the switch.
	_, body := b.do("GET", "/flashes")
	if !strings.Contains(body, "hello") {
		t.Fatalf("flash lost at login: %q", body)
	}

	// A planted, never-issued id is ignored and replaced.
	c := h.browser()
	planted := latch.NewToken(32)
	c.setCookie("latch_session", planted)
	c.do("POST", "/login/bob")
	if c.cookie("latch_session").Value == planted {
		t.Fatal("login adopted a client-chosen session id")
	}
}

func TestLogoutEndsSessionServerSide(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.do("POST", "/login/alice?remember=1")
	sess := b.cookie("latch_session").Value
	rem := b.cookie("latch_remember").Value
	res, _ := b.do("POST", "/logout")
	if got := res.Header.Get("Clear-Site-Data"); got != `"cache", "cookies", "storage"` {
		t.Errorf("Clear-Site-Data = %q", got)
	}
	for _, name := range []string{"latch_session", "latch_remember"} {
		if sc := setCookieHeader(res, name); !strings.Contains(sc, "Max-Age=0") {
			t.Errorf("logout did not expire %s: %q", name, sc)
		}
	}
	if got := b.me(); got != "anonymous" {
		t.Fatalf("after logout: %q", got)
	}
	// Replaying both saved cookies gets nowhere: they were revoked
	// server-side, not just cleared in the browser.
	thief := h.browser()
	thief.setCookie("latch_session", sess)
	thief.setCookie("latch_remember", rem)
	if got := thief.me(); got != "anonymous" {
		t.Fatalf("replayed cookies after logout: %q", got)
	}
	if !h.hasEvent(latch.EventLoggedOut) {
		t.Error("no EventLoggedOut")
	}
}

func TestRememberMeRestoresAndRotates(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	res, _ := b.do("POST", "/login/alice?remember=1")
	sc := setCookieHeader(res, "latch_remember")
	if !strings.Contains(sc, "Max-Age=2592000") || !strings.Contains(sc, "HttpOnly") {
		t.Fatalf("remember cookie = %q, want 30 days and HttpOnly", sc)
	}
	first := b.cookie("latch_remember").Value
	b.restart()
	if got := b.me(); got != "alice remember fresh=false" {
		t.Fatalf("after restart: %q", got)
	}
	second := b.cookie("latch_remember").Value
	if second == first {
		t.Fatal("remember token not rotated on use")
	}
	if b.cookie("latch_session") == nil {
		t.Fatal("no session started from the remember token")
	}
	if got := b.me(); got != "alice session fresh=false" {
		t.Fatalf("next request: %q", got)
	}
	if !h.hasEvent(latch.EventLoadedFromRemember) {
		t.Error("no EventLoadedFromRemember")
	}
	// The rotated-to token works after another restart.
	b.restart()
	if got := b.me(); got != "alice remember fresh=false" {
		t.Fatalf("second restore: %q", got)
	}
}

func TestRememberTheftRevokesSeries(t *testing.T) {
	h := newHarness(t)
	victim := h.browser()
	victim.do("POST", "/login/alice?remember=1")
	stolen := victim.cookie("latch_remember").Value

	// The victim comes back later and uses the token: it rotates.
	h.clock.Advance(time.Hour)
	victim.restart()
	if got := victim.me(); !strings.HasPrefix(got, "alice") {
		t.Fatalf("victim restore: %q", got)
	}

	// The thief replays the copy after the grace window.
	h.clock.Advance(time.Minute)
	thief := h.browser()
	thief.setCookie("latch_remember", stolen)
	res, body := thief.do("GET", "/me")
	if body != "anonymous" {
		t.Fatalf("stolen token logged in: %q", body)
	}
	if sc := setCookieHeader(res, "latch_remember"); !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("stolen cookie not cleared: %q", sc)
	}
	if !h.hasEvent(latch.EventRememberTheft) {
		t.Fatal("no EventRememberTheft")
	}
	// The whole series is gone: the victim's session that the series
	// started, and the victim's current token.
	if got := victim.me(); got != "anonymous" {
		t.Fatalf("victim's series session survived theft detection: %q", got)
	}
	victim.restart()
	if got := victim.me(); got != "anonymous" {
		t.Fatalf("victim's current token survived theft detection: %q", got)
	}
}

func TestRememberGraceForConcurrentTabs(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.do("POST", "/login/alice?remember=1")
	old := b.cookie("latch_remember").Value
	b.restart()
	b.me() // rotates
	// A second tab restored at the same moment still holds the old token.
	h.clock.Advance(5 * time.Second)
	tab := h.browser()
	tab.setCookie("latch_remember", old)
	res, body := tab.do("GET", "/me")
	if body != "alice remember fresh=false" {
		t.Fatalf("concurrent tab within grace: %q", body)
	}
	if sc := setCookieHeader(res, "latch_remember"); sc != "" {
		t.Fatalf("grace use set a remember cookie: %q", sc)
	}
	if h.hasEvent(latch.EventRememberTheft) {
		t.Fatal("concurrent tab taken for theft")
	}
	// The owner's rotated token still works.
	b.restart()
	if got := b.me(); !strings.HasPrefix(got, "alice remember") {
		t.Fatalf("owner after grace use: %q", got)
	}
}

func TestRememberConcurrentRestores(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.do("POST", "/login/alice?remember=1")
	value := b.cookie("latch_remember").Value
	var wg sync.WaitGroup
	results := make([]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tab := h.browser()
			tab.setCookie("latch_remember", value)
			req, _ := http.NewRequest("GET", h.srv.URL+"/me", nil)
			res, err := tab.client.Do(req)
			if err != nil {
				results[i] = err.Error()
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			results[i] = string(body)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r != "alice remember fresh=false" {
			t.Errorf("tab %d: %q", i, r)
		}
	}
	toks, _ := h.store.UserRemember(context.Background(), "alice", h.clock.Now())
	if len(toks) != 1 {
		t.Fatalf("%d current tokens after concurrent restores, want 1", len(toks))
	}
}

func TestRememberExpiresAbsolutely(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.do("POST", "/login/alice?remember=1&duration=48h")
	for range 3 {
		h.clock.Advance(20 * time.Hour)
		b.restart()
		if got := b.me(); !strings.HasPrefix(got, "alice") && h.clock.Now().Before(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)) {
			t.Fatalf("remember failed early: %q", got)
		}
	}
	// 60 hours after login, past the 48h series life despite regular use.
	b.restart()
	if got := b.me(); got != "anonymous" {
		t.Fatalf("remember outlived its duration: %q", got)
	}
}

func TestInvalidRememberCookieIsClearedAndRequestLoaderStillRuns(t *testing.T) {
	h := newHarness(t)
	for _, v := range []string{"garbage", latch.NewToken(16) + "." + latch.NewToken(32), strings.Repeat("A", 5000)} {
		b := h.browser()
		b.setCookie("latch_remember", v)
		res, body := b.do("GET", "/me", "Authorization", "Bearer token-bob")
		if body != "bob request fresh=false" {
			t.Fatalf("cookie %.20q blocked the request loader: %q", v, body)
		}
		if sc := setCookieHeader(res, "latch_remember"); !strings.Contains(sc, "Max-Age=0") {
			t.Errorf("invalid remember cookie not cleared: %q", sc)
		}
	}
	// A known selector with a wrong validator is refused too.
	b := h.browser()
	b.do("POST", "/login/alice?remember=1")
	sel, _, _ := latch.ParseRememberToken(b.cookie("latch_remember").Value)
	forger := h.browser()
	forger.setCookie("latch_remember", sel+"."+latch.NewToken(32))
	if got := forger.me(); got != "anonymous" {
		t.Fatalf("forged validator accepted: %q", got)
	}
}

func TestLoginAsAnotherUserReplacesRememberToken(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.do("POST", "/login/alice?remember=1")
	aliceToken := b.cookie("latch_remember").Value
	b.do("POST", "/login/bob")
	if c := b.cookie("latch_remember"); c != nil {
		t.Fatalf("alice's remember cookie kept after bob logged in: %v", c)
	}
	toks, _ := h.store.UserRemember(context.Background(), "alice", h.clock.Now())
	if len(toks) != 0 {
		t.Fatalf("alice's remember token not revoked: %d left", len(toks))
	}
	c := h.browser()
	c.setCookie("latch_remember", aliceToken)
	if got := c.me(); got != "anonymous" {
		t.Fatalf("replaced token still works: %q", got)
	}
}

func TestRequireLogin(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, method string
		header       []string
		status       int
		location     string
		contentType  string
	}{
		{"browser", "GET", []string{"Accept", "text/html"}, 303, "/login?next=%2Fprivate%3Fa%3D1", ""},
		{"curl", "GET", nil, 303, "/login?next=%2Fprivate%3Fa%3D1", ""},
		{"json", "GET", []string{"Accept", "application/json"}, 401, "", "application/json"},
		{"bearer", "GET", []string{"Authorization", "Bearer nope"}, 401, "", "application/json"},
		{"fetch", "GET", []string{"Sec-Fetch-Mode", "cors", "Sec-Fetch-Dest", "empty"}, 401, "", "application/json"},
		{"post has no next", "POST", nil, 303, "/login", ""},
		{"options exempt", "OPTIONS", nil, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := h.browser()
			res, body := b.do(tt.method, "/private?a=1", tt.header...)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%q)", res.StatusCode, tt.status, body)
			}
			if got := res.Header.Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			if tt.contentType != "" {
				if got := res.Header.Get("Content-Type"); got != tt.contentType {
					t.Errorf("Content-Type %q", got)
				}
				var v struct{ Error string }
				if err := json.Unmarshal([]byte(body), &v); err != nil || v.Error == "" {
					t.Errorf("body %q is not {\"error\": ...}", body)
				}
			}
			if tt.status == 303 {
				_, flashes := b.do("GET", "/flashes")
				if !strings.Contains(flashes, "Please log in to access this page.") || !strings.Contains(flashes, `"c":"message"`) {
					t.Errorf("login message not flashed: %q", flashes)
				}
			}
		})
	}
	b := h.browser()
	b.do("POST", "/login/alice")
	if _, body := b.do("GET", "/private"); body != "private" {
		t.Fatalf("logged in: %q", body)
	}
	if !h.hasEvent(latch.EventUnauthorized) {
		t.Error("no EventUnauthorized")
	}
}

func TestUseSessionForNext(t *testing.T) {
	h := newHarness(t, func(m *latch.Manager[*testUser]) { m.Login.UseSessionForNext = true })
	var got string
	mux := http.NewServeMux()
	mux.HandleFunc("/next", func(w http.ResponseWriter, r *http.Request) {
		got, _ = h.m.NextFromSession(w, r)
	})
	mux.Handle("/", h.srv.Config.Handler)
	h.srv.Config.Handler = h.m.Handler(mux)
	b := h.browser()
	res, _ := b.do("GET", "/private?x=1")
	if loc := res.Header.Get("Location"); loc != "/login" {
		t.Fatalf("Location = %q, want bare /login", loc)
	}
	b.do("GET", "/next")
	if got != "/private?x=1" {
		t.Fatalf("next from session = %q", got)
	}
}

func TestRequireFreshAndConfirmLogin(t *testing.T) {
	h := newHarness(t, func(m *latch.Manager[*testUser]) { m.Login.RefreshView = "/reauth" })
	b := h.browser()
	if res, _ := b.do("GET", "/settings"); res.Header.Get("Location") != "/login?next=%2Fsettings" {
		t.Fatalf("anonymous → %q", res.Header.Get("Location"))
	}
	b.do("POST", "/login/alice?remember=1")
	if _, body := b.do("GET", "/settings"); body != "settings" {
		t.Fatalf("fresh login refused: %q", body)
	}
	b.restart() // back through the remember cookie: not fresh
	res, _ := b.do("GET", "/settings")
	if res.StatusCode != 303 || res.Header.Get("Location") != "/reauth?next=%2Fsettings" {
		t.Fatalf("stale login → %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, flashes := b.do("GET", "/flashes"); !strings.Contains(flashes, "Please reauthenticate") {
		t.Errorf("needs-refresh message not flashed: %q", flashes)
	}
	if res, _ := b.do("GET", "/settings", "Accept", "application/json"); res.StatusCode != 401 {
		t.Errorf("stale JSON client: %d", res.StatusCode)
	}
	before := b.cookie("latch_session").Value
	if _, body := b.do("POST", "/confirm"); body != "fresh" {
		t.Fatalf("confirm: %q", body)
	}
	if b.cookie("latch_session").Value == before {
		t.Error("ConfirmLogin kept the session id")
	}
	if _, body := b.do("GET", "/settings"); body != "settings" {
		t.Fatalf("after confirm: %q", body)
	}
	if !h.hasEvent(latch.EventNeedsRefresh) || !h.hasEvent(latch.EventLoginConfirmed) {
		t.Errorf("events: %v", h.eventKinds())
	}
	// API clients are never fresh.
	api := h.browser()
	if res, _ := api.do("GET", "/settings", "Authorization", "Bearer token-alice"); res.StatusCode != 401 {
		t.Errorf("API token passed RequireFresh: %d", res.StatusCode)
	}
	// login_user(fresh=False)
	c := h.browser()
	c.do("POST", "/login/bob?fresh=0")
	if got := c.me(); got != "bob session fresh=false" {
		t.Errorf("Fresh(false): %q", got)
	}
}

func TestFreshTimeout(t *testing.T) {
	h := newHarness(t, func(m *latch.Manager[*testUser]) { m.Session.FreshTimeout = 10 * time.Minute })
	b := h.browser()
	b.do("POST", "/login/alice")
	h.clock.Advance(9 * time.Minute)
	if got := b.me(); got != "alice session fresh=true" {
		t.Fatalf("%q", got)
	}
	h.clock.Advance(2 * time.Minute)
	if got := b.me(); got != "alice session fresh=false" {
		t.Fatalf("fresh after FreshTimeout: %q", got)
	}
}

func TestSessionProtection(t *testing.T) {
	t.Run("basic marks not fresh", func(t *testing.T) {
		h := newHarness(t)
		b := h.browser()
		b.do("POST", "/login/alice")
		b.ua = "another-browser/2.0"
		if got := b.me(); got != "alice session fresh=false" {
			t.Fatalf("%q", got)
		}
		if !h.hasEvent(latch.EventSessionProtected) {
			t.Error("no EventSessionProtected")
		}
	})
	t.Run("strong ends the session", func(t *testing.T) {
		h := newHarness(t, func(m *latch.Manager[*testUser]) { m.Session.Protection = latch.ProtectionStrong })
		b := h.browser()
		b.do("POST", "/login/alice")
		b.ua = "another-browser/2.0"
		if got := b.me(); got != "anonymous" {
			t.Fatalf("%q", got)
		}
	})
	t.Run("strong keeps remember me working", func(t *testing.T) {
		h := newHarness(t, func(m *latch.Manager[*testUser]) { m.Session.Protection = latch.ProtectionStrong })
		b := h.browser()
		b.do("POST", "/login/alice?remember=1")
		b.ua = "another-browser/2.0"
		if got := b.me(); got != "alice remember fresh=false" {
			t.Fatalf("%q", got)
		}
		if got := b.me(); got != "alice session fresh=false" {
			t.Fatalf("next request: %q", got)
		}
	})
	t.Run("anonymous sessions untouched", func(t *testing.T) {
		h := newHarness(t, func(m *latch.Manager[*testUser]) { m.Session.Protection = latch.ProtectionStrong })
		b := h.browser()
		b.do("POST", "/flash?message=kept")
		b.ua = "another-browser/2.0"
		if _, body := b.do("GET", "/flashes"); !strings.Contains(body, "kept") {
			t.Fatalf("anonymous session lost: %q", body)
		}
	})
	t.Run("none", func(t *testing.T) {
		h := newHarness(t, func(m *latch.Manager[*testUser]) { m.Session.Protection = latch.ProtectionNone })
		b := h.browser()
		b.do("POST", "/login/alice")
		b.ua = "another-browser/2.0"
		if got := b.me(); got != "alice session fresh=true" {
			t.Fatalf("%q", got)
		}
	})
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	h := newHarness(t, func(m *latch.Manager[*testUser]) {
		m.Session.IdleTimeout = 10 * time.Minute
		m.Session.AbsoluteTimeout = time.Hour
	})
	b := h.browser()
	b.do("POST", "/login/alice")
	h.clock.Advance(9 * time.Minute)
	if got := b.me(); !strings.HasPrefix(got, "alice") {
		t.Fatalf("within idle: %q", got)
	}
	h.clock.Advance(11 * time.Minute)
	if got := b.me(); got != "anonymous" {
		t.Fatalf("after idle timeout: %q", got)
	}

	// Busy all the time, but the absolute limit still ends the session.
	b.do("POST", "/login/alice")
	for range 12 {
		h.clock.Advance(5 * time.Minute)
		if got := b.me(); !strings.HasPrefix(got, "alice") && h.clock.Now().Sub(time.Date(2026, 11, 27, 9, 20, 0, 0, time.UTC)) < time.Hour {
			t.Fatalf("ended early at %v: %q", h.clock.Now(), got)
		}
	}
	if got := b.me(); got != "anonymous" {
		t.Fatalf("after absolute timeout: %q", got)
	}
}

func TestInactiveUsers(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	if res, body := b.do("POST", "/login/carol"); res.StatusCode != 403 || !strings.Contains(body, "inactive") {
		t.Fatalf("inactive login: %d %q", res.StatusCode, body)
	}
	if _, body := b.do("POST", "/login/carol?force=1"); body != "ok" {
		t.Fatalf("forced login: %q", body)
	}

	// A user deactivated while logged in loses the session, and the
	// remember token, on the next request.
	a := h.browser()
	a.do("POST", "/login/alice?remember=1")
	h.mu.Lock()
	h.users["alice"].active = false
	h.mu.Unlock()
	if got := a.me(); got != "anonymous" {
		t.Fatalf("deactivated user still in: %q", got)
	}
	a.restart()
	if got := a.me(); got != "anonymous" {
		t.Fatalf("deactivated user back through remember me: %q", got)
	}
	if _, body := a.do("GET", "/me", "Authorization", "Bearer token-alice"); body != "anonymous" {
		t.Fatalf("deactivated user through request loader: %q", body)
	}

	// A deleted user: the loader reports ErrNoUser.
	d := h.browser()
	d.do("POST", "/login/bob")
	h.mu.Lock()
	delete(h.users, "bob")
	h.mu.Unlock()
	if got := d.me(); got != "anonymous" {
		t.Fatalf("deleted user still in: %q", got)
	}
}

func TestRequestLoader(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	res, body := b.do("GET", "/me", "Authorization", "Bearer token-bob")
	if body != "bob request fresh=false" {
		t.Fatalf("%q", body)
	}
	if len(res.Header.Values("Set-Cookie")) != 0 {
		t.Fatal("request loader started a session")
	}
	if !h.hasEvent(latch.EventLoadedFromRequest) {
		t.Error("no EventLoadedFromRequest")
	}
	// A session user wins over the request loader.
	b.do("POST", "/login/alice")
	if _, body := b.do("GET", "/me", "Authorization", "Bearer token-bob"); !strings.HasPrefix(body, "alice") {
		t.Fatalf("%q", body)
	}
}

func TestFlashesAreOneShot(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.do("POST", "/flash?category=error&message=%3Cb%3Eone")
	b.do("POST", "/flash?message=two")
	_, body := b.do("GET", "/flashes")
	var f []latch.Flash
	if err := json.Unmarshal([]byte(body), &f); err != nil || len(f) != 2 || f[0] != (latch.Flash{Category: "error", Message: "<b>one"}) {
		t.Fatalf("flashes = %q", body)
	}
	if _, body := b.do("GET", "/flashes"); body != "null\n" {
		t.Fatalf("flashes shown twice: %q", body)
	}
}

func TestRevocation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	laptop, phone, tablet := h.browser(), h.browser(), h.browser()
	laptop.do("POST", "/login/alice?remember=1")
	phone.do("POST", "/login/alice?remember=1")
	tablet.do("POST", "/login/alice")
	sessions, err := h.m.UserSessions(ctx, "alice")
	if err != nil || len(sessions) != 3 {
		t.Fatalf("UserSessions = %d, %v", len(sessions), err)
	}
	// bob cannot revoke alice's session.
	if ok, _ := h.m.RevokeSession(ctx, "bob", sessions[0].Hash); ok {
		t.Fatal("bob revoked alice's session")
	}
	// Revoking the phone's session also revokes its remember token.
	var phoneHash string
	for _, s := range sessions {
		if s.Series != "" && phone.cookie("latch_session") != nil && s.Hash == latch.HashToken(phone.cookie("latch_session").Value) {
			phoneHash = s.Hash
		}
	}
	if ok, err := h.m.RevokeSession(ctx, "alice", phoneHash); !ok || err != nil {
		t.Fatalf("RevokeSession = %v, %v", ok, err)
	}
	if got := phone.me(); got != "anonymous" {
		t.Fatalf("revoked phone: %q", got)
	}
	phone.restart()
	if got := phone.me(); got != "anonymous" {
		t.Fatalf("revoked phone's remember token still works: %q", got)
	}
	// "Log out everywhere else" from the laptop.
	if res, _ := laptop.do("POST", "/revoke-others"); res.StatusCode != 200 {
		t.Fatal(res.Status)
	}
	if got := tablet.me(); got != "anonymous" {
		t.Fatalf("tablet survived: %q", got)
	}
	if got := laptop.me(); !strings.HasPrefix(got, "alice") {
		t.Fatalf("laptop lost its own session: %q", got)
	}
	if toks, _ := h.m.UserRememberTokens(ctx, "alice"); len(toks) != 0 {
		t.Fatalf("%d remember tokens left", len(toks))
	}
	// RevokeUser ends the rest.
	if err := h.m.RevokeUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := laptop.me(); got != "anonymous" {
		t.Fatalf("laptop after RevokeUser: %q", got)
	}
}

func TestDeleteExpired(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.do("POST", "/login/alice?remember=1&duration=1h")
	h.clock.Advance(13 * time.Hour)
	s, r, err := h.m.DeleteExpired(context.Background())
	if err != nil || s != 1 || r != 1 {
		t.Fatalf("DeleteExpired = %d, %d, %v", s, r, err)
	}
}

// failingStore fails every call, like a database that went away.
type failingStore struct{ *memstore.Store }

var errDown = errors.New("connection refused: secret dsn postgres://u:pw@db")

func (failingStore) FindSession(context.Context, string, time.Time) (latch.Session, bool, error) {
	return latch.Session{}, false, errDown
}

func (failingStore) CreateSession(context.Context, latch.Session) error { return errDown }

func (failingStore) UpdateSession(context.Context, latch.Session) (bool, error) {
	return false, errDown
}

func TestStoreErrorsNeverLeak(t *testing.T) {
	m := latch.New[*testUser](failingStore{memstore.New()}, func(context.Context, string) (*testUser, error) {
		return nil, latch.ErrNoUser
	})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Fatal("handler ran although the session could not be loaded")
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "latch_session", Value: latch.NewToken(32)})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") || strings.Contains(rec.Body.String(), "refused") {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
	var got error
	m.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(503)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 503 || !errors.Is(got, errDown) {
		t.Fatalf("ErrorHandler: %d, %v", rec.Code, got)
	}
}

func TestWithoutMiddleware(t *testing.T) {
	m := latch.New[*testUser](memstore.New(), func(context.Context, string) (*testUser, error) {
		return nil, latch.ErrNoUser
	})
	r := httptest.NewRequest("GET", "/", nil)
	if _, ok := m.CurrentUser(r); ok {
		t.Fatal("user without middleware")
	}
	if err := m.LoginUser(httptest.NewRecorder(), r, &testUser{id: "x", active: true}); !errors.Is(err, latch.ErrNoMiddleware) {
		t.Fatalf("LoginUser = %v", err)
	}
}

func TestWantsJSON(t *testing.T) {
	tests := []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{"Accept", "*/*"}, false},
		{[]string{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, false},
		{[]string{"Accept", "application/json"}, true},
		{[]string{"Accept", "application/problem+json"}, true},
		{[]string{"Authorization", "Bearer x"}, true},
		{[]string{"X-Requested-With", "XMLHttpRequest"}, true},
		{[]string{"Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}, false},
		{[]string{"Sec-Fetch-Mode", "cors", "Sec-Fetch-Dest", "empty"}, true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		for i := 0; i+1 < len(tt.header); i += 2 {
			r.Header.Set(tt.header[i], tt.header[i+1])
		}
		if got := latch.WantsJSON(r); got != tt.want {
			t.Errorf("WantsJSON(%v) = %v", tt.header, got)
		}
	}
}

// TestASVS_7_1_2_MaxSessions: a user's sessions and remembered devices are
// bounded; the least recently used go first, the new one never does, and
// other users are not touched.
func TestASVS_7_1_2_MaxSessions(t *testing.T) {
	if latch.New(memstore.New(), func(context.Context, string) (*testUser, error) { return nil, latch.ErrNoUser }).Session.MaxSessions != latch.DefaultMaxSessions {
		t.Fatal("MaxSessions does not default to DefaultMaxSessions")
	}
	h := newHarness(t, func(m *latch.Manager[*testUser]) { m.Session.MaxSessions = 2 })
	ctx := context.Background()
	bob := h.browser()
	bob.do("POST", "/login/bob?remember=1")
	a, b, c := h.browser(), h.browser(), h.browser()
	a.do("POST", "/login/alice?remember=1")
	h.clock.Advance(time.Minute)
	b.do("POST", "/login/alice?remember=1")
	h.clock.Advance(time.Minute)
	// a is used again, so b becomes the least recently used.
	if got := a.me(); !strings.HasPrefix(got, "alice") {
		t.Fatalf("a: %q", got)
	}
	h.clock.Advance(time.Minute)
	c.do("POST", "/login/alice?remember=1")
	if got := b.me(); got != "anonymous" {
		t.Fatalf("least recently used session survived: %q", got)
	}
	for name, br := range map[string]*browser{"a": a, "c": c, "bob": bob} {
		if got := br.me(); got == "anonymous" {
			t.Fatalf("%s lost its session", name)
		}
	}
	// The remember-me series: at most 2, the oldest one went.
	toks, _ := h.m.UserRememberTokens(ctx, "alice")
	if len(toks) != 2 {
		t.Fatalf("%d remembered devices, want 2", len(toks))
	}
	b.restart()
	if got := b.me(); got != "anonymous" {
		t.Fatalf("the evicted device came back through remember me: %q", got)
	}
	// A remember-me restore is a new session too, and stays within the
	// bound.
	c.restart()
	if got := c.me(); !strings.HasPrefix(got, "alice remember") {
		t.Fatalf("c after restart: %q", got)
	}
	if s, _ := h.m.UserSessions(ctx, "alice"); len(s) > 2 {
		t.Fatalf("%d sessions after a restore", len(s))
	}
	// 0 means no limit.
	u := newHarness(t, func(m *latch.Manager[*testUser]) { m.Session.MaxSessions = 0 })
	for range 5 {
		u.browser().do("POST", "/login/alice")
	}
	if s, _ := u.m.UserSessions(ctx, "alice"); len(s) != 5 {
		t.Fatalf("unlimited: %d sessions", len(s))
	}
}
