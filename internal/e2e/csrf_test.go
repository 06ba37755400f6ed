package e2e

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// autoSubmit is an attacker's page whose form posts fields to action as
// soon as the page has loaded.
func autoSubmit(action string, fields map[string]string) string {
	var inputs strings.Builder
	for k, v := range fields {
		fmt.Fprintf(&inputs, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(v))
	}
	return fmt.Sprintf(`<!doctype html><title>You won a prize</title>
<form id="f" method="post" action="%s">%s<button>Claim</button></form>
<script>addEventListener("load", () => document.getElementById("f").submit());</script>`,
		html.EscapeString(action), inputs.String())
}

// TestCrossSiteFormsRefused has a page on another origin (another port of
// 127.0.0.1, so the same site: the browser sends the SameSite=Lax session
// cookie with it) post forms to the site in the logged-in victim's
// browser. The site must answer 403, and the victim must stay logged in
// as themselves.
func TestCrossSiteFormsRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	victim := seedUser(t, s, "victim")
	mallory := seedUser(t, s, "mallory")
	evil := attacker(t, map[string]string{
		"/logout": autoSubmit(s.URL+"/logout", nil),
		"/login":  autoSubmit(s.URL+"/login", map[string]string{"email": mallory.email, "password": pw}),
	})

	b := startBrowser(t, s, "")
	b.open("/login")
	b.wantPage(b.login(victim, false), http.StatusOK, "/")

	for _, tc := range []struct {
		name, form string
		loggedIn   bool // whether the victim is logged in when the attack comes
	}{
		{"logout", "/logout", true},
		{"login", "/login", true},
		{"login while logged out", "/login", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := b.in(t)
			if !tc.loggedIn {
				b.open("/")
				b.wantPage(b.click(`header form[action="/logout"] button[type="submit"]`), http.StatusOK, "/?logged-out")
			}
			target := s.URL + tc.form
			sent := subscribe(b, network.RequestWillBeSent)
			sentHeaders := subscribe(b, network.RequestWillBeSentExtraInfo)
			answers := subscribe(b, network.ResponseReceivedExtraInfo)
			// Load the attacker's page. Its form sends the browser on to
			// the site as soon as it has loaded.
			b.do(chromedp.Navigate(evil.URL + tc.form))
			post := first(t, sent, "POST "+target, func(e network.EventRequestWillBeSent) bool {
				return e.Request.Method == http.MethodPost && e.Request.URL == target
			})
			// The first answer to the request (a redirect would come
			// first, before the page it leads to).
			answer := first(t, answers, "answer to POST "+target, func(e network.EventResponseReceivedExtraInfo) bool {
				return e.RequestID == post.RequestID
			})
			if answer.StatusCode != http.StatusForbidden {
				t.Fatalf("the site answered the cross-site POST %s with %d, want 403", tc.form, answer.StatusCode)
			}
			// The request is what a real attack sends: the browser marks
			// it as coming from another origin of the same site, and
			// SameSite=Lax does not keep the session cookie off it.
			h := first(t, sentHeaders, "headers of POST "+target, func(e network.EventRequestWillBeSentExtraInfo) bool {
				return e.RequestID == post.RequestID
			}).Headers
			if got := header(h, "Sec-Fetch-Site"); got != "same-site" {
				t.Errorf("Sec-Fetch-Site: %q, want same-site", got)
			}
			if got := header(h, "Cookie"); tc.loggedIn && !strings.Contains(got, "latch_session=") {
				t.Errorf("the forged request carried no session cookie (Cookie: %q): the test proves nothing", got)
			}
			b.do(chromedp.WaitVisible(chromedp.CSS(".error-page h1")))
			if got := b.location(); got != tc.form {
				t.Errorf("the browser shows %s, want %s", got, tc.form)
			}
			if got := b.text(".error-page h1"); got != "Forbidden" {
				t.Errorf("the refused request shows %q, want Forbidden", got)
			}
			if tc.loggedIn {
				b.wantLoggedIn(victim)
				b.wantPage(b.open("/user/victim"), http.StatusOK, "/user/victim")
			} else {
				// Not logged in as mallory (login CSRF), nor at all.
				b.wantLoggedOut()
			}
		})
	}
}

// header returns a request header from the browser's raw headers, whose
// names may be in any case.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}
