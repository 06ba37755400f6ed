package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/sqlite"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "latch-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	// The file is created and migrated if needed.
	store, err := sqlite.OpenAccounts(ctx, filepath.Join(dir, "latch.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	u := &account.User{
		Username:     "alice",
		Email:        "alice@example.com",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$...",
		CreatedAt:    time.Now(),
	}
	if err := store.CreateUser(ctx, u); err != nil {
		log.Fatal(err)
	}
	found, err := store.UserByEmail(ctx, "Alice@Example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found.Username, found.ID == u.ID)
	// Output: alice true
}
