package account_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchgo/latch/account"
)

func linkToken(t *testing.T, body, prefix string) string {
	t.Helper()
	i := strings.Index(body, prefix)
	if i < 0 {
		t.Fatalf("no link %s in mail:\n%s", prefix, body)
	}
	link := body[i:]
	if j := strings.IndexAny(link, " \n"); j >= 0 {
		link = link[:j]
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

type recoveryEnv struct {
	*env
	rec    *account.Recovery
	mail   *mailbox
	tokens *account.APITokens
	tf     *account.TwoFactor
}

func newRecoveryEnv(t *testing.T) *recoveryEnv {
	e := newEnv(t)
	mb := newMailbox()
	base, _ := url.Parse("https://latch.example")
	rec := account.NewRecovery(e.store, e.svc, mb, base, e.store)
	rec.Now = e.clock.Now
	rec.OnError = func(err error) { t.Errorf("background: %v", err) }
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rec.Close(ctx)
	})
	tokens := account.NewAPITokens(e.store, e.store)
	tokens.Now = e.clock.Now
	tf := account.NewTwoFactor(e.store, e.store, e.store)
	tf.Now = e.clock.Now
	return &recoveryEnv{env: e, rec: rec, mail: mb, tokens: tokens, tf: tf}
}

func TestPasswordReset(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	alice := r.user(t, "alice")
	if err := r.rec.RequestReset(ctx, "ALICE@example.com", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	// An unknown address gets the same answer and no mail.
	if err := r.rec.RequestReset(ctx, "nobody@example.com", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	mails := r.mail.wait(t, 1)
	if mails[0].to != "alice@example.com" || !strings.Contains(mails[0].subject, "Reset") {
		t.Fatalf("mail %+v", mails[0])
	}
	if !strings.Contains(mails[0].body, "https://latch.example/reset?token=") {
		t.Fatalf("link not built from the base URL:\n%s", mails[0].body)
	}
	tok := linkToken(t, mails[0].body, "https://latch.example/reset")

	// A password the policy refuses keeps the link alive.
	var invalid *account.ValidationError
	if _, err := r.rec.ResetPassword(ctx, tok, "password", r.tf); !errors.As(err, &invalid) {
		t.Fatalf("weak password: %v", err)
	}
	u, err := r.rec.ResetPassword(ctx, tok, "a completely new passphrase", r.tf)
	if err != nil || u.ID != alice.ID {
		t.Fatalf("reset: %v, %v", u, err)
	}
	if !u.EmailConfirmed() {
		t.Error("a reset did not confirm the address it went to")
	}
	if _, err := r.rec.ResetPassword(ctx, tok, "yet another passphrase", r.tf); !errors.Is(err, account.ErrInvalidLink) {
		t.Fatalf("second use: %v", err)
	}
	if _, err := r.svc.Authenticate(ctx, "alice@example.com", "a completely new passphrase", "192.0.2.1"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if got := r.mail.wait(t, 2)[1]; !strings.Contains(got.subject, "changed") {
		t.Errorf("no notice of the change: %+v", got)
	}
	time.Sleep(50 * time.Millisecond)
	if n := r.mail.count(); n != 2 {
		t.Errorf("%d mails; the unknown address must get none", n)
	}
}

func TestResetLinksExpireAndOnlyTheNewestWorks(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	r.user(t, "alice")
	r.rec.RequestReset(ctx, "alice@example.com", "192.0.2.1")
	r.rec.RequestReset(ctx, "alice@example.com", "192.0.2.1")
	mails := r.mail.wait(t, 2)
	first, second := linkToken(t, mails[0].body, "https://"), linkToken(t, mails[1].body, "https://")
	if _, err := r.rec.ResetPassword(ctx, first, "a completely new passphrase", nil); !errors.Is(err, account.ErrInvalidLink) {
		t.Fatalf("older link still works: %v", err)
	}
	r.clock.Advance(31 * time.Minute)
	if _, err := r.rec.ResetPassword(ctx, second, "a completely new passphrase", nil); !errors.Is(err, account.ErrInvalidLink) {
		t.Fatalf("expired link works: %v", err)
	}
	for _, bad := range []string{"", "x", "../../etc", strings.Repeat("A", 43)} {
		if _, err := r.rec.ResetPassword(ctx, bad, "a completely new passphrase", nil); !errors.Is(err, account.ErrInvalidLink) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
}

func TestResetTokenConcurrentUseOnce(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	r.user(t, "alice")
	r.rec.RequestReset(ctx, "alice@example.com", "192.0.2.1")
	tok := linkToken(t, r.mail.wait(t, 1)[0].body, "https://")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.rec.ResetPassword(ctx, tok, "a completely new passphrase", nil); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d of 20 concurrent resets succeeded", ok)
	}
}

func TestResetRevokesTokensAndUntrustedSecondFactor(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	// An attacker registered the victim's address (never confirmed),
	// created an API token and enrolled 2FA (CVE-2024-38351).
	u := r.user(t, "victim")
	secret, _, err := r.tokens.Create(ctx, u, "attacker", 0)
	if err != nil {
		t.Fatal(err)
	}
	enrol, _ := r.tf.NewEnrolment(u)
	code, _ := totp.GenerateCode(enrol.Secret, r.clock.Now())
	if _, err := r.tf.Enable(ctx, u, enrol.Secret, code); err != nil {
		t.Fatal(err)
	}
	// The real owner resets the password through the mailbox.
	r.rec.RequestReset(ctx, "victim@example.com", "192.0.2.1")
	tok := linkToken(t, r.mail.wait(t, 1)[0].body, "https://")
	got, err := r.rec.ResetPassword(ctx, tok, "owner's own new passphrase", r.tf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.tokens.Authenticate(ctx, secret); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("attacker's API token survived the reset: %v", err)
	}
	if got.TwoFactor() {
		t.Fatal("2FA enrolled before the address was confirmed survived the reset")
	}
	stored, _ := r.store.UserByID(ctx, u.ID)
	if stored.TwoFactor() {
		t.Fatal("stored 2FA secret survived")
	}
}

func TestResetKeepsConfirmedSecondFactor(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	u := r.user(t, "alice")
	r.store.ConfirmEmail(ctx, u.ID, u.Email, r.clock.Now())
	u, _ = r.store.UserByID(ctx, u.ID)
	enrol, _ := r.tf.NewEnrolment(u)
	code, _ := totp.GenerateCode(enrol.Secret, r.clock.Now())
	if _, err := r.tf.Enable(ctx, u, enrol.Secret, code); err != nil {
		t.Fatal(err)
	}
	r.rec.RequestReset(ctx, u.Email, "192.0.2.1")
	tok := linkToken(t, r.mail.wait(t, 1)[0].body, "https://")
	got, err := r.rec.ResetPassword(ctx, tok, "a completely new passphrase", r.tf)
	if err != nil {
		t.Fatal(err)
	}
	if !got.TwoFactor() {
		t.Fatal("a reset bypassed the second factor of a confirmed account (ASVS 6.4.3)")
	}
}

func TestResetRequestsAreRateLimited(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	var err error
	for range account.MailAddressLimit.Free + 1 {
		err = r.rec.RequestReset(ctx, "someone@example.com", "192.0.2.1")
	}
	var limit *account.LimitError
	if !errors.As(err, &limit) {
		t.Fatalf("mail bombing one address not limited: %v", err)
	}
}

func TestEmailConfirmationAndChange(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	u := r.user(t, "alice")
	if err := r.rec.SendConfirmation(ctx, u, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	m := r.mail.wait(t, 1)[0]
	if m.to != "alice@example.com" {
		t.Fatal(m.to)
	}
	got, changed, err := r.rec.Confirm(ctx, linkToken(t, m.body, "https://latch.example/confirm"))
	if err != nil || changed || !got.EmailConfirmed() {
		t.Fatalf("confirm: %v %v %v", got, changed, err)
	}

	// Changing the address: nothing changes until the new address
	// confirms; the old address is told.
	if err := r.rec.RequestEmailChange(ctx, got, "alice.new@example.com", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	mails := r.mail.wait(t, 3)
	var toNew, toOld *mail
	for i := range mails[1:] {
		switch mails[1+i].to {
		case "alice.new@example.com":
			toNew = &mails[1+i]
		case "alice@example.com":
			toOld = &mails[1+i]
		}
	}
	if toNew == nil || toOld == nil {
		t.Fatalf("mails: %+v", mails)
	}
	if still, _ := r.store.UserByID(ctx, u.ID); still.Email != "alice@example.com" {
		t.Fatal("email changed before confirmation")
	}
	// A reset link sent to the old address dies with the change.
	r.rec.RequestReset(ctx, "alice@example.com", "192.0.2.1")
	resetTok := linkToken(t, r.mail.wait(t, 4)[3].body, "https://")
	changedUser, changed, err := r.rec.Confirm(ctx, linkToken(t, toNew.body, "https://latch.example/confirm"))
	if err != nil || !changed || changedUser.Email != "alice.new@example.com" {
		t.Fatalf("change: %v %v %v", changedUser, changed, err)
	}
	if _, err := r.rec.ResetPassword(ctx, resetTok, "a completely new passphrase", nil); !errors.Is(err, account.ErrInvalidLink) {
		t.Fatalf("reset link to the old address survived the change: %v", err)
	}
	if notice := r.mail.wait(t, 5)[4]; notice.to != "alice@example.com" || !strings.Contains(notice.body, "alice.new@example.com") {
		t.Fatalf("old address not told of the change: %+v", notice)
	}
	var invalid *account.ValidationError
	r.user(t, "bob")
	if err := r.rec.RequestEmailChange(ctx, changedUser, "BOB@example.com", "192.0.2.1"); !errors.As(err, &invalid) {
		t.Fatalf("change to a taken address: %v", err)
	}
}

func TestTwoFactor(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	u := r.user(t, "alice")
	enrol, err := r.tf.NewEnrolment(u)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enrol.QRCode, "data:image/png;base64,") || !strings.HasPrefix(enrol.URL, "otpauth://totp/") {
		t.Fatalf("enrolment %+v", enrol)
	}
	again, err := r.tf.EnrolmentFor(u, enrol.Secret)
	if err != nil || again.Secret != enrol.Secret {
		t.Fatalf("EnrolmentFor: %v %v", again, err)
	}
	if _, err := r.tf.Enable(ctx, u, enrol.Secret, "000000"); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("wrong enrolment code: %v", err)
	}
	code, _ := totp.GenerateCode(enrol.Secret, r.clock.Now())
	codes, err := r.tf.Enable(ctx, u, enrol.Secret, code)
	if err != nil || len(codes) != account.RecoveryCodeCount {
		t.Fatalf("Enable: %d codes, %v", len(codes), err)
	}
	// The enrolment code is spent.
	if _, err := r.tf.Verify(ctx, u, code); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("enrolment code replayed: %v", err)
	}
	r.clock.Advance(30 * time.Second)
	code, _ = totp.GenerateCode(enrol.Secret, r.clock.Now())
	if rec, err := r.tf.Verify(ctx, u, code); err != nil || rec {
		t.Fatalf("current code: %v %v", rec, err)
	}
	if _, err := r.tf.Verify(ctx, u, code); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("replayed code accepted: %v", err)
	}
	// One step of clock drift is tolerated, more is not.
	r.clock.Advance(30 * time.Second)
	late, _ := totp.GenerateCode(enrol.Secret, r.clock.Now().Add(30*time.Second))
	if _, err := r.tf.Verify(ctx, u, late); err != nil {
		t.Fatalf("code one step ahead: %v", err)
	}
	r.clock.Advance(2 * time.Minute)
	old, _ := totp.GenerateCode(enrol.Secret, r.clock.Now().Add(-2*time.Minute))
	if _, err := r.tf.Verify(ctx, u, old); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("two-minute-old code: %v", err)
	}
	// Recovery codes work once each, with or without dashes, any case.
	if rec, err := r.tf.Verify(ctx, u, strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))); err != nil || !rec {
		t.Fatalf("recovery code: %v %v", rec, err)
	}
	if _, err := r.tf.Verify(ctx, u, codes[0]); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("recovery code reused: %v", err)
	}
	if left, _ := r.tf.RecoveryCodesLeft(ctx, u); left != account.RecoveryCodeCount-1 {
		t.Fatalf("%d codes left", left)
	}
	// Disabling needs a valid code.
	if err := r.tf.Disable(ctx, u, "123456"); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("disable without a valid code: %v", err)
	}
	// Five wrong codes so far: the throttle wants a pause first.
	var limit *account.LimitError
	if err := r.tf.Disable(ctx, u, codes[1]); !errors.As(err, &limit) {
		t.Fatalf("sixth attempt not throttled: %v", err)
	}
	r.clock.Advance(account.TwoFactorLimit.Base)
	if err := r.tf.Disable(ctx, u, codes[1]); err != nil {
		t.Fatal(err)
	}
	if stored, _ := r.store.UserByID(ctx, u.ID); stored.TwoFactor() {
		t.Fatal("still on")
	}
}

