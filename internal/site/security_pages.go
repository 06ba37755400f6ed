package site

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

// pendingKey holds a login whose password was right and whose second
// factor is still to come: "userID|epoch|remember|unix time|next". The
// user's credential epoch binds it: a password change or reset between
// the two steps ends it.
const (
	pendingKey = "site.2fa"
	// pendingTTL bounds the time between the two steps.
	pendingTTL = 5 * time.Minute
	totpKey    = "site.totp"
)

type pendingLogin struct {
	userID   string
	epoch    int64
	remember bool
	next     string
}

// startSecondStep remembers a half-done login in the session and sends
// the browser to the code form. The user is not logged in yet.
func (s *Site) startSecondStep(w http.ResponseWriter, r *http.Request, u *account.User, remember bool, next string) {
	rem := "0"
	if remember {
		rem = "1"
	}
	v := strings.Join([]string{u.ID, strconv.FormatInt(u.Epoch, 10), rem, strconv.FormatInt(time.Now().Unix(), 10), next}, "|")
	if err := s.auth.Put(w, r, pendingKey, v); err != nil {
		s.serverError(w, r, err)
		return
	}
	latch.Redirect(w, r, "/login/2fa")
}

func (s *Site) pendingLogin(r *http.Request) (pendingLogin, bool) {
	parts := strings.SplitN(s.auth.Get(r, pendingKey), "|", 5)
	if len(parts) != 5 {
		return pendingLogin{}, false
	}
	epoch, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return pendingLogin{}, false
	}
	at, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || time.Since(time.Unix(at, 0)) > pendingTTL {
		return pendingLogin{}, false
	}
	next, _ := latch.SafeNext(parts[4])
	return pendingLogin{userID: parts[0], epoch: epoch, remember: parts[2] == "1", next: next}, true
}

