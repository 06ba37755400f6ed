package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchgo/latch/throttle"
)

// Errors of Passkeys; compare with errors.Is.
var (
	// ErrPasskeyRefused: the browser's answer did not prove possession of
	// a passkey of this site (a wrong signature, another site's origin, an
	// expired or replayed ceremony, an unknown or revoked passkey).
	ErrPasskeyRefused = errors.New("account: passkey refused")
	// ErrPasskeyCloned: the passkey's signature counter went backwards,
	// so two copies of its private key are in use. It is not accepted.
	ErrPasskeyCloned = errors.New("account: passkey signature counter went backwards")
)

// PasskeyConfig names the site to authenticators.
type PasskeyConfig struct {
	// RPID is the site's host name ("example.com", "localhost"): passkeys
	// are bound to it. Browsers refuse IP addresses.
	RPID string
	// RPName is the site's name that authenticators show. Default RPID.
	RPName string
	// Origins are the origins the site is served from
	// ("https://example.com").
	Origins []string
	// Timeout bounds a ceremony, from Begin to Finish. Default 5 minutes.
	Timeout time.Duration
	// LoginRule limits how often one client (its IPv6 /64) may begin a
	// login with a passkey: each one makes the server keep a ceremony.
	// Default DefaultPasskeyLoginRule.
	LoginRule throttle.Rule
}

// DefaultPasskeyLoginRule allows a client 60 passkey logins an hour, then
// one more every second, doubling up to a minute.
var DefaultPasskeyLoginRule = throttle.Rule{Window: time.Hour, Free: 60, Base: time.Second, Max: time.Minute}

