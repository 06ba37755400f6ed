package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSignUpLogInProfileLogOut goes through the tutorial as a person does:
// from the home page to sign-up, log in, the profile, log out, typing into
// the fields and clicking the links and buttons.
func TestSignUpLogInProfileLogOut(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := startBrowser(t, s, "")
	ada := user{name: "ada", email: "ada@example.com"}

	// Logged out, the header offers to log in and to sign up.
	b.wantPage(b.open("/"), http.StatusOK, "/")
	if got := b.text(`header a[href="/login"]`); got != "Log in" {
		t.Errorf("header login link: %q", got)
	}

	b.wantPage(b.click(`header a[href="/signup"]`), http.StatusOK, "/signup")
	b.typeInto("#username", ada.name)
	b.typeInto("#email", ada.email)
	b.typeInto("#password", pw)
	res := b.click(`form[action="/signup"] button[type="submit"]`)
	b.wantPage(res, http.StatusOK, "/login")
	if got := b.text(".flash"); !strings.Contains(got, "Your account is ready") {
		t.Errorf("flash after sign-up: %q", got)
	}

	// The form has the new address already: only the password is left.
	if got := run(b, chromedp.Value(chromedp.CSS("#email"))); got != ada.email {
		t.Errorf("the login form after sign-up has email %q, want %q", got, ada.email)
	}
	b.typeInto("#password", pw)
	b.wantPage(b.click(`form[action="/login"] button[type="submit"]`), http.StatusOK, "/")
	if got := b.text("h1"); got != "Welcome back, ada" {
		t.Errorf("home page heading: %q", got)
	}
	if got := b.text(`header a[href="/user/ada"]`); got != "ada" {
		t.Errorf("header user link: %q", got)
	}
	if n := b.count(`header a[href="/login"], header a[href="/signup"]`); n != 0 {
		t.Errorf("logged in, the header still has %d log-in/sign-up links", n)
	}
	// The flash was shown once and is gone.
	if n := b.count(".flash"); n != 0 {
		t.Errorf("%d flash messages after logging in", n)
	}

	b.wantPage(b.click(`header a[href="/user/ada"]`), http.StatusOK, "/user/ada")
	if got := b.text("article.profile h1"); got != "ada" {
		t.Errorf("profile heading: %q", got)
	}
	if got := b.text("article.profile dt"); got != "Member since" {
		t.Errorf("profile: %q, want Member since", got)
	}
	if got := b.text("article.profile dd time"); got == "" {
		t.Error("profile: no member-since date")
	}
	if got := b.text("article.profile .hint"); got != "This is your profile." {
		t.Errorf("own profile hint: %q", got)
	}

	b.wantPage(b.click(`header form[action="/logout"] button[type="submit"]`), http.StatusOK, "/?logged-out")
	if got := b.text("h1"); got != "Welcome to latch" {
		t.Errorf("home page heading after logout: %q", got)
	}
	if n := b.count(`header a[href="/login"]`) + b.count(`header a[href="/signup"]`); n != 2 {
		t.Errorf("logged out, the header has %d of the log-in and sign-up links, want 2", n)
	}
	if n := b.count(`header a[href="/user/ada"], header form[action="/logout"]`); n != 0 {
		t.Errorf("logged out, the header still shows the user (%d elements)", n)
	}
	// The session is over on the server too.
	b.wantPage(b.open("/user/ada"), http.StatusOK, loginPath("/user/ada"))
	b.wantLoggedOut()
}

// TestRememberMeAcrossBrowserRestart closes the browser and starts it
// again on the same profile: with "remember me" the user is still logged
// in, without it the session cookie died with the browser.
func TestRememberMeAcrossBrowserRestart(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ada := seedUser(t, s, "ada")

	for _, remember := range []bool{true, false} {
		name := "without remember me"
		if remember {
			name = "with remember me"
		}
		t.Run(name, func(t *testing.T) {
			profile := t.TempDir()
			b := startBrowser(t, s, profile)
			b.open("/login")
			b.wantPage(b.login(ada, remember), http.StatusOK, "/")
			cookies := b.cookies()
			if c := cookies["latch_session"]; c == nil || !c.Session {
				t.Fatalf("session cookie %+v, want one that ends with the browser", c)
			}
			if c := cookies["latch_remember"]; (c != nil) != remember {
				t.Fatalf("remember cookie %+v, want it only with remember me", c)
			} else if c != nil && c.Session {
				t.Fatalf("remember cookie %+v ends with the browser", c)
			}
			b.close()

			b = startBrowser(t, s, profile)
			cookies = b.cookies()
			if c := cookies["latch_session"]; c != nil {
				t.Errorf("the session cookie outlived the browser: %+v", c)
			}
			if c := cookies["latch_remember"]; (c != nil) != remember {
				t.Fatalf("after the restart, remember cookie %+v", c)
			}
			res := b.open("/user/ada")
			if remember {
				b.wantPage(res, http.StatusOK, "/user/ada")
				if got := b.text("article.profile h1"); got != "ada" {
					t.Errorf("profile heading: %q", got)
				}
				if got := b.text(`header a[href="/user/ada"]`); got != "ada" {
					t.Errorf("header user link: %q", got)
				}
				b.wantLoggedIn(ada)
			} else {
				b.wantPage(res, http.StatusOK, loginPath("/user/ada"))
				b.wantLoggedOut()
			}
		})
	}
}

// TestNextRoundTrip opens a protected page logged out, is sent to the
// login form, logs in and lands back on the page.
func TestNextRoundTrip(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ada := seedUser(t, s, "ada")
	seedUser(t, s, "grace")
	b := startBrowser(t, s, "")

	b.wantPage(b.open("/user/grace"), http.StatusOK, loginPath("/user/grace"))
	if got := run(b, chromedp.Value(chromedp.CSS(`form[action="/login"] input[name="next"]`))); got != "/user/grace" {
		t.Errorf("hidden next field: %q", got)
	}
	b.wantPage(b.login(ada, false), http.StatusOK, "/user/grace")
	if got := b.text("article.profile h1"); got != "grace" {
		t.Errorf("profile heading: %q", got)
	}
	// Someone else's profile: no "This is your profile."
	if n := b.count("article.profile .hint"); n != 0 {
		t.Errorf("grace's profile tells ada it is hers")
	}
	if got := b.text(`header a[href="/user/ada"]`); got != "ada" {
		t.Errorf("header user link: %q", got)
	}
}
