package latch

import (
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
// dropped, so the login page never receives an off-site target.
func LoginURL(loginView, next string) string {
	n, ok := SafeNext(next)
	if !ok {
		return loginView
	}
	sep := "?"
	if strings.Contains(loginView, "?") {
		sep = "&"
	}
	return loginView + sep + "next=" + url.QueryEscape(n)
}
