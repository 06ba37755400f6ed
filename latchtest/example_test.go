package latchtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/latchtest"
	"github.com/latchgo/latch/memstore"
)

// A test of a page behind RequireLogin, logged in with one call, as with
// Flask-Login's FlaskLoginClient.
func Example() {
	t := &testing.T{} // in a real test: the test's own t
	m := latch.New(memstore.New(), func(_ context.Context, id string) (*user, error) {
		return &user{id: id, active: true}, nil
	})
	page := m.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		fmt.Fprint(w, "hello ", u.id)
	}))
	srv := httptest.NewServer(m.Handler(page))
	defer srv.Close()

	client := latchtest.Client(t, m, srv, &user{id: "42", active: true})
	res, _ := client.Get(srv.URL + "/")
	fmt.Println(res.StatusCode)
	res.Body.Close()

	rec := httptest.NewRecorder()
	m.Handler(page).ServeHTTP(rec, latchtest.Request(t, m, httptest.NewRequest("GET", "/", nil), &user{id: "7", active: true}))
	fmt.Println(rec.Body.String())
	// Output:
	// 200
	// hello 7
}

// A whole flow through the login form: log in with "remember me", restart
// the browser, and still be logged in.
func ExampleBrowser() {
	t := &testing.T{} // in a real test: the test's own t
	alice := &user{id: "1", active: true}
	m := latch.New(memstore.New(), func(_ context.Context, id string) (*user, error) { return alice, nil })
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// A real form checks the password first (package guard).
		if err := m.LoginUser(w, r, alice, latch.Remember(r.PostFormValue("remember") != "")); err != nil {
			http.Error(w, "cannot log in", http.StatusForbidden)
			return
		}
		m.RedirectNext(w, r, "/")
	})
	mux.Handle("GET /{$}", m.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s, remembered: %v", alice.id, m.Remembered(r))
	})))
	srv := httptest.NewServer(http.NewCrossOriginProtection().Handler(m.Handler(mux)))
	defer srv.Close()

	b := latchtest.NewBrowser(t, srv)
	res := b.Post("/login", url.Values{"remember": {"1"}})
	fmt.Println(res.StatusCode, res.Header.Get("Location"))
	fmt.Println(b.Get("/").Body)
	b.Restart() // the session cookie is gone, the remember-me cookie is not
	fmt.Println(b.Get("/").Body)
	// Output:
	// 303 /
	// hello 1, remembered: false
	// hello 1, remembered: true
}
