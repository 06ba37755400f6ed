package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// addAttemptScript records an attempt in the sorted set KEYS[1], forgets
// the attempts before the window, counts those in the window and makes
// the set outlive the attempt by the window. Being one script, it runs
// alone: of concurrent calls on one key, each counts all those before it.
//
// ARGV: at (unix ms), window start (ms, excluded), member, set TTL (ms).
var addAttemptScript = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
local n = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
	redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return n
`)

func (s *Store) attemptKey(key string) string { return s.prefix + "a:" + key }

// AddAttempt implements [throttle.Store] with one script. Each attempt is
// a member of the key's sorted set, scored by its time. Attempts of the
// same millisecond must count as many, so each member is its time and 64
// random bits, never equal to another's.
//
// The set expires a window after its newest attempt (in this process's
// clock), so a key that is no longer tried costs nothing.
func (s *Store) AddAttempt(ctx context.Context, key string, at time.Time, window time.Duration) (int, error) {
	var r [8]byte
	rand.Read(r[:])
	now := ms(at)
	member := strconv.FormatInt(now, 10) + ":" + hex.EncodeToString(r[:])
	keep := max(ttl(at.Add(window)), window.Milliseconds(), 1)
	n, err := addAttemptScript.Run(ctx, s.client, []string{s.attemptKey(key)},
		now, now-window.Milliseconds(), member, keep).Int()
	if err != nil {
		return 0, fmt.Errorf("redis: add attempt: %w", err)
	}
	return n, nil
}

// Attempts implements [throttle.Store]: the count and the latest attempt
// in the window, read in one MULTI so that they agree.
func (s *Store) Attempts(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	hi := strconv.FormatInt(ms(now), 10)
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
// key a window after its latest attempt, and AddAttempt forgets a key's
// attempts older than the window, so there is nothing left to delete.
func (s *Store) DeleteExpiredAttempts(ctx context.Context, before time.Time) (int, error) {
	return 0, nil
}
