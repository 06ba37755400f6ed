package latch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/latchgo/latch/internal/clip"
)

// loadRemember logs the user in from a remember-me cookie: it checks the
// token, rotates it (a new validator in the same series), starts a new
// session that is not fresh, and sets both cookies.
//
// A cookie that is malformed, unknown, expired or has a wrong validator is
// cleared and ignored, so the request continues to the RequestLoader. A
// token that was already rotated is accepted only within Remember.Grace of
// its rotation and from the device that rotated it (concurrent tabs);
// otherwise it is evidence that the cookie was copied, and the whole
// series with its sessions is revoked. A token issued under an earlier
// credential epoch of its user is refused and its series revoked.
func (m *Manager[U]) loadRemember(ctx context.Context, w http.ResponseWriter, r *http.Request, st *state[U]) error {
	c, err := r.Cookie(m.Remember.Cookie.wireName())
	if err != nil {
		return nil
	}
	selector, validator, ok := ParseRememberToken(c.Value)
	if !ok {
		m.expireCookie(w, &m.Remember.Cookie)
		return nil
	}
	now := m.now()
	t, found, err := m.store.FindRemember(ctx, selector, now)
	if err != nil {
		return fmt.Errorf("find remember token: %w", err)
	}
	if !found || !equalHash(HashToken(validator), t.ValidatorHash) {
		m.expireCookie(w, &m.Remember.Cookie)
		return nil
	}
	reissue := t.RotatedAt.IsZero()
	if !reissue {
		same, err := m.rotatedHere(ctx, r, t, now)
		if err != nil {
			return err
		}
		if !same {
			return m.remembertheft(ctx, w, r, t)
		}
	}

	u, err := m.loadUser(ctx, t.UserID)
	if err != nil && !errors.Is(err, ErrNoUser) {
		return fmt.Errorf("load user %q: %w", t.UserID, err)
	}
	if err != nil || !isActive(u) || epochOf(u) != t.Epoch {
		if err := m.revokeSeries(ctx, t.Series); err != nil {
			return err
		}
		m.expireCookie(w, &m.Remember.Cookie)
		if err == nil && isActive(u) {
			m.emit(r, EventRevoked, t.UserID, u, "remember-me token of an earlier credential epoch refused")
		}
		return nil
	}

	if reissue {
		expires := t.ExpiresAt
		if m.Remember.Refresh {
			expires = now.Add(m.Remember.Duration)
		}
		sel, val, value := newRememberValue()
		next := RememberToken{
			Selector:      sel,
			ValidatorHash: HashToken(val),
			UserID:        t.UserID,
			Series:        t.Series,
			Epoch:         t.Epoch,
			CreatedAt:     now,
			LastUsedAt:    now,
			ExpiresAt:     expires,
			IP:            m.clientIP(r),
			UserAgent:     clip.Text(r.UserAgent(), 256),
		}
		rotated, err := m.store.RotateRemember(ctx, selector, now, next)
		if err != nil {
			return fmt.Errorf("rotate remember token: %w", err)
		}
		if rotated {
			m.setRememberCookie(w, value, expires)
		} else {
			// A concurrent request rotated (or revoked) it between our
			// find and our rotate. If it was rotated, that request's
			// response carries the new cookie; this one logs in without
			// touching the cookie. If it was revoked, nobody logs in.
			t2, found, err := m.store.FindRemember(ctx, selector, now)
			if err != nil {
				return fmt.Errorf("find remember token: %w", err)
			}
			if !found || t2.RotatedAt.IsZero() {
				m.expireCookie(w, &m.Remember.Cookie)
				return nil
			}
		}
	}

	data := sessionData{AuthAt: now, Ident: m.identifier(r), Remembered: true}
	if st.sess != nil {
		// The anonymous session (flash messages) is replaced: a change of
		// privilege always gets a new session id.
		data.Flashes = st.sess.data.Flashes
		if err := m.store.DeleteSession(ctx, st.sess.rec.Hash); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
	}
	s, err := m.newSession(ctx, r, t.UserID, t.Series, t.Epoch, data)
	if err != nil {
		return err
	}
	if err := m.limitSessions(ctx, t.UserID, s.rec.Hash, t.Series); err != nil {
		return err
	}
	m.setSessionCookie(w, s.token)
	st.sess, st.user, st.hasUser, st.fresh, st.source = s, u, true, false, SourceRemember
	m.emit(r, EventLoadedFromRemember, t.UserID, u, "")
	return nil
}

