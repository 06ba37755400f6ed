package site

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the page templates, each parsed together with the layout.
var pageNames = []string{
	"index", "signup", "login", "reauth", "logout", "profile", "error",
	"forgot", "reset", "confirm", "resend", "twofactor-login",
	"account", "account-password", "account-email", "account-delete", "devices", "twofactor", "tokens",
	"passkeys", "status",
}

// narrowPages are the pages of one small form (logging in and what goes
// with it): their form is centred in a narrow column.
var narrowPages = map[string]bool{
	"login": true, "signup": true, "reauth": true, "logout": true, "forgot": true, "reset": true,
	"confirm": true, "resend": true, "twofactor-login": true,
}

// eventTexts describe audit events to their owner.
var eventTexts = map[string]string{
	"signup":                "Account created",
	"logged_in":             "Logged in",
	"logged_out":            "Logged out",
	"login_failed":          "Failed login (wrong password)",
	"password_check_failed": "Wrong password entered to confirm it was you",
	"login_limited":         "Login refused: too many attempts",
	"login_inactive":        "Login refused: account disabled",
	"login_unconfirmed":     "Login refused: email not confirmed",
	"remember_restore":      "Logged in by “remember me”",
	"remember_theft":        "A copied “remember me” cookie was used; that device was logged out",
	"session_protected":     "Browser or network changed during a session",
	"login_confirmed":       "Password confirmed again",
	"password_rehashed":     "Password storage upgraded",
	"password_changed":      "Password changed",
	"password_reset":        "Password reset by email link",
	"email_change_request":  "Email change requested",
	"email_changed":         "Email changed",
	"email_confirmed":       "Email confirmed",
	"2fa_enabled":           "Two-factor authentication turned on",
	"2fa_disabled":          "Two-factor authentication turned off",
	"2fa_failed":            "Wrong two-factor code",
	"2fa_recovery_used":     "Logged in with a recovery code",
	"2fa_codes_replaced":    "Recovery codes replaced",
	"token_created":         "API token created",
	"token_revoked":         "API token revoked",
	"session_revoked":       "A device was logged out",
	"sessions_revoked":      "Logged out everywhere else",
	"passkey_added":         "Passkey added",
	"passkey_renamed":       "Passkey renamed",
	"passkey_removed":       "Passkey removed",
	"passkey_used":          "Logged in with a passkey",
	"passkey_cloned":        "A copied passkey was refused",
}

var templateFuncs = template.FuncMap{
	// pngDataURL lets a PNG rendered by the server (the QR code) through
	// html/template's URL filter, and nothing else.
	"pngDataURL": func(s string) template.URL {
		if strings.HasPrefix(s, "data:image/png;base64,") && !strings.ContainsAny(s, "\"'<> ") {
			return template.URL(s)
		}
		return ""
	},
	"device": describeUA,
	// groups writes a key to type in groups of four: "ABCD EFGH …".
	"groups": func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i += 4 {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s[i:min(i+4, len(s))])
		}
		return b.String()
	},
	"eventText": func(kind string) string {
		if t, ok := eventTexts[kind]; ok {
			return t
		}
		return kind
	},
}

// Templates holds the parsed pages. Parsing happens once, at start-up, and
// fails fast if a template is missing or broken.
type templates map[string]*template.Template

func parseTemplates() (templates, error) {
	t := templates{}
	for _, name := range pageNames {
		tpl, err := template.New(name).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		t[name] = tpl
	}
	return t, nil
}

// passkeyPages are the pages that offer passkeys, with the script that
// makes the WebAuthn calls; every other page is script-free.
var passkeyPages = map[string]bool{"login": true, "twofactor-login": true, "passkeys": true}

// view is what every page template receives.
type view struct {
	Title   string
	User    *account.User
	Flashes []latch.Flash

	// Forms: the values entered (never the password) and one message per
	// field, plus "form" for a message about the whole form.
	Form        map[string]string
	Errors      map[string]string
	Next        string
	MinPassword int

	// Profile page.
	Profile *account.User
	Own     bool

	// Error page.
	Status  int
	Heading string
	Message string

	// Account pages.
	Done          bool
	Unconfirmed   bool
	Events        []account.AuditEvent
	Sessions      []latch.Session
	Remembered    []latch.RememberToken
	Current       string
	Enrolment     *account.Enrolment
	RecoveryCodes []string
	CodesLeft     int
	Tokens        []account.APIToken
	NewToken      string
	Passkeys      []account.Passkey
	// PasskeysOn: the site offers passkeys (its base URL has a host name).
	PasskeysOn bool
	// Fresh: the login is fresh enough to change what protects the
	// account.
	Fresh bool

	// SignedUp: the login form follows a sign-up. LoggedOut: the home
	// page follows a logout. NoCurrent: the password change needs no
	// current password (it was just confirmed).
	SignedUp, LoggedOut, NoCurrent bool

	// Status page: whether the database answered, how fast, when.
	StatusUp   bool
	StatusTook string
	StatusAt   time.Time

	// Narrow: a page of one small form, centred.
	Narrow bool

	// Script is the page's one script, if any (passkeyScript): the page
	// is then served with a CSP that allows scripts from the site itself.
	Script string
}

// render writes a page with the given status. The page is rendered into a
// buffer first, so a template error becomes a clean error page rather than
// half a page.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	if u, ok := s.auth.CurrentUser(r); ok {
		v.User = u
	}
	if flashes, err := s.auth.Flashes(w, r); err == nil {
		v.Flashes = flashes
	} else {
		s.log(r).Error("read flash messages", "err", err)
	}
	s.renderPlain(w, r, status, name, v)
}

// pageBuffers are reused between requests: a page is a few kilobytes, and
// growing a fresh buffer to that size costs several allocations each time.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// renderPlain renders without reading the session.
func (s *Site) renderPlain(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	v.MinPassword = s.accounts.Policy.MinLength
	v.Narrow = narrowPages[name]
	if v.PasskeysOn = s.passkeys != nil; v.PasskeysOn && passkeyPages[name] {
		v.Script = passkeyScript
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 { // a huge page's buffer is not kept
			pageBuffers.Put(buf)
		}
	}()
	if err := s.tpl[name].ExecuteTemplate(buf, "layout", v); err != nil {
		s.log(r).Error("render template", "template", name, "err", err)
		http.Error(w, "Something went wrong.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	if v.Script != "" {
		h.Set("Content-Security-Policy", scriptPolicy)
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// staticFiles is the embedded static directory.
func staticFiles() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return sub
}
