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

// Accounts checks an [account.Store]. newStore must return a fresh, empty
// store on each call.
//
// Beyond the interface's doc comments, the suite holds stores to these
// readings of them. An id is an opaque string: only the exact string that
// CreateUser set finds the user ("07", " 7" or "7 " do not find user "7"),
// and anything else, however odd ("abc", "1; DROP TABLE users"), is
// ErrNotFound, never another error. Setting a field to the value it already
// has succeeds. The id of a deleted user is not given to a new one, and
// still works as ListUsers' after. Values are stored verbatim, and only
// Username and Email are compared case-insensitively (ASCII). A store
// keeps its own copy of a user: changing the *User given to CreateUser or
// returned by a lookup changes nothing stored. A lookup by a string that no
// stored value can be (one with a NUL byte, or that is not UTF-8) is
// ErrNotFound too: such strings arrive from forms and headers.
// EmailConfirmedAt and TOTPSecret are stored as CreateUser is given them.
func Accounts(t *testing.T, newStore func(t *testing.T) account.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, account.Store)
	}{
		{"CreateAndLookup", testCreateAndLookup},
		{"NotAliased", testUserNotAliased},
		{"CaseInsensitiveLookup", testCaseInsensitiveLookup},
		{"DuplicateUsername", testDuplicateUsername},
		{"DuplicateEmail", testDuplicateEmail},
		{"DuplicateBoth", testDuplicateBoth},
		{"ConcurrentCreate", testConcurrentCreate},
		{"NotFound", testUserNotFound},
		{"SetPasswordHash", testSetPasswordHash},
		{"SetDisabled", testSetDisabled},
		{"DeleteUser", testDeleteUser},
		{"ListUsers", testListUsers},
		{"Verbatim", testUserVerbatim},
		{"ConfirmedAndTOTPFields", testUserNewFields},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// lookups runs every lookup that should find want and compares the result.
func lookups(t *testing.T, s account.Store, want account.User) {
	t.Helper()
	ctx := t.Context()
	for _, l := range []struct {
		name string
		fn   func() (*account.User, error)
	}{
		{"UserByID", func() (*account.User, error) { return s.UserByID(ctx, want.ID) }},
		{"UserByEmail", func() (*account.User, error) { return s.UserByEmail(ctx, want.Email) }},
		{"UserByUsername", func() (*account.User, error) { return s.UserByUsername(ctx, want.Username) }},
	} {
		got, err := l.fn()
		if err != nil {
			t.Errorf("%s: %v", l.name, err)
			continue
		}
		if got == nil {
			t.Errorf("%s returned nil, nil", l.name)
			continue
		}
		if d := diffUser(*got, want); d != "" {
			t.Errorf("%s: %s", l.name, d)
		}
	}
}

func mustUserByID(t *testing.T, s account.Store, id string) *account.User {
	t.Helper()
	u, err := s.UserByID(t.Context(), id)
	if err != nil {
		t.Fatalf("UserByID(%q): %v", id, err)
	}
	return u
}

func testCreateAndLookup(t *testing.T, s account.Store) {
	now := timeNow()
	alice := &account.User{
		Username:     "Alice.Smith-1",
		Email:        "Alice.Smith@Example.com",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		CreatedAt:    now.Add(-time.Hour),
	}
	want := *alice
	mustCreateUser(t, s, alice)
	want.ID = alice.ID
	lookups(t, s, want)

	disabled := newUser("disabled_at_birth")
	disabled.Disabled = true
	mustCreateUser(t, s, disabled)
	lookups(t, s, *disabled)

	if alice.ID == disabled.ID {
		t.Errorf("two users got the same ID %q", alice.ID)
	}
}

func testUserNotAliased(t *testing.T, s account.Store) {
	ctx := t.Context()
	u := newUser("original")
	mustCreateUser(t, s, u)
	want := *u
	u.Username, u.Email, u.PasswordHash = "changed", "changed@example.com", "changed"
	lookups(t, s, want)

	got := mustUserByID(t, s, want.ID)
	got.Username, got.Disabled = "changed-again", true
	lookups(t, s, want)
	if _, err := s.UserByUsername(ctx, "changed"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf(`UserByUsername("changed") error = %v, want ErrNotFound`, err)
	}
}

func testCaseInsensitiveLookup(t *testing.T, s account.Store) {
	ctx := t.Context()
	u := newUser("MixedCase")
	u.Email = "Mixed.Case@Example.COM"
	mustCreateUser(t, s, u)
	for _, email := range []string{"mixed.case@example.com", "MIXED.CASE@EXAMPLE.COM", "mIxEd.CaSe@eXaMpLe.CoM"} {
		got, err := s.UserByEmail(ctx, email)
		if err != nil {
			t.Errorf("UserByEmail(%q): %v", email, err)
			continue
		}
		if got.ID != u.ID || got.Email != u.Email {
			t.Errorf("UserByEmail(%q) = %q <%s>, want %q <%s> as written at sign-up", email, got.ID, got.Email, u.ID, u.Email)
		}
	}
	for _, name := range []string{"mixedcase", "MIXEDCASE", "mIXEDcASE"} {
		got, err := s.UserByUsername(ctx, name)
		if err != nil {
			t.Errorf("UserByUsername(%q): %v", name, err)
			continue
		}
		if got.ID != u.ID || got.Username != u.Username {
			t.Errorf("UserByUsername(%q) = %q %q, want %q %q as written at sign-up", name, got.ID, got.Username, u.ID, u.Username)
		}
	}
}

func testDuplicateUsername(t *testing.T, s account.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, newUser("bob"))
	dup := &account.User{Username: "BoB", Email: "someone.else@example.com", PasswordHash: "x", CreatedAt: timeNow()}
	err := s.CreateUser(ctx, dup)
	if !errors.Is(err, account.ErrUsernameTaken) || errors.Is(err, account.ErrEmailTaken) {
		t.Fatalf("CreateUser with a username differing only in case: error = %v, want ErrUsernameTaken only", err)
	}
	if _, err := s.UserByEmail(ctx, dup.Email); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("the refused user's email: UserByEmail error = %v, want ErrNotFound", err)
	}
	wantUserCount(t, s, 1)
}

