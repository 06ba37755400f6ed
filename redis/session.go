package redis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/latchgo/latch"
)

// Fields of a session's hash.
const (
	fUser     = "u"
	fSeries   = "r"
	fEpoch    = "ep"
	fCreated  = "c"
	fLastSeen = "l"
	fExpires  = "e"
	fIP       = "ip"
	fAgent    = "ua"
	fData     = "d"
)

// luaIndex is shared by the scripts that write sessions. Every script
// receives the key prefix as ARGV[1] and the session's hash as ARGV[2].
//
// index adds a session to the set key, scored by its expiry, after
// dropping the members whose session expired before cut (now minus
// ClockSkew), and makes the set live at least as long as keep
// milliseconds. unindex removes a session from the sets of the user and
// series it names.
const luaIndex = `
local prefix, hash = ARGV[1], ARGV[2]
local function changed() redis.call('PUBLISH', prefix .. 'changes', '') end
local function index(key, score, cut, keep)
	redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. cut)
	redis.call('ZADD', key, score, hash)
	if redis.call('PTTL', key) < tonumber(keep) then
		redis.call('PEXPIRE', key, keep)
	end
end
local function unindex(user, series)
	if user and user ~= '' then redis.call('ZREM', prefix .. 'u:' .. user, hash) end
	if series and series ~= '' then redis.call('ZREM', prefix .. 'r:' .. series, hash) end
end
`

// createScript stores the new session KEYS[1] and adds it to the sets of
// its user and series. A session already expired is not stored, and an
// existing one is never overwritten (it returns -1): its hash comes from
// a fresh random token, so that would be a bug, and overwriting would
// move a session to another user.
//
// ARGV: prefix, hash, user, series, epoch, created, lastSeen, expires, ip,
// userAgent, data, ttl, setTTL, cut.
var createScript = goredis.NewScript(luaIndex + `
local user, series, expires = ARGV[3], ARGV[4], ARGV[8]
if redis.call('EXISTS', KEYS[1]) == 1 then
	return -1
end
if tonumber(ARGV[12]) <= 0 then
	return 0
end
redis.call('HSET', KEYS[1], 'u', user, 'r', series, 'ep', ARGV[5], 'c', ARGV[6], 'l', ARGV[7], 'e', expires,
	'ip', ARGV[9], 'ua', ARGV[10], 'd', ARGV[11])
redis.call('PEXPIRE', KEYS[1], ARGV[12])
if user ~= '' then index(prefix .. 'u:' .. user, expires, ARGV[14], ARGV[13]) end
if series ~= '' then index(prefix .. 'r:' .. series, expires, ARGV[14], ARGV[13]) end
changed()
return 1
`)

// updateScript updates the session KEYS[1] if it still exists, and only
// then: a session deleted by a logout or revocation stays deleted. It
// moves the session to the set of its new series and rescores it in its
// sets. A session updated into the past is over, and deleted. It returns
// 1 when the session existed.
//
// ARGV: prefix, hash, series, lastSeen, expires, ip, userAgent, data, ttl,
// setTTL, cut.
var updateScript = goredis.NewScript(luaIndex + `
local f = redis.call('HMGET', KEYS[1], 'u', 'r')
if not f[1] then
	return 0
end
local series, expires = ARGV[3], ARGV[5]
if tonumber(ARGV[9]) <= 0 then
	unindex(f[1], f[2])
	redis.call('DEL', KEYS[1])
	changed()
	return 1
end
if f[2] and f[2] ~= '' and f[2] ~= series then
	redis.call('ZREM', prefix .. 'r:' .. f[2], hash)
end
redis.call('HSET', KEYS[1], 'r', series, 'l', ARGV[4], 'e', expires, 'ip', ARGV[6], 'ua', ARGV[7], 'd', ARGV[8])
redis.call('PEXPIRE', KEYS[1], ARGV[9])
if f[1] ~= '' then index(prefix .. 'u:' .. f[1], expires, ARGV[11], ARGV[10]) end
if series ~= '' then index(prefix .. 'r:' .. series, expires, ARGV[11], ARGV[10]) end
changed()
return 1
`)

