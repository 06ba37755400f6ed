package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/latchgo/latch/internal/server"
)

// BenchmarkAuthenticatedPage serves GET /user/{name} with a session cookie
// through the whole site, in-process, on each backend: SQLite alone, and
// PostgreSQL with sessions in Redis (when LATCH_TEST_POSTGRES and
// LATCH_TEST_REDIS are set). The ratio of their ns/op is the cost of
// moving state to shared servers over loopback.
//
//	go test -run '^$' -bench AuthenticatedPage -benchmem ./internal/server
func BenchmarkAuthenticatedPage(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchPage(b, "-database", filepath.Join(b.TempDir(), "bench.db"))
	})
	b.Run("postgres+redis", func(b *testing.B) {
		pg, rd := os.Getenv("LATCH_TEST_POSTGRES"), os.Getenv("LATCH_TEST_REDIS")
		if pg == "" || rd == "" {
			b.Skip("LATCH_TEST_POSTGRES and LATCH_TEST_REDIS not set")
		}
		suffix := make([]byte, 6)
		_, _ = rand.Read(suffix)
		schema := "latch_bench_" + hex.EncodeToString(suffix)
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, pg)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			b.Fatal(err)
		}
		defer conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		u, _ := url.Parse(pg)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		benchPage(b, "-database", u.String(), "-redis", rd, "-redis-prefix", schema+":")
	})
}

func benchPage(b *testing.B, args ...string) {
	h, cookie := benchSite(b, args...)
	r := httptest.NewRequest("GET", "/user/bob", nil)
	r.Header.Set("Cookie", cookie)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Errorf("GET /user/bob: %d", rec.Code)
				return
			}
		}
	})
}

// benchSite builds the whole site as NewApp wires it (request log to
// io.Discard) over the backend args name, signs up alice and bob, logs
// alice in, and returns the handler and alice's Cookie header.
func benchSite(b *testing.B, args ...string) (http.Handler, string) {
	ctx := context.Background()
	cfg, _, err := server.ParseFlags("bench", args, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	backend, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { backend.Close() })
	app, err := server.NewApp(cfg, backend, cfg.NewLogger(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { app.Close(context.Background()) })
	h := app.Site.Handler()
	post := func(path string, form url.Values) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for _, u := range []string{"alice", "bob"} {
		if w := post("/signup", url.Values{"username": {u}, "email": {u + "@example.org"}, "password": {"quiet orbit lantern 42"}}); w.Code != http.StatusSeeOther {
			b.Fatalf("sign-up %s: %d", u, w.Code)
		}
	}
	w := post("/login", url.Values{"email": {"alice@example.org"}, "password": {"quiet orbit lantern 42"}})
	if w.Code != http.StatusSeeOther {
		b.Fatalf("login: %d", w.Code)
	}
	var cookies []string
	for _, c := range w.Result().Cookies() {
		if c.Value != "" {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
	}
	return h, strings.Join(cookies, "; ")
}
