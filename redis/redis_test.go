package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/memstore"
	"github.com/latchgo/latch/redis"
	"github.com/latchgo/latch/storetest"
	"github.com/latchgo/latch/throttle"
)

// serverURL returns LATCH_TEST_REDIS, the URL of a Redis the tests may
// write to under prefixes of their own, or skips the test.
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("LATCH_TEST_REDIS")
	if u == "" {
		t.Skip("LATCH_TEST_REDIS not set")
	}
	return u
}

// newPrefix returns a random key prefix and deletes every key under it
// when the test ends.
func newPrefix(t testing.TB) string {
	t.Helper()
	u := serverURL(t)
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "latch_test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		if n := deleteKeys(t, u, prefix); n < 0 {
			t.Errorf("keys under %s were not deleted", prefix)
		}
	})
	return prefix
}

// deleteKeys deletes the keys whose names start with prefix (which holds
// no glob characters) and returns how many there were, or -1 on error.
func deleteKeys(t testing.TB, url, prefix string) int {
	ctx := context.Background()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Errorf("LATCH_TEST_REDIS: %v", err)
		return -1
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	n := 0
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		if err := c.Unlink(ctx, iter.Val()).Err(); err != nil {
			t.Errorf("UNLINK: %v", err)
			return -1
		}
		n++
	}
	if err := iter.Err(); err != nil {
		t.Errorf("SCAN: %v", err)
		return -1
	}
	return n
}

