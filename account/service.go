package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchgo/latch/guard"
	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/throttle"
)

// Errors the Service returns; compare with errors.Is.
var (
	// ErrBadCredentials: the email is unknown or the password is wrong.
	// The two are deliberately not told apart. It is guard's error.
	ErrBadCredentials = guard.ErrBadCredentials
	// ErrInactive: the password was right but the account is disabled.
	ErrInactive = errors.New("account: account disabled")
	// ErrUnconfirmed: the password was right but the email address is not
	// confirmed and the Service requires it.
	ErrUnconfirmed = errors.New("account: email address not confirmed")
)

// ValidationError lists what is wrong with user input, one message per
// form field ("username", "email", "password").
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	return "account: invalid " + strings.Join(keys, ", ")
}

// LimitError reports that too many attempts were made; try again after
// RetryAfter.
type LimitError = throttle.LimitError

// Limits are the throttling rules of a Service. Each has a reason:
//
//   - LoginAccount slows guessing one account's password from anywhere:
//     10 free failures per hour, then 1 s, 2 s, 4 s … between attempts, at
//     most 1 minute, so a victim whose account is under attack waits at
//     most a minute between their own attempts (no long lockout), while an
//     attacker gets about 60 guesses an hour against passwords that are
//     already known not to be common.
//   - LoginClient slows one client guessing many accounts (password
//     spraying): 30 free failures per hour, then doubling from 1 s up to
//     15 minutes. A successful login does not reset it, so an attacker
//     cannot clear it by logging in to an account of their own.
//   - SignUp bounds account creation per client: 20 per hour, then
//     doubling from 1 minute up to an hour (ASVS 2.4.1).
//
// Every attempt is recorded before it is decided on (throttle.Limiter.Take),
// so a burst of concurrent requests, or requests spread over instances, get
// no more attempts than the same requests one after the other.
type Limits struct {
	LoginAccount throttle.Rule
	LoginClient  throttle.Rule
	SignUp       throttle.Rule
	// IPv6Prefix is how many leading bits of an IPv6 address count as one
	// client in the per-client limits (login, sign-up, mail): a client
	// owns a whole /64 and can use any address in it. Default
	// throttle.DefaultIPv6Prefix (64). IPv4 addresses count one by one.
	IPv6Prefix int
}

// DefaultLimits are the limits NewService installs.
var DefaultLimits = Limits{
	LoginAccount: throttle.Rule{Window: time.Hour, Free: 10, Base: time.Second, Max: time.Minute},
	LoginClient:  throttle.Rule{Window: time.Hour, Free: 30, Base: time.Second, Max: 15 * time.Minute},
	SignUp:       throttle.Rule{Window: time.Hour, Free: 20, Base: time.Minute, Max: time.Hour},
	IPv6Prefix:   throttle.DefaultIPv6Prefix,
}

// clientKey is the key of a per-client limit.
func (s *Service) clientKey(purpose, clientIP string) string {
	return throttle.ClientKey(purpose, clientIP, s.Limits.IPv6Prefix)
}

// EventKind names what a Service did, for audit logs and metrics.
type EventKind string

// Event kinds.
const (
	EventSignUp           EventKind = "signup"
	EventLoginOK          EventKind = "login_ok"
	EventLoginFailed      EventKind = "login_failed"
	EventLoginLimited     EventKind = "login_limited"
	EventLoginInactive    EventKind = "login_inactive"
	EventLoginUnconfirmed EventKind = "login_unconfirmed"
	// EventPasswordCheckFailed: a logged-in user entered a wrong password
	// to confirm who they are (re-authentication, password change).
	EventPasswordCheckFailed EventKind = "password_check_failed"
	EventRehashed            EventKind = "password_rehashed"
	EventRehashFailed        EventKind = "password_rehash_failed"
)

// Event is one thing a Service did. It never carries a password or hash.
type Event struct {
	Kind     EventKind
	UserID   string
	ClientIP string
	Detail   string
}

