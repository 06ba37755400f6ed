package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchgo/latch"
)

const rememberColumns = `selector, validator_hash, user_id, series, epoch, created_at, last_used_at, expires_at, rotated_at, ip, user_agent`

func rememberArgs(t latch.RememberToken) []any {
	return []any{
		t.Selector, t.ValidatorHash, t.UserID, t.Series, t.Epoch,
		t.CreatedAt, t.LastUsedAt, t.ExpiresAt, nullTime(t.RotatedAt),
		clientText(t.IP), clientText(t.UserAgent),
	}
}

func scanRemember(row scanner) (latch.RememberToken, error) {
	var (
		t       latch.RememberToken
		rotated *time.Time
	)
	err := row.Scan(&t.Selector, &t.ValidatorHash, &t.UserID, &t.Series, &t.Epoch,
		&t.CreatedAt, &t.LastUsedAt, &t.ExpiresAt, &rotated, &t.IP, &t.UserAgent)
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.LastUsedAt.UTC(), t.ExpiresAt.UTC()
	t.RotatedAt = fromNullTime(rotated)
	return t, err
}

// CreateRemember implements [latch.RememberStore].
func (s *Store) CreateRemember(ctx context.Context, t latch.RememberToken) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO latch_remember_tokens (`+rememberColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, rememberArgs(t)...)
	if err != nil {
		return fmt.Errorf("postgres: create remember token: %w", err)
	}
	return nil
}

// FindRemember implements [latch.RememberStore].
func (s *Store) FindRemember(ctx context.Context, selector string, now time.Time) (latch.RememberToken, bool, error) {
	if !storable(selector) {
		return latch.RememberToken{}, false, nil
	}
	t, err := scanRemember(s.pool.QueryRow(ctx,
		`SELECT `+rememberColumns+` FROM latch_remember_tokens WHERE selector = $1 AND expires_at > $2`, selector, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return latch.RememberToken{}, false, nil
	}
	if err != nil {
		return latch.RememberToken{}, false, fmt.Errorf("postgres: find remember token: %w", err)
	}
	return t, true, nil
}

// RotateRemember implements [latch.RememberStore] in one transaction: the
// UPDATE marks the old token rotated only while it is current, and the
// INSERT takes its rows from the UPDATE's, so it stores the next token
// only if the UPDATE marked one. Of concurrent rotations of one token, the
// first locks the row and the others, re-checking rotated_at IS NULL on
// the version it committed, match nothing. The series' rotated tokens
// beyond the latch.KeptRotated newest are then deleted.
func (s *Store) RotateRemember(ctx context.Context, oldSelector string, at time.Time, next latch.RememberToken) (bool, error) {
	if !storable(oldSelector) {
		return false, nil
	}
	rotated := false
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			WITH old AS (
				UPDATE latch_remember_tokens SET rotated_at = $12
				WHERE selector = $13 AND rotated_at IS NULL
				RETURNING 1
			)
			INSERT INTO latch_remember_tokens (`+rememberColumns+`)
			SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::timestamptz, $7::timestamptz,
				$8::timestamptz, $9::timestamptz, $10::text, $11::text
			FROM old`,
			append(rememberArgs(next), at, oldSelector)...)
		if err != nil || tag.RowsAffected() != 1 {
			return err
		}
		rotated = true
		_, err = tx.Exec(ctx, `
			DELETE FROM latch_remember_tokens WHERE series = $1 AND rotated_at IS NOT NULL
			AND selector NOT IN (SELECT selector FROM latch_remember_tokens
				WHERE series = $1 AND rotated_at IS NOT NULL
				ORDER BY rotated_at DESC, selector LIMIT $2)`, next.Series, latch.KeptRotated)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: rotate remember token: %w", err)
	}
	return rotated, nil
}

// DeleteRememberSeries implements [latch.RememberStore].
func (s *Store) DeleteRememberSeries(ctx context.Context, series string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM latch_remember_tokens WHERE series = $1`, series); err != nil {
		return fmt.Errorf("postgres: delete remember series: %w", err)
	}
	return nil
}

// DeleteUserRemember implements [latch.RememberStore]: one statement
// deletes the tokens and counts the series they were in.
func (s *Store) DeleteUserRemember(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
		WITH gone AS (DELETE FROM latch_remember_tokens WHERE user_id = $1 RETURNING series)
		SELECT count(DISTINCT series) FROM gone`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete user remember tokens: %w", err)
	}
	return n, nil
}

// UserRemember implements [latch.RememberStore].
func (s *Store) UserRemember(ctx context.Context, userID string, now time.Time) ([]latch.RememberToken, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+rememberColumns+` FROM latch_remember_tokens
		WHERE user_id = $1 AND rotated_at IS NULL AND expires_at > $2
		ORDER BY created_at DESC, selector`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("postgres: user remember tokens: %w", err)
	}
	list, err := collect(rows, scanRemember)
	if err != nil {
		return nil, fmt.Errorf("postgres: user remember tokens: %w", err)
	}
	return list, nil
}

// DeleteExpiredRemember implements [latch.RememberStore].
func (s *Store) DeleteExpiredRemember(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM latch_remember_tokens WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired remember tokens: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
