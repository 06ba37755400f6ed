// Package memstore keeps latch sessions and remember-me tokens in memory.
//
// It is meant for tests, examples and single-process tools: everything is
// lost when the process ends, and several processes cannot share it. Real
// deployments use the sqlite, postgres or redis packages.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchgo/latch"
)

// Store is an in-memory latch.Store. The zero value is not usable; call
// New.
type Store struct {
	mu       sync.Mutex
	sessions map[string]latch.Session
	remember map[string]latch.RememberToken
	version  atomic.Uint64
}

var (
	_ latch.Store         = (*Store)(nil)
	_ latch.ChangeTracker = (*Store)(nil)
)

// Changes implements latch.ChangeTracker: every write moves the version
// before it returns. Nothing else writes to an in-memory store, so it is
// always sure.
func (s *Store) Changes() (uint64, bool) { return s.version.Load(), true }

// changed is called by every write, with the lock held.
func (s *Store) changed() { s.version.Add(1) }

// New returns an empty Store.
func New() *Store {
	return &Store{
		sessions: map[string]latch.Session{},
		remember: map[string]latch.RememberToken{},
	}
}

// FindSession implements latch.SessionStore.
func (s *Store) FindSession(_ context.Context, hash string, now time.Time) (latch.Session, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[hash]
	if !ok || !sess.ExpiresAt.After(now) {
		return latch.Session{}, false, nil
	}
	sess.Data = slices.Clone(sess.Data)
	return sess, true, nil
}

// CreateSession implements latch.SessionStore.
func (s *Store) CreateSession(_ context.Context, sess latch.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed()
	if _, ok := s.sessions[sess.Hash]; ok {
		return fmt.Errorf("memstore: create session: hash already in use")
	}
	sess.Data = slices.Clone(sess.Data)
	s.sessions[sess.Hash] = sess
	return nil
}

// UpdateSession implements latch.SessionStore.
func (s *Store) UpdateSession(_ context.Context, sess latch.Session) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed()
	old, ok := s.sessions[sess.Hash]
	if !ok {
		return false, nil
	}
	old.Series, old.LastSeenAt, old.ExpiresAt = sess.Series, sess.LastSeenAt, sess.ExpiresAt
	old.IP, old.UserAgent, old.Data = sess.IP, sess.UserAgent, slices.Clone(sess.Data)
	s.sessions[sess.Hash] = old
	return true, nil
}

// TouchSession implements latch.SessionStore.
func (s *Store) TouchSession(_ context.Context, hash string, lastSeen, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed()
	if sess, ok := s.sessions[hash]; ok {
		sess.LastSeenAt, sess.ExpiresAt = lastSeen, expires
		s.sessions[hash] = sess
	}
	return nil
}

// DeleteSession implements latch.SessionStore.
func (s *Store) DeleteSession(_ context.Context, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed()
	delete(s.sessions, hash)
	return nil
}

// DeleteUserSessions implements latch.SessionStore.
func (s *Store) DeleteUserSessions(_ context.Context, userID, except string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	return s.deleteSessions(func(sess latch.Session) bool {
		return sess.UserID == userID && sess.Hash != except
	}), nil
}

// DeleteSeriesSessions implements latch.SessionStore.
func (s *Store) DeleteSeriesSessions(_ context.Context, series string) error {
	if series != "" {
		s.deleteSessions(func(sess latch.Session) bool { return sess.Series == series })
	}
	return nil
}

// DeleteExpiredSessions implements latch.SessionStore.
func (s *Store) DeleteExpiredSessions(_ context.Context, now time.Time) (int, error) {
	return s.deleteSessions(func(sess latch.Session) bool { return !sess.ExpiresAt.After(now) }), nil
}

func (s *Store) deleteSessions(match func(latch.Session) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed()
	n := 0
	for h, sess := range s.sessions {
		if match(sess) {
			delete(s.sessions, h)
			n++
		}
	}
	return n
}

// UserSessions implements latch.SessionStore.
func (s *Store) UserSessions(_ context.Context, userID string, now time.Time) ([]latch.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []latch.Session
	for _, sess := range s.sessions {
		if userID != "" && sess.UserID == userID && sess.ExpiresAt.After(now) {
			sess.Data = slices.Clone(sess.Data)
			out = append(out, sess)
		}
	}
	slices.SortFunc(out, func(a, b latch.Session) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// CreateRemember implements latch.RememberStore.
func (s *Store) CreateRemember(_ context.Context, t latch.RememberToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed()
	s.remember[t.Selector] = t
	return nil
}

// FindRemember implements latch.RememberStore.
func (s *Store) FindRemember(_ context.Context, selector string, now time.Time) (latch.RememberToken, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.remember[selector]
	if !ok || !t.ExpiresAt.After(now) {
		return latch.RememberToken{}, false, nil
	}
	return t, true, nil
}

// RotateRemember implements latch.RememberStore.
func (s *Store) RotateRemember(_ context.Context, oldSelector string, at time.Time, next latch.RememberToken) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed()
	old, ok := s.remember[oldSelector]
	if !ok || !old.RotatedAt.IsZero() {
		return false, nil
	}
	old.RotatedAt = at
	s.remember[oldSelector] = old
	s.remember[next.Selector] = next
	var rotated []latch.RememberToken
	for _, t := range s.remember {
		if t.Series == old.Series && !t.RotatedAt.IsZero() {
			rotated = append(rotated, t)
		}
	}
	slices.SortFunc(rotated, func(a, b latch.RememberToken) int { return b.RotatedAt.Compare(a.RotatedAt) })
	for _, t := range rotated[min(latch.KeptRotated, len(rotated)):] {
		delete(s.remember, t.Selector)
	}
	return true, nil
}

// DeleteRememberSeries implements latch.RememberStore.
func (s *Store) DeleteRememberSeries(_ context.Context, series string) error {
	s.deleteRemember(func(t latch.RememberToken) bool { return t.Series == series })
	return nil
}

// DeleteUserRemember implements latch.RememberStore.
func (s *Store) DeleteUserRemember(_ context.Context, userID string) (int, error) {
	series := map[string]bool{}
	s.deleteRemember(func(t latch.RememberToken) bool {
		if t.UserID == userID {
			series[t.Series] = true
			return true
		}
		return false
	})
	return len(series), nil
}

// DeleteExpiredRemember implements latch.RememberStore.
func (s *Store) DeleteExpiredRemember(_ context.Context, now time.Time) (int, error) {
	return s.deleteRemember(func(t latch.RememberToken) bool { return !t.ExpiresAt.After(now) }), nil
}

func (s *Store) deleteRemember(match func(latch.RememberToken) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed()
	n := 0
	for sel, t := range s.remember {
		if match(t) {
			delete(s.remember, sel)
			n++
		}
	}
	return n
}

// UserRemember implements latch.RememberStore.
func (s *Store) UserRemember(_ context.Context, userID string, now time.Time) ([]latch.RememberToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []latch.RememberToken
	for _, t := range s.remember {
		if t.UserID == userID && t.RotatedAt.IsZero() && t.ExpiresAt.After(now) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b latch.RememberToken) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}
