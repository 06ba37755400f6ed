package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/latchgo/latch"
)

const sessionColumns = `hash, user_id, series, epoch, created_at, last_seen_at, expires_at, ip, user_agent, data`

const findSessionSQL = `SELECT ` + sessionColumns + ` FROM latch_sessions WHERE hash = ? AND expires_at > ?`

func scanSession(row interface{ Scan(...any) error }) (latch.Session, error) {
	var (
		s                          latch.Session
		created, lastSeen, expires int64
	)
	err := row.Scan(&s.Hash, &s.UserID, &s.Series, &s.Epoch, &created, &lastSeen, &expires, &s.IP, &s.UserAgent, &s.Data)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMillis(created), fromMillis(lastSeen), fromMillis(expires)
	return s, err
}

// FindSession implements [latch.SessionStore].
func (s *Store) FindSession(ctx context.Context, hash string, now time.Time) (latch.Session, bool, error) {
	if m, ok := ctx.Value(memoKey{}).(*memo); ok && s.sessionUser != nil {
		return s.findSessionWithUser(ctx, m, hash, now)
	}
	sess, err := scanSession(s.findSession.QueryRowContext(ctx, hash, millis(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return latch.Session{}, false, nil
	}
	if err != nil {
		return latch.Session{}, false, fmt.Errorf("sqlite: find session: %w", err)
	}
	return sess, true, nil
}

// CreateSession implements [latch.SessionStore].
func (s *Store) CreateSession(ctx context.Context, sess latch.Session) error {
	defer s.changed()
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO latch_sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.Hash, sess.UserID, sess.Series, sess.Epoch,
		millis(sess.CreatedAt), millis(sess.LastSeenAt), millis(sess.ExpiresAt),
		sess.IP, sess.UserAgent, sess.Data)
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	return nil
}

// UpdateSession implements [latch.SessionStore]: an UPDATE, which cannot
// bring back a session deleted meanwhile.
func (s *Store) UpdateSession(ctx context.Context, sess latch.Session) (bool, error) {
	defer s.changed()
	res, err := s.write.ExecContext(ctx, `
		UPDATE latch_sessions SET series = ?, last_seen_at = ?, expires_at = ?, ip = ?, user_agent = ?, data = ?
		WHERE hash = ?`,
		sess.Series, millis(sess.LastSeenAt), millis(sess.ExpiresAt), sess.IP, sess.UserAgent, sess.Data, sess.Hash)
	if err != nil {
		return false, fmt.Errorf("sqlite: update session: %w", err)
	}
	n, err := rowsAffected(res, "update session")
	return n > 0, err
}

// TouchSession implements [latch.SessionStore].
func (s *Store) TouchSession(ctx context.Context, hash string, lastSeen, expires time.Time) error {
	defer s.changed()
	_, err := s.write.ExecContext(ctx,
		`UPDATE latch_sessions SET last_seen_at = ?, expires_at = ? WHERE hash = ?`,
		millis(lastSeen), millis(expires), hash)
	if err != nil {
		return fmt.Errorf("sqlite: touch session: %w", err)
	}
	return nil
}

// DeleteSession implements [latch.SessionStore].
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	defer s.changed()
	if _, err := s.write.ExecContext(ctx, `DELETE FROM latch_sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions implements [latch.SessionStore]. An empty userID
// deletes nothing: anonymous sessions belong to no user.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, except string) (int, error) {
	defer s.changed()
	res, err := s.write.ExecContext(ctx,
		`DELETE FROM latch_sessions WHERE user_id = ? AND user_id <> '' AND hash <> ?`, userID, except)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete user sessions: %w", err)
	}
	return rowsAffected(res, "delete user sessions")
}

// DeleteSeriesSessions implements [latch.SessionStore]. An empty series
// deletes nothing: sessions without a remember-me series are in none.
func (s *Store) DeleteSeriesSessions(ctx context.Context, series string) error {
	defer s.changed()
	_, err := s.write.ExecContext(ctx,
		`DELETE FROM latch_sessions WHERE series = ? AND series <> ''`, series)
	if err != nil {
		return fmt.Errorf("sqlite: delete series sessions: %w", err)
	}
	return nil
}

// UserSessions implements [latch.SessionStore]. An empty userID lists
// nothing.
func (s *Store) UserSessions(ctx context.Context, userID string, now time.Time) ([]latch.Session, error) {
	rows, err := s.read.QueryContext(ctx, `
		SELECT `+sessionColumns+` FROM latch_sessions
		WHERE user_id = ? AND user_id <> '' AND expires_at > ?
		ORDER BY created_at DESC, hash`, userID, millis(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: user sessions: %w", err)
	}
	list, err := collect(rows, scanSession)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user sessions: %w", err)
	}
	return list, nil
}

// DeleteExpiredSessions implements [latch.SessionStore].
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	defer s.changed()
	res, err := s.write.ExecContext(ctx, `DELETE FROM latch_sessions WHERE expires_at <= ?`, millis(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	return rowsAffected(res, "delete expired sessions")
}

func rowsAffected(res sql.Result, op string) (int, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return int(n), nil
}
