package latch

import (
	"net/http"
	"slices"
	"time"
)

// EventKind names something that happened to a login: the Go form of
// Flask-Login's signals.
type EventKind int

const (
	// EventLoggedIn: LoginUser succeeded (user_logged_in).
	EventLoggedIn EventKind = iota + 1
	// EventLoggedOut: LogoutUser ended a user's session (user_logged_out).
	EventLoggedOut
	// EventLoadedFromRemember: a remember-me cookie logged the user in
	// (user_loaded_from_cookie).
	EventLoadedFromRemember
	// EventLoadedFromRequest: the RequestLoader found the user
	// (user_loaded_from_request).
	EventLoadedFromRequest
	// EventUnauthorized: RequireLogin refused an anonymous request
	// (user_unauthorized).
	EventUnauthorized
	// EventNeedsRefresh: RequireFresh refused a stale login
	// (user_needs_refresh).
	EventNeedsRefresh
	// EventSessionProtected: session protection saw the client change
	// (session_protected). Detail says what it did.
	EventSessionProtected
	// EventLoginConfirmed: ConfirmLogin made the login fresh again.
	EventLoginConfirmed
	// EventRememberTheft: a rotated remember-me token was presented after
	// the grace window; its series and sessions were revoked.
	EventRememberTheft
	// EventRevoked: a session or remember-me token issued under an
	// earlier credential epoch of its user (see RevocableUser) was
	// presented and refused; it is deleted.
	EventRevoked
)

var eventNames = map[EventKind]string{
	EventLoggedIn:           "logged_in",
	EventLoggedOut:          "logged_out",
	EventLoadedFromRemember: "loaded_from_remember",
	EventLoadedFromRequest:  "loaded_from_request",
	EventUnauthorized:       "unauthorized",
	EventNeedsRefresh:       "needs_refresh",
	EventSessionProtected:   "session_protected",
	EventLoginConfirmed:     "login_confirmed",
	EventRememberTheft:      "remember_theft",
	EventRevoked:            "revoked",
}

func (k EventKind) String() string {
	if s, ok := eventNames[k]; ok {
		return s
	}
	return "unknown"
}

// Event describes one EventKind occurrence. User is the zero U when latch
// did not load the user (theft, session protection, unauthorized).
type Event[U User] struct {
	Kind   EventKind
	UserID string
	User   U
	Time   time.Time
	Detail string
}

type subscriber[U User] struct {
	fn    func(*http.Request, Event[U])
	kinds []EventKind
}

// Subscribe registers fn to be called for events of the given kinds, or of
// every kind when none are given. Subscribers run synchronously, in the
// request's goroutine, in the order they subscribed, so they see the
// request (client address, request id) and must be quick; they must not
// write to the response. Subscribe is safe to call at any time.
func (m *Manager[U]) Subscribe(fn func(r *http.Request, e Event[U]), kinds ...EventKind) {
	for {
		old := m.subscribers.Load()
		var next []subscriber[U]
		if old != nil {
			next = slices.Clone(*old)
		}
		next = append(next, subscriber[U]{fn: fn, kinds: kinds})
		if m.subscribers.CompareAndSwap(old, &next) {
			return
		}
	}
}

func (m *Manager[U]) emit(r *http.Request, kind EventKind, userID string, u U, detail string) {
	subs := m.subscribers.Load()
	if subs == nil {
		return
	}
	e := Event[U]{Kind: kind, UserID: userID, User: u, Time: m.now(), Detail: detail}
	for _, s := range *subs {
		if len(s.kinds) == 0 || slices.Contains(s.kinds, kind) {
			s.fn(r, e)
		}
	}
}
