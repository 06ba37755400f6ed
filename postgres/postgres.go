// Package postgres keeps latch's sessions, remember-me tokens, rate-limit
// attempts and user accounts in PostgreSQL, through jackc/pgx and its
// connection pool, so that any number of identical latch processes can
// share them.
//
// [Open] connects, brings latch's session tables up to date with the
// migrations embedded in this package and returns a [*Store]:
//
//	store, err := postgres.Open(ctx, "postgres://latch@db.internal/latch?sslmode=verify-full",
//		postgres.WithMaxConns(20),
//		postgres.WithStatementTimeout(5*time.Second))
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//
// A [*Store] is a [latch.Store] and a [throttle.Store]: all the root
// package needs, for an application that keeps its own users. It creates
// only its own tables — latch_sessions, latch_remember_tokens and
// latch_attempts, with their own goose version table latch_schema_sessions
// — so it lives beside the application's tables and migrations in the same
// schema. [OpenAccounts] adds the account package's tables (latch_users and
// what belongs to users, version table latch_schema_accounts) and returns
// an [*AccountStore], an [account.Backend] as well. A schema made by latch
// before the tables had their prefix is converted when it is opened, every
// row kept. Sessions and rate-limit attempts may live in Redis instead (see
// the redis package and [latch.JoinStores]).
//
// # Many instances
//
// Every operation that must not interleave with the same operation of
// another process is atomic in the database, not in Go: a remember-me
// token rotates, a one-time token is consumed, a TOTP step and a recovery
// code are used in a single UPDATE or DELETE whose WHERE clause decides
// who wins; TakeAttempt holds a transaction-scoped advisory lock on its
// key, so concurrent attempts on one key each count all those before
// them. Migrations run at Open under a session-level advisory lock on the
// schema, so that instances started together migrate once, one after the
// other.
//
// # Schemas
//
// Tables, and their version tables, are created in the first schema of
// the connection's search_path. To give an installation (or a test) a
// schema of its own, create the schema and name it in the URL:
// ".../latch?search_path=latch_staging". pgx passes such unknown URL
// parameters to the server as run-time parameters.
//
// # Users and sessions
//
// As in the sqlite package, latch_sessions and latch_remember_tokens keep
// user ids as text without a foreign key, so the Store can serve sessions
// alone for applications with their own users; [AccountStore.DeleteUser]
// deletes them in the same statement as the user. Everything else kept for a user (API
// tokens, one-time tokens, recovery codes, audit events) has a foreign
// key that cascades, and storing such a record for a user who does not
// exist is refused with [account.ErrNotFound].
//
// User ids are bigint identities written as decimal strings. A string
// that is not one exactly ("abc", "07", " 7") names no user. IP, UserAgent
// and audit Detail come from request headers and may hold bytes that text
// columns cannot (NUL, invalid UTF-8); those bytes are stored as U+FFFD.
//
// # Errors
//
// Errors wrap their cause with the operation's name ("postgres: find
// session: …"), and never hold the connection URL's password: Open does
// not repeat a URL it could not parse.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/changefeed"
	"github.com/latchgo/latch/internal/schemas"
	"github.com/latchgo/latch/throttle"
)

//go:embed migrations
var migrations embed.FS

// Store is latch's PostgreSQL backend. Create it with [Open]; it is safe
// for concurrent use.
//
// Every query runs through pgx's statement cache, which prepares it on
// each connection the first time it runs there, so the hot paths
// (FindSession, UserByID, APITokenByHash) skip parsing and planning as
// sqlite's prepared statements do.
type Store struct {
	pool     *pgxpool.Pool
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

// Option configures [Open]. Options override the same settings given as
// URL parameters (pool_max_conns, pool_min_conns, connect_timeout,
// statement_timeout).
type Option func(*options)

type options struct {
	maxConns, minConns int32
	connectTimeout     time.Duration
	statementTimeout   time.Duration
	setStatement       bool
}

// WithMaxConns sets the most connections the pool opens (default: the
// URL's pool_max_conns, else pgx's default, 4 or the number of CPUs if
// more). Every instance opens its own pool: keep the sum of all instances'
// MaxConns below the server's max_connections.
func WithMaxConns(n int32) Option { return func(o *options) { o.maxConns = n } }

// WithMinConns sets how many connections the pool keeps open even when
// idle (default 0), so that a burst after a quiet period does not wait
// for connection set-up.
func WithMinConns(n int32) Option { return func(o *options) { o.minConns = n } }

// WithConnectTimeout bounds how long opening one connection may take
// (default: the URL's connect_timeout, else 10 seconds), so that an
// unreachable server fails requests instead of hanging them.
func WithConnectTimeout(d time.Duration) Option {
	return func(o *options) { o.connectTimeout = d }
}

// WithStatementTimeout makes the server cancel any statement that runs
// longer than d (PostgreSQL's statement_timeout; default: the URL's or the
// server's setting, usually none), so that a runaway query cannot hold a
// pooled connection. Migrations are exempt: they may rightly take longer,
// and Open's context bounds them. Zero turns the timeout off.
func WithStatementTimeout(d time.Duration) Option {
	return func(o *options) { o.statementTimeout, o.setStatement = d, true }
}

// defaultConnectTimeout applies when neither the URL nor an Option sets
// one.
const defaultConnectTimeout = 10 * time.Second

// Open connects to the database at url (a postgres:// URL or a keyword/value
// string, as pgx accepts), creates or updates latch's session tables, and
// nothing else, and returns a Store. Close it when done.
//
// The database must exist, and so must the first schema of the search
// path. Open fails if the server does not answer; once open, the pool
// reconnects by itself after the server comes back.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	return open(ctx, url, false, opts)
}

