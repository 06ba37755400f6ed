package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/latchgo/latch/account"
)

// RecoveryCodes checks an [account.RecoveryCodeStore], on a store that
// also keeps the users the codes belong to. newStore must return a fresh,
// empty store on each call.
//
// Beyond the interface's doc comments, the suite holds stores to these
// readings of them. Codes belong to an existing user: replacing the codes
// of a user id that names nobody is ErrNotFound. Codes are per user: two
// users may hold the same hash, and using one user's code leaves the
// other's. Of 10 concurrent uses of one code exactly one succeeds, and
// codes used while a new set replaces them leave exactly the new set. For an
// id that names nobody, UseRecoveryCode reports false and
// RecoveryCodes none, without error. Deleting a user deletes their codes.
func RecoveryCodes(t *testing.T, newStore func(t *testing.T) account.Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, account.Backend)
	}{
		{"UseOnce", testRecoveryUseOnce},
		{"Replace", testRecoveryReplace},
		{"UseConcurrent", testRecoveryUseConcurrent},
		{"ReplaceWhileUsing", testRecoveryReplaceWhileUsing},
		{"PerUser", testRecoveryPerUser},
		{"UnknownUser", testRecoveryUnknownUser},
		{"DeleteUser", testRecoveryDeleteUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// useCode uses the code and fails the test unless the result is want.
func useCode(t *testing.T, s account.RecoveryCodeStore, userID, hash string, want bool) {
	t.Helper()
	ok, err := s.UseRecoveryCode(t.Context(), userID, hash)
	if err != nil {
		t.Fatalf("UseRecoveryCode(%q, %q): %v", userID, hash, err)
	}
	if ok != want {
		t.Errorf("UseRecoveryCode(%q, %q) = %v, want %v", userID, hash, ok, want)
	}
}

func testRecoveryUseOnce(t *testing.T, s account.Backend) {
	u := newUser("locked.out")
	mustCreateUser(t, s, u)
	wantRecoveryCodesLeft(t, s, u.ID, 0)
	useCode(t, s, u.ID, "code-a", false)

	mustReplaceRecoveryCodes(t, s, u.ID, []string{"code-a", "code-b", "code-c"})
	wantRecoveryCodesLeft(t, s, u.ID, 3)
	if got, err := s.RecoveryCodes(t.Context(), u.ID); err != nil || !sameSet(got, []string{"code-a", "code-b", "code-c"}) {
		t.Errorf("RecoveryCodes = %q, %v; want the three stored", got, err)
	}
	for _, hash := range []string{"", "code-", "CODE-A", "code-a ", "%", "code_a", "\x00", "\xff"} {
		useCode(t, s, u.ID, hash, false)
	}
	wantRecoveryCodesLeft(t, s, u.ID, 3)

	useCode(t, s, u.ID, "code-b", true)
	useCode(t, s, u.ID, "code-b", false)
	wantRecoveryCodesLeft(t, s, u.ID, 2)
	useCode(t, s, u.ID, "code-a", true)
	useCode(t, s, u.ID, "code-c", true)
	wantRecoveryCodesLeft(t, s, u.ID, 0)
	useCode(t, s, u.ID, "code-a", false)
}

func testRecoveryReplace(t *testing.T, s account.Backend) {
	u := newUser("regenerator")
	mustCreateUser(t, s, u)
	mustReplaceRecoveryCodes(t, s, u.ID, []string{"old-1", "old-2", "old-3"})
	useCode(t, s, u.ID, "old-1", true)

	mustReplaceRecoveryCodes(t, s, u.ID, []string{"new-1", "new-2"})
	wantRecoveryCodesLeft(t, s, u.ID, 2)
	useCode(t, s, u.ID, "old-2", false)
	useCode(t, s, u.ID, "new-2", true)
	wantRecoveryCodesLeft(t, s, u.ID, 1)

	// A code that was used may come back in a new set, and is usable again.
	mustReplaceRecoveryCodes(t, s, u.ID, []string{"new-2", "new-3"})
	useCode(t, s, u.ID, "new-1", false)
	useCode(t, s, u.ID, "new-2", true)
	wantRecoveryCodesLeft(t, s, u.ID, 1)

	// An empty set turns recovery codes off.
	for _, empty := range [][]string{{}, nil} {
		mustReplaceRecoveryCodes(t, s, u.ID, empty)
		wantRecoveryCodesLeft(t, s, u.ID, 0)
		useCode(t, s, u.ID, "new-3", false)
	}

	// Ten codes, as a site issues them.
	var ten []string
	for i := range 10 {
		ten = append(ten, fmt.Sprintf("sha256:%064x", i))
	}
	mustReplaceRecoveryCodes(t, s, u.ID, ten)
	wantRecoveryCodesLeft(t, s, u.ID, 10)
	useCode(t, s, u.ID, ten[9], true)
	wantRecoveryCodesLeft(t, s, u.ID, 9)
}

func testRecoveryUseConcurrent(t *testing.T, s account.Backend) {
	u := newUser("racer")
	mustCreateUser(t, s, u)
	mustReplaceRecoveryCodes(t, s, u.ID, []string{"contested", "spare"})
	const workers = 10
	wins := raceOnce(t, workers, func() (bool, error) {
		return s.UseRecoveryCode(t.Context(), u.ID, "contested")
	})
	if wins != 1 {
		t.Errorf("%d concurrent UseRecoveryCode of one code: %d succeeded, want exactly 1", workers, wins)
	}
	wantRecoveryCodesLeft(t, s, u.ID, 1)
}

// testRecoveryReplaceWhileUsing: old codes used while a new set replaces
// them (a user regenerating codes while a stolen one is tried elsewhere).
// Whatever the interleaving, afterwards exactly the new set is left, and
// no old code works.
func testRecoveryReplaceWhileUsing(t *testing.T, s account.Backend) {
	u := newUser("regenerating")
	mustCreateUser(t, s, u)
	old := []string{"old-1", "old-2", "old-3", "old-4", "old-5", "old-6", "old-7", "old-8"}
	fresh := []string{"new-1", "new-2", "new-3"}
	mustReplaceRecoveryCodes(t, s, u.ID, old)
	var wg sync.WaitGroup
	for _, code := range old {
		wg.Go(func() {
			if _, err := s.UseRecoveryCode(t.Context(), u.ID, code); err != nil {
				t.Errorf("UseRecoveryCode(%q): %v", code, err)
			}
		})
	}
	wg.Go(func() {
		if err := s.ReplaceRecoveryCodes(t.Context(), u.ID, fresh); err != nil {
			t.Errorf("ReplaceRecoveryCodes: %v", err)
		}
	})
	wg.Wait()
	if got, err := s.RecoveryCodes(t.Context(), u.ID); err != nil || !sameSet(got, fresh) {
		t.Errorf("after the race: %q, %v; want exactly the new set", got, err)
	}
	for _, code := range old {
		useCode(t, s, u.ID, code, false)
	}
}

func testRecoveryPerUser(t *testing.T, s account.Backend) {
	u, other := newUser("first"), newUser("second")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	mustReplaceRecoveryCodes(t, s, u.ID, []string{"shared", "mine"})
	mustReplaceRecoveryCodes(t, s, other.ID, []string{"shared", "theirs", "more"})

	useCode(t, s, u.ID, "theirs", false)
	useCode(t, s, u.ID, "shared", true)
	wantRecoveryCodesLeft(t, s, u.ID, 1)
	wantRecoveryCodesLeft(t, s, other.ID, 3)
	useCode(t, s, other.ID, "shared", true)

	mustReplaceRecoveryCodes(t, s, u.ID, []string{"fresh"})
	wantRecoveryCodesLeft(t, s, other.ID, 2)
	useCode(t, s, other.ID, "theirs", true)
}

func testRecoveryUnknownUser(t *testing.T, s account.Backend) {
	ctx := t.Context()
	gone := newUser("gone")
	mustCreateUser(t, s, gone)
	if err := s.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	for _, id := range []string{gone.ID, "999999999", "abc", "0" + gone.ID, ""} {
		wantNotFound(t, fmt.Sprintf("ReplaceRecoveryCodes(%q)", id),
			s.ReplaceRecoveryCodes(ctx, id, []string{"code-of-" + id}))
		useCode(t, s, id, "code-of-"+id, false)
		wantRecoveryCodesLeft(t, s, id, 0)
	}
}

func testRecoveryDeleteUser(t *testing.T, s account.Backend) {
	ctx := t.Context()
	u, other := newUser("leaver"), newUser("stayer")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	mustReplaceRecoveryCodes(t, s, u.ID, []string{"a", "b"})
	mustReplaceRecoveryCodes(t, s, other.ID, []string{"a", "b"})
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	wantRecoveryCodesLeft(t, s, u.ID, 0)
	useCode(t, s, u.ID, "a", false)
	wantRecoveryCodesLeft(t, s, other.ID, 2)
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
