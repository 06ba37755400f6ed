package redis_test

import (
	"context"
	"log"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/redis"
	"github.com/latchgo/latch/sqlite"
)

// Sessions and rate limits in Redis, remember-me tokens and accounts in
// SQL. Open needs a running server, so this example is compiled but not
// run.
func ExampleOpen() {
	ctx := context.Background()
	sessions, err := redis.Open(ctx, "redis://127.0.0.1:6379/0?pool_size=50",
		redis.WithPrefix("mysite:"))
	if err != nil {
		log.Fatal(err)
	}
	defer sessions.Close()

	db, err := sqlite.OpenAccounts(ctx, "latch.db") // or postgres.OpenAccounts
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store := latch.JoinStores(sessions, db)
	_ = store // give it to latch.New, and sessions to throttle.New
}
