package e2e

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// longName is the longest username the site allows (32 characters): the
// worst case for every header and heading.
const longName = "a_very_long_username_for_phones_"

// phoneWidth is the CSS width of the phone the pages must fit.
const phoneWidth = 390

// TestPhoneLayoutEveryPage opens every page of the site on a 390 px phone
// (mobile emulation), logged out and logged in as a user with the longest
// username, several devices, API tokens, passkeys and two-factor
// authentication, and fails where the page is wider than the screen. With
// mobile emulation the layout viewport grows with wide content, so the
// page's width is compared with the screen's, not innerWidth's.
func TestPhoneLayoutEveryPage(t *testing.T) {
	s := newLocalhostSite(t)
	ctx := testContext(t)
	u := seedUser(t, s, longName)
	// Devices: logins from other browsers, with long User-Agents.
	for i, ua := range []string{
		"Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro Build/AP2A.240805.005) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	} {
		otherLogin(t, s, u, ua, i%2 == 0)
	}
	stored, err := s.App.Accounts.Store().UserByEmail(ctx, u.email)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"deploy from the CI server of the shop", "backup", "a-token-name-without-any-spaces-at-all-xx"} {
		if _, _, err := s.App.Tokens.Create(ctx, stored, name, 90*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}

	b := startBrowser(t, s, "")
	b.virtualAuthenticator()
	b.do(chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	check := func(what string) {
		t.Helper()
		w := eval[int](b, "document.documentElement.scrollWidth")
		screen := eval[int](b, "screen.width")
		if screen != phoneWidth {
			t.Fatalf("the emulated screen is %d px wide, want %d", screen, phoneWidth)
		}
		if w > screen {
			wide := eval[string](b, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > screen.width + 1).slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")).join(", ")`)
			t.Errorf("%s (%s) is %d px wide on a %d px phone: %s", what, b.location(), w, screen, wide)
		}
	}
	visit := func(path string) {
		t.Helper()
		b.open(path)
		check(path)
	}

	// Logged out.
	for _, p := range []string{"/", "/signup", "/login", "/forgot", "/confirm/resend", "/logout", "/no-such-page", "/reset", "/confirm", "/healthz"} {
		visit(p)
	}
	b.open("/signup")
	b.typeInto("#username", "no spaces allowed!")
	b.typeInto("#email", "not-an-email")
	b.typeInto("#password", "short")
	b.click(`form[action="/signup"] button[type="submit"]`)
	check("sign-up with errors")
	b.open("/login")
	b.typeInto("#email", u.email)
	b.typeInto("#password", "wrong password")
	b.click(`form[action="/login"] button[type="submit"]`)
	check("login with an error")

	// Logged in.
	b.open("/login")
	b.login(u, true)
	check("after login")
	for _, p := range []string{"/", "/user/" + longName, "/account", "/account/password", "/account/email",
		"/account/delete", "/account/devices", "/account/tokens", "/account/passkeys", "/reauth?next=%2Faccount"} {
		visit(p)
	}
	// A new API token, shown once.
	b.open("/account/tokens")
	b.typeInto("#name", "phone test")
	b.click(`form[action="/account/tokens"] button[type="submit"]`)
	check("a new API token")
	// A passkey (the authenticator holds one per account), renamed to
	// the longest name.
	b.open("/account/passkeys")
	b.typeInto("#passkey-name", "My phone")
	b.clickAndWait(`button[data-passkey="register"]`, `.flash-success`)
	b.do(chromedp.SetValue(chromedp.CSS(`form[action$="/rename"] input[name="name"]`), strings.Repeat("long passkey name ", 4)[:64]))
	b.click(`form[action$="/rename"] button`)
	check("passkeys")
	// Two-factor set-up, and the recovery codes it shows.
	b.open("/account/2fa")
	check("two-factor set-up")
	secret := regexp.MustCompile(`[A-Z2-7]{32}`).FindString(strings.ReplaceAll(b.text("code.secret"), " ", ""))
	if secret == "" {
		t.Fatalf("no key on the two-factor page: %q", b.text("code.secret"))
	}
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.typeInto("#code", code)
	b.click(`form[action="/account/2fa/enable"] button[type="submit"]`)
	check("recovery codes")
	visit("/account/2fa")
	// The second step of a login.
	b.click(`form[action="/logout"] button`)
	check("logged out")
	b.open("/login")
	b.login(u, false)
	check("the two-factor step")
}

// otherLogin logs u in from another browser with User-Agent ua, so that
// the account has another device.
func otherLogin(t *testing.T, s *Site, u user, ua string, remember bool) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"email": {u.email}, "password": {pw}}
	if remember {
		form.Set("remember", "1")
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", ua)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login from %q: %d", ua, res.StatusCode)
	}
}