func testDuplicateEmail(t *testing.T, s account.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, newUser("bob"))
	dup := &account.User{Username: "robert", Email: "BOB@example.COM", PasswordHash: "x", CreatedAt: timeNow()}
	err := s.CreateUser(ctx, dup)
	if !errors.Is(err, account.ErrEmailTaken) || errors.Is(err, account.ErrUsernameTaken) {
		t.Fatalf("CreateUser with an email differing only in case: error = %v, want ErrEmailTaken only", err)
	}
	if _, err := s.UserByUsername(ctx, dup.Username); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("the refused user's username: UserByUsername error = %v, want ErrNotFound", err)
	}
	wantUserCount(t, s, 1)
}

func testDuplicateBoth(t *testing.T, s account.Store) {
	mustCreateUser(t, s, newUser("bob"))
	dup := &account.User{Username: "Bob", Email: "Bob@Example.com", PasswordHash: "x", CreatedAt: timeNow()}
	err := s.CreateUser(t.Context(), dup)
	if !errors.Is(err, account.ErrEmailTaken) && !errors.Is(err, account.ErrUsernameTaken) {
		t.Fatalf("CreateUser clashing on both: error = %v, want ErrEmailTaken or ErrUsernameTaken", err)
	}
	wantUserCount(t, s, 1)
}

func wantUserCount(t *testing.T, s account.Store, want int) {
	t.Helper()
	list, err := s.ListUsers(t.Context(), "", want+10)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(list) != want {
		t.Errorf("ListUsers = %q, want %d users", userNames(list), want)
	}
}

