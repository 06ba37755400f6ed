// Package site is the latch web site: the pages of the Flask-Login
// tutorial (sign up, log in with "remember me", profiles behind a login,
// log out) built on the latch library's public API.
package site

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

// Config is the site's configuration; the zero value of each optional
// field selects its default.
type Config struct {
	// BaseURL is the public URL of the site (required). With https, HSTS
	// is sent and the site expects its cookies to be Secure.
	BaseURL *url.URL
	// Logger receives one line per request and per auth event. Default:
	// slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; larger ones get 413. Default
	// 16 KiB: the largest form (sign-up) needs a few hundred bytes, and a
	// 1,024-character password fits many times over.
	MaxBodyBytes int64
	// ClientIP returns the client address for rate limits and logs; it must
	// be the same function the manager uses. Default latch.RemoteIP.
	ClientIP func(*http.Request) string
	// Health reports whether the storage answers, for /healthz.
	Health func(context.Context) error
	// Observe, if set, is told of every finished request: the route
	// pattern that served it ("unmatched" for 404s), method, status and
	// duration. The server feeds it to Prometheus.
	Observe func(route, method string, status int, d time.Duration)
	// RequestContext, if set, prepares each request's context before
	// anything else sees it (the SQLite backend's WithRequestMemo).
	RequestContext func(context.Context) context.Context
	// ReauthAfter is how long after the password (and second factor) was
	// last entered the pages that change what protects the account
	// (password, email, two-factor, API tokens, devices, deletion) may be
	// used before they ask for it again (ASVS 7.5.1: full
	// re-authentication before such changes). New sets it as the
	// manager's FreshTimeout unless the caller set one. Default
	// DefaultReauthAfter; negative keeps a login fresh for the life of
	// its session.
	ReauthAfter time.Duration
	// RequireTwoFactor makes a second factor mandatory (ASVS 6.3.3): a
	// logged-in user without one can only reach the page that sets it up
	// (and log out), and their API tokens are refused, until they have
	// one. Default false: two-factor authentication is each user's choice.
	RequireTwoFactor bool
}

// DefaultReauthAfter is the default of Config.ReauthAfter: long enough to
// finish changing account settings after logging in, short enough that a
// session left open on a shared computer cannot change them.
const DefaultReauthAfter = 10 * time.Minute

// Deps are the library pieces the site is built on. Accounts and Auth are
// required; a nil optional piece turns its pages off.
type Deps struct {
	Accounts *account.Service
	Auth     *latch.Manager[*account.User]
	// Tokens enables API tokens (/account/tokens, Bearer on /api/me).
	Tokens *account.APITokens
	// Recovery enables password reset and email confirmation and change.
	Recovery *account.Recovery
	// TwoFactor enables TOTP second factors.
	TwoFactor *account.TwoFactor
	// Auditor records account events and shows them on /account.
	Auditor *account.Auditor
	// Passkeys enables passkeys (/account/passkeys, passkey logins).
	Passkeys *account.Passkeys
}

// Site serves the pages. Create it with New.
type Site struct {
	cfg       Config
	auth      *latch.Manager[*account.User]
	accounts  *account.Service
	tokens    *account.APITokens
	recovery  *account.Recovery
	twoFactor *account.TwoFactor
	auditor   *account.Auditor
	// floodAudit thins the audit rows of refused logins (see floodAudit).
	floodAudit *floodAudit
	passkeys   *account.Passkeys
	profiles   *profiles
	tpl        templates
	logger     *slog.Logger
	handler    http.Handler
}

