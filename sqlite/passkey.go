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

const passkeyColumns = `id, user_id, name, credential_id, credential, epoch, created_at, last_used_at`

func scanPasskey(row interface{ Scan(...any) error }) (account.Passkey, error) {
	var (
		p        account.Passkey
		id, user int64
		created  int64
		used     sql.NullInt64
	)
	err := row.Scan(&id, &user, &p.Name, &p.CredentialID, &p.Credential, &p.Epoch, &created, &used)
	p.ID, p.UserID = formatID(id), formatID(user)
	p.CreatedAt, p.LastUsedAt = fromMillis(created), fromNullMillis(used)
	return p, err
}

// AddPasskey implements [account.PasskeyStore].
func (s *AccountStore) AddPasskey(ctx context.Context, p *account.Passkey) error {
	user, ok := parseID(p.UserID)
	if !ok {
		return fmt.Errorf("sqlite: add passkey: %w", account.ErrNotFound)
	}
	var id int64
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO latch_passkeys (user_id, name, credential_id, credential, epoch, created_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		user, p.Name, p.CredentialID, p.Credential, p.Epoch, millis(p.CreatedAt), nullMillis(p.LastUsedAt)).Scan(&id)
	var serr *sqlite.Error
	switch {
	case isForeignKeyViolation(err):
		return fmt.Errorf("sqlite: add passkey: %w", account.ErrNotFound)
	case errors.As(err, &serr) && serr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("sqlite: add passkey: %w", account.ErrPasskeyExists)
	case err != nil:
		return fmt.Errorf("sqlite: add passkey: %w", err)
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
	rows, err := s.read.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM latch_passkeys WHERE user_id = ? ORDER BY id`, user)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user passkeys: %w", err)
	}
	list, err := collect(rows, scanPasskey)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user passkeys: %w", err)
	}
	return list, nil
}

// PasskeyByCredentialID implements [account.PasskeyStore].
func (s *AccountStore) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*account.Passkey, error) {
	p, err := scanPasskey(s.read.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM latch_passkeys WHERE credential_id = ?`, credentialID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: passkey by credential id: %w", account.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: passkey by credential id: %w", err)
	}
	return &p, nil
}

// UsePasskey implements [account.PasskeyStore].
func (s *AccountStore) UsePasskey(ctx context.Context, id string, credential []byte, at time.Time) error {
	return s.changePasskey(ctx, "use passkey", `UPDATE latch_passkeys SET credential = ?, last_used_at = ? WHERE id = ?`,
		id, credential, millis(at))
}

// RenamePasskey implements [account.PasskeyStore].
func (s *AccountStore) RenamePasskey(ctx context.Context, userID, id, name string) error {
	user, ok := parseID(userID)
	if !ok {
		return fmt.Errorf("sqlite: rename passkey: %w", account.ErrNotFound)
	}
	return s.changePasskey(ctx, "rename passkey", `UPDATE latch_passkeys SET name = ? WHERE user_id = ? AND id = ?`, id, name, user)
}

// DeletePasskey implements [account.PasskeyStore].
func (s *AccountStore) DeletePasskey(ctx context.Context, userID, id string) error {
	user, ok := parseID(userID)
	if !ok {
		return fmt.Errorf("sqlite: delete passkey: %w", account.ErrNotFound)
	}
	return s.changePasskey(ctx, "delete passkey", `DELETE FROM latch_passkeys WHERE user_id = ? AND id = ?`, id, user)
}

// changePasskey runs query with args and then passkey id as its
// parameters, and reports account.ErrNotFound when it matched no row.
func (s *AccountStore) changePasskey(ctx context.Context, op, query, id string, args ...any) error {
	n, ok := parseID(id)
	if !ok {
		return fmt.Errorf("sqlite: %s: %w", op, account.ErrNotFound)
	}
	res, err := s.write.ExecContext(ctx, query, append(args, n)...)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("sqlite: %s: %w", op, errors.Join(account.ErrNotFound, err))
	}
	return nil
}
