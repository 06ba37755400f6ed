package storetest

import (
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

// Changes checks a store's [latch.ChangeTracker]: every write of sessions
// (and, for a store that keeps users, of users) moves the version before
// it returns, and a write through another handle on the same database —
// another process, another instance — is reflected within
// latch.MaxStaleness, or the store admits it is unsure (ok=false).
//
// newPair returns two handles on one fresh database (two Opens of the same
// file, schema, or key prefix); both must implement latch.ChangeTracker.
func Changes(t *testing.T, newPair func(t *testing.T) (a, b latch.SessionStore)) {
	t.Run("LocalWrites", func(t *testing.T) {
		a, _ := newPair(t)
		testLocalChanges(t, a)
	})
	t.Run("OtherHandle", func(t *testing.T) {
		a, b := newPair(t)
		testOtherHandleChanges(t, a, b)
	})
}

// write is one write of a store, by name.
type write struct {
	name string
	fn   func() error
}

func tracker(t *testing.T, s latch.SessionStore) latch.ChangeTracker {
	t.Helper()
	c, ok := s.(latch.ChangeTracker)
	if !ok {
		t.Fatalf("%T does not implement latch.ChangeTracker", s)
	}
	return c
}

// sureVersion waits (up to a second) for the store to vouch for its
// version and returns it.
func sureVersion(t *testing.T, c latch.ChangeTracker) uint64 {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		if v, ok := c.Changes(); ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatal("the store did not vouch for its version within a second of opening")
		}
		time.Sleep(time.Millisecond)
	}
}

func testLocalChanges(t *testing.T, s latch.SessionStore) {
	ctx := t.Context()
	now := timeNow()
	c := tracker(t, s)
	sureVersion(t, c)
	steps := []write{
		{"CreateSession", func() error { return s.CreateSession(ctx, liveSession("h1", "7", now)) }},
		{"UpdateSession", func() error { _, err := s.UpdateSession(ctx, liveSession("h1", "7", now)); return err }},
		{"TouchSession", func() error { return s.TouchSession(ctx, "h1", now, now.Add(time.Hour)) }},
		{"DeleteSession", func() error { return s.DeleteSession(ctx, "h1") }},
		{"DeleteUserSessions", func() error { _, err := s.DeleteUserSessions(ctx, "7", ""); return err }},
		{"DeleteSeriesSessions", func() error { return s.DeleteSeriesSessions(ctx, "S") }},
	}
	if us, ok := s.(account.Store); ok {
		u := newUser("tracked")
		steps = append(steps,
			write{"CreateUser", func() error { return us.CreateUser(ctx, u) }},
			write{"RevokeCredentials", func() error { _, err := us.RevokeCredentials(ctx, u.ID, ""); return err }},
			write{"SetDisabled", func() error { return us.SetDisabled(ctx, u.ID, true) }},
			write{"DeleteUser", func() error { return us.DeleteUser(ctx, u.ID) }},
		)
	}
	for _, st := range steps {
		before, _ := c.Changes()
		if err := st.fn(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if after, _ := c.Changes(); after <= before {
			t.Errorf("%s returned, but the version did not move (%d → %d)", st.name, before, after)
		}
	}
}

func testOtherHandleChanges(t *testing.T, a, b latch.SessionStore) {
	ctx := t.Context()
	now := timeNow()
	cb := tracker(t, b)
	writes := []write{
		{"CreateSession", func() error { return a.CreateSession(ctx, liveSession("h1", "7", now)) }},
		{"UpdateSession", func() error { _, err := a.UpdateSession(ctx, liveSession("h1", "7", now)); return err }},
		{"DeleteUserSessions", func() error { _, err := a.DeleteUserSessions(ctx, "7", ""); return err }},
	}
	if us, ok := a.(account.Store); ok {
		u := newUser("elsewhere")
		mustCreateUser(t, us, u)
		writes = append(writes, write{"RevokeCredentials", func() error { _, err := us.RevokeCredentials(ctx, u.ID, ""); return err }})
	}
	for _, w := range writes {
		before := sureVersion(t, cb)
		if err := w.fn(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		done := time.Now()
		// The guarantee: once MaxStaleness has passed, the other handle
		// either reports the change or admits it cannot vouch.
		time.Sleep(latch.MaxStaleness)
		if v, ok := cb.Changes(); ok && v <= before {
			t.Errorf("%s through one handle: %v later the other still vouches for the version before it", w.name, time.Since(done).Round(time.Millisecond))
		}
		// And the feed works: the change arrives.
		deadline := time.Now().Add(2 * time.Second)
		for {
			if v, ok := cb.Changes(); ok && v > before {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s through one handle never reached the other", w.name)
			}
			time.Sleep(time.Millisecond)
		}
	}
}