// rotatedHere reports whether a rotated token t may still be accepted: it
// was rotated within Remember.Grace, and the request comes from the device
// that rotated it (the series' current token records that request's
// User-Agent and address). A browser restoring tabs sends its old cookie
// a few times in a burst; a thief replaying a copy from elsewhere does
// not look like that device.
func (m *Manager[U]) rotatedHere(ctx context.Context, r *http.Request, t RememberToken, now time.Time) (bool, error) {
	if m.Remember.Grace <= 0 || now.Sub(t.RotatedAt) > m.Remember.Grace {
		return false, nil
	}
	current, err := m.store.UserRemember(ctx, t.UserID, now)
	if err != nil {
		return false, fmt.Errorf("list remember tokens: %w", err)
	}
	for _, c := range current {
		if c.Series == t.Series {
			return c.UserAgent == clip.Text(r.UserAgent(), 256) && sameNetwork(c.IP, m.clientIP(r)), nil
		}
	}
	return false, nil
}

// remembertheft handles a rotated token presented after the grace window
// or from another device: somebody holds a copy of an old cookie. Every token and session of the
// series ends, for the thief and for the owner alike.
func (m *Manager[U]) remembertheft(ctx context.Context, w http.ResponseWriter, r *http.Request, t RememberToken) error {
	if err := m.revokeSeries(ctx, t.Series); err != nil {
		return err
	}
	m.expireCookie(w, &m.Remember.Cookie)
	m.emit(r, EventRememberTheft, t.UserID, *new(U), "rotated remember-me token reused elsewhere or late; series revoked")
	return nil
}

// startRemember begins a new remember-me series for userID and sets the
// cookie.
func (m *Manager[U]) startRemember(ctx context.Context, w http.ResponseWriter, r *http.Request, userID string, epoch int64, d time.Duration) (string, error) {
	now := m.now()
	sel, val, value := newRememberValue()
	t := RememberToken{
		Selector:      sel,
		ValidatorHash: HashToken(val),
		UserID:        userID,
		Series:        NewToken(selectorBytes),
		Epoch:         epoch,
		CreatedAt:     now,
		LastUsedAt:    now,
		ExpiresAt:     now.Add(d),
		IP:            m.clientIP(r),
		UserAgent:     clip.Text(r.UserAgent(), 256),
	}
	if err := m.store.CreateRemember(ctx, t); err != nil {
		return "", fmt.Errorf("create remember token: %w", err)
	}
	m.setRememberCookie(w, value, t.ExpiresAt)
	return t.Series, nil
}

// revokeRequestRemember revokes the series of the remember-me cookie the
// request carries, whoever it belongs to: a login or logout on this device
// replaces it.
func (m *Manager[U]) revokeRequestRemember(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(m.Remember.Cookie.wireName())
	if err != nil {
		return nil
	}
	m.expireCookie(w, &m.Remember.Cookie)
	selector, validator, ok := ParseRememberToken(c.Value)
	if !ok {
		return nil
	}
	t, found, err := m.store.FindRemember(ctx, selector, m.now())
	if err != nil {
		return fmt.Errorf("find remember token: %w", err)
	}
	if !found || !equalHash(HashToken(validator), t.ValidatorHash) {
		return nil
	}
	return m.revokeSeries(ctx, t.Series)
}

// sameNetwork reports whether two client addresses are the same client
// network: the same IPv4 address, or the same IPv6 /64 (one subscriber's
// prefix, inside which privacy addresses change by themselves).
// Unparseable addresses match only themselves.
func sameNetwork(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	if err1 != nil || err2 != nil {
		return false
	}
	x, y = x.Unmap().WithZone(""), y.Unmap().WithZone("")
	if !x.Is6() || !y.Is6() {
		return x == y
	}
	px, _ := x.Prefix(64)
	py, _ := y.Prefix(64)
	return px == py
}
