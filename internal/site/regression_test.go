package site_test

// Regression tests for authentication and session vulnerabilities found in
// other Go projects (the project's security standards, section 5), each
// named for the advisory it keeps out of latch. They drive the real site
// over HTTP, with the harness of asvs_test.go.

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/server"
	"github.com/latchgo/latch/mailer/smtptest"
	"github.com/latchgo/latch/throttle"
)

// ---------------------------------------------------------------------
// Open redirects

// loginNext logs a fresh browser in as email with next and returns the
// Location.
func (s *asvsSite) loginNext(email, next string) string {
	s.t.Helper()
	r := s.browser().post("/login", url.Values{"email": {email}, "password": {pw}, "next": {next}})
	if r.StatusCode != 303 {
		s.t.Fatalf("login with next %q: %d", next, r.StatusCode)
	}
	return r.Header.Get("Location")
}

// offSite checks next values through the login form, GET and POST.
func offSite(t *testing.T, s *asvsSite, payloads ...string) {
	t.Helper()
	for _, p := range payloads {
		if strings.Contains(s.browser().get("/login?next="+url.QueryEscape(p)).body, `name="next"`) {
			t.Errorf("GET /login carries next %q", p)
		}
		if loc := s.loginNext("alice@example.com", p); loc != "/" {
			t.Errorf("POST /login with next %q → %q", p, loc)
		}
	}
}

func TestCVE_2018_15178_BackslashNext(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	s.browser().signup("alice", "alice@example.com")
	offSite(t, s, "/\\evil.example", "/%5Cevil.example", "/%5cevil.example", "/\\/evil.example")
}

func TestCVE_2026_52802_CVE_2026_25779_DotSegmentsAndBackslash(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	payloads := []string{"/a/../\\evil.example", "/./\\evil.example", "/a/..//evil.example", "/a/%2e%2e/%5cevil.example", "/a/.%2E/\\evil.example"}
	offSite(t, s, payloads...)
	for _, p := range payloads {
		if r := c.post("/reauth", url.Values{"password": {pw}, "next": {p}}); r.Header.Get("Location") != "/" {
			t.Errorf("reauth with next %q → %q", p, r.Header.Get("Location"))
		}
	}
}

// TestCVE_2026_82402_EmittedLocationIsTheValidatedValue: the value sent
// as Location is byte for byte the one that was validated; nothing cleans
// or re-encodes it afterwards.
func TestCVE_2026_82402_EmittedLocationIsTheValidatedValue(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	s.browser().signup("alice", "alice@example.com")
	for _, p := range []string{"/user/alice?tab=posts&x=1", "/a/b/c/", "/search?q=%2F%2Fevil.example", "/path?next=//evil.example",
		"/a#section", "/caf%C3%A9", "/a:b", "/~tilde", "/a//b", "/a/b/../c"} {
		want, ok := latch.SafeNext(p)
		loc := s.loginNext("alice@example.com", p)
		if ok && loc != want || !ok && loc != "/" {
			t.Errorf("next %q → Location %q (SafeNext: %q, %v)", p, loc, want, ok)
		}
	}
}

func TestCVE_2021_45328_NextThroughEveryHop(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	secret, _ := s.enrolTOTP(c)
	for _, p := range []string{"//evil.example/", "//evil.example", "///evil.example"} {
		// The login form and its second step.
		d := s.browser()
		if strings.Contains(d.get("/login?next="+url.QueryEscape(p)).body, "evil") {
			t.Errorf("login form carries %q", p)
		}
		d.post("/login", url.Values{"email": {"alice@example.com"}, "password": {pw}, "next": {p}})
		if r := d.post("/login/2fa", url.Values{"code": {s.nextTOTPCode(secret)}}); r.Header.Get("Location") != "/" {
			t.Errorf("second step with next %q → %q", p, r.Header.Get("Location"))
		}
		// Re-authentication.
		if strings.Contains(d.get("/reauth?next="+url.QueryEscape(p)).body, "evil") {
			t.Errorf("reauth form carries %q", p)
		}
		if r := d.post("/reauth", url.Values{"password": {pw}, "code": {s.nextTOTPCode(secret)}, "next": {p}}); r.Header.Get("Location") != "/" {
			t.Errorf("reauth with next %q → %q", p, r.Header.Get("Location"))
		}
	}
}

func TestCVE_2022_1058_CVE_2023_3515_SlashRuns(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	s.browser().signup("alice", "alice@example.com")
	offSite(t, s, "//evil.example", "///evil.example", "////evil.example", "/\\evil.example", "/\\/evil.example", "/\\\\evil.example", "/%2F%2Fevil.example")
}