func TestTwoFactorGuessesAreThrottled(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	u := r.user(t, "alice")
	enrol, _ := r.tf.NewEnrolment(u)
	code, _ := totp.GenerateCode(enrol.Secret, r.clock.Now())
	r.tf.Enable(ctx, u, enrol.Secret, code)
	for i := range account.TwoFactorLimit.Free {
		if _, err := r.tf.Verify(ctx, u, "999999"); !errors.Is(err, account.ErrBadCode) {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	r.clock.Advance(account.TwoFactorLimit.Base / 2)
	code, _ = totp.GenerateCode(enrol.Secret, r.clock.Now())
	var limit *account.LimitError
	if _, err := r.tf.Verify(ctx, u, code); !errors.As(err, &limit) {
		t.Fatalf("a code was checked after %d wrong ones: %v", account.TwoFactorLimit.Free, err)
	}
	r.clock.Advance(account.TwoFactorLimit.Base)
	code, _ = totp.GenerateCode(enrol.Secret, r.clock.Now())
	if _, err := r.tf.Verify(ctx, u, code); err != nil {
		t.Fatalf("after the pause: %v", err)
	}
}

func TestAPITokens(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	alice, bob := r.user(t, "alice"), r.user(t, "bob")
	secret, tok, err := r.tokens.Create(ctx, alice, "  laptop script ", 24*time.Hour)
	if err != nil || tok.Name != "laptop script" {
		t.Fatalf("%v %v", tok, err)
	}
	if !strings.HasPrefix(secret, account.APITokenPrefix) || strings.Contains(tok.Hash, secret) {
		t.Fatalf("secret %q / hash %q", secret, tok.Hash)
	}
	if u, err := r.tokens.Authenticate(ctx, secret); err != nil || u.ID != alice.ID {
		t.Fatalf("Authenticate: %v %v", u, err)
	}
	for _, bad := range []string{"", secret[:len(secret)-1], secret + "x", strings.ToUpper(secret), "latch_" + strings.Repeat("A", 43), "Bearer " + secret} {
		if _, err := r.tokens.Authenticate(ctx, bad); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("token %.12q…: %v", bad, err)
		}
	}
	if err := r.tokens.Revoke(ctx, bob.ID, tok.ID); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("bob revoked alice's token: %v", err)
	}
	r.clock.Advance(25 * time.Hour)
	if _, err := r.tokens.Authenticate(ctx, secret); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("expired token works: %v", err)
	}
	secret2, tok2, _ := r.tokens.Create(ctx, alice, "forever", 0)
	r.store.SetDisabled(ctx, alice.ID, true)
	if _, err := r.tokens.Authenticate(ctx, secret2); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("disabled user's token works: %v", err)
	}
	if err := r.tokens.Revoke(ctx, alice.ID, tok2.ID); err != nil {
		t.Fatal(err)
	}
	var invalid *account.ValidationError
	if _, _, err := r.tokens.Create(ctx, bob, "", 0); !errors.As(err, &invalid) {
		t.Fatalf("empty name: %v", err)
	}
}

