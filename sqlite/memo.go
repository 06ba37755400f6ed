package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

// sessionUserSQL reads a session and, in the same statement (one read
// transaction, one round through database/sql), the user it names.
const sessionUserSQL = `SELECT s.hash, s.user_id, s.series, s.epoch, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent, s.data,
	u.id, u.username, u.email, u.password_hash, u.created_at, u.disabled, u.email_confirmed_at, u.totp_secret, u.credential_epoch
	FROM latch_sessions s LEFT JOIN latch_users u ON u.id = s.user_id
	WHERE s.hash = ? AND s.expires_at > ?`

type memoKey struct{}

// memo holds the user that FindSession read with the session, for the
// UserByID of the same request. Handlers may hand the request's context
// to goroutines, so it is guarded.
type memo struct {
	mu   sync.Mutex
	id   string        // the session's user id; "" when nothing is held
	user *account.User // nil: no such user
}

// WithRequestMemo prepares ctx, the context of one request, so that
// FindSession also reads the session's user and the UserByID that the
// login manager's user loader makes next is answered from it, without a
// second query. The user row is read in the same statement as the
// session, so it is exactly as fresh as a separate query would be: a
// disabled or deleted user is seen on the very next request. A held user
// is handed out once; later lookups query the database.
func WithRequestMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{})
}

func (s *Store) findSessionWithUser(ctx context.Context, m *memo, hash string, now time.Time) (latch.Session, bool, error) {
	var (
		sess                       latch.Session
		created, lastSeen, expires int64
		uid, ucreated, udisabled   sql.NullInt64
		uname, uemail, uhash, utot sql.NullString
		uconfirmed, uepoch         sql.NullInt64
	)
	err := s.sessionUser.QueryRowContext(ctx, hash, millis(now)).Scan(
		&sess.Hash, &sess.UserID, &sess.Series, &sess.Epoch, &created, &lastSeen, &expires, &sess.IP, &sess.UserAgent, &sess.Data,
		&uid, &uname, &uemail, &uhash, &ucreated, &udisabled, &uconfirmed, &utot, &uepoch)
	if errors.Is(err, sql.ErrNoRows) {
		return latch.Session{}, false, nil
	}
	if err != nil {
		return latch.Session{}, false, fmt.Errorf("sqlite: find session: %w", err)
	}
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = fromMillis(created), fromMillis(lastSeen), fromMillis(expires)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.id, m.user = "", nil
	if _, ok := parseID(sess.UserID); ok {
		// The join matched numerically; hold the row only for the exact
		// id the store hands out, as UserByID would.
		m.id = sess.UserID
		if uid.Valid && formatID(uid.Int64) == sess.UserID {
			m.user = &account.User{
				ID: sess.UserID, Username: uname.String, Email: uemail.String, PasswordHash: uhash.String,
				CreatedAt: fromMillis(ucreated.Int64), Disabled: udisabled.Int64 != 0,
				EmailConfirmedAt: fromNullMillis(uconfirmed), TOTPSecret: utot.String, Epoch: uepoch.Int64,
			}
		}
	}
	return sess, true, nil
}

// heldUser answers UserByID from the request's memo, once.
func heldUser(ctx context.Context, id string) (*account.User, bool, error) {
	m, _ := ctx.Value(memoKey{}).(*memo)
	if m == nil {
		return nil, false, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.id == "" || m.id != id {
		return nil, false, nil
	}
	u := m.user
	m.id, m.user = "", nil
	if u == nil {
		return nil, true, fmt.Errorf("sqlite: user by id: %w", account.ErrNotFound)
	}
	return u, true, nil
}