func TestCVE_2022_25295_BackslashRunsOnEveryRedirect(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	s.browser().signup("alice", "alice@example.com")
	offSite(t, s, "\\\\\\evil.example", "\\\\evil.example", "\\/evil.example")
	// The reset's last redirect takes no target at all.
	s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}})
	c := s.browser()
	c.follow(s.link("alice@example.com", "/reset", 1) + "&next=%5C%5C%5Cevil.example")
	r := c.post("/reset?next=%5C%5C%5Cevil.example", url.Values{"password": {"a new passphrase!"}, "confirm": {"a new passphrase!"}, "next": {"\\\\\\evil.example"}})
	if r.StatusCode != 303 || r.Header.Get("Location") != "/login" {
		t.Fatalf("reset → %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestCVE_2025_67713_ProtocolRelativeNext(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	s.browser().signup("alice", "alice@example.com")
	offSite(t, s, "//evil.example", "//evil.example/path", "//evil.example:443", "//user@evil.example")
}

// redirectingRequests are requests to which the site answers a redirect.
func redirectingRequests(s *asvsSite, c *client) []*http.Request {
	login := url.Values{"email": {"alice@example.com"}, "password": {pw}, "next": {"/user/alice"}}
	return []*http.Request{
		c.newRequest("GET", "/account", ""),
		c.newRequest("GET", "/user/alice", ""),
		c.newRequest("POST", "/login", login.Encode()),
		c.newRequest("POST", "/logout", "x=1"),
		c.newRequest("GET", "/login/2fa", ""),
		c.newRequest("GET", "/reset?token="+latch.NewToken(32), ""),
		c.newRequest("GET", "//evil.example/", ""),
		c.newRequest("GET", "/account/../user/alice", ""),
	}
}

func TestGHSA_vrw8_fxc6_2r93_GHSA_mqqf_5wvp_8fh8_HostHeaderNeverInLocation(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	s.browser().signup("alice", "alice@example.com")
	n := 0
	for _, h := range []map[string]string{
		{"Host": "evil.example"},
		{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
		{"Forwarded": "host=evil.example;proto=https"},
		{"X-Original-URL": "//evil.example/", "X-Rewrite-URL": "//evil.example/"},
	} {
		c := s.browser()
		for _, req := range redirectingRequests(s, c) {
			for k, v := range h {
				if k == "Host" {
					req.Host = v
				} else {
					req.Header.Set(k, v)
				}
			}
			r := c.send(req)
			loc := r.Header.Get("Location")
			if loc != "" {
				n++
			}
			// Go's mux answers //evil.example/ with the cleaned path
			// /evil.example/, which is this site.
			if loc != "" && !sameOrigin(s.srv.URL, loc) {
				t.Errorf("%s %s with %v → %q", req.Method, req.URL.Path, h, loc)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d redirects seen", n)
	}
}

func TestCVE_2022_40083_PathBasedRedirects(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	for _, p := range []string{"//evil.example/", "//evil.example/%2e%2e", "/static//evil.example", "/static/..//evil.example/",
		"/.//evil.example/", "///evil.example/", "/user/..//evil.example", "/%2F/evil.example/", "/%5Cevil.example/"} {
		req := s.browser().newRequest("GET", "/", "")
		req.URL.Opaque = p // sent exactly, not cleaned by the client
		r := s.browser().send(req)
		if loc := r.Header.Get("Location"); loc != "" && !sameOrigin(s.srv.URL, loc) {
			t.Errorf("GET %s → %d %q", p, r.StatusCode, loc)
		}
	}
}

func TestCVE_2024_52003_ForwardedPrefixIgnored(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	s.browser().signup("alice", "alice@example.com")
	for _, prefix := range []string{"//evil.example", "/evil", "https://evil.example/", "/..;/"} {
		c := s.browser()
		for _, req := range redirectingRequests(s, c) {
			req.Header.Set("X-Forwarded-Prefix", prefix)
			req.Header.Set("X-Script-Name", prefix)
			if loc := c.send(req).Header.Get("Location"); loc != "" && (!sameOrigin(s.srv.URL, loc) || strings.Contains(loc, "..;")) {
				t.Errorf("X-Forwarded-Prefix %q → %q", prefix, loc)
			}
		}
	}
	req := s.browser().newRequest("POST", "/forgot", "email=alice%40example.com")
	req.Header.Set("X-Forwarded-Prefix", "//evil.example")
	s.browser().send(req)
	if l := s.link("alice@example.com", "/reset", 1); !strings.HasPrefix(l, "/reset?token=") {
		t.Fatalf("mailed link %q", l)
	}
	for _, m := range s.allMails() {
		if strings.Contains(m.Text, "evil") {
			t.Errorf("mail names the attacker's prefix:\n%s", m.Text)
		}
	}
}

func TestCVE_2025_6023_EncodedTraversalRedirect(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	s.browser().signup("alice", "alice@example.com")
	offSite(t, s, "/public/..%2F%5cevil.example", "/..%2F%5cevil.example", "/static/..%2f..%2f%5cevil.example", "/%2e%2e%2f%5cevil.example", "/a/%2e%2e/%2e%2e/%5c%5cevil.example")
	for _, p := range []string{"/public/..%2F%5cevil.example/", "/static/..%2F%5cevil.example", "/static/%2e%2e%2f%5cevil.example"} {
		req := s.browser().newRequest("GET", "/", "")
		req.URL.Opaque = p
		if loc := s.browser().send(req).Header.Get("Location"); loc != "" && !sameOrigin(s.srv.URL, loc) {
			t.Errorf("GET %s → %q", p, loc)
		}
	}
}

func TestCVE_2021_29651_TokensNeverInLocation(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	var locations []string
	record := func(r response) response {
		if l := r.Header.Get("Location"); l != "" {
			locations = append(locations, l)
		}
		return r
	}
	c := s.browser()
	record(c.signup("alice", "alice@example.com"))
	record(c.login("alice@example.com", "remember", "1", "next", "/user/alice"))
	api := s.apiToken(c, "x")
	sess, rem := c.value("latch_session"), c.value("latch_remember")
	c.restart()
	record(c.get("/account/password"))
	record(c.post("/reauth", url.Values{"password": {pw}, "next": {"/account"}}))
	record(s.browser().get("/account", "Authorization", "Bearer "+api))
	s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}})
	link := s.link("alice@example.com", "/reset", 1)
	d := s.browser()
	record(d.get(link))
	record(d.post("/reset", url.Values{"password": {"a new passphrase!"}, "confirm": {"a new passphrase!"}}))
	secrets := []string{api, sess, rem, c.value("latch_session"), c.value("latch_remember"), strings.TrimPrefix(link, "/reset?token=")}
	for _, l := range locations {
		for _, sec := range secrets {
			if sec != "" && strings.Contains(l, sec) {
				t.Errorf("Location %q carries a secret", l)
			}
		}
	}
	if len(locations) < 5 {
		t.Fatalf("only %d redirects seen", len(locations))
	}
}

func TestGHSA_x3f4_v83f_7wp2_ResetIgnoresRedirectTargets(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	s.browser().signup("alice", "alice@example.com")
	s.browser().post("/forgot?redirect_uri=https://evil.example/", url.Values{
		"email": {"alice@example.com"}, "redirect_uri": {"https://evil.example/"}, "next": {"//evil.example"}, "return_to": {"https://evil.example"},
	})
	link := s.link("alice@example.com", "/reset", 1)
	c := s.browser()
	c.follow(link)
	r := c.post("/reset", url.Values{"password": {"a new passphrase!"}, "confirm": {"a new passphrase!"}, "redirect_uri": {"https://evil.example/"}})
	if r.Header.Get("Location") != "/login" {
		t.Fatalf("reset → %q", r.Header.Get("Location"))
	}
	for _, m := range s.allMails() {
		if strings.Contains(m.Text, "evil") {
			t.Errorf("mail names the attacker's target:\n%s", m.Text)
		}
	}
}

// ---------------------------------------------------------------------
// Cross-site request forgery

func TestCVE_2025_24358_SiblingSubdomainRefused(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	host := mustURL(s.srv.URL).Host
	for _, h := range [][]string{
		{"Origin", "http://evil." + host},
		{"Sec-Fetch-Site", "same-site"},
		{"Sec-Fetch-Site", "same-site", "Origin", "http://app." + host, "Referer", "http://app." + host + "/"},
	} {
		if r := c.post("/logout", nil, h...); r.StatusCode != 403 {
			t.Errorf("POST /logout with %v: %d", h, r.StatusCode)
		}
	}
	if !c.loggedIn() {
		t.Fatal("a sibling site logged the user out")
	}
}

func TestCVE_2025_47909_InsecureOriginOfTrustedHostRefused(t *testing.T) {
	t.Parallel()
	s := httpsSite(t)
	s.browser().signup("alice", "alice@example.com")
	login := url.Values{"email": {"alice@example.com"}, "password": {pw}}
	if r := s.browser().post("/login", login, "Origin", "http://latch.example"); r.StatusCode != 403 {
		t.Errorf("Origin http:// of the https site: %d", r.StatusCode)
	}
	if r := s.browser().post("/login", login, "Origin", "https://latch.example"); r.StatusCode != 303 {
		t.Errorf("the site's own https origin: %d", r.StatusCode)
	}
}

func TestCVE_2025_47910_NoBypassPatterns(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	for _, p := range []string{"/hook/../logout", "/static/../logout", "//logout", "/logout/", "/logout/.", "/static/x/../../logout", "/healthz/../logout"} {
		req := c.newRequest("POST", "/", "x=1")
		req.URL.Opaque = p
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		if r := c.send(req); r.StatusCode != 403 {
			t.Errorf("cross-site POST %s: %d", p, r.StatusCode)
		}
	}
	if !c.loggedIn() {
		t.Fatal("a cross-site POST logged the user out")
	}
}

func TestCVE_2023_45128_CVE_2023_45141_NoTokenFromACookie(t *testing.T) {
	t.Parallel()
	// latch has no CSRF token to fixate or inject: a planted token, in a
	// cookie or a field, does not get a cross-site request through.
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	c.setCookie("csrf_token", "planted")
	c.setCookie("_csrf", "planted")
	r := c.post("/logout", url.Values{"csrf_token": {"planted"}, "_csrf": {"planted"}, "gorilla.csrf.Token": {"planted"}},
		"X-CSRF-Token", "planted", "Sec-Fetch-Site", "cross-site")
	if r.StatusCode != 403 || !c.loggedIn() {
		t.Fatalf("planted CSRF token: %d", r.StatusCode)
	}
}

func TestCVE_2024_23319_CVE_2026_28741_CVE_2026_27659_LogoutAndAuthEndpointsNeedPOST(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	c := s.signedUp("alice")
	for _, m := range []string{"GET", "HEAD"} {
		c.do(m, "/logout", nil)
	}
	if !c.loggedIn() {
		t.Fatal("GET /logout logged out")
	}
	for _, p := range []string{"/login", "/logout", "/signup", "/forgot", "/reset", "/confirm", "/reauth", "/login/2fa", "/account/tokens", "/account/password"} {
		if r := c.post(p, url.Values{"email": {"alice@example.com"}, "password": {pw}}, "Origin", "https://evil.example"); r.StatusCode != 403 {
			t.Errorf("cross-site POST %s: %d", p, r.StatusCode)
		}
	}
}

// ---------------------------------------------------------------------
// Sessions

func TestCVE_2024_38513_PlantedSessionIDNeverAdopted(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	s.browser().signup("alice", "alice@example.com")
	for _, planted := range []string{"attacker123", latch.NewToken(32), strings.Repeat("A", 43)} {
		c := s.only("latch_session", planted)
		// Visiting first (a flash message starts a session) and logging
		// in: neither adopts the planted id.
		c.get("/user/alice")
		if c.value("latch_session") == planted {
			t.Errorf("a visit adopted %q", planted)
		}
		c.setCookie("latch_session", planted)
		c.login("alice@example.com")
		if c.value("latch_session") == planted {
			t.Errorf("the login adopted %q", planted)
		}
		if s.only("latch_session", planted).loggedIn() {
			t.Errorf("the planted id %q is logged in", planted)
		}
	}
}

func TestCVE_2024_28197_HostPrefixStopsCookieTossing(t *testing.T) {
	t.Parallel()
	s := httpsSite(t)
	s.browser().signup("alice", "alice@example.com")
	r := s.browser().login("alice@example.com", "remember", "1")
	for _, sc := range setCookies(r) {
		if !strings.HasPrefix(sc, "__Host-") || strings.Contains(strings.ToLower(sc), "domain=") {
			t.Errorf("Set-Cookie %q", sc)
		}
	}
	// A cookie a sibling subdomain could set (no prefix, or __Secure-)
	// is not the session cookie.
	var sess string
	for _, ck := range r.Cookies() {
		if ck.Name == "__Host-latch_session" {
			sess = ck.Value
		}
	}
	for _, name := range []string{"latch_session", "__Secure-latch_session", "__host-latch_session"} {
		if s.browser().get("/api/me", "Cookie", name+"="+sess).StatusCode != 401 {
			t.Errorf("the session was accepted under the name %s", name)
		}
	}
	if s.browser().get("/api/me", "Cookie", "__Host-latch_session="+sess).StatusCode != 200 {
		t.Fatal("the real cookie does not work")
	}
}

func TestCVE_2021_45330_CVE_2025_53826_NoReplayAfterLogout(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice", "remember", "1")
	api := s.apiToken(c, "x")
	sess, rem := c.value("latch_session"), c.value("latch_remember")
	c.post("/logout", nil)
	if s.only("latch_session", sess).loggedIn() || s.only("latch_remember", rem).loggedIn() {
		t.Fatal("a cookie works after logout")
	}
	d := s.browser()
	d.login("alice@example.com")
	id := regexp.MustCompile(`action="/account/tokens/([0-9]+)/revoke"`).FindStringSubmatch(d.get("/account/tokens").body)[1]
	d.post("/account/tokens/"+id+"/revoke", nil)
	if s.bearer(api) != 401 {
		t.Fatal("a revoked API token works")
	}
}

func TestCVE_2018_18925_MalformedSessionIDs(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	for _, v := range []string{
		"../../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%00", "abc%00def", strings.Repeat("A", 10<<10),
		"!!!not-base64!!!", "YWJj====", "é" + strings.Repeat("a", 42), strings.Repeat("A", 42) + "B", "\"quoted\"",
		"a.b", "../" + latch.NewToken(32),
	} {
		for _, name := range []string{"latch_session", "latch_remember"} {
			r := s.browser().get("/api/me", "Cookie", name+"="+v)
			if r.StatusCode != 401 {
				t.Errorf("%s=%.20q…: %d", name, v, r.StatusCode)
			}
		}
	}
	// A NUL byte the client library would refuse to send, over a raw
	// connection: the server refuses the request, it does not fail.
	conn, err := net.Dial("tcp", mustURL(s.srv.URL).Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/me HTTP/1.1\r\nHost: x\r\nCookie: latch_session=../\x00abc\r\nConnection: close\r\n\r\n")
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, " 400 ") {
		t.Fatalf("NUL in the cookie: %q %v", status, err)
	}
}

func TestCVE_2026_56750_StolenRememberMeTokenDetected(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice", "remember", "1")
	stolen := c.value("latch_remember")
	// The owner comes back: the token rotates.
	c.restart()
	s.clock.Advance(time.Minute)
	if !c.loggedIn() || c.value("latch_remember") == stolen {
		t.Fatal("remember me did not rotate")
	}
	// The thief presents the old token: refused, and the whole series,
	// with the owner's session, ends.
	s.clock.Advance(time.Minute)
	if s.only("latch_remember", stolen).loggedIn() {
		t.Fatal("the stolen token logged in")
	}
	if c.loggedIn() {
		t.Fatal("the series' session survived the theft")
	}
	c.restart()
	if c.loggedIn() {
		t.Fatal("the series' current token survived the theft")
	}
	if !strings.Contains(s.logs.String(), "event=remember_theft") {
		t.Error("the theft was not logged")
	}
}

func TestCVE_2026_34454_StaleSessionCookieCleared(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	s.browser().signup("alice", "alice@example.com")
	stale := latch.NewToken(32)
	for name, r := range map[string]response{
		"login page":   s.only("latch_session", stale).get("/login"),
		"failed login": s.only("latch_session", stale).wrongLogin("alice@example.com"),
	} {
		cleared := false
		for _, ck := range r.Cookies() {
			if ck.Name == "latch_session" && ck.MaxAge < 0 {
				cleared = true
			}
		}
		if !cleared {
			t.Errorf("%s kept the stale cookie: %v", name, setCookies(r))
		}
	}
}

func TestCVE_2024_4183_SessionsPerUserBounded(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{setup: func(app *server.App) { app.Auth.Session.MaxSessions = 2 }})
	s.browser().signup("alice", "alice@example.com")
	var all []*client
	for range 5 {
		c := s.browser()
		c.login("alice@example.com")
		all = append(all, c)
		s.clock.Advance(time.Minute)
	}
	in := 0
	for _, c := range all {
		if c.loggedIn() {
			in++
		}
	}
	if in != 2 || !all[4].loggedIn() || !all[3].loggedIn() {
		t.Fatalf("%d of 5 sessions alive, want the newest 2", in)
	}
}

