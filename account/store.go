package account

import (
	"context"
	"errors"
	"time"
)

// Errors a Store reports; compare with errors.Is.
var (
	// ErrNotFound: no user matches.
	ErrNotFound = errors.New("account: user not found")
	// ErrUsernameTaken: another user has this username (compared
	// case-insensitively).
	ErrUsernameTaken = errors.New("account: username taken")
	// ErrEmailTaken: another user has this email (compared
	// case-insensitively).
	ErrEmailTaken = errors.New("account: email taken")
)

// User is an account as latch's site and storage backends know it. It
// satisfies latch.User (GetID) and latch.ActiveUser (IsActive), so a
// latch.Manager[*account.User] can log it in.
type User struct {
	// ID is assigned by the store at creation; it never changes.
	ID string
	// Username is shown on profile pages. Unique case-insensitively; the
	// spelling given at sign-up is kept.
	Username string
	// Email is the login name. Unique case-insensitively.
	Email string
	// PasswordHash is a PHC string (argon2id) or an imported legacy hash
	// that is upgraded at the next login. Never shown, never logged.
	PasswordHash string
	CreatedAt    time.Time
	// Disabled users cannot log in, and their sessions stop working on
	// their next request.
	Disabled bool
}

// GetID returns the user's id, for latch.User.
func (u *User) GetID() string { return u.ID }

// IsActive reports whether the user may log in, for latch.ActiveUser.
func (u *User) IsActive() bool { return !u.Disabled }

// Store keeps users. Implementations enforce case-insensitive uniqueness
// of Username and Email in the database itself (a unique index on the
// lowercased value), so that two racing sign-ups cannot both succeed.
type Store interface {
	// CreateUser inserts u as given (the caller sets CreatedAt) and sets
	// u.ID. Ids are never reused, even after a user is deleted, so a
	// leftover session or token cannot come to name somebody else. Ids
	// match exactly: "07" is not user "7". It returns an error wrapping
	// ErrUsernameTaken or ErrEmailTaken when a unique constraint refuses
	// it (when both clash, either may be reported).
	CreateUser(ctx context.Context, u *User) error
	// UserByID, UserByEmail and UserByUsername return an error wrapping
	// ErrNotFound when there is no such user. Email and username match
	// case-insensitively.
	UserByID(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	UserByUsername(ctx context.Context, username string) (*User, error)
	// SetPasswordHash replaces a user's password hash (ErrNotFound if the
	// user is gone).
	SetPasswordHash(ctx context.Context, id, hash string) error
	// SetDisabled disables or re-enables a user (ErrNotFound if gone).
	SetDisabled(ctx context.Context, id string, disabled bool) error
	// DeleteUser removes a user and everything the store keeps for them
	// (ErrNotFound if gone).
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns up to limit users ordered by creation, starting
	// after the user whose id is after ("" for the first page).
	ListUsers(ctx context.Context, after string, limit int) ([]User, error)
}
