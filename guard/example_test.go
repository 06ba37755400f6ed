package guard_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/latchgo/latch/guard"
	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/sqlite"
	"github.com/latchgo/latch/throttle"
)

// An application with its own users guards its login form: the lookup is
// the application's own query, the answers map to its own responses.
func ExampleGuard_Check() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "guard-example-")
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "app.db")) // attempts live in latch_attempts
	if err != nil {
		panic(err)
	}
	defer store.Close()
	hasher := password.NewHasher(password.DefaultParams)
	g := guard.New(store, hasher)
	g.Account.Free = 3 // three wrong passwords per account, then back-off

	// The application's users: email → stored hash.
	annHash, _ := hasher.Hash(ctx, "ann's long passphrase")
	users := map[string]string{"ann@example.com": annHash}
	login := func(email, pw string) {
		_, err := g.Check(ctx, email, pw, "192.0.2.7", func(context.Context) (string, error) {
			h, ok := users[email] // SELECT pw_hash FROM users WHERE email = $1
			if !ok {
				return "", guard.ErrUnknownAccount
			}
			return h, nil
		})
		var limited *throttle.LimitError
		switch {
		case err == nil:
			fmt.Println("logged in") // m.LoginUser(w, r, u)
		case errors.Is(err, guard.ErrBadCredentials):
			fmt.Println("422 wrong email or password")
		case errors.As(err, &limited):
			fmt.Println("429 Retry-After:", throttle.RetryAfterSeconds(limited.RetryAfter))
		case errors.Is(err, password.ErrBusy):
			fmt.Println("503 busy")
		default:
			fmt.Println("500", err)
		}
	}
	login("nobody@example.com", "whatever") // unknown: the same answer, the same cost
	login("ann@example.com", "guess 1")
	login("ann@example.com", "guess 2")
	login("ann@example.com", "guess 3")
	login("ann@example.com", "ann's long passphrase") // must wait, even with the right password
	// Output:
	// 422 wrong email or password
	// 422 wrong email or password
	// 422 wrong email or password
	// 422 wrong email or password
	// 429 Retry-After: 1
}
