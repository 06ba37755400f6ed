package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/latchgo/latch/account"
)

// testTimeout bounds each test, browser start and shutdown included, so a
// hung browser fails the test instead of stalling CI.
const testTimeout = 45 * time.Second

// longTests are the tests that take longer than testTimeout, with their
// bound: they walk through every page of the site.
var longTests = map[string]time.Duration{"TestPhoneLayoutEveryPage": 3 * time.Minute}

// stepTimeout bounds one action in a browser, so that a wait for something
// that never comes fails with the step that waited.
const stepTimeout = 15 * time.Second

// pw is the password of every account the tests create: long, not common,
// free of the username and email.
const pw = "correct horse battery staple"

// chromium returns the browser binary, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	p := FindChromium(os.Getenv)
	if p == "" {
		t.Skip("no Chromium: set LATCH_TEST_CHROMIUM or apt-get install chromium")
	}
	return p
}

// testContext is the context of one test: it ends after testTimeout, or
// when the test's cleanups run.
func testContext(t *testing.T) context.Context {
	d := testTimeout
	if long, ok := longTests[t.Name()]; ok {
		d = long
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

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

// newSite starts the real site for one test: its own SQLite database in a
// temporary directory, served on 127.0.0.1. The site's log is printed when
// the test fails.
func newSite(t *testing.T) *Site {
	t.Helper()
	return startFor(t, StartSite)
}

// newLocalhostSite is newSite with the base URL http://localhost:PORT, for
// tests that need passkeys.
func newLocalhostSite(t *testing.T) *Site {
	t.Helper()
	return startFor(t, StartLocalhostSite)
}

func startFor(t *testing.T, start func(context.Context, string, io.Writer, ...string) (*Site, error)) *Site {
	t.Helper()
	logs := &syncBuffer{}
	s, err := start(testContext(t), t.TempDir(), logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close site: %v", err)
		}
		if t.Failed() {
			t.Logf("site log:\n%s", logs)
		}
	})
	return s
}

// user is an account created for a test.
type user struct{ name, email string }

// seedUser creates an account directly through the account service, for
// tests that are not about signing up.
func seedUser(t *testing.T, s *Site, name string) user {
	t.Helper()
	u := user{name: name, email: name + "@example.com"}
	_, err := s.App.Accounts.SignUp(testContext(t), account.SignUpInput{Username: u.name, Email: u.email, Password: pw}, "127.0.0.1")
	if err != nil {
		t.Fatalf("seed user %s: %v", name, err)
	}
	return u
}

// attacker serves pages from another origin (another port on 127.0.0.1):
// path → HTML. Unlike the site, these pages may run scripts.
func attacker(t *testing.T, pages map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// browser is one running Chromium and its first tab, pointed at a site.
type browser struct {
	t    *testing.T
	ctx  context.Context // the tab's context
	site *Site
	stop func()
}

// startBrowser starts Chromium with its profile in dir (a new temporary
// directory when dir is "") and opens a tab. The browser is closed at the
// end of the test, or earlier by b.close.
func startBrowser(t *testing.T, s *Site, dir string) *browser {
	t.Helper()
	exec := chromium(t)
	if dir == "" {
		dir = t.TempDir()
	}
	ctx := testContext(t)
	actx, acancel := chromedp.NewExecAllocator(ctx, AllocatorOptions(exec, dir)...)
	tab, tcancel := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: tab, site: s}
	started := false
	b.stop = sync.OnceFunc(func() {
		if !started {
			// No browser to close (and chromedp's cancel func would
			// wait for one for ever).
			acancel()
			return
		}
		// Close the browser as a person does (Browser.close): it ends
		// the session cookies and writes the persistent ones to disk.
		// Then wait for the process to exit, killing it if it hangs.
		cctx, cancel := context.WithTimeout(tab, 10*time.Second)
		err := chromedp.Cancel(cctx)
		cancel()
		tcancel()
		acancel()
		if err != nil && ctx.Err() == nil {
			t.Logf("close browser: %v", err)
		}
	})
	t.Cleanup(b.stop)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v", exec, err)
	}
	started = true
	return b
}

// in returns the browser for use in the subtest t.
func (b *browser) in(t *testing.T) *browser {
	c := *b
	c.t = t
	return &c
}

// close closes the browser and waits until it has exited.
func (b *browser) close() { b.stop() }

// do runs steps in the tab and fails the test on an error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// run runs one action in the tab and returns its value.
func run[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	return run(b, chromedp.Evaluate[T](expr))
}

// open loads a path of the site (or a full URL) like typing it in the
// address bar, and returns the response of the document.
func (b *browser) open(pathOrURL string) *network.Response {
	b.t.Helper()
	if strings.HasPrefix(pathOrURL, "/") {
		pathOrURL = b.site.URL + pathOrURL
	}
	res := run(b, chromedp.NavigateResponse(pathOrURL))
	if res == nil {
		b.t.Fatalf("open %s: no response", pathOrURL)
	}
	return res
}

