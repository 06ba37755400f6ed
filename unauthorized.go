package latch

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Unauthorize answers a request that needs a logged-in user and has none
// (Flask-Login's login_manager.unauthorized()): it emits
// EventUnauthorized and runs the Unauthorized handler, or the default
// described there.
func (m *Manager[U]) Unauthorize(w http.ResponseWriter, r *http.Request) {
	m.emit(r, EventUnauthorized, "", *new(U), r.Method+" "+r.URL.Path)
	if m.Unauthorized != nil {
		m.Unauthorized.ServeHTTP(w, r)
		return
	}
	m.sendToLogin(w, r, m.loginView(r.URL.Path), msgLogin, m.Login.MessageCategory, m.Login.Message,
		"authentication required")
}

// RequestRefresh answers a request that needs a fresh login and has a stale
// one (Flask-Login's login_manager.needs_refresh()): it emits
// EventNeedsRefresh and runs the NeedsRefresh handler, or the default:
// JSON clients get 401, browsers are redirected to Login.RefreshView (the
// login view if unset) with "next" and Login.RefreshMessage shown.
func (m *Manager[U]) RequestRefresh(w http.ResponseWriter, r *http.Request) {
	u, ok := m.CurrentUser(r)
	var id string
	if ok {
		id = u.GetID()
	}
	m.emit(r, EventNeedsRefresh, id, u, r.Method+" "+r.URL.Path)
	if m.NeedsRefresh != nil {
		m.NeedsRefresh.ServeHTTP(w, r)
		return
	}
	view := m.Login.RefreshView
	if view == "" {
		view = m.loginView(r.URL.Path)
	}
	m.sendToLogin(w, r, view, msgRefresh, m.Login.RefreshMessageCategory, m.Login.RefreshMessage,
		"fresh login required")
}

// sendToLogin is the default for both handlers. The message goes into the
// request's session if it has one; a visitor without a session gets a
// MessageCookie instead, so anonymous requests never create sessions.
func (m *Manager[U]) sendToLogin(w http.ResponseWriter, r *http.Request, view, key, category, message, apiError string) {
	if view == "" || WantsJSON(r) {
		if m.Login.Challenge != "" {
			w.Header().Set("WWW-Authenticate", m.Login.Challenge)
		}
		WriteJSONError(w, http.StatusUnauthorized, apiError)
		return
	}
	if message != "" {
		if m.SessionHash(r) != "" || m.Login.MessageCookieName == "" {
			if err := m.AddFlash(w, r, category, m.localize(r, key, message)); err != nil {
				m.handleError(w, r, err)
				return
			}
		} else {
			m.setMessage(w, key)
		}
	}
	// Only a page the browser can simply load again is worth returning to.
	next := ""
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		next = r.URL.RequestURI()
	}
	target := view
	if m.Login.UseSessionForNext {
		if n, ok := SafeNext(next); ok {
			if err := m.Put(w, r, nextKey, n); err != nil {
				m.handleError(w, r, err)
				return
			}
		}
	} else {
		target = LoginURL(view, next, m.Login.NextField)
	}
	Redirect(w, r, target)
}

// localize passes a configured message through Login.Localize.
func (m *Manager[U]) localize(r *http.Request, key, message string) string {
	if m.Login.Localize == nil || message == "" {
		return message
	}
	return m.Login.Localize(r, key, message)
}

// Redirect answers 303 See Other with target as the Location, exactly as
// given. Unlike http.Redirect it does not clean or rewrite the path, so
// the value that SafeNext validated is the value the browser receives.
func Redirect(w http.ResponseWriter, r *http.Request, target string) {
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
}

// WantsJSON reports whether the client is a program rather than a browser
// navigating: it sent an Authorization header or X-Requested-With, or its
// Accept header asks for JSON and not HTML, or it is a fetch() call
// (Sec-Fetch-Mode cors/same-origin with Sec-Fetch-Dest empty). Such
// clients get 401 JSON instead of a redirect to an HTML login page.
func WantsJSON(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" || r.Header.Get("X-Requested-With") != "" {
		return true
	}
	accept := r.Header.Get("Accept")
	if strings.Contains(accept, "text/html") {
		return false
	}
	if strings.Contains(accept, "application/json") || strings.Contains(accept, "+json") {
		return true
	}
	mode := r.Header.Get("Sec-Fetch-Mode")
	return (mode == "cors" || mode == "same-origin") && r.Header.Get("Sec-Fetch-Dest") == "empty"
}

// WriteJSONError writes {"error": message} with the given status, as
// latch's default handlers do for API clients.
func WriteJSONError(w http.ResponseWriter, status int, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{message})
}