func TestCVE_2025_1412_CVE_2025_3230_CVE_2026_33668_DisabledUserOnEveryPathway(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice", "remember", "1")
	api := s.apiToken(c, "x")
	rem := c.value("latch_remember")
	if err := s.app.Accounts.Store().SetDisabled(context.Background(), s.user("alice@example.com").ID, true); err != nil {
		t.Fatal(err)
	}
	if c.get("/account").StatusCode != 303 || c.post("/reauth", url.Values{"password": {pw}}).StatusCode != 303 {
		t.Error("the session of a disabled user works")
	}
	if s.only("latch_remember", rem).loggedIn() {
		t.Error("remember me of a disabled user works")
	}
	if s.bearer(api) != 401 {
		t.Error("an API token of a disabled user works")
	}
	if r := s.browser().login("alice@example.com"); r.StatusCode != 422 {
		t.Errorf("a disabled user logs in: %d", r.StatusCode)
	}
}

func TestCVE_2024_21635_APITokensRevokedOnPasswordChange(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	api := s.apiToken(c, "x")
	c.post("/account/password", url.Values{"current": {pw}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
	if s.bearer(api) != 401 {
		t.Fatal("an API token survived the password change")
	}
}

func TestCVE_2026_27575_SessionsEndOnPasswordChange(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	other := s.browser()
	other.login("alice@example.com", "remember", "1")
	c.post("/account/password", url.Values{"current": {pw}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
	if other.loggedIn() {
		t.Fatal("another session survived")
	}
	other.restart()
	if other.loggedIn() {
		t.Fatal("another remember-me token survived")
	}
}

func TestCVE_2022_4683_SecureSessionCookie(t *testing.T) {
	t.Parallel()
	s := httpsSite(t)
	s.browser().signup("alice", "alice@example.com")
	r := s.browser().login("alice@example.com", "remember", "1")
	for _, ck := range r.Cookies() {
		if !ck.Secure || !ck.HttpOnly {
			t.Errorf("cookie %s: Secure %v, HttpOnly %v", ck.Name, ck.Secure, ck.HttpOnly)
		}
	}
}

// ---------------------------------------------------------------------
// Password reset

func TestCVE_2026_28268_ResetTokenSingleUseEvenConcurrently(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	s.browser().signup("alice", "alice@example.com")
	s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}})
	link := s.link("alice@example.com", "/reset", 1)
	const n = 20
	var browsers []*client
	for range n {
		c := s.browser()
		c.follow(link)
		browsers = append(browsers, c)
	}
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i, c := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := url.Values{"password": {fmt.Sprintf("new passphrase number %d", i)}}
			f.Set("confirm", f.Get("password"))
			req := c.newRequest("POST", "/reset", f.Encode())
			res, err := c.http.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			codes[i] = res.StatusCode
		}()
	}
	wg.Wait()
	won := 0
	for _, code := range codes {
		switch code {
		case 303:
			won++
		case 422:
		default:
			t.Errorf("status %d", code)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent uses of one reset link succeeded", won, n)
	}
	// And once more, sequentially.
	c := s.browser()
	c.follow(link)
	if r := c.post("/reset", url.Values{"password": {"yet another passphrase"}, "confirm": {"yet another passphrase"}}); r.StatusCode != 422 {
		t.Fatalf("reuse: %d", r.StatusCode)
	}
}

