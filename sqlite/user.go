package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchgo/latch/account"
)

const userColumns = `id, username, email, password_hash, created_at, disabled, email_confirmed_at, totp_secret, credential_epoch`

const (
	userByIDSQL    = `SELECT ` + userColumns + ` FROM latch_users WHERE id = ?`
	userByEmailSQL = `SELECT ` + userColumns + ` FROM latch_users WHERE lower(email) = lower(?)`
	// userByUsernameSQL is what every profile page runs.
	userByUsernameSQL = `SELECT ` + userColumns + ` FROM latch_users WHERE lower(username) = lower(?)`
)

func scanUser(row interface{ Scan(...any) error }) (account.User, error) {
	var (
		u         account.User
		id        int64
		created   int64
		disabled  int64
		confirmed sql.NullInt64
	)
	err := row.Scan(&id, &u.Username, &u.Email, &u.PasswordHash, &created, &disabled, &confirmed, &u.TOTPSecret, &u.Epoch)
	u.ID, u.CreatedAt, u.Disabled = formatID(id), fromMillis(created), disabled != 0
	u.EmailConfirmedAt = fromNullMillis(confirmed)
	return u, err
}

// oneUser scans a lookup's row, reporting account.ErrNotFound for none.
func oneUser(row *sql.Row, op string) (*account.User, error) {
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: %s: %w", op, account.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return &u, nil
}

// CreateUser implements [account.Store]. The unique indexes on
// lower(username) and lower(email) refuse a clash even between racing
// sign-ups, from this process or another.
func (s *AccountStore) CreateUser(ctx context.Context, u *account.User) error {
	defer s.changed()
	var id int64
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO latch_users (username, email, password_hash, created_at, disabled, email_confirmed_at, totp_secret, credential_epoch, username_skeleton)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Username, u.Email, u.PasswordHash, millis(u.CreatedAt), boolInt(u.Disabled),
		nullMillis(u.EmailConfirmedAt), u.TOTPSecret, u.Epoch, account.UsernameSkeleton(u.Username)).Scan(&id)
	if err != nil {
		if taken := uniqueViolation(err); taken != nil {
			return fmt.Errorf("sqlite: create user: %w", taken)
		}
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	u.ID = formatID(id)
	return nil
}

