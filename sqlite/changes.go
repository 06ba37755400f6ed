package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchgo/latch/internal/changefeed"
)

// The Store's change feed, for latch.ChangeTracker.
//
// Writes of this Store move the version themselves, before they return.
// Writes of other processes on the same file (the latch command line next
// to the server, a second server) are seen by polling PRAGMA data_version
// on a connection of the watcher's own: SQLite changes its value for that
// connection whenever any other connection has committed.

// changed moves the version after a write of this Store. Callers defer
// it, so it runs after the write has committed (or failed: a spurious
// move costs only cache misses).
func (s *Store) changed() { s.feed.Changed() }

// Changes implements [latch.ChangeTracker]. It is sure while the watcher
// has polled within latch.MaxStaleness.
func (s *Store) Changes() (uint64, bool) { return s.feed.Changes() }

// watch polls data_version until stop is closed.
func (s *Store) watch(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	var (
		conn *sql.Conn
		last int64
	)
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	tick := time.NewTicker(changefeed.Interval)
	defer tick.Stop()
	for {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fresh := false
		if conn == nil {
			conn, _ = s.read.Conn(ctx)
			fresh = true
		}
		if conn != nil {
			var v int64
			if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
				// Unsure until a new connection has polled.
				s.feed.Unsure()
				conn.Close()
				conn = nil
			} else {
				// A new connection has nothing to compare with: count a
				// change, since some may have been missed.
				if fresh || v != last {
					s.feed.Changed()
					last = v
				}
				s.feed.Confirm(start)
			}
		}
		cancel()
		select {
		case <-stop:
			s.feed.Unsure()
			return
		case <-tick.C:
		}
	}
}
