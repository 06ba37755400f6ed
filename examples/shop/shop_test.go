package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchgo/latch/latchtest"
	"github.com/latchgo/latch/password"
)

// The shop's users, as its own sign-up stored them: ann with argon2id,
// bob imported from a Flask site (a real werkzeug 2.2.2 hash, from
// ../shared/data), carol with bcrypt (Python bcrypt 3.2.2).
const (
	annPassword = "ann's own long passphrase"
	bobPassword = "correct horse battery staple"
	bobHash     = "pbkdf2:sha256:260000$KXjz6re3o5USqhZS$f696c73ae064e067f60bc4998ac78204e61a7b07a42eef93ac6253529b8f2a12"
)

// TestShopSQLite: the shop with its own tables in one SQLite file.
func TestShopSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	testShop(t, path, db, "INTEGER PRIMARY KEY")
}

// TestShopPostgres: the same shop in a PostgreSQL schema of its own.
func TestShopPostgres(t *testing.T) {
	base := os.Getenv("LATCH_TEST_POSTGRES")
	if base == "" {
		t.Skip("LATCH_TEST_POSTGRES not set")
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := make([]byte, 8)
	rand.Read(b)
	schema := "shop_" + hex.EncodeToString(b)
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	sdb, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	testShop(t, u.String(), sdb, "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
}

func testShop(t *testing.T, dsn string, db *sql.DB, idColumn string) {
	ctx := t.Context()
	annHash, err := password.NewHasher(password.DefaultParams).Hash(ctx, annPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE users (id ` + idColumn + `, email text NOT NULL UNIQUE, pw_hash text NOT NULL)`,
		`CREATE TABLE orders (id ` + idColumn + `, user_id bigint NOT NULL REFERENCES users (id), total bigint NOT NULL)`,
		// The shop's own migrations, with goose's default table.
		`CREATE TABLE goose_db_version (id ` + idColumn + `, version_id bigint NOT NULL, is_applied boolean NOT NULL)`,
		`CREATE TABLE sessions (id text PRIMARY KEY, cart text NOT NULL)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (email, pw_hash) VALUES ($1, $2), ($3, $4)`, []any{"ann@shop.example", annHash, "bob@shop.example", bobHash}},
		{`INSERT INTO orders (user_id, total) VALUES (1, 4200), (1, 1999), (2, 500)`, nil},
		{`INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true)`, nil},
		{`INSERT INTO sessions (id, cart) VALUES ('guest-1', 'socks')`, nil},
	} {
		if _, err := db.ExecContext(ctx, stmt.sql, stmt.args...); err != nil {
			t.Fatalf("%s: %v", stmt.sql, err)
		}
	}
	before := snapshot(t, db)

	shop, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open beside the shop's tables: %v", err)
	}
	defer shop.Close()
	if after := snapshot(t, db); after != before {
		t.Fatalf("latch changed the shop's tables:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	srv := httptest.NewServer(shop.Handler())
	defer srv.Close()

	latchRows := func(table string) int {
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	expect := func(res *latchtest.Response, status int, location string) {
		t.Helper()
		if res.StatusCode != status || res.Header.Get("Location") != location {
			t.Fatalf("%s %s: %d to %q, want %d to %q\n%s", res.Request.Method, res.Request.URL.Path,
				res.StatusCode, res.Header.Get("Location"), status, location, res.Body)
		}
	}

	t.Run("visitors", func(t *testing.T) {
		b := latchtest.NewBrowser(t, srv)
		expect(b.Get("/orders"), http.StatusSeeOther, "/login?next=%2Forders")
		res := b.Get("/login?next=%2Forders")
		if !strings.Contains(res.Body, "Please log in to access this page.") || !strings.Contains(res.Body, `value="/orders"`) {
			t.Errorf("the login page after the redirect lacks the message or next:\n%s", res.Body)
		}
		b.Get("/")
		if n := latchRows("latch_sessions"); n != 0 {
			t.Errorf("visitors without a login wrote %d session rows", n)
		}
	})

	ann := latchtest.NewBrowser(t, srv)
	t.Run("login", func(t *testing.T) {
		res := ann.Post("/login", url.Values{"email": {"ann@shop.example"}, "password": {"wrong"}, "next": {"/orders"}})
		expect(res, http.StatusUnprocessableEntity, "")
		if !strings.Contains(res.Body, "Wrong email or password.") || !strings.Contains(res.Body, `value="ann@shop.example"`) || !strings.Contains(res.Body, `value="/orders"`) {
			t.Errorf("the form after a wrong password:\n%s", res.Body)
		}
		expect(ann.Post("/login", url.Values{"email": {"ANN@shop.example"}, "password": {annPassword}, "remember": {"1"}, "next": {"/orders"}}),
			http.StatusSeeOther, "/orders")
		res = ann.Get("/orders")
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Order 1: 42.00 €") || !strings.Contains(res.Body, "Order 2: 19.99 €") || strings.Contains(res.Body, "Order 3") {
			t.Fatalf("ann's orders: %d\n%s", res.StatusCode, res.Body)
		}
		if res := ann.Get("/account"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Email: ann@shop.example") {
			t.Errorf("a fresh login's account page: %d", res.StatusCode)
		}
	})

	t.Run("remember me and fresh logins", func(t *testing.T) {
		ann.Restart()
		if res := ann.Get("/orders"); res.StatusCode != http.StatusOK {
			t.Fatalf("orders after a browser restart: %d", res.StatusCode)
		}
		// Restored by "remember me": not fresh, so the account page asks
		// for the password again.
		expect(ann.Get("/account"), http.StatusSeeOther, "/confirm?next=%2Faccount")
		res := ann.Get("/confirm?next=%2Faccount")
		if !strings.Contains(res.Body, "Please reauthenticate") || !strings.Contains(res.Body, `action="/confirm"`) {
			t.Errorf("the confirmation page:\n%s", res.Body)
		}
		expect(ann.Post("/confirm", url.Values{"password": {"wrong"}, "next": {"/account"}}), http.StatusUnprocessableEntity, "")
		expect(ann.Post("/confirm", url.Values{"password": {annPassword}, "next": {"/account"}}), http.StatusSeeOther, "/account")
		expect(ann.Get("/account"), http.StatusOK, "")
	})

	t.Run("logout", func(t *testing.T) {
		stolen := ann.Cookie("latch_remember")
		if stolen == "" {
			t.Fatal("no remember-me cookie")
		}
		expect(ann.Post("/logout", nil), http.StatusSeeOther, "/")
		expect(ann.Get("/orders"), http.StatusSeeOther, "/login?next=%2Forders")
		thief := latchtest.NewBrowser(t, srv)
		thief.SetCookie("latch_remember", stolen)
		expect(thief.Get("/orders"), http.StatusSeeOther, "/login?next=%2Forders")
	})

	t.Run("imported hash upgraded", func(t *testing.T) {
		bob := latchtest.NewBrowser(t, srv)
		expect(bob.Post("/login", url.Values{"email": {"bob@shop.example"}, "password": {bobPassword}}), http.StatusSeeOther, "/orders")
		var h string
		if err := db.QueryRowContext(ctx, `SELECT pw_hash FROM users WHERE email = 'bob@shop.example'`).Scan(&h); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "$argon2id$") {
			t.Errorf("bob's werkzeug hash was not upgraded: %.20s…", h)
		}
		bob.Post("/logout", nil)
		expect(bob.Post("/login", url.Values{"email": {"bob@shop.example"}, "password": {bobPassword}}), http.StatusSeeOther, "/orders")
	})

	t.Run("guessing", func(t *testing.T) {
		mallory := latchtest.NewBrowser(t, srv)
		var res *latchtest.Response
		for i := range 11 {
			res = mallory.Post("/login", url.Values{"email": {"bob@shop.example"}, "password": {fmt.Sprint("guess", i)}})
		}
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "1" {
			t.Errorf("the 11th guess: %d, Retry-After %q; want 429 after 1s", res.StatusCode, res.Header.Get("Retry-After"))
		}
		// The account's owner is held up too, for at most a minute: no
		// lockout.
		res = latchtest.NewBrowser(t, srv).Post("/login", url.Values{"email": {"bob@shop.example"}, "password": {bobPassword}})
		if res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("bob right after the guesses: %d", res.StatusCode)
		}
	})

	// Rows of the shop's own tables changed only where the shop wrote
	// (bob's upgraded hash); latch's rows are in its own tables.
	if n := latchRows("latch_sessions"); n == 0 {
		t.Error("no session rows in latch_sessions")
	}
	var guest string
	if err := db.QueryRowContext(ctx, `SELECT cart FROM sessions WHERE id = 'guest-1'`).Scan(&guest); err != nil || guest != "socks" {
		t.Errorf("the shop's own sessions table: %q, %v", guest, err)
	}
}

// snapshot is every row of the shop's own tables, as text.
func snapshot(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, email, pw_hash FROM users ORDER BY id`,
		`SELECT id, user_id, total FROM orders ORDER BY id`,
		`SELECT id, version_id, is_applied FROM goose_db_version ORDER BY id`,
		`SELECT id, cart FROM sessions ORDER BY id`,
	} {
		rows, err := db.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%v\n", vals)
		}
		rows.Close()
	}
	return b.String()
}
