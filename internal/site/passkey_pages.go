package site

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

// passkeyKey holds the passkey ceremony in progress in the session: the
// server's half, given to Finish once (Pop), so an answer cannot be
// replayed against it.
const passkeyKey = "site.passkey"

// passkeyScript is the one script of the site, on the pages that offer
// passkeys only: the WebAuthn calls need JavaScript. Every other page has
// none, and a CSP that forbids scripts.
const passkeyScript = "/static/passkey.js"

// passkeyRoutes registers the passkey pages and calls.
func (s *Site) passkeyRoutes(mux *http.ServeMux) {
	login := func(h http.HandlerFunc) http.Handler { return s.auth.RequireLogin(h) }
	fresh := func(h http.HandlerFunc) http.Handler { return s.auth.RequireFresh(h) }
	mux.HandleFunc("POST /login/passkey/begin", s.passkeyLoginBegin)
	mux.HandleFunc("POST /login/passkey/finish", s.passkeyLoginFinish)
	mux.Handle("GET /account/passkeys", login(s.passkeysPage))
	mux.Handle("POST /account/passkeys/begin", fresh(s.passkeyRegisterBegin))
	mux.Handle("POST /account/passkeys/finish", fresh(s.passkeyRegisterFinish))
	mux.Handle("POST /account/passkeys/{id}/rename", fresh(s.renamePasskey))
	mux.Handle("POST /account/passkeys/{id}/delete", fresh(s.deletePasskey))
}

// passkeyJSON answers a passkey call with a JSON body.
func passkeyJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// passkeyError answers a passkey call that failed with a message for the
// user. Server failures are logged and answered without their cause.
func (s *Site) passkeyError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		status = http.StatusUnprocessableEntity
		msg    string
	)
	switch {
	case errors.Is(err, account.ErrPasskeyExists):
		msg = "This passkey is registered already."
	case errors.Is(err, account.ErrPasskeyCloned):
		msg = "This passkey was refused: it looks copied. Use another way to log in, and remove it."
	case errors.Is(err, account.ErrPasskeyRefused):
		msg = "The passkey was not accepted. Try again, or log in with your password."
	case errors.Is(err, account.ErrInactive):
		msg = "This account is disabled."
	case errors.Is(err, account.ErrNotFound):
		msg = "There is no passkey to use here."
	default:
		if secs, ok := limited(err); ok {
			retryAfter(w, secs)
			status, msg = http.StatusTooManyRequests, "Too many attempts. Please wait "+seconds(secs)+" and try again."
			break
		}
		s.log(r).Error("passkey call failed", "err", err, "path", r.URL.Path)
		w.Header().Set("Retry-After", "5")
		status, msg = http.StatusServiceUnavailable, errorTexts[http.StatusServiceUnavailable][1]
	}
	if errors.Is(err, account.ErrPasskeyRefused) || errors.Is(err, account.ErrPasskeyCloned) {
		s.log(r).Warn("passkey refused", "err", err, "ip", s.clientIP(r))
	}
	passkeyJSON(w, status, map[string]string{"error": msg})
}

// readAnswer reads the browser's JSON answer to a ceremony, bounded by
// the body limit.
func (s *Site) readAnswer(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		passkeyJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": errorTexts[http.StatusRequestEntityTooLarge][1]})
		return nil, false
	case err != nil:
		passkeyJSON(w, http.StatusBadRequest, map[string]string{"error": errorTexts[http.StatusBadRequest][1]})
		return nil, false
	}
	return b, true
}

// begin keeps a ceremony in the session and answers its options, or
// answers the error of starting it.
func (s *Site) begin(w http.ResponseWriter, r *http.Request, options []byte, c account.Ceremony, err error) {
	if err == nil {
		err = s.auth.Put(w, r, passkeyKey, string(c))
	}
	if err != nil {
		s.passkeyError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(options)
}

// finishing reads the browser's answer and takes the session's ceremony,
// once; it answers a failure itself and reports false.
func (s *Site) finishing(w http.ResponseWriter, r *http.Request) ([]byte, account.Ceremony, bool) {
	answer, ok := s.readAnswer(w, r)
	if !ok {
		return nil, nil, false
	}
	c, err := s.auth.Pop(w, r, passkeyKey)
	if err == nil && c == "" {
		err = account.ErrPasskeyRefused
	}
	if err != nil {
		s.passkeyError(w, r, err)
		return nil, nil, false
	}
	return answer, account.Ceremony(c), true
}

// passkeyLoginBegin starts a login with a passkey: any passkey of the
// site, or, with second=1 on the two-factor page, one of the user whose
// password was right.
func (s *Site) passkeyLoginBegin(w http.ResponseWriter, r *http.Request) {
	var u *account.User
	if r.URL.Query().Get("second") == "1" {
		p, ok := s.pendingLogin(r)
		if !ok {
			passkeyJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "That took too long. Please log in again."})
			return
		}
		var err error
		if u, err = s.accounts.Store().UserByID(r.Context(), p.userID); err != nil || u.Epoch != p.epoch {
			passkeyJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "Please log in again."})
			return
		}
	}
	options, c, err := s.passkeys.BeginLogin(r.Context(), u, s.clientIP(r))
	s.begin(w, r, options, c, err)
}

