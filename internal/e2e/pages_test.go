package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/latchgo/latch/account"
)

// TestPasswordFields checks the forms that take a password as a password
// manager and a person see them: masked fields, the right autocomplete
// hints (ASVS 6.2.6, 6.2.7) and pasting allowed.
func TestPasswordFields(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ada := seedUser(t, s, "ada")
	b := startBrowser(t, s, "")

	check := func(path, wantAutocomplete, usernameField string) {
		t.Helper()
		b.wantPage(b.open(path), http.StatusOK, path)
		type field struct{ Name, Type, Autocomplete string }
		fields := eval[[]field](b, `[...document.querySelectorAll('input[type=password], input[name*=password i], input[id*=password i]')]
			.map(e => ({Name: e.name, Type: e.type, Autocomplete: e.getAttribute('autocomplete') || ''}))`)
		if len(fields) == 0 {
			t.Errorf("%s: no password field", path)
		}
		for _, f := range fields {
			if f.Type != "password" {
				t.Errorf("%s: field %q has type %q, want password", path, f.Name, f.Type)
			}
			if f.Autocomplete != wantAutocomplete {
				t.Errorf("%s: field %q has autocomplete %q, want %q", path, f.Name, f.Autocomplete, wantAutocomplete)
			}
		}
		// Password managers find the account name by autocomplete=username.
		if n := b.count(fmt.Sprintf(`form input[name=%q][autocomplete="username"]`, usernameField)); n != 1 {
			t.Errorf("%s: %d %q fields with autocomplete=username, want 1", path, n, usernameField)
		}
		// Pasting is allowed (ASVS 6.2.6): no inline handler anywhere,
		// and no listener cancels a paste into a field.
		if n := b.count("[onpaste], [oncopy], [oncut], [ondrop]"); n != 0 {
			t.Errorf("%s: %d elements with inline paste/copy/drop handlers", path, n)
		}
		prevented := eval[[]string](b, `[...document.querySelectorAll('input:not([type=hidden])')].filter(e => {
			const ev = new ClipboardEvent('paste', {bubbles: true, cancelable: true});
			e.dispatchEvent(ev);
			return ev.defaultPrevented;
		}).map(e => e.name)`)
		if len(prevented) > 0 {
			t.Errorf("%s: pasting is blocked in %v", path, prevented)
		}
	}

	check("/signup", "new-password", "username")
	check("/login", "current-password", "email")
	b.wantPage(b.login(ada, false), http.StatusOK, "/")
	check("/reauth", "current-password", "username")
}

// TestLoginPageNotFramed loads the login form in an iframe of a page on
// another origin (clickjacking): the browser must refuse to show it
// (frame-ancestors 'none'), while the attacker's own frame loads.
func TestLoginPageNotFramed(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	evil := attacker(t, map[string]string{
		"/":    fmt.Sprintf(`<!doctype html><iframe name="site" src="%s/login"></iframe><iframe name="own" src="/own"></iframe>`, s.URL),
		"/own": `<!doctype html><p>the attacker's own page</p>`,
	})
	b := startBrowser(t, s, "")
	// Navigate returns once the page and its frames have loaded.
	b.open(evil.URL + "/")
	tree := run(b, func(ctx context.Context, t *chromedp.Target) (page.GetFrameTreeResult, error) {
		return cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
	}).FrameTree
	frames := map[string]*cdp.Frame{}
	for _, c := range tree.ChildFrames {
		frames[c.Frame.Name] = c.Frame
	}
	if f := frames["own"]; f == nil || f.URL != evil.URL+"/own" {
		t.Fatalf("the attacker's own frame did not load (%+v): the check below proves nothing", f)
	}
	f := frames["site"]
	if f == nil {
		t.Fatal("no frame for the login page")
	}
	if strings.HasPrefix(f.URL, s.URL) || f.SecurityOrigin == s.URL {
		t.Errorf("the login page was shown in a cross-origin frame: %s (origin %s)", f.URL, f.SecurityOrigin)
	}
	if f.UnreachableURL != s.URL+"/login" {
		t.Errorf("frame %s: unreachable URL %q, want the blocked %s/login", f.URL, f.UnreachableURL, s.URL)
	}
}

