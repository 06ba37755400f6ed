package site_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch/internal/server"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testSite struct {
	t    *testing.T
	app  *server.App
	srv  *httptest.Server
	logs *syncBuffer
}

// newSite runs the real site (real SQLite in a temp dir, real hasher) on
// an httptest server. opts adjust the configuration before it is built.
func newSite(t *testing.T, args ...string) *testSite {
	t.Helper()
	dir := t.TempDir()
	cfg, _, err := server.ParseFlags("test", append([]string{"-database", filepath.Join(dir, "latch.db")}, args...),
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	backend, err := server.OpenBackend(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backend.Close() })
	app, err := server.NewApp(cfg, backend, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Site.Handler())
	t.Cleanup(srv.Close)
	return &testSite{t: t, app: app, srv: srv, logs: logs}
}

type client struct {
	s    *testSite
	http *http.Client
}

// browser returns a client with its own cookie jar that does not follow
// redirects.
func (s *testSite) browser() *client {
	jar, _ := cookiejar.New(nil)
	return &client{s: s, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	*http.Response
	body string
}

func (c *client) do(method, path string, form url.Values, header ...string) response {
	c.s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.s.srv.URL+path, body)
	if err != nil {
		c.s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.s.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return response{res, string(b)}
}

func (c *client) get(path string, header ...string) response {
	return c.do("GET", path, nil, header...)
}

func (c *client) post(path string, form url.Values, header ...string) response {
	return c.do("POST", path, form, header...)
}

func (c *client) cookie(name string) *http.Cookie {
	u, _ := url.Parse(c.s.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// restart drops the session cookie, as closing the browser does.
func (c *client) restart() {
	u, _ := url.Parse(c.s.srv.URL)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "latch_session", Path: "/", MaxAge: -1}})
}

const pw = "correct horse battery staple"

func (c *client) signup(username, email string) response {
	c.s.t.Helper()
	return c.post("/signup", url.Values{"username": {username}, "email": {email}, "password": {pw}})
}

func (c *client) login(email string, extra ...string) response {
	c.s.t.Helper()
	f := url.Values{"email": {email}, "password": {pw}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return c.post("/login", f)
}

func (s *testSite) userWithLogin(username string) *client {
	s.t.Helper()
	c := s.browser()
	if r := c.signup(username, username+"@example.com"); r.StatusCode != 303 {
		s.t.Fatalf("signup %s: %d %s", username, r.StatusCode, r.body)
	}
	if r := c.login(username + "@example.com"); r.StatusCode != 303 {
		s.t.Fatalf("login %s: %d %s", username, r.StatusCode, r.body)
	}
	return c
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("body contains %q", b)
		}
	}
}

func TestIndex(t *testing.T) {
	s := newSite(t)
	c := s.browser()
	r := c.get("/")
	if r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	mustContain(t, r.body, `href="/login"`, `href="/signup"`)
	c = s.userWithLogin("alice")
	r = c.get("/")
	mustContain(t, r.body, "alice", `action="/logout"`)
	mustNotContain(t, r.body, `href="/signup"`)
}

