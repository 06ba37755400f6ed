package latch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/memstore"
)

// TestEpochRefusesEverythingIssuedBefore raises a user's credential epoch
// without deleting anything, as if every delete of a revocation had been
// lost: the sessions and remember-me tokens issued before are refused all
// the same, deleted, and reported as EventRevoked.
func TestEpochRefusesEverythingIssuedBefore(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	laptop, phone := h.browser(), h.browser()
	laptop.do("POST", "/login/alice?remember=1")
	phone.do("POST", "/login/alice?remember=1")
	bob := h.browser()
	bob.do("POST", "/login/bob")

	h.bump("alice")
	if got := laptop.me(); got != "anonymous" {
		t.Fatalf("session of an earlier epoch: %q", got)
	}
	phone.restart() // only the remember-me cookie is left
	if got := phone.me(); got != "anonymous" {
		t.Fatalf("remember-me token of an earlier epoch: %q", got)
	}
	if got := bob.me(); !strings.HasPrefix(got, "bob session") {
		t.Fatalf("another user's session: %q", got)
	}
	if !h.hasEvent(latch.EventRevoked) {
		t.Error("no EventRevoked")
	}
	// Refused means deleted: the phone's series went with its token, the
	// laptop's session and series with its session.
	if s, _ := h.m.UserSessions(ctx, "alice"); len(s) != 0 {
		t.Errorf("%d sessions of alice left in the store", len(s))
	}
	if toks, _ := h.m.UserRememberTokens(ctx, "alice"); len(toks) != 0 {
		t.Errorf("%d remember-me tokens of alice left in the store", len(toks))
	}
	// A new login works under the new epoch.
	laptop.do("POST", "/login/alice")
	if got := laptop.me(); !strings.HasPrefix(got, "alice session") {
		t.Fatalf("login after the revocation: %q", got)
	}
}

// TestRevokeOtherSessionsKeepsThisDevice: the device that changed the
// password stays logged in, with a new session id, as fresh as before;
// its old cookie and every other device are out.
func TestRevokeOtherSessionsKeepsThisDevice(t *testing.T) {
	h := newHarness(t)
	laptop, tablet := h.browser(), h.browser()
	laptop.do("POST", "/login/alice?remember=1")
	tablet.do("POST", "/login/alice?remember=1")
	before := laptop.cookie("latch_session").Value
	laptop.do("POST", "/flash?category=note&message=kept")

	res, _ := laptop.do("POST", "/revoke-others")
	if res.StatusCode != 200 {
		t.Fatal(res.Status)
	}
	if sc := setCookieHeader(res, "latch_remember"); !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("this device's remember-me cookie not cleared: %q", sc)
	}
	after := laptop.cookie("latch_session").Value
	if after == before {
		t.Fatal("session id not renewed")
	}
	if got := laptop.me(); got != "alice session fresh=true" {
		t.Fatalf("this device after revoking the others: %q", got)
	}
	if _, body := laptop.do("GET", "/flashes"); !strings.Contains(body, "kept") {
		t.Errorf("flash messages not carried over: %q", body)
	}
	if got := tablet.me(); got != "anonymous" {
		t.Fatalf("other device: %q", got)
	}
	tablet.restart()
	if got := tablet.me(); got != "anonymous" {
		t.Fatalf("other device's remember-me token: %q", got)
	}
	thief := h.browser()
	thief.setCookie("latch_session", before)
	if got := thief.me(); got != "anonymous" {
		t.Fatalf("this device's old session id: %q", got)
	}
	// Only a session of the user named may be kept.
	bob := h.browser()
	bob.do("POST", "/login/bob")
	if res, _ := h.browser().do("POST", "/revoke-others"); res.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous RevokeOtherSessions: %s", res.Status)
	}
}

// TestInFlightWriteCannotRestoreSession holds a request that loaded the
// session, logs the device out meanwhile, then lets the request write a
// flash message (as session protection and device updates do): the
// session stays ended.
func TestInFlightWriteCannotRestoreSession(t *testing.T) {
	h := newHarness(t)
	loaded, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(loaded)
		<-release
		if err := h.m.AddFlash(w, r, "message", "written late"); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.Handle("/", h.srv.Config.Handler)
	h.srv.Config.Handler = h.m.Handler(mux)

	b := h.browser()
	b.do("POST", "/login/alice")
	sess := b.cookie("latch_session").Value
	done := make(chan *http.Response)
	go func() {
		res, _ := b.do("GET", "/slow")
		done <- res
	}()
	<-loaded
	other := h.browser()
	other.setCookie("latch_session", sess)
	other.do("POST", "/logout")
	close(release)
	res := <-done
	if res.StatusCode != 200 {
		t.Fatalf("late write: %s", res.Status)
	}
	replay := h.browser()
	replay.setCookie("latch_session", sess)
	if got := replay.me(); got != "anonymous" {
		t.Fatalf("a write in flight brought the session back: %q", got)
	}
	if _, found, _ := h.store.FindSession(context.Background(), latch.HashToken(sess), h.clock.Now()); found {
		t.Fatal("the session is in the store again")
	}
}

