package postgres_test

import (
	"context"
	"log"
	"time"

	"github.com/latchgo/latch/postgres"
)

// Open needs a running server, so this example is compiled but not run.
func ExampleOpen() {
	ctx := context.Background()
	// The schema is created or migrated as needed, once, however many
	// instances start at the same time.
	store, err := postgres.Open(ctx, "postgres://latch@127.0.0.1:5432/latch?sslmode=disable",
		postgres.WithMaxConns(20),
		postgres.WithConnectTimeout(5*time.Second),
		postgres.WithStatementTimeout(10*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// A health check, and the pool's state for metrics.
	if err := store.Ping(ctx); err != nil {
		log.Print(err)
	}
	st := store.Stats()
	log.Printf("connections: %d in use, %d idle, %d max", st.AcquiredConns, st.IdleConns, st.MaxConns)
}
