// Package latch is a login manager for net/http applications: Flask-Login
// for Go, with secure defaults where Flask-Login leaves holes.
//
// latch remembers who is logged in. The application keeps its own user
// type and its own user table; latch keeps server-side sessions and
// "remember me" tokens in a [Store] (the sqlite, postgres and redis
// packages provide them), loads the current user for every request, and
// guards pages that need one.
//
// # From Flask-Login to latch
//
// The Flask-Login tutorial's application:
//
//	login_manager = LoginManager()
//	login_manager.init_app(app)
//	login_manager.login_view = "login"
//
//	@login_manager.user_loader
//	def load_user(user_id):
//	    return User.query.get(int(user_id))
//
//	@app.route("/login", methods=["POST"])
//	def login():
//	    user = User.query.filter_by(email=request.form["email"]).first()
//	    if user and check_password_hash(user.password, request.form["password"]):
//	        login_user(user, remember="remember" in request.form)
//	        return redirect(url_for("profile"))
//	    flash("Please check your login details and try again.")
//	    return redirect(url_for("login"))
//
//	@app.route("/profile")
//	@login_required
//	def profile():
//	    return render_template("profile.html", name=current_user.name)
//
//	@app.route("/logout")
//	@login_required
//	def logout():
//	    logout_user()
//	    return redirect(url_for("index"))
//
// The same in Go with latch:
//
//	m := latch.New(store, func(ctx context.Context, id string) (*User, error) {
//		return users.ByID(ctx, id) // return latch.ErrNoUser if there is none
//	})
//	m.Login.View = "/login"
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
//		user, err := users.Authenticate(r.Context(), r.FormValue("email"), r.FormValue("password"))
//		if err != nil {
//			m.AddFlash(w, r, "error", "Please check your login details and try again.")
//			latch.Redirect(w, r, "/login")
//			return
//		}
//		m.LoginUser(w, r, user, latch.Remember(r.FormValue("remember") != ""))
//		latch.Redirect(w, r, "/profile")
//	})
//	mux.Handle("GET /profile", m.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		user, _ := m.CurrentUser(r) // a *User, no type assertion
//		render(w, "profile.html", user.Name)
//	})))
//	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
//		m.LogoutUser(w, r)
//		latch.Redirect(w, r, "/")
//	})
//	http.ListenAndServe("127.0.0.1:8080", http.NewCrossOriginProtection().Handler(m.Handler(mux)))
//
// Logout is a POST: a GET that changes state can be triggered by any image
// tag on any site.
//
// users.Authenticate is the application's own password check. Package
// guard wraps one with what a login form needs besides: attempts limited
// per account and per client before the password is checked, the same
// cost for unknown accounts, bounded hashing, and upgrades of hashes
// imported from Flask, Django or bcrypt. The module's examples/quickstart
// and examples/shop are complete applications built so.
//
// # Parity with Flask-Login
//
//	Flask-Login                            latch
//	LoginManager(), init_app(app)          New, Manager.Handler
//	@user_loader                           UserLoader (the second argument of New)
//	@request_loader                        Manager.RequestLoader (RequestLoader)
//	@login_required, EXEMPT_METHODS        Manager.RequireLogin, Manager.ExemptMethods
//	@fresh_login_required                  Manager.RequireFresh
//	confirm_login(), login_fresh()         Manager.ConfirmLogin, Manager.IsFresh
//	login_user(user, remember, duration,   Manager.LoginUser(w, r, u, Remember(b),
//	  force, fresh)                          Duration(d), Force(), Fresh(b))
//	logout_user()                          Manager.LogoutUser
//	current_user, AnonymousUserMixin       Manager.CurrentUser (ok=false: anonymous)
//	UserMixin (get_id, is_active,          User (GetID), ActiveUser (IsActive),
//	  is_authenticated)                      Manager.IsAuthenticated
//	login_view, login_message,             Manager.Login (LoginConfig): View, Message,
//	  login_message_category,                MessageCategory, RefreshView, RefreshMessage,
//	  refresh_view, needs_refresh_*          RefreshMessageCategory
//	blueprint_login_views                  LoginConfig.Areas
//	localize_callback                      LoginConfig.Localize
//	unauthorized_handler,                  Manager.Unauthorized, Manager.NeedsRefresh
//	  needs_refresh_handler                  (call them with Unauthorize, RequestRefresh)
//	session_protection                     Manager.Session.Protection (ProtectionBasic,
//	                                         ProtectionStrong, ProtectionNone)
//	REMEMBER_COOKIE_NAME, _DOMAIN, _PATH,  Manager.Remember.Cookie (Cookie: Name, Domain,
//	  _SECURE, _HTTPONLY, _SAMESITE          Path, Secure, HTTPOnly, SameSite)
//	REMEMBER_COOKIE_DURATION               Manager.Remember.Duration
//	REMEMBER_COOKIE_REFRESH_EACH_REQUEST   Manager.Remember.Refresh
//	login_remembered()                     Manager.Remembered
//	signals (user_logged_in, …)            Manager.Subscribe with EventKind
//	login_url(login_view, next_url,        LoginURL (next validated by SafeNext);
//	  next_field)                            Manager.Next, RedirectNext, LoginConfig.NextField
//	USE_SESSION_FOR_NEXT                   LoginConfig.UseSessionForNext, NextFromSession
//	FlaskLoginClient (tests)               package latchtest
//	flash(), get_flashed_messages()        Manager.AddFlash, Manager.Flashes
//
// # Where latch is stricter than Flask-Login
//
//   - Sessions live on the server; the cookie holds a random 256-bit token
//     and the store only its SHA-256. Logging in, re-authenticating and
//     logging out start a new session id; logging out deletes the session
//     on the server, so a copied cookie stops working.
//   - "Remember me" is a separate cookie holding a selector and a one-time
//     validator (only its hash is stored), rotated at every use. A rotated
//     token presented again after Remember.Grace, or from another device,
//     means the cookie was copied: the whole series and its sessions are
//     revoked. Logout revokes this device's token; RevokeUser and
//     RevokeOtherSessions revoke many.
//   - Revocation is final. A user type that implements RevocableUser (one
//     more integer column in the application's users table) gives every
//     session and remember-me series the user's credential epoch; raising
//     the epoch in one write ends them all on the next request, on every
//     instance, whatever request is in flight. Updates of a loaded session
//     never re-create it, so a request in flight cannot undo a logout.
//   - Visitors without a session cost no store write: the login message
//     for a redirected visitor travels in a small cookie that names it.
//   - "next" targets are validated with SafeNext against every known
//     open-redirect trick, and Redirect sends exactly the validated string.
//   - Idle and absolute session timeouts are on by default, cookies are
//     HttpOnly and SameSite=Lax, and Secure cookies get the __Host- prefix.
//   - A user who is deactivated or deleted loses every session on the next
//     request; inactive users cannot log in, also not through the
//     RequestLoader.
//   - Authenticated responses are marked Cache-Control: no-store, and
//     logout sends Clear-Site-Data.
//
// latch logs nothing itself: it returns errors, calls the ErrorHandler for
// storage failures, and reports what happened through Subscribe.
package latch
