package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchgo/latch/throttle"
)

// TakeAttempt implements [throttle.Store] in one write transaction
// (BEGIN IMMEDIATE takes the file's write lock first): it forgets the
// key's attempts before the window, counts those in it, and records the
// attempt only if the rule allows it. Write transactions of every process
// on the file run one after the other, so each decision sees every
// attempt recorded before it.
func (s *Store) TakeAttempt(ctx context.Context, key string, at time.Time, rule throttle.Rule) (time.Duration, error) {
	hi := millis(at)
	lo := hi - rule.Window.Milliseconds()
	// Most attempts of a flood are over the limit. Refuse those with a
	// read, which runs beside other reads, and leave the one writer
	// connection to attempts that may count: under a flood from one
	// client every refusal queued for it (150 ms at the median). Until
	// the window slides, the count only grows but for attempts given
	// back, so the transaction below would refuse what this read
	// refuses (or, after a give-back in between, it refuses one attempt
	// that could have gone through: the safe side).
	if n, last, err := s.Attempts(ctx, key, at, rule.Window); err == nil {
		if wait := rule.Wait(n, last, at); wait > 0 {
			return wait, nil
		}
	}
	var wait time.Duration
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM latch_attempts WHERE key = ? AND at < ?`, key, lo); err != nil {
			return err
		}
		var (
			n    int
			last sql.NullInt64
		)
		if err := tx.QueryRowContext(ctx,
			`SELECT count(*), max(at) FROM latch_attempts WHERE key = ? AND at > ?`, key, lo).Scan(&n, &last); err != nil {
			return err
		}
		if wait = rule.Wait(n, fromNullMillis(last), at); wait > 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO latch_attempts (key, at) VALUES (?, ?)`, key, hi)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: take attempt: %w", err)
	}
	return wait, nil
}

// RemoveAttempt implements [throttle.Store].
func (s *Store) RemoveAttempt(ctx context.Context, key string, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM latch_attempts WHERE rowid IN
		(SELECT rowid FROM latch_attempts WHERE key = ? AND at = ? LIMIT 1)`, key, millis(at))
	if err != nil {
		return fmt.Errorf("sqlite: remove attempt: %w", err)
	}
	return nil
}

// Attempts implements [throttle.Store].
func (s *Store) Attempts(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	lo := millis(now) - window.Milliseconds()
	var (
		n    int
		last sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx,
		`SELECT count(*), max(at) FROM latch_attempts WHERE key = ? AND at > ?`,
		key, lo).Scan(&n, &last)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: attempts: %w", err)
	}
	return n, fromNullMillis(last), nil
}

// ResetAttempts implements [throttle.Store].
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM latch_attempts WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlite: reset attempts: %w", err)
	}
	return nil
}

// DeleteExpiredAttempts implements [throttle.Store].
func (s *Store) DeleteExpiredAttempts(ctx context.Context, before time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM latch_attempts WHERE at < ?`, millis(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired attempts: %w", err)
	}
	return rowsAffected(res, "delete expired attempts")
}
