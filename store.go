package latch

import (
	"context"
	"time"
)

// Session is the server-side record of one browser session, as a
// SessionStore keeps it. The session token that the browser holds is never
// stored: Hash is derived from it with [HashToken], so a copy of the store
// (a backup, a read-only SQL injection) cannot be replayed as a cookie.
type Session struct {
	// Hash identifies the session: HashToken of the cookie's token.
	Hash string
	// UserID is the logged-in user's id, or "" for an anonymous session
	// (one that only carries flash messages or a saved "next").
	UserID string
	// Series is the remember-me series that started this session or was
	// issued with it, or "". Revoking a series revokes its sessions too.
	Series string
	// Epoch is the user's credential epoch when the session was issued
	// (see [RevocableUser]); the manager refuses the session once the
	// user's epoch differs. 0 for anonymous sessions and for users
	// without epochs.
	Epoch int64
	// CreatedAt is when the session started; the absolute timeout counts
	// from here.
	CreatedAt time.Time
	// LastSeenAt is when the session was last used, to a precision of the
	// manager's touch interval; the idle timeout counts from here.
	LastSeenAt time.Time
	// ExpiresAt is the earlier of the idle and the absolute deadline. A
	// store must not return a session whose ExpiresAt is not after "now",
	// and may delete it.
	ExpiresAt time.Time
	// IP and UserAgent describe the device that started the session, for a
	// "your devices" page. They are informational, never trusted.
	IP        string
	UserAgent string
	// Data is latch's encoding of the session's contents (freshness, flash
	// messages, values). Stores keep it as an opaque blob.
	Data []byte
}

// SessionStore keeps server-side sessions. Every method takes the request's
// context first; implementations must be safe for concurrent use by many
// goroutines and, for shared backends, by many processes.
//
// "Not found" is never an error: FindSession reports it with found=false,
// and deleting something that does not exist succeeds.
type SessionStore interface {
	// FindSession returns the session whose Hash is hash, unless it is
	// missing or its ExpiresAt is not after now (found=false).
	FindSession(ctx context.Context, hash string, now time.Time) (s Session, found bool, err error)
	// CreateSession inserts a new session. Its Hash comes from a fresh
	// random token, so it names no existing session.
	CreateSession(ctx context.Context, s Session) error
	// UpdateSession replaces the Series, LastSeenAt, ExpiresAt, IP,
	// UserAgent and Data of the existing session with s.Hash, and reports
	// whether there was one. It must never create a session: a request
	// that loaded a session before it was deleted (a logout, a password
	// change on another device) must not bring it back when it saves.
	// UserID, Epoch and CreatedAt never change; a change of user is a new
	// session.
	UpdateSession(ctx context.Context, s Session) (found bool, err error)
	// TouchSession updates only LastSeenAt and ExpiresAt of the session
	// with this hash. It is called at most once per touch interval per
	// session, so it must be cheap; a missing session is not an error.
	TouchSession(ctx context.Context, hash string, lastSeen, expires time.Time) error
	// DeleteSession removes one session.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteUserSessions removes every session of userID except the one
	// whose hash is except ("" keeps none) and reports how many it removed.
	// An empty userID matches nothing (anonymous sessions are never
	// removed this way).
	DeleteUserSessions(ctx context.Context, userID, except string) (int, error)
	// DeleteSeriesSessions removes every session that belongs to the
	// remember-me series. An empty series matches nothing.
	DeleteSeriesSessions(ctx context.Context, series string) error
	// UserSessions lists the unexpired sessions of userID, newest first
	// (an empty userID has none).
	UserSessions(ctx context.Context, userID string, now time.Time) ([]Session, error)
	// DeleteExpiredSessions removes sessions whose ExpiresAt is not after
	// now and reports how many. Stores that expire keys by themselves may
	// return 0, nil.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// RememberToken is the server-side half of a "remember me" cookie. The
// cookie holds "selector.validator"; the store keeps the selector (to find
// the row) and only a hash of the validator (to check it in constant time),
// so the store alone cannot be used to log in.
//
// Tokens form a series: logging in with "remember me" starts one, and every
// use replaces the token with a new one in the same series. The last
// [KeptRotated] replaced tokens are kept, marked rotated, so that a copy of
// a recent cookie presented later is recognised as theft; older ones are
// deleted, so a series does not grow with every use.
type RememberToken struct {
	Selector      string
	ValidatorHash string
	UserID        string
	Series        string
	// Epoch is the user's credential epoch when the series was started
	// (see [RevocableUser]); a token whose epoch differs from the user's
	// is refused and its series revoked.
	Epoch      int64
	CreatedAt  time.Time
	LastUsedAt time.Time
	// ExpiresAt ends the token; stores must not return expired tokens.
	ExpiresAt time.Time
	// RotatedAt is zero while the token is current and records when it was
	// replaced otherwise.
	RotatedAt time.Time
	IP        string
	UserAgent string
}

// RememberStore keeps remember-me tokens. The same rules as for
// SessionStore apply: context first, safe for concurrent use, "not found"
// is found=false and never an error.
type RememberStore interface {
	// CreateRemember stores a new token (the first of a series).
	CreateRemember(ctx context.Context, t RememberToken) error
	// FindRemember returns the token with this selector, rotated or not,
	// unless it is missing or expired at now.
	FindRemember(ctx context.Context, selector string, now time.Time) (t RememberToken, found bool, err error)
	// RotateRemember marks the token oldSelector as rotated at `at` and
	// stores next, atomically, but only if oldSelector is still current
	// (not rotated, not deleted). It reports whether it did so; false means
	// another request rotated or revoked it first and nothing was written.
	// In the same step it deletes the series' rotated tokens beyond the
	// KeptRotated most recently rotated ones.
	RotateRemember(ctx context.Context, oldSelector string, at time.Time, next RememberToken) (bool, error)
	// DeleteRememberSeries removes every token of a series.
	DeleteRememberSeries(ctx context.Context, series string) error
	// DeleteUserRemember removes every token of a user and reports how
	// many series it ended.
	DeleteUserRemember(ctx context.Context, userID string) (int, error)
	// UserRemember lists the current (unrotated, unexpired) tokens of a
	// user, one per series, newest first.
	UserRemember(ctx context.Context, userID string, now time.Time) ([]RememberToken, error)
	// DeleteExpiredRemember removes expired tokens and reports how many.
	DeleteExpiredRemember(ctx context.Context, now time.Time) (int, error)
}

// KeptRotated is how many rotated tokens of a remember-me series a
// RememberStore keeps for theft detection: the cookies of the last two
// uses. A copy of an older cookie finds no token and is simply ignored.
const KeptRotated = 2

// Store is a SessionStore and a RememberStore in one, as the sqlite and
// postgres packages provide. Use [JoinStores] to keep sessions in one place
// (Redis) and remember tokens in another (PostgreSQL).
type Store interface {
	SessionStore
	RememberStore
}

// JoinStores combines a session store and a remember-token store into one
// Store. It is a ChangeTracker when both are.
func JoinStores(sessions SessionStore, remember RememberStore) Store {
	return joined{sessions, remember}
}

type joined struct {
	SessionStore
	RememberStore
}

// Changes implements ChangeTracker when both stores do: the sum of two
// versions that only grow moves whenever either does.
func (j joined) Changes() (uint64, bool) {
	a, okA := j.SessionStore.(ChangeTracker)
	b, okB := j.RememberStore.(ChangeTracker)
	if !okA || !okB {
		return 0, false
	}
	va, okA := a.Changes()
	vb, okB := b.Changes()
	return va + vb, okA && okB
}