// touchScript updates lastSeen and expires of the session KEYS[1], if it
// exists, with its key's expiry and its scores in its sets. A session
// touched into the past is over, and deleted.
//
// ARGV: prefix, hash, lastSeen, expires, ttl, setTTL, cut.
var touchScript = goredis.NewScript(luaIndex + `
local f = redis.call('HMGET', KEYS[1], 'u', 'r')
if not f[1] then
	return 0
end
if tonumber(ARGV[5]) <= 0 then
	unindex(f[1], f[2])
	redis.call('DEL', KEYS[1])
	changed()
	return 0
end
redis.call('HSET', KEYS[1], 'l', ARGV[3], 'e', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
if f[1] ~= '' then index(prefix .. 'u:' .. f[1], ARGV[4], ARGV[7], ARGV[6]) end
if f[2] ~= '' then index(prefix .. 'r:' .. f[2], ARGV[4], ARGV[7], ARGV[6]) end
changed()
return 1
`)

// deleteScript deletes the session KEYS[1] and its entries in its sets.
//
// ARGV: prefix, hash.
var deleteScript = goredis.NewScript(luaIndex + `
local f = redis.call('HMGET', KEYS[1], 'u', 'r')
unindex(f[1], f[2])
local n = redis.call('DEL', KEYS[1])
if n > 0 then changed() end
return n
`)

// deleteSetScript deletes every session in the set KEYS[1] (a user's or a
// series') whose field ARGV[1] is still ARGV[2], except the session
// ARGV[3], removes each from its other set, and reports how many sessions
// it deleted. Members whose session is gone, or now belongs elsewhere,
// are dropped from the set.
//
// ARGV: field, value, except, prefix.
var deleteSetScript = goredis.NewScript(`
local field, value, except, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local other = 'r'
if field == 'r' then other = 'u' end
local n = 0
for _, hash in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
	if hash ~= except then
		local key = prefix .. 's:' .. hash
		local f = redis.call('HMGET', key, field, other)
		if f[1] == value then
			if f[2] and f[2] ~= '' then
				redis.call('ZREM', prefix .. other .. ':' .. f[2], hash)
			end
			redis.call('DEL', key)
			n = n + 1
		end
		redis.call('ZREM', KEYS[1], hash)
	end
end
if n > 0 then redis.call('PUBLISH', prefix .. 'changes', '') end
return n
`)

func (s *Store) sessionKey(hash string) string  { return s.prefix + "s:" + hash }
func (s *Store) userKey(userID string) string   { return s.prefix + "u:" + userID }
func (s *Store) seriesKey(series string) string { return s.prefix + "r:" + series }

// cut is the score below which a set's members are dropped: sessions that
// expired more than ClockSkew ago, by this process's clock.
func cut() string { return strconv.FormatInt(ms(time.Now().Add(-ClockSkew)), 10) }

// setTTL is how long the sets of a session must live: ClockSkew longer
// than the session.
func setTTL(sessionTTL int64) int64 { return sessionTTL + ClockSkew.Milliseconds() }

// FindSession implements [latch.SessionStore] with one HGETALL.
func (s *Store) FindSession(ctx context.Context, hash string, now time.Time) (latch.Session, bool, error) {
	fields, err := s.client.HGetAll(ctx, s.sessionKey(hash)).Result()
	if err != nil {
		return latch.Session{}, false, fmt.Errorf("redis: find session: %w", err)
	}
	if len(fields) == 0 {
		return latch.Session{}, false, nil
	}
	sess, err := parseSession(hash, fields)
	if err != nil {
		return latch.Session{}, false, fmt.Errorf("redis: find session: %w", err)
	}
	if !sess.ExpiresAt.After(now) {
		return latch.Session{}, false, nil
	}
	return sess, true, nil
}

