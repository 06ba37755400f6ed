// Package storetest is the conformance suite that every latch storage
// backend runs, in the manner of [testing/fstest.TestFS]: each function
// takes the test's *testing.T and a constructor, and checks every method
// of one interface, with its documented error and edge cases, in subtests.
//
// A backend's own tests call it with a constructor that returns a fresh,
// empty store on every call, registering its clean-up with t.Cleanup:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Backend {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// A backend that shares one server between calls (PostgreSQL, Redis) gives
// each call its own schema or key prefix. A backend that implements only
// some of the interfaces calls [Sessions], [Remember], [Attempts] or
// [Accounts] on their own.
//
// The suite uses only the interfaces' public API and times near
// time.Now(), with millisecond precision, so that stores which expire
// records by themselves see realistic deadlines. Some tests run many
// goroutines at once; run the suite with -race.
package storetest

import (
	"testing"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/throttle"
)

// Backend is a store that keeps everything latch and its site need, as the
// sqlite and postgres packages provide.
type Backend interface {
	latch.Store
	throttle.Store
	account.Store
}

// Run runs [Sessions], [Remember], [Attempts] and [Accounts] against the
// stores newStore returns, and checks that deleting a user removes the
// sessions and remember-me tokens the same store keeps for them.
func Run(t *testing.T, newStore func(t *testing.T) Backend) {
	t.Run("Sessions", func(t *testing.T) {
		Sessions(t, func(t *testing.T) latch.SessionStore { return newStore(t) })
	})
	t.Run("Remember", func(t *testing.T) {
		Remember(t, func(t *testing.T) latch.RememberStore { return newStore(t) })
	})
	t.Run("Attempts", func(t *testing.T) {
		Attempts(t, func(t *testing.T) throttle.Store { return newStore(t) })
	})
	t.Run("Accounts", func(t *testing.T) {
		Accounts(t, func(t *testing.T) account.Store { return newStore(t) })
	})
	t.Run("DeleteUserRemovesSessionsAndTokens", func(t *testing.T) {
		testDeleteUserRemovesSessions(t, newStore(t))
	})
}

func testDeleteUserRemovesSessions(t *testing.T, s Backend) {
	ctx := t.Context()
	now := timeNow()
	u := newUser("gone")
	other := newUser("stays")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)

	mustSaveSession(t, s, liveSession("s-gone", u.ID, now))
	mustSaveSession(t, s, liveSession("s-stays", other.ID, now))
	mustCreateRemember(t, s, liveToken("r-gone", u.ID, "series-gone", now))
	mustCreateRemember(t, s, liveToken("r-stays", other.ID, "series-stays", now))

	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	wantSession(t, s, "s-gone", now, false)
	wantSession(t, s, "s-stays", now, true)
	wantRemember(t, s, "r-gone", now, false)
	wantRemember(t, s, "r-stays", now, true)
}
