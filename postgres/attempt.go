package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchgo/latch/throttle"
)

// TakeAttempt implements [throttle.Store] in one READ COMMITTED
// transaction that first takes an advisory lock on the key, held until it
// commits. Calls on one key, from any instance, thus run one after the
// other, and as each statement under READ COMMITTED sees everything
// committed before it began, the count includes every attempt the calls
// before recorded. The lock, the clean-up and the count go to the server
// in one batch; the insert, when the rule allows the attempt, follows.
func (s *Store) TakeAttempt(ctx context.Context, key string, at time.Time, rule throttle.Rule) (time.Duration, error) {
	k := []byte(key)
	lo := at.Add(-rule.Window)
	var wait time.Duration
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var (
			n    int
			last *time.Time
		)
		b := &pgx.Batch{}
		b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, lockAttempts, attemptLockKey(key))
		b.Queue(`DELETE FROM latch_attempts WHERE key = $1 AND at < $2`, k, lo)
		b.Queue(`SELECT count(*), max(at) FROM latch_attempts WHERE key = $1 AND at > $2`, k, lo).
			QueryRow(func(row pgx.Row) error { return row.Scan(&n, &last) })
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if wait = rule.Wait(n, fromNullTime(last), at); wait > 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO latch_attempts (key, at) VALUES ($1, $2)`, k, at)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: take attempt: %w", err)
	}
	return wait, nil
}

// RemoveAttempt implements [throttle.Store].
func (s *Store) RemoveAttempt(ctx context.Context, key string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM latch_attempts WHERE ctid IN
		(SELECT ctid FROM latch_attempts WHERE key = $1 AND at = $2 LIMIT 1)`, []byte(key), at)
	if err != nil {
		return fmt.Errorf("postgres: remove attempt: %w", err)
	}
	return nil
}

// attemptLockKey is the second key of a key's advisory lock. Two keys
// that hash alike only share a lock, which serialises them needlessly but
// changes no count.
func attemptLockKey(key string) int32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int32(h.Sum32())
}

// Attempts implements [throttle.Store].
func (s *Store) Attempts(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	var (
		n    int
		last *time.Time
	)
	err := s.pool.QueryRow(ctx,
		`SELECT count(*), max(at) FROM latch_attempts WHERE key = $1 AND at > $2`,
		[]byte(key), now.Add(-window)).Scan(&n, &last)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("postgres: attempts: %w", err)
	}
	return n, fromNullTime(last), nil
}

// ResetAttempts implements [throttle.Store].
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM latch_attempts WHERE key = $1`, []byte(key)); err != nil {
		return fmt.Errorf("postgres: reset attempts: %w", err)
	}
	return nil
}

// DeleteExpiredAttempts implements [throttle.Store].
func (s *Store) DeleteExpiredAttempts(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM latch_attempts WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired attempts: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
