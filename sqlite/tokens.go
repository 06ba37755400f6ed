package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchgo/latch/account"
)

const apiTokenColumns = `id, user_id, name, hash, epoch, created_at, last_used_at, expires_at`

// apiTokenByHashSQL runs on every API request, so it is prepared at Open.
const apiTokenByHashSQL = `SELECT ` + apiTokenColumns + ` FROM latch_api_tokens
	WHERE hash = ? AND (expires_at IS NULL OR expires_at > ?)`

func scanAPIToken(row interface{ Scan(...any) error }) (account.APIToken, error) {
	var (
		t               account.APIToken
		id, user        int64
		created         int64
		used, expiresAt sql.NullInt64
	)
	err := row.Scan(&id, &user, &t.Name, &t.Hash, &t.Epoch, &created, &used, &expiresAt)
	t.ID, t.UserID = formatID(id), formatID(user)
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt = fromMillis(created), fromNullMillis(used), fromNullMillis(expiresAt)
	return t, err
}

// isForeignKeyViolation reports whether err is SQLite refusing a row whose
// user does not exist. Every foreign key of the schema points at users,
// so callers report it as account.ErrNotFound.
func isForeignKeyViolation(err error) bool {
	var serr *sqlite.Error
	return errors.As(err, &serr) && serr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// CreateAPIToken implements [account.APITokenStore]. A token of a user
// that does not exist is refused with account.ErrNotFound.
func (s *AccountStore) CreateAPIToken(ctx context.Context, t *account.APIToken) error {
	user, ok := parseID(t.UserID)
	if !ok {
		return fmt.Errorf("sqlite: create api token: %w", account.ErrNotFound)
	}
	var id int64
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO latch_api_tokens (user_id, name, hash, epoch, created_at, last_used_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		user, t.Name, t.Hash, t.Epoch, millis(t.CreatedAt), nullMillis(t.LastUsedAt), nullMillis(t.ExpiresAt)).Scan(&id)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("sqlite: create api token: %w", account.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create api token: %w", err)
	}
	t.ID = formatID(id)
	return nil
}

// APITokenByHash implements [account.APITokenStore].
func (s *AccountStore) APITokenByHash(ctx context.Context, hash string, now time.Time) (*account.APIToken, error) {
	t, err := scanAPIToken(s.apiTokenByHash.QueryRowContext(ctx, hash, millis(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: api token by hash: %w", account.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: api token by hash: %w", err)
	}
	return &t, nil
}

// UserAPITokens implements [account.APITokenStore]. Expired tokens are
// listed too, so that their owner can see and delete them.
func (s *AccountStore) UserAPITokens(ctx context.Context, userID string) ([]account.APIToken, error) {
	user, ok := parseID(userID)
	if !ok {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+apiTokenColumns+` FROM latch_api_tokens
		WHERE user_id = ? ORDER BY created_at DESC, id DESC`, user)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user api tokens: %w", err)
	}
	list, err := collect(rows, scanAPIToken)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user api tokens: %w", err)
	}
	return list, nil
}

// DeleteAPIToken implements [account.APITokenStore]. The owner is part of
// the DELETE's condition, so a token id of another user matches nothing.
func (s *AccountStore) DeleteAPIToken(ctx context.Context, userID, id string) error {
	user, okUser := parseID(userID)
	tok, okTok := parseID(id)
	if !okUser || !okTok {
		return fmt.Errorf("sqlite: delete api token: %w", account.ErrNotFound)
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM latch_api_tokens WHERE id = ? AND user_id = ?`, tok, user)
	if err != nil {
		return fmt.Errorf("sqlite: delete api token: %w", err)
	}
	if n, err := rowsAffected(res, "delete api token"); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("sqlite: delete api token: %w", account.ErrNotFound)
	}
	return nil
}

// DeleteUserAPITokens implements [account.APITokenStore].
func (s *AccountStore) DeleteUserAPITokens(ctx context.Context, userID string) (int, error) {
	user, ok := parseID(userID)
	if !ok {
		return 0, nil
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM latch_api_tokens WHERE user_id = ?`, user)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete user api tokens: %w", err)
	}
	return rowsAffected(res, "delete user api tokens")
}

