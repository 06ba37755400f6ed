package latch_test

// Benchmarks of the request path: what Manager.Handler costs per request
// for each way a request can arrive (no credentials, a session cookie, a
// remember-me cookie that has to be restored and rotated, a request-loader
// token), and what SafeNext costs per "next" value. Each runs twice: over
// memstore (the middleware alone) and over the real SQLite store in a
// temporary file (what the site pays). Measured, never asserted:
//
//	go test -run '^$' -bench 'Middleware|SafeNext' -benchmem .
//
// See BENCHMARKS.md for the figures of a reference run.

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/memstore"
	"github.com/latchgo/latch/sqlite"
)

// benchWriter is a ResponseWriter that keeps headers and drops the body,
// so that the benchmarks measure latch and not httptest.ResponseRecorder.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }
func (w *benchWriter) reset()                      { clear(w.h); w.code = 0 }

// benchEnv is a manager over one store with one user, "alice" (more for
// the remember-me benchmark), and the handler the benchmarks call:
// Manager.Handler around a handler that records whether a user was
// current.
type benchEnv struct {
	m       *latch.Manager[*account.User]
	store   latch.Store
	user    *account.User
	users   []*account.User // alice first
	addUser func(u *account.User)
	handler http.Handler
	gotUser bool
	source  latch.Source
	tokens  map[string]string // HashToken(API token) -> user id
}

const benchAPIToken = "bench-api-token-0123456789abcdefghijklmnopqrstuv"

func newBenchEnv(b *testing.B, backend string) *benchEnv {
	b.Helper()
	ctx := context.Background()
	e := &benchEnv{tokens: map[string]string{}}
	var load latch.UserLoader[*account.User]
	switch backend {
	case "memstore":
		e.store = memstore.New()
		byID := map[string]*account.User{}
		e.addUser = func(u *account.User) {
			u.ID = strconv.Itoa(len(byID) + 1)
			byID[u.ID] = u
		}
		load = func(_ context.Context, id string) (*account.User, error) {
			if u, ok := byID[id]; ok {
				return u, nil
			}
			return nil, latch.ErrNoUser
		}
	case "sqlite":
		st, err := sqlite.OpenAccounts(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		e.store = st
		e.addUser = func(u *account.User) {
			if err := st.CreateUser(ctx, u); err != nil {
				b.Fatal(err)
			}
		}
		// The same loader as internal/server: one read per request.
		load = func(ctx context.Context, id string) (*account.User, error) {
			u, err := st.UserByID(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("user %q: %w", id, latch.ErrNoUser)
			}
			return u, nil
		}
	default:
		b.Fatalf("unknown backend %q", backend)
	}
	e.user = e.newUser()
	e.tokens[latch.HashToken(benchAPIToken)] = e.user.ID
	e.m = latch.New(e.store, load)
	// An API-token loader as an application would write it: the token is
	// looked up by its hash, then the user by id.
	e.m.RequestLoader = func(r *http.Request) (*account.User, error) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			return nil, latch.ErrNoUser
		}
		id, ok := e.tokens[latch.HashToken(tok)]
		if !ok {
			return nil, latch.ErrNoUser
		}
		return load(r.Context(), id)
	}
	e.handler = e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, e.gotUser = e.m.CurrentUser(r)
		e.source = e.m.Source(r)
	}))
	return e
}

// newUser stores one more user.
func (e *benchEnv) newUser() *account.User {
	n := len(e.users)
	u := &account.User{
		Username:     fmt.Sprintf("user%d", n),
		Email:        fmt.Sprintf("user%d@example.org", n),
		PasswordHash: "$unused$",
		CreatedAt:    time.Now().UTC(),
	}
	e.addUser(u)
	e.users = append(e.users, u)
	return u
}

// request is the request every benchmark sends; the login that creates
// the session uses the same address and User-Agent, so session protection
// sees the same client.
func benchRequest() *http.Request {
	r, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:8080/user/alice", nil)
	if err != nil {
		panic(err)
	}
	r.RemoteAddr = "192.0.2.10:51234"
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) latch-bench")
	r.Header.Set("Accept", "text/html")
	return r
}

// sessionCookie logs alice in through the middleware and returns the
// "name=value" of her session cookie.
func (e *benchEnv) sessionCookie(b *testing.B) string {
	b.Helper()
	login := e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := e.m.LoginUser(w, r, e.user); err != nil {
			b.Fatal(err)
		}
	}))
	w := &benchWriter{h: http.Header{}}
	login.ServeHTTP(w, benchRequest())
	for _, c := range (&http.Response{Header: w.h}).Cookies() {
		if c.Name == e.m.Session.Cookie.Name && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	b.Fatalf("login set no session cookie: %v", w.h)
	return ""
}