// resetWith tries a reset link in a fresh browser and returns the status.
func (s *asvsSite) resetWith(link, newPassword string) int {
	c := s.browser()
	c.follow(link)
	return c.post("/reset", url.Values{"password": {newPassword}, "confirm": {newPassword}}).StatusCode
}

func TestCVE_2016_11074_OldResetLinksDie(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	c := s.signedUp("alice")
	forgot := func() { s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}}) }
	// A newer request.
	forgot()
	first := s.link("alice@example.com", "/reset", 1)
	forgot()
	second := s.link("alice@example.com", "/reset", 2)
	if st := s.resetWith(first, "a new passphrase 1"); st != 422 {
		t.Errorf("an older link after a newer request: %d", st)
	}
	// A password change.
	if r := c.post("/account/password", url.Values{"current": {pw}, "password": {"changed passphrase"}, "confirm": {"changed passphrase"}}); r.StatusCode != 303 {
		t.Fatalf("change: %d", r.StatusCode)
	}
	if st := s.resetWith(second, "a new passphrase 2"); st != 422 {
		t.Errorf("a link after a password change: %d", st)
	}
	// An email change.
	s.clock.Advance(time.Hour) // past the mail limit
	forgot()
	third := s.link("alice@example.com", "/reset", 3)
	c.post("/login", url.Values{"email": {"alice@example.com"}, "password": {"changed passphrase"}})
	if r := c.post("/account/email", url.Values{"email": {"alice@new.example"}}); r.StatusCode != 303 || r.Header.Get("Location") != "/account" {
		t.Fatalf("change email: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	d := s.browser()
	d.follow(s.link("alice@new.example", "/confirm", 1))
	if r := d.post("/confirm", nil); r.StatusCode != 303 {
		t.Fatalf("confirm the new address: %d", r.StatusCode)
	}
	if st := s.resetWith(third, "a new passphrase 3"); st != 422 {
		t.Errorf("a link sent to the old address after an email change: %d", st)
	}
}

func TestCVE_2026_52809_ResetLinkLifetime(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	for _, u := range []string{"alice", "bob"} {
		s.browser().signup(u, u+"@example.com")
		s.browser().post("/forgot", url.Values{"email": {u + "@example.com"}})
	}
	alice, bob := s.link("alice@example.com", "/reset", 1), s.link("bob@example.com", "/reset", 1)
	ttl := s.app.Recovery.ResetTTL
	if ttl != 30*time.Minute {
		t.Fatalf("reset links last %s, SECURITY.md says 30 minutes", ttl)
	}
	s.clock.Advance(ttl - time.Minute)
	if st := s.resetWith(alice, "a new passphrase!"); st != 303 {
		t.Fatalf("a link a minute before it expires: %d", st)
	}
	s.clock.Advance(2 * time.Minute)
	if st := s.resetWith(bob, "a new passphrase!"); st != 422 {
		t.Fatalf("a link a minute after it expired: %d", st)
	}
}

func TestGHSA_2wmj_46rj_qm2w_GHSA_93m4_mfpg_c3xf_CVE_2025_64101_LinksFromBaseURL(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	for _, h := range []map[string]string{
		{"Host": "evil.example"},
		{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
		{"Forwarded": `for=1.2.3.4;host=evil.example;proto=https`},
		{"X-Host": "evil.example", "X-Original-Host": "evil.example"},
	} {
		name := fmt.Sprintf("user%d", len(s.smtp.Messages()))
		c := s.browser()
		req := c.newRequest("POST", "/signup", url.Values{"username": {name}, "email": {name + "@example.com"}, "password": {pw}}.Encode())
		for k, v := range h {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		c.send(req)
		s.link(name+"@example.com", "/confirm", 1)
		req = c.newRequest("POST", "/forgot", "email="+name+"%40example.com")
		for k, v := range h {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		c.send(req)
		s.link(name+"@example.com", "/reset", 1)
	}
	for _, m := range s.allMails() {
		if strings.Contains(m.Text, "evil") {
			t.Errorf("a mailed link uses a request header:\n%s", m.Text)
		}
	}
}

func TestCVE_2026_62376_TokensHashedAtRest(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	c := s.browser()
	c.signup("alice", "alice@example.com")
	confirm := strings.TrimPrefix(s.link("alice@example.com", "/confirm", 1), "/confirm?token=")
	c.login("alice@example.com", "remember", "1")
	api := s.apiToken(c, "x")
	_, validator, _ := strings.Cut(c.value("latch_remember"), ".")
	s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}})
	reset := strings.TrimPrefix(s.link("alice@example.com", "/reset", 1), "/reset?token=")
	_, codes := s.enrolTOTP(c)
	db := s.databaseBytes()
	if !strings.Contains(db, sha256URL(c.value("latch_session"))) {
		t.Fatal("the database files do not hold even the session's hash: the test reads the wrong files")
	}
	for name, v := range map[string]string{
		"session id": c.value("latch_session"), "remember-me validator": validator, "API token": api,
		"reset token": reset, "confirmation token": confirm, "recovery code": strings.ReplaceAll(codes[0], "-", ""), "password": pw,
	} {
		if strings.Contains(db, v) {
			t.Errorf("the database holds the %s in clear", name)
		}
	}
}

func TestCVE_2026_123512_LinkTokensNotInAccessLog(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	s.browser().signup("alice", "alice@example.com")
	confirm := s.link("alice@example.com", "/confirm", 1)
	s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}})
	reset := s.link("alice@example.com", "/reset", 1)
	for _, l := range []string{confirm, reset} {
		c := s.browser()
		c.follow(l)
		c.follow(l + "&x=1")
	}
	logs := s.logs.String()
	for _, l := range []string{confirm, reset} {
		_, tok, _ := strings.Cut(l, "token=")
		if strings.Contains(logs, tok) {
			t.Errorf("the log holds a link token")
		}
	}
	if !strings.Contains(logs, "path=/reset") {
		t.Fatal("the link requests were not logged at all")
	}
}