// OpenAccounts is Open with the account package's tables too: users, API
// tokens, one-time tokens, recovery codes and the audit log.
func OpenAccounts(ctx context.Context, url string, opts ...Option) (*AccountStore, error) {
	s, err := open(ctx, url, true, opts)
	if err != nil {
		return nil, err
	}
	return &AccountStore{Store: s}, nil
}

func open(ctx context.Context, url string, accounts bool, opts []Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message quotes the URL, masking the password only as
		// well as a malformed URL allows; say nothing of it instead.
		return nil, errors.New("postgres: open: the database URL does not parse")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	if o.minConns > 0 {
		cfg.MinConns = o.minConns
	}
	if cfg.MinConns > cfg.MaxConns {
		return nil, fmt.Errorf("postgres: open: MinConns %d exceeds MaxConns %d", cfg.MinConns, cfg.MaxConns)
	}
	switch {
	case o.connectTimeout > 0:
		cfg.ConnConfig.ConnectTimeout = o.connectTimeout
	case cfg.ConnConfig.ConnectTimeout == 0:
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if o.setStatement {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.statementTimeout.Milliseconds(), 10)
	}
	password := cfg.ConnConfig.Password

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", hidePassword(err, password))
	}
	// The pool connects lazily; Ping makes a server that does not answer
	// an error of Open's, before the migrations try.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", hidePassword(err, password))
	}
	if err := migrate(ctx, cfg.ConnConfig, accounts); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", hidePassword(err, password))
	}
	s := &Store{pool: pool}
	fctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go s.watch(fctx, cfg.ConnConfig, done)
	s.stopFeed = func() { cancel(); <-done }
	return s, nil
}

// hidePassword returns err, or an error with the same text minus the
// password if the text holds it. Servers do not echo passwords, and pgx
// does not put them in its errors; this guards against a driver that
// would.
func hidePassword(err error, password string) error {
	if password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "xxxxx"))
}

// Advisory lock classes: the first key of PostgreSQL's two-key advisory
// locks, which never collide with one-key locks such as goose's own.
const (
	lockMigrate  int32 = 0x6c61_7401 // "lat" 1: migrations of one schema
	lockAttempts int32 = 0x6c61_7402 // "lat" 2: TakeAttempt of one key
)

// migrate applies the embedded migrations that the schema lacks (see up), on
// connections of its own that are closed afterwards, without the statement
// timeout of the pool's connections.
//
// Instances that start together must migrate once, one after the other.
// migrate holds a session-level advisory lock, keyed by the schema, on a
// connection of its own for the whole of goose's Up. goose's own session
// locker (lock.NewPostgresSessionLocker) is not used, for three reasons:
// Up first checks for pending migrations, creating goose's version table,
// before it takes that lock, so that starting instances race to create the
// table and the losers wait a second to retry; the locker polls
// pg_try_advisory_lock at intervals of at least a second, so ten instances
// would take about ten seconds; and its one lock per database makes
// installations (and tests) in different schemas wait for each other.
// pg_advisory_lock waits in the server and is granted the moment the
// holder lets go; the context's cancellation ends the wait.
func migrate(ctx context.Context, cc *pgx.ConnConfig, accounts bool) (err error) {
	cc = cc.Copy()
	cc.RuntimeParams["statement_timeout"] = "0"
	db := stdlib.OpenDB(*cc)
	// Closing ends the sessions, and with them the lock should unlocking
	// fail.
	defer db.Close()

	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Tables go to the first schema of the search_path that exists. Say
	// so if there is none: goose would report a missing version table.
	var schema sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if !schema.Valid {
		return errNoSchema
	}
	// The lock's key is that schema's name.
	const key = `$1, hashtext(current_schema())`
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`, lockMigrate); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() {
		_, uerr := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`, lockMigrate)
		if uerr != nil {
			err = errors.Join(err, fmt.Errorf("release the migration lock: %w", uerr))
		}
	}()
	return up(ctx, db, accounts)
}