// rememberCookies stores n remember-me tokens, as "remember me" logins
// would, and returns their cookies ("name=selector.validator"). They
// belong to up to maxUsers users, a few each: a user with more sessions
// than Session.MaxSessions would make every restore also end the oldest
// one, which is not the cost of a restore.
func (e *benchEnv) rememberCookies(b *testing.B, n, maxUsers int) []string {
	b.Helper()
	ctx := context.Background()
	for len(e.users) < min(n, maxUsers) {
		e.newUser()
	}
	now := time.Now()
	out := make([]string, n)
	for i := range out {
		sel, val := latch.NewToken(16), latch.NewToken(32)
		err := e.store.CreateRemember(ctx, latch.RememberToken{
			Selector:      sel,
			ValidatorHash: latch.HashToken(val),
			UserID:        e.users[i%len(e.users)].ID,
			Series:        latch.NewToken(16),
			CreatedAt:     now,
			LastUsedAt:    now,
			ExpiresAt:     now.Add(30 * 24 * time.Hour),
			IP:            "192.0.2.10",
			UserAgent:     "latch-bench",
		})
		if err != nil {
			b.Fatal(err)
		}
		out[i] = e.m.Remember.Cookie.Name + "=" + sel + "." + val
	}
	return out
}

// BenchmarkMiddleware is the per-request cost of Manager.Handler.
func BenchmarkMiddleware(b *testing.B) {
	for _, backend := range []string{"memstore", "sqlite"} {
		b.Run(backend, func(b *testing.B) {
			b.Run("anonymous", func(b *testing.B) {
				e := newBenchEnv(b, backend)
				r, w := benchRequest(), &benchWriter{h: http.Header{}}
				e.run(b, r, w, latch.SourceNone)
			})
			b.Run("session", func(b *testing.B) {
				e := newBenchEnv(b, backend)
				r, w := benchRequest(), &benchWriter{h: http.Header{}}
				r.Header.Set("Cookie", e.sessionCookie(b))
				e.run(b, r, w, latch.SourceSession)
			})
			b.Run("remember", func(b *testing.B) {
				// Every restore rotates its token and starts a session, so
				// each iteration needs a token of its own, stored off the
				// clock, for a user of its own (memstore) or one of 512
				// (SQLite, where each user costs a durable insert): a user
				// with more than Manager.MaxSessions sessions would make
				// every restore also end the oldest one. memstore lists a
				// user's sessions by scanning all of them, so it starts
				// afresh every 256 restores, to measure the middleware and
				// not a memstore that has grown to b.N sessions.
				chunk, maxUsers := b.N, 512
				if backend == "memstore" {
					chunk, maxUsers = 256, 256
				}
				var (
					e *benchEnv
					w = &benchWriter{h: http.Header{}}
				)
				b.ReportAllocs()
				b.ResetTimer()
				for done := 0; done < b.N; {
					n := min(chunk, b.N-done)
					b.StopTimer()
					e = newBenchEnv(b, backend)
					cookies := e.rememberCookies(b, n, maxUsers)
					r := benchRequest()
					hdr := make([][]string, n)
					for i, c := range cookies {
						hdr[i] = []string{c}
					}
					b.StartTimer()
					for i := range n {
						r.Header["Cookie"] = hdr[i]
						w.reset()
						e.handler.ServeHTTP(w, r)
					}
					done += n
				}
				b.StopTimer()
				e.check(b, w, latch.SourceRemember)
			})
			b.Run("request-loader", func(b *testing.B) {
				e := newBenchEnv(b, backend)
				r, w := benchRequest(), &benchWriter{h: http.Header{}}
				r.Header.Set("Authorization", "Bearer "+benchAPIToken)
				e.run(b, r, w, latch.SourceRequest)
			})
		})
	}
}

func (e *benchEnv) run(b *testing.B, r *http.Request, w *benchWriter, want latch.Source) {
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		e.handler.ServeHTTP(w, r)
	}
	e.check(b, w, want)
}

// check makes sure the benchmark measured what it says: the last request
// got the expected kind of user and was not an error.
func (e *benchEnv) check(b *testing.B, w *benchWriter, want latch.Source) {
	b.Helper()
	if w.code >= 400 {
		b.Fatalf("status %d", w.code)
	}
	if e.source != want || e.gotUser != (want != latch.SourceNone) {
		b.Fatalf("source %v (user %v), want %v", e.source, e.gotUser, want)
	}
}

// BenchmarkSafeNext is the cost of validating a "next" value, for targets
// a login form typically receives and for attacks it must refuse.
func BenchmarkSafeNext(b *testing.B) {
	for _, c := range []struct {
		name, target string
		ok           bool
	}{
		{"root", "/", true},
		{"profile", "/user/alice", true},
		{"query", "/user/alice?tab=posts&page=2", true},
		{"deep-encoded", "/docs/guide/getting%20started/part-2?lang=en&q=a%2Bb#install", true},
		{"long-2KiB", "/" + strings.Repeat("segment/", 250) + "end", true},
		{"scheme-relative", "//evil.example/login", false},
		{"backslash", "/\\evil.example", false},
		{"encoded-dotdot", "/a/%2e%2e/%2F%2Fevil.example", false},
		{"absolute", "https://evil.example/", false},
	} {
		b.Run(c.name, func(b *testing.B) {
			if _, ok := latch.SafeNext(c.target); ok != c.ok {
				b.Fatalf("SafeNext(%q) ok=%v, want %v", c.target, ok, c.ok)
			}
			b.ReportAllocs()
			for b.Loop() {
				latch.SafeNext(c.target)
			}
		})
	}
}