func TestCVE_2017_18908_ResetMailOnlyToTheStoredAddress(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t), args: []string{"-trusted-proxies", "127.0.0.1/32"}})
	s.browser().signup("alice", "alice@example.com")
	s.link("alice@example.com", "/confirm", 1)
	for i, f := range []string{
		"email=ALICE%40EXAMPLE.COM&email=attacker%40evil.example",
		"email=+alice%40example.com+",
		"email=Alice%40Example.com",
		"email=alice%40example.com%2Cattacker%40evil.example",
		"email=alice%40example.com%0d%0aBcc%3Aattacker%40evil.example",
		"email=%D0%B0lice%40example.com", // Cyrillic а
		"email[]=alice%40example.com&email[]=attacker%40evil.example",
	} {
		c := s.browser()
		req := c.newRequest("POST", "/forgot", f)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i+1))
		c.send(req)
	}
	for _, m := range s.allMails() {
		if len(m.To) != 1 || m.To[0] != "alice@example.com" || strings.Contains(string(m.Data), "evil.example") {
			t.Errorf("mail to %v", m.To)
		}
	}
}

func TestAuthboss_63_ResetBoundToTheLinksUser(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	s.browser().signup("alice", "alice@example.com")
	bob := s.signedUp("bob")
	s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}})
	// Bob, logged in, opens alice's link: it resets alice's password,
	// never bob's, and does not log bob in as alice.
	bob.follow(s.link("alice@example.com", "/reset", 1))
	if r := bob.post("/reset", url.Values{"password": {"a fresh secret phrase"}, "confirm": {"a fresh secret phrase"}}); r.StatusCode != 303 {
		t.Fatalf("reset: %d", r.StatusCode)
	}
	if !strings.Contains(bob.get("/api/me").body, `"username":"bob"`) {
		t.Fatal("bob's session changed user")
	}
	if s.browser().login("bob@example.com").StatusCode != 303 {
		t.Fatal("bob's password changed")
	}
	if s.browser().post("/login", url.Values{"email": {"alice@example.com"}, "password": {"a fresh secret phrase"}}).StatusCode != 303 {
		t.Fatal("alice's password did not change")
	}
}