// TestRememberRestoreOfDeactivatedUser presents only the remember-me
// cookie of a user deactivated since: no login, and the series is gone
// (reactivating the user does not bring it back).
func TestRememberRestoreOfDeactivatedUser(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.do("POST", "/login/alice?remember=1")
	b.restart()
	h.mu.Lock()
	h.users["alice"].active = false
	h.mu.Unlock()
	if got := b.me(); got != "anonymous" {
		t.Fatalf("remember-me restored a deactivated user: %q", got)
	}
	h.mu.Lock()
	h.users["alice"].active = true
	h.mu.Unlock()
	if toks, _ := h.m.UserRememberTokens(context.Background(), "alice"); len(toks) != 0 {
		t.Fatalf("%d remember-me tokens left", len(toks))
	}
	if got := b.me(); got != "anonymous" {
		t.Fatalf("reactivated user back through the old cookie: %q", got)
	}
}

// TestStricterTimeoutsApplyToStoredSessions: a session saved by an
// instance with long timeouts is refused by one with shorter timeouts once
// they have passed, although the store still holds it as live.
func TestStricterTimeoutsApplyToStoredSessions(t *testing.T) {
	h := newHarness(t, func(m *latch.Manager[*testUser]) {
		m.Session.IdleTimeout, m.Session.AbsoluteTimeout = 10*time.Hour, 24*time.Hour
	})
	b := h.browser()
	b.do("POST", "/login/alice")
	strict := latch.New(h.store, func(_ context.Context, id string) (*testUser, error) {
		return &testUser{id: id, active: true}, nil
	})
	strict.Now, strict.Session.IdleTimeout, strict.Session.AbsoluteTimeout = h.clock.Now, 15*time.Minute, time.Hour
	srv := strict.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok := strict.CurrentUser(r)
		fmt.Fprint(w, ok)
	}))
	ask := func() string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.AddCookie(b.cookie("latch_session"))
		rec := &recorder{header: http.Header{}}
		srv.ServeHTTP(rec, req)
		return rec.body.String()
	}
	if got := ask(); got != "true" {
		t.Fatalf("within both timeouts: %s", got)
	}
	h.clock.Advance(20 * time.Minute)
	if _, found, _ := h.store.FindSession(context.Background(), latch.HashToken(b.cookie("latch_session").Value), h.clock.Now()); !found {
		t.Fatal("the store no longer holds the session: the test proves nothing")
	}
	if got := ask(); got != "false" {
		t.Fatalf("idle past the stricter instance's timeout: %s", got)
	}
}

