package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchgo/latch"
)

const sessionColumns = `hash, user_id, series, epoch, created_at, last_seen_at, expires_at, ip, user_agent, data`

const findSessionSQL = `SELECT ` + sessionColumns + ` FROM latch_sessions WHERE hash = $1 AND expires_at > $2`

func scanSession(row scanner) (latch.Session, error) {
	var s latch.Session
	err := row.Scan(&s.Hash, &s.UserID, &s.Series, &s.Epoch, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.IP, &s.UserAgent, &s.Data)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return s, err
}

// FindSession implements [latch.SessionStore].
func (s *Store) FindSession(ctx context.Context, hash string, now time.Time) (latch.Session, bool, error) {
	if !storable(hash) {
		return latch.Session{}, false, nil
	}
	sess, err := scanSession(s.pool.QueryRow(ctx, findSessionSQL, hash, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return latch.Session{}, false, nil
	}
	if err != nil {
		return latch.Session{}, false, fmt.Errorf("postgres: find session: %w", err)
	}
	return sess, true, nil
}

// CreateSession implements [latch.SessionStore].
func (s *Store) CreateSession(ctx context.Context, sess latch.Session) error {
	defer s.feed.Changed()
	_, err := s.pool.Exec(ctx, `
		INSERT INTO latch_sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		sess.Hash, sess.UserID, sess.Series, sess.Epoch, sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt,
		clientText(sess.IP), clientText(sess.UserAgent), sess.Data)
	if err != nil {
		return fmt.Errorf("postgres: create session: %w", err)
	}
	return nil
}

// UpdateSession implements [latch.SessionStore]: an UPDATE, which cannot
// bring back a session deleted meanwhile.
func (s *Store) UpdateSession(ctx context.Context, sess latch.Session) (bool, error) {
	defer s.feed.Changed()
	if !storable(sess.Hash) {
		return false, nil
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE latch_sessions SET series = $2, last_seen_at = $3, expires_at = $4, ip = $5, user_agent = $6, data = $7
		WHERE hash = $1`,
		sess.Hash, sess.Series, sess.LastSeenAt, sess.ExpiresAt,
		clientText(sess.IP), clientText(sess.UserAgent), sess.Data)
	if err != nil {
		return false, fmt.Errorf("postgres: update session: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// TouchSession implements [latch.SessionStore].
func (s *Store) TouchSession(ctx context.Context, hash string, lastSeen, expires time.Time) error {
	defer s.feed.Changed()
	_, err := s.pool.Exec(ctx,
		`UPDATE latch_sessions SET last_seen_at = $2, expires_at = $3 WHERE hash = $1`, hash, lastSeen, expires)
	if err != nil {
		return fmt.Errorf("postgres: touch session: %w", err)
	}
	return nil
}

// DeleteSession implements [latch.SessionStore].
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	defer s.feed.Changed()
	if _, err := s.pool.Exec(ctx, `DELETE FROM latch_sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("postgres: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions implements [latch.SessionStore]. An empty userID
// deletes nothing: anonymous sessions belong to no user.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, except string) (int, error) {
	defer s.feed.Changed()
	tag, err := s.pool.Exec(ctx,
		`DELETE FROM latch_sessions WHERE user_id = $1 AND user_id <> '' AND hash <> $2`, userID, except)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete user sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteSeriesSessions implements [latch.SessionStore]. An empty series
// deletes nothing: sessions without a remember-me series are in none.
func (s *Store) DeleteSeriesSessions(ctx context.Context, series string) error {
	defer s.feed.Changed()
	_, err := s.pool.Exec(ctx, `DELETE FROM latch_sessions WHERE series = $1 AND series <> ''`, series)
	if err != nil {
		return fmt.Errorf("postgres: delete series sessions: %w", err)
	}
	return nil
}

// UserSessions implements [latch.SessionStore]. An empty userID lists
// nothing.
func (s *Store) UserSessions(ctx context.Context, userID string, now time.Time) ([]latch.Session, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+sessionColumns+` FROM latch_sessions
		WHERE user_id = $1 AND user_id <> '' AND expires_at > $2
		ORDER BY created_at DESC, hash`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("postgres: user sessions: %w", err)
	}
	list, err := collect(rows, scanSession)
	if err != nil {
		return nil, fmt.Errorf("postgres: user sessions: %w", err)
	}
	return list, nil
}

// DeleteExpiredSessions implements [latch.SessionStore].
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	defer s.feed.Changed()
	tag, err := s.pool.Exec(ctx, `DELETE FROM latch_sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