// ---------------------------------------------------------------------
// User enumeration

// sameAnswer compares two responses field by field, ignoring the headers
// that differ by nature (date, request id).
func sameAnswer(t *testing.T, what string, a, b response) {
	t.Helper()
	if a.StatusCode != b.StatusCode {
		t.Errorf("%s: status %d vs %d", what, a.StatusCode, b.StatusCode)
	}
	if a.body != b.body {
		t.Errorf("%s: the bodies differ", what)
	}
	keys := func(h http.Header) []string {
		var k []string
		for name := range h {
			if name != "Date" && name != "X-Request-Id" {
				k = append(k, name+": "+strings.Join(h.Values(name), ", "))
			}
		}
		sort.Strings(k)
		return k
	}
	if ka, kb := keys(a.Header), keys(b.Header); !slices.Equal(ka, kb) {
		t.Errorf("%s: headers differ:\n%v\n%v", what, ka, kb)
	}
}

func TestCVE_2022_39307_ForgotPasswordDoesNotEnumerate(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	s.browser().signup("alice", "alice@example.com")
	// Addresses of the same length, so that the echoed value does not
	// change the length of the page.
	known := s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}})
	unknown := s.browser().post("/forgot", url.Values{"email": {"nobod@example.com"}})
	known.body = strings.ReplaceAll(known.body, "alice@example.com", "EMAIL")
	unknown.body = strings.ReplaceAll(unknown.body, "nobod@example.com", "EMAIL")
	sameAnswer(t, "forgot", known, unknown)
}

func TestCVE_2026_23849_CVE_2026_32595_CVE_2026_44332_UnknownUserCostsAHash(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{args: []string{"-trusted-proxies", "127.0.0.1/32"}})
	s.browser().signup("alice", "alice@example.com")
	var known, unknown []time.Duration
	for i := range 8 {
		for _, email := range []string{"alice@example.com", "nobod@example.com"} {
			before := s.hashes.Load()
			start := time.Now()
			r := s.browser().wrongLogin(email, "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i))
			d := time.Since(start)
			if r.StatusCode != 422 {
				t.Fatalf("%s: %d", email, r.StatusCode)
			}
			if n := s.hashes.Load() - before; n != 1 {
				t.Fatalf("a failed login for %s computed %d hashes, want 1", email, n)
			}
			if email == "alice@example.com" {
				known = append(known, d)
			} else {
				unknown = append(unknown, d)
			}
		}
		if i == 4 {
			s.clock.Advance(2 * time.Minute) // stay under the account limit
		}
	}
	median := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	// Measured, not asserted: wall-clock times vary with the machine.
	t.Logf("median failed login: known email %v, unknown email %v (ratio %.2f)",
		median(known), median(unknown), float64(median(unknown))/float64(median(known)))
}

func TestCVE_2026_23511_LoginDoesNotEnumerate(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	s.browser().signup("alice", "alice@example.com")
	known := s.browser().wrongLogin("alice@example.com")
	unknown := s.browser().wrongLogin("nobod@example.com")
	known.body = strings.ReplaceAll(known.body, "alice@example.com", "EMAIL")
	unknown.body = strings.ReplaceAll(unknown.body, "nobod@example.com", "EMAIL")
	sameAnswer(t, "login", known, unknown)
}

// ---------------------------------------------------------------------
// Brute force

