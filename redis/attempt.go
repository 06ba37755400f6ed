package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/latchgo/latch/throttle"
)

// takeAttemptScript decides on an attempt in the sorted set KEYS[1] and
// records it if the rule allows it: it forgets the attempts before the
// window, counts those in it and finds the latest, computes the rule's
// wait exactly as throttle.Rule.Wait does, and adds the attempt only when
// the wait is 0, making the set outlive it by the window. Being one
// script, it runs alone: of concurrent calls on one key, from any
// instance, each decides on all those before it. It returns the wait in
// milliseconds (0: recorded).
//
// ARGV: at (unix ms), window start (ms, excluded), member, set TTL (ms),
// free, base (ms), max (ms).
var takeAttemptScript = goredis.NewScript(`
local at, lo = tonumber(ARGV[1]), ARGV[2]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. lo)
local n = redis.call('ZCOUNT', KEYS[1], '(' .. lo, '+inf')
if n > 0 then
	local free, base, max = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
	local delay = 0
	if n >= free then
		delay = base
		local i = free
		while i < n and delay < max do
			delay = delay * 2
			i = i + 1
		end
		if delay > max then delay = max end
	end
	if delay > 0 then
		local latest = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(' .. lo, 'WITHSCORES', 'LIMIT', 0, 1)
		local wait = tonumber(latest[2]) + delay - at
		if wait > 0 then return wait end
	end
end
redis.call('ZADD', KEYS[1], at, ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
	redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 0
`)

// removeAttemptScript removes one member of the sorted set KEYS[1] scored
// ARGV[1].
var removeAttemptScript = goredis.NewScript(`
local m = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1], 'LIMIT', 0, 1)
if m[1] then redis.call('ZREM', KEYS[1], m[1]) end
return 0
`)

func (s *Store) attemptKey(key string) string { return s.prefix + "a:" + key }

// TakeAttempt implements [throttle.Store] with one script. Each attempt is
// a member of the key's sorted set, scored by its time. Attempts of the
// same millisecond must count as many, so each member is its time and 64
// random bits, never equal to another's.
//
// The set expires a window after its newest attempt (in this process's
// clock), so a key that is no longer tried costs nothing.
func (s *Store) TakeAttempt(ctx context.Context, key string, at time.Time, rule throttle.Rule) (time.Duration, error) {
	var r [8]byte
	rand.Read(r[:])
	now := ms(at)
	member := strconv.FormatInt(now, 10) + ":" + hex.EncodeToString(r[:])
	keep := max(ttl(at.Add(rule.Window)), rule.Window.Milliseconds(), 1)
	wait, err := takeAttemptScript.Run(ctx, s.client, []string{s.attemptKey(key)},
		now, now-rule.Window.Milliseconds(), member, keep,
		rule.Free, rule.Base.Milliseconds(), rule.Max.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis: take attempt: %w", err)
	}
	return time.Duration(wait) * time.Millisecond, nil
}

// RemoveAttempt implements [throttle.Store].
func (s *Store) RemoveAttempt(ctx context.Context, key string, at time.Time) error {
	if err := removeAttemptScript.Run(ctx, s.client, []string{s.attemptKey(key)}, ms(at)).Err(); err != nil {
		return fmt.Errorf("redis: remove attempt: %w", err)
	}
	return nil
}

// Attempts implements [throttle.Store]: the count and the latest attempt
// in the window, read in one MULTI so that they agree.
func (s *Store) Attempts(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	const hi = "+inf"
	lo := "(" + strconv.FormatInt(ms(now)-window.Milliseconds(), 10)
	var (
		count *goredis.IntCmd
		last  *goredis.ZSliceCmd
	)
	k := s.attemptKey(key)
	_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		count = p.ZCount(ctx, k, lo, hi)
		last = p.ZRevRangeByScoreWithScores(ctx, k, &goredis.ZRangeBy{Min: lo, Max: hi, Count: 1})
		return nil
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("redis: attempts: %w", err)
	}
	var latest time.Time
	if l := last.Val(); len(l) > 0 {
		latest = fromMS(int64(l[0].Score))
	}
	return int(count.Val()), latest, nil
}

// ResetAttempts implements [throttle.Store].
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	if err := s.client.Del(ctx, s.attemptKey(key)).Err(); err != nil {
		return fmt.Errorf("redis: reset attempts: %w", err)
	}
	return nil
}

// DeleteExpiredAttempts implements [throttle.Store]. Redis expires each
// key a window after its latest attempt, and TakeAttempt forgets a key's
// attempts older than the window, so there is nothing left to delete.
func (s *Store) DeleteExpiredAttempts(ctx context.Context, before time.Time) (int, error) {
	return 0, nil
}
