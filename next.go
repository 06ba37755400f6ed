package latch

import (
	"net/http"
	"net/url"
	"strings"
)

// MaxNextLen is the longest "next" target SafeNext accepts. Real paths of
// an application are far shorter; the bound keeps redirect targets out of
// header-size trouble.
const MaxNextLen = 2048

// SafeNext reports whether target is a same-site relative path, such as
// "/user/alice?tab=posts", that every browser resolves to the origin that
// served it, and returns it unchanged if so. Redirect to exactly the
// returned string (not a cleaned or re-encoded copy: validate one value,
// emit the same value).
//
// It accepts only printable ASCII that starts with one "/" followed by
// anything but "/" or "\". It refuses, rather than repairs:
//
//   - scheme-relative and absolute URLs ("//evil.example", "https://…",
//     "javascript:…"), and any backslash, which browsers treat as "/";
//   - spaces, tabs, newlines and other control characters, which browsers
//     strip (turning " //evil" or "/\t/evil" into "//evil") and which would
//     break the Location header;
//   - non-ASCII bytes, which a real request target never contains (the
//     browser percent-encodes them);
//   - "." and ".." path segments, also percent-encoded, and
//     percent-encoded "/" or "\" or control characters in the path: servers
//     or proxies that normalise or decode paths later would otherwise turn
//     "/a/../\evil" or "/%2F%2Fevil" into a scheme-relative URL.
//
// The value is decoded once by the form or query parser before it gets
// here and never again (ASVS 1.1.1).
func SafeNext(target string) (string, bool) {
	if target == "" || len(target) > MaxNextLen || target[0] != '/' {
		return "", false
	}
	if len(target) > 1 && (target[1] == '/' || target[1] == '\\') {
		return "", false
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "", false
		}
	}
	path := target
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if !safePath(path) {
		return "", false
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return target, true
}

// safePath checks the path part of a next target segment by segment.
func safePath(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		for i := 0; i < len(seg); i++ {
			if seg[i] != '%' {
				continue
			}
			if i+2 >= len(seg) || !isHex(seg[i+1]) || !isHex(seg[i+2]) {
				return false
			}
			switch b := unhex(seg[i+1])<<4 | unhex(seg[i+2]); {
			case b == '/', b == '\\', b < ' ', b == 0x7f, b == '%':
				return false
			}
		}
		if dec, err := url.PathUnescape(seg); err != nil || dec == "." || dec == ".." {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// LoginURL builds the URL of a login (or re-authentication) page that
// carries next in its "next" query parameter, the Go form of Flask-Login's
// login_url(login_view, next_url). An unsafe next (see [SafeNext]) is
// dropped, so the login page never receives an off-site target. Give a
// third argument to name the parameter otherwise (next_field).
func LoginURL(loginView, next string, nextField ...string) string {
	n, ok := SafeNext(next)
	if !ok {
		return loginView
	}
	field := "next"
	if len(nextField) > 0 && nextField[0] != "" {
		field = nextField[0]
	}
	sep := "?"
	if strings.Contains(loginView, "?") {
		sep = "&"
	}
	return loginView + sep + url.QueryEscape(field) + "=" + url.QueryEscape(n)
}

// Next returns the page a login form should return to: the request's
// Login.NextField value (the query of the GET that shows the form, or the
// form field of the POST that submits it), if SafeNext accepts it, else
// "". Put it in the form's hidden field when showing the form, and give it
// to RedirectNext after a successful login: one helper validates both
// ends of the round trip.
func (m *Manager[U]) Next(r *http.Request) string {
	field := m.Login.NextField
	if field == "" {
		field = "next"
	}
	v := r.URL.Query().Get(field)
	if r.Method == http.MethodPost {
		// Only a form that was parsed: never read a body behind the
		// handler's back.
		if r.PostForm != nil && r.PostForm.Has(field) {
			v = r.PostForm.Get(field)
		}
	}
	n, _ := SafeNext(v)
	return n
}

// RedirectNext answers 303 to the request's Next page, or to fallback
// (itself checked with SafeNext; "/" if unsafe) when there is none.
func (m *Manager[U]) RedirectNext(w http.ResponseWriter, r *http.Request, fallback string) {
	target := m.Next(r)
	if target == "" {
		if target, _ = SafeNext(fallback); target == "" {
			target = "/"
		}
	}
	Redirect(w, r, target)
}

// loginView is the login view for a request's path: the view of the
// longest matching Login.Areas prefix, else Login.View.
func (m *Manager[U]) loginView(path string) string {
	view, best := m.Login.View, -1
	for prefix, v := range m.Login.Areas {
		if strings.HasPrefix(path, prefix) && len(prefix) > best {
			view, best = v, len(prefix)
		}
	}
	return view
}
