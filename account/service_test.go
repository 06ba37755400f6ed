package account_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/password"
)

func TestSignUpValidation(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	tests := []struct {
		name            string
		in              account.SignUpInput
		fields          []string
		messageContains string
	}{
		{"ok", account.SignUpInput{"bob", "bob@example.com", goodPassword}, nil, ""},
		{"username too short", account.SignUpInput{"bo", "b2@example.com", goodPassword}, []string{"username"}, "3 to 32"},
		{"username bad chars", account.SignUpInput{"bo b", "b2@example.com", goodPassword}, []string{"username"}, "letters"},
		{"username unicode look-alike", account.SignUpInput{"аlice", "b2@example.com", goodPassword}, []string{"username"}, "letters"},
		{"username taken, other case", account.SignUpInput{"ALICE", "b2@example.com", goodPassword}, []string{"username"}, "taken"},
		{"email taken, other case", account.SignUpInput{"carol", "Alice@Example.com", goodPassword}, []string{"email"}, "exists"},
		{"email invalid", account.SignUpInput{"carol", "carol@", goodPassword}, []string{"email"}, "valid"},
		{"email with header injection", account.SignUpInput{"carol", "carol@example.com\nBcc: x@example.com", goodPassword}, []string{"email"}, "valid"},
		{"password short", account.SignUpInput{"carol", "carol@example.com", "1234567"}, []string{"password"}, "at least 8"},
		{"password common", account.SignUpInput{"carol", "carol@example.com", "iloveyou123"}, []string{"password"}, "common"},
		{"password contains username", account.SignUpInput{"carolyn", "c@example.com", "my name is carolyn!"}, []string{"password"}, "username"},
		{"password contains email local part", account.SignUpInput{"dave", "zebrafish@example.com", "zebrafish-swims-fast"}, []string{"password"}, "username"},
		{"password contains site name", account.SignUpInput{"dave", "dave@example.com", "my latch password"}, []string{"password"}, "site"},
		{"everything wrong", account.SignUpInput{"x", "y", "z"}, []string{"username", "email", "password"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := e.svc.SignUp(context.Background(), tt.in, "192.0.2.9")
			if tt.fields == nil {
				if err != nil || u.ID == "" {
					t.Fatalf("SignUp = %v, %v", u, err)
				}
				if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
					t.Fatalf("hash %q is not argon2id", u.PasswordHash)
				}
				return
			}
			var invalid *account.ValidationError
			if !errors.As(err, &invalid) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			if len(invalid.Fields) != len(tt.fields) {
				t.Errorf("fields %v, want %v", invalid.Fields, tt.fields)
			}
			for _, f := range tt.fields {
				if invalid.Fields[f] == "" || !strings.Contains(invalid.Fields[f], tt.messageContains) {
					t.Errorf("field %s: %q, want it to mention %q", f, invalid.Fields[f], tt.messageContains)
				}
			}
		})
	}
}

