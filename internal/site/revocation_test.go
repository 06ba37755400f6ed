package site_test

// Regression tests for the findings of the outside review of revocation:
// each drives the real site over HTTP and fails on the code before the
// credential epoch.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchgo/latch/mailer/smtptest"
)

// changePassword changes the password of c's (fresh) user to next.
func changePassword(t *testing.T, c *client, current, next string) {
	t.Helper()
	r := c.post("/account/password", url.Values{"current": {current}, "password": {next}, "confirm": {next}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("change password: %d", r.StatusCode)
	}
}

// Finding 1: an email-change link requested by whoever knew the password
// dies with every kind of revocation, so the attacker cannot move the
// account to his mailbox after the owner changed the password.
func TestReview_EmailChangeLinkEndsWithRevocation(t *testing.T) {
	t.Parallel()
	revocations := map[string]func(s *asvsSite, owner *client){
		"password change": func(s *asvsSite, owner *client) {
			changePassword(t, owner, pw, "owner's brand new passphrase")
		},
		"log out everywhere else": func(s *asvsSite, owner *client) {
			if r := owner.post("/account/devices/revoke-others", nil); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("revoke others: %d", r.StatusCode)
			}
		},
		"administrator": func(s *asvsSite, owner *client) {
			if err := s.app.Accounts.Revoke(context.Background(), s.user("alice@example.com")); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, revoke := range revocations {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
			owner := s.signedUp("alice")
			attacker := s.browser()
			attacker.login("alice@example.com")
			if r := attacker.post("/account/email", url.Values{"email": {"mallory@evil.example"}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("email change request: %d", r.StatusCode)
			}
			link := s.link("mallory@evil.example", "/confirm", 1)
			revoke(s, owner)

			later := s.browser()
			later.follow(link)
			if r := later.post("/confirm", nil); r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("the email-change link still works after the revocation: %d", r.StatusCode)
			}
			if got := s.user("alice@example.com").Email; got != "alice@example.com" {
				t.Fatalf("email is now %q", got)
			}
		})
	}
}

// Finding 2: requests in flight on a session during a reset — session
// protection rewriting it as the User-Agent changes — do not bring the
// session back once the reset is done.
func TestReview_ResetEndsSessionsInFlight(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	victim := s.signedUp("alice")
	cookie := victim.value("latch_session")
	s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}})
	link := s.link("alice@example.com", "/reset", 1)
	owner := s.browser()
	owner.follow(link)

	var (
		reset atomic.Bool
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		bad   atomic.Int64
	)
	for w := range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				after := reset.Load()
				req, _ := http.NewRequest("GET", s.srv.URL+"/api/me", nil)
				req.Header.Set("User-Agent", fmt.Sprintf("agent-%d-%d", w, n%5))
				req.AddCookie(&http.Cookie{Name: "latch_session", Value: cookie})
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					continue
				}
				res.Body.Close()
				if after && res.StatusCode != http.StatusUnauthorized {
					bad.Add(1)
				}
			}
		})
	}
	time.Sleep(30 * time.Millisecond)
	if r := owner.post("/reset", url.Values{"password": {"a new passphrase!"}, "confirm": {"a new passphrase!"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", r.StatusCode)
	}
	reset.Store(true)
	time.Sleep(30 * time.Millisecond)
	close(stop)
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d requests with the old cookie got in after the reset", n)
	}
	if s.only("latch_session", cookie).loggedIn() {
		t.Fatal("the session came back")
	}
	if list, err := s.app.Auth.UserSessions(context.Background(), s.user("alice@example.com").ID); err != nil || len(list) != 0 {
		t.Fatalf("%d sessions of alice in the store after the reset (%v)", len(list), err)
	}
}

