package latch

import (
	"context"
	"fmt"
	"net/http"
	"slices"
)

// UserSessions lists a user's active sessions, newest first, for a "your
// devices" page or an admin tool.
func (m *Manager[U]) UserSessions(ctx context.Context, userID string) ([]Session, error) {
	s, err := m.store.UserSessions(ctx, userID, m.now())
	if err != nil {
		return nil, fmt.Errorf("list sessions of %q: %w", userID, err)
	}
	return s, nil
}

// UserRememberTokens lists a user's current remember-me tokens (one per
// remembered device), newest first.
func (m *Manager[U]) UserRememberTokens(ctx context.Context, userID string) ([]RememberToken, error) {
	t, err := m.store.UserRemember(ctx, userID, m.now())
	if err != nil {
		return nil, fmt.Errorf("list remember tokens of %q: %w", userID, err)
	}
	return t, nil
}

// RevokeSession ends one of userID's sessions, identified by its Hash, and
// the remember-me series it belongs to, so the device stays logged out. It
// reports false if no such session of that user exists, which keeps one
// user from ending another's sessions.
func (m *Manager[U]) RevokeSession(ctx context.Context, userID, hash string) (bool, error) {
	s, found, err := m.store.FindSession(ctx, hash, m.now())
	if err != nil {
		return false, fmt.Errorf("find session: %w", err)
	}
	if !found || userID == "" || s.UserID != userID {
		return false, nil
	}
	m.cacheForget(hash)
	if err := m.store.DeleteSession(ctx, hash); err != nil {
		return false, fmt.Errorf("delete session: %w", err)
	}
	if s.Series != "" {
		if err := m.revokeSeries(ctx, s.Series); err != nil {
			return false, err
		}
	}
	return true, nil
}

// RevokeRemember ends one of userID's remember-me series, identified by
// the Series of a token from UserRememberTokens, with its sessions.
func (m *Manager[U]) RevokeRemember(ctx context.Context, userID, series string) (bool, error) {
	toks, err := m.store.UserRemember(ctx, userID, m.now())
	if err != nil {
		return false, fmt.Errorf("list remember tokens: %w", err)
	}
	for _, t := range toks {
		if t.Series == series {
			return true, m.revokeSeries(ctx, series)
		}
	}
	return false, nil
}

// RevokeUser deletes every session and remember-me token of a user: "log
// out everywhere", and what to call when a user is disabled, deleted, or
// their password is reset. For users that implement RevocableUser, raise
// the user's credential epoch first: that is what makes the revocation
// final (a request in flight cannot bring a session back); this is then
// the cleanup.
func (m *Manager[U]) RevokeUser(ctx context.Context, userID string) error {
	if userID == "" {
		return nil
	}
	m.cacheForgetUser(userID)
	if _, err := m.store.DeleteUserRemember(ctx, userID); err != nil {
		return fmt.Errorf("delete remember tokens of %q: %w", userID, err)
	}
	if _, err := m.store.DeleteUserSessions(ctx, userID, ""); err != nil {
		return fmt.Errorf("delete sessions of %q: %w", userID, err)
	}
	return nil
}

// RevokeOtherSessions logs the current user out everywhere but here: what
// a password change or "log out everywhere else" does. u is the current
// user as it is now — after the application raised its credential epoch,
// if it keeps one (RevocableUser). Every session and remember-me token of
// the user is deleted, this device's remember-me cookie is cleared, and
// the request's session is re-issued with a new id under u's epoch,
// keeping its state (freshness, flash messages, values). It returns
// ErrNotLoggedIn unless the request has a session of u's.
func (m *Manager[U]) RevokeOtherSessions(w http.ResponseWriter, r *http.Request, u U) error {
	st := m.state(r)
	if st == nil {
		return ErrNoMiddleware
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.hasUser || st.sess == nil || st.sess.rec.UserID != u.GetID() {
		return ErrNotLoggedIn
	}
	ctx := r.Context()
	userID := st.sess.rec.UserID
	if err := m.RevokeUser(ctx, userID); err != nil {
		return err
	}
	data := st.sess.data
	data.Ident = m.identifier(r)
	s, err := m.newSession(ctx, r, userID, "", epochOf(u), data)
	if err != nil {
		return err
	}
	m.setSessionCookie(w, s.token)
	m.expireCookie(w, &m.Remember.Cookie)
	st.sess, st.user = s, u
	return nil
}

// DeleteExpired removes expired sessions and remember-me tokens from the
// store. Run it periodically (the latch site does, every few minutes);
// stores that expire entries by themselves make it cheap.
func (m *Manager[U]) DeleteExpired(ctx context.Context) (sessions, tokens int, err error) {
	now := m.now()
	if sessions, err = m.store.DeleteExpiredSessions(ctx, now); err != nil {
		return 0, 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	if tokens, err = m.store.DeleteExpiredRemember(ctx, now); err != nil {
		return sessions, 0, fmt.Errorf("delete expired remember tokens: %w", err)
	}
	return sessions, tokens, nil
}

// limitSessions ends the least recently used sessions of userID beyond
// Session.MaxSessions, never the one whose hash is keep (the session just
// started). An ended session takes its remember-me series with it, as
// RevokeSession does, unless that is keepSeries (the series of the session
// just started): the device is logged out, not just its tab.
func (m *Manager[U]) limitSessions(ctx context.Context, userID, keep, keepSeries string) error {
	if m.Session.MaxSessions <= 0 || userID == "" {
		return nil
	}
	all, err := m.store.UserSessions(ctx, userID, m.now())
	if err != nil {
		return fmt.Errorf("list sessions of %q: %w", userID, err)
	}
	if len(all) <= m.Session.MaxSessions {
		return nil
	}
	others := make([]Session, 0, len(all))
	for _, s := range all {
		if s.Hash != keep {
			others = append(others, s)
		}
	}
	// Most recently used first; the store lists by start, newest first,
	// which breaks ties.
	slices.SortStableFunc(others, func(a, b Session) int { return b.LastSeenAt.Compare(a.LastSeenAt) })
	for _, s := range others[min(m.Session.MaxSessions-1, len(others)):] {
		if err := m.store.DeleteSession(ctx, s.Hash); err != nil {
			return fmt.Errorf("delete session over the limit: %w", err)
		}
		if s.Series != "" && s.Series != keepSeries {
			if err := m.revokeSeries(ctx, s.Series); err != nil {
				return err
			}
		}
	}
	return nil
}

// limitRemember ends the least recently used remember-me series of userID
// beyond Session.MaxSessions, with their sessions, never the series keep (the one
// just started). It counts the series left after limitSessions: those of
// remembered devices without a live session (a closed browser), by when
// their token was last used.
func (m *Manager[U]) limitRemember(ctx context.Context, userID, keep string) error {
	if m.Session.MaxSessions <= 0 || userID == "" {
		return nil
	}
	// One current token per series, most recently issued (used) first.
	toks, err := m.store.UserRemember(ctx, userID, m.now())
	if err != nil {
		return fmt.Errorf("list remember tokens of %q: %w", userID, err)
	}
	if len(toks) <= m.Session.MaxSessions {
		return nil
	}
	kept := 1
	for _, t := range toks {
		if t.Series == keep {
			continue
		}
		if kept < m.Session.MaxSessions {
			kept++
			continue
		}
		if err := m.revokeSeries(ctx, t.Series); err != nil {
			return err
		}
	}
	return nil
}
