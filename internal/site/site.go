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
}

// Site serves the pages. Create it with New.
type Site struct {
	cfg      Config
	auth     *latch.Manager[*account.User]
	accounts *account.Service
	tpl      templates
	logger   *slog.Logger
	handler  http.Handler
}

// New builds the site over an account service and a login manager whose
// users are *account.User. It parses every template and fails if one is
// broken.
func New(cfg Config, accounts *account.Service, auth *latch.Manager[*account.User]) (*Site, error) {
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
	tpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Site{cfg: cfg, auth: auth, accounts: accounts, tpl: tpl, logger: cfg.Logger}
	auth.ErrorHandler = s.serverError
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

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", s.healthz)
	root.Handle("GET /static/{file}", s.static())
	root.Handle("/", s.auth.Handler(s.withErrorPages(pages)))

	csrf := http.NewCrossOriginProtection()
	if err := csrf.AddTrustedOrigin(s.cfg.BaseURL.Scheme + "://" + s.cfg.BaseURL.Host); err != nil {
		// BaseURL was validated by the caller; a failure here is a bug.
		panic(fmt.Sprintf("site: trusted origin: %v", err))
	}
	csrf.SetDenyHandler(http.HandlerFunc(s.crossOrigin))

	var h http.Handler = root
	h = csrf.Handler(h)
	h = s.limitBody(h)
	h = s.securityHeaders(h)
	h = s.recoverPanics(h)
	h = s.logRequests(h)
	return h
}

// clientIP is the address rate limits and logs use.
func (s *Site) clientIP(r *http.Request) string { return s.cfg.ClientIP(r) }

// log returns the logger with the request's id.
func (s *Site) log(r *http.Request) *slog.Logger {
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		return s.logger.With("request_id", id)
	}
	return s.logger
}

// subscribe logs every auth event, from the manager and from the account
// service, as one line each. No event carries a secret.
func (s *Site) subscribe() {
	s.auth.Subscribe(func(r *http.Request, e latch.Event[*account.User]) {
		level := slog.LevelInfo
		if e.Kind == latch.EventRememberTheft {
			level = slog.LevelWarn
		}
		s.log(r).Log(r.Context(), level, "auth event", "event", e.Kind.String(),
			"user_id", e.UserID, "ip", s.clientIP(r), "detail", e.Detail)
	})
	prev := s.accounts.Hook
	s.accounts.Hook = func(ctx context.Context, e account.Event) {
		if prev != nil {
			prev(ctx, e)
		}
		level := slog.LevelInfo
		if e.Kind == account.EventLoginFailed || e.Kind == account.EventLoginLimited {
			level = slog.LevelWarn
		}
		l := s.logger
		if id, ok := ctx.Value(requestIDKey{}).(string); ok {
			l = l.With("request_id", id)
		}
		l.Log(ctx, level, "auth event", "event", string(e.Kind), "user_id", e.UserID, "ip", e.ClientIP, "detail", e.Detail)
	}
}

// healthz answers 200 when the database answers within two seconds.
func (s *Site) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.cfg.Health(ctx); err != nil {
		s.log(r).Error("health check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"unavailable","database":"unreachable"}` + "\n"))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ok","database":"ok"}` + "\n"))
}
