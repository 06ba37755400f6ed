package account

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/throttle"
)

// ErrInvalidLink: a reset or confirmation link is unknown, used or
// expired. The three are not told apart.
var ErrInvalidLink = errors.New("account: the link is invalid or has expired")

// Notifier delivers a message to an email address. The latch site passes
// a mail queue, so delivery never delays a response.
type Notifier interface {
	Notify(ctx context.Context, to, subject, body string) error
}

// Limits of the mail-sending flows (ASVS 2.4.1: no mail bombing): per
// client 10 requests an hour, per address 3 an hour, then doubling waits.
var (
	MailClientLimit  = throttle.Rule{Window: time.Hour, Free: 10, Base: time.Minute, Max: time.Hour}
	MailAddressLimit = throttle.Rule{Window: time.Hour, Free: 3, Base: 5 * time.Minute, Max: time.Hour}
)

// Recovery runs the flows that go through the user's mailbox: password
// reset, email confirmation and change of email.
type Recovery struct {
	users   Store
	creds   CredentialStore
	tokens  OneTimeTokenStore
	notify  Notifier
	service *Service
	limiter *throttle.Limiter
	base    *url.URL
	jobs    chan func(context.Context)
	done    chan struct{}

	// ResetTTL is how long a reset link works. Default 30 minutes.
	ResetTTL time.Duration
	// ConfirmTTL is how long a confirmation link works. Default 24 hours.
	ConfirmTTL time.Duration
	// SiteName appears in mail subjects. Default "latch".
	SiteName string
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// OnError is told of failures of the background work (creating a
	// token, queueing a mail), which no request can report.
	OnError func(error)
}

// RecoveryBackend is what Recovery needs of storage.
type RecoveryBackend interface {
	Store
	CredentialStore
	OneTimeTokenStore
}

// NewRecovery returns a Recovery whose links start with base (the site's
// configured public URL — never a Host or X-Forwarded-Host header, which a
// client controls), sending mail through notify and setting passwords with
// service. limits may be nil for tools. Call Close to finish queued work.
func NewRecovery(b RecoveryBackend, service *Service, notify Notifier, base *url.URL, limits throttle.Store) *Recovery {
	r := &Recovery{
		users: b, creds: b, tokens: b, notify: notify, service: service, base: base,
		jobs:       make(chan func(context.Context), 1000),
		done:       make(chan struct{}),
		ResetTTL:   30 * time.Minute,
		ConfirmTTL: 24 * time.Hour,
		SiteName:   "latch",
		Now:        time.Now,
	}
	if limits != nil {
		r.limiter = &throttle.Limiter{Store: limits, Now: func() time.Time { return r.Now() }}
	}
	go r.work()
	return r
}

// work runs background jobs one at a time.
func (r *Recovery) work() {
	defer close(r.done)
	for job := range r.jobs {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		job(ctx)
		cancel()
	}
}

// Close stops taking work and waits for queued jobs until ctx ends.
func (r *Recovery) Close(ctx context.Context) error {
	close(r.jobs)
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Recovery) fail(err error) {
	if r.OnError != nil && err != nil {
		r.OnError(err)
	}
}

// background queues job; a full queue drops it (and says so), since the
// request must answer the same either way.
func (r *Recovery) background(job func(context.Context)) {
	select {
	case r.jobs <- job:
	default:
		r.fail(errors.New("recovery: background queue full, mail dropped"))
	}
}

func (r *Recovery) link(path, token string) string {
	u := *r.base
	u.Path = path
	u.RawQuery = url.Values{"token": {token}}.Encode()
	return u.String()
}

// checkMailLimits records a mail-sending request against its client and
// its address, before anything is sent; past either limit it returns a
// *LimitError and counts against neither.
func (r *Recovery) checkMailLimits(ctx context.Context, purpose, email, clientIP string) error {
	if r.limiter == nil {
		return nil
	}
	prefix := throttle.DefaultIPv6Prefix
	if r.service != nil {
		prefix = r.service.Limits.IPv6Prefix
	}
	_, wait, err := r.limiter.TakeAll(ctx,
		throttle.Limit{Key: throttle.ClientKey("mail:ip:"+purpose, clientIP, prefix), Rule: MailClientLimit},
		throttle.Limit{Key: throttle.Key("mail:addr:"+purpose, strings.ToLower(email)), Rule: MailAddressLimit})
	if err != nil {
		return err
	}
	if wait > 0 {
		return &LimitError{RetryAfter: wait}
	}
	return nil
}

