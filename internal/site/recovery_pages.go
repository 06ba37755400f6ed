package site

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

// noReferrer marks pages reached through a secret link: nothing on them
// may send the URL anywhere (ASVS 3.4.5).
func noReferrer(w http.ResponseWriter) { w.Header().Set("Referrer-Policy", "no-referrer") }

// linkTTL bounds how long a link's token waits in its cookie for the form
// to be sent; the token's own expiry is checked by the account package.
const linkTTL = 30 * time.Minute

// linkCookie is the cookie that carries a mailed link's token from the
// link to its form: latch_reset for /reset, latch_confirm for /confirm.
// Opening a link is an anonymous GET, so it must not cost a session row;
// the token leaves the address bar (and the browser history, and any
// Referer) after the first request all the same. Over https it is a
// __Host- cookie like every other, so a sibling subdomain cannot plant a
// token of its choosing.
func (s *Site) linkCookie(page, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{
		Name: "latch_" + strings.TrimPrefix(page, "/"), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.BaseURL.Scheme == "https",
	}
	if c.Secure {
		c.Name = "__Host-" + c.Name
	}
	return c
}

// linkPages are the pages a mailed link opens.
var linkPages = []string{"/reset", "/confirm"}

// takeLinkToken moves a ?token= of a mailed link into the link cookie and
// redirects to the bare path. It reports whether it answered the request.
func (s *Site) takeLinkToken(w http.ResponseWriter, r *http.Request) bool {
	if !r.URL.Query().Has("token") {
		return false
	}
	noReferrer(w)
	tok, ok := account.ParseLinkToken(r.URL.Query().Get("token"))
	if !ok {
		// Keep nothing from a malformed link, but land on the page that
		// explains what went wrong.
		tok = ""
	}
	http.SetCookie(w, s.linkCookie(r.URL.Path, tok, int(linkTTL/time.Second)))
	latch.Redirect(w, r, r.URL.Path)
	return true
}

// linkToken is the token of the link this page was opened from, or "".
func (s *Site) linkToken(r *http.Request) string {
	c, err := r.Cookie(s.linkCookie(r.URL.Path, "", 0).Name)
	if err != nil {
		return ""
	}
	tok, _ := account.ParseLinkToken(c.Value)
	return tok
}

// dropLinkTokens forgets the tokens of mailed links the browser holds:
// the one used by this page, or all of them at a login.
func (s *Site) dropLinkTokens(w http.ResponseWriter, r *http.Request, pages ...string) {
	for _, page := range pages {
		c := s.linkCookie(page, "", -1)
		if _, err := r.Cookie(c.Name); err == nil {
			http.SetCookie(w, c)
		}
	}
}

const invalidLink = "This link is invalid, was already used, or has expired."

func (s *Site) forgotForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "forgot", &view{Title: "Forgot password"})
}

// forgot answers the same for every well-formed address, known or not.
func (s *Site) forgot(w http.ResponseWriter, r *http.Request) {
	s.mailForm(w, r, "forgot", "Forgot password", s.recovery.RequestReset)
}

// mailForm handles the forms that ask for a mail to an address (reset,
// resend confirmation): the same page afterwards whether or not the
// address has an account.
func (s *Site) mailForm(w http.ResponseWriter, r *http.Request, page, title string, request func(ctx context.Context, email, clientIP string) error) {
	if !s.parseForm(w, r) {
		return
	}
	email := formValue(r, "email")
	v := &view{Title: title, Form: map[string]string{"email": echo(email)}}
	err := request(r.Context(), email, s.clientIP(r))
	var invalid *account.ValidationError
	switch {
	case err == nil:
		v.Done = true
		s.render(w, r, http.StatusOK, page, v)
	case errors.As(err, &invalid):
		v.Errors = invalid.Fields
		s.render(w, r, http.StatusUnprocessableEntity, page, v)
	default:
		s.formFailure(w, r, page, v, err)
	}
}

