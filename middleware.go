package latch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
)

// state is latch's per-request state, stored in the request context by
// Handler. Handlers may pass the request to goroutines, so it is guarded.
type state[U User] struct {
	mu      sync.Mutex
	sess    *session // nil: no session
	user    U
	hasUser bool
	fresh   bool
	source  Source

	// The read cache's view of this request: the store's version before
	// the session was read, whether the cache may be used, and the entry
	// the session came from (nil: read from the store).
	cacheVer  uint64
	cacheOK   bool
	cacheHit  bool
	cachedHit cachedSession[U]

	// loaded holds the session read at the start of the request, so that
	// it is not one more allocation.
	loaded session
}

type stateKey[U User] struct{ m *Manager[U] }

func (m *Manager[U]) state(r *http.Request) *state[U] {
	st, _ := r.Context().Value(stateKey[U]{m}).(*state[U])
	return st
}

// Handler is the middleware that loads the current user for every request
// (Flask-Login's init_app): from the session cookie, else from a
// remember-me cookie (rotating it and starting a new session), else from
// the RequestLoader. Handlers behind it read the user with CurrentUser.
//
// Loading happens before the wrapped handler runs, so any cookie latch has
// to set (a rotated remember-me token, an expired cookie cleared) is in the
// response headers before the handler writes.
func (m *Manager[U]) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &state[U]{}
		r = r.WithContext(context.WithValue(r.Context(), stateKey[U]{m}, st))
		if err := m.load(w, r, st); err != nil {
			m.handleError(w, r, err)
			return
		}
		if st.hasUser && m.Session.NoStore {
			setNoStore(w.Header())
		}
		next.ServeHTTP(w, r)
	})
}

func (m *Manager[U]) load(w http.ResponseWriter, r *http.Request, st *state[U]) error {
	ctx := r.Context()
	if err := m.loadSession(ctx, w, r, st); err != nil {
		return err
	}
	if st.sess != nil && st.sess.rec.UserID != "" {
		if err := m.loadSessionUser(ctx, w, r, st); err != nil {
			return err
		}
	}
	if !st.hasUser {
		if err := m.loadRemember(ctx, w, r, st); err != nil {
			return err
		}
	}
	if !st.hasUser && m.RequestLoader != nil {
		u, err := m.RequestLoader(r)
		switch {
		case errors.Is(err, ErrNoUser):
		case err != nil:
			return fmt.Errorf("request loader: %w", err)
		case isActive(u):
			st.user, st.hasUser, st.source = u, true, SourceRequest
			m.emit(r, EventLoadedFromRequest, u.GetID(), u, "")
		}
	}
	return nil
}

// loadSession finds the session named by the session cookie. An unknown,
// expired or malformed cookie is cleared and the request continues without
// a session.
func (m *Manager[U]) loadSession(ctx context.Context, w http.ResponseWriter, r *http.Request, st *state[U]) error {
	name := m.Session.Cookie.wireName()
	tok, ok := sessionToken(r, name)
	if !ok {
		if _, err := r.Cookie(name); err != nil {
			return nil // no session cookie at all
		}
		m.expireCookie(w, &m.Session.Cookie)
		return nil
	}
	now := m.now()
	hash := HashToken(tok)
	// The version is taken before the read: a change that lands while the
	// session is read moves it, and the entry is never served.
	st.cacheVer, st.cacheOK = m.cacheVersion()
	var (
		rec  Session
		data sessionData
		derr error
	)
	if m.cacheHit(st, hash) {
		rec, data = st.cachedHit.rec, st.cachedHit.data
	} else {
		var (
			found bool
			err   error
		)
		rec, found, err = m.store.FindSession(ctx, hash, now)
		if err != nil {
			return fmt.Errorf("find session: %w", err)
		}
		if !found {
			m.expireCookie(w, &m.Session.Cookie)
			return nil
		}
		data, derr = decodeData(rec.Data)
	}
	// The stored deadline was computed with the settings of the instance
	// that wrote it; the current settings may be stricter.
	if derr != nil || !now.Before(rec.ExpiresAt) || !now.Before(m.expiry(rec.CreatedAt, rec.LastSeenAt)) {
		m.cacheForget(hash)
		if err := m.store.DeleteSession(ctx, hash); err != nil {
			return fmt.Errorf("delete expired session: %w", err)
		}
		m.expireCookie(w, &m.Session.Cookie)
		return nil
	}
	st.loaded = session{rec: rec, data: data}
	st.sess = &st.loaded
	if now.Sub(rec.LastSeenAt) >= m.touchInterval() {
		exp := m.expiry(rec.CreatedAt, now)
		if err := m.store.TouchSession(ctx, hash, now, exp); err != nil {
			return fmt.Errorf("touch session: %w", err)
		}
		st.sess.rec.LastSeenAt, st.sess.rec.ExpiresAt = now, exp
		// A write: the version has moved, and the entry read before it
		// must not be kept.
		st.cacheOK = false
	}
	return nil
}

