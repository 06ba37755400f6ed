package throttle

import (
	"context"
	"time"
)

// Store keeps sliding logs of attempts (failed logins, sign-ups, reset
// requests) per key, so that limits hold across restarts and across every
// instance that shares the store. Keys are opaque strings built by the
// Limiter ("login:acct:<hash>", "login:ip:<addr>"); they may contain any
// byte except NUL and are at most 200 bytes long.
//
// Implementations must make AddAttempt atomic: of N concurrent calls on
// one key, each must see a distinct count (1..N in a fresh window), so a
// burst of attempts cannot slip under a limit.
type Store interface {
	// AddAttempt records one attempt for key at `at`, may forget that key's
	// attempts older than at-window, and returns how many attempts the key
	// has in (at-window, at], this one included.
	AddAttempt(ctx context.Context, key string, at time.Time, window time.Duration) (count int, err error)
	// Attempts returns how many attempts key has in (now-window, now] and
	// the time of the latest of them (zero when count is 0).
	Attempts(ctx context.Context, key string, now time.Time, window time.Duration) (count int, last time.Time, err error)
	// ResetAttempts forgets every attempt of key.
	ResetAttempts(ctx context.Context, key string) error
	// DeleteExpiredAttempts forgets attempts made before `before`, for all
	// keys, and reports how many. Stores that expire keys by themselves may
	// return 0, nil.
	DeleteExpiredAttempts(ctx context.Context, before time.Time) (int, error)
}
