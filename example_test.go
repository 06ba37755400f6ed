package latch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/memstore"
)

// User is an application's own user type. latch needs only GetID; IsActive
// is optional (Flask-Login's UserMixin).
type User struct {
	ID, Name string
	Disabled bool
}

func (u *User) GetID() string  { return u.ID }
func (u *User) IsActive() bool { return !u.Disabled }

var users = map[string]*User{
	"1": {ID: "1", Name: "alice"},
	"2": {ID: "2", Name: "bob", Disabled: true},
}

// loadUser is the user loader (@login_manager.user_loader).
func loadUser(_ context.Context, id string) (*User, error) {
	if u, ok := users[id]; ok {
		return u, nil
	}
	return nil, latch.ErrNoUser
}

// do sends one request through h, carrying the cookies of earlier
// responses like a browser, and returns the response.
type tab struct {
	h       http.Handler
	cookies map[string]string
}

func newTab(h http.Handler) *tab { return &tab{h: h, cookies: map[string]string{}} }

func (t *tab) do(method, target string, header ...string) *http.Response {
	r := httptest.NewRequest(method, target, nil)
	for name, v := range t.cookies {
		r.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	res := w.Result()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(t.cookies, c.Name)
		} else {
			t.cookies[c.Name] = c.Value
		}
	}
	return res
}

// New with a store and a user loader is LoginManager(); wrapping the
// application's handler with Handler is init_app(app).
func ExampleNew() {
	store := memstore.New() // or sqlite.Open, postgres.Open, …
	m := latch.New(store, loadUser)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if u, ok := m.CurrentUser(r); ok {
			fmt.Fprintln(w, "hello", u.Name)
			return
		}
		fmt.Fprintln(w, "hello, stranger")
	})
	handler := m.Handler(mux) // every request now knows its user

	res := newTab(handler).do("GET", "/")
	fmt.Print(readAll(res))
	// Output: hello, stranger
}

func readAll(res *http.Response) string {
	var sb strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

// LoginUser is login_user(user, remember=True); LogoutUser is
// logout_user(). Logging in always starts a new session id.
func ExampleManager_LoginUser() {
	m := latch.New(memstore.New(), loadUser)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// … check the password first …
		if err := m.LoginUser(w, r, users["1"], latch.Remember(true)); err != nil {
			http.Error(w, "cannot log in", http.StatusForbidden)
			return
		}
		latch.Redirect(w, r, "/")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		_ = m.LogoutUser(w, r)
		latch.Redirect(w, r, "/")
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		u, ok := m.CurrentUser(r)
		fmt.Fprint(w, ok, " ", u != nil && u.Name == "alice", " ", m.Source(r))
	})
	b := newTab(m.Handler(mux))
	res := b.do("POST", "/login")
	fmt.Println(res.StatusCode, res.Header.Get("Location"), len(res.Cookies()), "cookies")
	fmt.Println(readAll(b.do("GET", "/")))
	b.do("POST", "/logout")
	fmt.Println(readAll(b.do("GET", "/")))
	// Output:
	// 303 / 2 cookies
	// true true session
	// false false none
}

// Inactive users cannot log in (UserMixin.is_active), unless forced.
func ExampleActiveUser() {
	m := latch.New(memstore.New(), loadUser)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(m.LoginUser(w, r, users["2"]))
		fmt.Println(m.LoginUser(w, r, users["2"], latch.Force()))
	}))
	newTab(h).do("POST", "/")
	// Output:
	// latch: user is inactive
	// <nil>
}

// RequireLogin is @login_required: browsers go to the login page with a
// validated next and a flashed message, API clients get 401 JSON, and
// OPTIONS (EXEMPT_METHODS) passes.
func ExampleManager_RequireLogin() {
	m := latch.New(memstore.New(), loadUser)
	m.Login.View = "/login"                          // login_view
	m.Login.Message = "Log in to see your settings." // login_message
	m.Login.MessageCategory = "info"                 // login_message_category
	private := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") })
	h := m.Handler(m.RequireLogin(private))

	res := newTab(h).do("GET", "/settings?tab=2")
	fmt.Println(res.StatusCode, res.Header.Get("Location"))
	res = newTab(h).do("GET", "/settings", "Accept", "application/json")
	fmt.Println(res.StatusCode, strings.TrimSpace(readAll(res)))
	res = newTab(h).do("OPTIONS", "/settings")
	fmt.Println(res.StatusCode)
	// Output:
	// 303 /login?next=%2Fsettings%3Ftab%3D2
	// 401 {"error":"authentication required"}
	// 200
}

