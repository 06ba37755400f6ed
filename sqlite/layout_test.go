package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/sqlite"
)

// tables lists the tables of the database file at path.
func tables(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

// TestBesideTheApplicationsTables opens latch on a database that already
// has an application's own users table and goose version table, as a shop
// that adopts latch has: Open creates only its session tables, with their
// own version table; OpenAccounts adds latch_users and the rest; the
// application's tables and rows are untouched.
func TestBesideTheApplicationsTables(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, pw_hash TEXT NOT NULL)`,
		`INSERT INTO users (email, pw_hash) VALUES ('owner@shop.example', 'x'), ('clerk@shop.example', 'y')`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), total INTEGER)`,
		`INSERT INTO orders (user_id, total) VALUES (1, 4200)`,
		`CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))`,
		`INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1), (2, 1)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()
	appTables := []string{"goose_db_version", "orders", "users"}

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open beside the application's tables: %v", err)
	}
	if err := s.CreateSession(ctx, latch.Session{Hash: "h", UserID: "1", CreatedAt: time.Now(), LastSeenAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	want := append(slices.Clone(appTables), "latch_attempts", "latch_remember_tokens", "latch_schema_sessions", "latch_sessions")
	slices.Sort(want)
	if got := tables(t, path); !slices.Equal(got, want) {
		t.Fatalf("tables after Open = %q, want %q", got, want)
	}

	as, err := sqlite.OpenAccounts(ctx, path)
	if err != nil {
		t.Fatalf("OpenAccounts beside the application's tables: %v", err)
	}
	defer as.Close()
	if _, found, err := as.FindSession(ctx, "h", time.Now()); err != nil || !found {
		t.Fatalf("the session after OpenAccounts: %v, %v", found, err)
	}
	for _, n := range []string{"latch_users", "latch_api_tokens", "latch_one_time_tokens", "latch_recovery_codes", "latch_audit_events", "latch_schema_accounts"} {
		if !slices.Contains(tables(t, path), n) {
			t.Errorf("OpenAccounts did not create %s", n)
		}
	}
	// The application's rows, and its goose versions, are as they were.
	db, _ = sql.Open("sqlite", path+"?_pragma=query_only(1)")
	defer db.Close()
	var users, orders, versions int
	db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM orders), (SELECT max(version_id) FROM goose_db_version)`).Scan(&users, &orders, &versions)
	if users != 2 || orders != 1 || versions != 2 {
		t.Errorf("the application's tables changed: %d users, %d orders, goose version %d", users, orders, versions)
	}
}

// TestLegacyDatabaseConverted opens a database made by latch as it was on
// 2026-12-03 (testdata, written by that version's own code): every row is
// still there under the new table names, the two users whose names look
// alike (signed up before skeletons were checked) both keep their accounts,
// and new look-alikes are refused from now on.
func TestLegacyDatabaseConverted(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "legacy.db")
	copyFile(t, "testdata/legacy-2026-12-03.db", path)
	s := open(t, path)
	checkVersions(t, s, "after the conversion")

	want := []string{"latch_api_tokens", "latch_attempts", "latch_audit_events", "latch_one_time_tokens", "latch_passkeys",
		"latch_recovery_codes", "latch_remember_tokens", "latch_schema_accounts", "latch_schema_legacy",
		"latch_schema_sessions", "latch_sessions", "latch_users"}
	if got := tables(t, path); !slices.Equal(got, want) {
		t.Errorf("tables = %q, want %q", got, want)
	}
	list, err := s.ListUsers(ctx, "", 100)
	if err != nil || len(list) != 6 {
		t.Fatalf("ListUsers = %d users, %v; want the 6 of the old database", len(list), err)
	}
	for _, name := range []string{"llbill", "lIbill", "carol"} {
		if _, err := s.UserByUsername(ctx, name); err != nil {
			t.Errorf("user %s: %v", name, err)
		}
	}
	if u, _ := s.UserByUsername(ctx, "carol"); u == nil || !u.Disabled {
		t.Error("carol is no longer disabled")
	}
	bob, _ := s.UserByUsername(ctx, "bob")
	if bob == nil || !bob.TwoFactor() {
		t.Fatal("bob lost his second factor")
	}
	if h, err := s.RecoveryCodes(ctx, bob.ID); err != nil || len(h) != 2 {
		t.Errorf("bob's recovery codes = %d, %v; want 2", len(h), err)
	}
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	for _, h := range []string{"session-alice", "session-bob", "session-anonymous"} {
		if _, found, err := s.FindSession(ctx, h, now); err != nil || !found {
			t.Errorf("session %s: %v, %v", h, found, err)
		}
	}
	if tok, found, err := s.FindRemember(ctx, "selector-alice", now); err != nil || !found || tok.Series != "series-alice" {
		t.Errorf("remember-me token: %+v, %v, %v", tok, found, err)
	}
	if _, err := s.APITokenByHash(ctx, "api-hash-bob", now); err != nil {
		t.Errorf("API token: %v", err)
	}
	if _, err := s.ConsumeOneTimeToken(ctx, account.PurposeReset, "reset-hash-alice", now); err != nil {
		t.Errorf("reset link: %v", err)
	}
	if n, _, err := s.Attempts(ctx, "login:acct:x", time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), time.Hour); err != nil || n != 1 {
		t.Errorf("attempts = %d, %v; want 1", n, err)
	}
	alice, _ := s.UserByUsername(ctx, "alice")
	if ev, err := s.UserAuditEvents(ctx, alice.ID, 10); err != nil || len(ev) != 1 {
		t.Errorf("audit events of alice = %d, %v", len(ev), err)
	}
	// Foreign keys still cascade after the rename.
	if err := s.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APITokenByHash(ctx, "api-hash-bob", now); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("bob's API token after his deletion: %v", err)
	}
	// Skeletons hold from now on, for the old users' names too.
	for _, name := range []string{"IIbill", "a1ice", "LLBILL"} {
		err := s.CreateUser(ctx, &account.User{Username: name, Email: name + "@new.example", PasswordHash: "h", CreatedAt: now})
		if !errors.Is(err, account.ErrUsernameTaken) {
			t.Errorf("CreateUser(%q) = %v, want ErrUsernameTaken", name, err)
		}
	}
	// Opening again changes nothing.
	s.Close()
	again := open(t, path)
	if list, _ := again.ListUsers(ctx, "", 100); len(list) != 5 {
		t.Errorf("after reopening: %d users, want 5", len(list))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLegacyConvertedOnce: instances opening an old database at the same
// moment convert it once.
func TestLegacyConvertedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "legacy.db")
	copyFile(t, "testdata/legacy-2026-12-03.db", path)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := sqlite.OpenAccounts(context.Background(), path)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("OpenAccounts: %v", err)
		}
	}
	s := open(t, path)
	if list, _ := s.ListUsers(t.Context(), "", 100); len(list) != 6 {
		t.Errorf("%d users after concurrent conversions, want 6", len(list))
	}
}
