package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/server"
	"github.com/latchgo/latch/password"
)

// Passwords the tests set. None may ever appear in a command's output.
const (
	alicePassword   = "tangerine-bicycle-orbit"
	bobPassword     = "quiet-lantern-harbour-77"
	changedPassword = "marble-cactus-symphony"
)

// result is what one run of the command did.
type result struct {
	out, errOut string
	err         error
}

// latchRun runs the command as `latch args…` with LATCH_DATABASE=db (none
// if db is "") and stdin, and checks that nothing it printed holds a
// password, a hash or a stack trace.
func latchRun(t *testing.T, db, stdin string, args ...string) result {
	t.Helper()
	return latchRunIn(t, db, strings.NewReader(stdin), args...)
}

func latchRunIn(t *testing.T, db string, stdin io.Reader, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	vars := map[string]string{}
	if db != "" {
		vars["LATCH_DATABASE"] = db
	}
	err := run(context.Background(), args, env(vars), stdin, &out, &errOut)
	r := result{out.String(), errOut.String(), err}
	all := r.out + r.errOut
	if err != nil {
		all += err.Error()
	}
	for _, secret := range []string{alicePassword, bobPassword, changedPassword, "$argon2id$", "pbkdf2:sha", "scrypt:", "$2b$", "pbkdf2_sha256$", "pbkdf2_sha1$", "bcrypt_sha256$", "goroutine ", "panic:"} {
		if strings.Contains(all, secret) {
			t.Errorf("latch %s printed %q:\n%s", strings.Join(args, " "), secret, all)
		}
	}
	return r
}

func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.err != nil {
		t.Fatalf("err = %v\nstdout: %s\nstderr: %s", r.err, r.out, r.errOut)
	}
	return r
}

// fails checks that the command failed with a one-line message containing
// want.
func (r result) fails(t *testing.T, want string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("no error, want one containing %q\nstdout: %s", want, r.out)
	}
	if msg := r.err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Fatalf("err = %q, want one line containing %q", msg, want)
	}
}

func newDB(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "latch.db")
}

// openApp opens the site on db as `latch serve` would, for the tests to
// log in and look at what the commands did.
func openApp(t *testing.T, db string) *server.App {
	t.Helper()
	cfg, _, err := server.ParseFlags("test", []string{"-database", db}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	backend, err := server.OpenBackend(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backend.Close() })
	app, err := server.NewApp(cfg, backend, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close(context.Background()) }) // before the backend closes
	return app
}

