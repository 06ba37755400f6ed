package redis

import (
	"context"
	"errors"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/latchgo/latch/internal/changefeed"
)

// The Store's change feed, for latch.ChangeTracker.
//
// Every script that writes a session publishes to <prefix>changes, and
// every instance's Store subscribes to it. A PING on the subscription
// connection every changefeed.Interval confirms the feed: Redis answers a
// PING on a connection after delivering everything published before it,
// so when the PONG of a PING sent at t comes back, every session write
// committed before t has been counted. A lost connection makes the feed
// unsure until go-redis has subscribed again (which counts as a change,
// since messages may have been lost) and a PING has come back.

// Changes implements [latch.ChangeTracker].
func (s *Store) Changes() (uint64, bool) { return s.feed.Changes() }

func (s *Store) changesChannel() string { return s.prefix + "changes" }

// watch receives the feed until ctx ends.
func (s *Store) watch(ctx context.Context, ps *goredis.PubSub, done chan<- struct{}) {
	defer close(done)
	pings := make(chan struct{})
	go func() {
		defer close(pings)
		tick := time.NewTicker(changefeed.Interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				// The payload is the send time: the PONG that echoes it
				// confirms everything published before then.
				_ = ps.Ping(ctx, strconv.FormatInt(time.Now().UnixNano(), 10))
			}
		}
	}()
	defer func() { <-pings }()
	for {
		msg, err := ps.ReceiveTimeout(ctx, 4*changefeed.Interval)
		if ctx.Err() != nil {
			s.feed.Unsure()
			return
		}
		if err != nil {
			var timeout interface{ Timeout() bool }
			if !errors.As(err, &timeout) || !timeout.Timeout() {
				// The connection broke; go-redis reconnects and subscribes
				// again on the next receive.
				s.feed.Unsure()
			}
			continue
		}
		switch m := msg.(type) {
		case *goredis.Message:
			s.feed.Changed()
		case *goredis.Subscription:
			// (Re)subscribed: anything published while unsubscribed was
			// missed.
			s.feed.Changed()
		case *goredis.Pong:
			if n, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
				s.feed.Confirm(time.Unix(0, n))
			}
		}
	}
}
