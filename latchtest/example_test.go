package latchtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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
