package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchgo/latch/internal/server"
)

// TestAdminEndpoints checks /metrics, /livez and /readyz on the admin
// handler, after real traffic through the site.
func TestAdminEndpoints(t *testing.T) {
	cfg, _, err := server.ParseFlags("test", []string{"-database", filepath.Join(t.TempDir(), "l.db")}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	backend, err := server.OpenBackend(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	app, err := server.NewApp(cfg, backend, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(context.Background())
	site := httptest.NewServer(app.Site.Handler())
	defer site.Close()
	admin := httptest.NewServer(app.AdminHandler())
	defer admin.Close()

	post := func(path string, form url.Values) {
		res, err := http.PostForm(site.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	post("/signup", url.Values{"username": {"alice"}, "email": {"alice@example.com"}, "password": {"correct horse battery"}})
	post("/login", url.Values{"email": {"alice@example.com"}, "password": {"correct horse battery"}})
	post("/login", url.Values{"email": {"alice@example.com"}, "password": {"wrong wrong wrong"}})
	res, _ := http.Get(site.URL + "/user/nobody")
	res.Body.Close()

	get := func(path string) (int, string) {
		res, err := http.Get(admin.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body := get("/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`latch_http_requests_total{method="POST",route="POST /signup",status="303"} 1`,
		`latch_http_requests_total{method="GET",route="GET /user/{username}",status="303"} 1`,
		`latch_logins_total{result="ok"} 1`,
		`latch_logins_total{result="failed"} 1`,
		"latch_password_hash_queue_depth 0",
		"latch_password_hash_queue_wait_seconds_count",
		// Sign-up's flash and the login; the anonymous visit to a
		// protected page writes none.
		"latch_sessions_active 2",
		`latch_db_pool_connections{pool="sqlite_reader",state="idle"}`,
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "alice") {
		t.Error("metrics name a user")
	}
	if code, _ := get("/livez"); code != 200 {
		t.Errorf("/livez: %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz: %d", code)
	}
	backend.Close()
	if code, _ := get("/readyz"); code != 503 {
		t.Errorf("/readyz with the database closed: %d", code)
	}
	if code, _ := get("/livez"); code != 200 {
		t.Errorf("/livez with the database closed: %d (liveness must not depend on it)", code)
	}
}
