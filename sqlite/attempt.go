package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AddAttempt implements [throttle.Store] in one write transaction: it
// records the attempt, forgets the key's attempts older than at-window and
// counts those in (at-window, at]. Writes are serialised, so concurrent
// calls, from this process or another, each see all attempts committed
// before them.
func (s *Store) AddAttempt(ctx context.Context, key string, at time.Time, window time.Duration) (int, error) {
	hi := millis(at)
	lo := hi - window.Milliseconds()
	var n int
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO attempts (key, at) VALUES (?, ?)`, key, hi); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM attempts WHERE key = ? AND at < ?`, key, lo); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx,
			`SELECT count(*) FROM attempts WHERE key = ? AND at > ? AND at <= ?`, key, lo, hi).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: add attempt: %w", err)
	}
	return n, nil
}

// Attempts implements [throttle.Store].
func (s *Store) Attempts(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	hi := millis(now)
	lo := hi - window.Milliseconds()
	var (
		n    int
		last sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx,
		`SELECT count(*), max(at) FROM attempts WHERE key = ? AND at > ? AND at <= ?`,
		key, lo, hi).Scan(&n, &last)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: attempts: %w", err)
	}
	return n, fromNullMillis(last), nil
}

// ResetAttempts implements [throttle.Store].
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM attempts WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlite: reset attempts: %w", err)
	}
	return nil
}

// DeleteExpiredAttempts implements [throttle.Store].
func (s *Store) DeleteExpiredAttempts(ctx context.Context, before time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM attempts WHERE at < ?`, millis(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired attempts: %w", err)
	}
	return rowsAffected(res, "delete expired attempts")
}
