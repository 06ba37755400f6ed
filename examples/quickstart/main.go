// Command quickstart is an application with its own users table that adds
// latch for logins: sessions, "remember me", a page that needs a login,
// and a login form guarded against guessing.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"strconv"

	_ "modernc.org/sqlite" // the "sqlite" driver for the application's own queries

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/guard"
	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/sqlite"
	"github.com/latchgo/latch/throttle"
)

// User is a row of the application's own users table. latch needs GetID.
type User struct {
	ID     int64
	Email  string
	PwHash string
}

func (u *User) GetID() string { return strconv.FormatInt(u.ID, 10) }

func main() {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "app.db?_pragma=busy_timeout(10000)") // your database
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS users (
		id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, pw_hash TEXT NOT NULL)`)
	if err != nil {
		log.Fatal(err)
	}
	store, err := sqlite.Open(ctx, "app.db") // latch's own tables, beside yours
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", newApp(db, store)))
}

func newApp(db *sql.DB, store *sqlite.Store) http.Handler {
	const byID, byEmail = `SELECT id, email, pw_hash FROM users WHERE id = ?`,
		`SELECT id, email, pw_hash FROM users WHERE email = ?`
	userBy := func(ctx context.Context, query, value string) (*User, error) {
		u := &User{}
		return u, db.QueryRowContext(ctx, query, value).Scan(&u.ID, &u.Email, &u.PwHash)
	}
	m := latch.New(store, func(ctx context.Context, id string) (*User, error) {
		u, err := userBy(ctx, byID, id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, latch.ErrNoUser // the session that named this user ends
		}
		return u, err
	})
	logins := guard.New(store, password.NewHasher(password.DefaultParams))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		loginForm.Execute(w, m.Next(r)) // the page to return to, validated
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var u *User
		_, err := logins.Check(r.Context(), r.PostFormValue("email"), r.PostFormValue("password"), latch.RemoteIP(r),
			func(ctx context.Context) (string, error) {
				var err error
				if u, err = userBy(ctx, byEmail, r.PostFormValue("email")); errors.Is(err, sql.ErrNoRows) {
					return "", guard.ErrUnknownAccount
				}
				return u.PwHash, err
			})
		var limited *throttle.LimitError
		switch {
		case errors.Is(err, guard.ErrBadCredentials):
			http.Error(w, "Wrong email or password.", http.StatusUnprocessableEntity)
			return
		case errors.As(err, &limited):
			w.Header().Set("Retry-After", strconv.Itoa(throttle.RetryAfterSeconds(limited.RetryAfter)))
			http.Error(w, "Too many attempts: try again later.", http.StatusTooManyRequests)
			return
		case err != nil: // the database, or too many logins at once for the hasher
			log.Printf("login: %v", err)
			http.Error(w, "Please try again in a moment.", http.StatusServiceUnavailable)
			return
		}
		if err := m.LoginUser(w, r, u, latch.Remember(r.PostFormValue("remember") != "")); err != nil {
			log.Printf("login: %v", err)
			http.Error(w, "Please try again in a moment.", http.StatusInternalServerError)
			return
		}
		m.RedirectNext(w, r, "/profile")
	})
	mux.Handle("GET /profile", m.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r) // a *User, no type assertion
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Hello, %s!\n", u.Email)
	})))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogoutUser(w, r); err != nil {
			log.Printf("logout: %v", err)
			http.Error(w, "Please try again in a moment.", http.StatusInternalServerError)
			return
		}
		latch.Redirect(w, r, "/login")
	})
	return http.NewCrossOriginProtection().Handler(m.Handler(mux))
}

var loginForm = template.Must(template.New("login").Parse(`<!doctype html><title>Log in</title>
<form method="post" action="/login"><input type="hidden" name="next" value="{{.}}">
<input name="email" type="email" autocomplete="username">
<input name="password" type="password" autocomplete="current-password">
<label><input name="remember" type="checkbox"> Remember me</label> <button>Log in</button></form>`))