// swapCase swaps the case of the ASCII letter at index i of s, if any.
func swapCase(s string, i int) string {
	b := []byte(s)
	switch c := b[i%len(b)]; {
	case 'a' <= c && c <= 'z':
		b[i%len(b)] = c - 'a' + 'A'
	case 'A' <= c && c <= 'Z':
		b[i%len(b)] = c - 'A' + 'a'
	}
	return string(b)
}

func testConcurrentCreate(t *testing.T, s account.Store) {
	const racers = 10
	race := func(what string, sentinel error, mk func(i int) *account.User) {
		t.Helper()
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			winners  int
			unwanted []error
		)
		for i := range racers {
			wg.Go(func() {
				err := s.CreateUser(t.Context(), mk(i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winners++
				case !errors.Is(err, sentinel):
					unwanted = append(unwanted, err)
				}
			})
		}
		wg.Wait()
		if winners != 1 {
			t.Errorf("%d concurrent sign-ups with the same %s: %d succeeded, want exactly 1", racers, what, winners)
		}
		for _, err := range unwanted {
			t.Errorf("concurrent sign-up with the same %s: error = %v, want one wrapping %v", what, err, sentinel)
		}
	}
	race("email", account.ErrEmailTaken, func(i int) *account.User {
		u := newUser(fmt.Sprintf("racer%d", i))
		u.Email = swapCase("race@example.com", i)
		return u
	})
	race("username", account.ErrUsernameTaken, func(i int) *account.User {
		u := newUser(swapCase("sprinter", i))
		u.Email = fmt.Sprintf("sprinter%d@example.com", i)
		return u
	})
	wantUserCount(t, s, 2)
}

func testUserNotFound(t *testing.T, s account.Store) {
	ctx := t.Context()
	u := newUser("present")
	mustCreateUser(t, s, u)
	ids := []string{
		"", "0", "-1", "999999999", "9223372036854775807", "9223372036854775808",
		"abc", "1; DROP TABLE users", "1 OR 1=1", "' OR '1'='1", "NULL", "%", "_", "\x00", "\xff",
		u.ID + " ", " " + u.ID, "0" + u.ID, "+" + u.ID, u.ID + ".0", u.ID + "\n", strings.Repeat("9", 400),
	}
	for _, id := range ids {
		got, err := s.UserByID(ctx, id)
		wantNotFound(t, fmt.Sprintf("UserByID(%q)", id), err)
		if got != nil {
			t.Errorf("UserByID(%q) = %+v, want nil", id, got)
		}
		wantNotFound(t, fmt.Sprintf("SetPasswordHash(%q)", id), s.SetPasswordHash(ctx, id, "stolen"))
		wantNotFound(t, fmt.Sprintf("SetDisabled(%q)", id), s.SetDisabled(ctx, id, true))
		wantNotFound(t, fmt.Sprintf("DeleteUser(%q)", id), s.DeleteUser(ctx, id))
	}
	for _, email := range []string{
		"", "missing@example.com", "present@example.co", "resent@example.com", "%", "_",
		"present@example.com\x00", "\x00", "\xffpresent@example.com", "present@example.com\xff",
	} {
		_, err := s.UserByEmail(ctx, email)
		wantNotFound(t, fmt.Sprintf("UserByEmail(%q)", email), err)
	}
	for _, name := range []string{"", "missing", "presen", "present ", "%", "_resent", "present\x00", "\xff", "pr\xe9sent"} {
		_, err := s.UserByUsername(ctx, name)
		wantNotFound(t, fmt.Sprintf("UserByUsername(%q)", name), err)
	}
	lookups(t, s, *u) // untouched by all of the above
}

func testSetPasswordHash(t *testing.T, s account.Store) {
	ctx := t.Context()
	u, other := newUser("changer"), newUser("bystander")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	const hash = "$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$bmV3aGFzaA"
	for range 2 { // the second time, nothing changes: still no error
		if err := s.SetPasswordHash(ctx, u.ID, hash); err != nil {
			t.Fatalf("SetPasswordHash: %v", err)
		}
	}
	want := *u
	want.PasswordHash = hash
	lookups(t, s, want)
	lookups(t, s, *other)
}

