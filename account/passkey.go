package account

import (
	"context"
	"errors"
	"time"
)

// ErrPasskeyExists: a passkey with this credential id is registered
// already (to this user or another).
var ErrPasskeyExists = errors.New("account: passkey already registered")

// Passkey is a WebAuthn credential of a user: a key pair in an
// authenticator (a phone, a security key, a password manager) that logs
// the user in without a password, or stands in for the second factor.
// Only the public key is kept.
type Passkey struct {
	ID     string
	UserID string
	// Name is the user's name for it ("Pixel 8"), at most PasskeyNameMax
	// bytes.
	Name string
	// CredentialID is the authenticator's id of the credential, unique
	// across users: an assertion names its credential by it.
	CredentialID []byte
	// Credential is the credential as the WebAuthn library keeps it
	// (public key, signature counter, flags, transports), encoded by the
	// site; stores keep it as opaque bytes and replace it after each use.
	Credential []byte
	// Epoch is the user's credential epoch when the passkey was
	// registered. A passkey of an earlier epoch than the user's is refused,
	// as every other credential is: a revocation ends passkeys registered
	// by requests still in flight too, not only the ones its delete saw.
	Epoch     int64
	CreatedAt time.Time
	// LastUsedAt is zero until the passkey is first used.
	LastUsedAt time.Time
}

// PasskeyNameMax is the longest passkey name, in bytes.
const PasskeyNameMax = 64

// PasskeyStore keeps users' passkeys. RevokeCredentials deletes a user's
// passkeys with everything else (whoever knew the password could have
// registered one); their Epoch refuses any it did not see.
type PasskeyStore interface {
	// AddPasskey inserts p and sets p.ID. It refuses a credential id that
	// is registered already (ErrPasskeyExists) and a user who does not
	// exist (ErrNotFound).
	AddPasskey(ctx context.Context, p *Passkey) error
	// UserPasskeys lists a user's passkeys, oldest first.
	UserPasskeys(ctx context.Context, userID string) ([]Passkey, error)
	// PasskeyByCredentialID returns the passkey with this credential id
	// (ErrNotFound if none).
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)
	// UsePasskey stores the credential as it is after a use (its new
	// signature counter and flags) and sets LastUsedAt. A passkey deleted
	// meanwhile is ErrNotFound: the use must not count.
	UsePasskey(ctx context.Context, id string, credential []byte, at time.Time) error
	// RenamePasskey renames passkey id if it belongs to userID, and
	// DeletePasskey deletes it (ErrNotFound otherwise: one user cannot
	// touch another's passkey).
	RenamePasskey(ctx context.Context, userID, id, name string) error
	DeletePasskey(ctx context.Context, userID, id string) error
}
