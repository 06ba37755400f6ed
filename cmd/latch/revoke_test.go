package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/server"
)

// credentials are everything a user can authenticate with besides the
// password: a session cookie, an API token, a mailed reset link.
type credentials struct {
	session   *http.Cookie
	apiToken  string
	resetLink string
}

// issue gives the user with this email one credential of each kind.
func issue(t *testing.T, app *server.App, email string) credentials {
	t.Helper()
	ctx := context.Background()
	u, err := app.Backend.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	var c credentials
	h := app.Auth.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := app.Auth.LoginUser(w, r, u); err != nil {
			t.Error(err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "latch_session" {
			c.session = ck
		}
	}
	if c.apiToken, _, err = app.Tokens.Create(ctx, u, "script", 0); err != nil {
		t.Fatal(err)
	}
	c.resetLink = latch.NewToken(32)
	now := time.Now()
	if err := app.Backend.CreateOneTimeToken(ctx, account.OneTimeToken{
		Hash: latch.HashToken(c.resetLink), UserID: u.ID, Purpose: account.PurposeReset, Email: u.Email,
		Epoch: u.Epoch, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	if !c.sessionWorks(app) || !c.tokenWorks(app) {
		t.Fatal("the credentials do not work to begin with")
	}
	return c
}

func (c credentials) sessionWorks(app *server.App) bool {
	ok := false
	h := app.Auth.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok = app.Auth.CurrentUser(r)
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(c.session)
	h.ServeHTTP(httptest.NewRecorder(), req)
	return ok
}

func (c credentials) tokenWorks(app *server.App) bool {
	_, err := app.Tokens.Authenticate(context.Background(), c.apiToken)
	return err == nil
}

func (c credentials) linkWorks(app *server.App) bool {
	_, err := app.Recovery.ResetPassword(context.Background(), c.resetLink, "another-lengthy-passphrase", nil)
	return !errors.Is(err, account.ErrInvalidLink)
}

// TestAdminCommandsEndEveryCredential: each administration command that
// revokes a user ends the user's sessions, API tokens and mailed links —
// and "disable" then "enable" brings none of them back.
func TestAdminCommandsEndEveryCredential(t *testing.T) {
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, db string)
		gone bool // the user no longer exists
	}{
		{"passwd", func(t *testing.T, db string) {
			latchRun(t, db, changedPassword+"\n", "user", "passwd", "-password-stdin", "alice").ok(t)
		}, false},
		{"disable then enable", func(t *testing.T, db string) {
			latchRun(t, db, "", "user", "disable", "alice").ok(t)
			latchRun(t, db, "", "user", "enable", "alice").ok(t)
		}, false},
		{"sessions revoke", func(t *testing.T, db string) {
			latchRun(t, db, "", "sessions", "revoke", "alice").ok(t)
		}, false},
		{"sessions revoke -all", func(t *testing.T, db string) {
			latchRun(t, db, "", "sessions", "revoke", "-all").ok(t)
		}, false},
		{"delete", func(t *testing.T, db string) {
			latchRun(t, db, "", "user", "delete", "-yes", "alice").ok(t)
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := newDB(t)
			addAlice(t, db)
			app := openApp(t, db)
			c := issue(t, app, "alice@example.com")
			tt.run(t, db)
			// The command is another process: the server's read cache hears
			// of its writes within latch.MaxStaleness.
			time.Sleep(latch.MaxStaleness)
			if c.sessionWorks(app) {
				t.Error("the session still works")
			}
			if c.tokenWorks(app) {
				t.Error("the API token still works")
			}
			if c.linkWorks(app) {
				t.Error("the reset link still works")
			}
			if tt.gone {
				return
			}
			// New credentials work: the user is not locked out.
			if d := issue(t, app, "alice@example.com"); !d.linkWorks(app) {
				t.Error("a link mailed after the revocation does not work")
			}
		})
	}
}
