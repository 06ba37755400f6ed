package latch

import "net/http"

// CurrentUser returns the user of this request and true, or the zero U and
// false for an anonymous request (Flask-Login's current_user and its
// is_authenticated / is_anonymous). The request must have passed through
// Handler.
func (m *Manager[U]) CurrentUser(r *http.Request) (U, bool) {
	st := m.state(r)
	if st == nil {
		var zero U
		return zero, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.user, st.hasUser
}

// IsAuthenticated reports whether the request has a current user.
func (m *Manager[U]) IsAuthenticated(r *http.Request) bool {
	_, ok := m.CurrentUser(r)
	return ok
}

// IsFresh reports whether the current login is fresh (Flask-Login's
// login_fresh): the user entered their password in this session (LoginUser
// or ConfirmLogin), within Session.FreshTimeout if that is set, and session
// protection has not seen the client change since.
func (m *Manager[U]) IsFresh(r *http.Request) bool {
	st := m.state(r)
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.hasUser && st.fresh
}

// Source tells where the current user came from: SourceNone for anonymous
// requests.
func (m *Manager[U]) Source(r *http.Request) Source {
	st := m.state(r)
	if st == nil {
		return SourceNone
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.source
}

// SessionHash returns the Hash of the request's session ("" if none), the
// same value UserSessions reports, so a "your devices" page can mark the
// current one.
func (m *Manager[U]) SessionHash(r *http.Request) string {
	st := m.state(r)
	if st == nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sess == nil {
		return ""
	}
	return st.sess.rec.Hash
}

// Remembered reports whether the current login was restored from a
// remember-me cookie — on the restoring request and on every later request
// of the session it started — and the password has not been entered since
// (Flask-Login's login_remembered). ConfirmLogin and LoginUser end it.
func (m *Manager[U]) Remembered(r *http.Request) bool {
	st := m.state(r)
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.hasUser && st.sess != nil && st.sess.data.Remembered
}
