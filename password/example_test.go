package password_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchgo/latch/password"
)

// Hash a password at sign-up, verify it at login.
func ExampleHasher() {
	// One Hasher for the whole program: it bounds how many hashes run at
	// once. Adjust the admission control before first use if needed.
	h := password.NewHasher(password.DefaultParams)
	h.MaxWait = 2 * time.Second
	ctx := context.Background()

	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		fmt.Println("hash:", err)
		return
	}
	fmt.Println(strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$"))

	ok, needsRehash, err := h.Verify(ctx, "correct horse battery staple", encoded)
	fmt.Println(ok, needsRehash, err)

	ok, _, err = h.Verify(ctx, "Correct horse battery staple", encoded)
	fmt.Println(ok, err)
	// Output:
	// true
	// true false <nil>
	// false <nil>
}

// A login handler: verify, tell the client to come back when the hasher
// is saturated, and spend the same time on unknown accounts.
func ExampleHasher_Verify() {
	h := password.NewHasher(password.DefaultParams)
	ctx := context.Background()
	stored, _ := h.Hash(ctx, "tulips in the rain")

	login := func(found bool, encoded, typed string) string {
		if !found {
			// Unknown account: do the same work, then fail the same way.
			if err := h.DummyVerify(ctx, typed); errors.Is(err, password.ErrBusy) {
				return "busy"
			}
			return "wrong email or password"
		}
		ok, needsRehash, err := h.Verify(ctx, typed, encoded)
		var busy *password.BusyError
		switch {
		case errors.As(err, &busy):
			return fmt.Sprintf("503, Retry-After: %d", int(busy.RetryAfter.Seconds()))
		case err != nil:
			return "500" // malformed stored hash: log it, never show it
		case !ok:
			return "wrong email or password"
		case needsRehash:
			return "welcome (store a new hash)"
		}
		return "welcome"
	}
	fmt.Println(login(true, stored, "tulips in the rain"))
	fmt.Println(login(true, stored, "tulips in the rain "))
	fmt.Println(login(false, "", "tulips in the rain"))
	// Output:
	// welcome
	// wrong email or password
	// wrong email or password
}

// Vet a new password at sign-up, with the user's own words as context.
func ExamplePolicy_Check() {
	username, email := "alice", "alice.w@example.org"
	for _, pw := range []string{
		"short",
		"password123",
		"aaaaaaaaaaaa",
		"alice.w rocks!",
		"tulips in the rain",
	} {
		err := password.DefaultPolicy.Check(pw, username, email, "latch")
		var pe *password.PolicyError
		if errors.As(err, &pe) {
			fmt.Printf("%-20q %-10s %s\n", pw, pe.Reason, pe.Message)
			continue
		}
		fmt.Printf("%-20q accepted\n", pw)
	}
	// Output:
	// "short"              too short  Use at least 8 characters.
	// "password123"        common     This password is too common; choose another.
	// "aaaaaaaaaaaa"       repetitive Don't use one character repeated; choose another password.
	// "alice.w rocks!"     context-specific Don't use your username, email or the site's name in your password.
	// "tulips in the rain" accepted
}

// Users imported from a Flask site keep their werkzeug hashes; at their
// first login the hash verifies, asks for a rehash, and is replaced by
// argon2id.
func Example_importLegacyHash() {
	h := password.NewHasher(password.DefaultParams)
	ctx := context.Background()

	// As exported from the Flask application's user table.
	stored := "pbkdf2:sha256:260000$KXjz6re3o5USqhZS$f696c73ae064e067f60bc4998ac78204e61a7b07a42eef93ac6253529b8f2a12"
	format, _ := password.Identify(stored)
	fmt.Println("format:", format)

	typed := "correct horse battery staple"
	ok, needsRehash, err := h.Verify(ctx, typed, stored)
	fmt.Println("login:", ok, "needs rehash:", needsRehash, err)
	if ok && needsRehash {
		upgraded, err := h.Hash(ctx, typed)
		if err != nil {
			fmt.Println(err)
			return
		}
		stored = upgraded // save it in place of the old hash
	}
	format, _ = password.Identify(stored)
	ok, needsRehash, _ = h.Verify(ctx, typed, stored)
	fmt.Println("format:", format, "login:", ok, "needs rehash:", needsRehash)
	// Output:
	// format: werkzeug-pbkdf2
	// login: true needs rehash: true <nil>
	// format: argon2id login: true needs rehash: false
}
