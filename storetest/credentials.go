package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch/account"
)

// Credentials checks an [account.CredentialStore], on a store that also
// keeps the users. newStore must return a fresh, empty store on each call.
//
// Beyond the interface's doc comments, the suite holds stores to these
// readings of them. Every method reports ErrNotFound when its id names no
// user (ids are matched as [Accounts] describes), ConfirmEmail included.
// SetEmail to the user's own address, in any case, succeeds and stores the
// new spelling. ConfirmEmail confirms again an address that is already
// confirmed (EmailConfirmedAt becomes the new time). TOTP time steps are
// positive, as Unix time / 30 is; the steps of different users are
// independent; UseTOTPStep is linearizable, so of concurrent calls with
// the same step exactly one succeeds, and after concurrent calls with
// different steps the latest of them is the one recorded.
func Credentials(t *testing.T, newStore func(t *testing.T) account.Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, account.Backend)
	}{
		{"SetEmail", testSetEmail},
		{"ConfirmEmail", testConfirmEmail},
		{"TOTP", testTOTP},
		{"UseTOTPStepConcurrent", testUseTOTPStepConcurrent},
		{"NotFound", testCredentialsNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func testCredentialsNotFound(t *testing.T, s account.Backend) {
	ctx := t.Context()
	u, gone := newUser("present"), newUser("gone")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, gone)
	if err := s.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	ids := []string{
		gone.ID, "", "0", "-1", "999999999", "9223372036854775807", "9223372036854775808",
		"abc", "1; DROP TABLE users", "' OR '1'='1", "%", "\x00", "\xff",
		u.ID + " ", " " + u.ID, "0" + u.ID, "+" + u.ID, u.ID + ".0", strings.Repeat("9", 400),
	}
	for _, id := range ids {
		wantNotFound(t, fmt.Sprintf("SetEmail(%q)", id), s.SetEmail(ctx, id, "stolen@example.com", time.Time{}))
		_, err := s.ConfirmEmail(ctx, id, u.Email, timeNow())
		wantNotFound(t, fmt.Sprintf("ConfirmEmail(%q)", id), err)
		wantNotFound(t, fmt.Sprintf("SetTOTP(%q)", id), s.SetTOTP(ctx, id, "JBSWY3DPEHPK3PXP"))
		_, err = s.UseTOTPStep(ctx, id, 58000000)
		wantNotFound(t, fmt.Sprintf("UseTOTPStep(%q)", id), err)
	}
	lookups(t, s, *u) // untouched by all of the above
	if _, err := s.UserByEmail(ctx, "stolen@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("UserByEmail of the address SetEmail was refused: error = %v, want ErrNotFound", err)
	}
	if ok, err := s.UseTOTPStep(ctx, u.ID, 58000000); err != nil || !ok {
		t.Errorf("UseTOTPStep of the present user = %v, %v; want true, nil", ok, err)
	}
}

func testSetEmail(t *testing.T, s account.Backend) {
	ctx := t.Context()
	u, other := newUser("mover"), newUser("neighbour")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	confirmed := timeNow().Add(-time.Minute)
	want := *u
	steps := []struct {
		name        string
		email       string
		confirmedAt time.Time
		err         error
	}{
		{"new address, unconfirmed", "Moved@Example.org", time.Time{}, nil},
		{"new address, confirmed", "moved.again@example.org", confirmed, nil},
		{"own address in another case", "MOVED.AGAIN@example.org", confirmed, nil},
		{"same address, now unconfirmed", "MOVED.AGAIN@example.org", time.Time{}, nil},
		{"another user's address in another case", "NEIGHBOUR@Example.com", confirmed, account.ErrEmailTaken},
		{"another user's address", other.Email, time.Time{}, account.ErrEmailTaken},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := s.SetEmail(ctx, u.ID, st.email, st.confirmedAt)
			switch {
			case st.err == nil && err != nil:
				t.Fatalf("SetEmail(%q): %v", st.email, err)
			case st.err != nil && !errors.Is(err, st.err):
				t.Fatalf("SetEmail(%q): error = %v, want one wrapping %v", st.email, err, st.err)
			case st.err == nil:
				if !strings.EqualFold(want.Email, st.email) {
					_, err := s.UserByEmail(ctx, want.Email)
					wantNotFound(t, "UserByEmail of the former address", err)
				}
				want.Email, want.EmailConfirmedAt = st.email, st.confirmedAt
			}
			lookups(t, s, want)
			lookups(t, s, *other)
		})
	}
}