// RequireFresh is @fresh_login_required. A login restored from a
// remember-me cookie is not fresh; ConfirmLogin (confirm_login) after the
// password is entered again makes it fresh; IsFresh is login_fresh().
func ExampleManager_RequireFresh() {
	m := latch.New(memstore.New(), loadUser)
	m.Login.RefreshView = "/reauth"
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = m.LoginUser(w, r, users["1"], latch.Remember(true))
	})
	mux.HandleFunc("POST /reauth", func(w http.ResponseWriter, r *http.Request) {
		// … check the password again …
		_ = m.ConfirmLogin(w, r)
	})
	mux.Handle("GET /email", m.RequireFresh(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "change your email here")
	})))
	b := newTab(m.Handler(mux))
	b.do("POST", "/login")
	delete(b.cookies, "latch_session") // the browser restarts; remember me restores the login
	res := b.do("GET", "/email")
	fmt.Println(res.StatusCode, res.Header.Get("Location"))
	b.do("POST", "/reauth")
	fmt.Println(readAll(b.do("GET", "/email")))
	// Output:
	// 303 /reauth?next=%2Femail
	// change your email here
}

// A RequestLoader (@login_manager.request_loader) logs in API clients from
// a header, for that request only.
func ExampleRequestLoader() {
	m := latch.New(memstore.New(), loadUser)
	m.RequestLoader = func(r *http.Request) (*User, error) {
		if r.Header.Get("Authorization") == "Bearer alice-api-token" { // look the token's hash up in real code
			return users["1"], nil
		}
		return nil, latch.ErrNoUser
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := m.CurrentUser(r)
		fmt.Fprint(w, ok && u.Name == "alice", " ", m.Source(r), " fresh=", m.IsFresh(r))
	}))
	fmt.Println(readAll(newTab(h).do("GET", "/api/me", "Authorization", "Bearer alice-api-token")))
	fmt.Println(readAll(newTab(h).do("GET", "/api/me")))
	// Output:
	// true request fresh=false
	// false none fresh=false
}

// CurrentUser is current_user: a typed user and whether there is one (the
// AnonymousUserMixin state is ok == false).
func ExampleManager_CurrentUser() {
	m := latch.New(memstore.New(), loadUser)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := m.CurrentUser(r)
		fmt.Println(ok, u == nil, m.IsAuthenticated(r))
	}))
	newTab(h).do("GET", "/")
	// Output: false true false
}

// Unauthorized and NeedsRefresh replace the default handlers
// (unauthorized_handler, needs_refresh_handler).
func ExampleManager_Unauthorize() {
	m := latch.New(memstore.New(), loadUser)
	m.Unauthorized = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "members only", http.StatusForbidden)
	})
	h := m.Handler(m.RequireLogin(http.NotFoundHandler()))
	res := newTab(h).do("GET", "/members")
	fmt.Println(res.StatusCode, strings.TrimSpace(readAll(res)))
	// Output: 403 members only
}

// Session.Protection is session_protection: "basic" marks the login not
// fresh when the client changes, "strong" ends the session (remember-me
// still logs the user back in).
func ExampleProtection() {
	m := latch.New(memstore.New(), loadUser)
	m.Session.Protection = latch.ProtectionStrong
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) { _ = m.LoginUser(w, r, users["1"]) })
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, m.IsAuthenticated(r)) })
	b := newTab(m.Handler(mux))
	b.do("POST", "/login", "User-Agent", "laptop")
	fmt.Println(readAll(b.do("GET", "/", "User-Agent", "laptop")))
	fmt.Println(readAll(b.do("GET", "/", "User-Agent", "somewhere else")))
	// Output:
	// true
	// false
}

// The remember-me cookie has the knobs of REMEMBER_COOKIE_*; secure
// settings are the defaults.
func ExampleCookie() {
	m := latch.New(memstore.New(), loadUser)
	m.Remember.Cookie.Name = "remember_token"            // REMEMBER_COOKIE_NAME
	m.Remember.Duration = 14 * 24 * time.Hour            // REMEMBER_COOKIE_DURATION
	m.Remember.Cookie.Secure = true                      // REMEMBER_COOKIE_SECURE (sent as __Host-remember_token)
	m.Remember.Cookie.SameSite = http.SameSiteStrictMode // REMEMBER_COOKIE_SAMESITE
	m.Remember.Refresh = false                           // REMEMBER_COOKIE_REFRESH_EACH_REQUEST
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = m.LoginUser(w, r, users["1"], latch.Remember(true))
	}))
	for _, c := range newTab(h).do("POST", "/").Cookies() {
		if strings.Contains(c.Name, "remember") {
			fmt.Println(c.Name, c.MaxAge, c.Secure, c.HttpOnly, c.SameSite == http.SameSiteStrictMode)
		}
	}
	// Output: __Host-remember_token 1209600 true true true
}