// Passkeys registers users' passkeys and logs users in with them, through
// github.com/go-webauthn/webauthn. Registration asks for a discoverable
// credential with user verification, so a passkey alone logs its user in
// (it is both factors: the device, and the PIN or biometric that unlocks
// it); it also stands in for the second factor after a password.
//
// A ceremony has two halves. Begin returns the options for the browser's
// navigator.credentials call and a Ceremony, which the caller keeps on the
// server (in the session) and hands, once, to Finish with the browser's
// answer.
type Passkeys struct {
	wa      *webauthn.WebAuthn
	store   PasskeyStore
	users   Store
	limiter *throttle.Limiter
	rule    throttle.Rule
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// NewPasskeys returns Passkeys for the site cfg names, keeping passkeys in
// store, reading users from users and counting logins begun in limits
// (nil: not counted, for tools). It fails for an RPID that browsers
// refuse (an IP address, or none).
func NewPasskeys(cfg PasskeyConfig, store PasskeyStore, users Store, limits throttle.Store) (*Passkeys, error) {
	if cfg.RPID == "" || net.ParseIP(strings.Trim(cfg.RPID, "[]")) != nil {
		return nil, fmt.Errorf("account: passkeys need the site's host name, not %q: browsers refuse IP addresses", cfg.RPID)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	if cfg.RPName == "" {
		cfg.RPName = cfg.RPID
	}
	if cfg.LoginRule == (throttle.Rule{}) {
		cfg.LoginRule = DefaultPasskeyLoginRule
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: cfg.Timeout, TimeoutUVD: cfg.Timeout}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: cfg.RPName,
		RPOrigins:     cfg.Origins,
		Timeouts:      webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("account: passkeys: %w", err)
	}
	p := &Passkeys{wa: wa, store: store, users: users, rule: cfg.LoginRule, Now: time.Now}
	if limits != nil {
		p.limiter = &throttle.Limiter{Store: limits, Now: func() time.Time { return p.Now() }}
	}
	return p, nil
}

// Ceremony is the server's half of a passkey ceremony in progress. Keep it
// on the server (never in a cookie the browser could replay) and give it
// to Finish once.
type Ceremony []byte

type ceremony struct {
	Kind    string               `json:"k"`
	UserID  string               `json:"u,omitempty"`
	Epoch   int64                `json:"e"`
	Session webauthn.SessionData `json:"s"`
}

// webauthnUser is a User with its passkeys, as the WebAuthn library sees
// it. The user handle is the user's id: ids are never reused.
type webauthnUser struct {
	u     *User
	creds []webauthn.Credential
	keys  []Passkey
}

func (w *webauthnUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w *webauthnUser) WebAuthnName() string                       { return w.u.Username }
func (w *webauthnUser) WebAuthnDisplayName() string                { return w.u.Username }
func (w *webauthnUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

// withKeys returns u with those of its passkeys that are of its current
// epoch.
func (p *Passkeys) withKeys(ctx context.Context, u *User) (*webauthnUser, error) {
	keys, err := p.List(ctx, u)
	if err != nil {
		return nil, err
	}
	w := &webauthnUser{u: u, keys: keys}
	for _, k := range keys {
		var c webauthn.Credential
		if err := json.Unmarshal(k.Credential, &c); err != nil {
			return nil, fmt.Errorf("passkey %s of user %s: %w", k.ID, u.ID, err)
		}
		w.creds = append(w.creds, c)
	}
	return w, nil
}

// List returns u's passkeys, oldest first. Passkeys registered under an
// earlier credential epoch than u's (a revocation's delete missed them)
// are deleted, not listed.
func (p *Passkeys) List(ctx context.Context, u *User) ([]Passkey, error) {
	all, err := p.store.UserPasskeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	keys := all[:0]
	for _, k := range all {
		if k.Epoch != u.Epoch {
			if err := p.store.DeletePasskey(ctx, u.ID, k.ID); err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// BeginRegistration starts registering a new passkey for u. Its passkeys
// are excluded, so an authenticator that holds one says so instead of
// making a second.
func (p *Passkeys) BeginRegistration(ctx context.Context, u *User) (options []byte, c Ceremony, err error) {
	w, err := p.withKeys(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, len(w.creds))
	for i, c := range w.creds {
		exclude[i] = c.Descriptor()
	}
	creation, session, err := p.wa.BeginRegistration(w,
		webauthn.WithExclusions(exclude),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationRequired,
		}),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	if err != nil {
		return nil, nil, fmt.Errorf("account: begin passkey registration: %w", err)
	}
	return encodeCeremony(creation, ceremony{Kind: "register", UserID: u.ID, Epoch: u.Epoch, Session: *session})
}

// FinishRegistration checks the browser's answer to BeginRegistration's
// options and stores the new passkey under name (trimmed to
// PasskeyNameMax; "Passkey" if empty). The ceremony must have been begun
// for u at u's current credential epoch. A passkey that is registered
// already is ErrPasskeyExists; any other refusal is ErrPasskeyRefused.
func (p *Passkeys) FinishRegistration(ctx context.Context, u *User, c Ceremony, response []byte, name string) (*Passkey, error) {
	cer, err := decodeCeremony(c, "register")
	if err != nil || cer.UserID != u.ID || cer.Epoch != u.Epoch {
		return nil, refused("registration begun for another user or epoch", err)
	}
	// The user as stored now: a revocation since Begin ends the ceremony.
	// (One that lands after this read is caught by the passkey's Epoch.)
	if u, err = p.users.UserByID(ctx, u.ID); err != nil {
		return nil, err
	}
	if u.Epoch != cer.Epoch {
		return nil, refused("the user's credentials were revoked during the registration", nil)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, refused("parse the registration", err)
	}
	w, err := p.withKeys(ctx, u)
	if err != nil {
		return nil, err
	}
	cred, err := p.wa.CreateCredential(w, cer.Session, parsed)
	if err != nil {
		return nil, refused("registration", err)
	}
	enc, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	key := &Passkey{
		UserID: u.ID, Name: PasskeyName(name), CredentialID: cred.ID, Credential: enc,
		Epoch: cer.Epoch, CreatedAt: p.Now().UTC(),
	}
	if err := p.store.AddPasskey(ctx, key); err != nil {
		return nil, fmt.Errorf("account: store passkey: %w", err)
	}
	return key, nil
}

// PasskeyName is name as a passkey's name: spaces trimmed, at most
// PasskeyNameMax bytes of valid UTF-8, "Passkey" if nothing is left.
func PasskeyName(name string) string {
	name = strings.TrimSpace(strings.ToValidUTF8(name, ""))
	for len(name) > PasskeyNameMax {
		name = strings.ToValidUTF8(name[:PasskeyNameMax], "")
	}
	if name = strings.TrimSpace(name); name == "" {
		return "Passkey"
	}
	return name
}

// BeginLogin starts a login with a passkey by clientIP. With u nil, any
// passkey of the site will do (the browser offers the ones it holds: a
// login without a username); with u, only u's (the second step after u's
// password). Past the LoginRule it returns a *LimitError.
func (p *Passkeys) BeginLogin(ctx context.Context, u *User, clientIP string) (options []byte, c Ceremony, err error) {
	if p.limiter != nil {
		_, wait, err := p.limiter.Take(ctx, throttle.ClientKey("passkey:ip", clientIP, throttle.DefaultIPv6Prefix), p.rule)
		if err != nil {
			return nil, nil, err
		}
		if wait > 0 {
			return nil, nil, &LimitError{RetryAfter: wait}
		}
	}
	uv := webauthn.WithUserVerification(protocol.VerificationRequired)
	if u == nil {
		assertion, session, err := p.wa.BeginDiscoverableLogin(uv)
		if err != nil {
			return nil, nil, fmt.Errorf("account: begin passkey login: %w", err)
		}
		return encodeCeremony(assertion, ceremony{Kind: "login", Session: *session})
	}
	w, err := p.withKeys(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	if len(w.creds) == 0 {
		return nil, nil, fmt.Errorf("account: user %s has no passkey: %w", u.ID, ErrNotFound)
	}
	assertion, session, err := p.wa.BeginLogin(w, uv)
	if err != nil {
		return nil, nil, fmt.Errorf("account: begin passkey login: %w", err)
	}
	return encodeCeremony(assertion, ceremony{Kind: "login", UserID: u.ID, Epoch: u.Epoch, Session: *session})
}

// FinishLogin checks the browser's answer to BeginLogin's options and
// returns the user and the passkey that signed it, after recording the
// use. It refuses (ErrPasskeyRefused) a passkey of an earlier credential
// epoch than its user's, one deleted meanwhile, and a user who is gone; a
// passkey whose counter went backwards is ErrPasskeyCloned; a disabled
// user is ErrInactive.
func (p *Passkeys) FinishLogin(ctx context.Context, c Ceremony, response []byte) (*User, *Passkey, error) {
	cer, err := decodeCeremony(c, "login")
	if err != nil {
		return nil, nil, refused("login ceremony", err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, nil, refused("parse the assertion", err)
	}
	var w *webauthnUser
	find := func(rawID, userHandle []byte) (webauthn.User, error) {
		key, err := p.store.PasskeyByCredentialID(ctx, rawID)
		if err != nil {
			return nil, err
		}
		if string(userHandle) != key.UserID || (cer.UserID != "" && key.UserID != cer.UserID) {
			return nil, errors.New("the passkey belongs to another user")
		}
		u, err := p.users.UserByID(ctx, key.UserID)
		if err != nil {
			return nil, err
		}
		if key.Epoch != u.Epoch || (cer.UserID != "" && u.Epoch != cer.Epoch) {
			return nil, errors.New("the passkey, or the login it completes, is of a revoked epoch")
		}
		var cred webauthn.Credential
		if err := json.Unmarshal(key.Credential, &cred); err != nil {
			return nil, err
		}
		w = &webauthnUser{u: u, creds: []webauthn.Credential{cred}, keys: []Passkey{*key}}
		return w, nil
	}
	var cred *webauthn.Credential
	if cer.UserID == "" {
		_, cred, err = p.wa.ValidatePasskeyLogin(find, cer.Session, parsed)
	} else {
		var u webauthn.User
		if u, err = find(parsed.RawID, []byte(cer.UserID)); err == nil {
			cred, err = p.wa.ValidateLogin(u, cer.Session, parsed)
		}
	}
	if err != nil {
		return nil, nil, refused("assertion", err)
	}
	if cred.Authenticator.CloneWarning {
		return nil, nil, ErrPasskeyCloned
	}
	enc, err := json.Marshal(cred)
	if err != nil {
		return nil, nil, err
	}
	key := &w.keys[0]
	key.Credential, key.LastUsedAt = enc, p.Now().UTC()
	if err := p.store.UsePasskey(ctx, key.ID, key.Credential, key.LastUsedAt); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil, refused("the passkey was removed meanwhile", err)
		}
		return nil, nil, err
	}
	if w.u.Disabled {
		return nil, nil, ErrInactive
	}
	return w.u, key, nil
}

// Rename renames u's passkey id, and Delete deletes it (ErrNotFound if u
// has no such passkey).
func (p *Passkeys) Rename(ctx context.Context, u *User, id, name string) error {
	return p.store.RenamePasskey(ctx, u.ID, id, PasskeyName(name))
}

// Delete deletes u's passkey id.
func (p *Passkeys) Delete(ctx context.Context, u *User, id string) error {
	return p.store.DeletePasskey(ctx, u.ID, id)
}

// refused wraps why a passkey was refused. The cause is for logs, never
// for the user.
func refused(what string, cause error) error {
	if cause == nil {
		return fmt.Errorf("%w: %s", ErrPasskeyRefused, what)
	}
	var perr *protocol.Error
	if errors.As(cause, &perr) && perr.DevInfo != "" {
		return fmt.Errorf("%w: %s: %s (%s)", ErrPasskeyRefused, what, perr.Details, perr.DevInfo)
	}
	return fmt.Errorf("%w: %s: %v", ErrPasskeyRefused, what, cause)
}

func encodeCeremony(options any, c ceremony) ([]byte, Ceremony, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, nil, err
	}
	state, err := json.Marshal(c)
	return opts, state, err
}

func decodeCeremony(c Ceremony, kind string) (ceremony, error) {
	var cer ceremony
	if err := json.Unmarshal(c, &cer); err != nil {
		return cer, err
	}
	if cer.Kind != kind {
		return cer, fmt.Errorf("a %s ceremony, not a %s one", cer.Kind, kind)
	}
	return cer, nil
}