// TestWebStorageEmpty logs in and looks around: the site keeps nothing in
// localStorage or sessionStorage (ASVS 14.3.3), and its cookies are out
// of reach of scripts (HttpOnly).
func TestWebStorageEmpty(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ada := seedUser(t, s, "ada")
	b := startBrowser(t, s, "")

	check := func() {
		t.Helper()
		if n := eval[int](b, "localStorage.length + sessionStorage.length"); n != 0 {
			t.Errorf("%s: %d items in web storage: local %s, session %s", b.location(), n,
				eval[string](b, "JSON.stringify(localStorage)"), eval[string](b, "JSON.stringify(sessionStorage)"))
		}
		if c := eval[string](b, "document.cookie"); c != "" {
			t.Errorf("%s: scripts can read cookies: %q", b.location(), c)
		}
	}
	b.open("/login")
	check()
	b.wantPage(b.login(ada, true), http.StatusOK, "/")
	check()
	if len(b.cookies()) == 0 {
		t.Fatal("logged in, yet the browser holds no cookie for the site: the check above proves nothing")
	}
	b.wantPage(b.click(`header a[href="/user/ada"]`), http.StatusOK, "/user/ada")
	check()
}

// TestScriptInFormsNeverRuns types markup with scripts into the forms and
// the address bar. The site refuses it, shows it back as text, and no
// script runs: no dialog opens, no element is injected, and the
// Content-Security-Policy never has to block anything.
func TestScriptInFormsNeverRuns(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := startBrowser(t, s, "")

	var mu sync.Mutex
	var dialogs []string
	err := chromedp.Listen(b.ctx, func(ev any) {
		if ev, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			mu.Lock()
			dialogs = append(dialogs, ev.Message)
			mu.Unlock()
			// A dialog blocks the page: dismiss it, outside this loop.
			go func() {
				_, _ = chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
			}()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Record what the Content-Security-Policy blocks, in every page.
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__violations = [];
				addEventListener('securitypolicyviolation', e => __violations.push(e.violatedDirective + ' ' + e.blockedURI), true);`,
		})
		return err
	}))
	injected := func(what string) {
		t.Helper()
		if n := b.count("img, svg, script, iframe, object, embed"); n != 0 {
			t.Errorf("%s: %d elements injected into the page", what, n)
		}
		if v := eval[[]string](b, "window.__violations"); len(v) != 0 {
			t.Errorf("%s: the Content-Security-Policy blocked %v (markup was injected)", what, v)
		}
	}

	const evilName = `<img src=x onerror=alert(1)>`
	b.open("/signup")
	b.typeInto("#username", evilName)
	b.typeInto("#email", `"><svg onload=alert(2)>@example.com`)
	b.typeInto("#password", pw)
	b.wantPage(b.click(`form[action="/signup"] button[type="submit"]`), http.StatusUnprocessableEntity, "/signup")
	if got := b.text("#username-error"); got == "" {
		t.Error("sign-up: no message for the username")
	}
	if got := run(b, chromedp.Value(chromedp.ID("username"))); got != evilName {
		t.Errorf("sign-up: the username field holds %q, want what was typed, %q", got, evilName)
	}
	injected("sign-up")
	if _, err := s.App.Accounts.Store().UserByUsername(testContext(t), evilName); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("an account named %q exists (or the lookup failed: %v)", evilName, err)
	}

	const evilEmail = `"><img src=x onerror=alert(3)>`
	b.open("/login")
	b.typeInto("#email", evilEmail)
	b.typeInto("#password", pw)
	b.wantPage(b.click(`form[action="/login"] button[type="submit"]`), http.StatusUnprocessableEntity, "/login")
	if got := run(b, chromedp.Value(chromedp.ID("email"))); got != evilEmail {
		t.Errorf("login: the email field holds %q, want what was typed, %q", got, evilEmail)
	}
	injected("login")

	// A profile address with markup: logged out, it leads to the login
	// form (which carries it in "next"); logged in, to a 404 page.
	ada := seedUser(t, s, "ada")
	path := "/user/" + url.PathEscape(`<img src=x onerror=alert(4)>`)
	b.open(path)
	if got := b.location(); !strings.HasPrefix(got, "/login?next=") {
		t.Errorf("logged out, %s leads to %s, want the login form", path, got)
	}
	injected("login with next")
	b.wantPage(b.login(ada, false), http.StatusNotFound, path)
	injected("profile")

	mu.Lock()
	defer mu.Unlock()
	if len(dialogs) != 0 {
		t.Errorf("script ran: dialogs %q", dialogs)
	}
}
