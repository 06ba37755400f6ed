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

	"golang.org/x/crypto/argon2"

	"github.com/latchgo/latch/password"
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
	// recoveryCodeLen: ten characters of a 32-letter alphabet, 50 bits,
	// short enough to type from paper ("7kq2m-x9c4d"). Below 112 bits a
	// lookup secret must be stored with a password hash (ASVS 6.5.2), so
	// each is kept as an argon2id of the code: an offline guess at one of
	// a user's codes costs 2^50/10 argon2id computations, and online
	// guesses meet TwoFactorLimit.
	recoveryCodeLen = 10
	// legacyRecoveryCodeBytes: codes made before, 24 characters of
	// 120 bits kept as SHA-256 (ASVS 6.5.2's fast-hash case). They keep
	// working until the user makes new ones.
	legacyRecoveryCodeBytes = 15
)

// recoveryParams are the argon2id parameters of recovery codes, fixed
// with the code format (OWASP's first argon2id choice, m=19 MiB, t=2):
// the hash is found by value, so it cannot follow a change of the
// password Params the way password hashes are upgraded at login.
var recoveryParams = password.Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

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
	// Hasher runs the argon2id of recovery codes under its admission
	// control: set it to the Hasher of logins (Service's) so that both
	// share one bound on CPU. NewTwoFactor gives it one of its own.
	Hasher *password.Hasher
}

// NewTwoFactor returns a TwoFactor over the stores; limits may be nil to
// turn throttling off (tools).
func NewTwoFactor(creds CredentialStore, codes RecoveryCodeStore, limits throttle.Store) *TwoFactor {
	t := &TwoFactor{creds: creds, codes: codes, Issuer: "latch", Now: time.Now, Hasher: password.NewHasher(password.DefaultParams)}
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
	// One random salt for the set: a code is checked with one argon2id
	// (of the typed code with the set's salt) compared with each hash,
	// not one per stored code.
	salt := randomSalt()
	for i := range codes {
		norm := newRecoveryCode()
		codes[i] = norm[:5] + "-" + norm[5:]
		h, err := t.hashRecoveryCode(ctx, norm, salt)
		if err != nil {
			return nil, err
		}
		hashes[i] = h
	}
	if err := t.codes.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
		return nil, fmt.Errorf("store recovery codes: %w", err)
	}
	return codes, nil
}

// RecoveryCodesLeft counts u's unused recovery codes.
func (t *TwoFactor) RecoveryCodesLeft(ctx context.Context, u *User) (int, error) {
	hashes, err := t.codes.RecoveryCodes(ctx, u.ID)
	return len(hashes), err
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
	hash, err := t.findRecoveryCode(ctx, u.ID, code)
	if err != nil || hash == "" {
		return false, false, err
	}
	// The DELETE decides: of two requests with one code, one logs in.
	used, err := t.codes.UseRecoveryCode(ctx, u.ID, hash)
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

// recoveryAlphabet is Crockford's base 32: digits and lower-case letters
// without i, l, o and u, so that no two characters look alike on paper.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// newRecoveryCode returns a new code in its normalised form, like
// "7kq2mx9c4d" (shown as "7kq2m-x9c4d").
func newRecoveryCode() string {
	var b [recoveryCodeLen]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		// 256 is a multiple of 32: a random byte mod 32 is uniform.
		b[i] = recoveryAlphabet[b[i]%32]
	}
	return string(b[:])
}

// normalizeRecoveryCode accepts a recovery code typed with or without
// dashes and spaces, in any case, with the look-alikes Crockford's
// alphabet leaves out read as what they look like (o as 0, i and l as 1).
func normalizeRecoveryCode(code string) (string, bool) {
	code = strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	if len(code) != recoveryCodeLen {
		return "", false
	}
	b := []byte(code)
	for i, c := range b {
		switch c {
		case 'o':
			b[i] = '0'
		case 'i', 'l':
			b[i] = '1'
		}
		if !strings.ContainsRune(recoveryAlphabet, rune(b[i])) {
			return "", false
		}
	}
	return string(b), true
}

