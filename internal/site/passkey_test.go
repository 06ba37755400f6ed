package site_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchgo/latch/internal/webauthntest"
)

// passkeyOrigin is the base URL of the passkey tests: passkeys need a host
// name, so the site is configured for localhost (the test client talks to
// 127.0.0.1 all the same; only the authenticator names the origin).
const passkeyOrigin = "http://localhost:8080"

func passkeySite(t *testing.T) *asvsSite {
	return startSite(t, siteOptions{args: []string{"-base-url", passkeyOrigin}})
}

// call posts a passkey call (JSON) and returns the status and the body.
func (c *client) call(path string, body []byte) (int, map[string]string, []byte) {
	c.s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.s.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		c.s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.http.Do(req)
	if err != nil {
		c.s.t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	var out map[string]string
	_ = json.Unmarshal(buf.Bytes(), &out)
	return res.StatusCode, out, buf.Bytes()
}

// addPasskey registers a new passkey for c's (fresh) login.
func (s *asvsSite) addPasskey(c *client, name string) *webauthntest.Key {
	s.t.Helper()
	status, _, opts := c.call("/account/passkeys/begin", nil)
	if status != 200 {
		s.t.Fatalf("begin registration: %d %s", status, opts)
	}
	k := webauthntest.NewKey("localhost", passkeyOrigin)
	answer, err := k.Register(opts)
	if err != nil {
		s.t.Fatal(err)
	}
	status, out, raw := c.call("/account/passkeys/finish?name="+url.QueryEscape(name), answer)
	if status != 200 || out["redirect"] != "/account/passkeys" {
		s.t.Fatalf("finish registration: %d %s", status, raw)
	}
	return k
}

// passkeyLogin logs c in with k; query is added to both calls.
func passkeyLogin(t *testing.T, c *client, k *webauthntest.Key, query string) (int, map[string]string) {
	t.Helper()
	status, _, opts := c.call("/login/passkey/begin?"+query, nil)
	if status != 200 {
		return status, nil
	}
	answer, err := k.Sign(opts)
	if err != nil {
		t.Fatal(err)
	}
	status, out, _ := c.call("/login/passkey/finish?"+query, answer)
	return status, out
}

func TestPasskeysThroughTheSite(t *testing.T) {
	t.Parallel()
	s := passkeySite(t)
	c := s.signedUp("ann")

	page := c.get("/account/passkeys")
	mustContain(t, page.body, "You have no passkey yet.", `data-passkey="register"`, `<script src="/static/passkey.js" defer></script>`)
	if d := csp(page.Header.Get("Content-Security-Policy")); d["script-src"] != "'self'" || d["connect-src"] != "'self'" || d["default-src"] != "'none'" {
		t.Errorf("the passkeys page's CSP: %q", page.Header.Get("Content-Security-Policy"))
	}
	if js := c.get("/static/passkey.js"); js.StatusCode != 200 || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("the script: %d %q", js.StatusCode, js.Header.Get("Content-Type"))
	}

	k := s.addPasskey(c, "Ann's <phone>")
	page = c.get("/account/passkeys")
	mustContain(t, page.body, "Ann&#39;s &lt;phone&gt;", "never", "is ready")

	// Another browser logs in with it, without a password, and lands
	// where it was going; "remember me" is kept.
	d := s.browser()
	status, out := passkeyLogin(t, d, k, "next=%2Faccount&remember=1")
	if status != 200 || out["redirect"] != "/account" {
		t.Fatalf("passkey login: %d %v", status, out)
	}
	if d.cookie("latch_remember") == nil {
		t.Error("remember me was not set")
	}
	acct := d.get("/account")
	if acct.StatusCode != 200 {
		t.Fatalf("/account after a passkey login: %d", acct.StatusCode)
	}
	mustContain(t, acct.body, "Logged in with a passkey", "Ann&#39;s &lt;phone&gt;")
	// A passkey login is fresh: it may add another passkey at once.
	s.addPasskey(d, "second")

	// An unsafe next is dropped.
	e := s.browser()
	if status, out := passkeyLogin(t, e, k, "next=%2F%2Fevil.example"); status != 200 || out["redirect"] != "/" {
		t.Errorf("a passkey login with an unsafe next: %d %v", status, out)
	}

	// The ceremony is used once: the same answer again is refused.
	f := s.browser()
	_, _, opts := f.call("/login/passkey/begin", nil)
	answer, _ := k.Sign(opts)
	if status, _, _ := f.call("/login/passkey/finish", answer); status != 200 {
		t.Fatalf("login: %d", status)
	}
	f.post("/logout", url.Values{})
	if status, out, _ := f.call("/login/passkey/finish", answer); status != http.StatusUnprocessableEntity || out["error"] == "" {
		t.Errorf("a replayed answer: %d %v", status, out)
	}

	// Rename and remove, by the owner only.
	u := s.user("ann@example.com")
	keys, err := s.app.Passkeys.List(t.Context(), u)
	if err != nil || len(keys) != 2 {
		t.Fatalf("passkeys: %d, %v", len(keys), err)
	}
	bob := s.signedUp("bob")
	if r := bob.post("/account/passkeys/"+keys[0].ID+"/delete", url.Values{}); r.StatusCode != 404 {
		t.Errorf("bob removing ann's passkey: %d", r.StatusCode)
	}
	if r := c.post("/account/passkeys/"+keys[0].ID+"/rename", url.Values{"name": {"Work phone"}}); r.StatusCode != 303 {
		t.Errorf("rename: %d", r.StatusCode)
	}
	if r := c.post("/account/passkeys/"+keys[0].ID+"/delete", url.Values{}); r.StatusCode != 303 {
		t.Errorf("remove: %d", r.StatusCode)
	}
	if status, _ := passkeyLogin(t, s.browser(), k, ""); status != http.StatusUnprocessableEntity {
		t.Errorf("a removed passkey logged in: %d", status)
	}
	mustContain(t, c.get("/account").body, "Passkey renamed", "Passkey removed")
}

