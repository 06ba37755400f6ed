package latchtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/latchtest"
	"github.com/latchgo/latch/memstore"
)

// TestBrowser drives a login through the Browser: cookies are kept,
// redirects are not followed, a restart keeps only persistent cookies, a
// copied cookie works like the original, and form posts pass
// CrossOriginProtection while a cross-site one does not.
func TestBrowser(t *testing.T) {
	u := &user{"1", true}
	m := latch.New(memstore.New(), func(_ context.Context, id string) (*user, error) {
		if id == u.id {
			return u, nil
		}
		return nil, latch.ErrNoUser
	})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.LoginUser(w, r, u, latch.Remember(r.PostFormValue("remember") != "")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		latch.Redirect(w, r, "/private")
	})
	mux.Handle("GET /private", m.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "remembered=%v", m.Remembered(r))
	})))
	srv := httptest.NewServer(http.NewCrossOriginProtection().Handler(m.Handler(mux)))
	defer srv.Close()

	for _, remember := range []bool{false, true} {
		t.Run(fmt.Sprint("remember=", remember), func(t *testing.T) {
			b := latchtest.NewBrowser(t, srv)
			form := url.Values{}
			if remember {
				form.Set("remember", "1")
			}
			res := b.Post("/login", form)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/private" {
				t.Fatalf("login: %d to %q, want 303 to /private", res.StatusCode, res.Header.Get("Location"))
			}
			if res := b.Get("/private"); res.Body != "remembered=false" {
				t.Fatalf("after login: %d %q", res.StatusCode, res.Body)
			}
			b.Restart()
			res = b.Get("/private")
			switch {
			case remember && res.Body != "remembered=true":
				t.Errorf("after a restart with remember me: %d %q", res.StatusCode, res.Body)
			case !remember && res.StatusCode != http.StatusSeeOther:
				t.Errorf("after a restart without remember me: %d %q, want 303", res.StatusCode, res.Body)
			}
			if remember {
				copied := latchtest.NewBrowser(t, srv)
				copied.SetCookie("latch_session", b.Cookie("latch_session"))
				if res := copied.Get("/private"); res.StatusCode != http.StatusOK {
					t.Errorf("a copied session cookie: %d", res.StatusCode)
				}
			}
		})
	}
	b := latchtest.NewBrowser(t, srv)
	r := b.Request(http.MethodPost, "/login", strings.NewReader(""))
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := b.Do(r); res.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site post: %d, want 403", res.StatusCode)
	}
	if b.Cookie("latch_session") != "" {
		t.Error("a refused post set a session cookie")
	}
}