// parseSession reads a session's hash.
func parseSession(hash string, f map[string]string) (latch.Session, error) {
	sess := latch.Session{
		Hash:      hash,
		UserID:    f[fUser],
		Series:    f[fSeries],
		IP:        f[fIP],
		UserAgent: f[fAgent],
		Data:      []byte(f[fData]),
	}
	if ep := f[fEpoch]; ep != "" {
		n, err := strconv.ParseInt(ep, 10, 64)
		if err != nil {
			return latch.Session{}, fmt.Errorf("session field %s: %w", fEpoch, err)
		}
		sess.Epoch = n
	}
	for _, t := range []struct {
		field string
		to    *time.Time
	}{
		{fCreated, &sess.CreatedAt},
		{fLastSeen, &sess.LastSeenAt},
		{fExpires, &sess.ExpiresAt},
	} {
		n, err := strconv.ParseInt(f[t.field], 10, 64)
		if err != nil {
			return latch.Session{}, fmt.Errorf("session field %s: %w", t.field, err)
		}
		*t.to = fromMS(n)
	}
	return sess, nil
}

// CreateSession implements [latch.SessionStore] with one script, which
// also adds the session to the sets of its user and series. A session
// that is already expired is not stored.
func (s *Store) CreateSession(ctx context.Context, sess latch.Session) error {
	defer s.feed.Changed()
	keep := ttl(sess.ExpiresAt)
	n, err := createScript.Run(ctx, s.client, []string{s.sessionKey(sess.Hash)},
		s.prefix, sess.Hash, sess.UserID, sess.Series, sess.Epoch,
		ms(sess.CreatedAt), ms(sess.LastSeenAt), ms(sess.ExpiresAt),
		sess.IP, sess.UserAgent, sess.Data,
		keep, setTTL(keep), cut()).Int()
	if err != nil {
		return fmt.Errorf("redis: create session: %w", err)
	}
	if n < 0 {
		return errors.New("redis: create session: hash already in use")
	}
	return nil
}

// UpdateSession implements [latch.SessionStore] with one script that
// writes only if the session's key still exists.
func (s *Store) UpdateSession(ctx context.Context, sess latch.Session) (bool, error) {
	defer s.feed.Changed()
	keep := ttl(sess.ExpiresAt)
	n, err := updateScript.Run(ctx, s.client, []string{s.sessionKey(sess.Hash)},
		s.prefix, sess.Hash, sess.Series, ms(sess.LastSeenAt), ms(sess.ExpiresAt),
		sess.IP, sess.UserAgent, sess.Data,
		keep, setTTL(keep), cut()).Int()
	if err != nil {
		return false, fmt.Errorf("redis: update session: %w", err)
	}
	return n == 1, nil
}

// TouchSession implements [latch.SessionStore].
func (s *Store) TouchSession(ctx context.Context, hash string, lastSeen, expires time.Time) error {
	defer s.feed.Changed()
	keep := ttl(expires)
	err := touchScript.Run(ctx, s.client, []string{s.sessionKey(hash)},
		s.prefix, hash, ms(lastSeen), ms(expires), keep, setTTL(keep), cut()).Err()
	if err != nil {
		return fmt.Errorf("redis: touch session: %w", err)
	}
	return nil
}

