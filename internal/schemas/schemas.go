// Package schemas holds what latch's SQL backends (sqlite, postgres)
// share about their tables: the sets of tables, each with its own
// migrations and goose version table, and the conversion of an earlier
// latch's tables.
package schemas

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/latchgo/latch/account"
)

// A Set is one set of latch's tables: its migrations (a directory of the
// backend's embedded files) and the goose version table that records them.
// Each set has its own, so that latch's migrations never mix with an
// application's (or goose's default table) in the same database.
type Set struct {
	Dir, Versions string
}

var (
	// Sessions are the tables of the session store.
	Sessions = Set{"migrations/sessions", "latch_schema_sessions"}
	// Accounts are the tables of the account package.
	Accounts = Set{"migrations/accounts", "latch_schema_accounts"}
	// Legacy is how latch kept its tables before they had their prefix:
	// unprefixed names, goose's default version table. Its migrations
	// only bring such a database to its last state before it is
	// converted, never make a new one.
	Legacy = Set{"migrations/legacy", goose.DefaultTablename}
)

// User is a converted user: its id and username.
type User struct {
	ID       int64
	Username string
}

// Skeletons returns the username skeleton of each user, in order. Users
// who signed up before skeletons were checked may share one: each later
// user of a skeleton gets it with "#" and its id appended, so that the
// column can be unique and every user keeps the account. Such a suffix
// can never be a new user's skeleton, since usernames hold no '#'. users
// should be in the order they signed up, so the first keeps the plain
// skeleton.
func Skeletons(users []User) []string {
	out := make([]string, len(users))
	seen := make(map[string]bool, len(users))
	for i, u := range users {
		k := account.UsernameSkeleton(u.Username)
		if seen[k] {
			k += "#" + strconv.FormatInt(u.ID, 10)
		}
		seen[k] = true
		out[i] = k
	}
	return out
}

// StampFirstVersion creates the set's version table through store (a goose
// store of the backend's dialect for s.Versions) and records the set's
// first migration as applied, in tx: for tables converted from Legacy,
// which are what that migration creates.
func StampFirstVersion(ctx context.Context, tx *sql.Tx, store database.Store) error {
	if err := store.CreateVersionTable(ctx, tx); err != nil {
		return err
	}
	for _, v := range []int64{0, 1} {
		if err := store.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return err
		}
	}
	return nil
}
