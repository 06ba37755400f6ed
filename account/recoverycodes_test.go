package account_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/password"
)

// codeRecorder keeps what TwoFactor hands the store, to see what is kept
// at rest.
type codeRecorder struct {
	account.RecoveryCodeStore
	mu     sync.Mutex
	stored []string
}

func (c *codeRecorder) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	c.mu.Lock()
	c.stored = append([]string(nil), hashes...)
	c.mu.Unlock()
	return c.RecoveryCodeStore.ReplaceRecoveryCodes(ctx, userID, hashes)
}

// twoFactorUser signs a user up and turns two-factor on, returning the
// recovery codes it was shown.
func twoFactorUser(t *testing.T, r *recoveryEnv, name string) (*account.User, []string) {
	t.Helper()
	ctx := context.Background()
	u := r.user(t, name)
	enrol, err := r.tf.NewEnrolment(u)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(enrol.Secret, r.clock.Now())
	codes, err := r.tf.Enable(ctx, u, enrol.Secret, code)
	if err != nil {
		t.Fatal(err)
	}
	return u, codes
}

// Recovery codes are short enough to type from paper, distinct, and kept
// only as argon2id hashes with a random salt per set of codes.
func TestRecoveryCodesShortAndHashed(t *testing.T) {
	r := newRecoveryEnv(t)
	rec := &codeRecorder{RecoveryCodeStore: r.store}
	r.tf = account.NewTwoFactor(r.store, rec, r.store)
	r.tf.Now = r.clock.Now
	_, codes := twoFactorUser(t, r, "alice")
	shape := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) || !account.IsRecoveryCode(c) {
			t.Errorf("code %q: want five and five characters of Crockford's base 32", c)
		}
		if seen[c] {
			t.Errorf("code %q given twice", c)
		}
		seen[c] = true
	}
	if len(rec.stored) != account.RecoveryCodeCount {
		t.Fatalf("%d hashes stored", len(rec.stored))
	}
	hashes := map[string]bool{}
	for _, h := range rec.stored {
		if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Errorf("stored %q, want an argon2id hash", h)
		}
		if f, err := password.Identify(h); err != nil || f != password.FormatArgon2id {
			t.Errorf("stored hash %q is not a PHC argon2id string: %v %v", h, f, err)
		}
		for _, c := range codes {
			if strings.Contains(h, c) || strings.Contains(h, strings.ReplaceAll(c, "-", "")) {
				t.Errorf("hash %q holds the code", h)
			}
		}
		hashes[h] = true
	}
	if len(hashes) != account.RecoveryCodeCount {
		t.Errorf("%d distinct hashes for %d codes", len(hashes), account.RecoveryCodeCount)
	}
	// A new set has a new salt.
	salt := func(h string) string { return strings.Split(h, "$")[4] }
	first := salt(rec.stored[0])
	if len(first) != 22 { // 16 bytes, unpadded base64
		t.Errorf("salt %q, want 16 bytes", first)
	}
	u, err := r.store.UserByEmail(t.Context(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.tf.NewRecoveryCodes(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if again := salt(rec.stored[0]); again == first {
		t.Errorf("a new set of codes kept the salt %q", first)
	}
}

// A code typed as people type it from paper works: capitals, spaces for
// the dash, no dash at all.
func TestRecoveryCodeAsTyped(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	u, codes := twoFactorUser(t, r, "alice")
	for i, typed := range []string{
		strings.ToUpper(codes[0]),
		strings.ReplaceAll(codes[1], "-", " "),
		" " + strings.ReplaceAll(codes[2], "-", "") + " ",
	} {
		if rec, err := r.tf.Verify(ctx, u, typed); err != nil || !rec {
			t.Errorf("code %d typed as %q: recovery=%v err=%v", i, typed, rec, err)
		}
	}
	// Another user's code is not this user's.
	bob, bobCodes := twoFactorUser(t, r, "bob")
	if _, err := r.tf.Verify(ctx, u, bobCodes[0]); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("bob's code for alice: %v", err)
	}
	if rec, err := r.tf.Verify(ctx, bob, bobCodes[0]); err != nil || !rec {
		t.Fatalf("bob's code for bob: %v", err)
	}
}

// Codes made by earlier versions (24 characters, kept as SHA-256) keep
// working, once each, until the user makes new ones.
func TestLegacyRecoveryCodes(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	u, _ := twoFactorUser(t, r, "alice")
	const legacy = "abcd-efgh-ijkl-mnop-qrst-uvwx"
	sum := sha256.Sum256([]byte("latch-recovery:" + strings.ReplaceAll(legacy, "-", "")))
	if err := r.store.ReplaceRecoveryCodes(ctx, u.ID, []string{hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	if rec, err := r.tf.Verify(ctx, u, strings.ToUpper(legacy)); err != nil || !rec {
		t.Fatalf("legacy code: recovery=%v err=%v", rec, err)
	}
	if _, err := r.tf.Verify(ctx, u, legacy); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("legacy code reused: %v", err)
	}
}

// The argon2id of a code runs under the Hasher's admission control: when
// it is turned away the code is neither checked nor spent, and the
// attempt is given back.
func TestRecoveryCodeWhileHasherBusy(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	u, codes := twoFactorUser(t, r, "alice")
	h := password.NewHasher(password.DefaultParams)
	h.MaxConcurrent, h.MaxQueue = 1, -1
	r.tf.Hasher = h
	hold, held := make(chan struct{}), make(chan struct{})
	go func() { _ = h.Do(ctx, func() { close(held); <-hold }) }()
	<-held
	for range account.TwoFactorLimit.Free + 1 {
		if _, err := r.tf.Verify(ctx, u, codes[0]); !errors.Is(err, password.ErrBusy) {
			close(hold)
			t.Fatalf("with the hasher full: %v, want ErrBusy", err)
		}
	}
	close(hold)
	if left, _ := r.tf.RecoveryCodesLeft(ctx, u); left != account.RecoveryCodeCount {
		t.Fatalf("%d codes left after busy answers", left)
	}
	if rec, err := r.tf.Verify(ctx, u, codes[0]); err != nil || !rec {
		t.Fatalf("after the hasher freed up (busy answers must not count as guesses): recovery=%v err=%v", rec, err)
	}
}

// One code sent from several places at once logs in once.
func TestRecoveryCodeRace(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	u, codes := twoFactorUser(t, r, "alice")
	h := password.NewHasher(password.DefaultParams)
	h.MaxConcurrent = 4
	r.tf.Hasher = h
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 4 {
		wg.Go(func() {
			rec, err := r.tf.Verify(ctx, u, codes[3])
			switch {
			case err == nil && rec:
				mu.Lock()
				won++
				mu.Unlock()
			case errors.Is(err, account.ErrBadCode):
			default:
				t.Errorf("Verify: %v", err)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("one recovery code logged in %d times", won)
	}
}
