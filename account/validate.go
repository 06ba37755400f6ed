package account

import (
	"net/mail"
	"strings"
)

// Length limits for user input, checked before anything else is done with
// it (ASVS 2.2.1).
const (
	UsernameMin = 3
	UsernameMax = 32
	// EmailMax is the longest address SMTP can deliver to (RFC 5321 path
	// limit of 256 octets minus the angle brackets).
	EmailMax = 254
)

// ValidateUsername returns "" if name is a valid username, else a message
// for the user. Usernames are 3–32 ASCII letters, digits, "_", "." or "-":
// ASCII only, so that look-alike letters from other scripts cannot
// impersonate another user and uniqueness can be enforced case-
// insensitively by any database.
func ValidateUsername(name string) string {
	if len(name) < UsernameMin || len(name) > UsernameMax {
		return "Use 3 to 32 characters."
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return "Use only letters, digits, and _ . -"
		}
	}
	return ""
}

// NormalizeEmail trims surrounding spaces from an email address and checks
// its syntax. It returns the address and "" if valid, else a message for
// the user.
//
// Accepted: a plain addr-spec local@domain of printable ASCII, at most 254
// characters, whose local part is dot-separated atoms (no quoted strings,
// comments or display names) and whose domain is dot-separated DNS labels
// with at least one dot. Internationalised domains are accepted in their
// punycode (xn--) form. That is stricter than RFC 5322 on purpose: every
// accepted address is one that mail servers deliver, and none can smuggle
// a second recipient or a header into a mail (ASVS 1.3.11).
func NormalizeEmail(email string) (string, string) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", "Enter your email address."
	}
	if len(email) > EmailMax {
		return "", "That email address is too long."
	}
	for i := 0; i < len(email); i++ {
		if c := email[i]; c <= ' ' || c >= 0x7f {
			return "", "Enter a valid email address, like name@example.com."
		}
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || !validLocal(local) || !validDomain(domain) {
		return "", "Enter a valid email address, like name@example.com."
	}
	// A second opinion from the standard library's RFC 5322 parser.
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || a.Name != "" {
		return "", "Enter a valid email address, like name@example.com."
	}
	return email, ""
}

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

func validDomain(s string) bool {
	if len(s) > 253 || !strings.Contains(s, ".") {
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