// login starts a session for the user with this email through the login
// manager, as a login form would, with or without "remember me".
func login(t *testing.T, app *server.App, email string, remember bool) {
	t.Helper()
	u, err := app.Backend.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	h := app.Auth.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := app.Auth.LoginUser(w, r, u, latch.Remember(remember)); err != nil {
			t.Error(err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	if len(rec.Result().Cookies()) == 0 {
		t.Fatal("login set no cookie")
	}
}

func devices(t *testing.T, app *server.App, email string) (sessions, remembered int) {
	t.Helper()
	ctx := context.Background()
	u, err := app.Backend.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	s, err := app.Auth.UserSessions(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := app.Auth.UserRememberTokens(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return len(s), len(r)
}

func authenticate(app *server.App, email, pw string) error {
	_, err := app.Accounts.Authenticate(context.Background(), email, pw, "192.0.2.1")
	return err
}

// canConfirm reports whether the backend records email confirmations,
// which `user add -confirmed` needs.
func canConfirm(app *server.App) bool {
	_, ok := app.Backend.(emailConfirmer)
	return ok
}

func addAlice(t *testing.T, db string) {
	t.Helper()
	latchRun(t, db, alicePassword+"\n", "user", "add", "-password-stdin", "alice", "Alice@Example.com").ok(t)
}

func TestUserAddListShow(t *testing.T) {
	db := newDB(t)
	r := latchRun(t, db, alicePassword+"\n", "user", "add", "-password-stdin", "alice", "Alice@Example.com").ok(t)
	if !strings.Contains(r.out, "created user alice (id ") || !strings.Contains(r.out, "unconfirmed") {
		t.Errorf("add: %q", r.out)
	}
	app := openApp(t, db)
	// Flags after the arguments, the database as a flag rather than
	// LATCH_DATABASE, a CRLF line ending on the password.
	bob := latchRun(t, "", bobPassword+"\r\n", "user", "add", "bob", " bob@example.com ", "-password-stdin", "-confirmed", "-database", db)
	if canConfirm(app) {
		bob.ok(t)
		if !strings.Contains(bob.out, "created user bob") || !strings.Contains(bob.out, ", confirmed)") {
			t.Errorf("add -confirmed: %q", bob.out)
		}
	} else {
		bob.fails(t, "-confirmed: this database cannot record email confirmations")
		latchRun(t, "", bobPassword+"\r\n", "user", "add", "bob", " bob@example.com ", "-password-stdin", "-database", db).ok(t)
	}
	if err := authenticate(app, "alice@example.com", alicePassword); err != nil {
		t.Errorf("alice cannot log in: %v", err)
	}
	if err := authenticate(app, "bob@example.com", bobPassword); err != nil {
		t.Errorf("bob cannot log in (the password is the line without CR LF): %v", err)
	}

	list := latchRun(t, db, "", "user", "list").ok(t)
	lines := strings.Split(strings.TrimSpace(list.out), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "ID USERNAME EMAIL CREATED DISABLED CONFIRMED 2FA" {
		t.Fatalf("list:\n%s", list.out)
	}
	alice := strings.Fields(lines[1])
	if len(alice) != 7 || alice[0] != "1" || alice[1] != "alice" || alice[2] != "Alice@Example.com" || alice[4] != "no" || alice[5] != "no" || alice[6] != "off" {
		t.Errorf("alice's row: %q", lines[1])
	}
	if created, err := time.Parse(time.RFC3339, alice[3]); err != nil || time.Since(created) > time.Minute {
		t.Errorf("created %q: %v", alice[3], err)
	}
	if got := strings.Fields(lines[2]); got[1] != "bob" || got[5] != map[bool]string{true: "yes", false: "no"}[canConfirm(app)] {
		t.Errorf("bob's row: %q", lines[2])
	}

	js := latchRun(t, db, "", "user", "list", "-json").ok(t)
	var users []map[string]any
	if err := json.Unmarshal([]byte(js.out), &users); err != nil {
		t.Fatalf("list -json: %v\n%s", err, js.out)
	}
	if len(users) != 2 || users[0]["username"] != "alice" || users[0]["email"] != "Alice@Example.com" || users[0]["id"] != "1" ||
		users[0]["disabled"] != false || users[0]["email_confirmed"] != false || users[0]["two_factor"] != false || users[1]["username"] != "bob" {
		t.Errorf("list -json: %v", users)
	}
	if strings.Contains(strings.ToLower(js.out), "hash") {
		t.Errorf("list -json shows a hash field: %s", js.out)
	}

	login(t, app, "alice@example.com", false)
	login(t, app, "alice@example.com", true)
	for _, ref := range []string{"alice", "ALICE", "alice@example.com", "#1"} {
		show := latchRun(t, db, "", "user", "show", ref).ok(t)
		for _, want := range []string{"id:", "1", "username:", "alice", "Alice@Example.com", "email confirmed:", "disabled:", "two-factor:", "off",
			"password:", "argon2id", "sessions:", "2 active", "remember-me:", "1 device"} {
			if !strings.Contains(show.out, want) {
				t.Errorf("show %s: no %q in\n%s", ref, want, show.out)
			}
		}
	}
	var shown map[string]any
	show := latchRun(t, db, "", "user", "show", "-json", "bob").ok(t)
	if err := json.Unmarshal([]byte(show.out), &shown); err != nil {
		t.Fatal(err)
	}
	if shown["username"] != "bob" || shown["sessions"] != 0.0 || shown["remember_tokens"] != 0.0 || shown["password_format"] != "argon2id" {
		t.Errorf("show -json: %v", shown)
	}
}

func TestListPages(t *testing.T) {
	// More users than one page of ListUsers.
	db := newDB(t)
	app := openApp(t, db)
	ctx := context.Background()
	for i := range listPage + 3 {
		u := &account.User{Username: "u" + strconv.Itoa(i), Email: "u" + strconv.Itoa(i) + "@example.com", PasswordHash: "$2b$04$" + strings.Repeat("a", 53), CreatedAt: time.Now()}
		if err := app.Backend.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	out := latchRun(t, db, "", "user", "list").ok(t).out
	if n := strings.Count(out, "\n"); n != listPage+4 {
		t.Errorf("%d lines", n)
	}
	var users []map[string]any
	if err := json.Unmarshal([]byte(latchRun(t, db, "", "user", "list", "-json").ok(t).out), &users); err != nil || len(users) != listPage+3 {
		t.Errorf("list -json: %d users, %v", len(users), err)
	}
	var empty []map[string]any
	if err := json.Unmarshal([]byte(latchRun(t, newDB(t), "", "user", "list", "-json").ok(t).out), &empty); err != nil || len(empty) != 0 {
		t.Errorf("empty list -json: %v, %v", empty, err)
	}
}

func TestUserAddErrors(t *testing.T) {
	db := newDB(t)
	addAlice(t, db)
	for _, tt := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"bad username", alicePassword, []string{"jo", "jo@example.com"}, `username "jo": Use 3 to 32 characters: letters, digits, and _ . -`},
		{"username with a space", alicePassword, []string{"Jane Doe", "jane@example.com"}, `username "Jane Doe"`},
		{"bad email", alicePassword, []string{"jane", "jane@"}, `email "jane@"`},
		{"taken username", alicePassword, []string{"ALICE", "other@example.com"}, `username "ALICE" is taken`},
		// Refused before the password is read (stdin is empty).
		{"look-alike username", "", []string{"a1ice", "other@example.com"}, `username "a1ice" is taken, or looks like a taken one`},
		{"taken email", alicePassword, []string{"alice2", "alice@EXAMPLE.com"}, `an account with email "alice@EXAMPLE.com" exists`},
		{"common password", "password1\n", []string{"jane", "jane@example.com"}, "password: "},
		{"short password", "short\n", []string{"jane", "jane@example.com"}, "password: "},
		{"password with the username", "jane-jane-jane-jane\n", []string{"jane", "jane@example.com"}, "password: "},
		{"empty stdin", "", []string{"jane", "jane@example.com"}, "-password-stdin: stdin is empty"},
		{"too long", strings.Repeat("x", maxLine+1), []string{"jane", "jane@example.com"}, "longer than 4096 bytes"},
		{"one argument", alicePassword, []string{"jane"}, "want USERNAME EMAIL, got 1 argument(s)"},
		{"three arguments", alicePassword, []string{"jane", "jane@example.com", "x"}, "got 3 argument(s)"},
		{"unknown flag", alicePassword, []string{"-bogus", "jane", "jane@example.com"}, "flag provided but not defined: -bogus"},
		{"bad configuration", alicePassword, []string{"jane", "jane@example.com", "-session-idle", "soon"}, "-session-idle"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"user", "add", "-password-stdin"}, tt.args...)
			latchRun(t, db, tt.stdin, args...).fails(t, tt.want)
		})
	}
	// Without -password-stdin, a password is asked for only on a terminal.
	latchRun(t, db, alicePassword+"\n", "user", "add", "jane", "jane@example.com").fails(t, "not a terminal")
	var users []map[string]any
	if err := json.Unmarshal([]byte(latchRun(t, db, "", "user", "list", "-json").ok(t).out), &users); err != nil || len(users) != 1 {
		t.Errorf("users after the failures: %v, %v", users, err)
	}
}

func TestUserPasswd(t *testing.T) {
	db := newDB(t)
	addAlice(t, db)
	app := openApp(t, db)
	login(t, app, "alice@example.com", false)
	login(t, app, "alice@example.com", true)

	latchRun(t, db, "password1\n", "user", "passwd", "-password-stdin", "alice").fails(t, "password: ")
	latchRun(t, db, changedPassword+"\n", "user", "passwd", "alice").fails(t, "not a terminal")
	if s, r := devices(t, app, "alice@example.com"); s != 2 || r != 1 {
		t.Fatalf("a failed passwd logged alice out: %d sessions, %d tokens", s, r)
	}
	r := latchRun(t, db, changedPassword+"\n", "user", "passwd", "alice@example.com", "-password-stdin").ok(t)
	if !strings.Contains(r.out, "changed the password of alice; ended 2 sessions and 1 remember-me device") {
		t.Errorf("passwd: %q", r.out)
	}
	if s, r := devices(t, app, "alice@example.com"); s != 0 || r != 0 {
		t.Errorf("after passwd: %d sessions, %d tokens", s, r)
	}
	if err := authenticate(app, "alice@example.com", alicePassword); !errors.Is(err, account.ErrBadCredentials) {
		t.Errorf("old password: %v", err)
	}
	if err := authenticate(app, "alice@example.com", changedPassword); err != nil {
		t.Errorf("new password: %v", err)
	}
	latchRun(t, db, changedPassword+"\n", "user", "passwd", "-password-stdin", "ghost").fails(t, `no user "ghost"`)
}

func TestUserDisableEnable(t *testing.T) {
	db := newDB(t)
	addAlice(t, db)
	app := openApp(t, db)
	login(t, app, "alice@example.com", true)

	r := latchRun(t, db, "", "user", "disable", "alice").ok(t)
	if !strings.Contains(r.out, "disabled alice; ended 1 session and 1 remember-me device") {
		t.Errorf("disable: %q", r.out)
	}
	if s, r := devices(t, app, "alice@example.com"); s != 0 || r != 0 {
		t.Errorf("after disable: %d sessions, %d tokens", s, r)
	}
	if err := authenticate(app, "alice@example.com", alicePassword); !errors.Is(err, account.ErrInactive) {
		t.Errorf("disabled alice logs in: %v", err)
	}
	if out := latchRun(t, db, "", "user", "list").ok(t).out; !strings.Contains(strings.Join(strings.Fields(out), " "), "alice Alice@Example.com") ||
		strings.Fields(strings.Split(out, "\n")[1])[4] != "yes" {
		t.Errorf("list after disable:\n%s", out)
	}
	if r := latchRun(t, db, "", "user", "disable", "alice").ok(t); !strings.Contains(r.out, "already disabled: alice") {
		t.Errorf("disable again: %q", r.out)
	}
	if r := latchRun(t, db, "", "user", "enable", "#1").ok(t); r.out != "enabled alice\n" {
		t.Errorf("enable: %q", r.out)
	}
	if err := authenticate(app, "alice@example.com", alicePassword); err != nil {
		t.Errorf("enabled alice cannot log in: %v", err)
	}
	if r := latchRun(t, db, "", "user", "enable", "alice").ok(t); !strings.Contains(r.out, "was not disabled") {
		t.Errorf("enable again: %q", r.out)
	}
}

func TestUserDelete(t *testing.T) {
	db := newDB(t)
	addAlice(t, db)
	app := openApp(t, db)
	login(t, app, "alice@example.com", true)
	login(t, app, "alice@example.com", false)

	latchRun(t, db, "alice\n", "user", "delete", "alice").fails(t, "deleting alice needs -yes")
	if _, err := app.Backend.UserByEmail(context.Background(), "alice@example.com"); err != nil {
		t.Fatalf("alice was deleted without -yes: %v", err)
	}
	r := latchRun(t, db, "", "user", "delete", "-yes", "alice").ok(t)
	if !strings.Contains(r.out, "deleted user alice (id 1); ended 2 sessions and 1 remember-me device") {
		t.Errorf("delete: %q", r.out)
	}
	if _, err := app.Backend.UserByEmail(context.Background(), "alice@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("alice is still there: %v", err)
	}
	s, err := app.Auth.UserSessions(context.Background(), "1")
	if err != nil || len(s) != 0 {
		t.Errorf("sessions of the deleted user: %v, %v", s, err)
	}
	latchRun(t, db, "", "user", "show", "alice").fails(t, `no user "alice"`)
	latchRun(t, db, "", "user", "delete", "-yes", "alice").fails(t, `no user "alice"`)
}

func TestSessionsRevoke(t *testing.T) {
	db := newDB(t)
	addAlice(t, db)
	app := openApp(t, db)
	login(t, app, "alice@example.com", true)
	login(t, app, "alice@example.com", true)
	login(t, app, "alice@example.com", false)

	r := latchRun(t, db, "", "sessions", "revoke", "alice@example.com").ok(t)
	if r.out != "ended 3 sessions and 2 remember-me devices of alice\n" {
		t.Errorf("revoke: %q", r.out)
	}
	if s, r := devices(t, app, "alice@example.com"); s != 0 || r != 0 {
		t.Errorf("after revoke: %d sessions, %d tokens", s, r)
	}
	if r := latchRun(t, db, "", "sessions", "revoke", "#1").ok(t); r.out != "ended 0 sessions and 0 remember-me devices of alice\n" {
		t.Errorf("revoke again: %q", r.out)
	}
	// The account itself is untouched.
	if err := authenticate(app, "alice@example.com", alicePassword); err != nil {
		t.Error(err)
	}
	latchRun(t, db, "", "sessions").fails(t, "want the command revoke")
	latchRun(t, db, "", "sessions", "list").fails(t, "want the command revoke")
	latchRun(t, db, "", "sessions", "revoke").fails(t, "want USER")
	latchRun(t, db, "", "sessions", "revoke", "#2").fails(t, `no user "#2"`)
	latchRun(t, db, "", "sessions", "revoke", "-all", "alice").fails(t, "-all takes no USER")
}

func TestSessionsRevokeAll(t *testing.T) {
	db := newDB(t)
	addAlice(t, db)
	latchRun(t, db, "quiet orbit lantern 42\n", "user", "add", "-password-stdin", "bob", "bob@example.com").ok(t)
	app := openApp(t, db)
	login(t, app, "alice@example.com", true)
	login(t, app, "alice@example.com", false)
	login(t, app, "bob@example.com", false)
	r := latchRun(t, db, "", "sessions", "revoke", "-all").ok(t)
	if r.out != "ended 3 sessions and 1 remember-me device of 2 users\n" {
		t.Errorf("revoke -all: %q", r.out)
	}
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		if s, r := devices(t, app, email); s != 0 || r != 0 {
			t.Errorf("%s after revoke -all: %d sessions, %d tokens", email, s, r)
		}
	}
}

