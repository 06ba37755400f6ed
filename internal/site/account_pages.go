package site

import (
	"errors"
	"net/http"
	"strings"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

// accountRoutes registers the account pages of the features the site was
// built with.
func (s *Site) accountRoutes(mux *http.ServeMux) {
	login := func(h http.HandlerFunc) http.Handler { return s.auth.RequireLogin(h) }
	// Changing what protects the account needs a fresh login: the
	// password entered in this session, not a remember-me cookie or a
	// session left open on a shared computer (ASVS 7.5.1).
	fresh := func(h http.HandlerFunc) http.Handler { return s.auth.RequireFresh(h) }

	mux.Handle("GET /account", login(s.accountPage))
	mux.Handle("GET /account/password", fresh(s.passwordForm))
	mux.Handle("POST /account/password", fresh(s.changePassword))
	mux.Handle("GET /account/delete", fresh(s.deleteForm))
	mux.Handle("POST /account/delete", fresh(s.deleteAccount))
	mux.Handle("GET /account/devices", login(s.devices))
	mux.Handle("POST /account/devices/revoke", fresh(s.revokeDevice))
	mux.Handle("POST /account/devices/revoke-others", fresh(s.revokeOthers))
	if s.recovery != nil {
		mux.HandleFunc("GET /forgot", s.forgotForm)
		mux.HandleFunc("POST /forgot", s.forgot)
		mux.HandleFunc("GET /reset", s.resetForm)
		mux.HandleFunc("POST /reset", s.reset)
		mux.HandleFunc("GET /confirm", s.confirmForm)
		mux.HandleFunc("POST /confirm", s.confirm)
		mux.HandleFunc("GET /confirm/resend", s.resendForm)
		mux.HandleFunc("POST /confirm/resend", s.resend)
		mux.Handle("GET /account/email", fresh(s.emailForm))
		mux.Handle("POST /account/email", fresh(s.changeEmail))
	}
	if s.twoFactor != nil {
		mux.HandleFunc("GET /login/2fa", s.secondStepForm)
		mux.HandleFunc("POST /login/2fa", s.secondStep)
		mux.Handle("GET /account/2fa", fresh(s.twoFactorPage))
		mux.Handle("POST /account/2fa/enable", fresh(s.enableTwoFactor))
		mux.Handle("POST /account/2fa/disable", fresh(s.disableTwoFactor))
		mux.Handle("POST /account/2fa/recovery-codes", fresh(s.replaceRecoveryCodes))
		mux.Handle("POST /account/2fa/recovery-codes.txt", login(s.downloadRecoveryCodes))
	}
	if s.passkeys != nil {
		s.passkeyRoutes(mux)
	}
	if s.tokens != nil {
		mux.Handle("GET /account/tokens", login(s.tokensPage))
		mux.Handle("POST /account/tokens", fresh(s.createToken))
		mux.Handle("POST /account/tokens/{id}/revoke", login(s.revokeToken))
	}
}

// refused logs a request for something that is not the user's own, such
// as another user's session or token (ASVS 16.3.2). The answer is a 404,
// so the log is the only place the attempt shows.
func (s *Site) refused(r *http.Request, userID, why string) {
	s.log(r).Warn("authorization refused", "user_id", userID, "method", r.Method, "path", r.URL.Path, "ip", s.clientIP(r), "why", why)
}

// me is the logged-in user of a request behind RequireLogin.
func (s *Site) me(r *http.Request) *account.User {
	u, _ := s.auth.CurrentUser(r)
	return u
}

// done flashes a success message and redirects (Post/Redirect/Get).
func (s *Site) done(w http.ResponseWriter, r *http.Request, message, target string) {
	if err := s.auth.AddFlash(w, r, "success", message); err != nil {
		s.serverError(w, r, err)
		return
	}
	latch.Redirect(w, r, target)
}

func (s *Site) accountPage(w http.ResponseWriter, r *http.Request) {
	v := &view{Title: "Your account"}
	if s.auditor != nil {
		events, err := s.auditor.Recent(r.Context(), s.me(r).ID, 30)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		v.Events = events
	}
	s.render(w, r, http.StatusOK, "account", v)
}

func (s *Site) passwordForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "account-password", &view{Title: "Change password", NoCurrent: s.justConfirmed(r)})
}

