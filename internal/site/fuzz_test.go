package site_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/latchgo/latch/internal/server"
)

var (
	fuzzOnce    sync.Once
	fuzzHandler http.Handler
)

// fuzzSite is one real site (SQLite in a temp dir) shared by every fuzz
// input of the process, with a user to log in as.
func fuzzSite(t testing.TB) http.Handler {
	fuzzOnce.Do(func() {
		dir, err := os.MkdirTemp("", "latch-fuzz-")
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := server.ParseFlags("fuzz", []string{"-database", filepath.Join(dir, "fuzz.db")}, func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		backend, err := server.OpenBackend(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		app, err := server.NewApp(cfg, backend, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		fuzzHandler = app.Site.Handler()
		r := httptest.NewRequest("POST", "/signup", strings.NewReader("username=fuzz&email=fuzz%40example.com&password=correct+horse+battery"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		fuzzHandler.ServeHTTP(httptest.NewRecorder(), r)
	})
	return fuzzHandler
}

// FuzzForms posts arbitrary bodies to every form of the site, as a hostile
// client would. Property: the site never fails (no 500, no panic, no stack
// trace or SQL in the answer) and answers one of the statuses the contract
// names for bad input; whatever it redirects to stays on the site.
func FuzzForms(f *testing.F) {
	for _, seed := range []string{
		"email=fuzz%40example.com&password=correct+horse+battery&remember=1&next=%2Fuser%2Ffuzz",
		"email=fuzz%40example.com&password=wrong&next=%2F%2Fevil.example",
		"username=a&email=b&password=c",
		"username=%3Cscript%3E&email=x%40y.z%0d%0aBcc%3A+q%40r.s&password=%00%00%00%00%00%00%00%00",
		"email=%zz&password=%",
		"next=%5C%5Cevil.example&email=&email=fuzz%40example.com",
		strings.Repeat("a=b&", 2000),
		"password=" + strings.Repeat("%F0%9F%99%82", 300),
		"code=123456", "token=AAAA",
	} {
		f.Add("/login", seed)
		f.Add("/signup", seed)
	}
	f.Add("/forgot", "email=fuzz%40example.com")
	f.Add("/reset", "password=x&confirm=x")
	f.Add("/login/2fa", "code=000000")
	f.Add("/confirm/resend", "email=a%40b.c")
	f.Fuzz(func(t *testing.T, path, body string) {
		switch path {
		case "/login", "/signup", "/forgot", "/reset", "/login/2fa", "/confirm/resend", "/confirm", "/logout":
		default:
			path = "/login"
		}
		h := fuzzSite(t)
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// Inputs from many addresses, so the rate limits that one input
		// trips do not decide the answers to all the others.
		sum := 0
		for i := 0; i < len(body); i++ {
			sum = sum*31 + int(body[i])
		}
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", sum>>16&0xff, sum>>8&0xff, sum&0xff)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200, 303, 400, 413, 422, 429, 503:
		default:
			t.Fatalf("POST %s %q: status %d", path, body, w.Code)
		}
		out := w.Body.String()
		for _, bad := range []string{"goroutine ", "panic", "SQL", "sqlite"} {
			if strings.Contains(out, bad) {
				t.Fatalf("POST %s %q: answer contains %q", path, body, bad)
			}
		}
		if loc := w.Header().Get("Location"); loc != "" && (!strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.Contains(loc, "\\")) {
			t.Fatalf("POST %s %q: redirect to %q", path, body, loc)
		}
	})
}
