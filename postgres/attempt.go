package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// AddAttempt implements [throttle.Store] in one READ COMMITTED transaction
// that first takes an advisory lock on the key, held until it commits.
// Calls on one key, from any instance, thus run one after the other, and
// as each statement under READ COMMITTED sees everything committed before
// it began, the count includes every attempt of the calls before. The
// statements go to the server in one batch: a single round trip inside
// the transaction.
func (s *Store) AddAttempt(ctx context.Context, key string, at time.Time, window time.Duration) (int, error) {
	k := []byte(key)
	lo := at.Add(-window)
	var n int
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, lockAttempts, attemptLockKey(key))
		b.Queue(`DELETE FROM attempts WHERE key = $1 AND at < $2`, k, lo)
		b.Queue(`INSERT INTO attempts (key, at) VALUES ($1, $2)`, k, at)
		b.Queue(`SELECT count(*) FROM attempts WHERE key = $1 AND at > $2 AND at <= $3`, k, lo, at).
			QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: add attempt: %w", err)
	}
	return n, nil
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
		`SELECT count(*), max(at) FROM attempts WHERE key = $1 AND at > $2 AND at <= $3`,
		[]byte(key), now.Add(-window), now).Scan(&n, &last)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("postgres: attempts: %w", err)
	}
	return n, fromNullTime(last), nil
}

// ResetAttempts implements [throttle.Store].
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM attempts WHERE key = $1`, []byte(key)); err != nil {
		return fmt.Errorf("postgres: reset attempts: %w", err)
	}
	return nil
}

// DeleteExpiredAttempts implements [throttle.Store].
func (s *Store) DeleteExpiredAttempts(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM attempts WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired attempts: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
