package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchgo/latch/account"
)

const userColumns = `id, username, email, password_hash, created_at, disabled, email_confirmed_at, totp_secret, credential_epoch`

// The case-insensitive comparisons are written exactly as the unique
// indexes latch_users_username_ci and latch_users_email_ci are defined, so that the
// planner uses them.
const (
	userByIDSQL       = `SELECT ` + userColumns + ` FROM latch_users WHERE id = $1`
	userByEmailSQL    = `SELECT ` + userColumns + ` FROM latch_users WHERE lower(email COLLATE "C") = lower($1::text COLLATE "C")`
	userByUsernameSQL = `SELECT ` + userColumns + ` FROM latch_users WHERE lower(username COLLATE "C") = lower($1::text COLLATE "C")`
)

func scanUser(row scanner) (account.User, error) {
	var (
		u         account.User
		id        int64
		confirmed *time.Time
	)
	err := row.Scan(&id, &u.Username, &u.Email, &u.PasswordHash, &u.CreatedAt, &u.Disabled, &confirmed, &u.TOTPSecret, &u.Epoch)
	u.ID, u.CreatedAt, u.EmailConfirmedAt = formatID(id), u.CreatedAt.UTC(), fromNullTime(confirmed)
	return u, err
}

// oneUser scans a lookup's row, reporting account.ErrNotFound for none.
func oneUser(row pgx.Row, op string) (*account.User, error) {
	u, err := scanUser(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: %s: %w", op, account.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, err)
	}
	return &u, nil
}

// takenError maps the server's report of a clash on one of the users
// table's unique indexes to the account error it means, or returns nil.
// The constraint names are the indexes' in migrations/accounts.
func takenError(err error) error {
	switch name, _ := isViolation(err, uniqueViolation); name {
	case "latch_users_email_ci":
		return account.ErrEmailTaken
	case "latch_users_username_ci", "latch_users_username_skeleton":
		return account.ErrUsernameTaken
	}
	return nil
}

// CreateUser implements [account.Store]. The unique indexes on
// lower(username) and lower(email) refuse a clash even between racing
// sign-ups on different instances.
func (s *AccountStore) CreateUser(ctx context.Context, u *account.User) error {
	defer s.feed.Changed()
	var id int64
	err := s.pool.QueryRow(ctx, `
		INSERT INTO latch_users (username, email, password_hash, created_at, disabled, email_confirmed_at, totp_secret, credential_epoch, username_skeleton)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		u.Username, u.Email, u.PasswordHash, u.CreatedAt, u.Disabled, nullTime(u.EmailConfirmedAt), u.TOTPSecret, u.Epoch,
		account.UsernameSkeleton(u.Username)).Scan(&id)
	if taken := takenError(err); taken != nil {
		return fmt.Errorf("postgres: create user: %w", taken)
	}
	if err != nil {
		return fmt.Errorf("postgres: create user: %w", err)
	}
	u.ID = formatID(id)
	return nil
}

// UserByID implements [account.Store].
func (s *AccountStore) UserByID(ctx context.Context, id string) (*account.User, error) {
	n, ok := parseID(id)
	if !ok {
		return nil, fmt.Errorf("postgres: user by id: %w", account.ErrNotFound)
	}
	return oneUser(s.pool.QueryRow(ctx, userByIDSQL, n), "user by id")
}

// UserByEmail implements [account.Store].
func (s *AccountStore) UserByEmail(ctx context.Context, email string) (*account.User, error) {
	if !storable(email) {
		return nil, fmt.Errorf("postgres: user by email: %w", account.ErrNotFound)
	}
	return oneUser(s.pool.QueryRow(ctx, userByEmailSQL, email), "user by email")
}

// UserByUsername implements [account.Store].
func (s *AccountStore) UserByUsername(ctx context.Context, username string) (*account.User, error) {
	if !storable(username) {
		return nil, fmt.Errorf("postgres: user by username: %w", account.ErrNotFound)
	}
	return oneUser(s.pool.QueryRow(ctx, userByUsernameSQL, username), "user by username")
}

// UsernameTaken implements [account.Store].
func (s *AccountStore) UsernameTaken(ctx context.Context, username string) (bool, error) {
	if !storable(username) {
		return false, nil
	}
	var taken bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM latch_users
		WHERE lower(username COLLATE "C") = lower($1::text COLLATE "C") OR username_skeleton = $2)`,
		username, account.UsernameSkeleton(username)).Scan(&taken)
	if err != nil {
		return false, fmt.Errorf("postgres: username taken: %w", err)
	}
	return taken, nil
}

// SetPasswordHash implements [account.Store].
func (s *AccountStore) SetPasswordHash(ctx context.Context, id, hash string) error {
	defer s.feed.Changed()
	return s.updateUser(ctx, "set password hash", `UPDATE latch_users SET password_hash = $2 WHERE id = $1`, id, hash)
}