func TestSignUp(t *testing.T) {
	s := newSite(t)
	c := s.browser()
	r := c.get("/signup")
	mustContain(t, r.body, `name="username"`, `name="email"`, `name="password"`, `type="password"`, `autocomplete="new-password"`)

	r = c.signup("alice", "alice@example.com")
	if r.StatusCode != 303 || r.Header.Get("Location") != "/login" {
		t.Fatalf("valid sign-up: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	r = c.get("/login")
	mustContain(t, r.body, "Your account is ready")

	tests := []struct {
		name                      string
		username, email, password string
		field, message            string
	}{
		{"short username", "al", "x@example.com", pw, "username", "3 to 32"},
		{"long username", strings.Repeat("a", 33), "x@example.com", pw, "username", "3 to 32"},
		{"bad username chars", "al ice", "x@example.com", pw, "username", "letters, digits"},
		{"html username", "<script>", "x@example.com", pw, "username", "letters, digits"},
		{"taken username", "ALICE", "other@example.com", pw, "username", "taken"},
		{"bad email", "bob", "not-an-email", pw, "email", "valid email"},
		{"header injection email", "bob", "bob@example.com\r\nBcc: evil@example.com", pw, "email", "valid email"},
		{"taken email", "bob", "Alice@Example.COM", pw, "email", "already exists"},
		{"short password", "bob", "bob@example.com", "short", "password", "at least 8"},
		{"common password", "bob", "bob@example.com", "password123", "password", "too common"},
		{"password with username", "bobby", "bob@example.com", "bobby-is-my-name", "password", "your username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post("/signup", url.Values{"username": {tt.username}, "email": {tt.email}, "password": {tt.password}})
			if r.StatusCode != 422 {
				t.Fatalf("status %d, want 422", r.StatusCode)
			}
			m := regexp.MustCompile(`id="` + tt.field + `-error">([^<]*)<`).FindStringSubmatch(r.body)
			if m == nil || !strings.Contains(m[1], tt.message) {
				t.Fatalf("no %s error containing %q in the form", tt.field, tt.message)
			}
			if tt.password != "" && strings.Contains(r.body, tt.password) {
				t.Error("password echoed back")
			}
			if tt.field != "username" && !strings.Contains(r.body, `value="`+tt.username+`"`) {
				t.Error("username not kept")
			}
		})
	}
	// Several problems at once are all reported.
	r = c.post("/signup", url.Values{"username": {"a"}, "email": {"nope"}, "password": {"x"}})
	mustContain(t, r.body, `id="username-error"`, `id="email-error"`, `id="password-error"`)
	// Escaping of echoed values.
	r = c.post("/signup", url.Values{"username": {"bob"}, "email": {`"><svg onload=alert(1)>`}, "password": {pw}})
	mustNotContain(t, r.body, "<svg")
	mustContain(t, r.body, "&#34;&gt;&lt;svg onload=alert(1)&gt;")
}

func TestConcurrentSignUpsOneWins(t *testing.T) {
	// Six hash slots, so that the six sign-ups race each other to the
	// database rather than queue for the hasher (a loaded CI machine
	// turns queued ones away with 503).
	s := newSite(t, "-hash-concurrency", "6")
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = s.browser().signup(fmt.Sprintf("user%d", i), "same@example.com").StatusCode
		}()
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case 303:
			won++
		case 422:
		default:
			t.Errorf("status %d", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d sign-ups with one email succeeded: %v", won, codes)
	}
}

func TestLogin(t *testing.T) {
	s := newSite(t)
	s.browser().signup("alice", "alice@example.com")

	c := s.browser()
	r := c.get("/login?next=/user/alice%3Ftab%3D1")
	mustContain(t, r.body, `name="next" value="/user/alice?tab=1"`, `name="remember"`, `autocomplete="current-password"`)
	r = c.get("/login?next=//evil.example")
	mustNotContain(t, r.body, "evil.example")

	tests := []struct {
		name, next, want string
	}{
		{"no next", "", "/"},
		{"safe next", "/user/alice?tab=1", "/user/alice?tab=1"},
		{"scheme-relative", "//evil.example", "/"},
		{"backslash", "/\\evil.example", "/"},
		{"absolute", "https://evil.example/", "/"},
		{"javascript", "javascript:alert(1)", "/"},
		{"encoded", "/%2F%2Fevil.example", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := s.browser()
			r := c.login("alice@example.com", "next", tt.next)
			if r.StatusCode != 303 || r.Header.Get("Location") != tt.want {
				t.Fatalf("%d → %q, want 303 → %q", r.StatusCode, r.Header.Get("Location"), tt.want)
			}
		})
	}

	// Case-insensitive email.
	if r := s.browser().login("ALICE@example.com"); r.StatusCode != 303 {
		t.Fatalf("uppercase email: %d", r.StatusCode)
	}

	// Wrong password and unknown email look the same.
	wrong := s.browser().post("/login", url.Values{"email": {"alice@example.com"}, "password": {"wrong password!"}})
	unknown := s.browser().post("/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password!"}})
	if wrong.StatusCode != 422 || unknown.StatusCode != 422 {
		t.Fatalf("wrong: %d, unknown: %d", wrong.StatusCode, unknown.StatusCode)
	}
	strip := func(s string) string {
		return strings.NewReplacer("alice@example.com", "", "nobody@example.com", "").Replace(s)
	}
	if strip(wrong.body) != strip(unknown.body) {
		t.Error("wrong password and unknown email answer differently")
	}
	mustContain(t, wrong.body, "Wrong email or password.", `value="alice@example.com"`)
	mustNotContain(t, wrong.body, "wrong password!")
	if r := s.browser().post("/login", url.Values{"email": {""}, "password": {""}}); r.StatusCode != 422 {
		t.Fatalf("empty form: %d", r.StatusCode)
	}
}

