package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchgo/latch/internal/changefeed"
)

// The Store's change feed, for latch.ChangeTracker.
//
// Triggers on sessions and users notify the channel latch_changes with the
// schema as payload (migration 5), and every Store listens on a connection
// of its own. An empty statement on that connection every
// changefeed.Interval confirms the feed: the server delivers the
// notifications committed before a statement ahead of its answer, so once
// the answer to a statement sent at t is in, every change committed
// before t has been counted. A broken connection makes the feed unsure
// until a new one is listening (which counts as a change, since
// notifications may have been lost) and has answered.

const changesChannel = "latch_changes"

// FeedApplicationName is the application_name of the connection each Store
// keeps for its change feed.
const FeedApplicationName = "latch change feed"

// Changes implements [latch.ChangeTracker].
func (s *Store) Changes() (uint64, bool) { return s.feed.Changes() }

// listen connects, listens, and learns which schema is the Store's.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	cfg = cfg.Copy()
	// Named, so that an operator (or a test) can tell it in
	// pg_stat_activity.
	cfg.RuntimeParams["application_name"] = FeedApplicationName
	var schema string
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) {
		if n.Channel == changesChannel && n.Payload == schema {
			s.feed.Changed()
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	return conn, nil
}

// watch keeps the feed until ctx ends.
func (s *Store) watch(ctx context.Context, cfg *pgx.ConnConfig, done chan<- struct{}) {
	defer close(done)
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	tick := time.NewTicker(changefeed.Interval)
	defer tick.Stop()
	for {
		start := time.Now()
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		if conn == nil {
			if c, err := s.listen(rctx, cfg); err == nil {
				conn = c
				s.feed.Changed()
			}
		}
		if conn != nil {
			// Notifications that arrived before the answer run
			// OnNotification during Exec.
			if err := conn.Ping(rctx); err != nil {
				s.feed.Unsure()
				conn.Close(context.Background())
				conn = nil
			} else {
				s.feed.Confirm(start)
			}
		}
		cancel()
		select {
		case <-ctx.Done():
			s.feed.Unsure()
			return
		case <-tick.C:
		}
	}
}
