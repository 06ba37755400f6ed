package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/metrics"
	"github.com/latchgo/latch/postgres"
	"github.com/latchgo/latch/redis"
	"github.com/latchgo/latch/sqlite"
	"github.com/latchgo/latch/throttle"
)

// IsPostgres reports whether a -database value selects PostgreSQL.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// OpenBackend opens (and migrates) the database the configuration names,
// and, with -redis, moves sessions and rate-limit counters to Redis.
func OpenBackend(ctx context.Context, cfg *Config) (Backend, error) {
	var db Backend
	if IsPostgres(cfg.Database) {
		pg, err := postgres.OpenAccounts(ctx, cfg.Database,
			postgres.WithMaxConns(int32(cfg.DBMaxConns)),
			postgres.WithStatementTimeout(cfg.DBTimeout),
			postgres.WithConnectTimeout(cfg.DBTimeout))
		if err != nil {
			return nil, fmt.Errorf("-database: open PostgreSQL: %w", err)
		}
		db = pg
	} else {
		st, err := sqlite.OpenAccounts(ctx, cfg.Database)
		if err != nil {
			return nil, fmt.Errorf("-database: open SQLite file %q: %w", cfg.Database, err)
		}
		db = st
	}
	if cfg.Redis == "" {
		return db, nil
	}
	rs, err := redis.Open(ctx, cfg.Redis, redis.WithPrefix(cfg.RedisPrefix))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("-redis: %w", err)
	}
	return &split{sqlHalf: db, db: db, redis: rs}, nil
}

// split keeps sessions and rate-limit attempts in Redis and everything
// else in the SQL database.
type split struct {
	sqlHalf
	db    Backend
	redis *redis.Store
}

// sqlHalf is what split takes from the SQL database as it is: everything
// but the session and attempt methods, so that the compiler insists that
// split forwards each of those to Redis itself (a method added to
// latch.SessionStore cannot silently reach the SQL tables).
type sqlHalf interface {
	latch.RememberStore
	account.Backend
}

var _ Backend = (*split)(nil)

// SQL returns the SQL half (for pool metrics).
func (s *split) SQL() Backend { return s.db }

// Redis returns the Redis half.
func (s *split) Redis() *redis.Store { return s.redis }

func (s *split) FindSession(ctx context.Context, hash string, now time.Time) (latch.Session, bool, error) {
	return s.redis.FindSession(ctx, hash, now)
}

func (s *split) CreateSession(ctx context.Context, sess latch.Session) error {
	return s.redis.CreateSession(ctx, sess)
}

func (s *split) UpdateSession(ctx context.Context, sess latch.Session) (bool, error) {
	return s.redis.UpdateSession(ctx, sess)
}

func (s *split) TouchSession(ctx context.Context, hash string, lastSeen, expires time.Time) error {
	return s.redis.TouchSession(ctx, hash, lastSeen, expires)
}

func (s *split) DeleteSession(ctx context.Context, hash string) error {
	return s.redis.DeleteSession(ctx, hash)
}

func (s *split) DeleteUserSessions(ctx context.Context, userID, except string) (int, error) {
	return s.redis.DeleteUserSessions(ctx, userID, except)
}

func (s *split) DeleteSeriesSessions(ctx context.Context, series string) error {
	return s.redis.DeleteSeriesSessions(ctx, series)
}

func (s *split) UserSessions(ctx context.Context, userID string, now time.Time) ([]latch.Session, error) {
	return s.redis.UserSessions(ctx, userID, now)
}

func (s *split) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	return s.redis.DeleteExpiredSessions(ctx, now)
}

func (s *split) TakeAttempt(ctx context.Context, key string, at time.Time, rule throttle.Rule) (time.Duration, error) {
	return s.redis.TakeAttempt(ctx, key, at, rule)
}

func (s *split) RemoveAttempt(ctx context.Context, key string, at time.Time) error {
	return s.redis.RemoveAttempt(ctx, key, at)
}

func (s *split) Attempts(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	return s.redis.Attempts(ctx, key, now, window)
}

func (s *split) ResetAttempts(ctx context.Context, key string) error {
	return s.redis.ResetAttempts(ctx, key)
}

func (s *split) DeleteExpiredAttempts(ctx context.Context, before time.Time) (int, error) {
	return s.redis.DeleteExpiredAttempts(ctx, before)
}

// Changes implements latch.ChangeTracker over both halves: sessions change
// in Redis, users in the SQL database. Both versions only grow, so their
// sum moves whenever either does; it is sure only when both are.
func (s *split) Changes() (uint64, bool) {
	db, ok := s.db.(latch.ChangeTracker)
	if !ok {
		return 0, false
	}
	a, okA := db.Changes()
	b, okB := s.redis.Changes()
	return a + b, okA && okB
}

// Ping checks both halves: the site is only ready when both answer.
func (s *split) Ping(ctx context.Context) error {
	if err := s.db.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if err := s.redis.Ping(ctx); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

func (s *split) Close() error {
	return errors.Join(s.redis.Close(), s.db.Close())
}

// CountSessions counts the sessions in Redis, for metrics.
func (s *split) CountSessions(ctx context.Context, now time.Time) (int, error) {
	return s.redis.CountSessions(ctx, now)
}

// registerBackendMetrics exposes the pools and session count of whatever
// backend the configuration chose.
func registerBackendMetrics(m *metrics.Metrics, b Backend) {
	if c, ok := b.(interface {
		CountSessions(context.Context, time.Time) (int, error)
	}); ok {
		m.Sessions(func(ctx context.Context) (int, error) { return c.CountSessions(ctx, time.Now()) })
	}
	db := b
	if s, ok := b.(*split); ok {
		db = s.db
	}
	switch st := db.(type) {
	case *postgres.AccountStore:
		m.Pool("postgres", func() metrics.PoolSnapshot {
			p := st.Stats()
			return metrics.PoolSnapshot{
				Open: int(p.TotalConns), InUse: int(p.AcquiredConns), Idle: int(p.IdleConns), Max: int(p.MaxConns),
				WaitCount: p.EmptyAcquireCount, WaitDuration: p.EmptyAcquireWaitTime,
			}
		})
	case *sqlite.AccountStore:
		m.Pool("sqlite_writer", func() metrics.PoolSnapshot { w, _ := st.PoolStats(); return metrics.SQLPool(w) })
		m.Pool("sqlite_reader", func() metrics.PoolSnapshot { _, r := st.PoolStats(); return metrics.SQLPool(r) })
	}
}
