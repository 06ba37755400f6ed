// Command screenshots writes PNG screenshots of the latch site, as a
// person sees it in Chromium at desktop and phone sizes, for the README:
//
//	go run ./internal/cmd/screenshots [-out docs/screenshots] [-chromium /usr/bin/chromium]
//
// It starts the site in-process on 127.0.0.1 (as http://localhost, so that
// it offers passkeys) with a temporary SQLite database, creates the user
// "ada", and captures the home page (logged out), the sign-up form with
// validation errors, the login form, ada's profile (logged in), her
// account page, devices, two-factor set-up and passkeys (one registered
// with Chromium's virtual authenticator), and a 404 page, each as
// NAME-desktop.png (1280×800) and NAME-phone.png (390×844 at device scale
// 2).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/e2e"
)

// viewport is a screen size the pages are captured at.
type viewport struct {
	name          string
	width, height int64
	scale         float64
	mobile        bool
}

var viewports = []viewport{
	{name: "desktop", width: 1280, height: 800, scale: 1},
	{name: "phone", width: 390, height: 844, scale: 2, mobile: true},
}

// The account shown in the screenshots.
const (
	username = "ada"
	email    = "ada@example.com"
	password = "correct horse battery staple"
)

func main() {
	out := flag.String("out", "docs/screenshots", "directory to write the PNG files to")
	chromium := flag.String("chromium", e2e.FindChromium(os.Getenv), "Chromium or Chrome binary (default $"+e2e.ChromiumEnv+" or "+e2e.DefaultChromium+")")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "screenshots: no arguments expected")
		flag.Usage()
		os.Exit(2)
	}
	if *chromium == "" {
		fmt.Fprintln(os.Stderr, "screenshots: no Chromium: pass -chromium, set "+e2e.ChromiumEnv+" or apt-get install chromium")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *out, *chromium); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, chromium string) (err error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "latch-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Mkdir(filepath.Join(tmp, "profile"), 0o700); err != nil {
		return err
	}

	site, err := e2e.StartLocalhostSite(ctx, tmp, io.Discard)
	if err != nil {
		return fmt.Errorf("start site: %w", err)
	}
	defer func() { err = errors.Join(err, site.Close()) }()
	if _, err := site.App.Accounts.SignUp(ctx, account.SignUpInput{Username: username, Email: email, Password: password}, "127.0.0.1"); err != nil {
		return fmt.Errorf("create user %s: %w", username, err)
	}

	// The User-Agent of a desktop Chrome, not HeadlessChrome's, so that the
	// device lists show what a person's browser would.
	opts := append(e2e.AllocatorOptions(chromium, filepath.Join(tmp, "profile")),
		chromedp.UserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		// Not bcancel: with no browser started, it would wait for ever.
		return fmt.Errorf("start %s: %w", chromium, err)
	}
	defer bcancel()
	for _, vp := range viewports {
		if err := capture(bctx, site.URL, out, vp); err != nil {
			return fmt.Errorf("%s: %w", vp.name, err)
		}
	}
	cctx, ccancel := context.WithTimeout(bctx, 10*time.Second)
	defer ccancel()
	return chromedp.Cancel(cctx)
}

// capture takes the screenshots at one viewport, in a fresh browser
// context (no cookies) so that each size starts logged out.
func capture(bctx context.Context, base, out string, vp viewport) error {
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.scale)}
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height, opts...)); err != nil {
		return err
	}
	shoot := func(name string, steps ...chromedp.Action[chromedp.Void]) error {
		if err := chromedp.Do(ctx, steps...); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		file := filepath.Join(out, name+"-"+vp.name+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s (%d KiB)\n", file, len(png)>>10)
		return nil
	}
	submit := func(form string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form[action="`+form+`"] button[type="submit"]`), chromedp.NodeVisible))
			return chromedp.Void{}, err
		}
	}
	// The text caret blinks: hide it so that each run draws the same
	// picture. The focus ring of an autofocused field stays.
	noCaret := chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('input').forEach(e => e.style.caretColor = 'transparent')`)

	if err := shoot("index", chromedp.Navigate(base+"/")); err != nil {
		return err
	}
	// A taken username, a malformed email and a short password.
	err := shoot("signup-errors",
		chromedp.Navigate(base+"/signup"),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("email"), "ada@example"),
		chromedp.SendKeys(chromedp.ID("password"), "hunter2"),
		submit("/signup"),
		chromedp.WaitVisible(chromedp.ID("username-error")),
		noCaret,
	)
	if err != nil {
		return err
	}
	if err := shoot("login", chromedp.Navigate(base+"/login"), noCaret); err != nil {
		return err
	}
	err = shoot("profile",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		submit("/login"),
		chromedp.Navigate(base+"/user/"+username),
		chromedp.WaitVisible(chromedp.CSS("article.profile")),
	)
	if err != nil {
		return err
	}
	if err := shoot("account", chromedp.Navigate(base+"/account")); err != nil {
		return err
	}
	if err := shoot("devices", chromedp.Navigate(base+"/account/devices")); err != nil {
		return err
	}
	if err := shoot("twofactor", chromedp.Navigate(base+"/account/2fa"), chromedp.WaitVisible(chromedp.CSS("img.qr")), noCaret); err != nil {
		return err
	}
	err = shoot("passkeys",
		virtualAuthenticator,
		chromedp.Navigate(base+"/account/passkeys"),
		chromedp.SendKeys(chromedp.ID("passkey-name"), "Laptop ("+vp.name+")"),
		chromedp.Click(chromedp.CSS(`button[data-passkey="register"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".flash-success")),
		noCaret,
	)
	if err != nil {
		return err
	}
	return shoot("404", chromedp.Navigate(base+"/no-such-page"))
}

// virtualAuthenticator gives the browser a platform authenticator that
// holds passkeys and verifies its user at once (Chromium's WebAuthn
// DevTools domain), so that a passkey can be registered unattended.
func virtualAuthenticator(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
	if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		return chromedp.Void{}, err
	}
	_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
			HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		},
	})
	return chromedp.Void{}, err
}