// Finding 6: rotated remember-me tokens do not pile up.
func TestReview_RotatedRememberTokensPruned(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice", "remember", "1")
	for range 30 {
		c.restart()
		s.clock.Advance(time.Minute)
		if !c.loggedIn() {
			t.Fatal("remember me")
		}
	}
	db, err := sql.Open("sqlite", filepath.Join(s.dir, "latch.db")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM latch_remember_tokens`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows > 3 {
		t.Fatalf("30 restores left %d remember-me rows, want the current token and the last two rotated", rows)
	}
}

// countSessions counts the sessions the site's store holds.
func countSessions(t *testing.T, s *asvsSite) int {
	t.Helper()
	c, ok := s.app.Backend.(interface {
		CountSessions(context.Context, time.Time) (int, error)
	})
	if !ok {
		t.Fatal("the backend cannot count sessions")
	}
	n, err := c.CountSessions(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Finding 7: anonymous GETs — a protected page, a mailed link — write no
// session; the login message and the link still work.
func TestReview_AnonymousVisitsWriteNothing(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	s.browser().signup("alice", "alice@example.com")
	s.browser().post("/forgot", url.Values{"email": {"alice@example.com"}})
	link := s.link("alice@example.com", "/reset", 1)
	before := countSessions(t, s)
	for range 20 {
		s.browser().get("/user/alice")
		s.browser().get("/account")
		s.browser().get("/reset?token=" + strings.Repeat("A", 43))
	}
	c := s.browser()
	r := c.get("/user/alice")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("protected page: %d", r.StatusCode)
	}
	mustContain(t, c.get(r.Header.Get("Location")).body, "Please log in to access this page.")
	owner := s.browser()
	mustNotContain(t, owner.follow(link).body, "invalid")
	if n := countSessions(t, s); n != before {
		t.Fatalf("anonymous GETs created %d sessions", n-before)
	}
	// The link's token went into a cookie of its own.
	if owner.cookie("latch_reset") == nil {
		t.Fatal("the link's token is not in its cookie")
	}
	if r := owner.post("/reset", url.Values{"password": {"a new passphrase!"}, "confirm": {"a new passphrase!"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset through the cookie: %d", r.StatusCode)
	}
}

// Finding 8: with an https base URL, a state-changing request whose
// Origin is the same host over http is refused when no Sec-Fetch-Site
// tells the browser's own verdict.
func TestReview_PlainHTTPOriginRefusedOnHTTPSSite(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	host := mustURL(s.srv.URL).Host
	https := startSite(t, siteOptions{args: []string{"-base-url", "https://" + host}})
	for _, tt := range []struct {
		site   *asvsSite
		origin string
		want   int
	}{
		{https, "http://" + host, http.StatusForbidden},
		{https, "https://" + host, http.StatusSeeOther},
		{s, "http://" + host, http.StatusSeeOther},
		{s, "https://" + host, http.StatusForbidden},
	} {
		r := tt.site.browser().post("/logout", nil, "Origin", tt.origin)
		if r.StatusCode != tt.want {
			t.Errorf("%s site, Origin %s: %d, want %d", tt.site.app.Config.BaseURL.Scheme, tt.origin, r.StatusCode, tt.want)
		}
	}
}

// Finding 11: a login whose password step was done before a password
// change or reset cannot finish its second step afterwards.
func TestReview_PendingSecondStepEndsWithRevocation(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{smtp: smtptest.NewServer(t)})
	owner := s.signedUp("alice")
	secret, _ := s.enrolTOTP(owner)

	attacker := s.browser()
	if r := attacker.post("/login", url.Values{"email": {"alice@example.com"}, "password": {pw}}); r.Header.Get("Location") != "/login/2fa" {
		t.Fatalf("password step: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if err := s.app.Accounts.ChangePassword(context.Background(), s.user("alice@example.com"), "owner's brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	r := attacker.post("/login/2fa", url.Values{"code": {s.nextTOTPCode(secret)}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("second step after the password change: %d → %q", r.StatusCode, r.Header.Get("Location"))
	}
	if attacker.loggedIn() {
		t.Fatal("the half-finished login completed after the password change")
	}
}

// The account's deletion leaves no session or remember-me token of its id
// in the store, from any device.
func TestReview_DeletionLeavesNoSessions(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice", "remember", "1")
	phone := s.browser()
	phone.login("alice@example.com", "remember", "1")
	id := s.user("alice@example.com").ID
	if r := c.post("/account/delete", url.Values{"confirm": {"alice"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	ctx := context.Background()
	if list, err := s.app.Auth.UserSessions(ctx, id); err != nil || len(list) != 0 {
		t.Errorf("%d sessions of the deleted user left (%v)", len(list), err)
	}
	if list, err := s.app.Auth.UserRememberTokens(ctx, id); err != nil || len(list) != 0 {
		t.Errorf("%d remember-me tokens of the deleted user left (%v)", len(list), err)
	}
}

// Finding 12: the 401s of the API carry WWW-Authenticate, from the
// library's default as well as the site's own.
func TestReview_UnauthorizedHasChallenge(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("alice")
	for _, r := range []response{
		s.browser().get("/api/me"),
		s.browser().get("/account", "Accept", "application/json"),
		s.browser().get("/api/me", "Authorization", "Bearer latch_nope"),
	} {
		if r.StatusCode != http.StatusUnauthorized || !regexp.MustCompile(`^Bearer realm=`).MatchString(r.Header.Get("WWW-Authenticate")) {
			t.Errorf("%s: %d, WWW-Authenticate %q", r.Request.URL.Path, r.StatusCode, r.Header.Get("WWW-Authenticate"))
		}
	}
	s.clock.Advance(2 * time.Hour)
	if r := c.get("/account/password", "Accept", "application/json"); r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("stale login: %d, WWW-Authenticate %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
}

// A flood of refused logins writes one audit row per client, not one per
// attempt: the log still has every refusal.
func TestLoginFloodWritesFewAuditRows(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	s.signedUp("alice")
	const attempts = 60
	limited := 0
	for range attempts {
		if s.browser().wrongLogin("alice@example.com").StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < attempts/2 {
		t.Fatalf("only %d of %d attempts were refused", limited, attempts)
	}
	db, err := sql.Open("sqlite", filepath.Join(s.dir, "latch.db")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM latch_audit_events WHERE kind = 'login_limited'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("%d refused logins from one client wrote %d audit rows, want 1", limited, rows)
	}
	if logged := strings.Count(s.logs.String(), "event=login_limited"); logged != limited {
		t.Errorf("%d refusals, %d logged", limited, logged)
	}
}