// Subscribe is Flask-Login's signals: user_logged_in, user_logged_out,
// user_loaded_from_cookie, user_loaded_from_request, user_unauthorized,
// user_needs_refresh, session_protected.
func ExampleManager_Subscribe() {
	m := latch.New(memstore.New(), loadUser)
	m.Subscribe(func(r *http.Request, e latch.Event[*User]) {
		fmt.Println(e.Kind, e.UserID)
	}, latch.EventLoggedIn, latch.EventLoggedOut)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = m.LoginUser(w, r, users["1"])
		_ = m.LogoutUser(w, r)
	}))
	newTab(h).do("POST", "/")
	// Output:
	// logged_in 1
	// logged_out 1
}

// LoginURL is login_url(login_view, next_url, next_field): an unsafe next
// is dropped.
func ExampleLoginURL() {
	fmt.Println(latch.LoginURL("/login", "/user/alice?tab=1"))
	fmt.Println(latch.LoginURL("/login", "//evil.example/"))
	fmt.Println(latch.LoginURL("/login", "/user/alice", "return_to"))
	// Output:
	// /login?next=%2Fuser%2Falice%3Ftab%3D1
	// /login
	// /login?return_to=%2Fuser%2Falice
}

// Login.NextField names the parameter the manager's redirects, Next and
// RedirectNext use (next_field).
func ExampleLoginConfig_nextField() {
	m := latch.New(memstore.New(), loadUser)
	m.Login.NextField = "return_to"
	mux := http.NewServeMux()
	mux.Handle("GET /private", m.RequireLogin(http.NotFoundHandler()))
	b := newTab(m.Handler(mux))
	fmt.Println(b.do("GET", "/private").Header.Get("Location"))
	// Output:
	// /login?return_to=%2Fprivate
}

// Login.Areas sends each part of a site to its own login page
// (blueprint_login_views): the longest matching path prefix wins.
func ExampleLoginConfig_areas() {
	m := latch.New(memstore.New(), loadUser)
	m.Login.Areas = map[string]string{"/admin/": "/admin/login"}
	mux := http.NewServeMux()
	mux.Handle("GET /admin/users", m.RequireLogin(http.NotFoundHandler()))
	mux.Handle("GET /orders", m.RequireLogin(http.NotFoundHandler()))
	b := newTab(m.Handler(mux))
	fmt.Println(b.do("GET", "/admin/users").Header.Get("Location"))
	fmt.Println(b.do("GET", "/orders").Header.Get("Location"))
	// Output:
	// /admin/login?next=%2Fadmin%2Fusers
	// /login?next=%2Forders
}

// Login.Localize translates the login and refresh messages for the
// request that shows them (localize_callback).
func ExampleLoginConfig_localize() {
	m := latch.New(memstore.New(), loadUser)
	m.Login.Localize = func(r *http.Request, key, message string) string {
		if strings.HasPrefix(r.Header.Get("Accept-Language"), "de") && key == "login" {
			return "Bitte melden Sie sich an, um diese Seite zu sehen."
		}
		return message
	}
	mux := http.NewServeMux()
	mux.Handle("GET /private", m.RequireLogin(http.NotFoundHandler()))
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		flashes, _ := m.Flashes(w, r)
		for _, f := range flashes {
			fmt.Println(f.Message)
		}
	})
	for _, lang := range []string{"de-CH", "en"} {
		b := newTab(m.Handler(mux))
		b.do("GET", "/private", "Accept-Language", lang)
		b.do("GET", "/login", "Accept-Language", lang)
	}
	// Output:
	// Bitte melden Sie sich an, um diese Seite zu sehen.
	// Please log in to access this page.
}

// Next and RedirectNext carry the page to return to through the login
// form: the same validation for the GET that shows the form (its hidden
// field) and the POST that submits it.
func ExampleManager_Next() {
	m := latch.New(memstore.New(), loadUser)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("hidden field: %q\n", m.Next(r))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if err := m.LoginUser(w, r, users["1"]); err != nil {
			http.Error(w, "login failed", http.StatusInternalServerError)
			return
		}
		m.RedirectNext(w, r, "/")
	})
	b := newTab(m.Handler(mux))
	b.do("GET", "/login?next=%2Fuser%2Falice")
	b.do("GET", "/login?next=%2F%2Fevil.example")
	fmt.Println(b.do("POST", "/login?next=%2Fuser%2Falice").Header.Get("Location"))
	fmt.Println(b.do("POST", "/login?next=https://evil.example").Header.Get("Location"))
	// Output:
	// hidden field: "/user/alice"
	// hidden field: ""
	// /user/alice
	// /
}