func TestSignUpRaceOneWins(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, taken := 0, 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.SignUp(context.Background(), account.SignUpInput{
				Username: fmt.Sprintf("racer%d", i), Email: "race@example.com", Password: goodPassword,
			}, fmt.Sprintf("192.0.2.%d", i))
			mu.Lock()
			defer mu.Unlock()
			var invalid *account.ValidationError
			switch {
			case err == nil:
				won++
			case errors.As(err, &invalid) && invalid.Fields["email"] != "":
				taken++
			default:
				t.Errorf("unexpected %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || taken != 7 {
		t.Fatalf("won %d, taken %d", won, taken)
	}
}

func TestSignUpIsRateLimitedPerClient(t *testing.T) {
	e := newEnv(t)
	e.svc.Limits.SignUp.Free = 3
	var err error
	for i := range 4 {
		_, err = e.svc.SignUp(context.Background(), account.SignUpInput{
			Username: fmt.Sprintf("user%d", i), Email: fmt.Sprintf("u%d@example.com", i), Password: goodPassword,
		}, "198.51.100.1")
	}
	var limit *account.LimitError
	if !errors.As(err, &limit) || limit.RetryAfter <= 0 {
		t.Fatalf("4th sign-up: %v, want a LimitError", err)
	}
	if _, err := e.svc.SignUp(context.Background(), account.SignUpInput{"other", "other@example.com", goodPassword}, "198.51.100.2"); err != nil {
		t.Fatalf("another client was limited too: %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice")
	ctx := context.Background()
	if u, err := e.svc.Authenticate(ctx, " ALICE@example.com ", goodPassword, "192.0.2.1"); err != nil || u.ID != alice.ID {
		t.Fatalf("right password: %v, %v", u, err)
	}
	for _, tc := range []struct{ email, pw string }{
		{"alice@example.com", "wrong password here"},
		{"alice@example.com", strings.ToUpper(goodPassword)},
		{"alice@example.com", goodPassword + " "},
		{"alice@example.com", goodPassword[:len(goodPassword)-1]},
		{"nobody@example.com", goodPassword},
		{"alice@example.com", strings.Repeat("x", 1<<20)},
		{"", ""},
	} {
		if _, err := e.svc.Authenticate(ctx, tc.email, tc.pw, "192.0.2.1"); !errors.Is(err, account.ErrBadCredentials) {
			t.Errorf("Authenticate(%q, %.10q…) = %v, want ErrBadCredentials", tc.email, tc.pw, err)
		}
	}
}

func TestAuthenticateThrottlesPerAccount(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	ctx := context.Background()
	rule := e.svc.Limits.LoginAccount
	// Failures from ever-changing addresses still count against the
	// account (rotating X-Forwarded-For does not help an attacker).
	// The first Free failures pass without delay…
	for i := range rule.Free {
		if _, err := e.svc.Authenticate(ctx, "alice@example.com", "wrong password", fmt.Sprintf("203.0.113.%d", i)); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	var err error
	_, err = e.svc.Authenticate(ctx, "alice@example.com", goodPassword, "203.0.113.250")
	var limit *account.LimitError
	if !errors.As(err, &limit) {
		t.Fatalf("after %d failures the right password went through: %v", rule.Free, err)
	}
	if limit.RetryAfter <= 0 || limit.RetryAfter > rule.Max {
		t.Fatalf("RetryAfter %v out of (0, %v]", limit.RetryAfter, rule.Max)
	}
	// The victim waits at most Max, then logs in; success clears the
	// account's counter.
	e.clock.Advance(rule.Max)
	if _, err := e.svc.Authenticate(ctx, "alice@example.com", goodPassword, "203.0.113.250"); err != nil {
		t.Fatalf("after waiting: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, "alice@example.com", "wrong again", "203.0.113.251"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("counter not reset by success: %v", err)
	}
}

func TestAuthenticateThrottlesPasswordSpraying(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rule := e.svc.Limits.LoginClient
	for i := range rule.Free {
		if _, err := e.svc.Authenticate(ctx, fmt.Sprintf("victim%d@example.com", i), "Spring2026!", "198.51.100.66"); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	_, err := e.svc.Authenticate(ctx, "another@example.com", "Spring2026!", "198.51.100.66")
	var limit *account.LimitError
	if !errors.As(err, &limit) {
		t.Fatalf("spraying from one client not throttled: %v", err)
	}
	// Other clients are unaffected.
	if _, err := e.svc.Authenticate(ctx, "another@example.com", "Spring2026!", "198.51.100.67"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("other client: %v", err)
	}
}

func TestAuthenticateManyAccountsDoNotEvictOne(t *testing.T) {
	// CVE-2024-21662: a bounded cache of counters let spraying evict the
	// target's counter. Counters live in the store, so they do not.
	e := newEnv(t)
	e.user(t, "alice")
	ctx := context.Background()
	e.svc.Limits.LoginClient.Free = 1 << 20
	for i := range e.svc.Limits.LoginAccount.Free {
		e.svc.Authenticate(ctx, "alice@example.com", "wrong", fmt.Sprintf("203.0.113.%d", i))
	}
	for i := range 500 {
		e.svc.Authenticate(ctx, fmt.Sprintf("noise%d@example.com", i), "wrong", "198.51.100.1")
	}
	e.svc.Authenticate(ctx, "alice@example.com", "wrong", "203.0.113.200")
	_, err := e.svc.Authenticate(ctx, "alice@example.com", goodPassword, "203.0.113.201")
	var limit *account.LimitError
	if !errors.As(err, &limit) {
		t.Fatalf("alice's counter was lost among 500 other keys: %v", err)
	}
}

func TestAuthenticateInactiveAndUnconfirmed(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	ctx := context.Background()
	e.svc.RequireConfirmedEmail = true
	if _, err := e.svc.Authenticate(ctx, "alice@example.com", goodPassword, "192.0.2.1"); !errors.Is(err, account.ErrUnconfirmed) {
		t.Fatalf("unconfirmed: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, "alice@example.com", "wrong password", "192.0.2.1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("unconfirmed and wrong password must not reveal the state: %v", err)
	}
	if ok, err := e.store.ConfirmEmail(ctx, u.ID, u.Email, e.clock.Now()); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := e.svc.Authenticate(ctx, "alice@example.com", goodPassword, "192.0.2.1"); err != nil {
		t.Fatalf("confirmed: %v", err)
	}
	if err := e.store.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, "alice@example.com", goodPassword, "192.0.2.1"); !errors.Is(err, account.ErrInactive) {
		t.Fatalf("disabled: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, "alice@example.com", "wrong password", "192.0.2.1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("disabled and wrong password: %v", err)
	}
}

func TestAuthenticateUpgradesLegacyHashes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// A real werkzeug 2.2 hash of "correct horse battery staple".
	legacy := "pbkdf2:sha256:260000$KXjz6re3o5USqhZS$f696c73ae064e067f60bc4998ac78204e61a7b07a42eef93ac6253529b8f2a12"
	u := &account.User{Username: "flask", Email: "flask@example.com", PasswordHash: legacy, CreatedAt: e.clock.Now()}
	if err := e.store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	var events []account.EventKind
	e.svc.Hook = func(_ context.Context, ev account.Event) { events = append(events, ev.Kind) }
	if _, err := e.svc.Authenticate(ctx, "flask@example.com", goodPassword, "192.0.2.1"); err != nil {
		t.Fatalf("legacy login: %v", err)
	}
	got, _ := e.store.UserByID(ctx, u.ID)
	if f, _ := password.Identify(got.PasswordHash); f != password.FormatArgon2id {
		t.Fatalf("hash after login is %v, want argon2id", f)
	}
	if _, err := e.svc.Authenticate(ctx, "flask@example.com", goodPassword, "192.0.2.1"); err != nil {
		t.Fatalf("login after upgrade: %v", err)
	}
	found := false
	for _, k := range events {
		found = found || k == account.EventRehashed
	}
	if !found {
		t.Errorf("events %v lack %s", events, account.EventRehashed)
	}
}

func TestCheckPasswordSharesTheCounter(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	ctx := context.Background()
	for range e.svc.Limits.LoginAccount.Free {
		if err := e.svc.CheckPassword(ctx, u, "guess", "192.0.2.1"); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	var limit *account.LimitError
	if err := e.svc.CheckPassword(ctx, u, goodPassword, "192.0.2.1"); !errors.As(err, &limit) {
		t.Fatalf("re-authentication guesses not throttled: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, u.Email, goodPassword, "192.0.2.2"); !errors.As(err, &limit) {
		t.Fatalf("login not throttled after re-auth guesses: %v", err)
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "alice")
	ctx := context.Background()
	var invalid *account.ValidationError
	if err := e.svc.ChangePassword(ctx, u, "password1"); !errors.As(err, &invalid) {
		t.Fatalf("common password accepted: %v", err)
	}
	if err := e.svc.ChangePassword(ctx, u, "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, u.Email, goodPassword, "192.0.2.1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("old password still works: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, u.Email, "a brand new passphrase", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
}

func TestValidateUsernameAndEmail(t *testing.T) {
	for _, ok := range []string{"abc", "a.b-c_d", "ALICE", strings.Repeat("z", 32), "123"} {
		if msg := account.ValidateUsername(ok); msg != "" {
			t.Errorf("ValidateUsername(%q) = %q", ok, msg)
		}
	}
	for _, bad := range []string{"", "ab", strings.Repeat("z", 33), "a b", "a/b", "ü-ber", "a\x00b", "<b>", "a@b"} {
		if msg := account.ValidateUsername(bad); msg == "" {
			t.Errorf("ValidateUsername(%q) accepted", bad)
		}
	}
	for _, ok := range []string{"a@example.com", "first.last+tag@sub.example.co.uk", "x@xn--bcher-kva.example", " padded@example.com "} {
		if _, msg := account.NormalizeEmail(ok); msg != "" {
			t.Errorf("NormalizeEmail(%q) = %q", ok, msg)
		}
	}
	for _, bad := range []string{"", "a", "a@", "@b.c", "a@b", "a@@b.c", "a b@c.d", "a@b..c", "a@-b.c", "a.@b.c", ".a@b.c", `"q"@b.c`,
		"A <a@b.c>", "a@b.c, d@e.f", "a@b.c\r\nBcc: x@y.z", "ü@b.c", strings.Repeat("a", 65) + "@b.c", "a@" + strings.Repeat("b", 250) + ".c"} {
		if _, msg := account.NormalizeEmail(bad); msg == "" {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
}

// FuzzSignUpInput feeds arbitrary form input to the validators: they must
// never panic, and whatever they accept is ASCII, bounded and free of
// characters that could break out of a mail header or an HTML attribute.
func FuzzSignUpInput(f *testing.F) {
	f.Add("alice", "alice@example.com")
	f.Add("a\x00b", "a@b.c\r\nBcc: x@y.z")
	f.Add("<script>", `"><svg onload=alert(1)>@x.y`)
	f.Add(strings.Repeat("a", 40), strings.Repeat("b", 300))
	f.Fuzz(func(t *testing.T, username, email string) {
		if account.ValidateUsername(username) == "" {
			if len(username) < 3 || len(username) > 32 || strings.ContainsAny(username, " <>\"'&@/\\\r\n\x00") {
				t.Fatalf("accepted username %q", username)
			}
		}
		norm, msg := account.NormalizeEmail(email)
		if msg == "" {
			if len(norm) > account.EmailMax || strings.Count(norm, "@") != 1 || strings.ContainsAny(norm, " <>\"\r\n\x00,;") {
				t.Fatalf("accepted email %q", norm)
			}
			for i := 0; i < len(norm); i++ {
				if norm[i] >= 0x7f || norm[i] < 0x21 {
					t.Fatalf("accepted non-printable email %q", norm)
				}
			}
			if again, msg := account.NormalizeEmail(norm); msg != "" || again != norm {
				t.Fatalf("not idempotent: %q → %q %q", norm, again, msg)
			}
		}
	})
}

// TestConcurrentGuessesFromOneClientAreBounded: a client firing many
// guesses at once gets no more checked than the per-client limit allows,
// although none of them is recorded before its hash finishes.
func TestConcurrentGuessesFromOneClientAreBounded(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	e.svc.Limits.LoginAccount.Free = 1000
	free := e.svc.Limits.LoginClient.Free
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		checked int
	)
	for i := range 3 * free {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.Authenticate(context.Background(), fmt.Sprintf("user%d@example.com", i), "guess", "203.0.113.9")
			if errors.Is(err, account.ErrBadCredentials) {
				mu.Lock()
				checked++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if checked > free {
		t.Fatalf("%d concurrent guesses were checked; the per-client limit is %d", checked, free)
	}
}

func TestUsernameSkeleton(t *testing.T) {
	same := [][2]string{
		{"llbill", "lIbill"}, // a capital i
		{"alice", "aIice"},
		{"bob", "b0b"}, // a zero
		{"modern", "rnodern"},
		{"l1", "ll"},
	}
	for _, p := range same {
		if a, b := account.UsernameSkeleton(p[0]), account.UsernameSkeleton(p[1]); a != b {
			t.Errorf("%q and %q look alike but have the skeletons %q and %q", p[0], p[1], a, b)
		}
	}
	differ := [][2]string{{"alice", "alicia"}, {"a.b", "a_b"}, {"a-b", "ab"}, {"bob", "bab"}}
	for _, p := range differ {
		if account.UsernameSkeleton(p[0]) == account.UsernameSkeleton(p[1]) {
			t.Errorf("%q and %q share a skeleton", p[0], p[1])
		}
	}
}

// FuzzUsernameSkeleton: nothing panics, and the skeleton of a valid
// username is its own skeleton, so a stored one can be compared with a new
// name's. (Usernames are ASCII; the confusables data is not closed under
// skeletons for every script, which does not matter here.)
func FuzzUsernameSkeleton(f *testing.F) {
	for _, s := range []string{"lIbill", "b0b", "rnodern", "ALICE", "é", "\xff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		k := account.UsernameSkeleton(name)
		if account.ValidateUsername(name) != "" {
			return
		}
		if again := account.UsernameSkeleton(k); again != k {
			t.Fatalf("UsernameSkeleton(%q) = %q, whose skeleton is %q", name, k, again)
		}
	})
}
