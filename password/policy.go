package password

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Reason says which rule a password broke.
type Reason int

// The rules of Policy.Check. There are deliberately no composition rules
// (digits, symbols, upper case): NIST SP 800-63B forbids them because they
// make passwords harder to remember without making them harder to guess.
const (
	TooShort   Reason = iota + 1 // fewer code points than MinLength
	TooLong                      // more code points than MaxLength, or more than MaxBytes bytes
	Common                       // in the list of common passwords
	Context                      // contains the username, email, its local part or the site's name
	Repetitive                   // one character repeated, like "aaaaaaaa"
)

var reasonNames = [...]string{
	TooShort:   "too short",
	TooLong:    "too long",
	Common:     "common",
	Context:    "context-specific",
	Repetitive: "repetitive",
}

func (r Reason) String() string {
	if r <= 0 || int(r) >= len(reasonNames) {
		return fmt.Sprintf("Reason(%d)", int(r))
	}
	return reasonNames[r]
}

// PolicyError is returned by Policy.Check. Message is written for the
// person choosing the password and is safe to show them as is (it never
// repeats the password or the context words).
type PolicyError struct {
	Reason  Reason
	Message string
}

func (e *PolicyError) Error() string {
	return "password refused (" + e.Reason.String() + "): " + e.Message
}

// Policy is the rule set for new passwords (sign-up, password change), in
// line with NIST SP 800-63B and OWASP ASVS 5.0 section 6.2: a length range
// and a blocklist, nothing else. It is not applied at login: a password
// accepted once keeps working until its owner changes it.
//
// Lengths count Unicode code points after NFKC normalisation, as NIST
// asks, so "é" is one character however it was typed.
type Policy struct {
	// MinLength is the fewest characters accepted: at least 8 (NIST,
	// ASVS). NIST SP 800-63B-4 asks 15 where the password is the only
	// authentication factor.
	MinLength int
	// MaxLength is the most characters accepted: at least 64 (NIST asks
	// that at least 64 be allowed) and at most MaxBytes.
	MaxLength int
}

// DefaultPolicy accepts 8 to 1024 characters. The zero Policy behaves as
// DefaultPolicy.
var DefaultPolicy = Policy{MinLength: 8, MaxLength: 1024}