func testConfirmEmail(t *testing.T, s account.Backend) {
	ctx := t.Context()
	u, other := newUser("confirmer"), newUser("bystander")
	u.Email = "Confirm.Me@Example.com"
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	want := *u
	t0 := timeNow()
	confirm := func(email string, at time.Time, wantOK bool) {
		t.Helper()
		ok, err := s.ConfirmEmail(ctx, u.ID, email, at)
		if err != nil {
			t.Fatalf("ConfirmEmail(%q): %v", email, err)
		}
		if ok != wantOK {
			t.Fatalf("ConfirmEmail(%q) while the address is %q = %v, want %v", email, want.Email, ok, wantOK)
		}
		if ok {
			want.EmailConfirmedAt = at
		}
		lookups(t, s, want)
		lookups(t, s, *other)
	}
	confirm("confirm.me@EXAMPLE.com", t0, true)
	confirm("someone.else@example.com", t0.Add(time.Second), false)
	confirm("Confirm.Me@Example.co", t0.Add(time.Second), false)
	confirm(u.Email, t0.Add(2*time.Second), true) // again: the new time

	// The address changed after the link was sent: the old link confirms
	// nothing.
	if err := s.SetEmail(ctx, u.ID, "new.address@example.com", time.Time{}); err != nil {
		t.Fatalf("SetEmail: %v", err)
	}
	want.Email, want.EmailConfirmedAt = "new.address@example.com", time.Time{}
	confirm(u.Email, t0.Add(3*time.Second), false)
	confirm("NEW.address@example.com", t0.Add(4*time.Second), true)

	// Another user's address is not this user's.
	ok, err := s.ConfirmEmail(ctx, other.ID, want.Email, t0)
	if err != nil || ok {
		t.Errorf("ConfirmEmail of another user's address = %v, %v; want false, nil", ok, err)
	}
	lookups(t, s, *other)
}

func testTOTP(t *testing.T, s account.Backend) {
	ctx := t.Context()
	u, other := newUser("twofactor"), newUser("bystander")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	const secret = "JBSWY3DPEHPK3PXP"
	if err := s.SetTOTP(ctx, u.ID, secret); err != nil {
		t.Fatalf("SetTOTP: %v", err)
	}
	want := *u
	want.TOTPSecret = secret
	lookups(t, s, want)
	lookups(t, s, *other)

	use := func(id string, step int64, wantOK bool) {
		t.Helper()
		ok, err := s.UseTOTPStep(ctx, id, step)
		if err != nil {
			t.Fatalf("UseTOTPStep(%d): %v", step, err)
		}
		if ok != wantOK {
			t.Errorf("UseTOTPStep(%d) = %v, want %v", step, ok, wantOK)
		}
	}
	steps := []struct {
		step int64
		want bool
	}{
		{58000000, true},  // first use
		{58000000, false}, // the same code again
		{57999999, false}, // an older code
		{1, false},
		{58000001, true}, // the next code
		{58000005, true},
		{58000004, false},
		{58000005, false},
	}
	for _, st := range steps {
		use(u.ID, st.step, st.want)
	}
	use(other.ID, 58000000, true) // steps are per user

	// Setting the secret forgets the last step, even when the secret is
	// the same (a new enrolment).
	if err := s.SetTOTP(ctx, u.ID, secret); err != nil {
		t.Fatalf("SetTOTP again: %v", err)
	}
	use(u.ID, 58000000, true)
	use(u.ID, 58000000, false)
	lookups(t, s, want)

	if err := s.SetTOTP(ctx, u.ID, ""); err != nil {
		t.Fatalf(`SetTOTP(""): %v`, err)
	}
	want.TOTPSecret = ""
	lookups(t, s, want)
	if mustUserByID(t, s, u.ID).TwoFactor() {
		t.Error(`after SetTOTP(""): TwoFactor() = true`)
	}
	use(u.ID, 58000000, true)
}

func testUseTOTPStepConcurrent(t *testing.T, s account.Backend) {
	ctx := t.Context()
	u := newUser("racer")
	mustCreateUser(t, s, u)
	if err := s.SetTOTP(ctx, u.ID, "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatalf("SetTOTP: %v", err)
	}
	// race runs UseTOTPStep(step(i)) for i in [0, 10) at once and returns
	// the steps that were accepted.
	race := func(step func(i int) int64) []int64 {
		t.Helper()
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			won []int64
		)
		for i := range 10 {
			wg.Go(func() {
				ok, err := s.UseTOTPStep(ctx, u.ID, step(i))
				if err != nil {
					t.Errorf("UseTOTPStep: %v", err)
					return
				}
				if ok {
					mu.Lock()
					won = append(won, step(i))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return won
	}

	// One code sent ten times at once (a replay racing the real login):
	// one use.
	if won := race(func(int) int64 { return 58000000 }); len(won) != 1 {
		t.Errorf("10 concurrent UseTOTPStep with the same step: %d succeeded, want exactly 1", len(won))
	}
	// Different steps at once: whichever order they are applied in, the
	// latest step ends up recorded, so no older code works afterwards.
	won := race(func(i int) int64 { return 58000010 + int64(i) })
	if !slices.Contains(won, 58000019) {
		t.Errorf("concurrent UseTOTPStep of steps 58000010..19 accepted %v, which lacks the latest", won)
	}
	for _, step := range []int64{58000019, 58000015, 58000010} {
		if ok, err := s.UseTOTPStep(ctx, u.ID, step); err != nil || ok {
			t.Errorf("UseTOTPStep(%d) after the race = %v, %v; want false, nil", step, ok, err)
		}
	}
	if ok, err := s.UseTOTPStep(ctx, u.ID, 58000020); err != nil || !ok {
		t.Errorf("UseTOTPStep(58000020) after the race = %v, %v; want true, nil", ok, err)
	}
}
