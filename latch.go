package latch

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchgo/latch/internal/vcache"
)

// User is what latch needs of an application's user type: a stable,
// non-empty id that a UserLoader turns back into the user. It is the Go
// form of Flask-Login's UserMixin.get_id.
type User interface {
	GetID() string
}

// ActiveUser is implemented by user types that can be deactivated (Flask-
// Login's is_active). An inactive user cannot log in (unless forced), and a
// user who becomes inactive loses every session on the next request.
type ActiveUser interface {
	IsActive() bool
}

// RevocableUser is implemented by user types that keep a credential
// epoch: a counter stored with the user that the application increments,
// in one atomic write, whenever every credential of the user must stop
// working (a password change or reset, "log out everywhere", an account
// disabled by an administrator). Every session and remember-me series
// records the epoch it was issued under, and the manager refuses (and
// deletes) one whose epoch differs from the user's current epoch on its
// next request. So a revocation cannot be undone by a request in flight
// or by a row that a delete missed: deleting the rows is cleanup, the
// epoch is the boundary. One integer column in the application's users
// table gives it:
//
//	UPDATE users SET password_hash = $1, credential_epoch = credential_epoch + 1 WHERE id = $2
//
// Users that do not implement it have epoch 0 forever; their sessions end
// through RevokeUser's deletes alone.
type RevocableUser interface {
	CredentialEpoch() int64
}

// epochOf returns u's credential epoch, 0 for users without one.
func epochOf[U User](u U) int64 {
	if r, ok := any(u).(RevocableUser); ok {
		return r.CredentialEpoch()
	}
	return 0
}

// UserLoader loads the user with the given id, the Go form of
// @login_manager.user_loader. It returns an error wrapping ErrNoUser when
// the user no longer exists; latch then ends the session that named it.
// Any other error is a failure of the application's storage and is handed
// to the manager's ErrorHandler.
type UserLoader[U User] func(ctx context.Context, id string) (U, error)

// RequestLoader finds the user from the request itself, for clients that
// send credentials with every request (an "Authorization: Bearer" API
// token, HTTP Basic): the Go form of @login_manager.request_loader. It
// returns an error wrapping ErrNoUser when the request carries no valid
// credentials. A user found this way is current for that request only: no
// session is created, and the login is never fresh.
type RequestLoader[U User] func(r *http.Request) (U, error)

// Errors latch returns; compare with errors.Is.
var (
	// ErrNoUser is returned by loaders for "no such user" or "no
	// credentials".
	ErrNoUser = errors.New("latch: no user")
	// ErrInactive is returned by LoginUser for a user whose IsActive
	// reports false (unless the login is forced).
	ErrInactive = errors.New("latch: user is inactive")
	// ErrNoMiddleware is returned when a request did not pass through
	// Manager.Handler, so latch has no state for it.
	ErrNoMiddleware = errors.New("latch: request did not pass through Manager.Handler")
	// ErrNotLoggedIn is returned by operations that need a logged-in user.
	ErrNotLoggedIn = errors.New("latch: not logged in")
)

// Protection selects how sessions react to a request that comes from a
// different client than the one that logged in (Flask-Login's
// session_protection). The client is identified by ProtectionIdentifier,
// by default a hash of the client IP and User-Agent.
type Protection int

const (
	// ProtectionBasic marks the session as not fresh when the client
	// changes: the user stays logged in, but pages behind RequireFresh ask
	// for the password again. The default.
	ProtectionBasic Protection = iota
	// ProtectionStrong ends the session when the client changes. A valid
	// remember-me cookie still logs the user back in (with a new, not
	// fresh session), so remember-me keeps working for users whose IP
	// changes; anonymous sessions are never affected.
	ProtectionStrong
	// ProtectionNone turns session protection off.
	ProtectionNone
)

// Source tells where the current request's user came from.
type Source int