func TestLoginRateLimit(t *testing.T) {
	s := newSite(t)
	s.browser().signup("alice", "alice@example.com")
	c := s.browser()
	var r response
	for i := range 12 {
		r = c.post("/login", url.Values{"email": {"alice@example.com"}, "password": {fmt.Sprintf("wrong-%d-password", i)}})
		if r.StatusCode == 429 {
			break
		}
	}
	if r.StatusCode != 429 {
		t.Fatalf("no 429 after 12 failures: %d", r.StatusCode)
	}
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After = %q", ra)
	}
	mustContain(t, r.body, "Too many attempts")
	// Even the right password waits.
	if r := c.login("alice@example.com"); r.StatusCode != 429 {
		t.Fatalf("right password during back-off: %d", r.StatusCode)
	}
}

func TestLogout(t *testing.T) {
	s := newSite(t)
	c := s.userWithLogin("alice")
	r := c.get("/logout")
	if r.StatusCode != 200 || c.get("/api/me").StatusCode != 200 {
		t.Fatal("GET /logout logged out")
	}
	mustContain(t, r.body, `method="post" action="/logout"`)
	old := c.cookie("latch_session").Value
	r = c.post("/logout", nil)
	if r.StatusCode != 303 || r.Header.Get("Location") != "/?logged-out" {
		t.Fatalf("%d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r.Header.Get("Clear-Site-Data") == "" {
		t.Error("no Clear-Site-Data")
	}
	if c.get("/api/me").StatusCode != 401 {
		t.Fatal("still logged in")
	}
	replay := s.browser()
	replay.http.Jar.SetCookies(mustURL(s.srv.URL), []*http.Cookie{{Name: "latch_session", Value: old}})
	if replay.get("/api/me").StatusCode != 401 {
		t.Fatal("old session cookie works after logout")
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestProfile(t *testing.T) {
	s := newSite(t)
	bob := s.userWithLogin("bob")
	alice := s.userWithLogin("alice")
	r := alice.get("/user/bob")
	if r.StatusCode != 200 {
		t.Fatalf("%d", r.StatusCode)
	}
	mustContain(t, r.body, "<h1>bob</h1>", "Member since", time.Now().UTC().Format("January 2, 2006"))
	mustNotContain(t, r.body, "bob@example.com")
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Error("profile cacheable")
	}
	if r := alice.get("/user/BOB"); r.StatusCode != 200 {
		t.Errorf("case-insensitive username: %d", r.StatusCode)
	}
	if r := bob.get("/user/nobody"); r.StatusCode != 404 {
		t.Errorf("unknown user: %d", r.StatusCode)
	}
	if r := bob.get("/user/" + url.PathEscape("<script>")); r.StatusCode != 404 {
		t.Errorf("invalid username: %d", r.StatusCode)
	}
	anon := s.browser()
	r = anon.get("/user/bob")
	if r.StatusCode != 303 || r.Header.Get("Location") != "/login?next=%2Fuser%2Fbob" {
		t.Fatalf("anonymous: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// The login page shows why, and the round trip lands back on the page.
	mustContain(t, anon.get("/login?next=%2Fuser%2Fbob").body, "Please log in to access this page.")
	r = anon.login("alice@example.com", "next", "/user/bob")
	if r.Header.Get("Location") != "/user/bob" {
		t.Fatalf("next round trip → %q", r.Header.Get("Location"))
	}
}

func TestAPIMe(t *testing.T) {
	s := newSite(t)
	c := s.userWithLogin("alice")
	r := c.get("/api/me")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	var me map[string]string
	if err := json.Unmarshal([]byte(r.body), &me); err != nil {
		t.Fatal(err)
	}
	if me["username"] != "alice" || me["email"] != "alice@example.com" || me["id"] == "" {
		t.Fatalf("%v", me)
	}
	if _, err := time.Parse(time.RFC3339, me["created_at"]); err != nil {
		t.Fatalf("created_at %q: %v", me["created_at"], err)
	}
	if len(me) != 4 {
		t.Fatalf("extra fields (hash?): %v", me)
	}
	r = s.browser().get("/api/me")
	if r.StatusCode != 401 || r.Header.Get("Content-Type") != "application/json" || !strings.Contains(r.body, `"error"`) {
		t.Fatalf("anonymous: %d %q", r.StatusCode, r.body)
	}
}

func TestHealthz(t *testing.T) {
	s := newSite(t)
	if r := s.browser().get("/healthz"); r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	s.app.Backend.Close()
	r := s.browser().get("/healthz")
	if r.StatusCode != 503 || !strings.Contains(r.body, "unavailable") {
		t.Fatalf("closed database: %d %q", r.StatusCode, r.body)
	}
	// Pages answer 503 too, with a page and no internals.
	c := s.browser()
	r = c.post("/login", url.Values{"email": {"a@example.com"}, "password": {"whatever-pass"}})
	if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("login with closed database: %d", r.StatusCode)
	}
	mustNotContain(t, strings.ToLower(r.body), "sql", "closed", "database is")
}

func TestRememberMe(t *testing.T) {
	s := newSite(t)
	s.browser().signup("alice", "alice@example.com")
	with := s.browser()
	r := with.login("alice@example.com", "remember", "1")
	sc := strings.Join(r.Header.Values("Set-Cookie"), "\n")
	if !strings.Contains(sc, "latch_remember=") || !strings.Contains(sc, "Max-Age=") {
		t.Fatalf("no persistent remember cookie: %s", sc)
	}
	with.restart()
	if with.get("/api/me").StatusCode != 200 {
		t.Fatal("remember me did not survive a browser restart")
	}
	without := s.browser()
	without.login("alice@example.com")
	without.restart()
	if without.get("/api/me").StatusCode != 401 {
		t.Fatal("logged in after restart without remember me")
	}
}

func TestCookieAttributes(t *testing.T) {
	s := newSite(t)
	s.browser().signup("alice", "alice@example.com")
	r := s.browser().login("alice@example.com")
	sc := r.Header.Get("Set-Cookie")
	for _, want := range []string{"latch_session=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Errorf("%q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Expires") || strings.Contains(sc, "Max-Age") {
		t.Errorf("session cookie persists: %q", sc)
	}

	// With an https base URL: Secure and __Host- names, HSTS.
	hs := newSite(t, "-base-url", "https://latch.example")
	hs.browser().signup("bob", "bob@example.com")
	r = hs.browser().login("bob@example.com", "remember", "1")
	all := strings.Join(r.Header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"__Host-latch_session=", "__Host-latch_remember=", "Secure"} {
		if !strings.Contains(all, want) {
			t.Errorf("https cookies lack %s: %s", want, all)
		}
	}
	if !strings.Contains(r.Header.Get("Strict-Transport-Security"), "max-age=63072000") {
		t.Errorf("HSTS = %q", r.Header.Get("Strict-Transport-Security"))
	}
}

func TestCrossOriginRequestsRefused(t *testing.T) {
	s := newSite(t)
	c := s.userWithLogin("alice")
	for _, h := range [][]string{
		{"Origin", "http://evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site", "Origin", "http://sub." + mustURL(s.srv.URL).Host},
	} {
		for _, path := range []string{"/logout", "/login", "/signup"} {
			r := c.post(path, url.Values{"email": {"alice@example.com"}, "password": {pw}}, h...)
			if r.StatusCode != 403 {
				t.Errorf("cross-origin POST %s with %v: %d", path, h, r.StatusCode)
			}
		}
	}
	if c.get("/api/me").StatusCode != 200 {
		t.Fatal("cross-origin logout took effect")
	}
	// Same-origin browsers and non-browser clients work.
	if r := c.post("/logout", nil, "Sec-Fetch-Site", "same-origin", "Origin", s.srv.URL); r.StatusCode != 303 {
		t.Fatalf("same-origin logout: %d", r.StatusCode)
	}
	if r := s.browser().login("alice@example.com"); r.StatusCode != 303 {
		t.Fatalf("curl-like login: %d", r.StatusCode)
	}
}

func TestBadInput(t *testing.T) {
	s := newSite(t)
	c := s.browser()
	tests := []struct {
		name, method, path, body, contentType string
		status                                int
	}{
		{"oversized body", "POST", "/login", "email=" + strings.Repeat("a", 64<<10), "application/x-www-form-urlencoded", 413},
		{"malformed form", "POST", "/login", "email=%zz&password=%", "application/x-www-form-urlencoded", 400},
		{"unknown route", "GET", "/nope", "", "", 404},
		{"dotfile", "GET", "/.git/HEAD", "", "", 404},
		{"static dir", "GET", "/static/", "", "", 404},
		{"debug", "GET", "/debug/pprof/", "", "", 404},
		{"wrong method", "PUT", "/login", "", "", 405},
		{"trace", "TRACE", "/", "", "", 405},
		{"json login", "POST", "/login", `{"email":"a@b.c","password":{"$ne":null}}`, "application/json", 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			res, err := c.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status == 405 && res.Header.Get("Allow") == "" && tt.method != "TRACE" {
				t.Error("405 without Allow")
			}
			if tt.method != "HEAD" && !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("error page Content-Type %q", res.Header.Get("Content-Type"))
			}
			mustNotContain(t, string(b), "goroutine", "panic", "SQL", "sqlite")
		})
	}
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	s := newSite(t)
	c := s.userWithLogin("alice")
	for _, path := range []string{"/", "/login", "/signup", "/logout", "/user/alice", "/nope", "/api/me"} {
		r := c.get(path)
		csp := r.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows unsafe-inline", path)
		}
		for h, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "same-origin",
			"Cache-Control":          "no-store",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", path, h, got, want)
			}
		}
		if strings.Contains(r.body, "<script") || strings.Contains(r.body, "style=") {
			t.Errorf("%s: inline script or style", path)
		}
	}
	if r := c.get("/static/style.css"); r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
}

