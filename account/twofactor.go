package account

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/latchgo/latch/throttle"
)

// Errors of two-factor authentication.
var (
	// ErrBadCode: the TOTP or recovery code is wrong, or was used before.
	ErrBadCode = errors.New("account: wrong or used code")
	// ErrTwoFactorOff: the user has no second factor to check.
	ErrTwoFactorOff = errors.New("account: two-factor authentication is off")
	// ErrTwoFactorOn: enrolment asked for a user who already has it.
	ErrTwoFactorOn = errors.New("account: two-factor authentication is already on")
)

// totpPeriod and totpSkew: 30-second codes, one step of clock drift either
// way (ASVS 6.5.5 caps a TOTP code's life at 30 s plus drift).
const (
	totpPeriod = 30
	totpSkew   = 1
	// RecoveryCodeCount is how many recovery codes a user gets.
	RecoveryCodeCount = 10
	// recoveryCodeBytes: 15 random bytes = 120 bits, so a SHA-256 of a code
	// is as safe at rest as a password hash (ASVS 6.5.2 allows a fast hash
	// for secrets of 112 bits or more).
	recoveryCodeBytes = 15
)

// TwoFactorLimit throttles code guesses per user: 5 free wrong codes in 15
// minutes, then doubling waits from 30 s up to 15 minutes. A 6-digit code
// has a million values, so this keeps guessing hopeless.
var TwoFactorLimit = throttle.Rule{Window: 15 * time.Minute, Free: 5, Base: 30 * time.Second, Max: 15 * time.Minute}

// TwoFactor enrols, checks and removes TOTP second factors and their
// recovery codes.
type TwoFactor struct {
	creds   CredentialStore
	codes   RecoveryCodeStore
	limiter *throttle.Limiter
	// Issuer names the site in authenticator apps. Default "latch".
	Issuer string
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// NewTwoFactor returns a TwoFactor over the stores; limits may be nil to
// turn throttling off (tools).
func NewTwoFactor(creds CredentialStore, codes RecoveryCodeStore, limits throttle.Store) *TwoFactor {
	t := &TwoFactor{creds: creds, codes: codes, Issuer: "latch", Now: time.Now}
	if limits != nil {
		t.limiter = &throttle.Limiter{Store: limits, Now: func() time.Time { return t.Now() }}
	}
	return t
}

// Enrolment is a proposed TOTP secret, shown to the user until they prove
// with a code that their app has it.
type Enrolment struct {
	Secret string
	// URL is the otpauth:// URL authenticator apps read from the QR code.
	URL string
	// QRCode is a PNG of URL as a data: URI, rendered on the server.
	QRCode string
}

// NewEnrolment makes a new random secret for u.
func (t *TwoFactor) NewEnrolment(u *User) (*Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      t.Issuer,
		AccountName: u.Email,
		Period:      totpPeriod,
		SecretSize:  20,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("generate TOTP secret: %w", err)
	}
	return enrolmentFor(key)
}

// EnrolmentFor rebuilds the enrolment of a secret (when the form is shown
// again after a wrong code).
func (t *TwoFactor) EnrolmentFor(u *User, secret string) (*Enrolment, error) {
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret); err != nil || len(secret) != 32 {
		return nil, fmt.Errorf("bad TOTP secret")
	}
	key, err := otp.NewKeyFromURL(fmt.Sprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s&period=%d&digits=6&algorithm=SHA1",
		escapeLabel(t.Issuer), escapeLabel(u.Email), secret, escapeLabel(t.Issuer), totpPeriod))
	if err != nil {
		return nil, fmt.Errorf("rebuild TOTP key: %w", err)
	}
	return enrolmentFor(key)
}

func escapeLabel(s string) string {
	return strings.NewReplacer("%", "%25", ":", "%3A", "?", "%3F", "&", "%26", "#", "%23", " ", "%20", "/", "%2F").Replace(s)
}

func enrolmentFor(key *otp.Key) (*Enrolment, error) {
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("render QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return &Enrolment{
		Secret: key.Secret(),
		URL:    key.URL(),
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}, nil
}

// Enable turns two-factor on for u with secret once code proves the
// user's app has it, and returns the recovery codes to show once.
func (t *TwoFactor) Enable(ctx context.Context, u *User, secret, code string) ([]string, error) {
	if u.TwoFactor() {
		return nil, ErrTwoFactorOn
	}
	step, ok := matchTOTP(secret, code, t.Now())
	if !ok {
		return nil, ErrBadCode
	}
	if err := t.creds.SetTOTP(ctx, u.ID, secret); err != nil {
		return nil, fmt.Errorf("store TOTP secret: %w", err)
	}
	// The enrolment code is spent, like any other.
	if _, err := t.creds.UseTOTPStep(ctx, u.ID, step); err != nil {
		return nil, fmt.Errorf("record TOTP step: %w", err)
	}
	u.TOTPSecret = secret
	return t.NewRecoveryCodes(ctx, u)
}

// NewRecoveryCodes replaces u's recovery codes and returns the new ones.
func (t *TwoFactor) NewRecoveryCodes(ctx context.Context, u *User) ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([]string, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = hashRecoveryCode(codes[i])
	}
	if err := t.codes.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
		return nil, fmt.Errorf("store recovery codes: %w", err)
	}
	return codes, nil
}

