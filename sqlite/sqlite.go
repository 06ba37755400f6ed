// Package sqlite keeps latch's sessions, remember-me tokens and rate-limit
// attempts — and, with the account package, user accounts — in one SQLite
// database file, through the pure-Go driver modernc.org/sqlite (no cgo,
// nothing to install).
//
// [Open] creates the file if needed and brings latch's tables up to date
// with the migrations embedded in this package, so a path is all it takes:
//
//	store, err := sqlite.Open(ctx, "app.db")
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//
// A [*Store] is a [latch.Store] and a [throttle.Store]: all the root
// package needs, for an application that keeps its own users. It creates
// only its own tables — latch_sessions, latch_remember_tokens and
// latch_attempts, with their own goose version table latch_schema_sessions
// — so it lives beside the application's tables (and the application's own
// migrations, goose's or any other) in the same file. [OpenAccounts] adds
// the account package's tables (latch_users and what belongs to users,
// version table latch_schema_accounts) and returns an [*AccountStore], an
// [account.Backend] as well. A database made by latch before the tables
// had their prefix is converted when it is opened, every row kept.
//
// # Concurrency
//
// A Store holds two connection pools on the file. Every write goes through
// a pool of exactly one connection, so writers of this process queue in Go
// instead of failing with SQLITE_BUSY, and every write transaction begins
// IMMEDIATE, taking the file's write lock before it reads. Reads use a
// separate pool of read-only connections that, thanks to the write-ahead
// log (WAL), never wait for a writer. Other processes may open the same
// file at the same time (latch's "user add" command runs beside the
// server); their writers wait for each other for up to 10 seconds.
//
// # Durability
//
// Connections run with synchronous=FULL: a commit returns only after the
// write-ahead log has been flushed to stable storage. In WAL mode the
// cheaper synchronous=NORMAL survives a crash of the process but may lose
// the last commits when the machine loses power, and latch promises that
// an account whose sign-up was acknowledged exists after any crash.
//
// # Users and sessions
//
// The session tables keep user ids as text with no foreign key, so that
// applications with their own users table can use the Store for sessions
// alone. [AccountStore.DeleteUser] removes the user's sessions and
// remember-me tokens from this database as well; when sessions live
// elsewhere (see [latch.JoinStores]), deleting an account revokes them
// through the latch manager. Everything else kept for a user (API tokens,
// one-time tokens, recovery codes, audit events) has a foreign key to
// latch_users that cascades, and storing such a record for a user who does
// not exist is refused with [account.ErrNotFound].
//
// User ids are SQLite integers written as decimal strings. A string that
// is not one exactly ("abc", "07", " 7") names no user.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/changefeed"
	"github.com/latchgo/latch/throttle"
)

//go:embed migrations
var migrations embed.FS

// Parameters every connection is opened with. busy_timeout makes a writer
// of another process wait for the lock instead of failing at once.
const connParams = "_pragma=busy_timeout(10000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(FULL)"

const (
	writerParams = connParams + "&_txlock=immediate"
	readerParams = connParams + "&_query_only=1"
)

// Store is latch's SQLite session store. Create it with [Open]; it is safe
// for concurrent use.
type Store struct {
	write    *sql.DB // one connection: every write
	read     *sql.DB // query_only connections: every read
	sessions *goose.Provider
	accounts *goose.Provider // nil unless opened with OpenAccounts

	// Hot-path reads, prepared once at Open on the reader pool: every
	// request reads its session and user, every API request its token.
	findSession    *sql.Stmt
	findRemember   *sql.Stmt
	userByID       *sql.Stmt
	userByEmail    *sql.Stmt
	userByUsername *sql.Stmt
	apiTokenByHash *sql.Stmt
	sessionUser    *sql.Stmt

	feed     changefeed.Feed
	stopFeed func()
}

// AccountStore is a Store with the account package's tables: an
// [account.Backend] as well. Create it with [OpenAccounts].
type AccountStore struct {
	*Store
}

var (
	_ latch.Store         = (*Store)(nil)
	_ latch.ChangeTracker = (*Store)(nil)
	_ throttle.Store      = (*Store)(nil)
	_ account.Backend     = (*AccountStore)(nil)
)

// Open opens the SQLite database at path (a file name, not a URI), creating
// the file if it does not exist, and creates or updates latch's session
// tables, and nothing else. Close the Store when done.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, false)
}