// changePassword needs the current password as well as a fresh login
// (ASVS 6.2.3). The new password is stored with the revocation of every
// credential of the user in one write (the credential epoch): every other
// session, every remember-me token, mailed link and API token ends —
// whoever knew the old password may have made one (CVE-2024-21635) — and
// this session is re-issued under the new epoch.
func (s *Site) changePassword(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u := s.me(r)
	v := &view{Title: "Change password", NoCurrent: s.justConfirmed(r)}
	current, pw, confirm := formValue(r, "current"), formValue(r, "password"), formValue(r, "confirm")
	if pw != confirm {
		v.Errors = map[string]string{"confirm": "The two new passwords differ."}
		s.render(w, r, http.StatusUnprocessableEntity, "account-password", v)
		return
	}
	// The current password, unless it was entered on /reauth a moment ago
	// (ASVS 6.2.3: the change is made by someone who knows it).
	var err error
	if !v.NoCurrent {
		err = s.accounts.CheckPassword(r.Context(), u, current, s.clientIP(r))
	}
	var invalid *account.ValidationError
	switch {
	case err == nil:
		err = s.accounts.ChangePassword(r.Context(), u, pw)
		if errors.As(err, &invalid) {
			v.Errors = invalid.Fields
			s.render(w, r, http.StatusUnprocessableEntity, "account-password", v)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
	case errors.Is(err, account.ErrBadCredentials):
		v.Errors = map[string]string{"current": "Wrong password."}
		s.render(w, r, http.StatusUnprocessableEntity, "account-password", v)
		return
	default:
		s.formFailure(w, r, "account-password", v, err)
		return
	}
	if err := s.auth.RevokeOtherSessions(w, r, u); err != nil {
		s.serverError(w, r, err)
		return
	}
	if s.recovery != nil {
		s.recovery.PasswordChanged(u)
	}
	s.audit(r, u.ID, "password_changed", "")
	s.done(w, r, "Your password is changed. Your other devices were logged out and your API tokens revoked.", "/account")
}

func (s *Site) emailForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "account-email", &view{Title: "Change email"})
}

func (s *Site) changeEmail(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u := s.me(r)
	email := formValue(r, "email")
	v := &view{Title: "Change email", Form: map[string]string{"email": echo(email)}}
	err := s.recovery.RequestEmailChange(r.Context(), u, email, s.clientIP(r))
	var invalid *account.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &invalid):
		v.Errors = invalid.Fields
		s.render(w, r, http.StatusUnprocessableEntity, "account-email", v)
		return
	default:
		s.formFailure(w, r, "account-email", v, err)
		return
	}
	s.audit(r, u.ID, "email_change_request", "")
	s.done(w, r, "We sent a link to your new address. Your email changes when you open it.", "/account")
}

func (s *Site) deleteForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "account-delete", &view{Title: "Delete account"})
}

// deleteAccount needs a fresh login and the username typed out, then
// removes the user and everything of theirs and logs every device out.
func (s *Site) deleteAccount(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u := s.me(r)
	if !strings.EqualFold(strings.TrimSpace(formValue(r, "confirm")), u.Username) {
		s.render(w, r, http.StatusUnprocessableEntity, "account-delete", &view{
			Title: "Delete account", Errors: map[string]string{"confirm": "Type your username exactly to confirm."},
		})
		return
	}
	if err := s.accounts.DeleteUser(r.Context(), u); err != nil && !errors.Is(err, account.ErrNotFound) {
		s.serverError(w, r, err)
		return
	}
	if err := s.auth.LogoutUser(w, r); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log(r).Info("account deleted", "user_id", u.ID)
	latch.Redirect(w, r, "/")
}

func (s *Site) devices(w http.ResponseWriter, r *http.Request) {
	u := s.me(r)
	sessions, err := s.auth.UserSessions(r.Context(), u.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	remembered, err := s.auth.UserRememberTokens(r.Context(), u.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "devices", &view{
		Title: "Devices", Sessions: sessions, Remembered: remembered, Current: s.auth.SessionHash(r),
	})
}

// revokeDevice ends one session (and its remember-me series) or forgets
// one remembered device. Only the user's own can be named.
func (s *Site) revokeDevice(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u := s.me(r)
	var (
		ok  bool
		err error
	)
	switch {
	case formValue(r, "session") != "":
		ok, err = s.auth.RevokeSession(r.Context(), u.ID, formValue(r, "session"))
	case formValue(r, "remember") != "":
		ok, err = s.auth.RevokeRemember(r.Context(), u.ID, formValue(r, "remember"))
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if !ok {
		s.refused(r, u.ID, "no such session or device of this user")
		s.errorPage(w, r, http.StatusNotFound)
		return
	}
	s.audit(r, u.ID, "session_revoked", "")
	s.done(w, r, "That device is logged out.", "/account/devices")
}

// revokeOthers ends every credential of the user but this session: other
// sessions, remember-me tokens, API tokens and mailed links, in one write.
func (s *Site) revokeOthers(w http.ResponseWriter, r *http.Request) {
	u := s.me(r)
	if err := s.accounts.Revoke(r.Context(), u); err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.auth.RevokeOtherSessions(w, r, u); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.audit(r, u.ID, "sessions_revoked", "")
	s.done(w, r, "Every other device is logged out, and your API tokens and emailed links no longer work.", "/account/devices")
}
