// Package redis keeps latch's sessions and rate-limit attempts in Redis,
// through redis/go-redis, so that every instance of a site shares them and
// Redis, not a database, absorbs the reads and writes that every request
// makes. Remember-me tokens and accounts stay in SQL (the sqlite or
// postgres package): join the two with [latch.JoinStores].
//
//	sessions, err := redis.Open(ctx, "redis://:password@cache.internal:6379/0")
//	if err != nil {
//		return err
//	}
//	defer sessions.Close()
//	store := latch.JoinStores(sessions, db) // db: a *postgres.Store
//
// A [*Store] is a [latch.SessionStore] and a [throttle.Store].
//
// # Keys
//
// Every key starts with a prefix, "latch:" unless [WithPrefix] says
// otherwise, so that one Redis can serve several sites, or a test its own
// keys:
//
//	<prefix>s:<hash>    a hash per session; it expires with the session
//	<prefix>u:<user>    a sorted set of a user's session hashes
//	<prefix>r:<series>  a sorted set of a remember-me series' session hashes
//	<prefix>a:<key>     a sorted set of a rate-limit key's attempts
//
// The sorted sets of sessions are scored by the sessions' ExpiresAt, so
// that members whose session has expired can be dropped by score. Every
// write that touches a session and its sets is one Lua script, so a
// session is never left out of its user's set, where DeleteUserSessions
// would miss it. Scripts name keys that are not among their declared
// KEYS, so the Store needs a single Redis server (with replicas or
// Sentinel if you like), not Redis Cluster.
//
// # Expiry and clocks
//
// Redis deletes a session's key when it expires, and a rate-limit key when
// its window has passed; DeleteExpiredSessions and DeleteExpiredAttempts
// have nothing to delete and return 0. Expiry is set relative to this
// process's clock (PEXPIRE, not PEXPIREAT), so a difference between the
// clocks of Redis and the instances does not shorten sessions. The times
// latch passes (ExpiresAt, now) must still be near the real time: a key
// whose deadline has passed in real time is gone, whatever "now" a caller
// names. FindSession and UserSessions also compare ExpiresAt with the
// caller's now, so a session is over at its ExpiresAt even if its key
// lingers.
//
// A session's entry in its user's and series' sets goes when the session
// is deleted, and otherwise lazily: a write to a set first drops members
// whose session expired more than [ClockSkew] ago, each set expires
// ClockSkew after its last session does, and [Store.DeleteExpiredSessions]
// sweeps all sets. The margin keeps an instance whose clock runs ahead
// from forgetting a session that another instance still honours.
//
// Times are kept to the millisecond. The Store needs Redis 6 or later.
package redis

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/internal/changefeed"
	"github.com/latchgo/latch/throttle"
)

// Store keeps sessions and rate-limit attempts in Redis. Create it with
// [Open]; it is safe for concurrent use.
type Store struct {
	client   *goredis.Client
	prefix   string
	feed     changefeed.Feed
	stopFeed func()
}

var (
	_ latch.SessionStore  = (*Store)(nil)
	_ throttle.Store      = (*Store)(nil)
	_ latch.ChangeTracker = (*Store)(nil)
)

// DefaultPrefix starts every key unless [WithPrefix] sets another.
const DefaultPrefix = "latch:"

// ClockSkew is how far apart the clocks of the instances that share a
// Redis may be. A session is dropped from the sets that index it only
// once it has been expired for this long.
const ClockSkew = time.Minute

// Option configures [Open].
type Option func(*options)

type options struct {
	prefix string
}

// WithPrefix starts every key of the Store with prefix instead of
// DefaultPrefix. Instances that share sessions must use the same prefix;
// sites or tests that share a Redis without sharing sessions use
// different ones.
func WithPrefix(prefix string) Option { return func(o *options) { o.prefix = prefix } }

// Open connects to the Redis server at url ("redis://[user:password@]host
// [:port][/db]", "rediss://" for TLS, or "unix://" for a socket) and
// checks that it answers. go-redis's URL parameters set the pool and
// timeouts, for example "?pool_size=50&dial_timeout=3s&read_timeout=1s".
// Close the Store when done.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{prefix: DefaultPrefix}
	for _, opt := range opts {
		opt(&o)
	}
	// net/url's errors quote the URL, password and all; say nothing of
	// it instead.
	if _, err := neturl.Parse(url); err != nil {
		return nil, errors.New("redis: open: the URL does not parse")
	}
	ropts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: open: %w", hidePassword(err, url))
	}
	c := goredis.NewClient(ropts)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis: open: %w", hidePassword(err, url))
	}
	s := &Store{client: c, prefix: o.prefix}
	ps := c.Subscribe(ctx, s.changesChannel())
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		c.Close()
		return nil, fmt.Errorf("redis: open: subscribe to changes: %w", hidePassword(err, url))
	}
	s.feed.Changed()
	fctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go s.watch(fctx, ps, done)
	s.stopFeed = func() {
		cancel()
		<-done
		ps.Close()
	}
	return s, nil
}

// hidePassword returns err, or an error with the same text minus the
// URL's password if the text holds it. go-redis's errors about a URL
// name its parts, and a malformed URL may put the password where another
// part belongs.
func hidePassword(err error, url string) error {
	u, perr := neturl.Parse(url)
	if perr != nil || u.User == nil {
		return err
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Close closes the connections to Redis. The Store cannot be used
// afterwards.
func (s *Store) Close() error {
	if s.stopFeed != nil {
		s.stopFeed()
		s.stopFeed = nil
	}
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redis: close: %w", err)
	}
	return nil
}

// ms is a time as stored: unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts stored unix milliseconds back to a time in UTC.
func fromMS(n int64) time.Time { return time.UnixMilli(n).UTC() }

// ttl is how long a key must live from now (in this process's clock) to
// outlast deadline, in whole milliseconds rounded up; 0 or less when the
// deadline has passed.
func ttl(deadline time.Time) int64 {
	d := time.Until(deadline)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
