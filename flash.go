package latch

import (
	"fmt"
	"net/http"
)

// Flash is a one-shot message kept in the session until the next page
// shows it (Flask's flash(message, category)).
type Flash struct {
	Category string `json:"c,omitempty"`
	Message  string `json:"m"`
}

// maxFlashes bounds the flash messages a session holds, so a client that
// never renders a page cannot make its session grow without limit.
const maxFlashes = 10

// AddFlash stores a flash message in the session, starting an anonymous
// session if the request has none.
func (m *Manager[U]) AddFlash(w http.ResponseWriter, r *http.Request, category, message string) error {
	return m.updateSession(w, r, true, func(d *sessionData) bool {
		if len(d.Flashes) >= maxFlashes {
			d.Flashes = d.Flashes[1:]
		}
		d.Flashes = append(d.Flashes, Flash{Category: category, Message: message})
		return true
	})
}

// Flashes returns the session's flash messages and removes them (Flask's
// get_flashed_messages(with_categories=True)). It writes to the store only
// when there were messages.
func (m *Manager[U]) Flashes(w http.ResponseWriter, r *http.Request) ([]Flash, error) {
	var out []Flash
	err := m.updateSession(w, r, false, func(d *sessionData) bool {
		out, d.Flashes = d.Flashes, nil
		return len(out) > 0
	})
	return out, err
}

// Put stores a string value in the session under key, starting an
// anonymous session if needed. Values are dropped at login, so nothing an
// anonymous visitor planted survives into the logged-in session.
func (m *Manager[U]) Put(w http.ResponseWriter, r *http.Request, key, value string) error {
	return m.updateSession(w, r, true, func(d *sessionData) bool {
		if d.Values == nil {
			d.Values = map[string]string{}
		}
		d.Values[key] = value
		return true
	})
}

// Get returns the session value stored under key ("" if none).
func (m *Manager[U]) Get(r *http.Request, key string) string {
	st := m.state(r)
	if st == nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sess == nil {
		return ""
	}
	return st.sess.data.Values[key]
}

// Pop returns the session value stored under key and removes it.
func (m *Manager[U]) Pop(w http.ResponseWriter, r *http.Request, key string) (string, error) {
	var v string
	err := m.updateSession(w, r, false, func(d *sessionData) bool {
		var ok bool
		if v, ok = d.Values[key]; ok {
			delete(d.Values, key)
		}
		return ok
	})
	return v, err
}

// NextFromSession returns and forgets the page saved by the Unauthorized
// handler when UseSessionForNext is on, if it is still a safe target.
func (m *Manager[U]) NextFromSession(w http.ResponseWriter, r *http.Request) (string, error) {
	v, err := m.Pop(w, r, nextKey)
	if err != nil {
		return "", err
	}
	next, _ := SafeNext(v)
	return next, nil
}

const nextKey = "latch.next"

// updateSession applies change to the request's session data and saves it
// if change reports a modification. With create, a request without a
// session gets a new anonymous one.
func (m *Manager[U]) updateSession(w http.ResponseWriter, r *http.Request, create bool, change func(*sessionData) bool) error {
	st := m.state(r)
	if st == nil {
		return ErrNoMiddleware
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sess == nil {
		if !create {
			return nil
		}
		var d sessionData
		change(&d)
		s, err := m.newSession(r.Context(), r, "", "", d)
		if err != nil {
			return fmt.Errorf("start session: %w", err)
		}
		m.setSessionCookie(w, s.token)
		st.sess = s
		return nil
	}
	if !change(&st.sess.data) {
		return nil
	}
	return m.saveSession(r.Context(), st.sess)
}