// SchemaVersion returns the version of the newest migration applied to
// latch's session tables.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	v, err := s.version(ctx, schemas.Sessions)
	if err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}

// AccountsSchemaVersion returns the version of the newest migration
// applied to the account package's tables.
func (s *AccountStore) AccountsSchemaVersion(ctx context.Context) (int64, error) {
	v, err := s.version(ctx, schemas.Accounts)
	if err != nil {
		return 0, fmt.Errorf("postgres: accounts schema version: %w", err)
	}
	return v, nil
}

func (s *Store) version(ctx context.Context, sc schemas.Set) (int64, error) {
	var v int64
	// goose's own definition of the current version (GetLatestVersion).
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM `+sc.Versions).Scan(&v)
	return v, err
}

// Ping reports whether the database answers: it takes a connection from
// the pool (opening one if none is idle) and runs an empty statement.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes every connection of the pool, waiting for those in use to
// be returned. The Store cannot be used afterwards.
func (s *Store) Close() error {
	if s.stopFeed != nil {
		s.stopFeed()
		s.stopFeed = nil
	}
	s.pool.Close()
	return nil
}

// PoolStats describes the connection pool at one moment, for metrics.
// Counts and durations are cumulative since Open.
type PoolStats struct {
	// AcquiredConns are in use by a query or transaction.
	AcquiredConns int32
	// IdleConns are open and waiting to be used.
	IdleConns int32
	// TotalConns are open, in use, idle or being opened.
	TotalConns int32
	// MaxConns is the pool's limit.
	MaxConns int32
	// AcquireCount counts connections taken from the pool, and
	// AcquireDuration is the total time those takes lasted.
	AcquireCount    int64
	AcquireDuration time.Duration
	// EmptyAcquireCount counts takes that found no idle connection and
	// had to wait (for a new one, or for one to be returned), and
	// EmptyAcquireWaitTime is the total time they waited: a pool that is
	// too small shows here first.
	EmptyAcquireCount    int64
	EmptyAcquireWaitTime time.Duration
	// CanceledAcquireCount counts takes abandoned because their context
	// ended first.
	CanceledAcquireCount int64
}

// Stats returns the pool's statistics.
func (s *Store) Stats() PoolStats {
	st := s.pool.Stat()
	return PoolStats{
		AcquiredConns:        st.AcquiredConns(),
		IdleConns:            st.IdleConns(),
		TotalConns:           st.TotalConns(),
		MaxConns:             st.MaxConns(),
		AcquireCount:         st.AcquireCount(),
		AcquireDuration:      st.AcquireDuration(),
		EmptyAcquireCount:    st.EmptyAcquireCount(),
		EmptyAcquireWaitTime: st.EmptyAcquireWaitTime(),
		CanceledAcquireCount: st.CanceledAcquireCount(),
	}
}

// parseID converts an id to its integer, reporting false unless id is
// exactly the decimal form the store hands out.
func parseID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return 0, false
	}
	return n, true
}

func formatID(n int64) string { return strconv.FormatInt(n, 10) }

// storable reports whether s can be a text value: PostgreSQL's text holds
// neither NUL nor invalid UTF-8. A lookup by a string that is not
// storable finds nothing, without asking the server (which would refuse
// the parameter with an error).
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// clientText makes text that came from a request header storable,
// replacing NUL and each invalid UTF-8 sequence with U+FFFD, so that an
// odd User-Agent cannot make its own login fail.
func clientText(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromNullTime reads NULL as the zero time, and a time in UTC.
func fromNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// isViolation reports whether err is the server refusing a statement with
// the SQLSTATE code, and returns the constraint's name.
func isViolation(err error, code string) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == code {
		return pgErr.ConstraintName, true
	}
	return "", false
}

// SQLSTATE codes of the violations the store maps to account errors.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// scanner is a row a scan function reads: pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// collect scans every row with scan and closes rows.
func collect[T any](rows pgx.Rows, scan func(scanner) (T, error)) ([]T, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
}
