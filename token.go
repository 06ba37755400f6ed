package latch

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// Token sizes. A session token and a remember validator carry 256 bits
// from crypto/rand (ASVS 7.2.3 asks for 128); the selector only has to be
// unique and unguessable enough not to be enumerated, so 128 bits.
const (
	sessionTokenBytes = 32
	selectorBytes     = 16
	validatorBytes    = 32
)

var (
	sessionTokenLen = base64.RawURLEncoding.EncodedLen(sessionTokenBytes)
	selectorLen     = base64.RawURLEncoding.EncodedLen(selectorBytes)
	validatorLen    = base64.RawURLEncoding.EncodedLen(validatorBytes)
)

// NewToken returns n bytes from crypto/rand, base64url-encoded without
// padding. It is what latch uses for session tokens, remember-me tokens and
// remember-me series, and what applications can use for their own secrets
// (API tokens, reset links).
func NewToken(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails on supported platforms (Go 1.24+ makes
	// it crash the program rather than return weak bytes).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the base64url SHA-256 of a token: the only form in
// which latch stores secrets that are as strong as 256 random bits (a slow
// password hash would add nothing but latency).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	var enc [43]byte // base64url of 32 bytes, unpadded
	base64.RawURLEncoding.Encode(enc[:], sum[:])
	return string(enc[:])
}

// ParseSessionToken reports whether s has the exact shape of a session
// token latch issues. Cookies are untrusted input: anything else (too long,
// path separators, NUL bytes, another alphabet) is treated as no session
// before any store sees it.
func ParseSessionToken(s string) (string, bool) {
	if len(s) != sessionTokenLen || !isBase64URL(s) {
		return "", false
	}
	return s, true
}

// ParseRememberToken splits a remember-me cookie value "selector.validator"
// and reports whether both halves have the exact shape latch issues.
func ParseRememberToken(s string) (selector, validator string, ok bool) {
	if len(s) != selectorLen+1+validatorLen || s[selectorLen] != '.' {
		return "", "", false
	}
	selector, validator = s[:selectorLen], s[selectorLen+1:]
	if !isBase64URL(selector) || !isBase64URL(validator) {
		return "", "", false
	}
	return selector, validator, true
}

// isBase64URL reports whether s uses only the unpadded base64url alphabet
// and decodes canonically (no stray low bits in the last character), so that
// exactly one spelling of each token is accepted.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	// Decode into a buffer on the stack for the tokens latch issues (the
	// longest is 43 characters); the check runs on every request.
	var buf [48]byte
	if base64.RawURLEncoding.DecodedLen(len(s)) > len(buf) {
		_, err := base64.RawURLEncoding.Strict().DecodeString(s)
		return err == nil
	}
	_, err := base64.RawURLEncoding.Strict().Decode(buf[:], []byte(s))
	return err == nil
}

// equalHash compares two token hashes in constant time.
func equalHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func newRememberValue() (selector, validator, value string) {
	selector, validator = NewToken(selectorBytes), NewToken(validatorBytes)
	var b strings.Builder
	b.Grow(selectorLen + 1 + validatorLen)
	b.WriteString(selector)
	b.WriteByte('.')
	b.WriteString(validator)
	return selector, validator, b.String()
}
