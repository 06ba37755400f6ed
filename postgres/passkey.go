package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchgo/latch/account"
)

const passkeyColumns = `id, user_id, name, credential_id, credential, epoch, created_at, last_used_at`

func scanPasskey(row scanner) (account.Passkey, error) {
	var (
		p        account.Passkey
		id, user int64
		used     *time.Time
	)
	err := row.Scan(&id, &user, &p.Name, &p.CredentialID, &p.Credential, &p.Epoch, &p.CreatedAt, &used)
	p.ID, p.UserID = formatID(id), formatID(user)
	p.CreatedAt, p.LastUsedAt = p.CreatedAt.UTC(), fromNullTime(used)
	return p, err
}

// AddPasskey implements [account.PasskeyStore].
func (s *AccountStore) AddPasskey(ctx context.Context, p *account.Passkey) error {
	user, ok := parseID(p.UserID)
	if !ok {
		return fmt.Errorf("postgres: add passkey: %w", account.ErrNotFound)
	}
	var id int64
	err := s.pool.QueryRow(ctx, `
		INSERT INTO latch_passkeys (user_id, name, credential_id, credential, epoch, created_at, last_used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		user, clientText(p.Name), p.CredentialID, p.Credential, p.Epoch, p.CreatedAt, nullTime(p.LastUsedAt)).Scan(&id)
	if _, missing := isViolation(err, foreignKeyViolation); missing {
		return fmt.Errorf("postgres: add passkey: %w", account.ErrNotFound)
	}
	if _, taken := isViolation(err, uniqueViolation); taken {
		return fmt.Errorf("postgres: add passkey: %w", account.ErrPasskeyExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: add passkey: %w", err)
	}
	p.ID = formatID(id)
	return nil
}

// UserPasskeys implements [account.PasskeyStore].
func (s *AccountStore) UserPasskeys(ctx context.Context, userID string) ([]account.Passkey, error) {
	user, ok := parseID(userID)
	if !ok {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+passkeyColumns+` FROM latch_passkeys WHERE user_id = $1 ORDER BY id`, user)
	if err != nil {
		return nil, fmt.Errorf("postgres: user passkeys: %w", err)
	}
	list, err := collect(rows, scanPasskey)
	if err != nil {
		return nil, fmt.Errorf("postgres: user passkeys: %w", err)
	}
	return list, nil
}

// PasskeyByCredentialID implements [account.PasskeyStore].
func (s *AccountStore) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*account.Passkey, error) {
	p, err := scanPasskey(s.pool.QueryRow(ctx, `SELECT `+passkeyColumns+` FROM latch_passkeys WHERE credential_id = $1`, credentialID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: passkey by credential id: %w", account.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: passkey by credential id: %w", err)
	}
	return &p, nil
}

// UsePasskey implements [account.PasskeyStore].
func (s *AccountStore) UsePasskey(ctx context.Context, id string, credential []byte, at time.Time) error {
	return s.changePasskey(ctx, "use passkey", `UPDATE latch_passkeys SET credential = $2, last_used_at = $3 WHERE id = $1`,
		id, credential, at)
}

// RenamePasskey implements [account.PasskeyStore].
func (s *AccountStore) RenamePasskey(ctx context.Context, userID, id, name string) error {
	user, ok := parseID(userID)
	if !ok {
		return fmt.Errorf("postgres: rename passkey: %w", account.ErrNotFound)
	}
	return s.changePasskey(ctx, "rename passkey", `UPDATE latch_passkeys SET name = $2 WHERE id = $1 AND user_id = $3`,
		id, clientText(name), user)
}

// DeletePasskey implements [account.PasskeyStore].
func (s *AccountStore) DeletePasskey(ctx context.Context, userID, id string) error {
	user, ok := parseID(userID)
	if !ok {
		return fmt.Errorf("postgres: delete passkey: %w", account.ErrNotFound)
	}
	return s.changePasskey(ctx, "delete passkey", `DELETE FROM latch_passkeys WHERE id = $1 AND user_id = $2`, id, user)
}

// changePasskey runs query with passkey id as $1 and then args, and
// reports account.ErrNotFound when it matched no row.
func (s *AccountStore) changePasskey(ctx context.Context, op, query, id string, args ...any) error {
	n, ok := parseID(id)
	if !ok {
		return fmt.Errorf("postgres: %s: %w", op, account.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, query, append([]any{n}, args...)...)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s: %w", op, account.ErrNotFound)
	}
	return nil
}