// Service holds the account rules: sign-up validation, password checks
// with throttling and constant-cost failures, upgrades of old hashes.
// Create it with NewService; adjust its fields before use.
type Service struct {
	store   Store
	hasher  *password.Hasher
	limiter *throttle.Limiter
	guard   *guard.Guard

	// Policy checks new passwords. Default password.DefaultPolicy.
	Policy password.Policy
	// ContextWords are refused inside passwords in addition to the user's
	// own username and email (ASVS 6.1.2): the product's name and the
	// like. Default {"latch"}.
	ContextWords []string
	// Limits, default DefaultLimits.
	Limits Limits
	// RequireConfirmedEmail refuses logins (ErrUnconfirmed) until the user
	// has confirmed their email address. Default false: a confirmation
	// mail is sent, but unconfirmed users may log in (and users imported
	// from another site keep working).
	RequireConfirmedEmail bool
	// Hook, if set, is told of every Event; it runs synchronously.
	Hook func(ctx context.Context, e Event)
	// Sessions, if set, deletes a user's sessions and remember-me tokens
	// after Revoke, ChangePassword, SetDisabled and DeleteUser: set it to
	// the site's latch.Manager. The credential epoch already refuses them;
	// this keeps the store from holding dead rows.
	Sessions SessionRevoker
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// NewService returns a Service that keeps users in store, hashes with
// hasher and counts attempts in limits (nil turns throttling off, for
// tools such as an admin CLI).
func NewService(store Store, hasher *password.Hasher, limits throttle.Store) *Service {
	s := &Service{
		store:        store,
		hasher:       hasher,
		Policy:       password.DefaultPolicy,
		ContextWords: []string{"latch"},
		Limits:       DefaultLimits,
		Now:          time.Now,
	}
	if limits != nil {
		s.limiter = &throttle.Limiter{Store: limits, Now: func() time.Time { return s.Now() }}
	}
	s.guard = guard.New(limits, hasher)
	s.guard.SetClock(func() time.Time { return s.Now() })
	return s
}

// Store returns the user store.
func (s *Service) Store() Store { return s.store }

// Hasher returns the password hasher.
func (s *Service) Hasher() *password.Hasher { return s.hasher }

func (s *Service) emit(ctx context.Context, kind EventKind, userID, ip, detail string) {
	if s.Hook != nil {
		s.Hook(ctx, Event{Kind: kind, UserID: userID, ClientIP: ip, Detail: detail})
	}
}

// SignUpInput is what a sign-up form sends.
type SignUpInput struct {
	Username string
	Email    string
	Password string
}

// SignUp validates the input, hashes the password and creates the user.
// Invalid input, or a username or email already taken, is reported as a
// *ValidationError with a message per field. Too many sign-ups from
// clientIP return a *LimitError; a saturated hasher an error wrapping
// password.ErrBusy.
func (s *Service) SignUp(ctx context.Context, in SignUpInput, clientIP string) (*User, error) {
	fields := map[string]string{}
	if msg := ValidateUsername(in.Username); msg != "" {
		fields["username"] = msg
	}
	email, msg := NormalizeEmail(in.Email)
	if msg != "" {
		fields["email"] = msg
	}
	if err := s.CheckPasswordPolicy(in.Password, in.Username, email); err != nil {
		fields["password"] = err.Error()
	}
	// Report a taken username or email together with the other problems,
	// before paying for a hash. The unique indexes still decide races.
	if fields["username"] == "" {
		taken, err := s.store.UsernameTaken(ctx, in.Username)
		if err != nil {
			return nil, fmt.Errorf("check username: %w", err)
		}
		if taken {
			fields["username"] = "That username is taken."
		}
	}
	if fields["email"] == "" {
		if err := s.available(ctx, s.store.UserByEmail, email, ErrEmailTaken); err != nil {
			if !errors.Is(err, ErrEmailTaken) {
				return nil, err
			}
			fields["email"] = "An account with that email already exists."
		}
	}
	if len(fields) > 0 {
		return nil, &ValidationError{Fields: fields}
	}
	attempts, err := s.take(ctx, throttle.Limit{Key: s.clientKey("signup:ip", clientIP), Rule: s.Limits.SignUp})
	if err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		// A saturated hasher is the site's state, not the client's doing.
		return nil, errors.Join(fmt.Errorf("hash password: %w", err), s.giveBack(ctx, attempts))
	}
	u := &User{Username: in.Username, Email: email, PasswordHash: hash, CreatedAt: s.Now().UTC()}
	if err := s.store.CreateUser(ctx, u); err != nil {
		switch {
		case errors.Is(err, ErrUsernameTaken):
			return nil, &ValidationError{Fields: map[string]string{"username": "That username is taken."}}
		case errors.Is(err, ErrEmailTaken):
			return nil, &ValidationError{Fields: map[string]string{"email": "An account with that email already exists."}}
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	s.emit(ctx, EventSignUp, u.ID, clientIP, "")
	return u, nil
}

// available returns taken when lookup finds a user for v.
func (s *Service) available(ctx context.Context, lookup func(context.Context, string) (*User, error), v string, taken error) error {
	_, err := lookup(ctx, v)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("check availability: %w", err)
	default:
		return taken
	}
}

// CheckPasswordPolicy checks a new password against the Policy with the
// user's username, email and the ContextWords as words it must not
// contain. The error's text is meant for the user.
func (s *Service) CheckPasswordPolicy(pw, username, email string) error {
	words := append([]string{username, email}, s.ContextWords...)
	if err := s.Policy.Check(pw, words...); err != nil {
		var pe *password.PolicyError
		if errors.As(err, &pe) {
			return errors.New(pe.Message)
		}
		return err
	}
	return nil
}

// take records an attempt under each limit, or returns a *LimitError with
// the wait (nothing recorded) when one refuses. Without a limiter it takes
// nothing.
func (s *Service) take(ctx context.Context, limits ...throttle.Limit) ([]throttle.Attempt, error) {
	if s.limiter == nil {
		return nil, nil
	}
	attempts, wait, err := s.limiter.TakeAll(ctx, limits...)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		return nil, &LimitError{RetryAfter: wait}
	}
	return attempts, nil
}

