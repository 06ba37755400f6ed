package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// virtualAuthenticator gives the browser a platform authenticator (like a
// laptop's fingerprint reader) that holds passkeys and verifies its user
// at once, through Chromium's WebAuthn DevTools domain.
func (b *browser) virtualAuthenticator() webauthn.AuthenticatorID {
	b.t.Helper()
	return run(b, func(ctx context.Context, t *chromedp.Target) (webauthn.AuthenticatorID, error) {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return "", err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			},
		})
		return res.AuthenticatorID, err
	})
}

// credentials returns the passkeys the virtual authenticator holds.
func (b *browser) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	return run(b, func(ctx context.Context, t *chromedp.Target) ([]*webauthn.Credential, error) {
		res, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		return res.Credentials, err
	})
}

// clickAndWait clicks sel and waits until waitFor (CSS) is visible: for
// buttons whose script navigates once the server has answered.
func (b *browser) clickAndWait(sel, waitFor string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS(waitFor)))
	if err != nil {
		msg := eval[string](b, `[...document.querySelectorAll("[data-passkey-error]")].map(e => e.textContent).join(" ")`)
		b.t.Fatalf("click %s, wait for %s: %v (the page says %q)", sel, waitFor, err, msg)
	}
}

// TestPasskeyInTheBrowser registers a passkey with Chromium's virtual
// authenticator, logs out, logs in with the passkey alone, and removes it;
// afterwards the passkey logs nobody in.
func TestPasskeyInTheBrowser(t *testing.T) {
	s := newLocalhostSite(t)
	ann := seedUser(t, s, "ann")
	b := startBrowser(t, s, "")
	auth := b.virtualAuthenticator()

	b.open("/login")
	b.login(ann, false)
	b.open("/account/passkeys")
	b.typeInto("#passkey-name", "Test laptop")
	b.clickAndWait(`button[data-passkey="register"]`, `.flash-success`)
	if got := b.text(".flash-success"); !strings.Contains(got, "Test laptop") {
		t.Errorf("after registering: %q", got)
	}
	if b.count(`form[action$="/delete"]`) != 1 {
		t.Fatal("the new passkey is not listed")
	}
	creds := b.credentials(auth)
	if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		t.Fatalf("the authenticator holds %+v", creds)
	}

	b.click(`form[action="/logout"] button`)
	b.wantLoggedOut()
	b.open("/login?next=%2Faccount")
	b.clickAndWait(`button[data-passkey="login"]`, `a[href="/account/passkeys"]`)
	if got := b.location(); got != "/account" {
		t.Errorf("after the passkey login the browser shows %s, want /account", got)
	}
	b.wantLoggedIn(ann)

	b.open("/account/passkeys")
	b.click(`form[action$="/delete"] button`)
	if b.count(`form[action$="/delete"]`) != 0 {
		t.Fatal("the passkey is still listed after removing it")
	}
	b.click(`form[action="/logout"] button`)
	b.open("/login")
	b.do(chromedp.Click(chromedp.CSS(`button[data-passkey="login"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`[data-passkey-error]`)))
	if got := b.text(`[data-passkey-error]`); !strings.Contains(got, "not accepted") {
		t.Errorf("a removed passkey: %q", got)
	}
	b.wantLoggedOut()
}
