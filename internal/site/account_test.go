package site_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchgo/latch/internal/server"
	"github.com/latchgo/latch/mailer"
	"github.com/latchgo/latch/mailer/smtptest"
)

// mailSite is a site whose mail goes through real SMTP to a test server.
type mailSite struct {
	*testSite
	smtp *smtptest.Server
}

func newMailSite(t *testing.T, args ...string) *mailSite {
	t.Helper()
	smtp := smtptest.NewServer(t)
	dir := t.TempDir()
	// The site's address is only known once the server listens, and the
	// base URL must match it for the cross-origin check; an unstarted
	// httptest server gives us the address first.
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	cfg, _, err := server.ParseFlags("test", append([]string{"-database", filepath.Join(dir, "latch.db"), "-base-url", base}, args...),
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
	sender, err := mailer.NewSMTP(smtp.URL(), "latch <no-reply@latch.example>")
	if err != nil {
		t.Fatal(err)
	}
	app, err := server.NewAppWithSender(cfg, backend, logger, sender)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = app.Site.Handler()
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.Close(ctx)
		backend.Close()
	})
	return &mailSite{testSite: &testSite{t: t, app: app, srv: srv, logs: logs}, smtp: smtp}
}

// linkIn waits for the n-th mail (1-based) and returns the first link in
// it under the site's base URL.
func (m *mailSite) linkIn(n int, to string) string {
	m.t.Helper()
	msgs := m.smtp.WaitFor(m.t, n, 5*time.Second)
	msg := msgs[n-1]
	if len(msg.To) != 1 || msg.To[0] != to {
		m.t.Fatalf("mail %d went to %v, want %s", n, msg.To, to)
	}
	link := smtptest.Link(msg.Text, m.srv.URL)
	if link == "" {
		m.t.Fatalf("mail %d has no link to %s:\n%s", n, m.srv.URL, msg.Text)
	}
	return strings.TrimPrefix(link, m.srv.URL)
}

// follow opens a mailed link the way a browser does: the token moves into
// the session and the address bar loses it.
func (c *client) follow(link string) response {
	c.s.t.Helper()
	r := c.get(link)
	if r.StatusCode != http.StatusSeeOther || strings.Contains(r.Header.Get("Location"), "token") {
		c.s.t.Fatalf("opening %s: %d → %q", link, r.StatusCode, r.Header.Get("Location"))
	}
	if r.Header.Get("Referrer-Policy") != "no-referrer" {
		c.s.t.Errorf("link landing has Referrer-Policy %q", r.Header.Get("Referrer-Policy"))
	}
	return c.get(r.Header.Get("Location"))
}

func TestEmailConfirmation(t *testing.T) {
	s := newMailSite(t, "-require-email-confirmation")
	c := s.browser()
	if r := c.signup("alice", "alice@example.com"); r.StatusCode != 303 {
		t.Fatal(r.Status)
	}
	link := s.linkIn(1, "alice@example.com")
	if !strings.HasPrefix(link, "/confirm?token=") {
		t.Fatalf("link %q", link)
	}
	r := c.login("alice@example.com")
	if r.StatusCode != 422 {
		t.Fatalf("unconfirmed login: %d", r.StatusCode)
	}
	mustContain(t, r.body, "Confirm your email address first", `href="/confirm/resend"`)

	page := c.follow(link)
	mustContain(t, page.body, `action="/confirm"`)
	if page.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Error("confirm page may leak its URL")
	}
	r = c.post("/confirm", nil)
	if r.StatusCode != 303 {
		t.Fatalf("confirm: %d %s", r.StatusCode, r.body)
	}
	if r := c.login("alice@example.com"); r.StatusCode != 303 {
		t.Fatalf("confirmed login: %d", r.StatusCode)
	}
	mustContain(t, c.get("/account").body, "confirmed")
	// The link was single-use.
	d := s.browser()
	d.follow(link)
	if r := d.post("/confirm", nil); r.StatusCode != 422 {
		t.Fatalf("second use: %d", r.StatusCode)
	}
}