// RecoveryCodesLeft counts u's unused recovery codes.
func (t *TwoFactor) RecoveryCodesLeft(ctx context.Context, u *User) (int, error) {
	return t.codes.RecoveryCodesLeft(ctx, u.ID)
}

// Verify checks a second-factor code for u: a current TOTP code (each
// accepted once) or one of the recovery codes (each usable once). Every
// code counts against TwoFactorLimit per user before it is checked, so a
// burst of guesses gets no more checked than guesses one after the other;
// a right code gives its attempt back. Past the limit it returns a
// *LimitError without checking. It reports whether a recovery code was
// used.
func (t *TwoFactor) Verify(ctx context.Context, u *User, code string) (usedRecovery bool, err error) {
	if !u.TwoFactor() {
		return false, ErrTwoFactorOff
	}
	// The attempt counts before the code is checked, so that a burst of
	// guesses cannot all be checked; a right code gives it back.
	var attempt throttle.Attempt
	if t.limiter != nil {
		a, wait, err := t.limiter.Take(ctx, throttle.Key("2fa", u.ID), TwoFactorLimit)
		if err != nil {
			return false, err
		}
		if wait > 0 {
			return false, &LimitError{RetryAfter: wait}
		}
		attempt = a
	}
	ok, recovery, err := t.check(ctx, u, code)
	if err == nil && !ok {
		return false, ErrBadCode
	}
	if t.limiter != nil {
		if gerr := t.limiter.GiveBack(ctx, attempt); gerr != nil && err == nil {
			err = gerr
		}
	}
	if err != nil {
		return false, err
	}
	return recovery, nil
}

func (t *TwoFactor) check(ctx context.Context, u *User, code string) (ok, recovery bool, err error) {
	if norm, isTOTP := normalizeTOTP(code); isTOTP {
		step, match := matchTOTP(u.TOTPSecret, norm, t.Now())
		if !match {
			return false, false, nil
		}
		fresh, err := t.creds.UseTOTPStep(ctx, u.ID, step)
		if err != nil {
			return false, false, fmt.Errorf("record TOTP step: %w", err)
		}
		return fresh, false, nil
	}
	norm, isRecovery := normalizeRecoveryCode(code)
	if !isRecovery {
		return false, false, nil
	}
	used, err := t.codes.UseRecoveryCode(ctx, u.ID, hashRecoveryCode(norm))
	if err != nil {
		return false, false, fmt.Errorf("use recovery code: %w", err)
	}
	return used, used, nil
}

// Disable turns two-factor off after checking a current code: a stolen
// session alone cannot remove the second factor.
func (t *TwoFactor) Disable(ctx context.Context, u *User, code string) error {
	if _, err := t.Verify(ctx, u, code); err != nil {
		return err
	}
	return t.Remove(ctx, u)
}

// Remove turns two-factor off without a code (for administrators, and for
// password resets of accounts whose email was never confirmed).
func (t *TwoFactor) Remove(ctx context.Context, u *User) error {
	if err := t.creds.SetTOTP(ctx, u.ID, ""); err != nil {
		return fmt.Errorf("clear TOTP secret: %w", err)
	}
	if err := t.codes.ReplaceRecoveryCodes(ctx, u.ID, nil); err != nil {
		return fmt.Errorf("clear recovery codes: %w", err)
	}
	u.TOTPSecret = ""
	return nil
}

// normalizeTOTP accepts "123456" and "123 456".
func normalizeTOTP(code string) (string, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return "", false
		}
	}
	return code, true
}

// matchTOTP finds the time step within the allowed drift whose code is
// code, comparing in constant time.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	code, ok := normalizeTOTP(code)
	if !ok || secret == "" {
		return 0, false
	}
	step := now.Unix() / totpPeriod
	var found int64
	match := 0
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix((step+d)*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && match == 0 {
			found, match = step+d, 1
		}
	}
	return found, match == 1
}

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecoveryCode returns a code like "abcd-efgh-ijkl-mnop-qrst-uvwx".
func newRecoveryCode() string {
	b := make([]byte, recoveryCodeBytes)
	_, _ = rand.Read(b)
	s := strings.ToLower(recoveryEncoding.EncodeToString(b))
	var out strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			out.WriteByte('-')
		}
		out.WriteString(s[i:min(i+4, len(s))])
	}
	return out.String()
}

// normalizeRecoveryCode accepts a recovery code typed with or without
// dashes and spaces, in any case.
func normalizeRecoveryCode(code string) (string, bool) {
	code = strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	if len(code) != recoveryEncoding.EncodedLen(recoveryCodeBytes) {
		return "", false
	}
	if _, err := recoveryEncoding.DecodeString(strings.ToUpper(code)); err != nil {
		return "", false
	}
	return code, true
}

// IsRecoveryCode reports whether code has the form of a recovery code
// (not whether it is anyone's), for pages that handle codes they show.
func IsRecoveryCode(code string) bool {
	_, ok := normalizeRecoveryCode(code)
	return ok
}

func hashRecoveryCode(code string) string {
	norm, _ := normalizeRecoveryCode(code)
	sum := sha256.Sum256([]byte("latch-recovery:" + norm))
	return hex.EncodeToString(sum[:])
}