// cacheHit looks the session up in the read cache, when the request may
// use it, into st.cachedHit.
func (m *Manager[U]) cacheHit(st *state[U], hash string) bool {
	if !st.cacheOK {
		if m.Cache.Entries > 0 {
			m.cacheMisses.Add(1)
		}
		return false
	}
	st.cachedHit, st.cacheHit = m.cacheGet(hash, st.cacheVer)
	return st.cacheHit
}

// loadSessionUser loads the session's user, refuses the session when the
// user is gone, inactive or has revoked it (a newer credential epoch), and
// applies session protection.
func (m *Manager[U]) loadSessionUser(ctx context.Context, w http.ResponseWriter, r *http.Request, st *state[U]) error {
	s := st.sess
	changed := m.Session.Protection != ProtectionNone && s.data.Ident != "" && !m.sameIdentifier(r, s.data.Ident)
	if changed && m.Session.Protection == ProtectionStrong {
		if err := m.endSession(ctx, w, st, false); err != nil {
			return err
		}
		m.emit(r, EventSessionProtected, s.rec.UserID, *new(U), "strong: session ended")
		return nil
	}
	var (
		u   U
		err error
	)
	if st.cacheHit && st.cachedHit.hasUser {
		u = st.cachedHit.user
	} else {
		u, err = m.loadUser(ctx, s.rec.UserID)
	}
	if err != nil && !errors.Is(err, ErrNoUser) {
		return fmt.Errorf("load user %q: %w", s.rec.UserID, err)
	}
	if err != nil || !isActive(u) {
		// The user was deleted or deactivated since logging in: the
		// session and this device's remember-me token end now.
		return m.endSession(ctx, w, st, true)
	}
	if epochOf(u) != s.rec.Epoch {
		if err := m.endSession(ctx, w, st, true); err != nil {
			return err
		}
		m.emit(r, EventRevoked, s.rec.UserID, u, "session of an earlier credential epoch refused")
		return nil
	}
	if changed {
		s.data.Fresh = false
		s.data.Ident = m.identifier(r)
		found, err := m.updateStored(ctx, s)
		if err != nil {
			return err
		}
		if !found {
			// Ended by another request (a logout, a revocation) since this
			// one loaded it.
			m.expireCookie(w, &m.Session.Cookie)
			st.sess = nil
			return nil
		}
		m.emit(r, EventSessionProtected, s.rec.UserID, u, "basic: marked not fresh")
		st.cacheOK = false
	}
	if st.cacheOK && !st.cacheHit {
		m.cachePut(st.cacheVer, s.rec, s.data, u)
	}
	st.user, st.hasUser, st.source = u, true, SourceSession
	st.fresh = s.data.Fresh && (m.Session.FreshTimeout <= 0 || m.now().Sub(s.data.FreshAt) < m.Session.FreshTimeout)
	return nil
}