// click clicks the element that sel (CSS) selects and waits for the page
// it leads to; it returns the final response (after redirects).
func (b *browser) click(sel string) *network.Response {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
	if res == nil {
		b.t.Fatalf("click %s: no response", sel)
	}
	return res
}

// typeInto types text into the visible field that sel (CSS) selects, key
// by key.
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
	if got := run(b, chromedp.Value(chromedp.CSS(sel))); got != text {
		b.t.Fatalf("typed %q into %s, the field holds %q", text, sel, got)
	}
}

// text returns the visible text of the element that sel (CSS) selects,
// trimmed.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible)))
}

// count returns how many elements sel (CSS) selects right now.
func (b *browser) count(sel string) int {
	b.t.Helper()
	js, _ := json.Marshal(sel)
	return eval[int](b, fmt.Sprintf("document.querySelectorAll(%s).length", js))
}

// location returns the address of the page, relative to the site when it
// is on the site.
func (b *browser) location() string {
	b.t.Helper()
	loc := run(b, chromedp.Location())
	if rest, ok := strings.CutPrefix(loc, b.site.URL); ok && (rest == "" || rest[0] == '/') {
		if rest == "" {
			rest = "/"
		}
		return rest
	}
	return loc
}

// wantPage checks the status and address of the page the browser shows.
func (b *browser) wantPage(res *network.Response, status int, path string) {
	b.t.Helper()
	if res.Status != int64(status) {
		b.t.Errorf("status %d, want %d (%s)", res.Status, status, res.URL)
	}
	if got := b.location(); got != path {
		b.t.Errorf("the browser shows %s, want %s", got, path)
	}
}

// login fills in the login form the browser shows, like a person, and
// submits it.
func (b *browser) login(u user, remember bool) *network.Response {
	b.t.Helper()
	b.typeInto("#email", u.email)
	b.typeInto("#password", pw)
	if remember {
		b.do(chromedp.Click(chromedp.CSS(`input[name="remember"]`), chromedp.NodeVisible))
		if !run(b, chromedp.JavascriptAttribute[bool](chromedp.CSS(`input[name="remember"]`), "checked")) {
			b.t.Fatal(`clicking "Remember me" did not tick it`)
		}
	}
	return b.click(`form[action="/login"] button[type="submit"]`)
}

// me opens /api/me in the browser and returns the status and the username
// it reports ("" when not logged in).
func (b *browser) me() (int, string) {
	b.t.Helper()
	res := b.open("/api/me")
	body := eval[string](b, "document.body.innerText")
	var v struct {
		Username string `json:"username"`
		Error    string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		b.t.Fatalf("/api/me answered %d %q: %v", res.Status, body, err)
	}
	return int(res.Status), v.Username
}

// wantLoggedIn checks with /api/me that the browser is logged in as u.
func (b *browser) wantLoggedIn(u user) {
	b.t.Helper()
	if status, name := b.me(); status != http.StatusOK || name != u.name {
		b.t.Errorf("/api/me: %d %q, want 200 %q", status, name, u.name)
	}
}

// wantLoggedOut checks with /api/me that the browser is not logged in.
func (b *browser) wantLoggedOut() {
	b.t.Helper()
	if status, name := b.me(); status != http.StatusUnauthorized {
		b.t.Errorf("/api/me: %d %q, want 401", status, name)
	}
}

// cookies returns the browser's cookies for the site, by name.
func (b *browser) cookies() map[string]*network.Cookie {
	b.t.Helper()
	res := run(b, func(ctx context.Context, t *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{b.site.URL + "/"}})
	})
	m := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		m[c.Name] = c
	}
	return m
}

// subscribe starts receiving events of type ev from the tab, for at most
// stepTimeout. Subscribe before the action that causes the events.
func subscribe[E any](b *browser, ev cdp.Event[E]) iter.Seq2[E, error] {
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	b.t.Cleanup(cancel)
	return chromedp.Events(ctx, ev)
}

// first returns the first of events for which match is true; what names
// the event in the error when none comes.
func first[E any](t *testing.T, events iter.Seq2[E, error], what string, match func(E) bool) E {
	t.Helper()
	for e, err := range events {
		if err != nil {
			t.Fatalf("no %s: %v", what, err)
		}
		if match(e) {
			return e
		}
	}
	t.Fatalf("no %s: the browser sent no more events", what)
	panic("unreachable")
}

// loginPath is where the site sends a logged-out visitor of path.
func loginPath(path string) string {
	return "/login?next=" + url.QueryEscape(path)
}
