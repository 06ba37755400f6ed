// Package throttle limits how often something may be tried: failed logins
// per account and per client, sign-ups and reset mails per client.
//
// A Limiter counts attempts in a sliding window kept in a Store (SQL or
// Redis), so limits survive restarts and hold across every instance of a
// site. A Rule allows a number of free attempts per window and then makes
// each further attempt wait longer than the one before (exponential
// back-off) up to a ceiling, which slows guessing to a crawl while a
// legitimate user, locked out by somebody else's attempts, waits at most
// that ceiling.
package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// Rule describes one limit.
type Rule struct {
	// Window is how far back attempts count.
	Window time.Duration
	// Free is how many attempts within Window pass without delay.
	Free int
	// Base is the wait imposed after the Free-th attempt; each further
	// attempt doubles it.
	Base time.Duration
	// Max caps the wait.
	Max time.Duration
}

// delay is how long after the latest of count attempts the next may come.
func (r Rule) delay(count int) time.Duration {
	if count < r.Free {
		return 0
	}
	d := r.Base
	for i := r.Free; i < count && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max)
}

// Limiter applies Rules to keys. The zero value is not usable: set Store.
type Limiter struct {
	Store Store
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time

	mu       sync.Mutex
	inflight map[string]int
}

// New returns a Limiter over store.
func New(store Store) *Limiter { return &Limiter{Store: store, Now: time.Now} }

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Wait reports how long the caller must wait before the next attempt for
// key under rule: 0 when an attempt may be made now.
func (l *Limiter) Wait(ctx context.Context, key string, rule Rule) (time.Duration, error) {
	now := l.now()
	n, last, err := l.Store.Attempts(ctx, key, now, rule.Window)
	if err != nil {
		return 0, fmt.Errorf("throttle: count attempts: %w", err)
	}
	if wait := last.Add(rule.delay(n)).Sub(now); n > 0 && wait > 0 {
		return wait, nil
	}
	return 0, nil
}

// Reserve is Wait for attempts whose outcome takes a while to learn (a
// password hash): attempts that passed Reserve on this instance and have
// not been released yet count as made just now, so a burst of concurrent
// attempts from one client cannot all pass a check that only sees the
// attempts already recorded. When the wait is 0 the caller holds a
// reservation and must call release once it has recorded the attempt (or
// decided not to); otherwise release is nil.
func (l *Limiter) Reserve(ctx context.Context, key string, rule Rule) (wait time.Duration, release func(), err error) {
	// Reserve first, then read the store: an attempt that finishes
	// meanwhile is either still pending in the snapshot or already in
	// the store (it is recorded before it is released), so none is missed;
	// at worst one is counted twice for a moment.
	l.mu.Lock()
	if l.inflight == nil {
		l.inflight = map[string]int{}
	}
	pending := l.inflight[key]
	l.inflight[key]++
	l.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.inflight[key]--; l.inflight[key] <= 0 {
				delete(l.inflight, key)
			}
		})
	}
	now := l.now()
	n, last, err := l.Store.Attempts(ctx, key, now, rule.Window)
	if err != nil {
		release()
		return 0, nil, fmt.Errorf("throttle: count attempts: %w", err)
	}
	if pending > 0 {
		n += pending
		last = now
	}
	if wait := last.Add(rule.delay(n)).Sub(now); n > 0 && wait > 0 {
		release()
		return wait, nil, nil
	}
	return 0, release, nil
}

// Add records an attempt for key and reports how long the next attempt
// must wait.
func (l *Limiter) Add(ctx context.Context, key string, rule Rule) (time.Duration, error) {
	now := l.now()
	n, err := l.Store.AddAttempt(ctx, key, now, rule.Window)
	if err != nil {
		return 0, fmt.Errorf("throttle: record attempt: %w", err)
	}
	return rule.delay(n), nil
}

// Reset forgets the attempts of key (a successful login clears its
// account's failures).
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.Store.ResetAttempts(ctx, key); err != nil {
		return fmt.Errorf("throttle: reset: %w", err)
	}
	return nil
}

// Key builds a store key from a purpose and a value. The value is hashed,
// so stores never hold email addresses and keys have a fixed length.
func Key(purpose, value string) string {
	sum := sha256.Sum256([]byte(value))
	return purpose + ":" + hex.EncodeToString(sum[:16])
}

// RetryAfterSeconds rounds a wait up to whole seconds, at least 1, for a
// Retry-After header.
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