const (
	// SourceNone: the request is anonymous.
	SourceNone Source = iota
	// SourceSession: a session cookie.
	SourceSession
	// SourceRemember: a remember-me cookie, on this very request (a new
	// session was started for it).
	SourceRemember
	// SourceRequest: the RequestLoader (an API token, Basic auth).
	SourceRequest
)

func (s Source) String() string {
	switch s {
	case SourceSession:
		return "session"
	case SourceRemember:
		return "remember"
	case SourceRequest:
		return "request"
	default:
		return "none"
	}
}

// Cookie configures one of latch's cookies: the session cookie and the
// remember-me cookie (Flask-Login's REMEMBER_COOKIE_* settings).
type Cookie struct {
	// Name of the cookie. When Secure is set and Domain is empty and Path
	// is "/", latch sends it as "__Host-"+Name, which browsers only accept
	// from a secure origin and never share with other hosts; with a Domain
	// it becomes "__Secure-"+Name. A name that already has a prefix is
	// used as is.
	Name string
	// Domain, empty by default: the cookie goes only to the host that set
	// it. Setting it shares the cookie with subdomains, which any of them
	// can then read or overwrite.
	Domain string
	// Path, "/" by default.
	Path string
	// Secure restricts the cookie to HTTPS. Off by default so that
	// http://127.0.0.1 works in development; set it whenever the site is
	// served over HTTPS.
	Secure bool
	// HTTPOnly hides the cookie from JavaScript, so an XSS bug cannot read
	// the token. On by default.
	HTTPOnly bool
	// SameSite, Lax by default: the cookie is not sent on cross-site
	// sub-requests or cross-site POSTs (defence in depth behind the CSRF
	// check), but a link from another site still arrives logged in.
	SameSite http.SameSite
}

// wireName is the name the cookie is sent under.
func (c *Cookie) wireName() string {
	if !c.Secure || strings.HasPrefix(c.Name, "__Host-") || strings.HasPrefix(c.Name, "__Secure-") {
		return c.Name
	}
	if c.Domain == "" && c.Path == "/" {
		return "__Host-" + c.Name
	}
	return "__Secure-" + c.Name
}

// Manager is the login manager, the Go form of Flask-Login's LoginManager.
// Create it with New, adjust its exported fields, then wrap the
// application's handler with Handler. The fields must not be changed once
// the manager serves requests.
//
// The settings come in groups: Login (where and how requests without a
// user, or with a stale one, are sent to log in), Session (the session
// cookie, timeouts, protection), Remember ("remember me") and Cache (the
// read cache). Each field's comment gives its default.
type Manager[U User] struct {
	store    Store
	loadUser UserLoader[U]

	// RequestLoader, if set, is tried for requests that have no session or
	// remember-me user. Nil by default.
	RequestLoader RequestLoader[U]

	// Login configures where RequireLogin and RequireFresh send the
	// requests they refuse, and what they are told.
	Login LoginConfig
	// Session configures the session cookie and how long sessions last.
	Session SessionConfig
	// Remember configures "remember me".
	Remember RememberConfig
	// Cache configures the read cache of sessions and users.
	Cache CacheConfig

	// Unauthorized answers requests that RequireLogin refuses (Flask-
	// Login's unauthorized_handler). Nil selects the default: clients that
	// want JSON (see WantsJSON) get 401 {"error": "..."} with a
	// WWW-Authenticate challenge, browsers are redirected (303) to the
	// login view with a validated "next" and the login message shown.
	Unauthorized http.Handler
	// NeedsRefresh answers requests that RequireFresh refuses (Flask-
	// Login's needs_refresh_handler). Nil selects the default, which works
	// like Unauthorized's with the refresh view and message.
	NeedsRefresh http.Handler
	// ErrorHandler answers a request whose session could not be loaded or
	// saved because the store or the UserLoader failed. The default
	// answers 500 with a generic text; the error is never shown.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// ExemptMethods are let through RequireLogin and RequireFresh without
	// a user (Flask-Login's EXEMPT_METHODS), so CORS preflights work.
	// Default {"OPTIONS"}.
	ExemptMethods []string
	// ClientIP returns the client's address, for session protection, the
	// remember-me grace and the devices list. Default: the host part of
	// r.RemoteAddr. Behind a reverse proxy, set it to a function that
	// trusts X-Forwarded-For only from the proxy's address (TrustedProxies).
	ClientIP func(r *http.Request) string
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time

	subscribers atomic.Pointer[[]subscriber[U]]
	cacheOnce   sync.Once
	cache       *vcache.Cache[cachedSession[U]]
	cacheHits   atomic.Uint64
	cacheMisses atomic.Uint64
}