// RequestReset starts a password reset for email. It answers the same,
// in the same time, whether or not an account has that address: the
// lookup, the token and the mail happen in the background. Only rate
// limits (a *LimitError) and a malformed address are reported.
func (r *Recovery) RequestReset(ctx context.Context, email, clientIP string) error {
	return r.forAddress(ctx, "reset", email, clientIP, r.sendReset)
}

// forAddress is the common part of the requests that mail an address: it
// checks the address and the limits, then looks the account up and runs
// send in the background, so the answer is the same, in the same time,
// whether or not an account has the address.
func (r *Recovery) forAddress(ctx context.Context, purpose, email, clientIP string, send func(context.Context, *User) error) error {
	norm, msg := NormalizeEmail(email)
	if msg != "" {
		return &ValidationError{Fields: map[string]string{"email": msg}}
	}
	if err := r.checkMailLimits(ctx, purpose, norm, clientIP); err != nil {
		return err
	}
	r.background(func(ctx context.Context) {
		u, err := r.users.UserByEmail(ctx, norm)
		if errors.Is(err, ErrNotFound) {
			return
		}
		if err != nil {
			r.fail(fmt.Errorf("%s: find user: %w", purpose, err))
			return
		}
		r.fail(send(ctx, u))
	})
	return nil
}

func (r *Recovery) sendReset(ctx context.Context, u *User) error {
	tok := latch.NewToken(32)
	now := r.Now().UTC()
	if err := r.tokens.CreateOneTimeToken(ctx, OneTimeToken{
		Hash: latch.HashToken(tok), UserID: u.ID, Purpose: PurposeReset, Email: u.Email, Epoch: u.Epoch,
		CreatedAt: now, ExpiresAt: now.Add(r.ResetTTL),
	}); err != nil {
		return fmt.Errorf("reset: create token: %w", err)
	}
	body := fmt.Sprintf(`Hello %s,

Someone asked to reset the password of your %s account. To choose a new
password, open this link within %s:

%s

If you did not ask for this, ignore this mail: your password stays as it is.
`, u.Username, r.SiteName, r.ResetTTL, r.link("/reset", tok))
	if err := r.notify.Notify(ctx, u.Email, "Reset your "+r.SiteName+" password", body); err != nil {
		return fmt.Errorf("reset: send mail: %w", err)
	}
	return nil
}

// ParseLinkToken reports whether s has the shape of a reset or
// confirmation token, so malformed input never reaches the store.
func ParseLinkToken(s string) (string, bool) { return latch.ParseSessionToken(s) }

// ResetPassword sets a new password with a reset token and returns the
// user. The token works once (of concurrent attempts only one wins), and
// only while the user's credential epoch is the one it was mailed under; a
// password refused by the policy gives the token back so the user can try
// another. The new password is stored with the revocation of every
// credential of the user (Service.ChangePassword): every session, remember-
// me token, API token and other mailed link ends, and nobody is logged in.
// Resetting also:
//   - confirms the email address (the user just proved they read it);
//   - removes two-factor authentication if the address had never been
//     confirmed: whoever enrolled it had not proved they own the mailbox
//     (account pre-hijacking, CVE-2024-38351).
func (r *Recovery) ResetPassword(ctx context.Context, token, newPassword string, tf *TwoFactor) (*User, error) {
	t, u, err := r.consume(ctx, PurposeReset, token)
	if err != nil {
		return nil, err
	}
	if err := r.service.ChangePassword(ctx, u, newPassword); err != nil {
		var invalid *ValidationError
		if errors.As(err, &invalid) {
			// Give the token back: the link keeps working until it expires.
			if rerr := r.tokens.CreateOneTimeToken(ctx, t); rerr != nil {
				return nil, fmt.Errorf("restore reset token: %w", rerr)
			}
		}
		return nil, err
	}
	now := r.Now().UTC()
	wasConfirmed := u.EmailConfirmed()
	if strings.EqualFold(t.Email, u.Email) {
		if _, err := r.creds.ConfirmEmail(ctx, u.ID, u.Email, now); err != nil {
			return nil, fmt.Errorf("confirm email: %w", err)
		}
		u.EmailConfirmedAt = now
	}
	if tf != nil && !wasConfirmed && u.TwoFactor() {
		if err := tf.Remove(ctx, u); err != nil {
			return nil, err
		}
	}
	r.background(func(ctx context.Context) {
		r.fail(r.notify.Notify(ctx, u.Email, "Your "+r.SiteName+" password was changed", fmt.Sprintf(`Hello %s,

The password of your %s account was just reset, and every device was
logged out. If this was not you, reset it again right away and check the
account's recent activity.
`, u.Username, r.SiteName)))
	})
	return u, nil
}

