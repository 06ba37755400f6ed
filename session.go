package latch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/latchgo/latch/internal/clip"
)

// sessionData is what latch keeps inside Session.Data. Short JSON keys keep
// the blob small; unknown keys are ignored so older and newer instances can
// share a store during a rolling upgrade.
type sessionData struct {
	Fresh   bool      `json:"f,omitempty"`
	FreshAt time.Time `json:"fa,omitzero"`
	AuthAt  time.Time `json:"a,omitzero"`
	Ident   string    `json:"i,omitempty"`
	// Remembered: the session was started from a remember-me token, and
	// the password has not been entered in it since.
	Remembered bool              `json:"r,omitempty"`
	Flashes    []Flash           `json:"fl,omitempty"`
	Values     map[string]string `json:"v,omitempty"`
}

func decodeData(b []byte) (sessionData, error) {
	var d sessionData
	if len(b) == 0 {
		return d, nil
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return sessionData{}, fmt.Errorf("decode session data: %w", err)
	}
	return d, nil
}

func encodeData(d sessionData) []byte {
	// Marshal cannot fail for this type: strings, bools, times and a map of
	// strings.
	b, _ := json.Marshal(d)
	return b
}

// farFuture bounds sessions when both timeouts are disabled, because
// stores need a deadline to clean up after.
const farFuture = 400 * 24 * time.Hour

// expiry is the session's deadline: the earlier of the idle and the
// absolute timeout.
func (m *Manager[U]) expiry(created, lastSeen time.Time) time.Time {
	exp := lastSeen.Add(farFuture)
	if m.Session.AbsoluteTimeout > 0 {
		exp = created.Add(m.Session.AbsoluteTimeout)
	}
	if m.Session.IdleTimeout > 0 {
		if idle := lastSeen.Add(m.Session.IdleTimeout); idle.Before(exp) {
			exp = idle
		}
	}
	return exp
}

// touchInterval bounds how stale LastSeenAt may get. Writing it on every
// request would turn every page view into a database write; once a minute
// (or a tenth of the idle timeout, if shorter) keeps the idle timeout
// accurate to within that interval.
func (m *Manager[U]) touchInterval() time.Duration {
	d := time.Minute
	if m.Session.IdleTimeout > 0 && m.Session.IdleTimeout/10 < d {
		d = m.Session.IdleTimeout / 10
	}
	return d
}

// session is a loaded or newly created session of one request.
type session struct {
	token string // only for sessions created during this request
	rec   Session
	data  sessionData
}

// newSession starts a session with a fresh random id and writes it to the
// store; the caller sets the cookie.
func (m *Manager[U]) newSession(ctx context.Context, r *http.Request, userID, series string, epoch int64, data sessionData) (*session, error) {
	now := m.now()
	tok := NewToken(sessionTokenBytes)
	s := &session{
		token: tok,
		data:  data,
		rec: Session{
			Hash:       HashToken(tok),
			UserID:     userID,
			Series:     series,
			Epoch:      epoch,
			CreatedAt:  now,
			LastSeenAt: now,
			ExpiresAt:  m.expiry(now, now),
			IP:         m.clientIP(r),
			UserAgent:  clip.Text(r.UserAgent(), 256),
		},
	}
	s.rec.Data = encodeData(s.data)
	if err := m.store.CreateSession(ctx, s.rec); err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	return s, nil
}

// updateStored writes a loaded session's changes back, and reports false
// when the session was deleted meanwhile (by a logout or revocation that
// raced with this request): it is not brought back.
func (m *Manager[U]) updateStored(ctx context.Context, s *session) (bool, error) {
	s.rec.Data = encodeData(s.data)
	found, err := m.store.UpdateSession(ctx, s.rec)
	if err != nil {
		return false, fmt.Errorf("update session: %w", err)
	}
	return found, nil
}

// setCookie adds a Set-Cookie header, replacing one for the same cookie set
// earlier in this response so the browser sees a single decision.
func setCookie(w http.ResponseWriter, c *http.Cookie) {
	h := w.Header()
	prefix := c.Name + "="
	kept := h["Set-Cookie"][:0]
	for _, v := range h["Set-Cookie"] {
		if len(v) < len(prefix) || v[:len(prefix)] != prefix {
			kept = append(kept, v)
		}
	}
	if len(kept) == 0 {
		h.Del("Set-Cookie")
	} else {
		h["Set-Cookie"] = kept
	}
	http.SetCookie(w, c)
}

func (m *Manager[U]) cookie(c *Cookie, value string) *http.Cookie {
	return &http.Cookie{
		Name:     c.wireName(),
		Value:    value,
		Path:     c.Path,
		Domain:   c.Domain,
		Secure:   c.Secure,
		HttpOnly: c.HTTPOnly,
		SameSite: c.SameSite,
	}
}

func (m *Manager[U]) setSessionCookie(w http.ResponseWriter, token string) {
	setCookie(w, m.cookie(&m.Session.Cookie, token))
}

func (m *Manager[U]) setRememberCookie(w http.ResponseWriter, value string, expires time.Time) {
	c := m.cookie(&m.Remember.Cookie, value)
	c.Expires = expires.UTC()
	// Rounded, so the microseconds spent since expires was computed do
	// not shave a second off.
	c.MaxAge = int(expires.Sub(m.now()).Round(time.Second) / time.Second)
	if c.MaxAge < 1 {
		c.MaxAge = 1
	}
	setCookie(w, c)
}

func (m *Manager[U]) expireCookie(w http.ResponseWriter, cfg *Cookie) {
	c := m.cookie(cfg, "")
	c.MaxAge = -1
	c.Expires = time.Unix(0, 0)
	setCookie(w, c)
}
