package account_test

// Regression tests for the review's findings on rate limits: every limit
// records an attempt before deciding on it, so bursts, and instances
// sharing a store, get no more tries than one client in sequence; and IPv6
// clients count per /64.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/password"
)

// outcomes counts the errors of concurrent calls by kind.
type outcomes struct {
	bad, limited, other, ok atomic.Int64
}

func (o *outcomes) add(err error, bad error) {
	var limit *account.LimitError
	switch {
	case err == nil:
		o.ok.Add(1)
	case errors.Is(err, bad):
		o.bad.Add(1)
	case errors.As(err, &limit):
		o.limited.Add(1)
	default:
		o.other.Add(1)
	}
}

// parallel runs fn n times at once.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// A burst of 500 wrong codes gets no more codes checked than
// TwoFactorLimit allows (the review saw 184 checked).
func TestReview_TwoFactorBurstBounded(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	u := r.user(t, "alice")
	enrol, _ := r.tf.NewEnrolment(u)
	code, _ := totp.GenerateCode(enrol.Secret, r.clock.Now())
	if _, err := r.tf.Enable(ctx, u, enrol.Secret, code); err != nil {
		t.Fatal(err)
	}
	var o outcomes
	parallel(500, func(int) {
		_, err := r.tf.Verify(ctx, u, "000000")
		o.add(err, account.ErrBadCode)
	})
	if o.other.Load() > 0 || o.bad.Load() > int64(account.TwoFactorLimit.Free) {
		t.Fatalf("500 concurrent wrong codes: %d checked, %d limited, %d other errors; at most %d may be checked",
			o.bad.Load(), o.limited.Load(), o.other.Load(), account.TwoFactorLimit.Free)
	}
	// A right code gives its attempt back: it does not count.
	r.clock.Advance(account.TwoFactorLimit.Window)
	for range account.TwoFactorLimit.Free + 2 {
		r.clock.Advance(31 * time.Second) // a code works once
		code, _ := totp.GenerateCode(enrol.Secret, r.clock.Now())
		if _, err := r.tf.Verify(ctx, u, code); err != nil {
			t.Fatalf("right codes counted against the limit: %v", err)
		}
	}
}

// 100 concurrent reset requests for one address send at most
// MailAddressLimit.Free mails (the review saw 29).
func TestReview_ResetMailBurstBounded(t *testing.T) {
	r := newRecoveryEnv(t)
	ctx := context.Background()
	r.user(t, "alice")
	var o outcomes
	parallel(100, func(i int) {
		// Many clients: only the per-address limit can hold.
		err := r.rec.RequestReset(ctx, "alice@example.com", fmt.Sprintf("198.51.100.%d", i))
		o.add(err, errNever)
	})
	if o.other.Load() > 0 {
		t.Fatalf("%d unexpected errors", o.other.Load())
	}
	if o.ok.Load() > int64(account.MailAddressLimit.Free) {
		t.Fatalf("%d of 100 concurrent reset requests accepted, want at most %d", o.ok.Load(), account.MailAddressLimit.Free)
	}
	mails := r.mail.wait(t, int(o.ok.Load()))
	time.Sleep(50 * time.Millisecond) // and no more come
	if n := r.mail.count(); n != len(mails) || n > account.MailAddressLimit.Free {
		t.Fatalf("%d mails sent to one address, want at most %d", n, account.MailAddressLimit.Free)
	}
}

var errNever = errors.New("never")

// Concurrent sign-ups from one client are bounded by the SignUp rule.
func TestReview_SignUpBurstBounded(t *testing.T) {
	e := newEnv(t)
	e.svc.Limits.SignUp.Free = 3
	ctx := context.Background()
	var o outcomes
	parallel(30, func(i int) {
		_, err := e.svc.SignUp(ctx, account.SignUpInput{
			Username: fmt.Sprintf("user%d", i), Email: fmt.Sprintf("user%d@example.com", i), Password: goodPassword,
		}, "192.0.2.9")
		o.add(err, password.ErrBusy)
	})
	if o.ok.Load() > 3 || o.other.Load() > 0 {
		t.Fatalf("30 concurrent sign-ups from one client: %d created, %d limited, %d busy, %d other; want at most 3",
			o.ok.Load(), o.limited.Load(), o.bad.Load(), o.other.Load())
	}
}

// Two Services over one store are two instances: a burst of wrong
// passwords for one account spread over both checks no more passwords
// than LoginAccount allows (the review saw 20 across two instances).
func TestReview_LoginLimitAcrossInstances(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	other := account.NewService(e.store, password.NewHasher(fastParams), e.store)
	other.Now = e.clock.Now
	ctx := context.Background()
	var o outcomes
	parallel(60, func(i int) {
		svc := []*account.Service{e.svc, other}[i%2]
		_, err := svc.Authenticate(ctx, "alice@example.com", fmt.Sprintf("guess %d", i), fmt.Sprintf("203.0.113.%d", i))
		o.add(err, account.ErrBadCredentials)
	})
	if o.other.Load() > 0 || o.bad.Load() > int64(account.DefaultLimits.LoginAccount.Free) {
		t.Fatalf("60 concurrent guesses over two instances: %d checked, %d limited, %d other; at most %d may be checked",
			o.bad.Load(), o.limited.Load(), o.other.Load(), account.DefaultLimits.LoginAccount.Free)
	}
}

// 36 addresses of one /64 are one client: the per-client limit holds.
func TestReview_IPv6ClientsCountPerSlash64(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	limited := 0
	for i := range 36 {
		// Different accounts, so that only the per-client limit applies.
		ip := fmt.Sprintf("2001:db8:1:2:%x::%x", i*7+1, i+1)
		_, err := e.svc.Authenticate(ctx, fmt.Sprintf("nobody%d@example.com", i), "wrong", ip)
		var limit *account.LimitError
		if errors.As(err, &limit) {
			limited++
		} else if !errors.Is(err, account.ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	if want := 36 - account.DefaultLimits.LoginClient.Free; limited != want {
		t.Fatalf("36 failures from one /64: %d limited, want %d", limited, want)
	}
	// Another /64 is another client.
	if _, err := e.svc.Authenticate(ctx, "nobody@example.com", "wrong", "2001:db8:1:3::1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("a neighbouring /64: %v", err)
	}
}

// A right password clears the account's failures (9 wrong, 1 right, then
// 10 more wrong are all checked) and does not use up the client's budget
// (40 right logins from one address are all accepted).
func TestReview_SuccessResetsAccountAndSparesClient(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	ctx := context.Background()
	free := account.DefaultLimits.LoginAccount.Free
	for i := range free - 1 {
		if _, err := e.svc.Authenticate(ctx, "alice@example.com", "wrong", fmt.Sprintf("203.0.113.%d", i)); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if _, err := e.svc.Authenticate(ctx, "alice@example.com", goodPassword, "203.0.113.200"); err != nil {
		t.Fatal(err)
	}
	for i := range free {
		if _, err := e.svc.Authenticate(ctx, "alice@example.com", "wrong", fmt.Sprintf("203.0.114.%d", i)); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("failure %d after a right password: %v (the success did not clear the account's failures)", i+1, err)
		}
	}
	b := newEnv(t)
	b.user(t, "bob")
	for i := range account.DefaultLimits.LoginClient.Free + 10 {
		if _, err := b.svc.Authenticate(ctx, "bob@example.com", goodPassword, "192.0.2.50"); err != nil {
			t.Fatalf("right login %d from one client: %v", i+1, err)
		}
	}
}