// TouchAPIToken implements [account.APITokenStore]. A token deleted in
// the meantime is not an error: the request it authenticated may finish.
func (s *AccountStore) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	tok, ok := parseID(id)
	if !ok {
		return nil
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE latch_api_tokens SET last_used_at = ? WHERE id = ?`, millis(at), tok); err != nil {
		return fmt.Errorf("sqlite: touch api token: %w", err)
	}
	return nil
}

const oneTimeTokenColumns = `hash, user_id, purpose, email, epoch, created_at, expires_at`

// CreateOneTimeToken implements [account.OneTimeTokenStore]: the user's
// older tokens of the same purpose are deleted in the same transaction.
func (s *AccountStore) CreateOneTimeToken(ctx context.Context, t account.OneTimeToken) error {
	user, ok := parseID(t.UserID)
	if !ok {
		return fmt.Errorf("sqlite: create one-time token: %w", account.ErrNotFound)
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM latch_one_time_tokens WHERE user_id = ? AND purpose = ?`, user, string(t.Purpose)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO latch_one_time_tokens (`+oneTimeTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.Hash, user, string(t.Purpose), t.Email, t.Epoch, millis(t.CreatedAt), millis(t.ExpiresAt))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create one-time token: %w", err)
	}
	return nil
}

// ConsumeOneTimeToken implements [account.OneTimeTokenStore] with one
// DELETE … RETURNING: only the statement that deletes the row gets it.
func (s *AccountStore) ConsumeOneTimeToken(ctx context.Context, purpose account.Purpose, hash string, now time.Time) (account.OneTimeToken, error) {
	var (
		t                account.OneTimeToken
		user             int64
		created, expires int64
	)
	err := s.write.QueryRowContext(ctx, `
		DELETE FROM latch_one_time_tokens WHERE hash = ? AND purpose = ? AND expires_at > ?
		RETURNING `+oneTimeTokenColumns, hash, string(purpose), millis(now)).
		Scan(&t.Hash, &user, &t.Purpose, &t.Email, &t.Epoch, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return account.OneTimeToken{}, fmt.Errorf("sqlite: consume one-time token: %w", account.ErrNotFound)
	}
	if err != nil {
		return account.OneTimeToken{}, fmt.Errorf("sqlite: consume one-time token: %w", err)
	}
	t.UserID, t.CreatedAt, t.ExpiresAt = formatID(user), fromMillis(created), fromMillis(expires)
	return t, nil
}

// DeleteUserOneTimeTokens implements [account.OneTimeTokenStore].
func (s *AccountStore) DeleteUserOneTimeTokens(ctx context.Context, userID string, purpose account.Purpose) error {
	user, ok := parseID(userID)
	if !ok {
		return nil
	}
	var err error
	if purpose == "" {
		_, err = s.write.ExecContext(ctx, `DELETE FROM latch_one_time_tokens WHERE user_id = ?`, user)
	} else {
		_, err = s.write.ExecContext(ctx,
			`DELETE FROM latch_one_time_tokens WHERE user_id = ? AND purpose = ?`, user, string(purpose))
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete user one-time tokens: %w", err)
	}
	return nil
}

// ReplaceRecoveryCodes implements [account.RecoveryCodeStore] in one
// transaction, so a code of the old set never works beside the new set.
// A hash given twice is stored once.
func (s *AccountStore) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	user, ok := parseID(userID)
	if !ok {
		return fmt.Errorf("sqlite: replace recovery codes: %w", account.ErrNotFound)
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		// Checked explicitly, so that an empty set for a missing user is
		// ErrNotFound too, not only a set whose INSERT the key refuses.
		if err := userExists(ctx, tx, user); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM latch_recovery_codes WHERE user_id = ?`, user); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO latch_recovery_codes (user_id, hash) VALUES (?, ?) ON CONFLICT DO NOTHING`, user, h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: replace recovery codes: %w", err)
	}
	return nil
}

// UseRecoveryCode implements [account.RecoveryCodeStore]: the DELETE
// decides, so of concurrent uses of one code only one deletes a row.
func (s *AccountStore) UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error) {
	user, ok := parseID(userID)
	if !ok {
		return false, nil
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM latch_recovery_codes WHERE user_id = ? AND hash = ?`, user, hash)
	if err != nil {
		return false, fmt.Errorf("sqlite: use recovery code: %w", err)
	}
	used, err := changedOne(res)
	if err != nil {
		return false, fmt.Errorf("sqlite: use recovery code: %w", err)
	}
	return used, nil
}

// RecoveryCodes implements [account.RecoveryCodeStore].
func (s *AccountStore) RecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	user, ok := parseID(userID)
	if !ok {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT hash FROM latch_recovery_codes WHERE user_id = ?`, user)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recovery codes: %w", err)
	}
	defer rows.Close()
	var hashes []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("sqlite: recovery codes: %w", err)
		}
		hashes = append(hashes, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: recovery codes: %w", err)
	}
	return hashes, nil
}

// DeleteExpiredOneTimeTokens implements [account.OneTimeTokenStore].
func (s *AccountStore) DeleteExpiredOneTimeTokens(ctx context.Context, now time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM latch_one_time_tokens WHERE expires_at <= ?`, millis(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired one-time tokens: %w", err)
	}
	return rowsAffected(res, "delete expired one-time tokens")
}

// CountSessions counts the unexpired sessions, for a metrics gauge.
func (s *Store) CountSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM latch_sessions WHERE expires_at > ?`, millis(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count sessions: %w", err)
	}
	return n, nil
}
