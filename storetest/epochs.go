package storetest

import (
	"slices"
	"sync"
	"testing"

	"github.com/latchgo/latch/account"
)

// Epochs checks the credential epoch of an [account.Backend]: it starts
// where CreateUser put it, RevokeCredentials raises it by one atomically
// (with the password hash and the deletion of the user's API tokens and
// one-time tokens in the same write), disabling a user raises it, and the
// records issued under an epoch keep it.
func Epochs(t *testing.T, newStore func(t *testing.T) account.Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, account.Backend)
	}{
		{"RevokeCredentials", testRevokeCredentials},
		{"RevokeCredentialsNotFound", testRevokeCredentialsNotFound},
		{"RevokeCredentialsConcurrent", testRevokeCredentialsConcurrent},
		{"DisableRaisesEpoch", testDisableRaisesEpoch},
		{"RecordsKeepTheirEpoch", testRecordsKeepTheirEpoch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func wantEpoch(t *testing.T, s account.Store, id string, want int64) *account.User {
	t.Helper()
	u := mustUserByID(t, s, id)
	if u.Epoch != want {
		t.Errorf("user %s: Epoch = %d, want %d", id, u.Epoch, want)
	}
	return u
}

func testRevokeCredentials(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u, other := newUser("revoked"), newUser("bystander")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	wantEpoch(t, s, u.ID, 0)
	for _, owner := range []*account.User{u, other} {
		mustCreateAPIToken(t, s, liveAPIToken("api-"+owner.Username, owner.ID, now))
		for _, p := range []account.Purpose{account.PurposeReset, account.PurposeConfirm} {
			mustCreateOneTimeToken(t, s, liveOneTimeToken(string(p)+"-"+owner.Username, owner.ID, p, now))
		}
	}

	epoch, err := s.RevokeCredentials(ctx, u.ID, "")
	if err != nil || epoch != 1 {
		t.Fatalf("RevokeCredentials = %d, %v; want 1, nil", epoch, err)
	}
	got := wantEpoch(t, s, u.ID, 1)
	if got.PasswordHash != u.PasswordHash {
		t.Errorf("RevokeCredentials with no new hash changed the hash to %q", got.PasswordHash)
	}
	_, err = s.APITokenByHash(ctx, "api-revoked", now)
	wantNotFound(t, "APITokenByHash of a revoked user's token", err)
	for _, p := range []account.Purpose{account.PurposeReset, account.PurposeConfirm} {
		_, err := s.ConsumeOneTimeToken(ctx, p, string(p)+"-revoked", now)
		wantNotFound(t, "ConsumeOneTimeToken of a revoked user's "+string(p)+" link", err)
	}
	// The other user keeps everything.
	wantEpoch(t, s, other.ID, 0)
	wantAPITokenFound(t, s, "api-bystander", now)
	if _, err := s.ConsumeOneTimeToken(ctx, account.PurposeReset, "reset-bystander", now); err != nil {
		t.Errorf("ConsumeOneTimeToken of another user's link: %v", err)
	}

	epoch, err = s.RevokeCredentials(ctx, u.ID, "$argon2id$new-hash")
	if err != nil || epoch != 2 {
		t.Fatalf("RevokeCredentials with a new hash = %d, %v; want 2, nil", epoch, err)
	}
	if got := wantEpoch(t, s, u.ID, 2); got.PasswordHash != "$argon2id$new-hash" {
		t.Errorf("PasswordHash = %q after RevokeCredentials with a new hash", got.PasswordHash)
	}
	// SetPasswordHash (a rehash of the same password) revokes nothing.
	if err := s.SetPasswordHash(ctx, u.ID, "$argon2id$rehashed"); err != nil {
		t.Fatal(err)
	}
	wantEpoch(t, s, u.ID, 2)
}

func testRevokeCredentialsNotFound(t *testing.T, s account.Backend) {
	for _, id := range []string{"999999", "abc", "", "07"} {
		_, err := s.RevokeCredentials(t.Context(), id, "")
		wantNotFound(t, "RevokeCredentials("+id+")", err)
	}
	u := newUser("gone")
	mustCreateUser(t, s, u)
	if err := s.DeleteUser(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.RevokeCredentials(t.Context(), u.ID, "")
	wantNotFound(t, "RevokeCredentials of a deleted user", err)
}

// testRevokeCredentialsConcurrent: every concurrent revocation gets its
// own epoch; none is lost.
func testRevokeCredentialsConcurrent(t *testing.T, s account.Backend) {
	u := newUser("busy")
	mustCreateUser(t, s, u)
	const workers = 20
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		epochs []int64
	)
	for range workers {
		wg.Go(func() {
			e, err := s.RevokeCredentials(t.Context(), u.ID, "")
			if err != nil {
				t.Errorf("RevokeCredentials: %v", err)
				return
			}
			mu.Lock()
			epochs = append(epochs, e)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(epochs)
	for i, e := range epochs {
		if e != int64(i+1) {
			t.Fatalf("epochs returned = %v, want 1..%d each once", epochs, workers)
		}
	}
	wantEpoch(t, s, u.ID, workers)
}

func testDisableRaisesEpoch(t *testing.T, s account.Backend) {
	ctx := t.Context()
	u := newUser("disabled")
	mustCreateUser(t, s, u)
	steps := []struct {
		disabled bool
		epoch    int64
	}{{true, 1}, {false, 1}, {false, 1}, {true, 2}, {true, 3}}
	for _, st := range steps {
		if err := s.SetDisabled(ctx, u.ID, st.disabled); err != nil {
			t.Fatal(err)
		}
		if got := wantEpoch(t, s, u.ID, st.epoch); got.Disabled != st.disabled {
			t.Errorf("Disabled = %v, want %v", got.Disabled, st.disabled)
		}
	}
}

func testRecordsKeepTheirEpoch(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u := newUser("epochs")
	u.Epoch = 4
	mustCreateUser(t, s, u)
	wantEpoch(t, s, u.ID, 4)
	tok := liveAPIToken("api-epoch", u.ID, now)
	tok.Epoch = 4
	mustCreateAPIToken(t, s, tok)
	if d := diffAPIToken(*wantAPITokenFound(t, s, tok.Hash, now), *tok); d != "" {
		t.Errorf("APITokenByHash: %s", d)
	}
	link := liveOneTimeToken("link-epoch", u.ID, account.PurposeConfirm, now)
	link.Epoch = 4
	mustCreateOneTimeToken(t, s, link)
	got, err := s.ConsumeOneTimeToken(ctx, link.Purpose, link.Hash, now)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffOneTimeToken(got, link); d != "" {
		t.Errorf("ConsumeOneTimeToken: %s", d)
	}
}
