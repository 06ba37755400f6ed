// Command shop is an application that keeps its own users (a users table
// with id, email and pw_hash) and adds latch for logins: sessions,
// "remember me", pages that need a login or a fresh one, and a login form
// guarded against guessing. latch's tables go beside the shop's, in the
// same SQLite file or PostgreSQL schema.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/guard"
	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/postgres"
	"github.com/latchgo/latch/sqlite"
	"github.com/latchgo/latch/throttle"
)

// User is a row of the shop's own users table. latch needs GetID.
type User struct {
	ID     int64
	Email  string
	PwHash string
}

func (u *User) GetID() string { return strconv.FormatInt(u.ID, 10) }

// Shop is the application: its own database, latch's session store, the
// login manager and the login form's guard.
type Shop struct {
	db    *sql.DB
	store Store
	m     *latch.Manager[*User]
	guard *guard.Guard
}

// Store is what the shop needs of latch's sqlite or postgres Store.
type Store interface {
	latch.Store    // sessions and remember-me tokens
	throttle.Store // the guard's attempts
	Close() error
}

func main() {
	dsn := flag.String("database", "shop.db", "a SQLite file, or a postgres:// URL")
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve on")
	flag.Parse()
	shop, err := Open(context.Background(), *dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer shop.Close()
	log.Printf("shop: serving on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, shop.Handler()))
}

// Open opens the shop's database and latch's tables beside its own.
func Open(ctx context.Context, dsn string) (*Shop, error) {
	pg := strings.HasPrefix(dsn, "postgres://")
	driver, conn := "sqlite", dsn+"?_pragma=busy_timeout(10000)"
	if pg {
		driver, conn = "pgx", dsn
	}
	db, err := sql.Open(driver, conn)
	if err != nil {
		return nil, err
	}
	s := &Shop{db: db}
	if pg {
		st, err := postgres.Open(ctx, dsn) // creates latch_sessions, … only
		if err != nil {
			return nil, errors.Join(err, db.Close())
		}
		s.store = st
	} else {
		st, err := sqlite.Open(ctx, dsn) // creates latch_sessions, … only
		if err != nil {
			return nil, errors.Join(err, db.Close())
		}
		s.store = st
	}
	s.m = latch.New(s.store, s.userByID)
	s.m.Login.View = "/login"          // where RequireLogin sends visitors
	s.m.Login.RefreshView = "/confirm" // where RequireFresh sends them
	s.guard = guard.New(s.store, password.NewHasher(password.DefaultParams))
	return s, nil
}

// Close closes both databases.
func (s *Shop) Close() error { return errors.Join(s.store.Close(), s.db.Close()) }

// Handler is the shop's routes, behind latch's middleware and Go's
// protection against cross-origin form posts.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.Handle("GET /orders", s.m.RequireLogin(http.HandlerFunc(s.orders)))
	mux.Handle("GET /confirm", s.m.RequireLogin(http.HandlerFunc(s.confirmForm)))
	mux.Handle("POST /confirm", s.m.RequireLogin(http.HandlerFunc(s.confirm)))
	mux.Handle("GET /account", s.m.RequireFresh(http.HandlerFunc(s.account)))
	return http.NewCrossOriginProtection().Handler(s.m.Handler(mux))
}

// userByID is latch's user loader: the user a session names.
func (s *Shop) userByID(ctx context.Context, id string) (*User, error) {
	u := &User{}
	err := s.db.QueryRowContext(ctx, `SELECT id, email, pw_hash FROM users WHERE id = $1`, id).
		Scan(&u.ID, &u.Email, &u.PwHash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, latch.ErrNoUser // the session ends
	}
	return u, err
}

func (s *Shop) login(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	var u *User
	res, err := s.guard.Check(r.Context(), email, r.PostFormValue("password"), latch.RemoteIP(r),
		func(ctx context.Context) (string, error) {
			u = &User{}
			err := s.db.QueryRowContext(ctx, `SELECT id, email, pw_hash FROM users WHERE lower(email) = lower($1)`, email).
				Scan(&u.ID, &u.Email, &u.PwHash)
			if errors.Is(err, sql.ErrNoRows) {
				return "", guard.ErrUnknownAccount
			}
			return u.PwHash, err
		})
	if s.refused(w, r, err) {
		return
	}
	if res.NewHash != "" { // an old hash (bcrypt, Flask, …) upgraded to argon2id
		if _, err := s.db.ExecContext(r.Context(), `UPDATE users SET pw_hash = $1 WHERE id = $2`, res.NewHash, u.ID); err != nil {
			log.Printf("shop: store the upgraded hash of user %d: %v", u.ID, err)
		}
	}
	if err := s.m.LoginUser(w, r, u, latch.Remember(r.PostFormValue("remember") != "")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.m.RedirectNext(w, r, "/orders")
}

// confirm re-checks the password of a logged-in user (after a login by
// "remember me") and makes the login fresh again.
func (s *Shop) confirm(w http.ResponseWriter, r *http.Request) {
	u, _ := s.m.CurrentUser(r)
	_, err := s.guard.Check(r.Context(), u.Email, r.PostFormValue("password"), latch.RemoteIP(r),
		func(context.Context) (string, error) { return u.PwHash, nil })
	if s.refused(w, r, err) {
		return
	}
	if err := s.m.ConfirmLogin(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	s.m.RedirectNext(w, r, "/account")
}

// refused answers a password check that did not succeed, and reports
// whether it did.
func (s *Shop) refused(w http.ResponseWriter, r *http.Request, err error) bool {
	var limited *throttle.LimitError
	var busy *password.BusyError
	switch {
	case err == nil:
		return false
	case errors.Is(err, guard.ErrBadCredentials):
		s.form(w, r, http.StatusUnprocessableEntity, "Wrong email or password.")
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(throttle.RetryAfterSeconds(limited.RetryAfter)))
		s.form(w, r, http.StatusTooManyRequests, "Too many attempts: wait a little and try again.")
	case errors.As(err, &busy):
		w.Header().Set("Retry-After", strconv.Itoa(throttle.RetryAfterSeconds(busy.RetryAfter)))
		s.form(w, r, http.StatusServiceUnavailable, "We are busy: try again in a moment.")
	default:
		s.fail(w, r, err)
	}
	return true
}

func (s *Shop) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.m.LogoutUser(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	latch.Redirect(w, r, "/")
}

func (s *Shop) orders(w http.ResponseWriter, r *http.Request) {
	u, _ := s.m.CurrentUser(r) // a *User: RequireLogin let only users through
	rows, err := s.db.QueryContext(r.Context(), `SELECT id, total FROM orders WHERE user_id = $1 ORDER BY id`, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rows.Close()
	var list []string
	for rows.Next() {
		var id, total int64
		if err := rows.Scan(&id, &total); err != nil {
			s.fail(w, r, err)
			return
		}
		list = append(list, fmt.Sprintf("Order %d: %d.%02d €", id, total/100, total%100))
	}
	if err := rows.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, http.StatusOK, "Your orders", list)
}

func (s *Shop) account(w http.ResponseWriter, r *http.Request) {
	u, _ := s.m.CurrentUser(r)
	s.page(w, r, http.StatusOK, "Your account", []string{"Email: " + u.Email})
}

// fail answers an error the visitor cannot fix, without its details.
func (s *Shop) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, latch.ErrInactive) {
		s.form(w, r, http.StatusForbidden, "This account is disabled.")
		return
	}
	log.Printf("shop: %s %s: %v", r.Method, r.URL.Path, err)
	http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
}