func TestCVE_2024_21662_CVE_2024_21652_CounterNotEvicted(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{args: []string{"-trusted-proxies", "127.0.0.1/32"}})
	s.browser().signup("alice", "alice@example.com")
	ip := 0
	next := func() string { ip++; return fmt.Sprintf("10.%d.%d.%d", ip>>16&255, ip>>8&255, ip&255) }
	for range account.DefaultLimits.LoginAccount.Free {
		s.browser().wrongLogin("alice@example.com", "X-Forwarded-For", next())
	}
	// Spraying thousands of other accounts: through the site for some,
	// and straight into the counter store for the bulk (the store has no
	// capacity to evict from; going through HTTP would only add hashing
	// time).
	for i := range 30 {
		s.browser().wrongLogin(fmt.Sprintf("spray%d@example.com", i), "X-Forwarded-For", next())
	}
	ctx := context.Background()
	for i := range 1000 {
		key := throttle.Key("login:acct", fmt.Sprintf("bulk%d@example.com", i))
		if _, err := s.app.Backend.TakeAttempt(ctx, key, s.clock.Now(), throttle.Rule{Window: time.Hour, Free: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if r := s.browser().login("alice@example.com", "X-Forwarded-For", next()); r.StatusCode != 429 {
		t.Fatalf("alice's counter was lost among the sprayed accounts: %d", r.StatusCode)
	}
}

func TestCVE_2025_64102_CVE_2024_32868_OneCounterForEveryPasswordCheck(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	endpoints := []func() response{
		func() response { return s.browser().wrongLogin("alice@example.com") },
		func() response { return c.post("/reauth", url.Values{"password": {"wrong guess"}}) },
		func() response {
			return c.post("/account/password", url.Values{"current": {"wrong guess"}, "password": {"a new passphrase!"}, "confirm": {"a new passphrase!"}})
		},
	}
	limited := map[int]bool{}
	for i := 0; i < 3*(account.DefaultLimits.LoginAccount.Free+1); i++ {
		if r := endpoints[i%3](); r.StatusCode == 429 {
			limited[i%3] = true
			if i >= account.DefaultLimits.LoginAccount.Free {
				continue
			}
			t.Fatalf("limited after only %d failures", i)
		}
	}
	if len(limited) != 3 {
		t.Fatalf("not every password form is limited: %v", limited)
	}
}

func TestCVE_2016_11069_CVE_2026_123521_ChangePasswordThrottled(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	for i := 1; i <= 100; i++ {
		r := c.post("/account/password", url.Values{"current": {fmt.Sprintf("guess %d", i)}, "password": {"a new passphrase!"}, "confirm": {"a new passphrase!"}})
		if r.StatusCode == 429 {
			if i > account.DefaultLimits.LoginAccount.Free+1 {
				t.Fatalf("throttled only after %d guesses", i)
			}
			return
		}
	}
	t.Fatal("100 wrong current passwords, never throttled")
}

func TestCVE_2026_26233_CVE_2026_33419_LoginRateLimited(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	s.browser().signup("alice", "alice@example.com")
	for i := 1; i <= 20; i++ {
		if r := s.browser().wrongLogin("alice@example.com"); r.StatusCode == 429 {
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			return
		}
	}
	t.Fatal("20 wrong passwords, never throttled")
}

func TestCVE_2026_24458_HugePasswords(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	before := s.hashes.Load()
	for _, f := range []url.Values{
		{"email": {"a@example.com"}, "password": {strings.Repeat("x", 1<<20)}},
		{"username": {"alice"}, "email": {"alice@example.com"}, "password": {strings.Repeat("x", 1<<20)}},
	} {
		path := "/login"
		if f.Has("username") {
			path = "/signup"
		}
		if r := s.browser().post(path, f); r.StatusCode != 413 {
			t.Errorf("1 MB password at %s: %d", path, r.StatusCode)
		}
	}
	if s.hashes.Load() != before {
		t.Fatal("a 1 MB password was hashed")
	}
	// Passwords around bcrypt's 72-byte limit are not truncated.
	for i, n := range []int{73, 100, 200} {
		p := strings.Repeat("pass-phrase ", 20)[:n]
		name := fmt.Sprintf("user%d", i)
		if r := s.browser().post("/signup", url.Values{"username": {name}, "email": {name + "@example.com"}, "password": {p}}); r.StatusCode != 303 {
			t.Fatalf("%d-byte password: %d", n, r.StatusCode)
		}
		if r := s.browser().post("/login", url.Values{"email": {name + "@example.com"}, "password": {p[:72]}}); r.StatusCode != 422 {
			t.Errorf("%d-byte password logs in with its first 72 bytes", n)
		}
	}
}

// ---------------------------------------------------------------------
// Tokens and second factors

func TestCVE_2024_38351_AccountPreHijackingUndone(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	// The attacker registers the victim's address, never confirms it,
	// and arms the account: a second factor, an API token, a remembered
	// device.
	attacker := s.browser()
	attacker.signup("victim", "victim@example.com")
	attacker.login("victim@example.com", "remember", "1")
	s.enrolTOTP(attacker)
	api := s.apiToken(attacker, "backdoor")
	rem := attacker.value("latch_remember")
	// The victim resets the password through their mailbox.
	s.browser().post("/forgot", url.Values{"email": {"victim@example.com"}})
	if st := s.resetWith(s.link("victim@example.com", "/reset", 1), "a passphrase of my own"); st != 303 {
		t.Fatalf("reset: %d", st)
	}
	if attacker.loggedIn() || s.only("latch_remember", rem).loggedIn() || s.bearer(api) != 401 {
		t.Fatal("the attacker kept access")
	}
	// The attacker's second factor is gone: the victim logs in with the
	// password alone, and the attacker's codes do nothing.
	v := s.browser()
	r := v.post("/login", url.Values{"email": {"victim@example.com"}, "password": {"a passphrase of my own"}})
	if r.Header.Get("Location") != "/" || !v.loggedIn() {
		t.Fatalf("victim's login → %q", r.Header.Get("Location"))
	}
	if !s.user("victim@example.com").EmailConfirmed() || s.user("victim@example.com").TwoFactor() {
		t.Fatal("after the reset the address is unconfirmed or the attacker's second factor remains")
	}
}

func TestCVE_2026_27840_TruncatedOrAlteredTokensRejected(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	c := s.signedUp("alice", "remember", "1")
	api := s.apiToken(c, "x")
	sess, rem := c.value("latch_session"), c.value("latch_remember")
	s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}})
	reset := strings.TrimPrefix(s.link("alice@example.com", "/reset", 1), "/reset?token=")
	// other is a character of the token alphabet other than c.
	other := func(c byte) string {
		if c == 'A' {
			return "B"
		}
		return "A"
	}
	variants := func(v string) []string {
		n := len(v)
		return []string{v[:n-1], v[:n-4], v[:n/2], v[:n-2] + other(v[n-2]) + v[n-1:], other(v[0]) + v[1:], v + "A"}
	}
	for _, v := range variants(api) {
		if s.bearer(v) != 401 {
			t.Errorf("API token variant %q accepted", v)
		}
	}
	for _, v := range variants(sess) {
		if s.only("latch_session", v).loggedIn() {
			t.Errorf("session variant accepted")
		}
	}
	for _, v := range variants(rem) {
		if s.only("latch_remember", v).loggedIn() {
			t.Errorf("remember-me variant accepted")
		}
	}
	for _, v := range variants(reset) {
		if st := s.resetWith("/reset?token="+v, "hijacked passphrase"); st != 422 {
			t.Errorf("reset token variant: %d", st)
		}
	}
	if st := s.resetWith("/reset?token="+reset, "a new passphrase!"); st != 303 {
		t.Fatalf("the real reset token: %d", st)
	}
}

