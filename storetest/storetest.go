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
//			s, err := sqlite.OpenAccounts(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
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
// [Accounts] on their own; the suites of the other account interfaces
// ([Credentials], [APITokens], [OneTimeTokens], [RecoveryCodes], [Audit])
// take an [account.Backend], since what they keep belongs to users.
//
// The suite uses only the interfaces' public API and times near
// time.Now(), with millisecond precision, so that stores which expire
// records by themselves see realistic deadlines. Some tests run many
// goroutines at once; run the suite with -race.
package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/throttle"
)

// Backend is a store that keeps everything latch and its site need, as the
// sqlite and postgres packages provide.
type Backend interface {
	latch.Store
	throttle.Store
	account.Backend
}

// Run runs every suite of this package against the stores newStore
// returns, and checks that deleting a user removes everything the same
// store keeps for them: sessions, remember-me tokens, API tokens, one-time
// tokens, recovery codes and audit events.
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
	t.Run("Usernames", func(t *testing.T) {
		Usernames(t, func(t *testing.T) account.Store { return newStore(t) })
	})
	backend := func(t *testing.T) account.Backend { return newStore(t) }
	t.Run("Credentials", func(t *testing.T) { Credentials(t, backend) })
	t.Run("APITokens", func(t *testing.T) { APITokens(t, backend) })
	t.Run("OneTimeTokens", func(t *testing.T) { OneTimeTokens(t, backend) })
	t.Run("RecoveryCodes", func(t *testing.T) { RecoveryCodes(t, backend) })
	t.Run("Audit", func(t *testing.T) { Audit(t, backend) })
	t.Run("Passkeys", func(t *testing.T) { Passkeys(t, backend) })
	t.Run("Epochs", func(t *testing.T) { Epochs(t, backend) })
	t.Run("DeleteUserRemovesEverything", func(t *testing.T) {
		testDeleteUserRemovesEverything(t, newStore(t))
	})
}

func testDeleteUserRemovesEverything(t *testing.T, s Backend) {
	ctx := t.Context()
	now := timeNow()
	u := newUser("gone")
	other := newUser("stays")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)

	mustCreateSession(t, s, liveSession("s-gone", u.ID, now))
	mustCreateSession(t, s, liveSession("s-stays", other.ID, now))
	mustCreateRemember(t, s, liveToken("r-gone", u.ID, "series-gone", now))
	mustCreateRemember(t, s, liveToken("r-stays", other.ID, "series-stays", now))
	for _, owner := range []*account.User{u, other} {
		mustCreateAPIToken(t, s, liveAPIToken("api-"+owner.Username, owner.ID, now))
		for _, p := range []account.Purpose{account.PurposeReset, account.PurposeConfirm} {
			mustCreateOneTimeToken(t, s, liveOneTimeToken(string(p)+"-"+owner.Username, owner.ID, p, now))
		}
		mustReplaceRecoveryCodes(t, s, owner.ID, []string{"code-1", "code-2"})
		mustAddAuditEvent(t, s, &account.AuditEvent{UserID: owner.ID, Kind: "login_ok", At: now})
	}
	anon := &account.AuditEvent{Kind: "login_failed", At: now}
	mustAddAuditEvent(t, s, anon)

	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	wantSession(t, s, "s-gone", now, false)
	wantSession(t, s, "s-stays", now, true)
	wantRemember(t, s, "r-gone", now, false)
	wantRemember(t, s, "r-stays", now, true)

	_, err := s.APITokenByHash(ctx, "api-gone", now)
	wantNotFound(t, "APITokenByHash of a deleted user's token", err)
	wantAPITokenFound(t, s, "api-stays", now)
	for _, p := range []account.Purpose{account.PurposeReset, account.PurposeConfirm} {
		_, err := s.ConsumeOneTimeToken(ctx, p, string(p)+"-gone", now)
		wantNotFound(t, fmt.Sprintf("ConsumeOneTimeToken of a deleted user's %s token", p), err)
		if _, err := s.ConsumeOneTimeToken(ctx, p, string(p)+"-stays", now); err != nil {
			t.Errorf("ConsumeOneTimeToken of another user's %s token: %v", p, err)
		}
	}
	wantRecoveryCodesLeft(t, s, u.ID, 0)
	wantRecoveryCodesLeft(t, s, other.ID, 2)
	wantAuditKinds(t, s, u.ID, nil)
	wantAuditKinds(t, s, other.ID, []string{"login_ok"})
	// The anonymous event is still there: deleting events before a moment
	// after it counts it (and the other user's).
	if n, err := s.DeleteAuditEventsBefore(ctx, now.Add(time.Millisecond)); err != nil || n != 2 {
		t.Errorf("DeleteAuditEventsBefore after DeleteUser = %d, %v; want 2 (the other user's and the anonymous event)", n, err)
	}
}
