package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/latchgo/latch"
)

const rememberColumns = `selector, validator_hash, user_id, series, epoch, created_at, last_used_at, expires_at, rotated_at, ip, user_agent`

const findRememberSQL = `SELECT ` + rememberColumns + ` FROM latch_remember_tokens WHERE selector = ? AND expires_at > ?`

// pruneRotatedSQL deletes a series' rotated tokens but the newest few
// (arguments: series, series, how many to keep).
const pruneRotatedSQL = `DELETE FROM latch_remember_tokens WHERE series = ? AND rotated_at IS NOT NULL
	AND selector NOT IN (SELECT selector FROM latch_remember_tokens WHERE series = ? AND rotated_at IS NOT NULL
		ORDER BY rotated_at DESC, selector LIMIT ?)`

const insertRememberSQL = `INSERT INTO latch_remember_tokens (` + rememberColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func rememberArgs(t latch.RememberToken) []any {
	return []any{
		t.Selector, t.ValidatorHash, t.UserID, t.Series, t.Epoch,
		millis(t.CreatedAt), millis(t.LastUsedAt), millis(t.ExpiresAt), nullMillis(t.RotatedAt),
		t.IP, t.UserAgent,
	}
}

func scanRemember(row interface{ Scan(...any) error }) (latch.RememberToken, error) {
	var (
		t                      latch.RememberToken
		created, used, expires int64
		rotated                sql.NullInt64
	)
	err := row.Scan(&t.Selector, &t.ValidatorHash, &t.UserID, &t.Series, &t.Epoch,
		&created, &used, &expires, &rotated, &t.IP, &t.UserAgent)
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt = fromMillis(created), fromMillis(used), fromMillis(expires)
	t.RotatedAt = fromNullMillis(rotated)
	return t, err
}

// CreateRemember implements [latch.RememberStore].
func (s *Store) CreateRemember(ctx context.Context, t latch.RememberToken) error {
	if _, err := s.write.ExecContext(ctx, insertRememberSQL, rememberArgs(t)...); err != nil {
		return fmt.Errorf("sqlite: create remember token: %w", err)
	}
	return nil
}

// FindRemember implements [latch.RememberStore].
func (s *Store) FindRemember(ctx context.Context, selector string, now time.Time) (latch.RememberToken, bool, error) {
	t, err := scanRemember(s.findRemember.QueryRowContext(ctx, selector, millis(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return latch.RememberToken{}, false, nil
	}
	if err != nil {
		return latch.RememberToken{}, false, fmt.Errorf("sqlite: find remember token: %w", err)
	}
	return t, true, nil
}

// RotateRemember implements [latch.RememberStore] in one write
// transaction: the old token is marked rotated only while it is current,
// the next one is inserted only if that marked a row, and the series'
// rotated tokens beyond the latch.KeptRotated newest are deleted.
func (s *Store) RotateRemember(ctx context.Context, oldSelector string, at time.Time, next latch.RememberToken) (bool, error) {
	rotated := false
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE latch_remember_tokens SET rotated_at = ? WHERE selector = ? AND rotated_at IS NULL`,
			millis(at), oldSelector)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertRememberSQL, rememberArgs(next)...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, pruneRotatedSQL, next.Series, next.Series, latch.KeptRotated); err != nil {
			return err
		}
		rotated = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: rotate remember token: %w", err)
	}
	return rotated, nil
}

// DeleteRememberSeries implements [latch.RememberStore].
func (s *Store) DeleteRememberSeries(ctx context.Context, series string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM latch_remember_tokens WHERE series = ?`, series); err != nil {
		return fmt.Errorf("sqlite: delete remember series: %w", err)
	}
	return nil
}

// DeleteUserRemember implements [latch.RememberStore].
func (s *Store) DeleteUserRemember(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = deleteUserRemember(ctx, tx, userID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete user remember tokens: %w", err)
	}
	return n, nil
}

// deleteUserRemember deletes userID's tokens and counts their series.
func deleteUserRemember(ctx context.Context, tx *sql.Tx, userID string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx,
		`SELECT count(DISTINCT series) FROM latch_remember_tokens WHERE user_id = ?`, userID).Scan(&n)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM latch_remember_tokens WHERE user_id = ?`, userID); err != nil {
		return 0, err
	}
	return n, nil
}

// UserRemember implements [latch.RememberStore].
func (s *Store) UserRemember(ctx context.Context, userID string, now time.Time) ([]latch.RememberToken, error) {
	rows, err := s.read.QueryContext(ctx, `
		SELECT `+rememberColumns+` FROM latch_remember_tokens
		WHERE user_id = ? AND rotated_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, selector`, userID, millis(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: user remember tokens: %w", err)
	}
	list, err := collect(rows, scanRemember)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user remember tokens: %w", err)
	}
	return list, nil
}

// DeleteExpiredRemember implements [latch.RememberStore].
func (s *Store) DeleteExpiredRemember(ctx context.Context, now time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM latch_remember_tokens WHERE expires_at <= ?`, millis(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired remember tokens: %w", err)
	}
	return rowsAffected(res, "delete expired remember tokens")
}
