package latch

import (
	"fmt"
	"net/http"
	"strings"
	"time"
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
// get_flashed_messages(with_categories=True)), with the login or re-
// authentication message a MessageCookie carries for a visitor without a
// session. It writes to the store only when there were messages.
func (m *Manager[U]) Flashes(w http.ResponseWriter, r *http.Request) ([]Flash, error) {
	out := m.takeMessage(w, r)
	err := m.updateSession(w, r, false, func(d *sessionData) bool {
		if len(d.Flashes) == 0 {
			return false
		}
		out = append(out, d.Flashes...)
		d.Flashes = nil
		return true
	})
	return out, err
}

// Keys of the messages a message cookie can carry, and of
// Login.Localize.
const (
	msgLogin   = "login"
	msgRefresh = "refresh"
)

// messageTTL bounds a message cookie's life: long enough to follow the
// redirect to the login page, short enough not to show up a day later.
const messageTTL = 5 * time.Minute

// setMessage makes the next page show one of the manager's messages,
// without storing anything server-side.
func (m *Manager[U]) setMessage(w http.ResponseWriter, key string) {
	c := m.cookie(&m.Session.Cookie, key)
	c.Name = m.messageCookieName()
	c.MaxAge = int(messageTTL / time.Second)
	setCookie(w, c)
}

func (m *Manager[U]) messageCookieName() string {
	c := m.Session.Cookie
	c.Name = m.Login.MessageCookieName
	return c.wireName()
}

// takeMessage returns the message a MessageCookie names, if any, and
// clears the cookie. The cookie holds only a key: a forged one can at
// most show one of the manager's own messages.
func (m *Manager[U]) takeMessage(w http.ResponseWriter, r *http.Request) []Flash {
	if m.Login.MessageCookieName == "" {
		return nil
	}
	// Almost every request has no message: do not parse the cookies for it.
	if !strings.Contains(r.Header.Get("Cookie"), m.Login.MessageCookieName) {
		return nil
	}
	c, err := r.Cookie(m.messageCookieName())
	if err != nil {
		return nil
	}
	exp := m.cookie(&m.Session.Cookie, "")
	exp.Name, exp.MaxAge = m.messageCookieName(), -1
	setCookie(w, exp)
	switch c.Value {
	case msgLogin:
		if m.Login.Message != "" {
			return []Flash{{Category: m.Login.MessageCategory, Message: m.localize(r, msgLogin, m.Login.Message)}}
		}
	case msgRefresh:
		if m.Login.RefreshMessage != "" {
			return []Flash{{Category: m.Login.RefreshMessageCategory, Message: m.localize(r, msgRefresh, m.Login.RefreshMessage)}}
		}
	}
	return nil
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
// handler when Login.UseSessionForNext is on, if it is still a safe target.
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
	if st.sess != nil {
		if !change(&st.sess.data) {
			return nil
		}
		found, err := m.updateStored(r.Context(), st.sess)
		if err != nil || found {
			return err
		}
		// The session ended (a logout or revocation elsewhere) after this
		// request loaded it; it stays ended. A value meant for the
		// visitor goes into a new anonymous session.
		st.sess = nil
		var zero U
		st.user, st.hasUser, st.fresh, st.source = zero, false, false, SourceNone
		m.expireCookie(w, &m.Session.Cookie)
	}
	if !create {
		return nil
	}
	var d sessionData
	change(&d)
	s, err := m.newSession(r.Context(), r, "", "", 0, d)
	if err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	m.setSessionCookie(w, s.token)
	st.sess = s
	return nil
}