// endSession deletes the request's session (and, with series, the
// remember-me series it belongs to) and clears the cookies.
func (m *Manager[U]) endSession(ctx context.Context, w http.ResponseWriter, st *state[U], series bool) error {
	s := st.sess
	m.cacheForget(s.rec.Hash)
	if err := m.store.DeleteSession(ctx, s.rec.Hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	m.expireCookie(w, &m.Session.Cookie)
	if series && s.rec.Series != "" {
		if err := m.revokeSeries(ctx, s.rec.Series); err != nil {
			return err
		}
		m.expireCookie(w, &m.Remember.Cookie)
	}
	st.sess = nil
	var zero U
	st.user, st.hasUser, st.fresh, st.source = zero, false, false, SourceNone
	return nil
}

func (m *Manager[U]) revokeSeries(ctx context.Context, series string) error {
	if m.Cache.Entries > 0 && series != "" {
		m.initCache()
		m.cache.DeleteFunc(func(e cachedSession[U]) bool { return e.rec.Series == series })
	}
	if err := m.store.DeleteRememberSeries(ctx, series); err != nil {
		return fmt.Errorf("delete remember series: %w", err)
	}
	if err := m.store.DeleteSeriesSessions(ctx, series); err != nil {
		return fmt.Errorf("delete series sessions: %w", err)
	}
	return nil
}

// RequireLogin lets only requests with a current user through (Flask-
// Login's @login_required); others get the Unauthorized handler. Methods in
// ExemptMethods pass without a user.
func (m *Manager[U]) RequireLogin(next http.Handler) http.Handler {
	return m.require(next, false)
}

// RequireFresh lets only requests whose login is fresh through (Flask-
// Login's @fresh_login_required): the password was entered in this session,
// not restored from a remember-me cookie, an API token, or a session whose
// client changed. Anonymous requests get the Unauthorized handler, stale
// ones the NeedsRefresh handler.
func (m *Manager[U]) RequireFresh(next http.Handler) http.Handler {
	return m.require(next, true)
}

func (m *Manager[U]) require(next http.Handler, fresh bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case m.isExempt(r.Method):
		case !m.IsAuthenticated(r):
			m.Unauthorize(w, r)
			return
		case fresh && !m.IsFresh(r):
			m.RequestRefresh(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// noStore is the Cache-Control of authenticated responses, one slice for
// all of them (Header.Set replaces a value, never writes into it).
var noStore = []string{"no-store"}

// setNoStore marks a response not to be stored, unless it already is.
func setNoStore(h http.Header) {
	if v := h["Cache-Control"]; len(v) == 1 && v[0] == "no-store" {
		return
	}
	h["Cache-Control"] = noStore
}

// sessionToken returns the session token of the request's cookie name, as
// ParseSessionToken(r.Cookie(name).Value) would, usually without parsing
// every cookie of the request into a slice: it runs on every request. The
// fast path takes the first cookie of that name, as net/http does; when
// that is not a well-formed token, net/http's own parser decides (it skips
// malformed cookies that this scan does not judge).
func sessionToken(r *http.Request, name string) (string, bool) {
	// net/http ignores every cookie of a request that has too many
	// (CVE-2025-58186); let it decide for those.
	parts := 0
	for _, line := range r.Header["Cookie"] {
		parts += strings.Count(line, ";") + 1
	}
	if parts > manyCookies {
		return slowSessionToken(r, name)
	}
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			// A part without "=" is a cookie with an empty value to
			// net/http: it counts as the first of its name.
			k, v, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(k) != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if tok, ok := ParseSessionToken(v); ok {
				return tok, true
			}
			return slowSessionToken(r, name)
		}
	}
	return "", false
}

// manyCookies is well below net/http's limit on cookies per request.
const manyCookies = 1000

func slowSessionToken(r *http.Request, name string) (string, bool) {
	c, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	return ParseSessionToken(c.Value)
}
