package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/logbuf"
	"github.com/latchgo/latch/internal/metrics"
	"github.com/latchgo/latch/internal/site"
	"github.com/latchgo/latch/mailer"
	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/sqlite"
	"github.com/latchgo/latch/throttle"
)

// Backend is everything the site keeps: users, sessions, remember-me
// tokens and rate-limit counters.
type Backend interface {
	latch.Store
	throttle.Store
	account.Backend
	Ping(ctx context.Context) error
	Close() error
}

// App is a wired-up latch site.
type App struct {
	Config    *Config
	Backend   Backend
	Auth      *latch.Manager[*account.User]
	Accounts  *account.Service
	Tokens    *account.APITokens
	Recovery  *account.Recovery
	TwoFactor *account.TwoFactor
	Auditor   *account.Auditor
	// Passkeys is nil when the base URL has no host name.
	Passkeys *account.Passkeys
	Mail     *mailer.Queue
	Site     *site.Site
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
}

// notifier sends account mail through the queue.
type notifier struct{ q *mailer.Queue }

func (n notifier) Notify(_ context.Context, to, subject, body string) error {
	return n.q.Enqueue(mailer.Message{To: to, Subject: subject, Text: body})
}

// NewSender returns the SMTP sender the configuration names, or, without
// -smtp, one that writes mails to the log for local development.
func NewSender(cfg *Config, logger *slog.Logger) (mailer.Sender, error) {
	if cfg.SMTP == "" {
		logger.Warn("no -smtp configured: mails (with their one-time links) are written to this log; use only for development")
		return mailer.NewLog(logger), nil
	}
	s, err := mailer.NewSMTP(cfg.SMTP, cfg.SMTPFrom)
	if err != nil {
		return nil, fmt.Errorf("-smtp: %w", err)
	}
	return s, nil
}

// NewApp builds the site over an open backend. Close the App when done
// with it: that finishes queued mail.
func NewApp(cfg *Config, backend Backend, logger *slog.Logger) (*App, error) {
	sender, err := NewSender(cfg, logger)
	if err != nil {
		return nil, err
	}
	return NewAppWithSender(cfg, backend, logger, sender)
}

// NewAppWithSender is NewApp with a given mail sender (tests pass one
// that talks to their own SMTP server).
func NewAppWithSender(cfg *Config, backend Backend, logger *slog.Logger, sender mailer.Sender) (*App, error) {
	m := metrics.New()
	hasher := password.NewHasher(password.DefaultParams)
	if cfg.HashConcurrency > 0 {
		hasher.MaxConcurrent = cfg.HashConcurrency
	}
	hasher.OnWait = m.HashWait
	m.HashQueue(hasher.InFlight, hasher.Queued)
	registerBackendMetrics(m, backend)
	accounts := account.NewService(backend, hasher, backend)
	accounts.Hook = func(_ context.Context, e account.Event) {
		if r, ok := loginResults[e.Kind]; ok {
			m.Login(r)
		}
	}
	accounts.RequireConfirmedEmail = cfg.RequireConfirm
	accounts.Policy.MinLength = cfg.PasswordMin
	accounts.Limits.IPv6Prefix = cfg.IPv6Prefix
	queue := mailer.NewQueue(sender, logger)
	recovery := account.NewRecovery(backend, accounts, notifier{queue}, cfg.BaseURL, backend)
	recovery.OnError = func(err error) { logger.Error("account mail", "err", err) }
	tokens := account.NewAPITokens(backend, backend)
	twoFactor := account.NewTwoFactor(backend, backend, backend)
	twoFactor.Hasher = hasher // recovery codes' argon2id shares the logins' bound
	auditor := account.NewAuditor(backend)
	// Passkeys are bound to the site's host name; browsers refuse them on
	// an IP address, so a site at http://127.0.0.1:8080 has none (at
	// http://localhost:8080 it has).
	passkeys, err := account.NewPasskeys(account.PasskeyConfig{
		RPID:    cfg.BaseURL.Hostname(),
		RPName:  "latch",
		Origins: []string{cfg.BaseURL.Scheme + "://" + cfg.BaseURL.Host},
	}, backend, backend, backend)
	if err != nil {
		logger.Info("passkeys off: the base URL has no host name", "base_url", cfg.BaseURL.String())
		passkeys = nil
	}
	auth := latch.New(latch.Store(backend), func(ctx context.Context, id string) (*account.User, error) {
		u, err := backend.UserByID(ctx, id)
		if errors.Is(err, account.ErrNotFound) {
			return nil, fmt.Errorf("user %q: %w", id, latch.ErrNoUser)
		}
		return u, err
	})
	accounts.Sessions = auth
	// The user loader reads the store's own users table, which its change
	// feed watches: the cache may keep users too.
	auth.Cache.Entries, auth.Cache.Users = cfg.CacheEntries, true
	m.SessionCache(func() (uint64, uint64, int, int64) {
		st := auth.CacheStats()
		return st.Hits, st.Misses, st.Entries, st.Bytes
	})
	clientIP := latch.TrustedProxies(cfg.TrustedProxies...)
	auth.ClientIP = clientIP
	auth.Session.IdleTimeout = cfg.SessionIdle
	auth.Session.AbsoluteTimeout = cfg.SessionLifetime
	auth.Remember.Duration = cfg.Remember
	auth.Login.RefreshView = "/reauth"
	// The re-authentication page says why it is shown: no second message.
	auth.Login.RefreshMessage = ""
	auth.Session.Cookie.Secure = cfg.Secure()
	auth.Remember.Cookie.Secure = cfg.Secure()
	s, err := site.New(site.Config{
		BaseURL:          cfg.BaseURL,
		Logger:           logger,
		ClientIP:         clientIP,
		Health:           backend.Ping,
		Observe:          m.ObserveRequest,
		RequestContext:   requestContext(backend),
		ReauthAfter:      cfg.ReauthAfter,
		RequireTwoFactor: cfg.Require2FA,
	}, site.Deps{Accounts: accounts, Auth: auth, Tokens: tokens, Recovery: recovery, TwoFactor: twoFactor, Auditor: auditor, Passkeys: passkeys})
	if err != nil {
		return nil, err
	}
	return &App{
		Config: cfg, Backend: backend, Auth: auth, Accounts: accounts, Tokens: tokens, Recovery: recovery,
		TwoFactor: twoFactor, Auditor: auditor, Passkeys: passkeys, Mail: queue, Site: s, Logger: logger, Metrics: m,
	}, nil
}

