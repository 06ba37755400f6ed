// Package guard protects a login form whose users and password hashes the
// application keeps itself: the brute-force and hashing protection of
// latch's account package, around the application's own lookup.
//
// One call, [Guard.Check], makes a login attempt:
//
//   - it refuses at once, with a [*password.BusyError] (503 with
//     Retry-After), while the Hasher is saturated, before anything else is
//     done: a login flood costs no database work beyond what the hasher
//     can take, and at most MaxConcurrent hashes run at once (bounded
//     memory);
//   - it records the attempt against the account and against the client
//     (its IPv6 /64) before the password is checked, in one atomic step of
//     the throttle store, and past either limit returns a
//     [*throttle.LimitError] (429 with Retry-After) without checking the
//     password: 500 concurrent requests, or requests spread over
//     instances, get no more guesses than the same requests in sequence;
//   - it asks the application for the account's stored hash; for an
//     account that does not exist ([ErrUnknownAccount]) it verifies a
//     dummy hash of the same cost, so response times do not tell which
//     accounts exist, and answers [ErrBadCredentials] either way;
//   - a right password clears the account's failures and gives the client
//     its attempt back (the per-client limit counts failures, and is not
//     cleared, so that an attacker cannot reset it by logging in to an
//     account of their own);
//   - a right password whose hash is in an old format (bcrypt, Flask,
//     Django) or has old parameters comes back with a fresh argon2id hash
//     for the application to store.
//
// The Guard keeps nothing but attempts: any [throttle.Store] will do (the
// sqlite, postgres and redis packages' Stores, or memstore in tests).
package guard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/throttle"
)

// ErrBadCredentials is Check's answer to a wrong password and to an
// account that does not exist, which are deliberately not told apart.
var ErrBadCredentials = errors.New("wrong account or password")

// ErrUnknownAccount is what a Check's lookup returns (or wraps) when no
// account has the name that was entered.
var ErrUnknownAccount = errors.New("guard: no such account")

// Default rules, the same as latch's own login form (account.DefaultLimits).
var (
	// DefaultAccountRule slows guessing one account's password from
	// anywhere: 10 free failures per hour, then 1 s, 2 s, 4 s … between
	// attempts, at most a minute, so that the account's owner, locked out
	// by someone else's guesses, waits at most a minute (no long lockout),
	// while an attacker gets about 60 guesses an hour.
	DefaultAccountRule = throttle.Rule{Window: time.Hour, Free: 10, Base: time.Second, Max: time.Minute}
	// DefaultClientRule slows one client guessing many accounts (password
	// spraying): 30 free failures per hour, then doubling from 1 s up to
	// 15 minutes.
	DefaultClientRule = throttle.Rule{Window: time.Hour, Free: 30, Base: time.Second, Max: 15 * time.Minute}
)

// Guard checks login attempts. Create it with New; adjust its fields
// before use. It is safe for concurrent use.
type Guard struct {
	limiter *throttle.Limiter
	hasher  *password.Hasher

	// Account limits attempts per account name (case-insensitive), Client
	// per client. Defaults DefaultAccountRule and DefaultClientRule.
	Account, Client throttle.Rule
	// IPv6Prefix is how many leading bits of an IPv6 address count as one
	// client: a client owns a whole /64 and can use any address in it.
	// Default throttle.DefaultIPv6Prefix.
	IPv6Prefix int
	// Purpose names the limits' keys in the store, so that two forms with
	// different accounts (a shop's customers and its staff) count apart.
	// Default "login"; latch's account package uses the default too, so
	// that its re-authentication shares the login's limits.
	Purpose string
}

// New returns a Guard that counts attempts in limits and verifies
// passwords with hasher. A nil limits counts nothing: only for tools run
// by an administrator, never for a form.
func New(limits throttle.Store, hasher *password.Hasher) *Guard {
	var l *throttle.Limiter
	if limits != nil {
		l = throttle.New(limits)
	}
	return &Guard{
		limiter:    l,
		hasher:     hasher,
		Account:    DefaultAccountRule,
		Client:     DefaultClientRule,
		IPv6Prefix: throttle.DefaultIPv6Prefix,
		Purpose:    "login",
	}
}

// SetClock replaces the clock the limits are measured with (tests).
func (g *Guard) SetClock(now func() time.Time) {
	if g.limiter != nil {
		g.limiter.Now = now
	}
}

// Result is what a successful Check returns.
type Result struct {
	// NewHash, when not empty, is a fresh hash of the password, with the
	// Hasher's current format and parameters, to store in place of the
	// one the lookup returned. The old hash still works until then.
	NewHash string
	// RehashErr is why no NewHash could be made when one was due (the
	// hasher was busy). The login succeeded anyway; the next one tries
	// again.
	RehashErr error
}