// consume takes a mailed link's token of the given purpose and loads its
// user. A malformed, unknown, used or expired token, a user who is gone,
// and a link mailed under an earlier credential epoch are all
// ErrInvalidLink.
func (r *Recovery) consume(ctx context.Context, purpose Purpose, token string) (OneTimeToken, *User, error) {
	if _, ok := ParseLinkToken(token); !ok {
		return OneTimeToken{}, nil, ErrInvalidLink
	}
	t, err := r.tokens.ConsumeOneTimeToken(ctx, purpose, latch.HashToken(token), r.Now().UTC())
	if errors.Is(err, ErrNotFound) {
		return OneTimeToken{}, nil, ErrInvalidLink
	}
	if err != nil {
		return OneTimeToken{}, nil, fmt.Errorf("consume %s token: %w", purpose, err)
	}
	u, err := r.users.UserByID(ctx, t.UserID)
	if errors.Is(err, ErrNotFound) {
		return OneTimeToken{}, nil, ErrInvalidLink
	}
	if err != nil {
		return OneTimeToken{}, nil, fmt.Errorf("load user: %w", err)
	}
	if t.Epoch != u.Epoch {
		return OneTimeToken{}, nil, ErrInvalidLink
	}
	return t, u, nil
}

// SendConfirmation mails u a link that confirms their address.
func (r *Recovery) SendConfirmation(ctx context.Context, u *User, clientIP string) error {
	if u.EmailConfirmed() {
		return nil
	}
	if err := r.checkMailLimits(ctx, "confirm", u.Email, clientIP); err != nil {
		return err
	}
	return r.sendConfirm(ctx, u, u.Email, "Confirm your "+r.SiteName+" account", fmt.Sprintf(
		"Hello %s,\n\nWelcome to %s. Please confirm your email address by opening this link within %s:\n\n%%s\n\nIf you did not sign up, ignore this mail.\n",
		u.Username, r.SiteName, r.ConfirmTTL))
}

// sendConfirm creates a confirm token for address and mails body (with
// %s for the link) to it, in the background.
func (r *Recovery) sendConfirm(ctx context.Context, u *User, address, subject, body string) error {
	tok := latch.NewToken(32)
	now := r.Now().UTC()
	if err := r.tokens.CreateOneTimeToken(ctx, OneTimeToken{
		Hash: latch.HashToken(tok), UserID: u.ID, Purpose: PurposeConfirm, Email: address, Epoch: u.Epoch,
		CreatedAt: now, ExpiresAt: now.Add(r.ConfirmTTL),
	}); err != nil {
		return fmt.Errorf("create confirmation token: %w", err)
	}
	text := fmt.Sprintf(body, r.link("/confirm", tok))
	r.background(func(ctx context.Context) {
		r.fail(r.notify.Notify(ctx, address, subject, text))
	})
	return nil
}