// New builds the site over the account pieces and a login manager whose
// users are *account.User. It parses every template and fails if one is
// broken. It installs the site's error handler and, with Tokens, the
// request loader for API tokens on the manager.
func New(cfg Config, deps Deps) (*Site, error) {
	if deps.Accounts == nil || deps.Auth == nil {
		return nil, errors.New("site: Accounts and Auth are required")
	}
	if cfg.BaseURL == nil || cfg.BaseURL.Host == "" {
		return nil, errors.New("site: base URL is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 16 << 10
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = latch.RemoteIP
	}
	if cfg.Health == nil {
		cfg.Health = func(context.Context) error { return nil }
	}
	if cfg.ReauthAfter == 0 {
		cfg.ReauthAfter = DefaultReauthAfter
	}
	if cfg.ReauthAfter > 0 && deps.Auth.Session.FreshTimeout == 0 {
		deps.Auth.Session.FreshTimeout = cfg.ReauthAfter
	}
	if cfg.RequireTwoFactor && deps.TwoFactor == nil {
		return nil, errors.New("site: RequireTwoFactor needs Deps.TwoFactor")
	}
	tpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Site{
		cfg: cfg, auth: deps.Auth, accounts: deps.Accounts, tokens: deps.Tokens,
		recovery: deps.Recovery, twoFactor: deps.TwoFactor, auditor: deps.Auditor, passkeys: deps.Passkeys,
		floodAudit: newFloodAudit(),
		tpl:        tpl, logger: cfg.Logger, profiles: newProfiles(deps.Accounts.Store()),
	}
	s.auth.ErrorHandler = s.serverError
	if s.tokens != nil {
		s.auth.RequestLoader = s.loadFromToken
	}
	s.subscribe()
	s.handler = s.routes()
	return s, nil
}

// Handler returns the site's root handler.
func (s *Site) Handler() http.Handler { return s.handler }

func (s *Site) routes() http.Handler {
	pages := http.NewServeMux()
	pages.HandleFunc("GET /{$}", s.index)
	pages.HandleFunc("GET /signup", s.signupForm)
	pages.HandleFunc("POST /signup", s.signup)
	pages.HandleFunc("GET /login", s.loginForm)
	pages.HandleFunc("POST /login", s.login)
	pages.HandleFunc("GET /logout", s.logoutForm)
	pages.HandleFunc("POST /logout", s.logout)
	pages.Handle("GET /reauth", s.auth.RequireLogin(http.HandlerFunc(s.reauthForm)))
	pages.Handle("POST /reauth", s.auth.RequireLogin(http.HandlerFunc(s.reauth)))
	pages.Handle("GET /user/{username}", s.auth.RequireLogin(http.HandlerFunc(s.profile)))
	pages.HandleFunc("GET /api/me", s.apiMe)
	s.accountRoutes(pages)

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		setRoute(r, "GET /healthz")
		s.healthz(w, r)
	})
	static := s.static()
	root.HandleFunc("GET /static/{file}", func(w http.ResponseWriter, r *http.Request) {
		setRoute(r, "GET /static/{file}")
		static.ServeHTTP(w, r)
	})
	root.Handle("/", s.auth.Handler(s.requireTwoFactor(s.withErrorPages(pages))))
	// Only binaries built with -tags latchbench get anything here: the
	// profile page without latch, for the load command's comparison.
	benchRoutes(s, root)

	csrf := http.NewCrossOriginProtection()
	if err := csrf.AddTrustedOrigin(s.cfg.BaseURL.Scheme + "://" + s.cfg.BaseURL.Host); err != nil {
		// BaseURL was validated by the caller; a failure here is a bug.
		panic(fmt.Sprintf("site: trusted origin: %v", err))
	}
	csrf.SetDenyHandler(http.HandlerFunc(s.crossOrigin))

	var h http.Handler = root
	h = csrf.Handler(h)
	h = s.sameScheme(h)
	h = s.limitBody(h)
	h = s.securityHeaders(h)
	h = s.recoverPanics(h)
	h = s.logRequests(h)
	if rc := s.cfg.RequestContext; rc != nil {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inner.ServeHTTP(w, r.WithContext(rc(r.Context())))
		})
	}
	return h
}

// clientIP is the address rate limits and logs use.
func (s *Site) clientIP(r *http.Request) string { return s.cfg.ClientIP(r) }

// log returns the logger with the request's id.
func (s *Site) log(r *http.Request) *slog.Logger {
	if ri := infoOf(r.Context()); ri != nil {
		return s.logger.With("request_id", ri.id)
	}
	return s.logger
}

