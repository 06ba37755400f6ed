package sqlite

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"

	"github.com/latchgo/latch"
)

// pollInterval is how often the change watcher asks SQLite whether another
// connection committed: several times within latch.MaxStaleness, so that
// one slow poll does not turn the managers' caches off.
const pollInterval = 15 * time.Millisecond

// changes is the Store's change feed for latch.ChangeTracker.
//
// Writes of this Store move the version themselves, before they return.
// Writes of other processes on the same file (the latch command line next
// to the server, a second server) are seen by polling PRAGMA data_version
// on a connection of the watcher's own: SQLite changes its value for that
// connection whenever any other connection has committed. confirmed is when
// the last successful poll started: every commit before it is reflected in
// the version.
type changes struct {
	version   atomic.Uint64
	confirmed atomic.Int64 // unix nanoseconds; 0: never, or the watcher failed
	stop      chan struct{}
	done      chan struct{}
}

// changed moves the version after a write of this Store. Callers defer
// it, so it runs after the write has committed (or failed: a spurious
// move costs only cache misses).
func (s *Store) changed() { s.changes.version.Add(1) }

// Changes implements [latch.ChangeTracker]. It is sure while the watcher
// has polled within latch.MaxStaleness.
func (s *Store) Changes() (uint64, bool) {
	// confirmed first: a poll moves the version before it confirms, so a
	// fresh confirmation is never paired with the version from before the
	// change it saw.
	c := s.changes.confirmed.Load()
	v := s.changes.version.Load()
	return v, c != 0 && time.Since(time.Unix(0, c)) < latch.MaxStaleness
}

// watch polls data_version until stop is closed.
func (s *Store) watch() {
	defer close(s.changes.done)
	var (
		conn *sql.Conn
		last int64 = -1
	)
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		start := time.Now()
		if conn == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			conn, _ = s.read.Conn(ctx)
			cancel()
			last = -1
		}
		if conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			var v int64
			err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
			cancel()
			if err != nil {
				// Unsure until a new connection has polled.
				s.changes.confirmed.Store(0)
				conn.Close()
				conn = nil
			} else {
				if v != last {
					// The first poll of a connection has nothing to compare
					// with: count it as a change.
					s.changes.version.Add(1)
					last = v
				}
				s.changes.confirmed.Store(start.UnixNano())
			}
		}
		select {
		case <-s.changes.stop:
			s.changes.confirmed.Store(0)
			return
		case <-tick.C:
		}
	}
}