func TestBearerToken(t *testing.T) {
	good := account.APITokenPrefix + strings.Repeat("A", 43)
	tests := []struct {
		header string
		ok     bool
	}{
		{"Bearer " + good, true},
		{"bearer " + good, true},
		{"Bearer  " + good + " ", true},
		{"Basic " + good, false},
		{good, false},
		{"Bearer", false},
		{"Bearer " + good[:20], false},
		{"Bearer " + good + "A", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/api/me?access_token="+good, nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		if _, ok := account.BearerToken(r); ok != tt.ok {
			t.Errorf("BearerToken(%q) ok=%v", tt.header, ok)
		}
	}
	r := httptest.NewRequest("GET", "/api/me?access_token="+good+"&token="+good, nil)
	if _, ok := account.BearerToken(r); ok {
		t.Error("token taken from the query string")
	}
}

// FuzzParseAPIToken: whatever is accepted is exactly prefix + a canonical
// 32-byte token.
func FuzzParseAPIToken(f *testing.F) {
	f.Add(account.APITokenPrefix + strings.Repeat("A", 43))
	f.Add("latch_")
	f.Add("Bearer latch_x")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := account.ParseAPIToken(s)
		if ok && (got != s || len(s) != len(account.APITokenPrefix)+43 || !strings.HasPrefix(s, account.APITokenPrefix)) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestAuditor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user(t, "alice")
	a := account.NewAuditor(e.store)
	a.Now = e.clock.Now
	for _, k := range []string{"logged_in", "password_changed", "logged_out"} {
		e.clock.Advance(time.Minute)
		if err := a.Record(ctx, u.ID, k, "192.0.2.1", strings.Repeat("UA", 500), ""); err != nil {
			t.Fatal(err)
		}
	}
	events, err := a.Recent(ctx, u.ID, 2)
	if err != nil || len(events) != 2 || events[0].Kind != "logged_out" {
		t.Fatalf("%+v %v", events, err)
	}
	if len(events[0].UserAgent) > 256 {
		t.Errorf("user agent kept at %d bytes", len(events[0].UserAgent))
	}
	e.clock.Advance(2 * account.AuditRetention)
	if n, err := a.Prune(ctx, account.AuditRetention); err != nil || n != 3 {
		t.Fatalf("Prune = %d, %v", n, err)
	}
}