// LoginConfig is where and how the manager sends requests to log in
// (Flask-Login's login_view, login_message, refresh_view, needs_refresh_*
// and friends).
type LoginConfig struct {
	// View is the path of the login page that RequireLogin redirects HTML
	// clients to. Default "/login". With "", unauthorized requests get a
	// 401 instead.
	View string
	// Areas chooses another login view by path prefix (Flask-Login's
	// blueprint_login_views): {"/admin/": "/admin/login"} sends requests
	// under /admin/ to /admin/login and the rest to View. The longest
	// matching prefix wins. Nil by default.
	Areas map[string]string
	// Message is shown on the login page after RequireLogin redirected
	// there; "" shows nothing. Default "Please log in to access this
	// page."
	Message string
	// MessageCategory is the flash category of Message. Default
	// "message", as in Flask-Login.
	MessageCategory string
	// RefreshView is the re-authentication page that RequireFresh sends
	// stale logins to. Default "" (the login view is used).
	RefreshView string
	// RefreshMessage is shown when RequireFresh redirects. Default
	// "Please reauthenticate to access this page."
	RefreshMessage string
	// RefreshMessageCategory, default "message".
	RefreshMessageCategory string
	// Localize, if set, translates Message and RefreshMessage for the
	// request that shows them (Flask-Login's localize_callback): key is
	// "login" or "refresh", message the configured text. Nil shows the
	// text as configured.
	Localize func(r *http.Request, key, message string) string
	// NextField is the name of the query parameter (and form field) that
	// carries the page to return to (Flask-Login's next_field). Default
	// "next".
	NextField string
	// UseSessionForNext keeps the page to return to in the session instead
	// of the NextField parameter (Flask-Login's USE_SESSION_FOR_NEXT).
	// Read it back with NextFromSession. Default false.
	UseSessionForNext bool
	// MessageCookieName carries the login and re-authentication messages
	// to the login page for visitors without a session. It holds only
	// which message to show, never text, and lasts a few minutes, so an
	// anonymous request to a protected page costs no write to the store.
	// Default "latch_msg"; the cookie's other settings (Secure, Domain,
	// Path, SameSite) are the session cookie's. "" stores the message in a
	// new session instead.
	MessageCookieName string
	// Challenge is the WWW-Authenticate header of the default 401
	// answers (RFC 9110 requires one). Default `Bearer realm="latch"`.
	Challenge string
}

