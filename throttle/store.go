package throttle

import (
	"context"
	"time"
)

// Store keeps sliding logs of attempts (failed logins, sign-ups, reset
// requests) per key, so that limits hold across restarts and across every
// instance that shares the store. Keys are opaque strings built by the
// Limiter ("login:acct:<hash>", "login:ip:<addr>"); they may contain any
// byte except NUL and are at most 200 bytes long. Times are kept to the
// millisecond: the Limiter passes times truncated to it.
type Store interface {
	// TakeAttempt decides on one attempt for key at `at` and records it if
	// the rule allows it, in one atomic step: it counts the key's
	// attempts after at-rule.Window and finds the latest, and when
	// rule.Wait(count, latest, at) is 0 it records an attempt at `at` and
	// returns 0; otherwise it records nothing and returns that wait. The
	// step is atomic across every process that shares the store: of N
	// concurrent calls on one key, no more are allowed than N calls made
	// one after the other would be. It may forget the key's attempts older
	// than the window.
	TakeAttempt(ctx context.Context, key string, at time.Time, rule Rule) (wait time.Duration, err error)
	// RemoveAttempt forgets one attempt of key recorded at exactly `at`,
	// if there is one: an attempt that was taken and turned out not to
	// count (a successful login, a request refused by a second limit).
	RemoveAttempt(ctx context.Context, key string, at time.Time) error
	// Attempts returns how many attempts key has after now-window and the
	// time of the latest of them (zero when count is 0).
	//
	// Attempts stamped later than `at` or `now` count too: another
	// instance whose clock runs ahead stamps its attempts in this one's
	// future, and they must hold here as well.
	Attempts(ctx context.Context, key string, now time.Time, window time.Duration) (count int, last time.Time, err error)
	// ResetAttempts forgets every attempt of key.
	ResetAttempts(ctx context.Context, key string) error
	// DeleteExpiredAttempts forgets attempts made before `before`, for all
	// keys, and reports how many. Stores that expire keys by themselves may
	// return 0, nil.
	DeleteExpiredAttempts(ctx context.Context, before time.Time) (int, error)
}