func TestNoSecretsInLogs(t *testing.T) {
	s := newSite(t)
	c := s.browser()
	c.signup("alice", "alice@example.com")
	c.login("alice@example.com", "remember", "1")
	c.post("/login", url.Values{"email": {"alice@example.com"}, "password": {"not-the-password-xyz"}})
	c.restart()
	c.get("/api/me")
	logs := s.logs.String()
	secrets := []string{pw, "not-the-password-xyz"}
	for _, ck := range []string{"latch_session", "latch_remember"} {
		if v := c.cookie(ck); v != nil {
			secrets = append(secrets, v.Value)
		}
	}
	for _, sec := range secrets {
		if strings.Contains(logs, sec) {
			t.Errorf("log contains a secret %.8q…", sec)
		}
	}
	for _, want := range []string{"event=logged_in", "event=login_failed", "event=loaded_from_remember", "msg=request"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

func TestNothingAcknowledgedIsLost(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "latch.db")
	s := newSite(t, "-database", db)
	if r := s.browser().signup("alice", "alice@example.com"); r.StatusCode != 303 {
		t.Fatal(r.Status)
	}
	s.srv.Close()
	if err := s.app.Backend.Close(); err != nil {
		t.Fatal(err)
	}
	again := newSite(t, "-database", db)
	if r := again.browser().login("alice@example.com"); r.StatusCode != 303 {
		t.Fatalf("account lost across restart: %d", r.StatusCode)
	}
}

func TestReauth(t *testing.T) {
	s := newSite(t)
	c := s.browser()
	c.signup("alice", "alice@example.com")
	c.login("alice@example.com", "remember", "1")
	c.restart()
	r := c.get("/reauth?next=/user/alice")
	mustContain(t, r.body, `name="next" value="/user/alice"`)
	r = c.post("/reauth", url.Values{"password": {"wrong-password-here"}, "next": {"/user/alice"}})
	if r.StatusCode != 422 {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	r = c.post("/reauth", url.Values{"password": {pw}, "next": {"/user/alice"}})
	if r.StatusCode != 303 || r.Header.Get("Location") != "/user/alice" {
		t.Fatalf("%d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := s.browser().get("/reauth"); r.StatusCode != 303 {
		t.Fatalf("anonymous reauth: %d", r.StatusCode)
	}
}