// SessionConfig is the session cookie and the life of sessions.
type SessionConfig struct {
	// Cookie is the session cookie. Default name "latch_session". The
	// session cookie never has Expires or Max-Age: it ends with the
	// browser; "remember me" is a separate cookie.
	Cookie Cookie
	// IdleTimeout ends a session that has not been used for this long
	// (ASVS 7.3.1). Default 30 minutes; 0 disables it.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it started, however
	// busy (ASVS 7.3.2). Default 12 hours; 0 disables it.
	AbsoluteTimeout time.Duration
	// FreshTimeout, if positive, makes a login stop counting as fresh this
	// long after the password was entered. Default 0: fresh for the life of
	// the session, as in Flask-Login.
	FreshTimeout time.Duration
	// MaxSessions bounds how many sessions one user may have at a time,
	// and, separately, how many remembered devices (ASVS 7.1.2). When a
	// login or a remember-me restore starts one more session, the user's
	// least recently used sessions end, each with its remember-me series
	// (the device is logged out, as with RevokeSession); when a login
	// starts one more remember-me series, the least recently used
	// remembered devices end. The new login always succeeds. So a user's
	// sessions cannot pile up without limit in the store, and the devices
	// page stays readable. Default DefaultMaxSessions; 0 or less means no
	// limit.
	MaxSessions int
	// Protection selects how a session reacts to a request from another
	// client than the one that logged in (Flask-Login's
	// session_protection). Default ProtectionBasic.
	Protection Protection
	// ProtectionIdentifier identifies the client for Protection. Default:
	// a hash of the client IP and the User-Agent header.
	ProtectionIdentifier func(r *http.Request) string
	// NoStore sets "Cache-Control: no-store" on every response to an
	// authenticated request, so authenticated pages are never kept by
	// caches or shown again with the Back button after logout. Default
	// true. Handlers may still set their own Cache-Control.
	NoStore bool
	// ClearSiteData is sent as the Clear-Site-Data header on logout so the
	// browser drops cached authenticated pages and storage. Default
	// `"cache", "cookies", "storage"`; "" sends nothing.
	ClearSiteData string
}

// RememberConfig is "remember me" (Flask-Login's REMEMBER_COOKIE_*).
type RememberConfig struct {
	// Cookie is the remember-me cookie. Default name "latch_remember".
	Cookie Cookie
	// Duration is how long "remember me" lasts (REMEMBER_COOKIE_DURATION).
	// Default 30 days, the longest NIST SP 800-63B allows between
	// re-authentications at AAL1.
	Duration time.Duration
	// Refresh restarts Duration each time the token is used
	// (REMEMBER_COOKIE_REFRESH_EACH_REQUEST). Default false: the user has
	// to enter the password again Duration after ticking "remember me",
	// however often they come back.
	Refresh bool
	// Grace is how long after a remember-me token was rotated the previous
	// token is still accepted (without being rotated again) from the
	// device that rotated it — the same User-Agent and the same client
	// network (IPv4 address, IPv6 /64) as the request that rotated it —
	// so a browser restoring several tabs at once, possibly on several
	// instances, is not mistaken for a thief. A rotated token presented
	// from any other device, or after the grace, revokes the whole series
	// with its sessions. Default 30 seconds; 0 treats every reuse as
	// theft.
	Grace time.Duration
}

// CacheConfig is the manager's read cache of sessions (and users): a
// request whose session is cached costs no store read and no decoding.
// The cache is used only over a store that implements ChangeTracker, and
// an entry only while the store's version has not moved since it was
// read — any write, by this process at once or by another instance within
// MaxStaleness, ends every entry — and never while the store cannot vouch
// for its version; so a revocation is never outrun by a cached copy.
type CacheConfig struct {
	// Entries bounds how many sessions the cache holds. Default
	// DefaultCacheEntries; 0 or less turns the cache off.
	Entries int
	// Bytes bounds the cache's memory, as the sessions' data and client
	// text add up. Default DefaultCacheBytes.
	Bytes int64
	// Users keeps the user with the cached session, so that a cached
	// request does not call the UserLoader either. Set it only when the
	// UserLoader reads what the store's ChangeTracker watches (the
	// account package over the sqlite or postgres store does; a users
	// table of the application's own, elsewhere, is not watched), and when
	// U has a method Clone() U that returns a copy a request may change.
	// Default false.
	Users bool
}

// DefaultMaxSessions is the default of SessionConfig.MaxSessions: far more
// devices than a person uses, few enough to bound what one account keeps.
const DefaultMaxSessions = 100