// RequestEmailChange asks u to confirm newEmail: the address changes only
// when the link mailed to it is opened. The old address is told at once.
func (r *Recovery) RequestEmailChange(ctx context.Context, u *User, newEmail, clientIP string) error {
	norm, msg := NormalizeEmail(newEmail)
	if msg != "" {
		return &ValidationError{Fields: map[string]string{"email": msg}}
	}
	if strings.EqualFold(norm, u.Email) {
		return &ValidationError{Fields: map[string]string{"email": "That is already your email address."}}
	}
	if other, err := r.users.UserByEmail(ctx, norm); err == nil && other.ID != u.ID {
		return &ValidationError{Fields: map[string]string{"email": "An account with that email already exists."}}
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("check email: %w", err)
	}
	if err := r.checkMailLimits(ctx, "change", norm, clientIP); err != nil {
		return err
	}
	if err := r.sendConfirm(ctx, u, norm, "Confirm your new "+r.SiteName+" email address", fmt.Sprintf(
		"Hello %s,\n\nTo make this your %s email address, open this link within %s:\n\n%%s\n\nIf you did not ask for this, ignore this mail.\n",
		u.Username, r.SiteName, r.ConfirmTTL)); err != nil {
		return err
	}
	old := u.Email
	r.background(func(ctx context.Context) {
		r.fail(r.notify.Notify(ctx, old, "Your "+r.SiteName+" email address is being changed", fmt.Sprintf(
			"Hello %s,\n\nSomeone logged in to your %s account asked to change its email address to\n%s. It changes once the new address is confirmed.\n\nIf this was not you, change your password right away.\n",
			u.Username, r.SiteName, norm)))
	})
	return nil
}

// Confirm consumes a confirmation link: it confirms the user's address,
// or, for a link sent to a new address, changes the user's email to it.
// It reports the user and whether the email changed.
func (r *Recovery) Confirm(ctx context.Context, token string) (*User, bool, error) {
	t, u, err := r.consume(ctx, PurposeConfirm, token)
	if err != nil {
		return nil, false, err
	}
	now := r.Now().UTC()
	if strings.EqualFold(t.Email, u.Email) {
		if _, err := r.creds.ConfirmEmail(ctx, u.ID, u.Email, now); err != nil {
			return nil, false, fmt.Errorf("confirm email: %w", err)
		}
		u.EmailConfirmedAt = now
		return u, false, nil
	}
	old := u.Email
	if err := r.creds.SetEmail(ctx, u.ID, t.Email, now); err != nil {
		if errors.Is(err, ErrEmailTaken) {
			return nil, false, &ValidationError{Fields: map[string]string{"email": "An account with that email already exists."}}
		}
		return nil, false, fmt.Errorf("change email: %w", err)
	}
	// Outstanding reset links went to the old address.
	if err := r.tokens.DeleteUserOneTimeTokens(ctx, u.ID, PurposeReset); err != nil {
		return nil, false, fmt.Errorf("delete reset tokens: %w", err)
	}
	u.Email, u.EmailConfirmedAt = t.Email, now
	r.background(func(ctx context.Context) {
		r.fail(r.notify.Notify(ctx, old, "Your "+r.SiteName+" email address was changed", fmt.Sprintf(
			"Hello %s,\n\nThe email address of your %s account is now %s.\nIf this was not you, contact the site's operators.\n",
			u.Username, r.SiteName, u.Email)))
	})
	return u, true, nil
}

// PasswordChanged tells u by mail that their password was changed.
func (r *Recovery) PasswordChanged(u *User) {
	to, name := u.Email, u.Username
	r.background(func(ctx context.Context) {
		r.fail(r.notify.Notify(ctx, to, "Your "+r.SiteName+" password was changed", fmt.Sprintf(
			"Hello %s,\n\nThe password of your %s account was just changed, and your other devices\nwere logged out. If this was not you, reset your password right away.\n",
			name, r.SiteName)))
	})
}

// ResendConfirmation mails a new confirmation link to email if an account
// with that unconfirmed address exists. Like RequestReset, it answers the
// same in the same time either way.
func (r *Recovery) ResendConfirmation(ctx context.Context, email, clientIP string) error {
	return r.forAddress(ctx, "confirm", email, clientIP, func(ctx context.Context, u *User) error {
		if u.EmailConfirmed() {
			return nil
		}
		return r.sendConfirm(ctx, u, u.Email, "Confirm your "+r.SiteName+" account", fmt.Sprintf(
			"Hello %s,\n\nPlease confirm your email address by opening this link within %s:\n\n%%s\n",
			u.Username, r.ConfirmTTL))
	})
}