// uniqueViolation maps SQLite's report of a clash on one of the users
// table's unique indexes to the account error it means, or returns nil.
// SQLite names an index on an expression in its message ("UNIQUE
// constraint failed: index 'latch_users_email_ci'"); the names are the
// schema's, in migrations/accounts. A username whose skeleton is taken
// (account.UsernameSkeleton) is taken.
func uniqueViolation(err error) error {
	var serr *sqlite.Error
	if !errors.As(err, &serr) || serr.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return nil
	}
	switch msg := serr.Error(); {
	case strings.Contains(msg, "latch_users_email_ci"):
		return account.ErrEmailTaken
	case strings.Contains(msg, "latch_users_username_ci"), strings.Contains(msg, "latch_users.username_skeleton"),
		strings.Contains(msg, "latch_users_username_skeleton"):
		return account.ErrUsernameTaken
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// UserByID implements [account.Store].
func (s *AccountStore) UserByID(ctx context.Context, id string) (*account.User, error) {
	if u, ok, err := heldUser(ctx, id); ok {
		return u, err
	}
	n, ok := parseID(id)
	if !ok {
		return nil, fmt.Errorf("sqlite: user by id: %w", account.ErrNotFound)
	}
	return oneUser(s.userByID.QueryRowContext(ctx, n), "user by id")
}

// UserByEmail implements [account.Store].
func (s *AccountStore) UserByEmail(ctx context.Context, email string) (*account.User, error) {
	return oneUser(s.userByEmail.QueryRowContext(ctx, email), "user by email")
}

// UserByUsername implements [account.Store].
func (s *AccountStore) UserByUsername(ctx context.Context, username string) (*account.User, error) {
	return oneUser(s.userByUsername.QueryRowContext(ctx, username), "user by username")
}

// UsernameTaken implements [account.Store].
func (s *AccountStore) UsernameTaken(ctx context.Context, username string) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM latch_users WHERE lower(username) = lower(?) OR username_skeleton = ?`,
		username, account.UsernameSkeleton(username)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: username taken: %w", err)
	}
	return n > 0, nil
}

// SetPasswordHash implements [account.Store].
func (s *AccountStore) SetPasswordHash(ctx context.Context, id, hash string) error {
	defer s.changed()
	return s.updateUser(ctx, "set password hash", `UPDATE latch_users SET password_hash = ? WHERE id = ?`, id, hash)
}

// SetDisabled implements [account.Store]: disabling raises the credential
// epoch in the same statement.
func (s *AccountStore) SetDisabled(ctx context.Context, id string, disabled bool) error {
	defer s.changed()
	return s.updateUser(ctx, "set disabled",
		`UPDATE latch_users SET disabled = ?, credential_epoch = credential_epoch + ? WHERE id = ?`,
		id, boolInt(disabled), boolInt(disabled))
}

// RevokeCredentials implements [account.Store] in one write transaction:
// the epoch, the password hash, and the deletion of the user's API tokens,
// one-time tokens and passkeys commit together. The sessions and remember-me tokens
// this database keeps are deleted in it too.
func (s *AccountStore) RevokeCredentials(ctx context.Context, id, newHash string) (int64, error) {
	defer s.changed()
	n, ok := parseID(id)
	if !ok {
		return 0, fmt.Errorf("sqlite: revoke credentials: %w", account.ErrNotFound)
	}
	var epoch int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			UPDATE latch_users SET credential_epoch = credential_epoch + 1,
				password_hash = CASE WHEN ? = '' THEN password_hash ELSE ? END
			WHERE id = ? RETURNING credential_epoch`, newHash, newHash, n).Scan(&epoch)
		if errors.Is(err, sql.ErrNoRows) {
			return account.ErrNotFound
		}
		if err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM latch_api_tokens WHERE user_id = ?`,
			`DELETE FROM latch_one_time_tokens WHERE user_id = ?`,
			`DELETE FROM latch_passkeys WHERE user_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, n); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM latch_sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		_, err = deleteUserRemember(ctx, tx, id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: revoke credentials: %w", err)
	}
	return epoch, nil
}

// updateUser runs query with arguments (values..., id) and reports
// account.ErrNotFound when it matched no user, and ErrUsernameTaken or
// ErrEmailTaken when a unique index refused the change.
func (s *AccountStore) updateUser(ctx context.Context, op, query, id string, values ...any) error {
	n, ok := parseID(id)
	if !ok {
		return fmt.Errorf("sqlite: %s: %w", op, account.ErrNotFound)
	}
	res, err := s.write.ExecContext(ctx, query, append(values, n)...)
	if taken := uniqueViolation(err); taken != nil {
		return fmt.Errorf("sqlite: %s: %w", op, taken)
	}
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	changed, err := rowsAffected(res, op)
	if err != nil {
		return err
	}
	if changed == 0 {
		return fmt.Errorf("sqlite: %s: %w", op, account.ErrNotFound)
	}
	return nil
}

// DeleteUser implements [account.Store]. In the same transaction it
// deletes the user's sessions and remember-me tokens kept in this
// database; the foreign keys of the other tables (API tokens, one-time
// tokens, recovery codes, audit events) cascade.
func (s *AccountStore) DeleteUser(ctx context.Context, id string) error {
	defer s.changed()
	n, ok := parseID(id)
	if !ok {
		return fmt.Errorf("sqlite: delete user: %w", account.ErrNotFound)
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM latch_users WHERE id = ?`, n)
		if err != nil {
			return err
		}
		if deleted, err := res.RowsAffected(); err != nil {
			return err
		} else if deleted == 0 {
			return account.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM latch_sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		_, err = deleteUserRemember(ctx, tx, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete user: %w", err)
	}
	return nil
}

// ListUsers implements [account.Store]. Ids grow with creation and are
// never reused, so the list is in id order, and a deleted user's id still
// works as the after cursor.
func (s *AccountStore) ListUsers(ctx context.Context, after string, limit int) ([]account.User, error) {
	var from int64
	if after != "" {
		var ok bool
		if from, ok = parseID(after); !ok {
			return nil, errors.New("sqlite: list users: after is not a user id")
		}
	}
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+userColumns+` FROM latch_users WHERE id > ? ORDER BY id LIMIT ?`, from, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	list, err := collect(rows, scanUser)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return list, nil
}
