package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/sqlite"
	"github.com/latchgo/latch/storetest"
	"github.com/latchgo/latch/throttle"
)

// open opens the database at path with the account tables and closes it
// when the test ends.
func open(t testing.TB, path string) *sqlite.AccountStore {
	t.Helper()
	s, err := sqlite.OpenAccounts(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func newStore(t testing.TB) *sqlite.AccountStore {
	return open(t, filepath.Join(t.TempDir(), "latch.db"))
}

func TestStoretest(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend { return newStore(t) })
}

// TestChanges: the change feed, with a second Store on the same file as
// the other process (the command line next to the server).
func TestChanges(t *testing.T) {
	storetest.Changes(t, func(t *testing.T) (latch.SessionStore, latch.SessionStore) {
		path := filepath.Join(t.TempDir(), "latch.db")
		return open(t, path), open(t, path)
	})
}

// TestChangesUnsureAfterClose: a closed store's watcher is gone, and the
// store no longer vouches for its version.
func TestChangesUnsureAfterClose(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for _, ok := s.Changes(); !ok; _, ok = s.Changes() {
		if time.Now().After(deadline) {
			t.Fatal("never sure")
		}
		time.Sleep(time.Millisecond)
	}
	s.Close()
	if _, ok := s.Changes(); ok {
		t.Fatal("a closed store vouches for its version")
	}
}

// TestRevocation: revocations are final with requests in flight.
func TestRevocation(t *testing.T) {
	storetest.Revocation(t, func(t *testing.T) latch.Store { return newStore(t) })
}

func TestPragmas(t *testing.T) {
	ctx := t.Context()
	write, read := newStore(t).Pools()
	if n := write.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer pool allows %d connections, want 1", n)
	}
	if n := read.Stats().MaxOpenConnections; n < 4 {
		t.Errorf("reader pool allows %d connections, want at least 4", n)
	}
	want := map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"synchronous":  "2", // FULL
		"busy_timeout": "10000",
	}
	check := func(pool string, conn *sql.Conn, queryOnly string) {
		t.Helper()
		for pragma, want := range want {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", pool, pragma, err)
			}
			if !strings.EqualFold(got, want) {
				t.Errorf("%s: PRAGMA %s = %s, want %s", pool, pragma, got, want)
			}
		}
		var got string
		if err := conn.QueryRowContext(ctx, "PRAGMA query_only").Scan(&got); err != nil {
			t.Fatalf("%s: PRAGMA query_only: %v", pool, err)
		}
		if got != queryOnly {
			t.Errorf("%s: PRAGMA query_only = %s, want %s", pool, got, queryOnly)
		}
	}

	conn, err := write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("writer", conn, "0")
	conn.Close()

	// Hold several reader connections at once, so that each is a
	// different one.
	var conns []*sql.Conn
	for range 3 {
		conn, err := read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		check("reader", conn, "1")
	}
	for _, c := range conns {
		c.Close()
	}
}

func TestReaderPoolIsReadOnly(t *testing.T) {
	_, read := newStore(t).Pools()
	if _, err := read.ExecContext(t.Context(), "DELETE FROM latch_users"); err == nil {
		t.Error("a write through the reader pool succeeded, want an error")
	}
}

func TestDurableAcrossReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latch.db")
	s, err := sqlite.OpenAccounts(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u := &account.User{Username: "durable", Email: "durable@example.com", PasswordHash: "h", CreatedAt: time.Now().Truncate(time.Millisecond)}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := open(t, path).UserByEmail(ctx, u.Email)
	if err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	if got.ID != u.ID || got.Username != u.Username || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("after reopening: %+v, want %+v", got, u)
	}
}