// Remembered tells a login restored from "remember me" from one where the
// password was entered (login_remembered), on every request of the
// session the restore started.
func ExampleManager_Remembered() {
	m := latch.New(memstore.New(), loadUser)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = m.LoginUser(w, r, users["1"], latch.Remember(true))
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("remembered:", m.Remembered(r))
	})
	b := newTab(m.Handler(mux))
	b.do("POST", "/login")
	b.do("GET", "/")
	delete(b.cookies, "latch_session") // the browser restarts
	b.do("GET", "/")
	b.do("GET", "/")
	// Output:
	// remembered: false
	// remembered: true
	// remembered: true
}

// SafeNext decides which "next" values may be redirected to.
func ExampleSafeNext() {
	for _, next := range []string{"/user/alice", "//evil.example", "/\\evil.example", "https://evil.example", " /x"} {
		target, ok := latch.SafeNext(next)
		fmt.Printf("%q %v %q\n", next, ok, target)
	}
	// Output:
	// "/user/alice" true "/user/alice"
	// "//evil.example" false ""
	// "/\\evil.example" false ""
	// "https://evil.example" false ""
	// " /x" false ""
}

// With Login.UseSessionForNext (USE_SESSION_FOR_NEXT) the page to return to is
// kept in the session instead of the login URL.
func ExampleManager_NextFromSession() {
	m := latch.New(memstore.New(), loadUser)
	m.Login.UseSessionForNext = true
	mux := http.NewServeMux()
	mux.Handle("GET /private", m.RequireLogin(http.NotFoundHandler()))
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		next, _ := m.NextFromSession(w, r)
		_ = m.LoginUser(w, r, users["1"])
		if next == "" {
			next = "/"
		}
		latch.Redirect(w, r, next)
	})
	b := newTab(m.Handler(mux))
	fmt.Println(b.do("GET", "/private").Header.Get("Location"))
	fmt.Println(b.do("POST", "/login").Header.Get("Location"))
	// Output:
	// /login
	// /private
}

// AddFlash and Flashes are flash() and get_flashed_messages().
func ExampleManager_AddFlash() {
	m := latch.New(memstore.New(), loadUser)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signup", func(w http.ResponseWriter, r *http.Request) {
		_ = m.AddFlash(w, r, "success", "Account created.")
		latch.Redirect(w, r, "/login")
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		flashes, _ := m.Flashes(w, r)
		for _, f := range flashes {
			fmt.Fprintf(w, "[%s] %s\n", f.Category, f.Message)
		}
	})
	b := newTab(m.Handler(mux))
	b.do("POST", "/signup")
	fmt.Print(readAll(b.do("GET", "/login")))
	fmt.Print(readAll(b.do("GET", "/login")), "(shown once)\n")
	// Output:
	// [success] Account created.
	// (shown once)
}

// Member is a user type with a credential epoch: one integer column in the
// application's users table.
type Member struct {
	ID    string
	Epoch int64
}

func (m *Member) GetID() string          { return m.ID }
func (m *Member) CredentialEpoch() int64 { return m.Epoch }

// A user type that implements RevocableUser can end every session and
// remember-me token of a user with one write: raising the epoch. What was
// issued before is refused on its next request, even if deleting it
// failed or a request in flight tried to save it again.
func ExampleRevocableUser() {
	members := map[string]*Member{"7": {ID: "7"}}
	m := latch.New(memstore.New(), func(_ context.Context, id string) (*Member, error) {
		if u, ok := members[id]; ok {
			cp := *u // a fresh read of the row, as a database gives
			return &cp, nil
		}
		return nil, latch.ErrNoUser
	})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.LoginUser(w, r, members["7"], latch.Remember(true)); err != nil {
			http.Error(w, "login failed", http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		u, ok := m.CurrentUser(r)
		fmt.Println("logged in:", ok && u.ID == "7")
	})
	laptop := newTab(m.Handler(mux))
	laptop.do("POST", "/login")
	laptop.do("GET", "/whoami")

	// The password changes somewhere else:
	//   UPDATE members SET password_hash = $1, credential_epoch = credential_epoch + 1 WHERE id = $2
	members["7"].Epoch++

	laptop.do("GET", "/whoami")
	// Output:
	// logged in: true
	// logged in: false
}
