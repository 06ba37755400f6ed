package account_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/sqlite"
)

// openExampleStore opens a throwaway SQLite database for the examples.
func openExampleStore() (*sqlite.AccountStore, func()) {
	dir, _ := os.MkdirTemp("", "account-example-")
	st, err := sqlite.OpenAccounts(context.Background(), filepath.Join(dir, "example.db"))
	if err != nil {
		panic(err)
	}
	return st, func() { st.Close(); os.RemoveAll(dir) }
}

func ExampleService_SignUp() {
	st, done := openExampleStore()
	defer done()
	svc := account.NewService(st, password.NewHasher(password.DefaultParams), st)
	ctx := context.Background()

	_, err := svc.SignUp(ctx, account.SignUpInput{Username: "al", Email: "alice@", Password: "password"}, "192.0.2.1")
	var invalid *account.ValidationError
	if errors.As(err, &invalid) {
		fmt.Println("username:", invalid.Fields["username"])
		fmt.Println("email:", invalid.Fields["email"])
		fmt.Println("password:", invalid.Fields["password"])
	}
	u, err := svc.SignUp(ctx, account.SignUpInput{Username: "alice", Email: "alice@example.com", Password: "correct horse battery"}, "192.0.2.1")
	fmt.Println(u.Username, err)
	// Output:
	// username: Use 3 to 32 characters: letters, digits, and _ . -
	// email: Enter a valid email address, like name@example.com.
	// password: This password is too common; choose another.
	// alice <nil>
}

func ExampleService_Authenticate() {
	st, done := openExampleStore()
	defer done()
	svc := account.NewService(st, password.NewHasher(password.DefaultParams), st)
	ctx := context.Background()
	svc.SignUp(ctx, account.SignUpInput{Username: "alice", Email: "alice@example.com", Password: "correct horse battery"}, "192.0.2.1")

	u, err := svc.Authenticate(ctx, "ALICE@example.com", "correct horse battery", "192.0.2.1")
	fmt.Println(u.Username, err)
	_, err = svc.Authenticate(ctx, "alice@example.com", "wrong", "192.0.2.1")
	fmt.Println(err)
	_, err = svc.Authenticate(ctx, "nobody@example.com", "wrong", "192.0.2.1")
	fmt.Println(err) // the same answer, at the same cost
	// Output:
	// alice <nil>
	// wrong account or password
	// wrong account or password
}

func ExampleAPITokens() {
	st, done := openExampleStore()
	defer done()
	ctx := context.Background()
	svc := account.NewService(st, password.NewHasher(password.DefaultParams), nil)
	u, _ := svc.SignUp(ctx, account.SignUpInput{Username: "alice", Email: "alice@example.com", Password: "correct horse battery"}, "")

	tokens := account.NewAPITokens(st, st)
	secret, _, _ := tokens.Create(ctx, u, "backup script", 30*24*time.Hour) // show secret once

	// In a latch.Manager's RequestLoader:
	r := httptest.NewRequest("GET", "/api/me", nil)
	r.Header.Set("Authorization", "Bearer "+secret)
	if s, ok := account.BearerToken(r); ok {
		owner, err := tokens.Authenticate(ctx, s)
		fmt.Println(owner.Username, err)
	}
	// Output: alice <nil>
}

func ExampleTwoFactor() {
	st, done := openExampleStore()
	defer done()
	ctx := context.Background()
	svc := account.NewService(st, password.NewHasher(password.DefaultParams), nil)
	u, _ := svc.SignUp(ctx, account.SignUpInput{Username: "alice", Email: "alice@example.com", Password: "correct horse battery"}, "")

	tf := account.NewTwoFactor(st, st, st)
	enrol, _ := tf.NewEnrolment(u) // show enrol.QRCode and enrol.Secret
	code, _ := totp.GenerateCode(enrol.Secret, time.Now())
	recovery, err := tf.Enable(ctx, u, enrol.Secret, code)
	fmt.Println(len(recovery), "recovery codes", err)

	usedRecovery, err := tf.Verify(ctx, u, recovery[0]) // the second step of a login
	fmt.Println(usedRecovery, err)
	_, err = tf.Verify(ctx, u, recovery[0])
	fmt.Println(err)
	// Output:
	// 10 recovery codes <nil>
	// true <nil>
	// account: wrong or used code
}

// Revoke ends every credential of a user in one write: a stolen session,
// an API token made with it, a reset link mailed meanwhile. Sessions set
// it to the site's latch.Manager so that their rows are deleted as well.
func ExampleService_Revoke() {
	st, done := openExampleStore()
	defer done()
	svc := account.NewService(st, password.NewHasher(password.DefaultParams), st)
	tokens := account.NewAPITokens(st, st)
	ctx := context.Background()
	u, _ := svc.SignUp(ctx, account.SignUpInput{Username: "alice", Email: "alice@example.com", Password: "correct horse battery"}, "192.0.2.1")
	secret, _, _ := tokens.Create(ctx, u, "script", 0)

	if err := svc.Revoke(ctx, u); err != nil {
		fmt.Println(err)
	}
	_, err := tokens.Authenticate(ctx, secret)
	fmt.Println("epoch:", u.Epoch)
	fmt.Println("API token works:", err == nil)
	// Output:
	// epoch: 1
	// API token works: false
}

// Usernames that a reader cannot tell apart share a skeleton, and cannot
// both be taken.
func ExampleUsernameSkeleton() {
	fmt.Println(account.UsernameSkeleton("llbill") == account.UsernameSkeleton("lIbill"))
	fmt.Println(account.UsernameSkeleton("bob") == account.UsernameSkeleton("b0b"))
	fmt.Println(account.UsernameSkeleton("alice") == account.UsernameSkeleton("alicia"))
	// Output:
	// true
	// true
	// false
}