func testSetDisabled(t *testing.T, s account.Store) {
	ctx := t.Context()
	u, other := newUser("toggled"), newUser("bystander")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	want := *u
	for _, disabled := range []bool{true, true, false, false, true} {
		if err := s.SetDisabled(ctx, u.ID, disabled); err != nil {
			t.Fatalf("SetDisabled(%v): %v", disabled, err)
		}
		want.Disabled = disabled
		if disabled {
			want.Epoch++ // disabling revokes every credential
		}
		lookups(t, s, want)
		if got := mustUserByID(t, s, u.ID); got.IsActive() == disabled {
			t.Errorf("after SetDisabled(%v): IsActive() = %v", disabled, got.IsActive())
		}
	}
	lookups(t, s, *other)
}

func testDeleteUser(t *testing.T, s account.Store) {
	ctx := t.Context()
	first, gone := newUser("first"), newUser("gone")
	mustCreateUser(t, s, first)
	mustCreateUser(t, s, gone) // the newest: a store that reuses ids would give its id out again
	if err := s.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.UserByID(ctx, gone.ID)
	wantNotFound(t, "UserByID of a deleted user", err)
	_, err = s.UserByEmail(ctx, gone.Email)
	wantNotFound(t, "UserByEmail of a deleted user", err)
	_, err = s.UserByUsername(ctx, gone.Username)
	wantNotFound(t, "UserByUsername of a deleted user", err)
	wantNotFound(t, "DeleteUser of a deleted user", s.DeleteUser(ctx, gone.ID))
	wantNotFound(t, "SetPasswordHash of a deleted user", s.SetPasswordHash(ctx, gone.ID, "x"))
	wantNotFound(t, "SetDisabled of a deleted user", s.SetDisabled(ctx, gone.ID, true))
	lookups(t, s, *first)
	wantUserCount(t, s, 1)

	// The username and email are free again, and the new account does
	// not inherit the old id.
	again := newUser("GONE")
	again.Email = "Gone@Example.com"
	mustCreateUser(t, s, again)
	if again.ID == gone.ID || again.ID == first.ID {
		t.Errorf("new user got ID %q; ids in use or deleted: %q, %q", again.ID, first.ID, gone.ID)
	}
	lookups(t, s, *again)
}