// open opens a Store with its own prefix and closes it when the test ends
// (before its keys are deleted).
func open(t testing.TB, prefix string) *redis.Store {
	t.Helper()
	s, err := redis.Open(context.Background(), serverURL(t), redis.WithPrefix(prefix))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func newStore(t testing.TB) *redis.Store { return open(t, newPrefix(t)) }

func TestStoretest(t *testing.T) {
	serverURL(t)
	t.Run("Sessions", func(t *testing.T) {
		storetest.Sessions(t, func(t *testing.T) latch.SessionStore { return newStore(t) })
	})
	t.Run("Attempts", func(t *testing.T) {
		storetest.Attempts(t, func(t *testing.T) throttle.Store { return newStore(t) })
	})
}

// TestChanges: the change feed, with a second Store on the same prefix as
// another instance.
func TestChanges(t *testing.T) {
	serverURL(t)
	storetest.Changes(t, func(t *testing.T) (latch.SessionStore, latch.SessionStore) {
		prefix := newPrefix(t)
		return open(t, prefix), open(t, prefix)
	})
}

// TestChangesCut kills the subscription connections while another
// instance writes: the Store never vouches for a version that misses the
// write. It either says it is unsure (the managers then read Redis) or
// has counted a change by the time MaxStaleness has passed.
func TestChangesCut(t *testing.T) {
	prefix := newPrefix(t)
	a, b := open(t, prefix), open(t, prefix)
	admin := goredis.NewClient(mustParseURL(t))
	defer admin.Close()
	ctx := t.Context()
	now := time.Now()
	for i := range 20 {
		deadline := time.Now().Add(2 * time.Second)
		var before uint64
		for {
			v, ok := a.Changes()
			if ok {
				before = v
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the feed did not come back within 2s", i)
			}
			time.Sleep(time.Millisecond)
		}
		if err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
			t.Fatal(err)
		}
		if err := b.CreateSession(ctx, liveSession(fmt.Sprintf("cut-%d", i), "7", "", now.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(latch.MaxStaleness)
		if v, ok := a.Changes(); ok && v <= before {
			t.Fatalf("round %d: with its feed cut, the store vouches for the version from before another instance's write", i)
		}
	}
}

func mustParseURL(t *testing.T) *goredis.Options {
	t.Helper()
	o, err := goredis.ParseURL(serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestAttemptsShared: a burst over two Stores on one prefix (two
// instances) gets exactly a rule's free attempts.
func TestAttemptsShared(t *testing.T) {
	prefix := newPrefix(t)
	storetest.AttemptsShared(t, func(t *testing.T) (throttle.Store, throttle.Store) {
		return open(t, prefix), open(t, prefix)
	})
}

// TestRevocation runs the revocation suite with sessions in Redis and
// remember-me tokens in memory, as a site joins Redis with SQL.
func TestRevocation(t *testing.T) {
	serverURL(t)
	storetest.Revocation(t, func(t *testing.T) latch.Store { return latch.JoinStores(newStore(t), memstore.New()) })
}

func liveSession(hash, user, series string, expires time.Time) latch.Session {
	now := time.Now().Truncate(time.Millisecond)
	return latch.Session{
		Hash: hash, UserID: user, Series: series,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: expires,
		IP: "192.0.2.1", UserAgent: "test", Data: []byte("data of " + hash),
	}
}

// pttl returns the time to live of a key.
func pttl(t *testing.T, s *redis.Store, key string) time.Duration {
	t.Helper()
	d, err := s.Client().PTTL(t.Context(), key).Result()
	if err != nil {
		t.Fatalf("PTTL %s: %v", key, err)
	}
	return d
}

// TestKeysExpire checks that Redis itself expires sessions, the sets that
// index them and rate-limit keys, so that nothing needs a janitor.
func TestKeysExpire(t *testing.T) {
	ctx := t.Context()
	prefix := newPrefix(t)
	s := open(t, prefix)
	now := time.Now()
	within := func(key string, got, want time.Duration) {
		t.Helper()
		if got < want-2*time.Second || got > want+time.Second {
			t.Errorf("TTL of %s = %v, want about %v", key, got, want)
		}
	}

	sess := liveSession("h1", "7", "S", now.Add(time.Hour))
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	within("the session", pttl(t, s, prefix+"s:h1"), time.Hour)
	within("the user's set", pttl(t, s, prefix+"u:7"), time.Hour+redis.ClockSkew)
	within("the series' set", pttl(t, s, prefix+"r:S"), time.Hour+redis.ClockSkew)

	if err := s.TouchSession(ctx, "h1", now, now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	within("the touched session", pttl(t, s, prefix+"s:h1"), 3*time.Hour)
	within("the user's set after a touch", pttl(t, s, prefix+"u:7"), 3*time.Hour+redis.ClockSkew)

	// A session that expires first does not shorten the set's life.
	if err := s.CreateSession(ctx, liveSession("h2", "7", "", now.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	within("the user's set", pttl(t, s, prefix+"u:7"), 3*time.Hour+redis.ClockSkew)

	if _, err := s.TakeAttempt(ctx, "k", now, throttle.Rule{Window: 15 * time.Minute, Free: 100}); err != nil {
		t.Fatal(err)
	}
	within("the attempts", pttl(t, s, prefix+"a:k"), 15*time.Minute)
	// An attempt with a shorter window does not shorten the key's life.
	if _, err := s.TakeAttempt(ctx, "k", now, throttle.Rule{Window: time.Minute, Free: 100}); err != nil {
		t.Fatal(err)
	}
	within("the attempts", pttl(t, s, prefix+"a:k"), 15*time.Minute)
}

// TestExpiredInRealTime saves a session that expires in real time: Redis
// deletes it and its set entry goes with the next sweep.
func TestExpiredInRealTime(t *testing.T) {
	ctx := t.Context()
	prefix := newPrefix(t)
	s := open(t, prefix)
	now := time.Now()
	if err := s.CreateSession(ctx, liveSession("short", "7", "", now.Add(50*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, ok, err := s.FindSession(ctx, "short", now); err != nil || ok {
		t.Errorf("FindSession of a session Redis expired, asked at a time it was valid = %v, %v; want not found", ok, err)
	}
	if n, err := s.Client().Exists(ctx, prefix+"s:short").Result(); err != nil || n != 0 {
		t.Errorf("the expired session's key exists: %d, %v", n, err)
	}
	if list, err := s.UserSessions(ctx, "7", now); err != nil || len(list) != 0 {
		t.Errorf("UserSessions = %d sessions, %v; want none", len(list), err)
	}
}

// TestIndexCleanup plants members of sessions that expired long ago in
// the sets, as sessions that Redis expired leave behind, and checks that
// writes and DeleteExpiredSessions drop them but nothing live.
func TestIndexCleanup(t *testing.T) {
	ctx := t.Context()
	prefix := newPrefix(t)
	s := open(t, prefix)
	c := s.Client()
	now := time.Now()
	stale := func(key, member string, age time.Duration) {
		t.Helper()
		if err := c.ZAdd(ctx, key, goredis.Z{Score: float64(now.Add(-age).UnixMilli()), Member: member}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	members := func(key string) []string {
		t.Helper()
		m, err := c.ZRange(ctx, key, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(m)
		return m
	}

	// A write to a set drops its long-expired members.
	stale(prefix+"u:1", "gone-1", time.Hour)
	stale(prefix+"u:1", "recent-1", time.Second) // within ClockSkew: kept
	if err := s.CreateSession(ctx, liveSession("live-1", "1", "", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if got, want := members(prefix+"u:1"), []string{"live-1", "recent-1"}; !slices.Equal(got, want) {
		t.Errorf("user 1's set after SaveSession = %q, want %q", got, want)
	}

	// DeleteExpiredSessions sweeps every set.
	stale(prefix+"u:2", "gone-2", 2*redis.ClockSkew)
	stale(prefix+"r:S", "gone-3", 2*redis.ClockSkew)
	if err := s.CreateSession(ctx, liveSession("live-2", "2", "S", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	stale(prefix+"u:2", "gone-4", 2*redis.ClockSkew) // after the save's own cleanup
	stale(prefix+"r:S", "gone-5", 2*redis.ClockSkew)
	stale(prefix+"u:only-stale", "gone-6", 2*redis.ClockSkew)
	// A "now" in the future must not drop sessions that are still valid.
	if n, err := s.DeleteExpiredSessions(ctx, now.Add(24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 0, nil", n, err)
	}
	for key, want := range map[string][]string{
		prefix + "u:1":          {"live-1", "recent-1"},
		prefix + "u:2":          {"live-2"},
		prefix + "r:S":          {"live-2"},
		prefix + "u:only-stale": nil,
	} {
		if got := members(key); !slices.Equal(got, want) {
			t.Errorf("%s after DeleteExpiredSessions = %q, want %q", key, got, want)
		}
	}
	if n, err := c.Exists(ctx, prefix+"u:only-stale").Result(); err != nil || n != 0 {
		t.Errorf("an emptied set still exists: %d, %v", n, err)
	}
	// The live sessions are still revocable through their sets.
	if n, err := s.DeleteUserSessions(ctx, "2", ""); err != nil || n != 1 {
		t.Errorf("DeleteUserSessions(2) = %d, %v; want 1", n, err)
	}
}

// TestSessionMovesBetweenSets updates one session's series from many
// goroutines at once: whichever update comes last, the session is in its
// own series' set and in no other, so revoking a series finds it and no
// other series' revocation ends it. A second create of the same hash is
// refused, so a session never changes user.
func TestSessionMovesBetweenSets(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	now := time.Now()
	if err := s.CreateSession(ctx, liveSession("shared", "1", "series-0", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, liveSession("shared", "2", "", now.Add(time.Hour))); err == nil {
		t.Fatal("CreateSession of an existing hash succeeded")
	}
	const workers = 20
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			sess := liveSession("shared", "1", "series-"+strconv.Itoa(i%3), now.Add(time.Hour))
			if found, err := s.UpdateSession(ctx, sess); err != nil || !found {
				t.Errorf("UpdateSession = %v, %v", found, err)
			}
		})
	}
	wg.Wait()
	final, ok, err := s.FindSession(ctx, "shared", now)
	if err != nil || !ok || final.UserID != "1" {
		t.Fatalf("FindSession = %+v, %v, %v", final, ok, err)
	}
	if n, err := s.DeleteUserSessions(ctx, "2", ""); err != nil || n != 0 {
		t.Errorf("DeleteUserSessions of another user = %d, %v; want 0", n, err)
	}
	for i := range 3 {
		if series := "series-" + strconv.Itoa(i); series != final.Series {
			if err := s.DeleteSeriesSessions(ctx, series); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, ok, _ := s.FindSession(ctx, "shared", now); !ok {
		t.Fatal("the session was deleted through a series it no longer belongs to")
	}
	if err := s.DeleteSeriesSessions(ctx, final.Series); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.FindSession(ctx, "shared", now); ok {
		t.Error("DeleteSeriesSessions of the session's series left it")
	}
	if list, err := s.UserSessions(ctx, final.UserID, now); err != nil || len(list) != 0 {
		t.Errorf("UserSessions of its user after the series was deleted = %d, %v; want none", len(list), err)
	}
}

// TestPrefixIsolation runs two Stores with different prefixes on one
// Redis: neither sees the other's sessions or attempts.
func TestPrefixIsolation(t *testing.T) {
	ctx := t.Context()
	a, b := newStore(t), newStore(t)
	now := time.Now()
	if err := a.CreateSession(ctx, liveSession("h", "7", "S", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.FindSession(ctx, "h", now); err != nil || ok {
		t.Errorf("the other prefix's FindSession = %v, %v; want not found", ok, err)
	}
	if n, err := b.DeleteUserSessions(ctx, "7", ""); err != nil || n != 0 {
		t.Errorf("the other prefix's DeleteUserSessions = %d, %v; want 0", n, err)
	}
	if _, ok, err := a.FindSession(ctx, "h", now); err != nil || !ok {
		t.Errorf("FindSession after the other prefix's deletion = %v, %v; want found", ok, err)
	}
	rule := throttle.Rule{Window: time.Minute, Free: 100}
	for range 3 {
		if _, err := a.TakeAttempt(ctx, "k", now, rule); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.TakeAttempt(ctx, "k", now, rule); err != nil {
		t.Fatal(err)
	}
	if n, _, err := b.Attempts(ctx, "k", now, time.Minute); err != nil || n != 1 {
		t.Errorf("the other prefix's attempts = %d, %v; want 1", n, err)
	}
}

// TestPrefixWithGlobCharacters uses a prefix that SCAN's MATCH would read
// as a pattern: the sweep touches only this Store's sets.
func TestPrefixWithGlobCharacters(t *testing.T) {
	ctx := t.Context()
	base := newPrefix(t)
	glob, plain := open(t, base+"[x]*?:"), open(t, base+"x:")
	now := time.Now()
	if err := plain.CreateSession(ctx, liveSession("h", "7", "", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	stale := goredis.Z{Score: float64(now.Add(-time.Hour).UnixMilli()), Member: "gone"}
	if err := plain.Client().ZAdd(ctx, base+"x:u:7", stale).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := glob.DeleteExpiredSessions(ctx, now); err != nil {
		t.Fatal(err)
	}
	if n, err := plain.Client().ZCard(ctx, base+"x:u:7").Result(); err != nil || n != 2 {
		t.Errorf("another prefix's set after a sweep = %d members, %v; want 2, untouched", n, err)
	}
}

// TestOpenHidesPassword opens URLs that cannot work: no error may repeat
// the password. No server is needed.
func TestOpenHidesPassword(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	for _, u := range []string{
		"redis://:" + pw + "@127.0.0.1:1/0?dial_timeout=1s&max_retries=-1",
		"redis://user:" + pw + "@127.0.0.1:notaport/0",
		"redis://user:" + pw + "/x@127.0.0.1/0",
		"redis://user:" + pw + "@127.0.0.1:1/" + pw,
		"redis://user:" + pw + "@127.0.0.1:1/0?pool_size=" + pw,
		"redis://user:" + pw + "@[::1/0",
		"http://user:" + pw + "@127.0.0.1:1/0",
		"redis://user:" + pw + "@127.0.0.1:1/0\x7f",
	} {
		s, err := redis.Open(t.Context(), u)
		if err == nil {
			s.Close()
			t.Errorf("Open succeeded, want an error")
			continue
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), pw) || strings.Contains(e.Error(), "s3cr3t") {
				t.Errorf("Open error %q contains the password", e)
			}
		}
	}
}

func TestPingAndClose(t *testing.T) {
	s, err := redis.Open(t.Context(), serverURL(t), redis.WithPrefix(newPrefix(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded, want an error")
	}
}

// TestDefaultPrefix checks that keys start with DefaultPrefix when Open
// is given no prefix.
func TestDefaultPrefix(t *testing.T) {
	ctx := t.Context()
	u := serverURL(t)
	s, err := redis.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := make([]byte, 8)
	rand.Read(b)
	hash := "test-default-prefix-" + hex.EncodeToString(b)
	if err := s.CreateSession(ctx, latch.Session{Hash: hash, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	defer s.DeleteSession(ctx, hash)
	if n, err := s.Client().Exists(ctx, redis.DefaultPrefix+"s:"+hash).Result(); err != nil || n != 1 {
		t.Errorf("EXISTS %ss:%s = %d, %v; want 1", redis.DefaultPrefix, hash, n, err)
	}
}

func BenchmarkFindSession(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	now := time.Now()
	const n = 1000
	for i := range n {
		sess := latch.Session{
			Hash: fmt.Sprintf("%064x", i), UserID: strconv.Itoa(i % 100),
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour),
			IP: "192.0.2.1", UserAgent: "bench", Data: make([]byte, 256),
		}
		if err := s.CreateSession(ctx, sess); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok, err := s.FindSession(ctx, fmt.Sprintf("%064x", i%n), now); err != nil || !ok {
				b.Errorf("FindSession = %v, %v", ok, err)
				return
			}
			i++
		}
	})
}