// SetDisabled implements [account.Store]: disabling raises the credential
// epoch in the same statement.
func (s *AccountStore) SetDisabled(ctx context.Context, id string, disabled bool) error {
	defer s.feed.Changed()
	return s.updateUser(ctx, "set disabled",
		`UPDATE latch_users SET disabled = $2, credential_epoch = credential_epoch + CASE WHEN $2 THEN 1 ELSE 0 END WHERE id = $1`,
		id, disabled)
}

// RevokeCredentials implements [account.Store] in one statement: the
// epoch, the password hash, and the deletion of the user's API tokens,
// one-time tokens, passkeys, and the sessions and remember-me tokens this database
// keeps commit together. A token that a concurrent request inserts where
// this statement does not see it carries the epoch that request read,
// which the user's new epoch refuses.
func (s *AccountStore) RevokeCredentials(ctx context.Context, id, newHash string) (int64, error) {
	defer s.feed.Changed()
	n, ok := parseID(id)
	if !ok {
		return 0, fmt.Errorf("postgres: revoke credentials: %w", account.ErrNotFound)
	}
	var epoch int64
	err := s.pool.QueryRow(ctx, `
		WITH u AS (
			UPDATE latch_users SET credential_epoch = credential_epoch + 1,
				password_hash = CASE WHEN $3 = '' THEN password_hash ELSE $3 END
			WHERE id = $1 RETURNING credential_epoch
		),
		a AS (DELETE FROM latch_api_tokens WHERE user_id = $1 AND EXISTS (SELECT 1 FROM u)),
		o AS (DELETE FROM latch_one_time_tokens WHERE user_id = $1 AND EXISTS (SELECT 1 FROM u)),
		k AS (DELETE FROM latch_passkeys WHERE user_id = $1 AND EXISTS (SELECT 1 FROM u)),
		s AS (DELETE FROM latch_sessions WHERE user_id = $2 AND EXISTS (SELECT 1 FROM u)),
		r AS (DELETE FROM latch_remember_tokens WHERE user_id = $2 AND EXISTS (SELECT 1 FROM u))
		SELECT credential_epoch FROM u`, n, id, newHash).Scan(&epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: revoke credentials: %w", account.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: revoke credentials: %w", err)
	}
	return epoch, nil
}

// updateUser runs query with arguments (id, values...) and reports
// account.ErrNotFound when it matched no user, and ErrUsernameTaken or
// ErrEmailTaken when a unique index refused the change.
func (s *AccountStore) updateUser(ctx context.Context, op, query, id string, values ...any) error {
	n, ok := parseID(id)
	if !ok {
		return fmt.Errorf("postgres: %s: %w", op, account.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, query, append([]any{n}, values...)...)
	if taken := takenError(err); taken != nil {
		return fmt.Errorf("postgres: %s: %w", op, taken)
	}
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s: %w", op, account.ErrNotFound)
	}
	return nil
}

// DeleteUser implements [account.Store]. One statement deletes the user,
// their sessions and their remember-me tokens (which have no foreign key);
// the foreign keys of the other tables cascade.
func (s *AccountStore) DeleteUser(ctx context.Context, id string) error {
	defer s.feed.Changed()
	n, ok := parseID(id)
	if !ok {
		return fmt.Errorf("postgres: delete user: %w", account.ErrNotFound)
	}
	var deleted int
	err := s.pool.QueryRow(ctx, `
		WITH gone AS (DELETE FROM latch_users WHERE id = $1 RETURNING id),
		latch_sessions AS (DELETE FROM latch_sessions WHERE user_id = $2 AND EXISTS (SELECT 1 FROM gone)),
		tokens AS (DELETE FROM latch_remember_tokens WHERE user_id = $2 AND EXISTS (SELECT 1 FROM gone))
		SELECT count(*) FROM gone`, n, id).Scan(&deleted)
	if err != nil {
		return fmt.Errorf("postgres: delete user: %w", err)
	}
	if deleted == 0 {
		return fmt.Errorf("postgres: delete user: %w", account.ErrNotFound)
	}
	return nil
}

// ListUsers implements [account.Store]. Ids come from an identity and are
// never reused, so the list is in id order, and a deleted user's id still
// works as the after cursor.
func (s *AccountStore) ListUsers(ctx context.Context, after string, limit int) ([]account.User, error) {
	var from int64
	if after != "" {
		var ok bool
		if from, ok = parseID(after); !ok {
			return nil, errors.New("postgres: list users: after is not a user id")
		}
	}
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx,
		`SELECT `+userColumns+` FROM latch_users WHERE id > $1 ORDER BY id LIMIT $2`, from, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	list, err := collect(rows, scanUser)
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	return list, nil
}
