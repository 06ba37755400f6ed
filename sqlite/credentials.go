package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/latchgo/latch/account"
)

// SetEmail implements [account.CredentialStore]. The unique index on
// lower(email) refuses another user's address, as at sign-up.
func (s *AccountStore) SetEmail(ctx context.Context, id, email string, confirmedAt time.Time) error {
	defer s.changed()
	return s.updateUser(ctx, "set email",
		`UPDATE latch_users SET email = ?, email_confirmed_at = ? WHERE id = ?`,
		id, email, nullMillis(confirmedAt))
}

// ConfirmEmail implements [account.CredentialStore]. The address is
// compared in the UPDATE itself, so a change of address committed first
// makes an older confirmation link confirm nothing.
func (s *AccountStore) ConfirmEmail(ctx context.Context, id, email string, at time.Time) (bool, error) {
	defer s.changed()
	n, ok := parseID(id)
	if !ok {
		return false, fmt.Errorf("sqlite: confirm email: %w", account.ErrNotFound)
	}
	confirmed := false
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE latch_users SET email_confirmed_at = ? WHERE id = ? AND lower(email) = lower(?)`,
			millis(at), n, email)
		if err != nil {
			return err
		}
		if confirmed, err = changedOne(res); err != nil || confirmed {
			return err
		}
		return userExists(ctx, tx, n)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: confirm email: %w", err)
	}
	return confirmed, nil
}

// SetTOTP implements [account.CredentialStore].
func (s *AccountStore) SetTOTP(ctx context.Context, id, secret string) error {
	defer s.changed()
	return s.updateUser(ctx, "set totp",
		`UPDATE latch_users SET totp_secret = ?, totp_last_step = 0 WHERE id = ?`, id, secret)
}

// UseTOTPStep implements [account.CredentialStore]. The comparison with
// the last step is part of the UPDATE, and writes are serialised, so of
// concurrent uses of one code exactly one changes the row.
func (s *AccountStore) UseTOTPStep(ctx context.Context, id string, step int64) (bool, error) {
	n, ok := parseID(id)
	if !ok {
		return false, fmt.Errorf("sqlite: use totp step: %w", account.ErrNotFound)
	}
	used := false
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE latch_users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, n, step)
		if err != nil {
			return err
		}
		if used, err = changedOne(res); err != nil || used {
			return err
		}
		return userExists(ctx, tx, n)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: use totp step: %w", err)
	}
	return used, nil
}

// userExists returns account.ErrNotFound unless user id exists. Callers
// run it in the transaction of an UPDATE that matched nothing, to tell
// "no such user" from "condition false".
func userExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM latch_users WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return account.ErrNotFound
	}
	return err
}

// changedOne reports whether a statement changed a row.
func changedOne(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	return n > 0, err
}