// TestDurableAcrossCrash runs a child process that creates a user and
// exits at once, without closing the store, as a crash would.
func TestDurableAcrossCrash(t *testing.T) {
	if path := os.Getenv("LATCH_SQLITE_CRASH_DB"); path != "" {
		s, err := sqlite.OpenAccounts(context.Background(), path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		u := &account.User{Username: "crash", Email: "crash@example.com", PasswordHash: "h", CreatedAt: time.Now()}
		if err := s.CreateUser(context.Background(), u); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Print(u.ID)
		os.Exit(0) // no Close, no checkpoint
	}
	path := filepath.Join(t.TempDir(), "latch.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestDurableAcrossCrash$")
	cmd.Env = append(os.Environ(), "LATCH_SQLITE_CRASH_DB="+path,
		"GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0") // under -race, exit at once
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child process: %v", err)
	}
	got, err := open(t, path).UserByEmail(t.Context(), "crash@example.com")
	if err != nil {
		t.Fatalf("after the child's crash: %v", err)
	}
	if got.ID != string(out) {
		t.Errorf("user ID = %q, child reported %q", got.ID, out)
	}
}

// TestSecondOpen opens the file a second time while the first Store is in
// use, as "latch user add" does beside a running server.
func TestSecondOpen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latch.db")
	server, cli := open(t, path), open(t, path)

	u := &account.User{Username: "fromcli", Email: "cli@example.com", PasswordHash: "h", CreatedAt: time.Now()}
	if err := cli.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser through the second Store: %v", err)
	}
	if _, err := server.UserByID(ctx, u.ID); err != nil {
		t.Errorf("UserByID through the first Store: %v", err)
	}
	err := server.CreateUser(ctx, &account.User{Username: "other", Email: "CLI@example.com", PasswordHash: "h"})
	if !errors.Is(err, account.ErrEmailTaken) {
		t.Errorf("CreateUser clashing across Stores: %v, want ErrEmailTaken", err)
	}
}

// TestConcurrentFirstOpen opens a new file from several Stores at once:
// all of them must succeed, and the migrations must be applied once.
func TestConcurrentFirstOpen(t *testing.T) {
	t.Run("NewFile", func(t *testing.T) {
		testConcurrentFirstOpen(t, filepath.Join(t.TempDir(), "latch.db"))
	})
	// With goose's version table already there, every Store sees the
	// same migrations pending, and all but one lose the race to apply
	// them.
	t.Run("VersionTableOnly", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "latch.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		versions, err := database.NewStore(database.DialectSQLite3, goose.DefaultTablename)
		if err != nil {
			t.Fatal(err)
		}
		if err := versions.CreateVersionTable(t.Context(), db); err != nil {
			t.Fatal(err)
		}
		if err := versions.Insert(t.Context(), db, database.InsertRequest{Version: 0}); err != nil {
			t.Fatal(err)
		}
		testConcurrentFirstOpen(t, path)
	})
}

func testConcurrentFirstOpen(t *testing.T, path string) {
	const n = 4
	stores := make([]*sqlite.AccountStore, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = sqlite.OpenAccounts(t.Context(), path) })
	}
	wg.Wait()
	for i, s := range stores {
		if s != nil {
			t.Cleanup(func() { s.Close() })
		}
		if errs[i] != nil {
			t.Errorf("Open #%d: %v", i, errs[i])
		}
	}
	if t.Failed() {
		return
	}
	for i, s := range stores {
		checkVersions(t, s, fmt.Sprintf("Store #%d", i))
	}
	checkAppliedOnce(t, stores[0])
}