// New returns a Manager that keeps sessions and remember-me tokens in store
// and loads users with loadUser, with every setting at its documented
// default.
func New[U User](store Store, loadUser UserLoader[U]) *Manager[U] {
	if store == nil || loadUser == nil {
		panic("latch.New: store and loadUser are required")
	}
	return &Manager[U]{
		store:    store,
		loadUser: loadUser,
		Login: LoginConfig{
			View:                   "/login",
			Message:                "Please log in to access this page.",
			MessageCategory:        "message",
			RefreshMessage:         "Please reauthenticate to access this page.",
			RefreshMessageCategory: "message",
			NextField:              "next",
			MessageCookieName:      "latch_msg",
			Challenge:              `Bearer realm="latch"`,
		},
		Session: SessionConfig{
			Cookie:          Cookie{Name: "latch_session", Path: "/", HTTPOnly: true, SameSite: http.SameSiteLaxMode},
			IdleTimeout:     30 * time.Minute,
			AbsoluteTimeout: 12 * time.Hour,
			MaxSessions:     DefaultMaxSessions,
			Protection:      ProtectionBasic,
			NoStore:         true,
			ClearSiteData:   `"cache", "cookies", "storage"`,
		},
		Remember: RememberConfig{
			Cookie:   Cookie{Name: "latch_remember", Path: "/", HTTPOnly: true, SameSite: http.SameSiteLaxMode},
			Duration: 30 * 24 * time.Hour,
			Grace:    30 * time.Second,
		},
		Cache:         CacheConfig{Entries: DefaultCacheEntries, Bytes: DefaultCacheBytes},
		ExemptMethods: []string{http.MethodOptions},
		Now:           time.Now,
	}
}

// Store returns the store the manager was created with.
func (m *Manager[U]) Store() Store { return m.store }

func (m *Manager[U]) now() time.Time { return m.Now() }

func (m *Manager[U]) clientIP(r *http.Request) string {
	if m.ClientIP != nil {
		return m.ClientIP(r)
	}
	return RemoteIP(r)
}

// RemoteIP returns the host part of r.RemoteAddr: the address of the peer
// that opened the connection, which a client cannot forge.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (m *Manager[U]) identifier(r *http.Request) string {
	if m.Session.ProtectionIdentifier != nil {
		return m.Session.ProtectionIdentifier(r)
	}
	var buf [identifierLen]byte
	return string(m.defaultIdentifier(r, &buf))
}

// identifierLen is the length of the default identifier: the first
// characters of a base64url SHA-256.
const identifierLen = 22

// defaultIdentifier writes a hash of the client's address and User-Agent
// into buf.
func (m *Manager[U]) defaultIdentifier(r *http.Request, buf *[identifierLen]byte) []byte {
	// The input is put together on the stack when it fits, as it does for
	// real clients: this runs on every request of a logged-in user.
	var in [512]byte
	b := append(append(append(in[:0], m.clientIP(r)...), 0), r.UserAgent()...)
	sum := sha256.Sum256(b)
	// The first 22 characters of the hash's base64url, as stored by every
	// earlier version.
	var enc [43]byte
	base64.RawURLEncoding.Encode(enc[:], sum[:])
	copy(buf[:], enc[:identifierLen])
	return buf[:]
}

// sameIdentifier reports whether r comes from the client whose identifier
// is stored, without building a string on every request.
func (m *Manager[U]) sameIdentifier(r *http.Request, stored string) bool {
	if m.Session.ProtectionIdentifier != nil {
		return m.Session.ProtectionIdentifier(r) == stored
	}
	var buf [identifierLen]byte
	return string(m.defaultIdentifier(r, &buf)) == stored
}

func (m *Manager[U]) isExempt(method string) bool {
	for _, e := range m.ExemptMethods {
		if e == method {
			return true
		}
	}
	return false
}

func (m *Manager[U]) handleError(w http.ResponseWriter, r *http.Request, err error) {
	if m.ErrorHandler != nil {
		m.ErrorHandler(w, r, err)
		return
	}
	http.Error(w, "internal server error", http.StatusInternalServerError)
}

// isActive reports whether u may be logged in.
func isActive[U User](u U) bool {
	if a, ok := any(u).(ActiveUser); ok {
		return a.IsActive()
	}
	return true
}
