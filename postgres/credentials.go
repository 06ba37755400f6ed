package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/latchgo/latch/account"
)

// SetEmail implements [account.CredentialStore]. The unique index on
// lower(email) refuses another user's address, as at sign-up.
func (s *AccountStore) SetEmail(ctx context.Context, id, email string, confirmedAt time.Time) error {
	defer s.feed.Changed()
	return s.updateUser(ctx, "set email",
		`UPDATE latch_users SET email = $2, email_confirmed_at = $3 WHERE id = $1`,
		id, email, nullTime(confirmedAt))
}

// ConfirmEmail implements [account.CredentialStore]. The address is
// compared in the UPDATE itself, on the newest version of the row, so a
// change of address committed first makes an older link confirm nothing.
func (s *AccountStore) ConfirmEmail(ctx context.Context, id, email string, at time.Time) (bool, error) {
	defer s.feed.Changed()
	n, ok := parseID(id)
	if !ok {
		return false, fmt.Errorf("postgres: confirm email: %w", account.ErrNotFound)
	}
	if !storable(email) {
		// No stored address is this one; the user may still exist.
		email = ""
	}
	return s.conditionalUpdate(ctx, "confirm email", `
		UPDATE latch_users SET email_confirmed_at = $2
		WHERE id = $1 AND lower(email COLLATE "C") = lower($3::text COLLATE "C")`,
		n, at, email)
}

// SetTOTP implements [account.CredentialStore].
func (s *AccountStore) SetTOTP(ctx context.Context, id, secret string) error {
	defer s.feed.Changed()
	return s.updateUser(ctx, "set totp",
		`UPDATE latch_users SET totp_secret = $2, totp_last_step = 0 WHERE id = $1`, id, secret)
}

// UseTOTPStep implements [account.CredentialStore] with one UPDATE whose
// WHERE clause compares the steps. Concurrent updates of the row queue on
// its lock, and each re-checks the condition on the version the one
// before it committed, so of concurrent uses of one code exactly one
// succeeds, and a later step is never overwritten by an earlier one.
func (s *AccountStore) UseTOTPStep(ctx context.Context, id string, step int64) (bool, error) {
	n, ok := parseID(id)
	if !ok {
		return false, fmt.Errorf("postgres: use totp step: %w", account.ErrNotFound)
	}
	return s.conditionalUpdate(ctx, "use totp step",
		`UPDATE latch_users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2`, n, step)
}

// conditionalUpdate runs update, an UPDATE of user $1 with a condition,
// and reports whether it changed the row: account.ErrNotFound if there is
// no such user, false if the condition did not hold. The existence check
// rides in the same statement, so that telling the two apart costs no
// second round trip.
func (s *AccountStore) conditionalUpdate(ctx context.Context, op, update string, id int64, args ...any) (bool, error) {
	var exists, changed bool
	err := s.pool.QueryRow(ctx, `
		WITH changed AS (`+update+` RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM latch_users WHERE id = $1), EXISTS (SELECT 1 FROM changed)`,
		append([]any{id}, args...)...).Scan(&exists, &changed)
	if err != nil {
		return false, fmt.Errorf("postgres: %s: %w", op, err)
	}
	if !exists && !changed {
		return false, fmt.Errorf("postgres: %s: %w", op, account.ErrNotFound)
	}
	return changed, nil
}
