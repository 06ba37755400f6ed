package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchgo/latch/account"
)

const apiTokenColumns = `id, user_id, name, hash, epoch, created_at, last_used_at, expires_at`

// apiTokenByHashSQL runs on every API request.
const apiTokenByHashSQL = `SELECT ` + apiTokenColumns + ` FROM latch_api_tokens
	WHERE hash = $1 AND (expires_at IS NULL OR expires_at > $2)`

func scanAPIToken(row scanner) (account.APIToken, error) {
	var (
		t               account.APIToken
		id, user        int64
		used, expiresAt *time.Time
	)
	err := row.Scan(&id, &user, &t.Name, &t.Hash, &t.Epoch, &t.CreatedAt, &used, &expiresAt)
	t.ID, t.UserID = formatID(id), formatID(user)
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt = t.CreatedAt.UTC(), fromNullTime(used), fromNullTime(expiresAt)
	return t, err
}

// CreateAPIToken implements [account.APITokenStore]. A token of a user
// that does not exist is refused with account.ErrNotFound.
func (s *AccountStore) CreateAPIToken(ctx context.Context, t *account.APIToken) error {
	user, ok := parseID(t.UserID)
	if !ok {
		return fmt.Errorf("postgres: create api token: %w", account.ErrNotFound)
	}
	var id int64
	err := s.pool.QueryRow(ctx, `
		INSERT INTO latch_api_tokens (user_id, name, hash, epoch, created_at, last_used_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		user, t.Name, t.Hash, t.Epoch, t.CreatedAt, nullTime(t.LastUsedAt), nullTime(t.ExpiresAt)).Scan(&id)
	if _, missing := isViolation(err, foreignKeyViolation); missing {
		return fmt.Errorf("postgres: create api token: %w", account.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: create api token: %w", err)
	}
	t.ID = formatID(id)
	return nil
}

// APITokenByHash implements [account.APITokenStore].
func (s *AccountStore) APITokenByHash(ctx context.Context, hash string, now time.Time) (*account.APIToken, error) {
	if !storable(hash) {
		return nil, fmt.Errorf("postgres: api token by hash: %w", account.ErrNotFound)
	}
	t, err := scanAPIToken(s.pool.QueryRow(ctx, apiTokenByHashSQL, hash, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: api token by hash: %w", account.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: api token by hash: %w", err)
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
	rows, err := s.pool.Query(ctx, `SELECT `+apiTokenColumns+` FROM latch_api_tokens
		WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, user)
	if err != nil {
		return nil, fmt.Errorf("postgres: user api tokens: %w", err)
	}
	list, err := collect(rows, scanAPIToken)
	if err != nil {
		return nil, fmt.Errorf("postgres: user api tokens: %w", err)
	}
	return list, nil
}

// DeleteAPIToken implements [account.APITokenStore]. The owner is part of
// the DELETE's condition, so a token id of another user matches nothing.
func (s *AccountStore) DeleteAPIToken(ctx context.Context, userID, id string) error {
	user, okUser := parseID(userID)
	tok, okTok := parseID(id)
	if !okUser || !okTok {
		return fmt.Errorf("postgres: delete api token: %w", account.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM latch_api_tokens WHERE id = $1 AND user_id = $2`, tok, user)
	if err != nil {
		return fmt.Errorf("postgres: delete api token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete api token: %w", account.ErrNotFound)
	}
	return nil
}

// DeleteUserAPITokens implements [account.APITokenStore].
func (s *AccountStore) DeleteUserAPITokens(ctx context.Context, userID string) (int, error) {
	user, ok := parseID(userID)
	if !ok {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM latch_api_tokens WHERE user_id = $1`, user)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete user api tokens: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// TouchAPIToken implements [account.APITokenStore]. A token deleted in
// the meantime is not an error: the request it authenticated may finish.
func (s *AccountStore) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	tok, ok := parseID(id)
	if !ok {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `UPDATE latch_api_tokens SET last_used_at = $2 WHERE id = $1`, tok, at); err != nil {
		return fmt.Errorf("postgres: touch api token: %w", err)
	}
	return nil
}

// lockUser locks user id's row until tx ends, or returns
// account.ErrNotFound. Writers that replace a user's set of records (the
// newest one-time token of a purpose, the recovery codes) take it first:
// under READ COMMITTED, two such transactions would otherwise each delete
// the set they saw and both insert theirs, leaving the union. FOR NO KEY
// UPDATE excludes the other writer but not the foreign-key checks of
// inserts elsewhere.
func lockUser(ctx context.Context, tx pgx.Tx, id int64) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM latch_users WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return account.ErrNotFound
	}
	return err
}

const oneTimeTokenColumns = `hash, user_id, purpose, email, epoch, created_at, expires_at`

