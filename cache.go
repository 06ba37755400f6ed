package latch

import (
	"maps"
	"slices"

	"github.com/latchgo/latch/internal/changefeed"
	"github.com/latchgo/latch/internal/vcache"
)

// ChangeTracker is implemented by stores that can tell when anything they
// keep may have changed, so that the Manager can keep a read cache of
// sessions (and users, see CacheConfig.Users) that a change can never
// outrun. The sqlite, postgres, redis and memstore stores implement it.
type ChangeTracker interface {
	// Changes returns a version, a number that only grows, and grows once
	// anything the store keeps has changed: through this process (before
	// the write returns) or through any other process or instance (within
	// MaxStaleness). While the store cannot vouch for that — its
	// change feed is down or has not confirmed recently enough — it
	// returns ok=false, and the manager reads the store for every request.
	Changes() (version uint64, ok bool)
}

// MaxStaleness is how long after another process's write a ChangeTracker
// may still report the version from before it. Stores confirm their
// change feeds several times within it and report ok=false when they
// could not, so a revocation made elsewhere reaches every instance's
// cache within this bound, or the cache is bypassed.
const MaxStaleness = changefeed.MaxStaleness

// Defaults of the read cache.
const (
	DefaultCacheEntries       = 10000
	DefaultCacheBytes   int64 = 16 << 20
)

// cachedSession is what the read cache keeps per session token hash: the
// record, its decoded data, and with Cache.Users the user it names.
type cachedSession[U User] struct {
	rec     Session
	data    sessionData
	user    U
	hasUser bool
}

// cacheVersion returns the store's version when the cache may be used
// for this request: the cache is on, the store tracks changes, and it
// vouches for its version now.
func (m *Manager[U]) cacheVersion() (uint64, bool) {
	if m.Cache.Entries <= 0 {
		return 0, false
	}
	t, ok := m.store.(ChangeTracker)
	if !ok {
		return 0, false
	}
	m.initCache()
	return t.Changes()
}

// initCache makes the cache at first use, with the settings of then.
func (m *Manager[U]) initCache() {
	m.cacheOnce.Do(func() {
		m.cache = vcache.New[cachedSession[U]](m.Cache.Entries, max(m.Cache.Bytes, 1))
	})
}

// CacheStats describes the read cache, for metrics.
type CacheStats struct {
	// Hits and Misses count the session lookups the cache answered and
	// the ones that read the store, since the manager started; lookups
	// while the store could not vouch for its version count as misses.
	Hits, Misses uint64
	// Entries and Bytes are what the cache holds now.
	Entries int
	Bytes   int64
}

// CacheStats returns the read cache's statistics.
func (m *Manager[U]) CacheStats() CacheStats {
	st := CacheStats{Hits: m.cacheHits.Load(), Misses: m.cacheMisses.Load()}
	if m.Cache.Entries > 0 {
		m.initCache()
		st.Entries, st.Bytes = m.cache.Len()
	}
	return st
}

// cacheGet returns a request's own copy of a cached session.
func (m *Manager[U]) cacheGet(hash string, version uint64) (cachedSession[U], bool) {
	e, ok := m.cache.Get(hash, version)
	if !ok {
		m.cacheMisses.Add(1)
		return e, false
	}
	m.cacheHits.Add(1)
	e.data = e.data.clone()
	if e.hasUser {
		var cloned bool
		if e.user, cloned = cloneUser(e.user); !cloned {
			e.hasUser = false
		}
	}
	return e, true
}

// cachePut keeps a session read from the store at version, with its user
// when Cache.Users allows.
func (m *Manager[U]) cachePut(version uint64, rec Session, data sessionData, u U) {
	e := cachedSession[U]{rec: rec, data: data.clone()}
	if m.Cache.Users {
		if c, ok := cloneUser(u); ok {
			e.user, e.hasUser = c, true
		}
	}
	size := int64(len(rec.Hash) + len(rec.UserID) + len(rec.Series) + len(rec.IP) + len(rec.UserAgent) + 2*len(rec.Data) + 512)
	m.cache.Put(rec.Hash, version, e, size)
}

// cacheForget drops a session this request ended, so that nothing but the
// store answers for it, even before the store's version has moved.
func (m *Manager[U]) cacheForget(hash string) {
	if m.Cache.Entries > 0 {
		m.initCache()
		m.cache.Delete(hash)
	}
}

// cacheForgetUser drops every cached session of a user.
func (m *Manager[U]) cacheForgetUser(userID string) {
	if m.Cache.Entries > 0 {
		m.initCache()
		m.cache.DeleteFunc(func(e cachedSession[U]) bool { return e.rec.UserID == userID })
	}
}

// cloneUser copies u with its Clone method, if it has one: the cached user
// is shared, and handlers may change the one they are given.
func cloneUser[U User](u U) (U, bool) {
	if c, ok := any(u).(interface{ Clone() U }); ok {
		return c.Clone(), true
	}
	return u, false
}

// clone copies the parts of the session data a request may change.
func (d sessionData) clone() sessionData {
	d.Flashes = slices.Clone(d.Flashes)
	d.Values = maps.Clone(d.Values)
	return d
}
