package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/latchgo/latch/account"
)

// Usernames checks that an [account.Store] keeps usernames apart by their
// skeletons (account.UsernameSkeleton): a name a reader could not tell
// from a taken one is taken too, even between racing sign-ups, while
// lookups by username stay exact (case-insensitively).
func Usernames(t *testing.T, newStore func(t *testing.T) account.Store) {
	t.Run("LookAlikeRefused", func(t *testing.T) { testLookAlikeRefused(t, newStore(t)) })
	t.Run("UsernameTaken", func(t *testing.T) { testUsernameTaken(t, newStore(t)) })
	t.Run("LookAlikeRace", func(t *testing.T) { testLookAlikeRace(t, newStore(t)) })
}

func testLookAlikeRefused(t *testing.T, s account.Store) {
	mustCreateUser(t, s, newUser("llbill"))
	for _, name := range []string{"lIbill", "l1bill", "LLBILL"} {
		u := newUser(name)
		u.Email = "other-" + u.Email
		if err := s.CreateUser(t.Context(), u); !errors.Is(err, account.ErrUsernameTaken) {
			t.Errorf("CreateUser(%q) beside llbill = %v, want ErrUsernameTaken", name, err)
		}
	}
	if _, err := s.UserByUsername(t.Context(), "lIbill"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("UserByUsername(%q) = %v, want ErrNotFound: lookups are by the name itself", "lIbill", err)
	}
	mustCreateUser(t, s, newUser("llbil")) // a different name
}

func testUsernameTaken(t *testing.T, s account.Store) {
	mustCreateUser(t, s, newUser("modern"))
	for name, want := range map[string]bool{"modern": true, "MODERN": true, "rnodern": true, "moderns": false, "other": false} {
		got, err := s.UsernameTaken(t.Context(), name)
		if err != nil || got != want {
			t.Errorf("UsernameTaken(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
}

func testLookAlikeRace(t *testing.T, s account.Store) {
	names := []string{"alice", "aIice", "a1ice"}
	var (
		wg      sync.WaitGroup
		created atomic.Int64
	)
	for i := range 9 {
		wg.Go(func() {
			u := newUser(names[i%len(names)])
			u.Email = names[i%len(names)] + "-" + string(rune('a'+i)) + "@example.com"
			err := s.CreateUser(t.Context(), u)
			switch {
			case err == nil:
				created.Add(1)
			case !errors.Is(err, account.ErrUsernameTaken):
				t.Errorf("CreateUser(%q): %v", u.Username, err)
			}
		})
	}
	wg.Wait()
	if n := created.Load(); n != 1 {
		t.Errorf("%d of 9 racing sign-ups of look-alike names succeeded, want 1", n)
	}
}