func TestCVE_2026_26196_NoTokensInTheQueryString(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	api := s.apiToken(c, "x")
	for _, q := range []string{"token", "access_token", "api_key", "apikey", "private_token", "bearer"} {
		for _, p := range []string{"/api/me", "/account", "/user/alice"} {
			r := s.browser().get(p + "?" + q + "=" + url.QueryEscape(api))
			if r.StatusCode == 200 {
				t.Errorf("%s?%s= accepted", p, q)
			}
		}
	}
}

func TestCVE_2026_28699_CVE_2026_33315_NoAlternatePathAroundTheSecondFactor(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	s.enrolTOTP(c)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice@example.com:"+pw))
	for _, p := range []string{"/api/me", "/account", "/user/alice"} {
		r := s.browser().get(p, "Authorization", basic)
		if r.StatusCode == 200 {
			t.Errorf("Basic auth on %s: 200", p)
		}
	}
	// An API token is created only from a session that passed both
	// factors and a fresh check; it never reaches fresh pages.
	api := s.apiToken(c, "x")
	if r := s.browser().get("/account/password", "Authorization", "Bearer "+api); r.StatusCode != 401 {
		t.Fatalf("API token on a fresh page: %d", r.StatusCode)
	}
}

func TestCVE_2024_45042_FirstFactorAloneReachesNothing(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	s.enrolTOTP(c)
	d := s.browser()
	d.login("alice@example.com")
	for _, p := range []string{"/account", "/user/alice", "/account/tokens", "/reauth"} {
		if r := d.get(p); r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("GET %s after the first factor: %d %q", p, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if d.loggedIn() {
		t.Fatal("the first factor alone logged in")
	}
	if r := d.post("/account/tokens", url.Values{"name": {"x"}}); r.StatusCode != 303 || r.Header.Get("Location") != "/login" {
		t.Fatalf("token after the first factor: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestCVE_2026_33503_ClientSuppliedReferencesValidated(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	bob := s.signedUp("bob")
	bobSessions, _ := s.app.Auth.UserSessions(context.Background(), s.user("bob@example.com").ID)
	alice := s.signedUp("alice")
	for _, v := range []string{bobSessions[0].Hash, "' OR 1=1 --", "", "%", strings.Repeat("A", 5000), "../../x", bobSessions[0].Hash + "A"} {
		for _, field := range []string{"session", "remember"} {
			r := alice.post("/account/devices/revoke", url.Values{field: {v}})
			if r.StatusCode != 404 {
				t.Errorf("revoke %s=%.20q: %d", field, v, r.StatusCode)
			}
		}
	}
	for _, id := range []string{"0", "-1", "1e3", "99999999999999999999", "1;2", "x"} {
		if r := alice.post("/account/tokens/"+url.PathEscape(id)+"/revoke", nil); r.StatusCode != 404 {
			t.Errorf("revoke token %q: %d", id, r.StatusCode)
		}
	}
	if !bob.loggedIn() {
		t.Fatal("bob's session was ended by alice")
	}
}

func TestCVE_2025_58186_TenThousandCookies(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	var b strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&b, "c%d=v; ", i)
	}
	b.WriteString("latch_session=" + c.value("latch_session"))
	for _, p := range []string{"/", "/api/me", "/account"} {
		req := s.browser().newRequest("GET", p, "")
		req.Header.Set("Cookie", b.String())
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		res.Body.Close()
		// Ignored (the request is anonymous) or refused, never a crash
		// and never a login.
		if res.StatusCode >= 500 || res.StatusCode == 200 && p != "/" {
			t.Errorf("%s with 10,000 cookies: %d", p, res.StatusCode)
		}
	}
	if !c.loggedIn() {
		t.Fatal("the site stopped answering the real browser")
	}
}

// ---------------------------------------------------------------------
// Lessons from other ecosystems

func TestGHSA_2ccf_ffrj_m4qw_PreLoginSessionDataDropped(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	s.browser().signup("alice", "alice@example.com")
	s.browser().signup("mallory", "mallory@example.com")
	s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}})
	// A browser holds alice's reset link in its anonymous session, then
	// somebody logs in on it: the new session starts empty.
	c := s.browser()
	c.follow(s.link("alice@example.com", "/reset", 1))
	c.login("mallory@example.com")
	if r := c.post("/reset", url.Values{"password": {"hijacked passphrase"}, "confirm": {"hijacked passphrase"}}); r.StatusCode != 422 {
		t.Fatalf("the reset link survived a login: %d", r.StatusCode)
	}
}

func TestGitLab_222508_RevokingASessionRevokesItsRememberMe(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	phone := s.browser()
	phone.login("alice@example.com", "remember", "1")
	rem := phone.value("latch_remember")
	hashes := regexp.MustCompile(`name="session" value="([^"]+)"`).FindAllStringSubmatch(c.get("/account/devices").body, -1)
	if len(hashes) != 1 {
		t.Fatalf("%d other sessions", len(hashes))
	}
	c.post("/account/devices/revoke", url.Values{"session": {hashes[0][1]}})
	if s.only("latch_remember", rem).loggedIn() {
		t.Fatal("the revoked session's remember-me token works")
	}
	// "Log out everywhere else" too.
	tablet := s.browser()
	tablet.login("alice@example.com", "remember", "1")
	trem := tablet.value("latch_remember")
	c.post("/account/devices/revoke-others", nil)
	if s.only("latch_remember", trem).loggedIn() {
		t.Fatal("a remember-me token survived 'log out everywhere else'")
	}
}

func TestGHSA_hh7m_rx4f_4vpv_NoTokenReturnedToAGet(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice", "remember", "1")
	api := s.apiToken(c, "x")
	secrets := []string{c.value("latch_session"), c.value("latch_remember"), api}
	for _, p := range append(htmlPages, "/api/me", "/login", "/signup") {
		for _, h := range [][]string{nil, {"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}} {
			r := c.get(p, h...)
			for _, sec := range secrets {
				if strings.Contains(r.body, sec) {
					t.Errorf("GET %s returns a token", p)
				}
			}
		}
	}
}

func TestCVE_2021_32618_CVE_2023_49438_RelativeLocationNotRelied(t *testing.T) {
	t.Parallel()
	// Flask-Security trusted the WSGI layer to make Location absolute;
	// latch sends the validated relative path and nothing else.
	s := startSite(t, siteOptions{})
	s.browser().signup("alice", "alice@example.com")
	offSite(t, s, "/\\github.com", "/\\/github.com", "\\/github.com")
	if loc := s.loginNext("alice@example.com", "/user/alice"); loc != "/user/alice" {
		t.Fatalf("safe next → %q", loc)
	}
}