func testListUsers(t *testing.T, s account.Store) {
	ctx := t.Context()
	list := func(after string, limit int) []account.User {
		t.Helper()
		got, err := s.ListUsers(ctx, after, limit)
		if err != nil {
			t.Fatalf("ListUsers(%q, %d): %v", after, limit, err)
		}
		return got
	}
	if got := list("", 10); len(got) != 0 {
		t.Fatalf("ListUsers of an empty store = %q, want none", userNames(got))
	}

	var users []account.User
	for i := range 5 {
		u := newUser(fmt.Sprintf("user%d", i))
		u.CreatedAt = timeNow().Add(time.Duration(i) * time.Millisecond)
		mustCreateUser(t, s, u)
		users = append(users, *u)
	}
	all := list("", 100)
	if len(all) != len(users) {
		t.Fatalf("ListUsers(\"\", 100) = %q, want %q", userNames(all), userNames(users))
	}
	for i := range users {
		if d := diffUser(all[i], users[i]); d != "" {
			t.Errorf("ListUsers[%d]: %s", i, d)
		}
	}

	pages := []struct {
		after string
		limit int
		want  []account.User
	}{
		{"", 2, users[0:2]},
		{users[1].ID, 2, users[2:4]},
		{users[3].ID, 2, users[4:]},
		{users[4].ID, 2, nil},
		{"", 0, nil},
		{users[0].ID, 1, users[1:2]},
	}
	for _, p := range pages {
		got := list(p.after, p.limit)
		if !slices.Equal(userNames(got), userNames(p.want)) {
			t.Errorf("ListUsers(%q, %d) = %q, want %q", p.after, p.limit, userNames(got), userNames(p.want))
		}
	}

	// A cursor survives the deletion of the user it names.
	if err := s.DeleteUser(ctx, users[2].ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	for _, p := range []struct {
		after string
		want  []account.User
	}{
		{users[1].ID, []account.User{users[3], users[4]}},
		{users[2].ID, []account.User{users[3], users[4]}},
	} {
		got := list(p.after, 10)
		if !slices.Equal(userNames(got), userNames(p.want)) {
			t.Errorf("ListUsers(%q, 10) after deleting %q = %q, want %q",
				p.after, users[2].Username, userNames(got), userNames(p.want))
		}
	}
}

func testUserVerbatim(t *testing.T, s account.Store) {
	ctx := t.Context()
	odd := []struct{ username, email string }{
		{`robert'); DROP TABLE users;--`, `"bobby tables"@example.com`},
		{`a%`, `a%b@example.com`},
		{`a_c`, `a_c@example.com`},
		{`" OR ""="`, `x' OR 'x'='x@example.com`},
		{`back\slash`, `back\slash@example.com`},
		{`$1 ?`, `dollar$1?@example.com`},
	}
	var users []account.User
	for _, o := range odd {
		u := newUser("")
		u.Username, u.Email = o.username, o.email
		u.PasswordHash = `$legacy$` + o.username
		mustCreateUser(t, s, u)
		users = append(users, *u)
		lookups(t, s, *u)
	}
	// Pattern characters are no wildcards.
	for _, name := range []string{"abc", "aXc", "a", "%", "_", "a%%"} {
		if u, err := s.UserByUsername(ctx, name); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("UserByUsername(%q) = %v, %v; want ErrNotFound", name, u, err)
		}
	}
	for _, email := range []string{"azzb@example.com", "abc@example.com", "%@example.com"} {
		if u, err := s.UserByEmail(ctx, email); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("UserByEmail(%q) = %v, %v; want ErrNotFound", email, u, err)
		}
	}
	all, err := s.ListUsers(ctx, "", 100)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(all) != len(users) {
		t.Fatalf("ListUsers = %q, want %q", userNames(all), userNames(users))
	}
	for i := range users {
		if d := diffUser(all[i], users[i]); d != "" {
			t.Errorf("ListUsers[%d]: %s", i, d)
		}
	}
}

func testUserNewFields(t *testing.T, s account.Store) {
	now := timeNow()
	u := newUser("enrolled")
	u.EmailConfirmedAt = now.Add(-time.Hour)
	u.TOTPSecret = "JBSWY3DPEHPK3PXP"
	mustCreateUser(t, s, u)
	lookups(t, s, *u)
	got := mustUserByID(t, s, u.ID)
	if !got.EmailConfirmed() || !got.TwoFactor() {
		t.Errorf("EmailConfirmed() = %v, TwoFactor() = %v; want true, true", got.EmailConfirmed(), got.TwoFactor())
	}

	plain := newUser("plain")
	mustCreateUser(t, s, plain)
	lookups(t, s, *plain)
	got = mustUserByID(t, s, plain.ID)
	if got.EmailConfirmed() || got.TwoFactor() {
		t.Errorf("a new user: EmailConfirmed() = %v, TwoFactor() = %v; want false, false", got.EmailConfirmed(), got.TwoFactor())
	}

	list, err := s.ListUsers(t.Context(), "", 10)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(list) != 2 {
		t.Fatalf("ListUsers = %q, want 2 users", userNames(list))
	}
	for i, want := range []*account.User{u, plain} {
		if d := diffUser(list[i], *want); d != "" {
			t.Errorf("ListUsers[%d]: %s", i, d)
		}
	}
}
