// Package vcache is a bounded in-memory cache whose entries are valid
// only while a version number has not moved: the version of a store's
// contents (see latch.ChangeTracker). Readers take the version before
// they read the store and put the value under that version; any change
// to the store moves the version, and every entry put before it stops
// being returned at once, without a walk over the cache. Nothing is ever
// served from a version the caller no longer vouches for, which is what
// makes it safe for credentials: a stale entry cannot outlive the change
// that made it stale.
//
// The cache is bounded by a number of entries and a number of bytes (as
// the caller sizes each value); past either bound the oldest entries go
// first. It is split into shards so that concurrent requests rarely wait
// for each other.
package vcache

import (
	"hash/maphash"
	"sync"
)

const shards = 16

// Cache maps string keys to values of type V. The zero value is not
// usable; call New.
type Cache[V any] struct {
	seed   maphash.Seed
	shards [shards]shard[V]
}

type entry[V any] struct {
	value   V
	version uint64
	size    int64
}

type shard[V any] struct {
	mu         sync.Mutex
	m          map[string]entry[V]
	order      []string // insertion order, oldest first; may hold keys deleted since
	head       int      // order[:head] are gone
	bytes      int64
	maxEntries int
	maxBytes   int64
}

// New returns a cache that holds at most maxEntries entries and maxBytes
// bytes (as Put's size arguments add up). Bounds below one shard's share
// are rounded up to one entry per shard.
func New[V any](maxEntries int, maxBytes int64) *Cache[V] {
	c := &Cache[V]{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i] = shard[V]{
			m:          map[string]entry[V]{},
			maxEntries: max(1, maxEntries/shards),
			maxBytes:   max(1, maxBytes/shards),
		}
	}
	return c
}

func (c *Cache[V]) shard(key string) *shard[V] {
	return &c.shards[maphash.String(c.seed, key)%shards]
}

// Get returns the value put under key at exactly version, if it is still
// there. An entry of another version is dropped.
func (c *Cache[V]) Get(key string, version uint64) (V, bool) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	if e.version != version {
		s.remove(key, e)
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put stores value under key for version, which the caller read before it
// read the value from the store. size is what the entry counts against
// the byte bound; a value larger than a shard's share of it is not kept.
func (c *Cache[V]) Put(key string, version uint64, value V, size int64) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if size > s.maxBytes {
		if e, ok := s.m[key]; ok {
			s.remove(key, e)
		}
		return
	}
	if e, ok := s.m[key]; ok {
		s.bytes -= e.size
	} else {
		s.order = append(s.order, key)
	}
	s.m[key] = entry[V]{value: value, version: version, size: size}
	s.bytes += size
	for len(s.m) > s.maxEntries || s.bytes > s.maxBytes {
		s.evictOldest()
	}
	s.compact()
}

// Delete drops key's entry, of whatever version.
func (c *Cache[V]) Delete(key string) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		s.remove(key, e)
	}
}

// DeleteFunc drops every entry whose value matches, for the changes a
// version does not cover (a user's sessions ended by this process).
func (c *Cache[V]) DeleteFunc(match func(V) bool) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			if match(e.value) {
				s.remove(k, e)
			}
		}
		s.mu.Unlock()
	}
}

// Len reports how many entries the cache holds and their bytes.
func (c *Cache[V]) Len() (entries int, bytes int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		entries += len(s.m)
		bytes += s.bytes
		s.mu.Unlock()
	}
	return entries, bytes
}

func (s *shard[V]) remove(key string, e entry[V]) {
	delete(s.m, key)
	s.bytes -= e.size
}

// evictOldest drops the oldest key in the insertion order that is still
// in the map.
func (s *shard[V]) evictOldest() {
	for s.head < len(s.order) {
		key := s.order[s.head]
		s.head++
		if e, ok := s.m[key]; ok {
			s.remove(key, e)
			return
		}
	}
}

// compact drops the consumed and deleted keys from the insertion order
// once they are the larger part of it, so it stays proportional to the
// entries held.
func (s *shard[V]) compact() {
	if len(s.order) < 64 || len(s.order) < 2*len(s.m) {
		return
	}
	kept := s.order[:0]
	seen := make(map[string]bool, len(s.m))
	for _, k := range s.order[s.head:] {
		if _, ok := s.m[k]; ok && !seen[k] {
			seen[k] = true
			kept = append(kept, k)
		}
	}
	clear(s.order[len(kept):])
	s.order, s.head = kept, 0
}
