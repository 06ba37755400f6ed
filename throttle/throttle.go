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
//
// Every attempt is recorded before it is decided on, in one atomic step
// of the store (Store.TakeAttempt): 500 concurrent requests, or requests
// spread over several instances, get no more tries than one client making
// them one after the other. An attempt that turns out not to count (a
// successful login, a request refused by a second limit) is given back.
package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
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

// Delay is how long after the latest of count attempts in the window the
// next one may come: 0 while count < Free, then Base, doubling with each
// further attempt, capped at Max. Stores that decide inside the database
// (a Lua script) compute the same.
func (r Rule) Delay(count int) time.Duration {
	if count < r.Free {
		return 0
	}
	d := r.Base
	for i := r.Free; i < count && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max)
}

// Wait is how long an attempt at `at` must still wait when the window
// holds count attempts, the latest at last: 0 when it may be made now.
func (r Rule) Wait(count int, last, at time.Time) time.Duration {
	d := r.Delay(count)
	if count == 0 || d == 0 {
		// Free: also when the latest attempt is stamped after at (a
		// concurrent request, or an instance whose clock runs ahead).
		return 0
	}
	if w := last.Add(d).Sub(at); w > 0 {
		return w
	}
	return 0
}

// Limiter applies Rules to keys. The zero value is not usable: set Store.
type Limiter struct {
	Store Store
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time
}

// New returns a Limiter over store.
func New(store Store) *Limiter { return &Limiter{Store: store, Now: time.Now} }

func (l *Limiter) now() time.Time {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	// Stores keep milliseconds; an attempt is given back by its time.
	return now().Truncate(time.Millisecond)
}

// Attempt is an attempt a Limiter recorded, to give back if it turns out
// not to count. The zero Attempt is none.
type Attempt struct {
	key string
	at  time.Time
}

// Take records an attempt for key if rule allows one now, deciding and
// recording in one atomic step of the store. It returns the attempt and 0,
// or, when the attempt must wait, the wait and no attempt (nothing was
// recorded).
func (l *Limiter) Take(ctx context.Context, key string, rule Rule) (Attempt, time.Duration, error) {
	at := l.now()
	wait, err := l.Store.TakeAttempt(ctx, key, at, rule)
	if err != nil {
		return Attempt{}, 0, fmt.Errorf("throttle: take attempt: %w", err)
	}
	if wait > 0 {
		return Attempt{}, wait, nil
	}
	return Attempt{key: key, at: at}, 0, nil
}

// Limit is one key under one rule, for TakeAll.
type Limit struct {
	Key  string
	Rule Rule
}

// TakeAll takes an attempt under each limit, in order. If one refuses, the
// attempts already taken are given back and its wait is returned: a
// request counts against all of its limits or against none.
func (l *Limiter) TakeAll(ctx context.Context, limits ...Limit) ([]Attempt, time.Duration, error) {
	taken := make([]Attempt, 0, len(limits))
	for _, lim := range limits {
		a, wait, err := l.Take(ctx, lim.Key, lim.Rule)
		if err == nil && wait == 0 {
			taken = append(taken, a)
			continue
		}
		if gerr := l.GiveBack(ctx, taken...); gerr != nil && err == nil {
			err = gerr
		}
		return nil, wait, err
	}
	return taken, 0, nil
}

// GiveBack forgets attempts that turned out not to count. Zero Attempts
// are skipped.
func (l *Limiter) GiveBack(ctx context.Context, attempts ...Attempt) error {
	for _, a := range attempts {
		if a.key == "" {
			continue
		}
		if err := l.Store.RemoveAttempt(ctx, a.key, a.at); err != nil {
			return fmt.Errorf("throttle: give back attempt: %w", err)
		}
	}
	return nil
}

// Wait reports how long the next attempt for key under rule would have to
// wait, without recording anything: for showing a user when to come back,
// never for deciding (Take decides).
func (l *Limiter) Wait(ctx context.Context, key string, rule Rule) (time.Duration, error) {
	now := l.now()
	n, last, err := l.Store.Attempts(ctx, key, now, rule.Window)
	if err != nil {
		return 0, fmt.Errorf("throttle: count attempts: %w", err)
	}
	return rule.Wait(n, last, now), nil
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

// DefaultIPv6Prefix is how many leading bits of an IPv6 address name one
// client: a /64 is what one subscriber gets, and inside it a client picks
// new addresses at will (privacy extensions), so counting per address
// would count nothing.
const DefaultIPv6Prefix = 64

// Network is the client a per-client limit counts, for a client address:
// an IPv4 address as it is (also when written as an IPv4-mapped IPv6
// address), an IPv6 address as its network of v6Prefix bits (DefaultIPv6Prefix when 0
// or out of range), written as a prefix ("2001:db8:1:2::/64"). A string
// that is not an address is returned unchanged.
func Network(ip string, v6Prefix int) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr.String()
	}
	if v6Prefix <= 0 || v6Prefix > 128 {
		v6Prefix = DefaultIPv6Prefix
	}
	p, err := addr.Prefix(v6Prefix)
	if err != nil {
		return ip
	}
	return p.String()
}

// ClientKey is Key for a per-client limit: the client's Network.
func ClientKey(purpose, ip string, v6Prefix int) string {
	return Key(purpose, Network(ip, v6Prefix))
}

// RetryAfterSeconds rounds a wait up to whole seconds, at least 1, for a
// Retry-After header.
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// LimitError reports that a limit refused an attempt: try again after
// RetryAfter (a Retry-After header of RetryAfterSeconds).
type LimitError struct {
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("too many attempts, retry after %s", e.RetryAfter)
}