// giveBack forgets attempts that turned out not to count.
func (s *Service) giveBack(ctx context.Context, attempts []throttle.Attempt) error {
	if s.limiter == nil {
		return nil
	}
	return s.limiter.GiveBack(ctx, attempts...)
}

// Authenticate checks an email and password, the way a login form does,
// through a guard.Guard with the Service's limits: when the hasher is
// saturated it returns its ErrBusy error at once.
//
// Failures cost the same whether or not the email exists (a dummy hash is
// verified for unknown emails) and return ErrBadCredentials either way.
// Every attempt counts against the account and against clientIP (its
// network, for IPv6) before the password is checked; past the Limits it
// returns a *LimitError without checking the password at all. A right
// password clears the account's failures and gives the client its attempt
// back. A right password for a disabled account returns ErrInactive. A
// right password stored in an old format or with old parameters is
// rehashed with the current ones.
func (s *Service) Authenticate(ctx context.Context, email, pw, clientIP string) (*User, error) {
	email = strings.TrimSpace(email)
	var u *User
	res, err := s.loginGuard().Check(ctx, email, pw, clientIP, func(ctx context.Context) (string, error) {
		var err error
		u, err = s.store.UserByEmail(ctx, email)
		if errors.Is(err, ErrNotFound) {
			return "", guard.ErrUnknownAccount
		}
		if err != nil {
			return "", fmt.Errorf("find user by email: %w", err)
		}
		return u.PasswordHash, nil
	})
	if err != nil {
		return nil, s.loginFailed(ctx, err, EventLoginFailed, u, clientIP)
	}
	s.rehashed(ctx, u, res, clientIP)
	if u.Disabled {
		s.emit(ctx, EventLoginInactive, u.ID, clientIP, "")
		return nil, ErrInactive
	}
	if s.RequireConfirmedEmail && !u.EmailConfirmed() {
		s.emit(ctx, EventLoginUnconfirmed, u.ID, clientIP, "")
		return nil, ErrUnconfirmed
	}
	s.emit(ctx, EventLoginOK, u.ID, clientIP, "")
	return u, nil
}

// CheckPassword re-checks the password of a logged-in user, for re-
// authentication and before sensitive changes. It shares Authenticate's
// limits, so a stolen session cannot be used to guess the password at a
// faster rate. A wrong password is ErrBadCredentials, reported through the
// Hook as EventPasswordCheckFailed (not as a failed login).
func (s *Service) CheckPassword(ctx context.Context, u *User, pw, clientIP string) error {
	a, err := s.loginGuard().Begin(ctx, u.Email, clientIP)
	if err != nil {
		return s.loginFailed(ctx, err, EventPasswordCheckFailed, u, clientIP)
	}
	res, err := a.Verify(ctx, pw, u.PasswordHash)
	if err != nil {
		return s.loginFailed(ctx, err, EventPasswordCheckFailed, u, clientIP)
	}
	s.rehashed(ctx, u, res, clientIP)
	return nil
}

// loginGuard is the Service's guard with the Service's current Limits.
func (s *Service) loginGuard() *guard.Guard {
	g := *s.guard
	g.Account, g.Client, g.IPv6Prefix = s.Limits.LoginAccount, s.Limits.LoginClient, s.Limits.IPv6Prefix
	return &g
}

// loginFailed reports a guard's refusal through the Hook: a limit as
// EventLoginLimited, a wrong password as kind.
func (s *Service) loginFailed(ctx context.Context, err error, kind EventKind, u *User, clientIP string) error {
	var limited *LimitError
	switch {
	case errors.As(err, &limited):
		s.emit(ctx, EventLoginLimited, "", clientIP, "")
	case errors.Is(err, ErrBadCredentials):
		id := ""
		if u != nil {
			id = u.ID
		}
		s.emit(ctx, kind, id, clientIP, "")
	}
	return err
}

