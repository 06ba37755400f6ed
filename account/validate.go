package account

import (
	"strings"

	"github.com/mtibben/confusables"

	"github.com/latchgo/latch/mailer"
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
		return "Use 3 to 32 characters: letters, digits, and _ . -"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return "Use only letters, digits, and _ . - (a–z, A–Z, 0–9; no spaces)."
		}
	}
	return ""
}

// UsernameSkeleton returns the key under which usernames that a reader
// cannot tell apart collide: "lIbill" (a capital i) and "llbill", "b0b" and
// "bob", "rnodern" and "modern". It is the confusable skeleton of Unicode
// TR39 (NFD, then each character replaced by its prototype in the
// confusables data, then NFD), taken twice around a lowercasing, so that a
// letter confusable only in one case ("I" with "l") counts too. Two
// usernames with the same skeleton cannot both exist; the stores keep it
// in a unique column. Skeletons are compared, never shown.
func UsernameSkeleton(name string) string {
	return confusables.Skeleton(strings.ToLower(confusables.Skeleton(name)))
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
	// The syntax is the mailer's, which refuses what could break a mail
	// header; sign-up also wants a dot in the domain, as every address a
	// public mail server delivers to has.
	_, domain, _ := strings.Cut(email, "@")
	if !mailer.ValidAddress(email) || !strings.Contains(domain, ".") {
		return "", "Enter a valid email address, like name@example.com."
	}
	return email, ""
}