func TestPasswordResetThroughTheSite(t *testing.T) {
	s := newMailSite(t)
	alice := s.browser()
	alice.signup("alice", "alice@example.com")
	s.smtp.WaitFor(t, 1, 5*time.Second) // the confirmation mail
	alice.login("alice@example.com", "remember", "1")
	other := s.browser()
	other.login("alice@example.com", "remember", "1")

	// The answer for a known and an unknown address is the same.
	anon := s.browser()
	known := anon.post("/forgot", url.Values{"email": {"alice@example.com"}}, "Host", "evil.example", "X-Forwarded-Host", "evil.example")
	unknown := anon.post("/forgot", url.Values{"email": {"nobody@example.com"}})
	if known.StatusCode != 200 || unknown.StatusCode != 200 {
		t.Fatalf("%d %d", known.StatusCode, unknown.StatusCode)
	}
	strip := func(b string) string {
		return strings.NewReplacer("alice@example.com", "", "nobody@example.com", "").Replace(b)
	}
	if strip(known.body) != strip(unknown.body) {
		t.Error("forgot-password answers differ for known and unknown addresses")
	}
	link := s.linkIn(2, "alice@example.com")
	if !strings.HasPrefix(link, "/reset?token=") {
		t.Fatalf("link %q (must be built from -base-url, not Host)", link)
	}

	page := anon.follow(link)
	mustContain(t, page.body, `name="password"`, `name="confirm"`, `autocomplete="new-password"`)
	if r := anon.post("/reset", url.Values{"password": {"brand new passphrase"}, "confirm": {"different"}}); r.StatusCode != 422 {
		t.Fatalf("mismatch: %d", r.StatusCode)
	}
	if r := anon.post("/reset", url.Values{"password": {"password1"}, "confirm": {"password1"}}); r.StatusCode != 422 {
		t.Fatalf("weak password: %d", r.StatusCode)
	}
	r := anon.post("/reset", url.Values{"password": {"brand new passphrase"}, "confirm": {"brand new passphrase"}})
	if r.StatusCode != 303 || r.Header.Get("Location") != "/login" {
		t.Fatalf("reset: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// Not logged in by the reset; every session and remember-me token of
	// the account ended.
	if anon.get("/api/me").StatusCode != 401 {
		t.Fatal("the reset logged the browser in")
	}
	for _, c := range []*client{alice, other} {
		if c.get("/api/me").StatusCode != 401 {
			t.Fatal("a session survived the reset")
		}
		c.restart()
		if c.get("/api/me").StatusCode != 401 {
			t.Fatal("a remember-me token survived the reset")
		}
	}
	if r := s.browser().post("/login", url.Values{"email": {"alice@example.com"}, "password": {pw}}); r.StatusCode != 422 {
		t.Fatal("old password still works")
	}
	if r := s.browser().post("/login", url.Values{"email": {"alice@example.com"}, "password": {"brand new passphrase"}}); r.StatusCode != 303 {
		t.Fatal("new password does not work")
	}
	// The link is spent.
	again := s.browser()
	again.follow(link)
	if r := again.post("/reset", url.Values{"password": {"third passphrase!"}, "confirm": {"third passphrase!"}}); r.StatusCode != 422 {
		t.Fatalf("reused link: %d", r.StatusCode)
	}
	if got := s.smtp.WaitFor(t, 3, 5*time.Second)[2]; !strings.Contains(got.Subject, "changed") {
		t.Errorf("no change notice: %q", got.Subject)
	}
}

func TestChangePasswordNeedsFreshLoginAndKeepsThisSession(t *testing.T) {
	s := newMailSite(t)
	c := s.browser()
	c.signup("alice", "alice@example.com")
	c.login("alice@example.com", "remember", "1")
	laptop := s.browser()
	laptop.login("alice@example.com", "remember", "1")

	c.restart() // back through remember me: not fresh
	r := c.get("/account/password")
	if r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/reauth") {
		t.Fatalf("stale session: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := c.post("/reauth", url.Values{"password": {pw}, "next": {"/account/password"}}); r.Header.Get("Location") != "/account/password" {
		t.Fatalf("reauth → %q", r.Header.Get("Location"))
	}
	// The password was just entered on /reauth: the form does not ask
	// for it again.
	r = c.post("/account/password", url.Values{"password": {"brand new passphrase"}, "confirm": {"brand new passphrase"}})
	if r.StatusCode != 303 {
		t.Fatalf("change: %d %s", r.StatusCode, r.body)
	}
	if c.get("/api/me").StatusCode != 200 {
		t.Fatal("this session ended")
	}
	if laptop.get("/api/me").StatusCode != 401 {
		t.Fatal("the other session survived")
	}
	laptop.restart()
	if laptop.get("/api/me").StatusCode != 401 {
		t.Fatal("the other device's remember-me survived")
	}
	c.restart()
	if c.get("/api/me").StatusCode != 401 {
		t.Fatal("this device's remember-me token survived the password change")
	}
}

func TestChangeEmail(t *testing.T) {
	s := newMailSite(t)
	c := s.browser()
	c.signup("alice", "alice@example.com")
	s.smtp.WaitFor(t, 1, 5*time.Second)
	c.login("alice@example.com")
	if r := c.post("/account/email", url.Values{"email": {"not an email"}}); r.StatusCode != 422 {
		t.Fatalf("bad address: %d", r.StatusCode)
	}
	if r := c.post("/account/email", url.Values{"email": {"alice@new.example"}}); r.StatusCode != 303 {
		t.Fatalf("change: %d %s", r.StatusCode, r.body)
	}
	msgs := s.smtp.WaitFor(t, 3, 5*time.Second)
	var toNew, toOld string
	for _, m := range msgs[1:] {
		switch m.To[0] {
		case "alice@new.example":
			toNew = smtptest.Link(m.Text, s.srv.URL)
		case "alice@example.com":
			toOld = m.Text
		}
	}
	if toNew == "" || !strings.Contains(toOld, "alice@new.example") {
		t.Fatalf("mails: %+v", msgs)
	}
	if r := s.browser().login("alice@example.com"); r.StatusCode != 303 {
		t.Fatal("address changed before the new one confirmed")
	}
	c.follow(strings.TrimPrefix(toNew, s.srv.URL))
	if r := c.post("/confirm", nil); r.StatusCode != 303 {
		t.Fatalf("confirm: %d", r.StatusCode)
	}
	if r := s.browser().login("alice@new.example"); r.StatusCode != 303 {
		t.Fatal("new address does not log in")
	}
}

func TestDeleteAccount(t *testing.T) {
	s := newMailSite(t)
	c := s.browser()
	c.signup("alice", "alice@example.com")
	c.login("alice@example.com", "remember", "1")
	phone := s.browser()
	phone.login("alice@example.com")
	if r := c.post("/account/delete", url.Values{"confirm": {"bob"}}); r.StatusCode != 422 {
		t.Fatalf("wrong confirmation: %d", r.StatusCode)
	}
	r := c.post("/account/delete", url.Values{"confirm": {"alice"}})
	if r.StatusCode != 303 || r.Header.Get("Clear-Site-Data") == "" {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if phone.get("/api/me").StatusCode != 401 {
		t.Fatal("another session survived the deletion")
	}
	if r := s.browser().login("alice@example.com"); r.StatusCode != 422 {
		t.Fatal("deleted account logs in")
	}
	if r := s.browser().signup("alice", "alice@example.com"); r.StatusCode != 303 {
		t.Fatal("username and email not free again")
	}
}

func TestDevices(t *testing.T) {
	s := newMailSite(t)
	c := s.browser()
	c.signup("alice", "alice@example.com")
	c.login("alice@example.com")
	phone := s.browser()
	phone.login("alice@example.com", "remember", "1")
	r := c.get("/account/devices")
	mustContain(t, r.body, "this device", "Remembered devices")
	hashes := regexp.MustCompile(`name="session" value="([^"]+)"`).FindAllStringSubmatch(r.body, -1)
	if len(hashes) != 1 {
		t.Fatalf("%d other sessions listed, want 1", len(hashes))
	}
	if r := c.post("/account/devices/revoke", url.Values{"session": {hashes[0][1]}}); r.StatusCode != 303 {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	if phone.get("/api/me").StatusCode != 401 {
		t.Fatal("revoked session alive")
	}
	phone.restart()
	if phone.get("/api/me").StatusCode != 401 {
		t.Fatal("revoked device's remember-me alive")
	}
	// Another user cannot revoke alice's sessions.
	bob := s.browser()
	bob.signup("bob", "bob@example.com")
	bob.login("bob@example.com")
	if r := bob.post("/account/devices/revoke", url.Values{"session": {s.sessionHash(c)}}); r.StatusCode != 404 {
		t.Fatalf("bob revoking alice's session: %d", r.StatusCode)
	}
	if c.get("/api/me").StatusCode != 200 {
		t.Fatal("bob ended alice's session")
	}
	tablet := s.browser()
	tablet.login("alice@example.com")
	if r := c.post("/account/devices/revoke-others", nil); r.StatusCode != 303 {
		t.Fatal(r.Status)
	}
	if tablet.get("/api/me").StatusCode != 401 || c.get("/api/me").StatusCode != 200 {
		t.Fatal("log out everywhere else")
	}
}

// sessionHash is the hash of c's session cookie, as the store knows it.
func (s *testSite) sessionHash(c *client) string {
	s.t.Helper()
	sessions, err := s.app.Auth.UserSessions(context.Background(), "1")
	if err != nil || len(sessions) == 0 {
		s.t.Fatalf("sessions: %v", err)
	}
	return sessions[0].Hash
}

func TestTwoFactorThroughTheSite(t *testing.T) {
	s := newMailSite(t)
	c := s.browser()
	c.signup("alice", "alice@example.com")
	c.login("alice@example.com")
	page := c.get("/account/2fa")
	m := regexp.MustCompile(`<code class="secret">((?:[A-Z2-7]{4} ?)+)</code>`).FindStringSubmatch(page.body)
	if m == nil || !strings.Contains(page.body, `src="data:image/png;base64,`) {
		t.Fatalf("no enrolment on the page: %d\n%s", page.StatusCode, page.body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	if again := c.get("/account/2fa"); !strings.Contains(again.body, m[1]) {
		t.Fatal("reloading the page changed the secret")
	}
	if r := c.post("/account/2fa/enable", url.Values{"code": {"000000"}}); r.StatusCode != 422 {
		t.Fatalf("wrong code: %d", r.StatusCode)
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	r := c.post("/account/2fa/enable", url.Values{"code": {code}})
	if r.StatusCode != 200 {
		t.Fatalf("enable: %d", r.StatusCode)
	}
	codes := recoveryCodesOf(t, r.body)

	// Logging in now takes two steps.
	d := s.browser()
	r = d.login("alice@example.com", "next", "/user/alice")
	if r.Header.Get("Location") != "/login/2fa" {
		t.Fatalf("first step → %q", r.Header.Get("Location"))
	}
	if d.get("/api/me").StatusCode != 401 {
		t.Fatal("logged in after the password alone")
	}
	if r := d.post("/login/2fa", url.Values{"code": {"123456"}}); r.StatusCode != 422 {
		t.Fatalf("wrong code: %d", r.StatusCode)
	}
	r = d.post("/login/2fa", url.Values{"code": {codes[0]}})
	if r.StatusCode != 303 || r.Header.Get("Location") != "/user/alice" {
		t.Fatalf("recovery code → %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if d.get("/api/me").StatusCode != 200 {
		t.Fatal("not logged in after the second step")
	}
	// The login is fresh: sensitive pages open without a re-auth.
	if r := d.get("/account/password"); r.StatusCode != 200 {
		t.Fatalf("second-step login not fresh: %d", r.StatusCode)
	}
	// Skipping the first step gets nowhere.
	if r := s.browser().post("/login/2fa", url.Values{"code": {codes[1]}}); r.Header.Get("Location") != "/login" {
		t.Fatalf("second step without the first: %q", r.Header.Get("Location"))
	}
	// Turning it off needs a code.
	if r := c.post("/account/2fa/disable", url.Values{"code": {"000000"}}); r.StatusCode != 422 {
		t.Fatalf("disable without code: %d", r.StatusCode)
	}
	if r := c.post("/account/2fa/disable", url.Values{"code": {codes[2]}}); r.StatusCode != 303 {
		t.Fatalf("disable: %d", r.StatusCode)
	}
	if r := s.browser().login("alice@example.com"); r.Header.Get("Location") != "/" {
		t.Fatalf("after disabling, login → %q", r.Header.Get("Location"))
	}
}

func TestAPITokensThroughTheSite(t *testing.T) {
	s := newMailSite(t)
	c := s.browser()
	c.signup("alice", "alice@example.com")
	c.login("alice@example.com")
	r := c.post("/account/tokens", url.Values{"name": {"backup script"}, "expires": {"720h"}})
	m := regexp.MustCompile(`<code class="secret">(latch_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(r.body)
	if r.StatusCode != 200 || m == nil {
		t.Fatalf("create: %d", r.StatusCode)
	}
	secret := m[1]
	if strings.Contains(c.get("/account/tokens").body, secret) {
		t.Fatal("token shown a second time")
	}
	api := s.browser()
	r = api.get("/api/me", "Authorization", "Bearer "+secret)
	if r.StatusCode != 200 || !strings.Contains(r.body, `"username":"alice"`) {
		t.Fatalf("bearer: %d %s", r.StatusCode, r.body)
	}
	if len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatal("an API request started a session")
	}
	if r := api.get("/account/password", "Authorization", "Bearer "+secret); r.StatusCode != 401 {
		t.Fatalf("token passed a fresh-login page: %d", r.StatusCode)
	}
	if r := api.get("/api/me?access_token=" + secret); r.StatusCode != 401 {
		t.Fatal("token accepted from the query string")
	}
	altered := secret[:len(secret)-1] + "A"
	if strings.HasSuffix(secret, "A") {
		altered = secret[:len(secret)-1] + "E"
	}
	if r := api.get("/api/me", "Authorization", "Bearer "+altered); r.StatusCode != 401 {
		t.Fatal("altered token accepted")
	}
	id := regexp.MustCompile(`action="/account/tokens/([0-9]+)/revoke"`).FindStringSubmatch(c.get("/account/tokens").body)
	if id == nil {
		t.Fatal("token not listed")
	}
	if r := c.post("/account/tokens/"+id[1]+"/revoke", nil); r.StatusCode != 303 {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	if r := api.get("/api/me", "Authorization", "Bearer "+secret); r.StatusCode != 401 {
		t.Fatal("revoked token works")
	}
}

func TestAuditLogShowsEvents(t *testing.T) {
	s := newMailSite(t)
	c := s.browser()
	c.signup("alice", "alice@example.com")
	s.browser().post("/login", url.Values{"email": {"alice@example.com"}, "password": {"not it at all"}})
	c.login("alice@example.com")
	body := c.get("/account").body
	mustContain(t, body, "Account created", "Failed login (wrong password)", "Logged in")
	if strings.Contains(body, "not it at all") {
		t.Fatal("a password in the audit log")
	}
}