// Lookup returns the stored password hash of the account Check was given,
// or an error that is or wraps ErrUnknownAccount when there is none. Any
// other error ends the Check with that error, and the attempt does not
// count.
type Lookup func(ctx context.Context) (hash string, err error)

// Check makes one login attempt of clientIP (an IP address; anything else
// counts as one client of that name) on account with password pw, asking
// lookup for the account's hash. See the package documentation for what it
// does. It returns:
//
//   - a Result and nil for a right password;
//   - ErrBadCredentials for a wrong password or an unknown account;
//   - a *throttle.LimitError when a limit refuses the attempt;
//   - an error matching password.ErrBusy when the Hasher turns it away;
//   - lookup's own error, or a store's, otherwise.
//
// Account names are compared case-insensitively and without surrounding
// spaces, as emails and usernames are.
func (g *Guard) Check(ctx context.Context, account, pw, clientIP string, lookup Lookup) (Result, error) {
	// A saturated hasher would turn this attempt away after the limit and
	// the lookup; turn it away before them.
	if err := g.hasher.Saturated(); err != nil {
		return Result{}, err
	}
	a, err := g.Begin(ctx, account, clientIP)
	if err != nil {
		return Result{}, err
	}
	hash, err := lookup(ctx)
	if errors.Is(err, ErrUnknownAccount) {
		if err := g.hasher.DummyVerify(ctx, pw); err != nil && !errors.Is(err, password.ErrTooLong) {
			return Result{}, errors.Join(fmt.Errorf("guard: dummy verify: %w", err), a.Abandon(ctx))
		}
		return Result{}, ErrBadCredentials
	}
	if err != nil {
		return Result{}, errors.Join(err, a.Abandon(ctx))
	}
	return a.Verify(ctx, pw, hash)
}

// Attempt is a login attempt that Begin recorded: Verify decides it. For
// forms whose lookup does not fit Check (the hash is known already, as
// when a logged-in user confirms their password).
type Attempt struct {
	g        *Guard
	acctKey  string
	attempts []throttle.Attempt
}

// Begin records an attempt on account by clientIP under both limits, or
// returns a *throttle.LimitError (nothing recorded) when one refuses.
func (g *Guard) Begin(ctx context.Context, account, clientIP string) (*Attempt, error) {
	acctKey := throttle.Key(g.Purpose+":acct", strings.ToLower(strings.TrimSpace(account)))
	if g.limiter == nil {
		return &Attempt{g: g}, nil
	}
	attempts, wait, err := g.limiter.TakeAll(ctx,
		throttle.Limit{Key: acctKey, Rule: g.Account},
		throttle.Limit{Key: throttle.ClientKey(g.Purpose+":ip", clientIP, g.IPv6Prefix), Rule: g.Client})
	if err != nil {
		return nil, fmt.Errorf("guard: %w", err)
	}
	if wait > 0 {
		return nil, &throttle.LimitError{RetryAfter: wait}
	}
	return &Attempt{g: g, acctKey: acctKey, attempts: attempts}, nil
}

// Verify checks pw against the stored hash and settles the attempt: a
// wrong password (or one longer than the Hasher takes) is
// ErrBadCredentials and stays counted; a right one clears the account's
// failures and gives the client its attempt back; an error that is not the
// user's (a malformed stored hash, a busy hasher) gives both back.
func (a *Attempt) Verify(ctx context.Context, pw, hash string) (Result, error) {
	ok, rehash, err := a.g.hasher.Verify(ctx, pw, hash)
	if errors.Is(err, password.ErrTooLong) {
		return Result{}, ErrBadCredentials
	}
	if err != nil {
		return Result{}, errors.Join(fmt.Errorf("guard: verify: %w", err), a.Abandon(ctx))
	}
	if !ok {
		return Result{}, ErrBadCredentials
	}
	if a.g.limiter != nil {
		if err := a.g.limiter.Reset(ctx, a.acctKey); err != nil {
			return Result{}, fmt.Errorf("guard: %w", err)
		}
		if err := a.g.limiter.GiveBack(ctx, a.attempts...); err != nil {
			return Result{}, fmt.Errorf("guard: %w", err)
		}
	}
	var res Result
	if rehash {
		res.NewHash, res.RehashErr = a.g.hasher.Hash(ctx, pw)
	}
	return res, nil
}

// Abandon gives the attempt back: it ended for a reason that is not the
// user's (the database did not answer).
func (a *Attempt) Abandon(ctx context.Context) error {
	if a.g.limiter == nil {
		return nil
	}
	if err := a.g.limiter.GiveBack(ctx, a.attempts...); err != nil {
		return fmt.Errorf("guard: %w", err)
	}
	return nil
}