// OpenAccounts is Open with the account package's tables too: users, API
// tokens, one-time tokens, recovery codes and the audit log.
func OpenAccounts(ctx context.Context, path string) (*AccountStore, error) {
	s, err := open(ctx, path, true)
	if err != nil {
		return nil, err
	}
	return &AccountStore{Store: s}, nil
}

func open(ctx context.Context, path string, accounts bool) (*Store, error) {
	switch {
	case path == "", path == ":memory:", strings.HasPrefix(path, "file:"), strings.Contains(path, "?"):
		// An in-memory database would be a different one on each of the
		// Store's connections; a URI or a '?' would change the parameters.
		return nil, errors.New("sqlite: open: path must be a plain file name")
	}
	s := &Store{}
	var err error
	if s.write, err = sql.Open("sqlite", path+"?"+writerParams); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxLifetime(0)
	s.write.SetConnMaxIdleTime(0)
	if err := firstConnection(ctx, s.write); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if err := s.migrate(ctx, accounts); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
	}

	if s.read, err = sql.Open("sqlite", path+"?"+readerParams); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	// One more than the readers need: the change watcher keeps one.
	n := max(4, 2*runtime.GOMAXPROCS(0)) + 1
	s.read.SetMaxOpenConns(n)
	s.read.SetMaxIdleConns(n)
	s.read.SetConnMaxLifetime(0)
	s.read.SetConnMaxIdleTime(0)

	type prepared struct {
		stmt  **sql.Stmt
		query string
	}
	stmts := []prepared{
		{&s.findSession, findSessionSQL},
		{&s.findRemember, findRememberSQL},
	}
	if accounts {
		stmts = append(stmts,
			prepared{&s.userByID, userByIDSQL},
			prepared{&s.userByEmail, userByEmailSQL},
			prepared{&s.userByUsername, userByUsernameSQL},
			prepared{&s.apiTokenByHash, apiTokenByHashSQL},
			prepared{&s.sessionUser, sessionUserSQL})
	}
	for _, p := range stmts {
		if *p.stmt, err = s.read.PrepareContext(ctx, p.query); err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go s.watch(stop, done)
	s.stopFeed = func() { close(stop); <-done }
	return s, nil
}

// firstConnection opens the writer's connection, which creates the file
// and switches it to WAL if needed. When several processes switch a new
// file at once, SQLite reports SQLITE_BUSY to all but one of them without
// waiting (waiting could deadlock), so this tries again for as long as
// busy_timeout would have waited.
func firstConnection(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.PingContext(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func isBusy(err error) bool {
	var serr *sqlite.Error
	return errors.As(err, &serr) && serr.Code()&0xff == sqlite3.SQLITE_BUSY
}

// SchemaVersion returns the version of the newest migration applied to
// latch's session tables.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	v, err := s.sessions.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}

// AccountsSchemaVersion returns the version of the newest migration
// applied to the account package's tables.
func (s *AccountStore) AccountsSchemaVersion(ctx context.Context) (int64, error) {
	v, err := s.accounts.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: accounts schema version: %w", err)
	}
	return v, nil
}

// Ping reports whether the database answers, on both pools: a reader reads
// the file's header and the writer connection is available.
func (s *Store) Ping(ctx context.Context) error {
	var v int64
	if err := s.read.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&v); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes the database. Operations in progress finish first.
func (s *Store) Close() error {
	if s.stopFeed != nil {
		s.stopFeed()
		s.stopFeed = nil
	}
	var errs []error
	for _, st := range []*sql.Stmt{s.findSession, s.findRemember, s.userByID, s.userByEmail, s.userByUsername, s.apiTokenByHash, s.sessionUser} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// writeTx runs fn in one write transaction (BEGIN IMMEDIATE) and commits
// it if fn returns nil.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// millis converts t to the unix milliseconds stored in the database.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis converts stored unix milliseconds back to a time in UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// nullMillis stores the zero time as NULL.
func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromNullMillis reads NULL as the zero time.
func fromNullMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return fromMillis(ms.Int64)
}

// parseID converts a user id to its integer, reporting false unless id is
// exactly the decimal form the store hands out.
func parseID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return 0, false
	}
	return n, true
}

func formatID(n int64) string { return strconv.FormatInt(n, 10) }

// PoolStats returns the statistics of the writer and reader connection
// pools, for metrics.
func (s *Store) PoolStats() (writer, reader sql.DBStats) {
	return s.write.Stats(), s.read.Stats()
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}