// rehashed stores the fresh hash of a login whose hash was due for an
// upgrade. A failed upgrade does not fail the login: the old hash still
// works and the next login tries again.
func (s *Service) rehashed(ctx context.Context, u *User, res guard.Result, clientIP string) {
	switch {
	case res.RehashErr != nil:
		s.emit(ctx, EventRehashFailed, u.ID, clientIP, res.RehashErr.Error())
	case res.NewHash == "":
	default:
		if err := s.store.SetPasswordHash(ctx, u.ID, res.NewHash); err != nil {
			s.emit(ctx, EventRehashFailed, u.ID, clientIP, err.Error())
			return
		}
		u.PasswordHash = res.NewHash
		s.emit(ctx, EventRehashed, u.ID, clientIP, "")
	}
}

// SessionRevoker deletes every session and remember-me token of a user;
// a *latch.Manager is one.
type SessionRevoker interface {
	RevokeUser(ctx context.Context, userID string) error
}

// ChangePassword checks a new password against the policy, hashes it, and
// stores it with the revocation of every credential of u in one atomic
// write (see Revoke): whoever knew the old password may have started a
// session, kept a remember-me cookie, made an API token or asked for a
// mailed link, and none of them works from now on. u's PasswordHash and
// Epoch are updated. A password the policy refuses is a *ValidationError
// and changes nothing.
func (s *Service) ChangePassword(ctx context.Context, u *User, pw string) error {
	if err := s.CheckPasswordPolicy(pw, u.Username, u.Email); err != nil {
		return &ValidationError{Fields: map[string]string{"password": err.Error()}}
	}
	h, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return s.revoke(ctx, u, h)
}

// Revoke ends every credential of u at once: it increments u's credential
// epoch in the store, which refuses from then on every session, remember-
// me token, API token, one-time link and half-finished two-factor login
// issued before — on every instance, whatever request is in flight — and
// then deletes what it can (API tokens and links in the same write;
// sessions and remember-me tokens through Sessions, if set). This is the
// one operation behind "log out everywhere else", password changes and
// resets, and the administrator's commands. u.Epoch is updated; to keep
// the current device logged in, re-issue its session afterwards
// (latch.Manager.RevokeOtherSessions).
func (s *Service) Revoke(ctx context.Context, u *User) error {
	return s.revoke(ctx, u, "")
}

func (s *Service) revoke(ctx context.Context, u *User, newHash string) error {
	epoch, err := s.store.RevokeCredentials(ctx, u.ID, newHash)
	if err != nil {
		return fmt.Errorf("revoke credentials of user %s: %w", u.ID, err)
	}
	u.Epoch = epoch
	if newHash != "" {
		u.PasswordHash = newHash
	}
	return s.cleanup(ctx, u.ID)
}

// cleanup deletes the sessions and remember-me tokens of a user whose
// credentials are already revoked (or who is gone): a failure leaves rows
// that the epoch or the missing user already refuses.
func (s *Service) cleanup(ctx context.Context, userID string) error {
	if s.Sessions == nil {
		return nil
	}
	if err := s.Sessions.RevokeUser(ctx, userID); err != nil {
		return fmt.Errorf("revoked user %s, but deleting their sessions failed (they are refused all the same): %w", userID, err)
	}
	return nil
}

// SetDisabled disables u, ending every credential of theirs at once (the
// store raises the epoch in the same write), or enables u again, which
// brings none of them back.
func (s *Service) SetDisabled(ctx context.Context, u *User, disabled bool) error {
	if err := s.store.SetDisabled(ctx, u.ID, disabled); err != nil {
		return fmt.Errorf("set disabled of user %s: %w", u.ID, err)
	}
	u.Disabled = disabled
	if !disabled {
		return nil
	}
	if fresh, err := s.store.UserByID(ctx, u.ID); err == nil {
		u.Epoch = fresh.Epoch
	}
	return s.cleanup(ctx, u.ID)
}

// DeleteUser deletes u and everything kept for them, then their sessions
// and remember-me tokens wherever they are kept. Ids are never reused, so
// anything missed names nobody.
func (s *Service) DeleteUser(ctx context.Context, u *User) error {
	if err := s.store.DeleteUser(ctx, u.ID); err != nil {
		return fmt.Errorf("delete user %s: %w", u.ID, err)
	}
	return s.cleanup(ctx, u.ID)
}
