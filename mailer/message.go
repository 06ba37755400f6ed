package mailer

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Message is one plain-text mail to one recipient.
type Message struct {
	// To is the recipient: exactly one plain address, local@domain, as
	// stored on the account (no display name, no list, no line breaks).
	To string
	// Subject is one line of text (UTF-8; no CR, LF or other control
	// characters).
	Subject string
	// Text is the plain-text body (UTF-8, lines separated by "\n"). Links
	// in it are written out in full.
	Text string
}

// Sender delivers a Message. Implementations must be safe for concurrent
// use and must call [Message.Validate] (or apply the same rules) before
// doing anything with the message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Limits on message parts; anything larger is not an account mail.
const (
	maxAddress = 254     // RFC 5321 path limit minus the angle brackets
	maxSubject = 998     // RFC 5322 line limit
	maxText    = 1 << 20 // 1 MiB
)

var (
	// ErrInvalidMessage is returned (wrapped, with the reason but never the
	// offending value) for a message that could inject headers or
	// recipients, or that is otherwise not a valid account mail. Such a
	// message is refused before any connection is made and is never
	// retried.
	ErrInvalidMessage = errors.New("mailer: invalid message")

	// ErrPermanent matches (with errors.Is) delivery errors that retrying
	// cannot fix, such as an SMTP 5xx reply ("no such mailbox",
	// "authentication failed"). [Queue] does not retry them.
	ErrPermanent = errors.New("mailer: permanent delivery failure")
)

func invalid(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalidMessage, reason)
}

// Validate reports whether m can be sent safely: To is exactly one plain
// addr-spec (printable ASCII local@domain, dot-atom local part, DNS-label
// domain, at most 254 characters; no display name, comment, quoted string,
// comma, space or line break), Subject is one line of valid UTF-8 without
// control characters, and Text is valid UTF-8 without NUL. The error wraps
// [ErrInvalidMessage] and never contains the offending value.
func (m Message) Validate() error {
	if err := checkAddress("To", m.To); err != nil {
		return err
	}
	if len(m.Subject) > maxSubject {
		return invalid("Subject is too long")
	}
	if !utf8.ValidString(m.Subject) {
		return invalid("Subject is not valid UTF-8")
	}
	for _, r := range m.Subject {
		if isLineBreakOrControl(r) {
			return invalid("Subject contains a line break or control character")
		}
	}
	if len(m.Text) > maxText {
		return invalid("Text is too long")
	}
	if !utf8.ValidString(m.Text) {
		return invalid("Text is not valid UTF-8")
	}
	if strings.IndexByte(m.Text, 0) >= 0 {
		return invalid("Text contains NUL")
	}
	return nil
}

// isLineBreakOrControl reports whether r must not appear in a header value:
// C0 controls (CR, LF and NUL among them; tab is allowed), DEL, C1 controls
// (NEL among them) and the Unicode line and paragraph separators.
func isLineBreakOrControl(r rune) bool {
	return (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
		r == '\u2028' || r == '\u2029'
}

// ValidAddress reports whether s is exactly one plain addr-spec
// (local@domain) of printable ASCII, at most 254 characters, with a
// dot-atom local part and a domain of DNS labels: an address that can be
// put in a header without smuggling in a second recipient or a header.
// A dotless domain ("localhost") is accepted.
func ValidAddress(s string) bool { return checkAddress("address", s) == nil }

// checkAddress checks that s is exactly one plain addr-spec. field names
// the header in the error.
func checkAddress(field, s string) error {
	if s == "" {
		return invalid(field + " is empty")
	}
	if len(s) > maxAddress {
		return invalid(field + " is too long")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			// CR, LF, NUL, spaces, tabs and non-ASCII all end up here.
			return invalid(field + " contains a space, line break, control or non-ASCII character")
		}
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || !validLocal(local) || !validDomain(domain) {
		return invalid(field + " is not a single plain address (local@domain)")
	}
	// A second opinion from the standard library's RFC 5322 parser: the
	// whole string must be one address and nothing else.
	if a, err := mail.ParseAddress(s); err != nil || a.Name != "" || a.Address != s {
		return invalid(field + " is not a single plain address (local@domain)")
	}
	return nil
}

// validLocal reports whether s is a dot-atom local part (RFC 5322 3.2.3)
// of at most 64 octets. Quoted strings are refused on purpose.
func validLocal(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for atom := range strings.SplitSeq(s, ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			if !isAtext(atom[i]) {
				return false
			}
		}
	}
	return true
}

// isAtext reports whether c may appear in an RFC 5322 atom.
func isAtext(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// validDomain reports whether s is a domain of DNS labels (letters, digits,
// hyphens; internationalised names in their xn-- form). A dotless domain
// such as "localhost" is accepted here; the site's sign-up check is
// stricter.
func validDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// domainOf returns the domain of a validated address, the only part of a
// recipient that is logged.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// redact replaces every occurrence of addr in s, ignoring ASCII case, with
// "<recipient>", so that an error echoing the recipient (as SMTP replies
// such as "550 <bob@example.com>: no such user" do) can be logged.
func redact(s, addr string) string {
	if addr == "" || len(addr) > len(s) {
		return s
	}
	var b strings.Builder
	for {
		i := indexFoldASCII(s, addr)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString("<recipient>")
		s = s[i+len(addr):]
	}
}

// indexFoldASCII is strings.Index ignoring ASCII case; byte offsets stay
// valid for any s because only ASCII letters are folded.
func indexFoldASCII(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		match := true
		for j := 0; j < len(sub); j++ {
			if lowerASCII(s[i+j]) != lowerASCII(sub[j]) {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
