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
	// EmailConfirmedAt is when the user proved they receive mail at Email;
	// zero while unconfirmed.
	EmailConfirmedAt time.Time
	// TOTPSecret is the base32 secret of the user's authenticator app, ""
	// when two-factor authentication is off. Never shown after enrolment,
	// never logged.
	TOTPSecret string
	// Epoch is the user's credential epoch: it starts at 0 and only
	// grows. Raising it (Store.RevokeCredentials, or disabling the user)
	// ends at once every session, remember-me token, API token, mailed
	// link and half-finished two-factor login issued under an earlier
	// value; see latch.RevocableUser.
	Epoch int64
}

// Clone returns a copy of u that may be changed without changing u, so
// that a latch.Manager may keep users in its read cache (Cache.Users).
func (u *User) Clone() *User {
	c := *u
	return &c
}

// CredentialEpoch returns Epoch, for latch.RevocableUser.
func (u *User) CredentialEpoch() int64 { return u.Epoch }

// EmailConfirmed reports whether the user confirmed their address.
func (u *User) EmailConfirmed() bool { return !u.EmailConfirmedAt.IsZero() }

// TwoFactor reports whether the user has two-factor authentication on.
func (u *User) TwoFactor() bool { return u.TOTPSecret != "" }

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
	// CreateUser also refuses a username that a reader could not tell from
	// a taken one (the same UsernameSkeleton) with ErrUsernameTaken.
	//
	// UserByID, UserByEmail and UserByUsername return an error wrapping
	// ErrNotFound when there is no such user. Email and username match
	// case-insensitively.
	UserByID(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	UserByUsername(ctx context.Context, username string) (*User, error)
	// UsernameTaken reports whether a user has this username, compared
	// case-insensitively, or one with the same UsernameSkeleton.
	UsernameTaken(ctx context.Context, username string) (bool, error)
	// SetPasswordHash replaces a user's password hash (ErrNotFound if the
	// user is gone). It revokes nothing: it is for upgrading the hash of
	// the same password to new parameters. A new password goes through
	// RevokeCredentials.
	SetPasswordHash(ctx context.Context, id, hash string) error
	// RevokeCredentials ends every credential of user id at once: in one
	// atomic write it increments the user's credential epoch (so every
	// session, remember-me token, API token, one-time link and pending
	// second step issued under an earlier epoch is refused from now on),
	// sets the password hash to newHash unless newHash is "", and deletes
	// the user's API tokens, one-time tokens and passkeys (whoever knew
	// the password could have made any of them). It returns the new epoch
	// (ErrNotFound if the user is gone). Sessions and remember-me tokens,
	// which may live in another store, are deleted by the caller
	// afterwards; the epoch already refuses them.
	RevokeCredentials(ctx context.Context, id, newHash string) (epoch int64, err error)
	// SetDisabled disables or re-enables a user (ErrNotFound if gone).
	// Disabling also increments the credential epoch in the same write,
	// so that re-enabling the user later brings back none of the
	// sessions and tokens the user had before.
	SetDisabled(ctx context.Context, id string, disabled bool) error
	// DeleteUser removes a user and everything the store keeps for them
	// (ErrNotFound if gone).
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns up to limit users ordered by creation, starting
	// after the user whose id is after ("" for the first page).
	ListUsers(ctx context.Context, after string, limit int) ([]User, error)
}

// CredentialStore changes how a user proves who they are: the email
// address that receives reset links, and the second factor. Every method
// returns ErrNotFound for a missing user.
type CredentialStore interface {
	// SetEmail changes a user's email and sets EmailConfirmedAt to
	// confirmedAt (zero: unconfirmed). ErrEmailTaken if another user has
	// it, ErrNotFound if the user is gone.
	SetEmail(ctx context.Context, id, email string, confirmedAt time.Time) error
	// ConfirmEmail sets EmailConfirmedAt to at if the user's email is
	// still email (case-insensitively) and reports whether it was.
	ConfirmEmail(ctx context.Context, id, email string, at time.Time) (bool, error)
	// SetTOTP stores a user's TOTP secret ("" turns two-factor off) and
	// forgets the last used step.
	SetTOTP(ctx context.Context, id, secret string) error
	// UseTOTPStep records that the code of time step `step` (a positive
	// number: Unix time / 30) was used, if
	// step is later than the last step recorded, and reports whether it
	// was: a TOTP code is accepted once (ASVS 6.5.1). Atomic.
	UseTOTPStep(ctx context.Context, id string, step int64) (bool, error)
}

// APIToken is a long-lived credential for programs, sent as
// "Authorization: Bearer <secret>". Only a hash of the secret is stored.
type APIToken struct {
	ID     string
	UserID string
	Name   string
	Hash   string
	// Epoch is the owner's credential epoch when the token was made; the
	// token stops working when the owner's epoch moves on.
	Epoch     int64
	CreatedAt time.Time
	// LastUsedAt is zero until the token is first used.
	LastUsedAt time.Time
	// ExpiresAt is zero for tokens that do not expire.
	ExpiresAt time.Time
}