func (s *Site) secondStepForm(w http.ResponseWriter, r *http.Request) {
	p, ok := s.pendingLogin(r)
	if !ok {
		latch.Redirect(w, r, "/login")
		return
	}
	v := &view{Title: "Two-factor authentication"}
	if s.passkeys != nil {
		// The user's passkeys stand in for the code.
		u, err := s.accounts.Store().UserByID(r.Context(), p.userID)
		if err == nil && u.Epoch == p.epoch {
			if v.Passkeys, err = s.passkeys.List(r.Context(), u); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
	}
	s.render(w, r, http.StatusOK, "twofactor-login", v)
}

// secondStep checks the code and completes the login, which then counts
// as fresh.
func (s *Site) secondStep(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	p, ok := s.pendingLogin(r)
	if !ok {
		if err := s.auth.AddFlash(w, r, "error", "That took too long. Please log in again."); err != nil {
			s.serverError(w, r, err)
			return
		}
		latch.Redirect(w, r, "/login")
		return
	}
	u, err := s.accounts.Store().UserByID(r.Context(), p.userID)
	if err != nil && !errors.Is(err, account.ErrNotFound) {
		s.serverError(w, r, err)
		return
	}
	if err != nil || u.Epoch != p.epoch {
		// Gone, or its credentials were revoked (a password change or
		// reset) since the password step: start again.
		if _, err := s.auth.Pop(w, r, pendingKey); err != nil {
			s.serverError(w, r, err)
			return
		}
		if err := s.auth.AddFlash(w, r, "error", "Please log in again."); err != nil {
			s.serverError(w, r, err)
			return
		}
		latch.Redirect(w, r, "/login")
		return
	}
	v := &view{Title: "Two-factor authentication"}
	recovery, err := s.twoFactor.Verify(r.Context(), u, formValue(r, "code"))
	switch {
	case err == nil:
	case errors.Is(err, account.ErrBadCode):
		s.audit(r, u.ID, "2fa_failed", "")
		v.Errors = map[string]string{"form": "That code is not right. Codes change every 30 seconds and work once."}
		s.render(w, r, http.StatusUnprocessableEntity, "twofactor-login", v)
		return
	default:
		s.formFailure(w, r, "twofactor-login", v, err)
		return
	}
	if err := s.logIn(w, r, u, p.remember); err != nil {
		if errors.Is(err, latch.ErrInactive) {
			latch.Redirect(w, r, "/login")
			return
		}
		s.serverError(w, r, err)
		return
	}
	if recovery {
		s.audit(r, u.ID, "2fa_recovery_used", "")
		left, err := s.twoFactor.RecoveryCodesLeft(r.Context(), u)
		if err == nil {
			msg := fmt.Sprintf("You logged in with a recovery code; %d left.", left)
			if err := s.auth.AddFlash(w, r, "message", msg); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
	}
	redirectNext(w, r, p.next)
}

func (s *Site) twoFactorPage(w http.ResponseWriter, r *http.Request) {
	u := s.me(r)
	v := &view{Title: "Two-factor authentication"}
	if u.TwoFactor() {
		left, err := s.twoFactor.RecoveryCodesLeft(r.Context(), u)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		v.CodesLeft = left
		s.render(w, r, http.StatusOK, "twofactor", v)
		return
	}
	// The proposed secret lives in the session until a code proves the
	// app has it, so reloading the page does not change the QR code.
	secret := s.auth.Get(r, totpKey)
	enrol, err := s.twoFactor.EnrolmentFor(u, secret)
	if secret == "" || err != nil {
		if enrol, err = s.twoFactor.NewEnrolment(u); err != nil {
			s.serverError(w, r, err)
			return
		}
		if err := s.auth.Put(w, r, totpKey, enrol.Secret); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	v.Enrolment = enrol
	s.render(w, r, http.StatusOK, "twofactor", v)
}

func (s *Site) enableTwoFactor(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u := s.me(r)
	secret := s.auth.Get(r, totpKey)
	enrol, err := s.twoFactor.EnrolmentFor(u, secret)
	if err != nil {
		latch.Redirect(w, r, "/account/2fa")
		return
	}
	codes, err := s.twoFactor.Enable(r.Context(), u, secret, formValue(r, "code"))
	switch {
	case err == nil:
	case errors.Is(err, account.ErrBadCode):
		s.render(w, r, http.StatusUnprocessableEntity, "twofactor", &view{
			Title: "Two-factor authentication", Enrolment: enrol,
			Errors: map[string]string{"code": "That code is not right. Check the time on your phone and try the current code."},
		})
		return
	case errors.Is(err, account.ErrTwoFactorOn):
		latch.Redirect(w, r, "/account/2fa")
		return
	default:
		s.serverError(w, r, err)
		return
	}
	if _, err := s.auth.Pop(w, r, totpKey); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.audit(r, u.ID, "2fa_enabled", "")
	s.render(w, r, http.StatusOK, "twofactor", &view{Title: "Two-factor authentication", RecoveryCodes: codes})
}

func (s *Site) disableTwoFactor(w http.ResponseWriter, r *http.Request) {
	u, ok := s.checkCode(w, r, "disable", func(u *account.User, code string) error {
		return s.twoFactor.Disable(r.Context(), u, code)
	})
	if !ok {
		return
	}
	s.audit(r, u.ID, "2fa_disabled", "")
	s.done(w, r, "Two-factor authentication is off.", "/account")
}

// checkCode runs check on the code of a form of the two-factor page and,
// when it fails, answers with the page again (errorField names where the
// message goes) and reports false.
func (s *Site) checkCode(w http.ResponseWriter, r *http.Request, errorField string, check func(*account.User, string) error) (*account.User, bool) {
	if !s.parseForm(w, r) {
		return nil, false
	}
	u := s.me(r)
	v := &view{Title: "Two-factor authentication"}
	err := check(u, formValue(r, "code"))
	switch {
	case err == nil:
		return u, true
	case errors.Is(err, account.ErrBadCode):
		s.audit(r, u.ID, "2fa_failed", "")
		v.Errors = map[string]string{errorField: "That code is not right."}
		v.CodesLeft, _ = s.twoFactor.RecoveryCodesLeft(r.Context(), u)
		s.render(w, r, http.StatusUnprocessableEntity, "twofactor", v)
	case errors.Is(err, account.ErrTwoFactorOff):
		latch.Redirect(w, r, "/account/2fa")
	default:
		s.formFailure(w, r, "twofactor", v, err)
	}
	return nil, false
}

func (s *Site) replaceRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	u, ok := s.checkCode(w, r, "codes", func(u *account.User, code string) error {
		_, err := s.twoFactor.Verify(r.Context(), u, code)
		return err
	})
	if !ok {
		return
	}
	v := &view{Title: "Two-factor authentication"}
	codes, err := s.twoFactor.NewRecoveryCodes(r.Context(), u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.audit(r, u.ID, "2fa_codes_replaced", "")
	v.RecoveryCodes = codes
	s.render(w, r, http.StatusOK, "twofactor", v)
}

// downloadRecoveryCodes answers the recovery codes the page just showed
// as a text file to save. The server keeps no copy of the codes (only
// their hashes), so the page posts them back; anything that is not a
// list of recovery codes is refused.
func (s *Site) downloadRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	codes := r.PostForm["code"]
	if len(codes) == 0 || len(codes) > account.RecoveryCodeCount {
		s.errorPage(w, r, http.StatusBadRequest)
		return
	}
	var b strings.Builder
	b.WriteString("Recovery codes for your account at " + s.cfg.BaseURL.Host + ".\r\n")
	b.WriteString("Each logs you in once, in place of the code from your app.\r\n\r\n")
	for _, c := range codes {
		if !account.IsRecoveryCode(c) {
			s.errorPage(w, r, http.StatusBadRequest)
			return
		}
		b.WriteString(c + "\r\n")
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="recovery-codes.txt"`)
	_, _ = io.WriteString(w, b.String())
}

// loadFromToken is the manager's request loader: an "Authorization:
// Bearer" API token logs its owner in for that request only.
// A refused token is logged (never the token itself): it is a failed
// authentication (ASVS 16.3.1).
func (s *Site) loadFromToken(r *http.Request) (*account.User, error) {
	secret, ok := account.BearerToken(r)
	if !ok {
		if r.Header.Get("Authorization") != "" {
			s.log(r).Warn("API token refused", "why", "not a bearer API token", "ip", s.clientIP(r))
		}
		return nil, latch.ErrNoUser
	}
	u, err := s.tokens.Authenticate(r.Context(), secret)
	if errors.Is(err, account.ErrNotFound) {
		s.log(r).Warn("API token refused", "why", "unknown, expired or of a disabled user", "ip", s.clientIP(r))
		return nil, fmt.Errorf("API token: %w", latch.ErrNoUser)
	}
	return u, err
}

func (s *Site) tokensPage(w http.ResponseWriter, r *http.Request) {
	s.renderTokens(w, r, http.StatusOK, &view{Title: "API tokens"})
}

func (s *Site) renderTokens(w http.ResponseWriter, r *http.Request, status int, v *view) {
	toks, err := s.tokens.List(r.Context(), s.me(r).ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v.Tokens = toks
	s.render(w, r, status, "tokens", v)
}

// tokenTTLs are the lifetimes the form offers.
var tokenTTLs = map[string]time.Duration{"720h": 720 * time.Hour, "2160h": 2160 * time.Hour, "8760h": 8760 * time.Hour, "never": 0}

func (s *Site) createToken(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u := s.me(r)
	name := formValue(r, "name")
	v := &view{Title: "API tokens", Form: map[string]string{"name": echo(name)}}
	ttl, ok := tokenTTLs[formValue(r, "expires")]
	if !ok {
		ttl = tokenTTLs["720h"]
	}
	secret, t, err := s.tokens.Create(r.Context(), u, name, ttl)
	var invalid *account.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &invalid):
		v.Errors = invalid.Fields
		s.renderTokens(w, r, http.StatusUnprocessableEntity, v)
		return
	case errors.Is(err, account.ErrTooManyTokens):
		v.Errors = map[string]string{"form": fmt.Sprintf("You have %d tokens already; revoke one first.", account.MaxAPITokens)}
		s.renderTokens(w, r, http.StatusUnprocessableEntity, v)
		return
	default:
		s.serverError(w, r, err)
		return
	}
	s.audit(r, u.ID, "token_created", t.Name)
	s.renderTokens(w, r, http.StatusOK, &view{Title: "API tokens", NewToken: secret})
}

func (s *Site) revokeToken(w http.ResponseWriter, r *http.Request) {
	u := s.me(r)
	err := s.tokens.Revoke(r.Context(), u.ID, r.PathValue("id"))
	if errors.Is(err, account.ErrNotFound) {
		s.refused(r, u.ID, "no such API token of this user")
		s.errorPage(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.audit(r, u.ID, "token_revoked", "")
	s.done(w, r, "The token is revoked.", "/account/tokens")
}

// twoFactorSetupPaths are the pages a logged-in user who must still set up
// a second factor may use: the set-up itself (with the re-authentication
// it may ask for), logging in and out, and email confirmation.
var twoFactorSetupPaths = map[string]bool{
	"/account/2fa": true, "/account/2fa/enable": true, "/reauth": true,
	"/login": true, "/login/2fa": true, "/logout": true,
	"/confirm": true, "/confirm/resend": true,
}

// requireTwoFactor enforces Config.RequireTwoFactor: a logged-in user
// without a second factor is sent to set one up, and an API token of such
// a user is refused (403), whatever they ask for.
func (s *Site) requireTwoFactor(next http.Handler) http.Handler {
	if !s.cfg.RequireTwoFactor {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.auth.CurrentUser(r)
		if !ok || u.TwoFactor() || twoFactorSetupPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		if s.auth.Source(r) == latch.SourceRequest || latch.WantsJSON(r) || isAPI(r) {
			latch.WriteJSONError(w, http.StatusForbidden, "two-factor authentication must be set up first")
			return
		}
		if err := s.auth.AddFlash(w, r, "message", "Set up two-factor authentication to continue."); err != nil {
			s.serverError(w, r, err)
			return
		}
		latch.Redirect(w, r, "/account/2fa")
	})
}