// TestConcurrentWritersAcrossStores runs writes from two Stores on one
// file at once: they wait for each other instead of failing with
// SQLITE_BUSY, and TakeAttempt stays atomic across them.
func TestConcurrentWritersAcrossStores(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latch.db")
	a, b := open(t, path), open(t, path)
	now := time.Now().Truncate(time.Millisecond)
	const perStore = 10
	rule := throttle.Rule{Window: time.Minute, Free: perStore, Base: time.Minute, Max: time.Minute}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for i, s := range []*sqlite.AccountStore{a, b, a, b} {
		for j := range perStore / 2 {
			wg.Go(func() {
				wait, err := s.TakeAttempt(ctx, "shared", now, rule)
				if err != nil {
					t.Errorf("TakeAttempt: %v", err)
					return
				}
				if wait == 0 {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
				// A read-then-write transaction, which would fail at
				// once if it began DEFERRED and another Store wrote
				// between its read and its write.
				user := strconv.Itoa(i % 2)
				tok := latch.RememberToken{Selector: fmt.Sprintf("sel-%d-%d", i, j), ValidatorHash: "v", UserID: user, Series: fmt.Sprintf("series-%d-%d", i, j), ExpiresAt: now.Add(time.Hour)}
				if err := s.CreateRemember(ctx, tok); err != nil {
					t.Errorf("CreateRemember: %v", err)
				}
				if _, err := s.DeleteUserRemember(ctx, user); err != nil {
					t.Errorf("DeleteUserRemember: %v", err)
				}
			})
		}
	}
	wg.Wait()
	if allowed != perStore {
		t.Fatalf("%d of %d attempts allowed across two Stores, want %d", allowed, 2*perStore, perStore)
	}
}

// TestAttemptsShared: a burst over two Stores on one file (the server and
// a second process) gets exactly a rule's free attempts.
func TestAttemptsShared(t *testing.T) {
	storetest.AttemptsShared(t, func(t *testing.T) (throttle.Store, throttle.Store) {
		path := filepath.Join(t.TempDir(), "latch.db")
		return open(t, path), open(t, path)
	})
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latch.db")
	for i := range 3 {
		s, err := sqlite.OpenAccounts(ctx, path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		checkVersions(t, s, fmt.Sprintf("Open #%d", i+1))
		checkAppliedOnce(t, s)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// latestMigration is the version of the newest file in migrations/dir.
func latestMigration(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("migrations", dir))
	if err != nil {
		t.Fatal(err)
	}
	var latest int64
	for _, e := range entries {
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s has no version prefix", e.Name())
		}
		latest = max(latest, v)
	}
	return latest
}

// checkVersions checks that both sets of tables are at their newest
// migration.
func checkVersions(t *testing.T, s *sqlite.AccountStore, what string) {
	t.Helper()
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != latestMigration(t, "sessions") {
		t.Errorf("%s: SchemaVersion = %d, %v; want %d", what, v, err, latestMigration(t, "sessions"))
	}
	if v, err := s.AccountsSchemaVersion(t.Context()); err != nil || v != latestMigration(t, "accounts") {
		t.Errorf("%s: AccountsSchemaVersion = %d, %v; want %d", what, v, err, latestMigration(t, "accounts"))
	}
}

// checkAppliedOnce checks that goose recorded every migration once, in
// the version tables of both sets of tables.
func checkAppliedOnce(t *testing.T, s *sqlite.AccountStore) {
	t.Helper()
	_, read := s.Pools()
	for _, table := range []string{"latch_schema_sessions", "latch_schema_accounts"} {
		rows, err := read.QueryContext(t.Context(),
			`SELECT version_id, count(*) FROM `+table+` GROUP BY version_id HAVING count(*) > 1`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v, n int64
			if err := rows.Scan(&v, &n); err != nil {
				t.Fatal(err)
			}
			t.Errorf("%s: migration %d recorded %d times", table, v, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
}

// TestUpgradeFromFirstSchema opens a database made by the first migration
// of the earliest latch alone, with a user in it: OpenAccounts brings it
// through the rest of that layout's migrations, converts it to today's, and
// the user keeps working with the new columns' defaults.
func TestUpgradeFromFirstSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latch.db")
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS("migrations/legacy"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatalf("migrate to version 1: %v", err)
	}
	created := time.Now().Truncate(time.Millisecond)
	if _, err := db.ExecContext(ctx, `INSERT INTO users (username, email, password_hash, created_at, disabled)
		VALUES ('veteran', 'veteran@example.com', 'h', ?, 0)`, created.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := open(t, path)
	checkVersions(t, s, "after the upgrade")
	u, err := s.UserByEmail(ctx, "veteran@example.com")
	if err != nil {
		t.Fatalf("the existing user after the upgrade: %v", err)
	}
	if u.Username != "veteran" || !u.CreatedAt.Equal(created) || u.EmailConfirmed() || u.TwoFactor() {
		t.Errorf("the existing user after the upgrade = %+v, want veteran, unconfirmed, without two-factor", u)
	}
	if ok, err := s.UseTOTPStep(ctx, u.ID, 58000000); err != nil || !ok {
		t.Errorf("UseTOTPStep of the existing user = %v, %v; want true", ok, err)
	}
	tok := &account.APIToken{UserID: u.ID, Name: "n", Hash: "h", CreatedAt: created}
	if err := s.CreateAPIToken(ctx, tok); err != nil {
		t.Errorf("CreateAPIToken for the existing user: %v", err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APITokenByHash(ctx, "h", created); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("the token after its user was deleted: error = %v, want ErrNotFound (foreign keys cascade)", err)
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{
		"",
		":memory:",
		"file:" + filepath.Join(dir, "uri.db"),
		filepath.Join(dir, "query.db") + "?mode=ro",
		filepath.Join(dir, "no-such-dir", "latch.db"),
	} {
		if s, err := sqlite.OpenAccounts(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

func TestPingAndClose(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded, want an error")
	}
}

// TestErrorsHideInput checks that errors name neither what the user typed
// nor secrets, so that logging them is safe.
func TestErrorsHideInput(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	u := &account.User{Username: "secretive", Email: "secret.address@example.com", PasswordHash: "$argon2id$secret-hash", CreatedAt: time.Now()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	dup := *u
	dup.Username = "other"
	errs := []error{s.CreateUser(ctx, &dup)}
	_, err := s.UserByEmail(ctx, "typed.by.someone@example.com")
	errs = append(errs, err)
	_, err = s.UserByUsername(ctx, "typed-name")
	errs = append(errs, err)
	_, err = s.UserByID(ctx, "1; DROP TABLE users")
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("want an error")
		}
		for _, secret := range []string{u.Email, u.PasswordHash, "typed", "DROP"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains %q", err, secret)
			}
		}
	}
}

// TestDeleteExpiredCounts checks the counts that the conformance suite
// lets a self-expiring store skip: this store expires nothing by itself,
// so its counts must be exact.
func TestDeleteExpiredCounts(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	now := time.Now().Truncate(time.Millisecond)
	for i, at := range []time.Duration{-3 * time.Hour, -2 * time.Hour, -time.Minute, 0} {
		if _, err := s.TakeAttempt(ctx, "k"+strconv.Itoa(i%2), now.Add(at), throttle.Rule{Window: 24 * time.Hour, Free: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteExpiredAttempts(ctx, now.Add(-time.Hour)); err != nil || n != 2 {
		t.Errorf("DeleteExpiredAttempts = %d, %v; want 2, nil", n, err)
	}
	for i, exp := range []time.Duration{-time.Hour, 0, time.Hour} {
		sess := latch.Session{Hash: "h" + strconv.Itoa(i), UserID: "1", ExpiresAt: now.Add(exp)}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		tok := latch.RememberToken{Selector: "s" + strconv.Itoa(i), UserID: "1", Series: "x" + strconv.Itoa(i), ExpiresAt: now.Add(exp)}
		if err := s.CreateRemember(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteExpiredSessions(ctx, now); err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 2, nil", n, err)
	}
	if n, err := s.DeleteExpiredRemember(ctx, now); err != nil || n != 2 {
		t.Errorf("DeleteExpiredRemember = %d, %v; want 2, nil", n, err)
	}
}

func BenchmarkFindSession(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	now := time.Now()
	const n = 1000
	for i := range n {
		sess := latch.Session{
			Hash: fmt.Sprintf("%064x", i), UserID: strconv.Itoa(i % 100),
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour),
			IP: "192.0.2.1", UserAgent: "bench", Data: make([]byte, 256),
		}
		if err := s.CreateSession(ctx, sess); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok, err := s.FindSession(ctx, fmt.Sprintf("%064x", i%n), now); err != nil || !ok {
				b.Errorf("FindSession = %v, %v", ok, err)
				return
			}
			i++
		}
	})
}

func BenchmarkUserByID(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	const n = 1000
	ids := make([]string, n)
	for i := range n {
		u := &account.User{Username: fmt.Sprintf("user%d", i), Email: fmt.Sprintf("user%d@example.com", i), PasswordHash: "h", CreatedAt: time.Now()}
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		ids[i] = u.ID
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.UserByID(ctx, ids[i%n]); err != nil {
				b.Errorf("UserByID: %v", err)
				return
			}
			i++
		}
	})
}

// TestRequestMemo: with WithRequestMemo, FindSession reads the session's
// user in the same statement and the next UserByID is answered from it —
// exactly as fresh as a separate query, handed out once, and only for the
// session's own user.
func TestRequestMemo(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.OpenAccounts(ctx, filepath.Join(t.TempDir(), "memo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := &account.User{Username: "memo", Email: "memo@example.com", PasswordHash: "x", CreatedAt: now}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	other := &account.User{Username: "other", Email: "other@example.com", PasswordHash: "x", CreatedAt: now}
	if err := s.CreateUser(ctx, other); err != nil {
		t.Fatal(err)
	}
	sess := latch.Session{Hash: "h-memo", UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}

	rctx := sqlite.WithRequestMemo(ctx)
	got, found, err := s.FindSession(rctx, "h-memo", now)
	if err != nil || !found || got.UserID != u.ID {
		t.Fatalf("FindSession = %+v, %v, %v", got, found, err)
	}
	// Disabled between the two lookups of one request: the memo holds the
	// row read with the session (same snapshot a separate query would
	// have seen a moment earlier); the next request sees the change.
	held, err := s.UserByID(rctx, u.ID)
	if err != nil || held.Username != "memo" || held.Email != "memo@example.com" {
		t.Fatalf("held user = %+v, %v", held, err)
	}
	if o, err := s.UserByID(rctx, other.ID); err != nil || o.Username != "other" {
		t.Fatalf("another id is not served from the memo: %+v, %v", o, err)
	}
	if err := s.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if again, err := s.UserByID(rctx, u.ID); err != nil || !again.Disabled {
		t.Fatalf("second lookup must query the database: %+v, %v", again, err)
	}
	rctx = sqlite.WithRequestMemo(ctx)
	s.FindSession(rctx, "h-memo", now)
	if next, err := s.UserByID(rctx, u.ID); err != nil || !next.Disabled {
		t.Fatalf("next request: %+v, %v", next, err)
	}
	// A deleted user is held as "not found".
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	rctx = sqlite.WithRequestMemo(ctx)
	if _, found, _ := s.FindSession(rctx, "h-memo", now); !found {
		t.Fatal("session gone")
	}
	if _, err := s.UserByID(rctx, u.ID); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("deleted user: %v", err)
	}
}

// An attempt over the limit is refused without the writer: a flood of
// refusals must not queue behind, or in front of, the writes of everyone
// else. The writer is held by another transaction throughout.
func TestRefusedAttemptNeedsNoWriter(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	rule := throttle.Rule{Window: time.Hour, Free: 2, Base: time.Minute, Max: time.Hour}
	now := time.Now()
	for i := range rule.Free {
		if wait, err := s.TakeAttempt(ctx, "k", now.Add(time.Duration(i)*time.Millisecond), rule); err != nil || wait != 0 {
			t.Fatalf("free attempt %d: %v %v", i, wait, err)
		}
	}
	write, _ := s.Pools()
	tx, err := write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM latch_attempts WHERE key = 'other'`); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	wait, err := s.TakeAttempt(short, "k", now.Add(time.Second), rule)
	if err != nil || wait <= 0 {
		t.Fatalf("an attempt over the limit while the writer is busy: wait %v, err %v (want a wait, at once)", wait, err)
	}
}