// NewPolicy returns a Policy with the given bounds, or the Validate error.
func NewPolicy(minLength, maxLength int) (Policy, error) {
	p := Policy{MinLength: minLength, MaxLength: maxLength}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// Validate reports whether p's bounds respect the standards' floors.
func (p Policy) Validate() error {
	switch {
	case p.MinLength < 8:
		return fmt.Errorf("password policy: MinLength %d is below 8 (NIST SP 800-63B, ASVS 6.2.1)", p.MinLength)
	case p.MaxLength < 64:
		return fmt.Errorf("password policy: MaxLength %d is below 64 (NIST SP 800-63B, ASVS 6.2.9)", p.MaxLength)
	case p.MaxLength < p.MinLength:
		return fmt.Errorf("password policy: MaxLength %d is below MinLength %d", p.MaxLength, p.MinLength)
	case p.MaxLength > MaxBytes:
		return fmt.Errorf("password policy: MaxLength %d is above MaxBytes (%d), so Hash would refuse such passwords", p.MaxLength, MaxBytes)
	}
	return nil
}

// Check reports why password may not be chosen, as a *PolicyError, or nil
// if it may. context lists words the password must not contain
// (case-insensitively, if at least 3 characters long): pass the username,
// the email address and the product's name. For a word containing '@'
// (an email address) the part before the '@' is checked as well.
//
// The checks, in order: length (code points after NFKC, and MaxBytes),
// one repeated character, the common-password list, a run of keys or
// digits, context words.
func (p Policy) Check(password string, context ...string) error {
	p = p.effective()
	if len(password) > MaxBytes {
		return p.tooLong()
	}
	n := norm.NFKC.String(password)
	count := utf8.RuneCountInString(n)
	if count < p.MinLength {
		return &PolicyError{Reason: TooShort, Message: fmt.Sprintf("Use at least %d characters.", p.MinLength)}
	}
	if count > p.MaxLength {
		return p.tooLong()
	}
	lower := strings.ToLower(n)
	if repetitive(lower) {
		return &PolicyError{Reason: Repetitive, Message: "Don't use one character repeated; choose another password."}
	}
	if isCommonNormalized(lower) {
		return &PolicyError{Reason: Common, Message: "This password is too common; choose another."}
	}
	if sequential(lower) {
		return &PolicyError{Reason: Repetitive, Message: "Don't use a run of keys or numbers; choose another password."}
	}
	for _, word := range context {
		w := strings.ToLower(norm.NFKC.String(strings.TrimSpace(word)))
		if containsWord(lower, w) {
			return contextError()
		}
		if at := strings.LastIndexByte(w, '@'); at >= 0 && containsWord(lower, w[:at]) {
			return contextError()
		}
	}
	return nil
}

// walks are the runs people type instead of a password: keyboard rows,
// the digits and the alphabet, each repeated so runs may wrap around.
var walks = func() []string {
	var out []string
	for _, w := range []string{"1234567890", "qwertyuiopasdfghjklzxcvbnm", "qwertzuiopasdfghjklyxcvbnm",
		"azertyuiopqsdfghjklmwxcvbn", "abcdefghijklmnopqrstuvwxyz", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p"} {
		r := []rune(w)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		out = append(out, strings.Repeat(w, 8), strings.Repeat(string(r), 8))
	}
	return out
}()

// sequential reports whether the whole password is one run along a walk
// ("123456789012", "qwertyuiopas", "zyxwvuts").
func sequential(lower string) bool {
	for _, w := range walks {
		if strings.Contains(w, lower) {
			return true
		}
	}
	return false
}

// effective is p as Check applies it: the zero Policy is DefaultPolicy,
// and a Policy that skipped Validate still never accepts fewer than 8
// characters or more than MaxBytes.
func (p Policy) effective() Policy {
	if p == (Policy{}) {
		return DefaultPolicy
	}
	p.MinLength = max(p.MinLength, 8)
	p.MaxLength = min(max(p.MaxLength, p.MinLength), MaxBytes)
	return p
}

func (p Policy) tooLong() error {
	return &PolicyError{Reason: TooLong, Message: fmt.Sprintf("Use at most %d characters.", p.MaxLength)}
}

func contextError() error {
	return &PolicyError{Reason: Context, Message: "Don't use your username, email or the site's name in your password."}
}

// containsWord reports whether word has at least 3 code points and occurs
// in s. Shorter words ("al", "x") would refuse too many good passwords.
func containsWord(s, word string) bool {
	return utf8.RuneCountInString(word) >= 3 && strings.Contains(s, word)
}

// repetitive reports whether s is one character repeated.
func repetitive(s string) bool {
	first, size := utf8.DecodeRuneInString(s)
	for _, r := range s[size:] {
		if r != first {
			return false
		}
	}
	return s != ""
}

// commonList holds the entries of at least 8 characters of zxcvbn-ts's
// common-password list (see common-passwords.NOTICE); shorter ones are
// refused by any valid Policy's length floor already.
//
//go:embed common-passwords.txt
var commonList string

// commonSet is built on first use, so programs that never check a new
// password do not pay for it at start-up.
var commonSet = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, strings.Count(commonList, "\n")+1)
	for line := range strings.SplitSeq(commonList, "\n") {
		if line != "" {
			set[line] = struct{}{}
		}
	}
	return set
})

// IsCommon reports whether password, NFKC-normalised and lower-cased, is
// in the embedded list of common passwords. The list only holds entries
// of 8 characters or more (the policy floor), so shorter common passwords
// are not reported here; Policy.Check refuses them by length.
func IsCommon(password string) bool {
	if len(password) > MaxBytes {
		return false
	}
	return isCommonNormalized(strings.ToLower(norm.NFKC.String(password)))
}

func isCommonNormalized(lower string) bool {
	_, ok := commonSet()[lower]
	return ok
}