// passkeyLoginFinish checks the browser's answer and logs its user in. A
// passkey is both factors (the device, and the PIN or biometric that
// unlocks it), so no code is asked for after it.
func (s *Site) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) {
	answer, c, ok := s.finishing(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	remember := q.Get("remember") == "1"
	next, _ := latch.SafeNext(q.Get("next"))
	if p, ok := s.pendingLogin(r); ok && q.Get("second") == "1" {
		remember, next = p.remember, p.next
	}
	u, key, err := s.passkeys.FinishLogin(r.Context(), c, answer)
	if err != nil {
		if errors.Is(err, account.ErrPasskeyCloned) && key != nil {
			s.audit(r, key.UserID, "passkey_cloned", key.Name)
		}
		s.passkeyError(w, r, err)
		return
	}
	if s.accounts.RequireConfirmedEmail && !u.EmailConfirmed() {
		passkeyJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "Confirm your email address first: open the link we sent you."})
		return
	}
	if _, err := s.auth.Pop(w, r, pendingKey); err != nil {
		s.passkeyError(w, r, err)
		return
	}
	if err := s.logIn(w, r, u, remember); err != nil {
		s.passkeyError(w, r, err)
		return
	}
	s.audit(r, u.ID, "passkey_used", key.Name)
	if next == "" {
		next = "/"
	}
	passkeyJSON(w, http.StatusOK, map[string]string{"redirect": next})
}

func (s *Site) passkeysPage(w http.ResponseWriter, r *http.Request) {
	s.renderPasskeys(w, r, http.StatusOK, &view{})
}

func (s *Site) renderPasskeys(w http.ResponseWriter, r *http.Request, status int, v *view) {
	u := s.me(r)
	v.Title = "Passkeys"
	v.Fresh = s.auth.IsFresh(r)
	keys, err := s.passkeys.List(r.Context(), u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v.Passkeys = keys
	s.render(w, r, status, "passkeys", v)
}

func (s *Site) passkeyRegisterBegin(w http.ResponseWriter, r *http.Request) {
	options, c, err := s.passkeys.BeginRegistration(r.Context(), s.me(r))
	s.begin(w, r, options, c, err)
}

func (s *Site) passkeyRegisterFinish(w http.ResponseWriter, r *http.Request) {
	answer, c, ok := s.finishing(w, r)
	if !ok {
		return
	}
	u := s.me(r)
	key, err := s.passkeys.FinishRegistration(r.Context(), u, c, answer, r.URL.Query().Get("name"))
	if err != nil {
		s.passkeyError(w, r, err)
		return
	}
	s.audit(r, u.ID, "passkey_added", key.Name)
	if err := s.auth.AddFlash(w, r, "success", "Your passkey “"+key.Name+"” is ready: use it to log in."); err != nil {
		s.passkeyError(w, r, err)
		return
	}
	passkeyJSON(w, http.StatusOK, map[string]string{"redirect": "/account/passkeys"})
}

func (s *Site) renamePasskey(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u := s.me(r)
	name := account.PasskeyName(formValue(r, "name"))
	if s.passkeyOwned(w, r, s.passkeys.Rename(r.Context(), u, r.PathValue("id"), name)) {
		s.audit(r, u.ID, "passkey_renamed", name)
		s.done(w, r, "The passkey is renamed.", "/account/passkeys")
	}
}

func (s *Site) deletePasskey(w http.ResponseWriter, r *http.Request) {
	u := s.me(r)
	if s.passkeyOwned(w, r, s.passkeys.Delete(r.Context(), u, r.PathValue("id"))) {
		s.audit(r, u.ID, "passkey_removed", "")
		s.done(w, r, "The passkey is removed: it no longer logs you in.", "/account/passkeys")
	}
}

// passkeyOwned answers a rename or removal that failed, and reports
// whether it succeeded. Another user's passkey is a 404, as if it did not
// exist, and logged.
func (s *Site) passkeyOwned(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, account.ErrNotFound):
		s.refused(r, s.me(r).ID, "no such passkey of this user")
		s.errorPage(w, r, http.StatusNotFound)
	default:
		s.serverError(w, r, err)
	}
	return false
}