// TestPasskeyRevokedWithEverythingElse: a password change ends the
// passkeys too, as it ends sessions and tokens.
func TestPasskeyRevokedWithEverythingElse(t *testing.T) {
	t.Parallel()
	s := passkeySite(t)
	c := s.signedUp("ann")
	k := s.addPasskey(c, "phone")
	r := c.post("/account/password", url.Values{"current": {pw}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
	if r.StatusCode != 303 {
		t.Fatalf("change password: %d", r.StatusCode)
	}
	if status, _ := passkeyLogin(t, s.browser(), k, ""); status != http.StatusUnprocessableEntity {
		t.Errorf("a passkey after a password change: %d", status)
	}
	mustContain(t, c.get("/account/passkeys").body, "You have no passkey yet.")
}

// TestPasskeyAsSecondFactor: after the password, a passkey of the same
// user stands in for the code; another user's does not.
func TestPasskeyAsSecondFactor(t *testing.T) {
	t.Parallel()
	s := passkeySite(t)
	c := s.signedUp("ann")
	s.enrolTOTP(c)
	k := s.addPasskey(c, "phone")
	other := s.addPasskey(s.signedUp("bob"), "bob's")

	d := s.browser()
	if r := d.login("ann@example.com", "next", "/account/devices"); r.StatusCode != 303 || r.Header.Get("Location") != "/login/2fa" {
		t.Fatalf("password step: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	mustContain(t, d.get("/login/2fa").body, `data-passkey="login"`, "Use a passkey")
	if status, _ := passkeyLogin(t, d, other, "second=1"); status != http.StatusUnprocessableEntity {
		t.Errorf("bob's passkey at ann's second step: %d", status)
	}
	status, out := passkeyLogin(t, d, k, "second=1")
	if status != 200 || out["redirect"] != "/account/devices" {
		t.Fatalf("passkey as the second step: %d %v", status, out)
	}
	if r := d.get("/account/devices"); r.StatusCode != 200 {
		t.Errorf("logged in after the second step: %d", r.StatusCode)
	}
	// The pending login is used up.
	if r := d.get("/login/2fa"); r.StatusCode != 303 {
		t.Errorf("the second step after it was done: %d", r.StatusCode)
	}
}

// TestPasskeyPagesOnly: the passkey script is on the pages that offer
// passkeys and nowhere else; a site without a host name offers none.
func TestPasskeyPagesOnly(t *testing.T) {
	t.Parallel()
	s := passkeySite(t)
	c := s.signedUp("ann")
	anon := s.browser()
	for _, p := range []struct {
		c      *client
		path   string
		script bool
	}{
		{anon, "/login", true},
		{anon, "/", false},
		{anon, "/signup", false},
		{c, "/account", false},
		{c, "/account/passkeys", true},
		{c, "/account/devices", false},
		{c, "/user/ann", false},
	} {
		r := p.c.get(p.path)
		has := strings.Contains(r.body, "<script")
		d := csp(r.Header.Get("Content-Security-Policy"))
		_, allows := d["script-src"]
		if has != p.script || allows != p.script || d["default-src"] != "'none'" {
			t.Errorf("%s: script %v, CSP %q; want script %v", p.path, has, r.Header.Get("Content-Security-Policy"), p.script)
		}
	}

	ip := startSite(t, siteOptions{})
	if ip.app.Passkeys != nil {
		t.Error("passkeys on at an IP address")
	}
	if r := ip.browser().get("/login"); strings.Contains(r.body, "passkey") {
		t.Error("the login page offers passkeys at an IP address")
	}
	if r := ip.signedUp("ann").get("/account/passkeys"); r.StatusCode != 404 {
		t.Errorf("/account/passkeys at an IP address: %d", r.StatusCode)
	}
}