// IsRecoveryCode reports whether code has the form of a recovery code
// (not whether it is anyone's), for pages that handle codes they show.
func IsRecoveryCode(code string) bool {
	_, ok := normalizeRecoveryCode(code)
	return ok
}

// findRecoveryCode returns the stored hash of userID's unused code that
// code is, or "" when it is none of them.
func (t *TwoFactor) findRecoveryCode(ctx context.Context, userID, code string) (string, error) {
	legacy, isLegacy := normalizeLegacyRecoveryCode(code)
	norm, ok := normalizeRecoveryCode(code)
	if !ok && !isLegacy {
		return "", nil
	}
	stored, err := t.codes.RecoveryCodes(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("load recovery codes: %w", err)
	}
	if isLegacy {
		want := hashLegacyRecoveryCode(legacy)
		for _, h := range stored {
			if subtle.ConstantTimeCompare([]byte(h), []byte(want)) == 1 {
				return h, nil
			}
		}
		return "", nil
	}
	// A set shares one salt; a store may still hold more than one set
	// (not by TwoFactor's doing), so each salt found is tried once.
	tried := map[string]string{}
	for _, h := range stored {
		salt, ok := recoverySalt(h)
		if !ok {
			continue
		}
		want, done := tried[string(salt)]
		if !done {
			if want, err = t.hashRecoveryCode(ctx, norm, salt); err != nil {
				return "", err
			}
			tried[string(salt)] = want
		}
		if subtle.ConstantTimeCompare([]byte(h), []byte(want)) == 1 {
			return h, nil
		}
	}
	return "", nil
}

// recoveryPrefix starts every stored recovery code hash: argon2id with
// recoveryParams.
var recoveryPrefix = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, recoveryParams.Memory, recoveryParams.Time, recoveryParams.Threads)

// recoverySalt returns the salt of a stored recovery code hash, if it is
// one with recoveryParams.
func recoverySalt(stored string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(stored, recoveryPrefix)
	if !ok {
		return nil, false
	}
	salt, _, ok := strings.Cut(rest, "$")
	if !ok {
		return nil, false
	}
	b, err := base64.RawStdEncoding.DecodeString(salt)
	if err != nil || len(b) != int(recoveryParams.SaltLen) {
		return nil, false
	}
	return b, true
}

func randomSalt() []byte {
	b := make([]byte, recoveryParams.SaltLen)
	_, _ = rand.Read(b) // never fails (Go 1.24 and later)
	return b
}

// hashRecoveryCode is the argon2id of a normalised code with salt and
// recoveryParams, computed in one of the Hasher's slots.
func (t *TwoFactor) hashRecoveryCode(ctx context.Context, norm string, salt []byte) (string, error) {
	p := recoveryParams
	var key []byte
	if err := t.Hasher.Do(ctx, func() {
		key = argon2.IDKey([]byte(norm), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	}); err != nil {
		return "", fmt.Errorf("hash recovery code: %w", err)
	}
	b64 := base64.RawStdEncoding
	return recoveryPrefix + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key), nil
}

var legacyRecoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// normalizeLegacyRecoveryCode accepts a code of the earlier 24-character
// form, with or without dashes and spaces, in any case.
func normalizeLegacyRecoveryCode(code string) (string, bool) {
	code = strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	if len(code) != legacyRecoveryEncoding.EncodedLen(legacyRecoveryCodeBytes) {
		return "", false
	}
	if _, err := legacyRecoveryEncoding.DecodeString(strings.ToUpper(code)); err != nil {
		return "", false
	}
	return code, true
}

func hashLegacyRecoveryCode(norm string) string {
	sum := sha256.Sum256([]byte("latch-recovery:" + norm))
	return hex.EncodeToString(sum[:])
}