func TestAdminErrors(t *testing.T) {
	db := newDB(t)
	addAlice(t, db)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"user"}, "user: want a command"},
		{[]string{"user", "frob"}, `user: unknown command "frob"`},
		{[]string{"user", "list", "extra"}, `user list: takes no arguments, got ["extra"]`},
		{[]string{"user", "show"}, "user show: want USER, got 0 argument(s)"},
		{[]string{"user", "show", "ghost"}, `user show: no user "ghost"`},
		{[]string{"user", "show", "ghost@example.com"}, `no user "ghost@example.com"`},
		{[]string{"user", "show", "#99"}, `no user "#99"`},
		{[]string{"user", "show", "#"}, `no user "#"`},
		{[]string{"user", "show", "#x"}, `no user "#x"`},
		{[]string{"user", "disable", "ghost"}, `user disable: no user "ghost"`},
		{[]string{"user", "enable", "ghost"}, `user enable: no user "ghost"`},
		{[]string{"user", "delete", "ghost", "-yes"}, `user delete: no user "ghost"`},
		{[]string{"user", "show", "alice", "-database"}, "flag needs an argument"},
		{[]string{"user", "show", "alice", "-json=maybe"}, "invalid boolean value"},
		{[]string{"user", "show", "--", "-alice"}, `no user "-alice"`},
	} {
		latchRun(t, db, "", tt.args...).fails(t, tt.want)
	}
	// The database is the configured one: another, empty, knows no alice.
	latchRun(t, db, "", "user", "show", "alice", "-database", newDB(t)).fails(t, `no user "alice"`)
}

