package site_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDevicesInWords: devices and activity name the browser in words
// ("Chrome 131 on Android"), with the raw User-Agent kept in a details
// element; "Log out everywhere else" shows only when there is somewhere
// else.
func TestDevicesInWords(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("ann")
	devices := c.get("/account/devices")
	if strings.Contains(devices.body, "revoke-others") {
		t.Error("Log out everywhere else offered with one device")
	}
	mustContain(t, devices.body, "This is your only device.")

	const android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36"
	phone := s.browser()
	r := phone.do(http.MethodPost, "/login", url.Values{"email": {"ann@example.com"}, "password": {pw}}, "User-Agent", android)
	if r.StatusCode != 303 {
		t.Fatalf("login from the phone: %d", r.StatusCode)
	}
	devices = c.get("/account/devices")
	mustContain(t, devices.body, "<strong>Chrome 131 on Android</strong>", "<summary>Browser details</summary><code>"+android+"</code>", "revoke-others")
	mustContain(t, c.get("/account").body, "Chrome 131 on Android")
}

// TestFlows: sign-up says a confirmation mail went out and fills the
// login form's email in; logging out says so; re-authentication shows one
// message and a way to reset the password; the password change that
// follows it does not ask for the password again; a wrong current
// password is not recorded as a failed login.
func TestFlows(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.browser()
	if r := c.signup("ann", "ann@example.com"); r.StatusCode != 303 || r.Header.Get("Location") != "/login" {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	login := c.get("/login")
	mustContain(t, login.body, "We sent a link to ann@example.com", `value="ann@example.com"`)
	if again := c.get("/login"); strings.Contains(again.body, `value="ann@example.com"`) {
		t.Error("the email is filled in again on the next visit")
	}
	if r := c.login("ann@example.com"); r.StatusCode != 303 {
		t.Fatalf("login: %d", r.StatusCode)
	}

	// A wrong current password: refused, recorded as such.
	if r := c.post("/account/password", url.Values{"current": {"not it"}, "password": {"another passphrase"}, "confirm": {"another passphrase"}}); r.StatusCode != 422 {
		t.Fatalf("wrong current password: %d", r.StatusCode)
	}
	acct := c.get("/account").body
	mustContain(t, acct, "Wrong password entered to confirm it was you")
	if strings.Contains(acct, "Failed login") {
		t.Error("a wrong current password is shown as a failed login")
	}

	// Once the login is stale, re-authentication: one message, a way out.
	s.clock.Advance(11 * time.Minute)
	r := c.get("/account/password")
	if r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/reauth") {
		t.Fatalf("stale password page: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	reauth := c.get(r.Header.Get("Location"))
	mustContain(t, reauth.body, "Confirm it’s you", `href="/forgot"`)
	if strings.Contains(reauth.body, "Please reauthenticate") {
		t.Error("the re-authentication page shows two messages")
	}
	if r := c.post("/reauth", url.Values{"password": {pw}, "next": {"/account/password"}}); r.StatusCode != 303 {
		t.Fatalf("reauth: %d", r.StatusCode)
	}
	form := c.get("/account/password")
	if strings.Contains(form.body, `name="current"`) {
		t.Error("the password form asks for the password just confirmed")
	}
	// Not for long: 5 minutes later it asks again.
	s.clock.Advance(6 * time.Minute)
	if form := c.get("/account/password"); !strings.Contains(form.body, `name="current"`) {
		t.Error("the password form skips the current password 6 minutes after re-authentication")
	}
	s.clock.Advance(-6 * time.Minute)
	if r := c.post("/account/password", url.Values{"password": {"another passphrase"}, "confirm": {"another passphrase"}}); r.StatusCode != 303 {
		t.Fatalf("change after re-authentication: %d %s", r.StatusCode, r.body)
	}

	// Logging out says so, and only to a visitor.
	if r := c.post("/logout", url.Values{}); r.StatusCode != 303 || r.Header.Get("Location") != "/?logged-out" {
		t.Fatalf("logout: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	mustContain(t, c.get("/?logged-out").body, "You are logged out.")
	d := s.signedUp("bob")
	if strings.Contains(d.get("/?logged-out").body, "You are logged out.") {
		t.Error("a logged-in user is told they are logged out")
	}
}

// TestTwoFactorPages: the key is shown in groups of four, a wrong code is
// shown next to its field, and the recovery codes download as a text
// file; the download answers nothing but recovery codes.
func TestTwoFactorPages(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("ann")
	page := c.get("/account/2fa")
	if !regexp.MustCompile(`<code class="secret">[A-Z2-7]{4}( [A-Z2-7]{4}){7}</code>`).MatchString(page.body) {
		t.Errorf("the key is not in groups of four:\n%s", page.body)
	}
	r := c.post("/account/2fa/enable", url.Values{"code": {"000000"}})
	mustContain(t, r.body, `aria-invalid="true" aria-describedby="code-error"`, `<p class="field-error" id="code-error">That code is not right.`)

	_, codes := s.enrolTOTP(c)
	form := url.Values{"code": codes}
	dl := c.post("/account/2fa/recovery-codes.txt", form)
	if dl.StatusCode != 200 || dl.Header.Get("Content-Disposition") != `attachment; filename="recovery-codes.txt"` || !strings.HasPrefix(dl.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("download: %d %q %q", dl.StatusCode, dl.Header.Get("Content-Disposition"), dl.Header.Get("Content-Type"))
	}
	for _, code := range codes {
		mustContain(t, dl.body, code+"\r\n")
	}
	for _, bad := range []url.Values{
		{},
		{"code": {"<script>alert(1)</script>"}},
		{"code": append(append([]string{}, codes...), codes[0])},
		{"code": {codes[0], "not a code"}},
	} {
		if r := c.post("/account/2fa/recovery-codes.txt", bad); r.StatusCode != 400 || r.Header.Get("Content-Disposition") != "" {
			t.Errorf("download of %q: %d %q", bad["code"], r.StatusCode, r.Header.Get("Content-Disposition"))
		}
	}
	if r := s.browser().post("/account/2fa/recovery-codes.txt", form); r.StatusCode != 303 {
		t.Errorf("download without a login: %d", r.StatusCode)
	}
	// Turning it off with a wrong code: the message is at its field.
	r = c.post("/account/2fa/disable", url.Values{"code": {"000000"}})
	mustContain(t, r.body, `<p class="field-error" id="disable-error">That code is not right.`)
}

// TestStatusPage: the footer's Status link shows a browser a page, and
// monitors the same check as JSON.
func TestStatusPage(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.browser()
	mustContain(t, c.get("/").body, `<a href="/healthz">Status</a>`)
	r := c.get("/healthz", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/healthz for a browser: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	mustContain(t, r.body, "<h1>Status</h1>", "answering")
	for _, accept := range []string{"", "*/*", "application/json"} {
		r := c.get("/healthz", "Accept", accept)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" || !strings.Contains(r.body, `"status":"ok"`) {
			t.Errorf("/healthz with Accept %q: %d %q %s", accept, r.StatusCode, r.Header.Get("Content-Type"), r.body)
		}
	}
}
