package site

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

func (s *Site) index(w http.ResponseWriter, r *http.Request) {
	v := &view{Title: "Home"}
	if _, in := s.auth.CurrentUser(r); !in && r.URL.Query().Has("logged-out") {
		v.LoggedOut = true
	}
	s.render(w, r, http.StatusOK, "index", v)
}

// parseForm parses a urlencoded body. A body over the limit is a 413, a
// malformed one a 400; both end the request.
func (s *Site) parseForm(w http.ResponseWriter, r *http.Request) bool {
	err := r.ParseForm()
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.errorPage(w, r, http.StatusRequestEntityTooLarge)
	} else {
		s.errorPage(w, r, http.StatusBadRequest)
	}
	return false
}

// formValue returns the first value of a posted field. Only the body
// counts (not the query string), and only the first of repeated fields
// (ASVS 15.3.7), so every handler sees one well-defined value.
func formValue(r *http.Request, key string) string {
	return r.PostForm.Get(key)
}

// echo prepares a value typed by the user to be shown again in the form:
// valid UTF-8 and bounded, so a hostile value cannot bloat the page.
func echo(s string) string {
	const max = 256
	if len(s) > max {
		s = s[:max]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// nextParam is the validated "next" of a login form: from the query string
// on GET, from the hidden field on POST. An unsafe value is dropped and
// logged: it is most likely an open-redirect attempt (ASVS 16.3.3).
func (s *Site) nextParam(r *http.Request) string {
	raw := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		raw = formValue(r, "next")
	}
	next, ok := latch.SafeNext(raw)
	if !ok && raw != "" {
		s.log(r).Warn("unsafe next refused", "path", r.URL.Path, "next", echo(raw), "ip", s.clientIP(r))
	}
	return next
}

func (s *Site) signupForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signup", &view{Title: "Sign up"})
}

func (s *Site) signup(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	in := account.SignUpInput{
		Username: strings.TrimSpace(formValue(r, "username")),
		Email:    formValue(r, "email"),
		Password: formValue(r, "password"),
	}
	v := &view{Title: "Sign up", Form: map[string]string{"username": echo(in.Username), "email": echo(in.Email)}}
	u, err := s.accounts.SignUp(r.Context(), in, s.clientIP(r))
	var invalid *account.ValidationError
	switch {
	case err == nil:
		if s.recovery != nil {
			// The account exists whether or not the mail goes out; a
			// failure here is logged and the user can ask again.
			if err := s.recovery.SendConfirmation(r.Context(), u, s.clientIP(r)); err != nil {
				s.log(r).Warn("send confirmation", "err", err, "user_id", u.ID)
			}
		}
	case errors.As(err, &invalid):
		v.Errors = invalid.Fields
		s.render(w, r, http.StatusUnprocessableEntity, "signup", v)
		return
	default:
		s.formFailure(w, r, "signup", v, err)
		return
	}
	msg := "Your account is ready. Log in to continue."
	if s.recovery != nil {
		msg = "Your account is ready. We sent a link to " + u.Email + " to confirm the address; log in to continue."
	}
	if err := s.auth.AddFlash(w, r, "success", msg); err != nil {
		s.serverError(w, r, err)
		return
	}
	// The login form shows the new address, so only the password is left
	// to type.
	if err := s.auth.Put(w, r, signedUpKey, u.Email); err != nil {
		s.serverError(w, r, err)
		return
	}
	latch.Redirect(w, r, "/login")
}

// signedUpKey holds, for the login form that follows a sign-up, the new
// account's email address.
const signedUpKey = "site.signed_up"

// formFailure answers the errors a form submission shares: rate limits
// (429), a saturated password hasher (503), anything else (503 page).
func (s *Site) formFailure(w http.ResponseWriter, r *http.Request, page string, v *view, err error) {
	if secs, ok := limited(err); ok {
		retryAfter(w, secs)
		v.Errors = map[string]string{"form": "Too many attempts. Please wait " + seconds(secs) + " and try again."}
		s.render(w, r, http.StatusTooManyRequests, page, v)
		return
	}
	if secs, ok := busy(err); ok {
		retryAfter(w, secs)
		v.Errors = map[string]string{"form": "The server is busy right now. Please try again in a moment."}
		s.render(w, r, http.StatusServiceUnavailable, page, v)
		return
	}
	s.serverError(w, r, err)
}

// seconds says how long to wait in words.
func seconds(n int) string {
	switch {
	case n == 1:
		return "1 second"
	case n < 120:
		return strconv.Itoa(n) + " seconds"
	default:
		return strconv.Itoa((n+59)/60) + " minutes"
	}
}

func (s *Site) loginForm(w http.ResponseWriter, r *http.Request) {
	v := &view{Title: "Log in", Next: s.nextParam(r)}
	if email, err := s.auth.Pop(w, r, signedUpKey); err == nil && email != "" {
		v.Form = map[string]string{"email": email}
		v.SignedUp = true
	}
	s.render(w, r, http.StatusOK, "login", v)
}