// subscribe logs every auth event, from the manager and from the account
// service, as one line each, and records the ones worth showing their
// owner in the audit log. No event carries a secret.
func (s *Site) subscribe() {
	auditKinds := map[latch.EventKind]string{
		latch.EventLoggedIn:           "logged_in",
		latch.EventLoggedOut:          "logged_out",
		latch.EventLoadedFromRemember: "remember_restore",
		latch.EventRememberTheft:      "remember_theft",
		latch.EventSessionProtected:   "session_protected",
		latch.EventLoginConfirmed:     "login_confirmed",
	}
	s.auth.Subscribe(func(r *http.Request, e latch.Event[*account.User]) {
		level := slog.LevelInfo
		if e.Kind == latch.EventRememberTheft {
			level = slog.LevelWarn
		}
		s.log(r).Log(r.Context(), level, "auth event", "event", e.Kind.String(),
			"user_id", e.UserID, "ip", s.clientIP(r), "detail", e.Detail)
		if kind, ok := auditKinds[e.Kind]; ok && e.UserID != "" {
			s.recordCtx(r.Context(), e.UserID, kind, s.clientIP(r), r.UserAgent(), "")
		}
	})
	audited := map[account.EventKind]bool{
		account.EventSignUp: true, account.EventLoginFailed: true, account.EventLoginLimited: true,
		account.EventLoginInactive: true, account.EventLoginUnconfirmed: true, account.EventRehashed: true,
		account.EventPasswordCheckFailed: true,
	}
	prev := s.accounts.Hook
	s.accounts.Hook = func(ctx context.Context, e account.Event) {
		if prev != nil {
			prev(ctx, e)
		}
		level := slog.LevelInfo
		if e.Kind == account.EventLoginFailed || e.Kind == account.EventLoginLimited || e.Kind == account.EventRehashFailed || e.Kind == account.EventPasswordCheckFailed {
			level = slog.LevelWarn
		}
		l := s.logger
		ri := infoOf(ctx)
		if ri != nil {
			l = l.With("request_id", ri.id)
		}
		l.Log(ctx, level, "auth event", "event", string(e.Kind), "user_id", e.UserID, "ip", e.ClientIP, "detail", e.Detail)
		if audited[e.Kind] && (e.Kind != account.EventLoginLimited || s.floodAudit.record(e.ClientIP, s.auditNow())) {
			var ua string
			if ri != nil {
				ua = ri.userAgent
			}
			s.recordCtx(ctx, e.UserID, string(e.Kind), e.ClientIP, ua, "")
		}
	}
}

// audit records an event of the request's user in the audit log, and
// logs it: a failed second factor, a password or email change, a new API
// token are security events the operator must see too (ASVS 16.3.1).
func (s *Site) audit(r *http.Request, userID, kind, detail string) {
	level := slog.LevelInfo
	if kind == "2fa_failed" {
		level = slog.LevelWarn
	}
	s.log(r).Log(r.Context(), level, "account event", "event", kind, "user_id", userID, "ip", s.clientIP(r))
	s.recordCtx(r.Context(), userID, kind, s.clientIP(r), r.UserAgent(), detail)
}

// auditNow is the audit log's clock.
func (s *Site) auditNow() time.Time {
	if s.auditor != nil && s.auditor.Now != nil {
		return s.auditor.Now()
	}
	return time.Now()
}

// recordCtx writes an audit event. A failure is logged, not shown: the
// action it describes already happened.
func (s *Site) recordCtx(ctx context.Context, userID, kind, ip, ua, detail string) {
	if s.auditor == nil {
		return
	}
	if err := s.auditor.Record(ctx, userID, kind, ip, ua, detail); err != nil {
		s.logger.Error("audit log", "err", err, "event", kind)
	}
}

// healthz answers 200 when the database answers within two seconds, else
// 503: as JSON for monitors, and as a page for a browser (the footer's
// Status link), which asks for text/html.
func (s *Site) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err := s.cfg.Health(ctx)
	status := http.StatusOK
	if err != nil {
		s.log(r).Error("health check failed", "err", err)
		status = http.StatusServiceUnavailable
	}
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		s.renderPlain(w, r, status, "status", &view{Title: "Status", StatusUp: err == nil,
			StatusTook: time.Since(start).Round(time.Millisecond).String(), StatusAt: time.Now().UTC()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err != nil {
		_, _ = w.Write([]byte(`{"status":"unavailable","database":"unreachable"}` + "\n"))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ok","database":"ok"}` + "\n"))
}