func TestAdminHelp(t *testing.T) {
	r := latchRun(t, "", "", "user", "add", "-h")
	if !errors.Is(r.err, flag.ErrHelp) {
		t.Fatalf("err = %v", r.err)
	}
	for _, want := range []string{"usage: latch user add [flags] USERNAME EMAIL", "-password-stdin", "-confirmed", "-database", "LATCH_DATABASE", "-redis"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("no %q in\n%s", want, r.errOut)
		}
	}
	// Help shows the built-in defaults, never a LATCH_* value, which may
	// hold credentials.
	var out bytes.Buffer
	secret := "postgres://admin:s3cret@db.example.com/latch"
	run(context.Background(), []string{"import", "-h"}, env(map[string]string{"LATCH_DATABASE": secret}), nil, io.Discard, &out)
	if strings.Contains(out.String(), "s3cret") || !strings.Contains(out.String(), "-fix-usernames") {
		t.Errorf("import -h:\n%s", out.String())
	}
	for _, args := range [][]string{{"help"}, {"user", "help"}, {"sessions", "help"}} {
		r := latchRun(t, "", "", args...).ok(t)
		if !strings.Contains(r.out, "usage: latch") {
			t.Errorf("%v: %q", args, r.out)
		}
	}
	if r := latchRun(t, "", "", "help").ok(t); !strings.Contains(r.out, "user add|list|show|passwd|disable|enable|delete") || !strings.Contains(r.out, "import FILE") {
		t.Errorf("help:\n%s", r.out)
	}
}

