package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchgo/latch/latchtest"
	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/sqlite"
)

// TestQuickstart runs the README's program on its own database: latch's
// tables beside the users table, visitors without a session cost no row,
// logins (wrong, right, remembered), logout and the login limit.
func TestQuickstart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hash, err := password.NewHasher(password.DefaultParams).Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, pw_hash TEXT NOT NULL)`,
		`INSERT INTO users (email, pw_hash) VALUES ('ann@example.com', '` + hash + `')`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := httptest.NewServer(newApp(db, store))
	defer srv.Close()
	b := latchtest.NewBrowser(t, srv)

	sessions := func() int {
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM latch_sessions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	res := b.Get("/profile")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2Fprofile" {
		t.Fatalf("a visitor at /profile: %d to %q, want 303 to the login page", res.StatusCode, res.Header.Get("Location"))
	}
	if res := b.Get("/login?next=%2Fprofile"); !strings.Contains(res.Body, `name="next" value="/profile"`) {
		t.Errorf("the login form does not carry next:\n%s", res.Body)
	}
	if res := b.Get("/login?next=%2F%2Fevil.example"); !strings.Contains(res.Body, `name="next" value=""`) {
		t.Errorf("the login form carries an unsafe next:\n%s", res.Body)
	}
	if n := sessions(); n != 0 {
		t.Errorf("visitors without a login wrote %d session rows", n)
	}

	login := func(pw string) url.Values {
		return url.Values{"email": {"ann@example.com"}, "password": {pw}, "remember": {"1"}, "next": {"/profile"}}
	}
	if res := b.Post("/login", login("wrong password")); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a wrong password: %d", res.StatusCode)
	}
	res = b.Post("/login", login("correct horse battery staple"))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/profile" {
		t.Fatalf("the right password: %d to %q, want 303 to /profile", res.StatusCode, res.Header.Get("Location"))
	}
	if res := b.Get("/profile"); res.StatusCode != http.StatusOK || res.Body != "Hello, ann@example.com!\n" {
		t.Fatalf("/profile logged in: %d %q", res.StatusCode, res.Body)
	}
	b.Restart() // "remember me" logs ann in again
	if res := b.Get("/profile"); res.StatusCode != http.StatusOK {
		t.Fatalf("/profile after a browser restart: %d", res.StatusCode)
	}
	if res := b.Post("/logout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if res := b.Get("/profile"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("/profile after logout: %d", res.StatusCode)
	}

	// A form post from another site is refused.
	r := b.Request(http.MethodPost, "/login", strings.NewReader(login("correct horse battery staple").Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := b.Do(r); res.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site login post: %d, want 403", res.StatusCode)
	}
	// Guessing: the failures past the free ones wait.
	var last *latchtest.Response
	for range 11 {
		last = b.Post("/login", login("guess"))
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Errorf("the 12th wrong password: %d, Retry-After %q; want 429 with Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
	}
}
