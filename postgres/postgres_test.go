package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/postgres"
	"github.com/latchgo/latch/storetest"
	"github.com/latchgo/latch/throttle"
)

// serverURL returns LATCH_TEST_POSTGRES, the URL of a database the tests
// may create schemas in, or skips the test.
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("LATCH_TEST_POSTGRES")
	if u == "" {
		t.Skip("LATCH_TEST_POSTGRES not set")
	}
	return u
}

// newSchema creates an empty schema with a random name, drops it with
// everything in it when the test ends, and returns the server URL with
// that schema as its search path.
func newSchema(t testing.TB) (schemaURL, schema string) {
	t.Helper()
	base := serverURL(t)
	b := make([]byte, 8)
	rand.Read(b)
	schema = "latch_test_" + hex.EncodeToString(b)
	admin(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { admin(t, base, "DROP SCHEMA "+schema+" CASCADE") })

	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatal("LATCH_TEST_POSTGRES must be a postgres:// URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}

// admin runs one statement on a connection of its own.
func admin(t testing.TB, url, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to LATCH_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// open opens a Store on url and closes it when the test ends, before the
// schema is dropped.
func open(t testing.TB, url string, opts ...postgres.Option) *postgres.AccountStore {
	t.Helper()
	s, err := postgres.OpenAccounts(context.Background(), url, opts...)
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

// newStore returns a Store on a fresh schema of its own.
func newStore(t testing.TB) *postgres.AccountStore {
	u, _ := newSchema(t)
	return open(t, u)
}

func TestStoretest(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t *testing.T) storetest.Backend { return newStore(t) })
}

// TestChanges: the change feed, with a second Store on the same schema as
// another instance.
func TestChanges(t *testing.T) {
	serverURL(t)
	storetest.Changes(t, func(t *testing.T) (latch.SessionStore, latch.SessionStore) {
		u, _ := newSchema(t)
		return open(t, u), open(t, u)
	})
}

// TestChangesCut terminates the change feeds' connections while another
// instance writes: the Store never vouches for a version that misses the
// write.
func TestChangesCut(t *testing.T) {
	u, _ := newSchema(t)
	a, b := open(t, u), open(t, u)
	ctx := t.Context()
	now := time.Now()
	for i := range 10 {
		deadline := time.Now().Add(5 * time.Second)
		var before uint64
		for {
			v, ok := a.Changes()
			if ok {
				before = v
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the feed did not come back within 5s", i)
			}
			time.Sleep(time.Millisecond)
		}
		admin(t, serverURL(t), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"+postgres.FeedApplicationName+"'")
		if err := b.CreateSession(ctx, latch.Session{Hash: fmt.Sprintf("cut-%d", i), UserID: "7", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(latch.MaxStaleness)
		if v, ok := a.Changes(); ok && v <= before {
			t.Fatalf("round %d: with its feed cut, the store vouches for the version from before another instance's write", i)
		}
	}
}

// TestRevocation: revocations are final with requests in flight.
func TestRevocation(t *testing.T) {
	serverURL(t)
	storetest.Revocation(t, func(t *testing.T) latch.Store { return newStore(t) })
}

// TestConcurrentFirstOpen starts ten instances at once on an empty schema,
// as a deployment does: all of them open, the migrations are applied
// once, and every instance works on the same data.
func TestConcurrentFirstOpen(t *testing.T) {
	u, schema := newSchema(t)
	const n = 10
	stores := make([]*postgres.AccountStore, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = postgres.OpenAccounts(t.Context(), u) })
	}
	wg.Wait()
	t.Logf("%d concurrent Opens on an empty schema took %v", n, time.Since(start).Round(time.Millisecond))
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
	checkAppliedOnce(t, stores[0], schema)

	// Every instance writes, and sees what the others wrote.
	ctx := t.Context()
	for i, s := range stores {
		u := &account.User{Username: fmt.Sprintf("user%d", i), Email: fmt.Sprintf("user%d@example.com", i), PasswordHash: "h", CreatedAt: time.Now()}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser through Store #%d: %v", i, err)
		}
	}
	for i, s := range stores {
		list, err := s.ListUsers(ctx, "", 100)
		if err != nil || len(list) != n {
			t.Errorf("ListUsers through Store #%d = %d users, %v; want %d", i, len(list), err, n)
		}
	}
}

// TestMigrationsIdempotent opens one schema again and again: nothing is
// applied twice.
func TestMigrationsIdempotent(t *testing.T) {
	u, schema := newSchema(t)
	for i := range 3 {
		s, err := postgres.OpenAccounts(t.Context(), u)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		checkVersions(t, s, fmt.Sprintf("Open #%d", i+1))
		checkAppliedOnce(t, s, schema)
		s.Close()
	}
}

// checkVersions checks that both sets of tables are at their newest
// migration.
func checkVersions(t *testing.T, s *postgres.AccountStore, what string) {
	t.Helper()
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != latestMigration(t, "sessions") {
		t.Errorf("%s: SchemaVersion = %d, %v; want %d", what, v, err, latestMigration(t, "sessions"))
	}
	if v, err := s.AccountsSchemaVersion(t.Context()); err != nil || v != latestMigration(t, "accounts") {
		t.Errorf("%s: AccountsSchemaVersion = %d, %v; want %d", what, v, err, latestMigration(t, "accounts"))
	}
}

// latestMigration is the version of the newest file in migrations/dir.
func latestMigration(t *testing.T, dir string) int64 {
	t.Helper()
	versions := migrationVersions(t, dir)
	return versions[len(versions)-1]
}

// migrationVersions lists the versions of the files in migrations/dir, in
// order.
func migrationVersions(t *testing.T, dir string) []int64 {
	t.Helper()
	entries, err := os.ReadDir("migrations/" + dir)
	if err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for _, e := range entries {
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s has no version prefix", e.Name())
		}
		versions = append(versions, v)
	}
	slices.Sort(versions)
	return versions
}

// checkAppliedOnce checks that latch's two version tables are in schema
// and record every migration of their set once.
func checkAppliedOnce(t *testing.T, s *postgres.AccountStore, schema string) {
	t.Helper()
	for _, set := range []string{"sessions", "accounts"} {
		rows, err := s.Pool().Query(t.Context(), `
			SELECT version_id, count(*) FROM `+pgx.Identifier{schema, "latch_schema_" + set}.Sanitize()+`
			GROUP BY version_id ORDER BY version_id`)
		if err != nil {
			t.Fatalf("the version table of the %s tables in schema %s: %v", set, schema, err)
		}
		var versions []int64
		var version, count int64
		_, err = pgx.ForEachRow(rows, []any{&version, &count}, func() error {
			versions = append(versions, version)
			if count != 1 {
				t.Errorf("%s: version %d recorded %d times", set, version, count)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := append([]int64{0}, migrationVersions(t, set)...) // 0: goose's marker of a new version table
		if !slices.Equal(versions, want) {
			t.Errorf("%s: versions recorded = %v, want %v", set, versions, want)
		}
	}
}

// TestSchemaIsolation opens two Stores on two schemas of one database:
// each has its own tables and data.
func TestSchemaIsolation(t *testing.T) {
	ctx := t.Context()
	urlA, schemaA := newSchema(t)
	urlB, _ := newSchema(t)
	a, b := open(t, urlA), open(t, urlB)
	u := &account.User{Username: "isolated", Email: "isolated@example.com", PasswordHash: "h", CreatedAt: time.Now()}
	if err := a.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := b.UserByEmail(ctx, u.Email); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("the other schema's UserByEmail: error = %v, want ErrNotFound", err)
	}
	// Same email, other schema: no clash.
	if err := b.CreateUser(ctx, &account.User{Username: "isolated", Email: u.Email, PasswordHash: "h", CreatedAt: time.Now()}); err != nil {
		t.Errorf("CreateUser in the other schema: %v", err)
	}
	tables := tablesOf(t, a.Pool(), schemaA)
	want := []string{"latch_api_tokens", "latch_attempts", "latch_audit_events", "latch_one_time_tokens", "latch_passkeys",
		"latch_recovery_codes", "latch_remember_tokens", "latch_schema_accounts", "latch_schema_sessions",
		"latch_sessions", "latch_users"}
	if !slices.Equal(tables, want) {
		t.Errorf("tables in schema %s = %q, want %q", schemaA, tables, want)
	}
}

// TestAttemptsShared: a burst over two Stores (two pools, as two
// instances have) gets exactly a rule's free attempts.
func TestAttemptsShared(t *testing.T) {
	serverURL(t)
	storetest.AttemptsShared(t, func(t *testing.T) (throttle.Store, throttle.Store) {
		u, _ := newSchema(t)
		return open(t, u), open(t, u)
	})
}

// TestConcurrentRecoveryReplace races two replacements of one user's
// recovery codes: one set survives whole, never a mix of both.
func TestConcurrentRecoveryReplace(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	u := &account.User{Username: "racer", Email: "racer@example.com", PasswordHash: "h", CreatedAt: time.Now()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		var wg sync.WaitGroup
		for set := range 2 {
			wg.Go(func() {
				var codes []string
				for i := range 10 {
					codes = append(codes, fmt.Sprintf("round%d-set%d-code%d", round, set, i))
				}
				if err := s.ReplaceRecoveryCodes(ctx, u.ID, codes); err != nil {
					t.Errorf("ReplaceRecoveryCodes: %v", err)
				}
			})
		}
		wg.Wait()
		h, err := s.RecoveryCodes(ctx, u.ID)
		if err != nil || len(h) != 10 {
			t.Fatalf("round %d: RecoveryCodes = %d, %v; want 10 (one set)", round, len(h), err)
		}
		for _, code := range h {
			if set := code[:strings.LastIndex(code, "-")]; set != h[0][:strings.LastIndex(h[0], "-")] {
				t.Fatalf("round %d: codes of two sets kept: %v", round, h)
			}
		}
	}
}

// TestOpenWithoutSchema names a schema that does not exist: with nowhere
// to create its tables, Open fails.
func TestOpenWithoutSchema(t *testing.T) {
	u, err := url.Parse(serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", "latch_test_no_such_schema")
	u.RawQuery = q.Encode()
	s, err := postgres.Open(t.Context(), u.String())
	if err == nil {
		s.Close()
		t.Fatal("Open on a schema that does not exist succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "schema") {
		t.Errorf("Open on a schema that does not exist: error %q does not say what is wrong", err)
	}
}

func TestOptions(t *testing.T) {
	ctx := t.Context()
	u, _ := newSchema(t)
	s := open(t, u,
		postgres.WithMaxConns(7),
		postgres.WithMinConns(2),
		postgres.WithConnectTimeout(3*time.Second),
		postgres.WithStatementTimeout(250*time.Millisecond))
	if got := s.Stats().MaxConns; got != 7 {
		t.Errorf("MaxConns = %d, want 7", got)
	}
	var timeout string
	if err := s.Pool().QueryRow(ctx, "SHOW statement_timeout").Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if timeout != "250ms" {
		t.Errorf("statement_timeout = %q, want 250ms", timeout)
	}
	_, err := s.Pool().Exec(ctx, "SELECT pg_sleep(2)")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("a statement longer than the timeout: error = %v, want query_canceled (57014)", err)
	}
	// The pool fills up to MinConns in the background.
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().TotalConns < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.Stats().TotalConns; got < 2 {
		t.Errorf("TotalConns = %d, want at least MinConns 2", got)
	}

	if _, err := postgres.Open(ctx, u, postgres.WithMaxConns(2), postgres.WithMinConns(3)); err == nil {
		t.Error("Open with MinConns above MaxConns succeeded, want an error")
	}
}

// TestRecoversFromLostConnections kills every server process of the
// pool, as a restart of PostgreSQL does. A restart takes more than a
// second, and pgxpool pings a connection that has been idle that long
// before it hands it out, replacing it if dead: the first call after the
// server is back succeeds.
func TestRecoversFromLostConnections(t *testing.T) {
	ctx := t.Context()
	u, _ := newSchema(t)
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	app := "latch_test_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	q := parsed.Query()
	q.Set("application_name", app)
	parsed.RawQuery = q.Encode()
	s := open(t, parsed.String(), postgres.WithMinConns(3))
	user := &account.User{Username: "survivor", Email: "survivor@example.com", PasswordHash: "h", CreatedAt: time.Now()}
	if err := s.CreateUser(ctx, user); err != nil {
		t.Fatal(err)
	}

	admin(t, serverURL(t), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '`+app+`'`)
	time.Sleep(1200 * time.Millisecond)
	for i := range 5 {
		if _, err := s.UserByID(ctx, user.ID); err != nil {
			t.Fatalf("UserByID #%d after the connections were killed: %v", i+1, err)
		}
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after the connections were killed: %v", err)
	}
}

func TestStats(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	before := s.Stats()
	for range 5 {
		if _, err := s.UserByID(ctx, "1"); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("UserByID: %v", err)
		}
	}
	after := s.Stats()
	if after.AcquireCount < before.AcquireCount+5 {
		t.Errorf("AcquireCount went from %d to %d after 5 queries, want +5 at least", before.AcquireCount, after.AcquireCount)
	}
	if after.TotalConns < 1 || after.IdleConns < 1 || after.AcquiredConns != 0 {
		t.Errorf("Stats = %+v, want open idle connections and none acquired", after)
	}
	if after.MaxConns < 1 || after.TotalConns > after.MaxConns {
		t.Errorf("Stats = %+v, want 1 <= TotalConns <= MaxConns", after)
	}
}

func TestPingAndClose(t *testing.T) {
	u, _ := newSchema(t)
	s, err := postgres.Open(t.Context(), u)
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

// TestOpenHidesPassword opens URLs that cannot work: no error may repeat
// the password, whether the URL does not parse or the server does not
// answer. No server is needed.
func TestOpenHidesPassword(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	for _, u := range []string{
		"postgres://latch:" + pw + "@127.0.0.1:1/latch?sslmode=disable&connect_timeout=2",
		"postgres://latch:" + pw + "@127.0.0.1:notaport/latch",
		"postgres://latch:" + pw + "/x@127.0.0.1/latch",
		"postgres://latch:" + pw + "@[::1/latch",
		"postgres://latch@127.0.0.1:1/latch?password=" + pw + "&sslmode=disable&connect_timeout=2",
		"postgres://latch:" + pw + "@127.0.0.1:1/latch?sslmode=bogus",
		"host=127.0.0.1 port=1 user=latch password=" + pw + " sslmode=disable connect_timeout=2",
		"host=127.0.0.1 port=1 user=latch password='" + pw + " sslmode=disable",
		"postgres://latch:" + pw + "@127.0.0.1:1/latch\x7f",
	} {
		s, err := postgres.Open(t.Context(), u)
		if err == nil {
			s.Close()
			t.Errorf("Open succeeded, want an error")
			continue
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Open error %q contains the password", err)
		}
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), pw) {
				t.Errorf("an error wrapped in %q contains the password", err)
			}
		}
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
	dup = *u
	dup.Email = "other@example.com"
	errs = append(errs, s.CreateUser(ctx, &dup))
	_, err := s.UserByEmail(ctx, "typed.by.someone@example.com")
	errs = append(errs, err)
	_, err = s.UserByUsername(ctx, "typed-name")
	errs = append(errs, err)
	_, err = s.UserByID(ctx, "1; DROP TABLE latch_users")
	errs = append(errs, err)
	other := &account.User{Username: "neighbour", Email: "neighbour.secret@example.com", PasswordHash: "h", CreatedAt: time.Now()}
	if err := s.CreateUser(ctx, other); err != nil {
		t.Fatal(err)
	}
	errs = append(errs, s.SetEmail(ctx, u.ID, "Neighbour.Secret@example.com", time.Time{}))
	for _, err := range errs {
		if err == nil {
			t.Fatal("want an error")
		}
		for _, secret := range []string{"secret", "typed", "DROP", "neighbour"} {
			if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(secret)) {
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

// TestHotPathsUseIndexes asks the planner how it runs the lookups that
// every request makes, on a table large enough that a sequential scan
// would be chosen if no index matched the query.
func TestHotPathsUseIndexes(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	pool := s.Pool()
	for _, stmt := range []string{
		`INSERT INTO latch_users (username, email, password_hash, created_at, username_skeleton)
			SELECT 'user' || i, 'user' || i || '@example.com', 'h', now(), 'user' || i FROM generate_series(1, 5000) AS i`,
		`INSERT INTO latch_sessions (hash, user_id, created_at, last_seen_at, expires_at)
			SELECT md5(i::text), (i % 100)::text, now(), now(), now() + interval '1 hour' FROM generate_series(1, 5000) AS i`,
		`INSERT INTO latch_api_tokens (user_id, name, hash, created_at)
			SELECT i, 'token', md5(i::text), now() FROM generate_series(1, 5000) AS i`,
		`ANALYZE latch_users`,
		`ANALYZE latch_sessions`,
		`ANALYZE latch_api_tokens`,
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for _, c := range []struct {
		query string
		args  []any
		index string
	}{
		{postgres.UserByEmailSQL, []any{"User42@Example.com"}, "latch_users_email_ci"},
		{postgres.UserByUsernameSQL, []any{"USER42"}, "latch_users_username_ci"},
		{postgres.UserByIDSQL, []any{int64(42)}, "latch_users_pkey"},
		{postgres.FindSessionSQL, []any{"x", time.Now()}, "latch_sessions_pkey"},
		{postgres.APITokenByHashSQL, []any{"x", time.Now()}, "latch_api_tokens_hash_key"},
	} {
		rows, err := pool.Query(ctx, "EXPLAIN "+c.query, c.args...)
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", c.query, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, c.index) {
			t.Errorf("plan of %s does not use %s:\n%s", c.query, c.index, plan)
		}
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