func (s *Site) login(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	email, pw := formValue(r, "email"), formValue(r, "password")
	remember := formValue(r, "remember") != ""
	v := &view{Title: "Log in", Next: s.nextParam(r), Form: map[string]string{"email": echo(email)}}
	if remember {
		v.Form["remember"] = "1"
	}
	if strings.TrimSpace(email) == "" || pw == "" {
		v.Errors = map[string]string{"form": "Enter your email and password."}
		s.render(w, r, http.StatusUnprocessableEntity, "login", v)
		return
	}
	u, err := s.accounts.Authenticate(r.Context(), email, pw, s.clientIP(r))
	switch {
	case err == nil:
	case errors.Is(err, account.ErrBadCredentials):
		v.Errors = map[string]string{"form": "Wrong email or password."}
		s.render(w, r, http.StatusUnprocessableEntity, "login", v)
		return
	case errors.Is(err, account.ErrInactive):
		v.Errors = map[string]string{"form": "This account is disabled."}
		s.render(w, r, http.StatusUnprocessableEntity, "login", v)
		return
	case errors.Is(err, account.ErrUnconfirmed):
		v.Errors = map[string]string{"form": "Confirm your email address first: open the link we sent you."}
		v.Unconfirmed = true
		s.render(w, r, http.StatusUnprocessableEntity, "login", v)
		return
	default:
		s.formFailure(w, r, "login", v, err)
		return
	}
	if u.TwoFactor() && s.twoFactor != nil {
		s.startSecondStep(w, r, u, remember, v.Next)
		return
	}
	if err := s.logIn(w, r, u, remember); err != nil {
		s.serverError(w, r, err)
		return
	}
	redirectNext(w, r, v.Next)
}

// logIn logs u in on this browser. Like the session, the state an
// anonymous visitor left in the browser does not carry over into the
// login: the mailed-link tokens waiting in their cookies are dropped.
func (s *Site) logIn(w http.ResponseWriter, r *http.Request, u *account.User, remember bool) error {
	if err := s.auth.LoginUser(w, r, u, latch.Remember(remember)); err != nil {
		return err
	}
	s.dropLinkTokens(w, r, linkPages...)
	return nil
}

// redirectNext sends the browser on to next, a value SafeNext has already
// accepted, or to the home page.
func redirectNext(w http.ResponseWriter, r *http.Request, next string) {
	if next == "" {
		next = "/"
	}
	latch.Redirect(w, r, next)
}

func (s *Site) reauthForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "reauth", &view{Title: "Confirm it’s you", Next: s.nextParam(r)})
}

func (s *Site) reauth(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u, _ := s.auth.CurrentUser(r)
	v := &view{Title: "Confirm it’s you", Next: s.nextParam(r)}
	err := s.accounts.CheckPassword(r.Context(), u, formValue(r, "password"), s.clientIP(r))
	if err == nil && u.TwoFactor() && s.twoFactor != nil {
		// A full re-authentication asks for every factor (ASVS 7.5.1).
		if _, err = s.twoFactor.Verify(r.Context(), u, formValue(r, "code")); errors.Is(err, account.ErrBadCode) {
			s.audit(r, u.ID, "2fa_failed", "")
			err = account.ErrBadCredentials
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, account.ErrBadCredentials):
		v.Errors = map[string]string{"form": "Wrong password or code."}
		s.render(w, r, http.StatusUnprocessableEntity, "reauth", v)
		return
	default:
		s.formFailure(w, r, "reauth", v, err)
		return
	}
	if err := s.auth.ConfirmLogin(w, r); err != nil {
		s.serverError(w, r, err)
		return
	}
	// The page this leads to need not ask for the password a second time.
	if err := s.auth.Put(w, r, reauthKey, strconv.FormatInt(s.auth.Now().Unix(), 10)); err != nil {
		s.serverError(w, r, err)
		return
	}
	redirectNext(w, r, v.Next)
}

// reauthKey holds when the user last confirmed their password on /reauth.
const reauthKey = "site.reauth"

// reauthTTL is how long after /reauth the password change takes that
// confirmation instead of the current password.
const reauthTTL = 5 * time.Minute

// justConfirmed reports whether the user entered their password on
// /reauth within reauthTTL, in this session.
func (s *Site) justConfirmed(r *http.Request) bool {
	at, err := strconv.ParseInt(s.auth.Get(r, reauthKey), 10, 64)
	return err == nil && s.auth.IsFresh(r) && s.auth.Now().Sub(time.Unix(at, 0)) < reauthTTL
}

// logoutForm shows a button: GET never logs out, so a link or an image on
// another site cannot log the visitor out.
func (s *Site) logoutForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "logout", &view{Title: "Log out"})
}

func (s *Site) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.auth.LogoutUser(w, r); err != nil {
		s.serverError(w, r, err)
		return
	}
	// The home page says so. Not a flash: logging out clears the site's
	// cookies (Clear-Site-Data), a new session's among them.
	latch.Redirect(w, r, "/?logged-out")
}

func (s *Site) profile(w http.ResponseWriter, r *http.Request) {
	p, ok := s.profileUser(w, r)
	if !ok {
		return
	}
	me, _ := s.auth.CurrentUser(r)
	s.render(w, r, http.StatusOK, "profile", &view{Title: p.Username, Profile: p, Own: me != nil && me.ID == p.ID})
}

// profileUser finds the user a /user/{username} page shows; for a name
// that is not a valid username, or nobody's, it answers 404 and reports
// false.
func (s *Site) profileUser(w http.ResponseWriter, r *http.Request) (*account.User, bool) {
	name := r.PathValue("username")
	if account.ValidateUsername(name) != "" {
		s.errorPage(w, r, http.StatusNotFound)
		return nil, false
	}
	p, err := s.profiles.lookup(r.Context(), name, s.accounts.Store().UserByUsername)
	if errors.Is(err, account.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound)
		return nil, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return nil, false
	}
	return p, true
}

// apiMe answers the current user as JSON, for a session cookie or an
// "Authorization: Bearer" API token alike.
func (s *Site) apiMe(w http.ResponseWriter, r *http.Request) {
	u, ok := s.auth.CurrentUser(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="latch"`)
		latch.WriteJSONError(w, http.StatusUnauthorized, "authentication required")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		ID        string `json:"id"`
		Username  string `json:"username"`
		Email     string `json:"email"`
		CreatedAt string `json:"created_at"`
	}{u.ID, u.Username, u.Email, u.CreatedAt.UTC().Format(time.RFC3339)})
}