// Close finishes the background work (account mail) until ctx ends. It
// does not close the backend, which the caller opened.
func (a *App) Close(ctx context.Context) error {
	return errors.Join(a.Recovery.Close(ctx), a.Mail.Close(ctx))
}

// loginResults maps account events to the result label of the login
// counter.
var loginResults = map[account.EventKind]string{
	account.EventLoginOK:          "ok",
	account.EventLoginFailed:      "failed",
	account.EventLoginLimited:     "limited",
	account.EventLoginInactive:    "inactive",
	account.EventLoginUnconfirmed: "unconfirmed",
}

// AdminHandler serves /metrics, /livez (the process answers) and /readyz
// (the storage answers: take the instance out of the load balancer when
// not).
func (a *App) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := a.Backend.Ping(ctx); err != nil {
			a.Logger.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("storage unavailable\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Serve answers HTTP on ln (and the admin endpoints on admin, if not nil)
// until ctx is cancelled, then stops accepting connections and waits up to
// drain for requests in flight to finish.
func (a *App) Serve(ctx context.Context, ln, admin net.Listener, drain time.Duration) error {
	srv := &http.Server{
		Handler:           a.Site.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Far more than any real request needs; also bounds cookie floods
		// (CVE-2025-58186).
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	go a.cleanup(ctx)
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	var adminSrv *http.Server
	if admin != nil {
		adminSrv = &http.Server{Handler: a.AdminHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { errc <- adminSrv.Serve(admin) }()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down", "drain", drain.String())
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(sctx)
	if adminSrv != nil {
		err = errors.Join(err, adminSrv.Shutdown(sctx))
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// cleanup removes expired sessions, tokens and rate-limit entries every few
// minutes, so the database does not grow with abandoned sessions.
func (a *App) cleanup(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s, r, err := a.Auth.DeleteExpired(ctx)
		if err != nil {
			a.Logger.Warn("cleanup sessions", "err", err)
			continue
		}
		n, err := a.Backend.DeleteExpiredAttempts(ctx, time.Now().Add(-24*time.Hour))
		if err != nil {
			a.Logger.Warn("cleanup rate limits", "err", err)
			continue
		}
		events, err := a.Auditor.Prune(ctx, account.AuditRetention)
		if err != nil {
			a.Logger.Warn("cleanup audit log", "err", err)
			continue
		}
		links, err := a.Backend.DeleteExpiredOneTimeTokens(ctx, time.Now())
		if err != nil {
			a.Logger.Warn("cleanup mailed links", "err", err)
			continue
		}
		a.Logger.Debug("cleanup", "sessions", s, "remember_tokens", r, "attempts", n, "audit_events", events, "links", links)
	}
}

// Run opens the backend, builds the site and serves on cfg.Addr until ctx
// ends. It writes the address it listens on to out, so callers that ask
// for port 0 learn the real port.
//
// Log lines are written out in batches, every 100 milliseconds, so that the
// request log costs no system call per request; a clean shutdown writes
// them all.
func Run(ctx context.Context, cfg *Config, logOut, out io.Writer) (err error) {
	batched := logbuf.New(logOut, 100*time.Millisecond, 64<<10)
	defer func() { err = errors.Join(err, batched.Close()) }()
	logger := cfg.NewLogger(batched)
	for _, w := range cfg.Warnings {
		logger.Warn(w)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("-addr: listen on %s: %w", cfg.Addr, err)
	}
	if cfg.BaseURLFromAddr {
		// The address it really listens on: -addr :0 picks a port.
		base, err := url.Parse(baseFromAddr(ln.Addr().String()))
		if err == nil {
			cfg.BaseURL = base
		}
	}
	backend, err := OpenBackend(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer backend.Close()
	app, err := NewApp(cfg, backend, logger)
	if err != nil {
		ln.Close()
		return err
	}
	if limit, ok := memoryLimit(app.Accounts.Hasher()); ok {
		debug.SetMemoryLimit(limit)
	}
	var admin net.Listener
	if cfg.AdminAddr != "" {
		if admin, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
			ln.Close()
			return fmt.Errorf("-admin-addr: listen on %s: %w", cfg.AdminAddr, err)
		}
		logger.Info("admin endpoints", "addr", admin.Addr().String())
		fmt.Fprintf(out, "latch: admin on http://%s\n", admin.Addr().String())
	}
	addr := ln.Addr().String()
	logger.Info("serving", "addr", addr, "base_url", cfg.BaseURL.String(), "database", databaseKind(cfg.Database))
	fmt.Fprintf(out, "latch: serving on http://%s\n", addr)
	err = app.Serve(ctx, ln, admin, 10*time.Second)
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, app.Close(cctx))
}

// requestContext returns the site's RequestContext for a backend: with
// SQLite, each request reads its session and user in one statement.
func requestContext(b Backend) func(context.Context) context.Context {
	if _, ok := b.(*sqlite.AccountStore); ok {
		return sqlite.WithRequestMemo
	}
	return nil
}

// memoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit) the
// server sets unless GOMEMLIMIT is given: 64 MiB for everything else plus
// one and a half times what the hashes the hasher admits at once hold.
// Each argon2id hash allocates its 19 MiB afresh, so without a limit the
// heap grows to twice its live size between collections and a login
// flood doubles the resident memory for garbage. The limit is soft: a
// server that really needs more (very many connections) gets it, with
// more frequent collections.
func memoryLimit(h *password.Hasher) (int64, bool) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	n := int64(h.MaxConcurrent)
	if n <= 0 {
		n = int64(password.DefaultConcurrency())
	}
	return 64<<20 + n*int64(h.Params().Memory)<<10*3/2, true
}

// databaseKind names the database without its credentials, for logs.
func databaseKind(dsn string) string {
	if IsPostgres(dsn) {
		return "postgresql"
	}
	return "sqlite:" + dsn
}

// SchemaVersions reports the migration versions of the backend's SQL
// tables: latch's session tables and the account tables.
func SchemaVersions(ctx context.Context, b Backend) (sessions, accounts int64, err error) {
	if s, ok := b.(*split); ok {
		b = s.db
	}
	v, ok := b.(interface {
		SchemaVersion(context.Context) (int64, error)
		AccountsSchemaVersion(context.Context) (int64, error)
	})
	if !ok {
		return 0, 0, errors.New("this backend does not report a schema version")
	}
	if sessions, err = v.SchemaVersion(ctx); err != nil {
		return 0, 0, err
	}
	accounts, err = v.AccountsSchemaVersion(ctx)
	return sessions, accounts, err
}
