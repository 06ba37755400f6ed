// Package changefeed is the bookkeeping behind the stores' implementations
// of latch.ChangeTracker: a version that grows with every change the
// store learns of, and the moment up to which it is sure it has learnt of
// every change.
//
// A store calls Changed after each of its own writes (before the write
// method returns) and for each change another process announces (a
// notification, a published message, a changed data_version), and
// Confirm with the time a round trip to its feed started once the round
// trip has come back: everything another process committed before then
// has been counted. Changes is sure only while the last confirmation is
// younger than latch.MaxStaleness; a feed that stops answering turns the
// caches off by itself.
package changefeed

import (
	"sync/atomic"
	"time"
)

// MaxStaleness is latch.MaxStaleness (the root package imports this one,
// so it cannot be imported here).
const MaxStaleness = 60 * time.Millisecond

// Interval is how often a store confirms its feed: several times within
// MaxStaleness, so that one slow round trip does not turn the caches off.
const Interval = 15 * time.Millisecond

// Feed is one store's change version. The zero value is unsure, at
// version 0.
type Feed struct {
	version   atomic.Uint64
	confirmed atomic.Int64 // unix nanoseconds; 0: unsure
}

// Changed counts a change.
func (f *Feed) Changed() { f.version.Add(1) }

// Confirm records that every change committed before since has been
// counted.
func (f *Feed) Confirm(since time.Time) { f.confirmed.Store(since.UnixNano()) }

// Unsure records that the feed was interrupted: nothing is vouched for
// until the next Confirm. The caller counts a change when it resumes,
// since changes may have been missed meanwhile.
func (f *Feed) Unsure() { f.confirmed.Store(0) }

// Changes implements latch.ChangeTracker.
func (f *Feed) Changes() (uint64, bool) {
	// confirmed first: Changed comes before Confirm for a change a round
	// trip brought, so a fresh confirmation is never paired with the
	// version from before that change.
	c := f.confirmed.Load()
	v := f.version.Load()
	return v, c != 0 && time.Since(time.Unix(0, c)) < MaxStaleness
}