func TestShowLegacyHashFormat(t *testing.T) {
	db := newDB(t)
	app := openApp(t, db)
	u := &account.User{Username: "olduser", Email: "old@example.com", CreatedAt: time.Now(),
		PasswordHash: "pbkdf2:sha256:260000$KXjz6re3o5USqhZS$f696c73ae064e067f60bc4998ac78204e61a7b07a42eef93ac6253529b8f2a12"}
	if err := app.Backend.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	out := latchRun(t, db, "", "user", "show", "olduser").ok(t).out
	if !strings.Contains(out, "werkzeug-pbkdf2 (imported; becomes argon2id at the next login)") {
		t.Errorf("show:\n%s", out)
	}
	if f, _ := password.Identify(u.PasswordHash); f != password.FormatWerkzeugPBKDF2 {
		t.Fatal(f)
	}
}

// auditKinds lists the kinds of a user's audit events, oldest first.
func auditKinds(t *testing.T, app *server.App, email string) []string {
	t.Helper()
	u, err := app.Backend.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	events, err := app.Auditor.Recent(context.Background(), u.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.UserAgent == auditAgent {
			kinds = append(kinds, e.Kind+": "+e.Detail)
		}
	}
	return kinds
}

func TestAdminAudit(t *testing.T) {
	// What an administrator does to an account shows in its history.
	db := newDB(t)
	addAlice(t, db)
	latchRun(t, db, changedPassword+"\n", "user", "passwd", "-password-stdin", "alice").ok(t)
	latchRun(t, db, "", "user", "disable", "alice").ok(t)
	latchRun(t, db, "", "user", "disable", "alice").ok(t) // no change, no event
	latchRun(t, db, "", "user", "enable", "alice").ok(t)
	latchRun(t, db, "", "sessions", "revoke", "alice").ok(t)
	file := writeFile(t, "old-users.csv", "username,email,password_hash\nbob,bob@example.com,$2b$12$2h65PZdeL0OjncUz7iDCfOznaoKWMkikqOjh9f/aUuhLxSVkLYw3S\n")
	latchRun(t, db, "", "import", file).ok(t)
	app := openApp(t, db)
	got := strings.Join(auditKinds(t, app, "alice@example.com"), "\n")
	want := strings.Join([]string{
		"signup: created by an administrator",
		"password_changed: by an administrator",
		"account_disabled: by an administrator",
		"account_enabled: by an administrator",
		"sessions_revoked: by an administrator",
	}, "\n")
	if got != want {
		t.Errorf("alice's audit events:\n%s\nwant:\n%s", got, want)
	}
	if got := auditKinds(t, app, "bob@example.com"); len(got) != 1 || got[0] != "imported: imported from old-users.csv by an administrator" {
		t.Errorf("bob's audit events: %q", got)
	}
}
