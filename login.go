package latch

import (
	"fmt"
	"net/http"
	"time"
)

// LoginOption adjusts LoginUser, mirroring the keyword arguments of
// Flask-Login's login_user.
type LoginOption func(*loginOptions)

type loginOptions struct {
	remember bool
	duration time.Duration
	force    bool
	fresh    bool
}

// Remember issues a remember-me cookie with the session when on is true
// (the "remember me" checkbox).
func Remember(on bool) LoginOption { return func(o *loginOptions) { o.remember = on } }

// Duration sets how long this login's remember-me cookie lasts, instead of
// the manager's RememberDuration. With Remember(true), a duration that is
// not positive makes LoginUser fail rather than silently not remember.
func Duration(d time.Duration) LoginOption { return func(o *loginOptions) { o.duration = d } }

// Force logs the user in even if IsActive reports false.
func Force() LoginOption { return func(o *loginOptions) { o.force = true } }

// Fresh sets whether the login counts as fresh. LoginUser's logins are
// fresh unless Fresh(false) is given, as with login_user(fresh=False) for a
// login that did not check the password.
func Fresh(fresh bool) LoginOption { return func(o *loginOptions) { o.fresh = fresh } }

// LoginUser logs u in for the rest of this request and the session that
// follows (Flask-Login's login_user). The caller has already checked the
// credentials.
//
// It always starts a new session with a new id, deleting the request's
// previous session server-side (session fixation), and revokes the
// remember-me token the browser carried, whoever it belonged to. With
// Remember(true) it starts a new remember-me series. Flash messages of the
// previous session are carried over; other session values are not.
//
// It returns ErrInactive for an inactive user unless Force() is given.
func (m *Manager[U]) LoginUser(w http.ResponseWriter, r *http.Request, u U, opts ...LoginOption) error {
	st := m.state(r)
	if st == nil {
		return ErrNoMiddleware
	}
	o := loginOptions{fresh: true, duration: m.Remember.Duration}
	for _, opt := range opts {
		opt(&o)
	}
	if !o.force && !isActive(u) {
		return ErrInactive
	}
	if o.remember && o.duration <= 0 {
		return fmt.Errorf("latch: login: remember-me duration %v is not positive", o.duration)
	}
	id := u.GetID()
	if id == "" {
		return fmt.Errorf("latch: login: user has an empty id")
	}
	st.mu.Lock()
	err := m.login(w, r, st, u, id, o)
	st.mu.Unlock()
	if err != nil {
		return err
	}
	m.emit(r, EventLoggedIn, id, u, "")
	return nil
}

func (m *Manager[U]) login(w http.ResponseWriter, r *http.Request, st *state[U], u U, id string, o loginOptions) error {
	ctx := r.Context()
	var data sessionData
	if st.sess != nil {
		data.Flashes = st.sess.data.Flashes
		if err := m.store.DeleteSession(ctx, st.sess.rec.Hash); err != nil {
			return fmt.Errorf("delete previous session: %w", err)
		}
		if st.sess.rec.Series != "" {
			if err := m.revokeSeries(ctx, st.sess.rec.Series); err != nil {
				return err
			}
		}
		st.sess = nil
	}
	if err := m.revokeRequestRemember(ctx, w, r); err != nil {
		return err
	}
	epoch := epochOf(u)
	series := ""
	if o.remember {
		var err error
		if series, err = m.startRemember(ctx, w, r, id, epoch, o.duration); err != nil {
			return err
		}
	}
	now := m.now()
	data.AuthAt = now
	data.Fresh = o.fresh
	if o.fresh {
		data.FreshAt = now
	}
	data.Ident = m.identifier(r)
	s, err := m.newSession(ctx, r, id, series, epoch, data)
	if err != nil {
		return err
	}
	if err := m.limitSessions(ctx, id, s.rec.Hash, series); err != nil {
		return err
	}
	if series != "" {
		if err := m.limitRemember(ctx, id, series); err != nil {
			return err
		}
	}
	m.setSessionCookie(w, s.token)
	st.sess, st.user, st.hasUser, st.fresh, st.source = s, u, true, o.fresh, SourceSession
	if m.Session.NoStore {
		setNoStore(w.Header())
	}
	return nil
}

// LogoutUser logs the current user out (Flask-Login's logout_user): the
// session is deleted server-side, this device's remember-me series is
// revoked, both cookies are expired and Clear-Site-Data is sent. A request
// without a user is not an error: its session and cookies are cleared all
// the same.
func (m *Manager[U]) LogoutUser(w http.ResponseWriter, r *http.Request) error {
	st := m.state(r)
	if st == nil {
		return ErrNoMiddleware
	}
	st.mu.Lock()
	user, had := st.user, st.hasUser
	err := m.logout(w, r, st)
	st.mu.Unlock()
	if err != nil {
		return err
	}
	if had {
		m.emit(r, EventLoggedOut, user.GetID(), user, "")
	}
	return nil
}

func (m *Manager[U]) logout(w http.ResponseWriter, r *http.Request, st *state[U]) error {
	ctx := r.Context()
	if st.sess != nil {
		if err := m.endSession(ctx, w, st, true); err != nil {
			return err
		}
	}
	if err := m.revokeRequestRemember(ctx, w, r); err != nil {
		return err
	}
	m.expireCookie(w, &m.Session.Cookie)
	m.expireCookie(w, &m.Remember.Cookie)
	if m.Session.ClearSiteData != "" {
		w.Header().Set("Clear-Site-Data", m.Session.ClearSiteData)
	}
	var zero U
	st.user, st.hasUser, st.fresh, st.source = zero, false, false, SourceNone
	return nil
}

// ConfirmLogin marks the current login as fresh again after the user has
// re-entered their password (Flask-Login's confirm_login). The session gets
// a new id, since its privileges changed.
func (m *Manager[U]) ConfirmLogin(w http.ResponseWriter, r *http.Request) error {
	st := m.state(r)
	if st == nil {
		return ErrNoMiddleware
	}
	st.mu.Lock()
	user, err := m.confirm(w, r, st)
	st.mu.Unlock()
	if err != nil {
		return err
	}
	m.emit(r, EventLoginConfirmed, user.GetID(), user, "")
	return nil
}

func (m *Manager[U]) confirm(w http.ResponseWriter, r *http.Request, st *state[U]) (U, error) {
	var zero U
	if !st.hasUser || st.sess == nil {
		return zero, ErrNotLoggedIn
	}
	ctx := r.Context()
	old := st.sess
	data := old.data
	now := m.now()
	data.Fresh, data.FreshAt, data.Ident, data.Remembered = true, now, m.identifier(r), false
	s, err := m.newSession(ctx, r, old.rec.UserID, old.rec.Series, old.rec.Epoch, data)
	if err != nil {
		return zero, err
	}
	if err := m.store.DeleteSession(ctx, old.rec.Hash); err != nil {
		return zero, fmt.Errorf("delete previous session: %w", err)
	}
	m.setSessionCookie(w, s.token)
	st.sess, st.fresh, st.source = s, true, SourceSession
	return st.user, nil
}