func (s *Site) resetForm(w http.ResponseWriter, r *http.Request) {
	if s.takeLinkToken(w, r) {
		return
	}
	noReferrer(w)
	v := &view{Title: "Choose a new password"}
	if s.linkToken(r) == "" {
		v.Errors = map[string]string{"link": invalidLink}
	}
	s.render(w, r, http.StatusOK, "reset", v)
}

// reset sets the new password, which ends every credential of the account
// (ResetPassword revokes them in the same write), and sends the user to log
// in: a reset link never logs anybody in by itself.
func (s *Site) reset(w http.ResponseWriter, r *http.Request) {
	noReferrer(w)
	if !s.parseForm(w, r) {
		return
	}
	v := &view{Title: "Choose a new password"}
	tok := s.linkToken(r)
	pw, confirm := formValue(r, "password"), formValue(r, "confirm")
	if tok != "" && pw != confirm {
		v.Errors = map[string]string{"confirm": "The two passwords differ."}
		s.render(w, r, http.StatusUnprocessableEntity, "reset", v)
		return
	}
	u, err := s.recovery.ResetPassword(r.Context(), tok, pw, s.twoFactor)
	var invalid *account.ValidationError
	switch {
	case err == nil:
	case errors.Is(err, account.ErrInvalidLink):
		v.Errors = map[string]string{"link": invalidLink}
		s.render(w, r, http.StatusUnprocessableEntity, "reset", v)
		return
	case errors.As(err, &invalid):
		v.Errors = invalid.Fields
		s.render(w, r, http.StatusUnprocessableEntity, "reset", v)
		return
	default:
		s.formFailure(w, r, "reset", v, err)
		return
	}
	s.dropLinkTokens(w, r, r.URL.Path)
	s.audit(r, u.ID, "password_reset", "")
	s.done(w, r, "Your password is changed and every device was logged out. Log in with the new password.", "/login")
}

func (s *Site) confirmForm(w http.ResponseWriter, r *http.Request) {
	if s.takeLinkToken(w, r) {
		return
	}
	noReferrer(w)
	v := &view{Title: "Confirm your email"}
	if s.linkToken(r) == "" {
		v.Errors = map[string]string{"link": invalidLink}
	}
	s.render(w, r, http.StatusOK, "confirm", v)
}

// confirm is a POST behind a button, so a mail scanner that fetches the
// link does not confirm anything by itself.
func (s *Site) confirm(w http.ResponseWriter, r *http.Request) {
	noReferrer(w)
	u, changed, err := s.recovery.Confirm(r.Context(), s.linkToken(r))
	var invalid *account.ValidationError
	switch {
	case err == nil:
	case errors.Is(err, account.ErrInvalidLink):
		s.render(w, r, http.StatusUnprocessableEntity, "confirm", &view{Title: "Confirm your email", Errors: map[string]string{"link": invalidLink}})
		return
	case errors.As(err, &invalid):
		s.render(w, r, http.StatusUnprocessableEntity, "confirm", &view{Title: "Confirm your email", Errors: map[string]string{"link": invalid.Fields["email"]}})
		return
	default:
		s.serverError(w, r, err)
		return
	}
	s.dropLinkTokens(w, r, r.URL.Path)
	target := "/"
	if me, ok := s.auth.CurrentUser(r); ok && me.ID == u.ID {
		target = "/account"
	}
	if changed {
		s.audit(r, u.ID, "email_changed", "")
		s.done(w, r, "Your email address is now "+u.Email+".", target)
		return
	}
	s.audit(r, u.ID, "email_confirmed", "")
	s.done(w, r, "Your email address is confirmed.", target)
}

func (s *Site) resendForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "resend", &view{Title: "Confirm your email"})
}

func (s *Site) resend(w http.ResponseWriter, r *http.Request) {
	s.mailForm(w, r, "resend", "Confirm your email", s.recovery.ResendConfirmation)
}