// CreateOneTimeToken implements [account.OneTimeTokenStore]: in one
// transaction, with the user's row locked, it deletes the user's tokens of
// the same purpose and stores the new one.
func (s *AccountStore) CreateOneTimeToken(ctx context.Context, t account.OneTimeToken) error {
	user, ok := parseID(t.UserID)
	if !ok {
		return fmt.Errorf("postgres: create one-time token: %w", account.ErrNotFound)
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, user); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx,
			`DELETE FROM latch_one_time_tokens WHERE user_id = $1 AND purpose = $2`, user, string(t.Purpose)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO latch_one_time_tokens (`+oneTimeTokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			t.Hash, user, string(t.Purpose), t.Email, t.Epoch, t.CreatedAt, t.ExpiresAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create one-time token: %w", err)
	}
	return nil
}

// ConsumeOneTimeToken implements [account.OneTimeTokenStore] with one
// DELETE … RETURNING: of concurrent calls, the first deletes the row and
// the others, waiting for its lock, find it gone.
func (s *AccountStore) ConsumeOneTimeToken(ctx context.Context, purpose account.Purpose, hash string, now time.Time) (account.OneTimeToken, error) {
	if !storable(hash) || !storable(string(purpose)) {
		return account.OneTimeToken{}, fmt.Errorf("postgres: consume one-time token: %w", account.ErrNotFound)
	}
	var (
		t    account.OneTimeToken
		user int64
	)
	err := s.pool.QueryRow(ctx, `
		DELETE FROM latch_one_time_tokens WHERE hash = $1 AND purpose = $2 AND expires_at > $3
		RETURNING `+oneTimeTokenColumns, hash, string(purpose), now).
		Scan(&t.Hash, &user, &t.Purpose, &t.Email, &t.Epoch, &t.CreatedAt, &t.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return account.OneTimeToken{}, fmt.Errorf("postgres: consume one-time token: %w", account.ErrNotFound)
	}
	if err != nil {
		return account.OneTimeToken{}, fmt.Errorf("postgres: consume one-time token: %w", err)
	}
	t.UserID, t.CreatedAt, t.ExpiresAt = formatID(user), t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	return t, nil
}

// DeleteUserOneTimeTokens implements [account.OneTimeTokenStore].
func (s *AccountStore) DeleteUserOneTimeTokens(ctx context.Context, userID string, purpose account.Purpose) error {
	user, ok := parseID(userID)
	if !ok || !storable(string(purpose)) {
		return nil
	}
	_, err := s.pool.Exec(ctx,
		`DELETE FROM latch_one_time_tokens WHERE user_id = $1 AND ($2 = '' OR purpose = $2)`, user, string(purpose))
	if err != nil {
		return fmt.Errorf("postgres: delete user one-time tokens: %w", err)
	}
	return nil
}

// ReplaceRecoveryCodes implements [account.RecoveryCodeStore] in one
// transaction with the user's row locked, so a code of the old set never
// works beside the new set, and two racing replacements leave one set. A
// hash given twice is stored once.
func (s *AccountStore) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	user, ok := parseID(userID)
	if !ok {
		return fmt.Errorf("postgres: replace recovery codes: %w", account.ErrNotFound)
	}
	if hashes == nil {
		hashes = []string{} // an empty array, not NULL
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, user); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM latch_recovery_codes WHERE user_id = $1`, user); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO latch_recovery_codes (user_id, hash) SELECT $1, h FROM unnest($2::text[]) AS h
			ON CONFLICT DO NOTHING`, user, hashes)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: replace recovery codes: %w", err)
	}
	return nil
}

// UseRecoveryCode implements [account.RecoveryCodeStore]: the DELETE
// decides, so of concurrent uses of one code only one deletes a row.
func (s *AccountStore) UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error) {
	user, ok := parseID(userID)
	if !ok || !storable(hash) {
		return false, nil
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM latch_recovery_codes WHERE user_id = $1 AND hash = $2`, user, hash)
	if err != nil {
		return false, fmt.Errorf("postgres: use recovery code: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// RecoveryCodes implements [account.RecoveryCodeStore].
func (s *AccountStore) RecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	user, ok := parseID(userID)
	if !ok {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT hash FROM latch_recovery_codes WHERE user_id = $1`, user)
	if err != nil {
		return nil, fmt.Errorf("postgres: recovery codes: %w", err)
	}
	hashes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: recovery codes: %w", err)
	}
	return hashes, nil
}

// DeleteExpiredOneTimeTokens implements [account.OneTimeTokenStore].
func (s *AccountStore) DeleteExpiredOneTimeTokens(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM latch_one_time_tokens WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired one-time tokens: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// CountSessions counts the unexpired sessions, for a metrics gauge.
func (s *Store) CountSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM latch_sessions WHERE expires_at > $1`, now).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count sessions: %w", err)
	}
	return n, nil
}