// recorder is a minimal ResponseWriter.
type recorder struct {
	header http.Header
	body   strings.Builder
	status int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(s int)           { r.status = s }

// TestLogoutDeletesSessionWithoutRemember checks the store itself: a
// logout without remember-me deletes the server-side session.
func TestLogoutDeletesSessionWithoutRemember(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.do("POST", "/login/alice")
	hash := latch.HashToken(b.cookie("latch_session").Value)
	if _, found, _ := h.store.FindSession(context.Background(), hash, h.clock.Now()); !found {
		t.Fatal("no session after login")
	}
	b.do("POST", "/logout")
	if _, found, _ := h.store.FindSession(context.Background(), hash, h.clock.Now()); found {
		t.Fatal("logout left the session in the store")
	}
}

// TestRememberGraceOnlyFromTheRotatingDevice: within the grace window, a
// rotated token is accepted again only from the device that rotated it
// (same User-Agent, same IPv4 address or IPv6 /64); from anywhere else it
// is theft at once.
func TestRememberGraceOnlyFromTheRotatingDevice(t *testing.T) {
	tests := []struct {
		name     string
		ua, ip   string
		accepted bool
	}{
		{"same device", "tab/1", "2001:db8:1:2::10", true},
		{"same /64, new privacy address", "tab/1", "2001:db8:1:2:abcd::99", true},
		{"other /64", "tab/1", "2001:db8:1:3::10", false},
		{"other browser", "other/2", "2001:db8:1:2::10", false},
		{"IPv4 thief", "tab/1", "198.51.100.7", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(m *latch.Manager[*testUser]) {
				m.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-IP") }
			})
			b := h.browser()
			b.ua = "tab/1"
			b.do("POST", "/login/alice?remember=1", "X-Test-IP", "2001:db8:1:2::10")
			old := b.cookie("latch_remember").Value
			b.restart()
			b.do("GET", "/me", "X-Test-IP", "2001:db8:1:2::10") // rotates
			h.clock.Advance(5 * time.Second)
			other := h.browser()
			other.ua = tt.ua
			other.setCookie("latch_remember", old)
			_, body := other.do("GET", "/me", "X-Test-IP", tt.ip)
			if got := body != "anonymous"; got != tt.accepted {
				t.Fatalf("accepted = %v (%q), want %v", got, body, tt.accepted)
			}
			if theft := h.hasEvent(latch.EventRememberTheft); theft == tt.accepted {
				t.Fatalf("EventRememberTheft = %v", theft)
			}
			// After theft the owner's series is gone too.
			b.restart()
			if _, body := b.do("GET", "/me", "X-Test-IP", "2001:db8:1:2::10"); (body != "anonymous") != tt.accepted {
				t.Fatalf("owner after the reuse: %q", body)
			}
		})
	}
}

// countingStore counts the sessions created in it.
type countingStore struct {
	*memstore.Store
	created atomic.Int64
}

func (s *countingStore) CreateSession(ctx context.Context, sess latch.Session) error {
	s.created.Add(1)
	return s.Store.CreateSession(ctx, sess)
}

// TestAnonymousVisitsWriteNothing: a visitor without cookies sent to the
// login page costs no session; the login message still shows, once.
func TestAnonymousVisitsWriteNothing(t *testing.T) {
	store := &countingStore{Store: memstore.New()}
	m := latch.New[*testUser](store, func(_ context.Context, id string) (*testUser, error) {
		return &testUser{id: id, active: true}, nil
	})
	mux := http.NewServeMux()
	mux.Handle("/private", m.RequireLogin(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	mux.Handle("/settings", m.RequireFresh(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		f, _ := m.Flashes(w, r)
		for _, x := range f {
			fmt.Fprintln(w, x.Message)
		}
	})
	h := &harness{t: t}
	h.srv = httptestServer(t, m.Handler(mux))
	for range 20 {
		res, _ := h.browser().do("GET", "/private")
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	b := h.browser()
	res, _ := b.do("GET", "/settings")
	if sc := setCookieHeader(res, "latch_msg"); !strings.Contains(sc, "latch_msg=login") || !strings.Contains(sc, "HttpOnly") {
		t.Fatalf("message cookie = %q", sc)
	}
	_, body := b.do("GET", "/login")
	if body != "Please log in to access this page.\n" {
		t.Fatalf("login page shows %q", body)
	}
	if _, body := b.do("GET", "/login"); body != "" {
		t.Fatalf("message shown twice: %q", body)
	}
	if n := store.created.Load(); n != 0 {
		t.Fatalf("anonymous visits created %d sessions", n)
	}
	// A forged cookie can only pick one of the manager's own messages.
	b.setCookie("latch_msg", "<script>")
	if _, body := b.do("GET", "/login"); body != "" {
		t.Fatalf("forged message cookie shows %q", body)
	}
}

// TestUnauthorizedJSONHasChallenge: RFC 9110 requires WWW-Authenticate on
// a 401, from RequireLogin and RequireFresh alike.
func TestUnauthorizedJSONHasChallenge(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	res, _ := b.do("GET", "/private", "Accept", "application/json")
	if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != `Bearer realm="latch"` {
		t.Fatalf("RequireLogin: %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	b.do("POST", "/login/alice?fresh=0")
	res, _ = b.do("GET", "/settings", "Accept", "application/json")
	if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("RequireFresh: %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
}

// TestRememberWithoutDuration: asking to remember for no time is an error,
// not a login that silently forgets.
func TestRememberWithoutDuration(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	for _, d := range []string{"0s", "-1h"} {
		res, body := b.do("POST", "/login/alice?remember=1&duration="+d)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "not positive") {
			t.Errorf("duration %s: %d %q", d, res.StatusCode, body)
		}
	}
	if got := b.me(); got != "anonymous" {
		t.Fatalf("a refused login logged in: %q", got)
	}
}

func httptestServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