// APITokenStore keeps API tokens. Deleting a user deletes their tokens;
// creating one for a missing user is ErrNotFound.
type APITokenStore interface {
	// CreateAPIToken inserts t and sets t.ID.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// APITokenByHash returns the token with this hash, unless it is
	// missing or expired at now (ErrNotFound).
	APITokenByHash(ctx context.Context, hash string, now time.Time) (*APIToken, error)
	// UserAPITokens lists a user's tokens, newest first, expired ones
	// included (the owner sees them until they revoke them).
	UserAPITokens(ctx context.Context, userID string) ([]APIToken, error)
	// DeleteAPIToken deletes token id if it belongs to userID
	// (ErrNotFound otherwise: one user cannot delete another's token).
	DeleteAPIToken(ctx context.Context, userID, id string) error
	// DeleteUserAPITokens deletes every token of a user.
	DeleteUserAPITokens(ctx context.Context, userID string) (int, error)
	// TouchAPIToken sets LastUsedAt; a token deleted meanwhile is not an
	// error.
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
}

// Purpose says what a one-time token is for.
type Purpose string

// Purposes of one-time tokens.
const (
	// PurposeReset: a password-reset link.
	PurposeReset Purpose = "reset"
	// PurposeConfirm: a link that confirms the address it was sent to
	// (a new account's, or a new address that replaces the old one).
	PurposeConfirm Purpose = "confirm"
)

// OneTimeToken is a single-use secret sent by mail. Only its hash is
// stored.
type OneTimeToken struct {
	Hash    string
	UserID  string
	Purpose Purpose
	// Email is the address the token was sent to; a confirm token for a
	// new address changes the user's email to it when consumed.
	Email string
	// Epoch is the user's credential epoch when the link was mailed; a
	// link consumed after the epoch moved on does nothing.
	Epoch     int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// OneTimeTokenStore keeps one-time tokens. Deleting a user deletes their
// tokens.
type OneTimeTokenStore interface {
	// CreateOneTimeToken stores t and, in the same transaction, deletes
	// the user's other tokens of the same purpose: only the newest link
	// works.
	CreateOneTimeToken(ctx context.Context, t OneTimeToken) error
	// ConsumeOneTimeToken returns the token with this purpose and hash and
	// deletes it, atomically: of concurrent calls at most one succeeds.
	// A missing, used or expired (at now) token is ErrNotFound.
	ConsumeOneTimeToken(ctx context.Context, purpose Purpose, hash string, now time.Time) (OneTimeToken, error)
	// DeleteUserOneTimeTokens deletes a user's tokens of one purpose, or
	// of every purpose when purpose is "".
	DeleteUserOneTimeTokens(ctx context.Context, userID string, purpose Purpose) error
	// DeleteExpiredOneTimeTokens deletes tokens expired at now and
	// reports how many, so links nobody opened do not pile up.
	DeleteExpiredOneTimeTokens(ctx context.Context, now time.Time) (int, error)
}

// RecoveryCodeStore keeps the hashes of two-factor recovery codes.
// Deleting a user deletes their codes; storing codes for a missing user is
// ErrNotFound.
type RecoveryCodeStore interface {
	// ReplaceRecoveryCodes deletes a user's codes and stores new ones.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error
	// UseRecoveryCode deletes the user's code with this hash, atomically,
	// and reports whether there was one.
	UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error)
	// RecoveryCodes returns the hashes of a user's unused codes, in any
	// order (none, without error, for an id that names nobody).
	RecoveryCodes(ctx context.Context, userID string) ([]string, error)
}

// AuditEvent is one security-relevant thing that happened to an account.
type AuditEvent struct {
	ID string
	// UserID is "" when no account is known (a failed login for an
	// unknown email).
	UserID    string
	Kind      string
	At        time.Time
	IP        string
	UserAgent string
	// Detail is free text for the user and operators. Never a secret.
	Detail string
}

// AuditStore keeps the audit log. Deleting a user deletes their events.
type AuditStore interface {
	// AddAuditEvent stores e and sets e.ID.
	AddAuditEvent(ctx context.Context, e *AuditEvent) error
	// UserAuditEvents returns a user's newest events, newest first; none
	// for limit <= 0 or an empty userID.
	UserAuditEvents(ctx context.Context, userID string, limit int) ([]AuditEvent, error)
	// DeleteAuditEventsBefore deletes events older than before.
	DeleteAuditEventsBefore(ctx context.Context, before time.Time) (int, error)
}

// Backend is everything the account package keeps, as the sqlite and
// postgres packages provide it.
type Backend interface {
	Store
	CredentialStore
	APITokenStore
	OneTimeTokenStore
	RecoveryCodeStore
	AuditStore
	PasskeyStore
}