// DeleteSession implements [latch.SessionStore].
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	defer s.feed.Changed()
	if err := deleteScript.Run(ctx, s.client, []string{s.sessionKey(hash)}, s.prefix, hash).Err(); err != nil {
		return fmt.Errorf("redis: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions implements [latch.SessionStore] with one script over
// the user's set. An empty userID deletes nothing: anonymous sessions are
// in no set.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, except string) (int, error) {
	defer s.feed.Changed()
	if userID == "" {
		return 0, nil
	}
	n, err := deleteSetScript.Run(ctx, s.client, []string{s.userKey(userID)},
		fUser, userID, except, s.prefix).Int()
	if err != nil {
		return 0, fmt.Errorf("redis: delete user sessions: %w", err)
	}
	return n, nil
}

// DeleteSeriesSessions implements [latch.SessionStore]. An empty series
// deletes nothing.
func (s *Store) DeleteSeriesSessions(ctx context.Context, series string) error {
	defer s.feed.Changed()
	if series == "" {
		return nil
	}
	err := deleteSetScript.Run(ctx, s.client, []string{s.seriesKey(series)},
		fSeries, series, "", s.prefix).Err()
	if err != nil {
		return fmt.Errorf("redis: delete series sessions: %w", err)
	}
	return nil
}

// UserSessions implements [latch.SessionStore]: the user's set gives the
// sessions that expire after now, and one pipeline reads them.
func (s *Store) UserSessions(ctx context.Context, userID string, now time.Time) ([]latch.Session, error) {
	if userID == "" {
		return nil, nil
	}
	hashes, err := s.client.ZRangeByScore(ctx, s.userKey(userID), &goredis.ZRangeBy{
		Min: "(" + strconv.FormatInt(ms(now), 10),
		Max: "+inf",
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: user sessions: %w", err)
	}
	if len(hashes) == 0 {
		return nil, nil
	}
	cmds := make([]*goredis.MapStringStringCmd, len(hashes))
	_, err = s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, h := range hashes {
			cmds[i] = p.HGetAll(ctx, s.sessionKey(h))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redis: user sessions: %w", err)
	}
	var list []latch.Session
	for i, cmd := range cmds {
		fields := cmd.Val()
		if len(fields) == 0 {
			continue // deleted or expired since the set was read
		}
		sess, err := parseSession(hashes[i], fields)
		if err != nil {
			return nil, fmt.Errorf("redis: user sessions: %w", err)
		}
		if sess.UserID == userID && sess.ExpiresAt.After(now) {
			list = append(list, sess)
		}
	}
	slices.SortFunc(list, func(a, b latch.Session) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.Hash, b.Hash))
	})
	return list, nil
}

// DeleteExpiredSessions implements [latch.SessionStore]. Redis has already
// deleted expired sessions, so it reports 0; it drops the members of
// every user's and series' set whose session expired more than ClockSkew
// before now (or before the real time, if that is earlier: a later "now"
// must not drop sessions that other instances still honour), so that the
// sets do not grow. It walks the keyspace with SCAN, which does not block
// Redis; run it now and then, as for the other stores.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if real := time.Now(); now.After(real) {
		now = real
	}
	bound := strconv.FormatInt(ms(now.Add(-ClockSkew)), 10)
	for _, pattern := range []string{s.userKey("*"), s.seriesKey("*")} {
		pattern = escapeGlob(s.prefix) + pattern[len(s.prefix):]
		iter := s.client.ScanType(ctx, 0, pattern, 1000, "zset").Iterator()
		for iter.Next(ctx) {
			if err := s.client.ZRemRangeByScore(ctx, iter.Val(), "-inf", "("+bound).Err(); err != nil {
				return 0, fmt.Errorf("redis: delete expired sessions: %w", err)
			}
		}
		if err := iter.Err(); err != nil {
			return 0, fmt.Errorf("redis: delete expired sessions: %w", err)
		}
	}
	return 0, nil
}

// escapeGlob escapes the characters that SCAN's MATCH pattern treats
// specially, so that a prefix matches only itself.
func escapeGlob(s string) string {
	var b []byte
	for i := range len(s) {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// CountSessions counts the session keys, for a metrics gauge. It scans
// the prefix's keys, so call it rarely (the latch site caches it for a
// minute); Redis expires keys itself, so every key found is live.
func (s *Store) CountSessions(ctx context.Context, now time.Time) (int, error) {
	n := 0
	iter := s.client.ScanType(ctx, 0, escapeGlob(s.prefix)+"s:*", 1000, "hash").Iterator()
	for iter.Next(ctx) {
		n++
	}
	if err := iter.Err(); err != nil {
		return 0, fmt.Errorf("redis: count sessions: %w", err)
	}
	return n, nil
}
