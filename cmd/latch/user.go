package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/password"
)

const userUsage = `usage: latch user <command> [flags] [arguments]

commands:
  add USERNAME EMAIL   create an account; the password is asked for on the
                       terminal, or read from stdin with -password-stdin
  list                 list the accounts (-json for JSON)
  show USER            show an account with its sessions and remembered devices
  passwd USER          set a new password and log the user out everywhere
  disable USER         stop the user logging in and log them out everywhere
  enable USER          let a disabled user log in again
  delete USER          delete the account (-yes, or type the username to confirm)

USER is a username, an email address, or '#ID' (quote it: # starts a
comment in the shell). Every command works on the configured database and
takes the configuration flags of latch serve (-database, -redis, …, or
their LATCH_* variables). Run "latch user <command> -h" for its flags.
`

func runUser(ctx context.Context, args []string, getenv func(string) string, std stdio) error {
	if len(args) == 0 {
		fmt.Fprint(std.errOut, userUsage)
		return errors.New("user: want a command: add, list, show, passwd, disable, enable or delete")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add":
		return userAdd(ctx, args, getenv, std)
	case "list":
		return userList(ctx, args, getenv, std)
	case "show":
		return userShow(ctx, args, getenv, std)
	case "passwd":
		return userPasswd(ctx, args, getenv, std)
	case "disable":
		return userSetDisabled(ctx, args, getenv, std, true)
	case "enable":
		return userSetDisabled(ctx, args, getenv, std, false)
	case "delete":
		return userDelete(ctx, args, getenv, std)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(std.out, userUsage)
		return nil
	}
	fmt.Fprint(std.errOut, userUsage)
	return fmt.Errorf("user: unknown command %q", sub)
}

// emailConfirmer is the part of account.CredentialStore that `user add
// -confirmed` needs.
type emailConfirmer interface {
	ConfirmEmail(ctx context.Context, id, email string, at time.Time) (bool, error)
}

func userAdd(ctx context.Context, args []string, getenv func(string) string, std stdio) error {
	c := newCommand("latch user add", "USERNAME EMAIL", 2,
		"Create an account. The password is asked for twice on the terminal without\n"+
			"echo, or read as one line from stdin with -password-stdin; it must pass the\n"+
			"site's password policy, as at sign-up.")
	fromStdin := c.flags.Bool("password-stdin", false, "read the password as one line from stdin")
	confirmed := c.flags.Bool("confirmed", false, "mark the email address as confirmed")
	cfg, pos, err := c.parse(args, getenv, std.errOut)
	if err != nil {
		return err
	}
	username := pos[0]
	if msg := account.ValidateUsername(username); msg != "" {
		return fmt.Errorf("user add: username %s: %s", strconv.Quote(username), msg)
	}
	email, msg := account.NormalizeEmail(pos[1])
	if msg != "" {
		return fmt.Errorf("user add: email %s: %s", strconv.Quote(pos[1]), msg)
	}
	a, err := openAdmin(ctx, cfg, std.errOut)
	if err != nil {
		return err
	}
	defer a.close()
	var confirmer emailConfirmer
	if *confirmed {
		var ok bool
		if confirmer, ok = a.store.(emailConfirmer); !ok {
			return errors.New("user add: -confirmed: this database cannot record email confirmations")
		}
	}
	// Say that a name is taken, or looks like one that is, before asking
	// for a password.
	if taken, err := a.store.UsernameTaken(ctx, username); err != nil {
		return fmt.Errorf("user add: %w", err)
	} else if taken {
		return fmt.Errorf("user add: username %s is taken, or looks like a taken one", strconv.Quote(username))
	}
	if _, err := a.store.UserByEmail(ctx, email); err == nil {
		return fmt.Errorf("user add: an account with email %s exists", strconv.Quote(email))
	} else if !errors.Is(err, account.ErrNotFound) {
		return fmt.Errorf("user add: %w", err)
	}
	pw, err := newPassword(ctx, std, *fromStdin, username)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	u, err := a.accounts.SignUp(ctx, account.SignUpInput{Username: username, Email: email, Password: pw}, "")
	if err != nil {
		return fmt.Errorf("user add: %w", describe(err))
	}
	state := "unconfirmed"
	if confirmer != nil {
		if _, err := confirmer.ConfirmEmail(ctx, u.ID, u.Email, time.Now().UTC()); err != nil {
			return fmt.Errorf("user add: created user %s, but confirming the email failed: %w", u.Username, err)
		}
		state = "confirmed"
	}
	a.audit(ctx, u.ID, "signup", "created by an administrator")
	fmt.Fprintf(std.out, "created user %s (id %s, email %s, %s)\n", u.Username, u.ID, u.Email, state)
	return nil
}

// userInfo is an account as `user list -json` and `user show -json`
// print it. It never has the password hash.
type userInfo struct {
	ID               string     `json:"id"`
	Username         string     `json:"username"`
	Email            string     `json:"email"`
	CreatedAt        time.Time  `json:"created_at"`
	Disabled         bool       `json:"disabled"`
	EmailConfirmed   bool       `json:"email_confirmed"`
	EmailConfirmedAt *time.Time `json:"email_confirmed_at,omitempty"`
	TwoFactor        bool       `json:"two_factor"`
	// Only from show:
	PasswordFormat string `json:"password_format,omitempty"`
	Sessions       *int   `json:"sessions,omitempty"`
	RememberTokens *int   `json:"remember_tokens,omitempty"`
}

func infoOf(u *account.User) userInfo {
	i := userInfo{
		ID: u.ID, Username: u.Username, Email: u.Email, CreatedAt: u.CreatedAt.UTC(),
		Disabled: u.Disabled, EmailConfirmed: u.EmailConfirmed(), TwoFactor: u.TwoFactor(),
	}
	if u.EmailConfirmed() {
		t := u.EmailConfirmedAt.UTC()
		i.EmailConfirmedAt = &t
	}
	return i
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// listPage is how many users `user list` asks the store for at a time.
const listPage = 500

func userList(ctx context.Context, args []string, getenv func(string) string, std stdio) error {
	c := newCommand("latch user list", "", 0, "List every account, oldest first: id, username, email, creation time,\nwhether it is disabled, whether its email is confirmed, and two-factor.")
	asJSON := c.flags.Bool("json", false, "print a JSON array of objects instead of a table")
	cfg, _, err := c.parse(args, getenv, std.errOut)
	if err != nil {
		return err
	}
	a, err := openAdmin(ctx, cfg, std.errOut)
	if err != nil {
		return err
	}
	defer a.close()
	var (
		emit    func(u *account.User) error
		finish  func(n int) error
		emitted int
	)
	if *asJSON {
		// Streamed, so that a large table needs no large buffer.
		emit = func(u *account.User) error {
			b, err := json.Marshal(infoOf(u))
			if err != nil {
				return err
			}
			sep := ",\n  "
			if emitted == 0 {
				sep = "[\n  "
			}
			emitted++
			_, err = fmt.Fprintf(std.out, "%s%s", sep, b)
			return err
		}
		finish = func(n int) error {
			if n == 0 {
				_, err := io.WriteString(std.out, "[]\n")
				return err
			}
			_, err := io.WriteString(std.out, "\n]\n")
			return err
		}
	} else {
		tw := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tCREATED\tDISABLED\tCONFIRMED\t2FA")
		emit = func(u *account.User) error {
			_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Username, u.Email, stamp(u.CreatedAt),
				yesNo(u.Disabled, "yes", "no"), yesNo(u.EmailConfirmed(), "yes", "no"), yesNo(u.TwoFactor(), "on", "off"))
			return err
		}
		finish = func(int) error { return tw.Flush() }
	}
	n := 0
	for after := ""; ; {
		users, err := a.store.ListUsers(ctx, after, listPage)
		if err != nil {
			return fmt.Errorf("user list: %w", err)
		}
		for i := range users {
			if err := emit(&users[i]); err != nil {
				return err
			}
		}
		n += len(users)
		if len(users) < listPage {
			break
		}
		after = users[len(users)-1].ID
	}
	return finish(n)
}

func userShow(ctx context.Context, args []string, getenv func(string) string, std stdio) error {
	c := newCommand("latch user show", "USER", 1, "Show an account (never its password hash), the number of its active sessions\nand of its remembered (remember-me) devices.")
	asJSON := c.flags.Bool("json", false, "print a JSON object")
	a, u, err := c.openUser(ctx, args, getenv, std)
	if err != nil {
		return err
	}
	defer a.close()
	sessions, remembered, err := a.devices(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("user show: %w", err)
	}
	info := infoOf(u)
	info.Sessions, info.RememberTokens = &sessions, &remembered
	var pwNote string
	info.PasswordFormat, pwNote = hashFormat(u.PasswordHash)
	if *asJSON {
		enc := json.NewEncoder(std.out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	confirmed := "no"
	if info.EmailConfirmedAt != nil {
		confirmed = "yes, " + stamp(*info.EmailConfirmedAt)
	}
	if pwNote != "" {
		pwNote = info.PasswordFormat + " (" + pwNote + ")"
	} else {
		pwNote = info.PasswordFormat
	}
	tw := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', 0)
	for _, row := range [][2]string{
		{"id", u.ID},
		{"username", u.Username},
		{"email", u.Email},
		{"email confirmed", confirmed},
		{"created", stamp(u.CreatedAt)},
		{"disabled", yesNo(u.Disabled, "yes", "no")},
		{"two-factor", yesNo(u.TwoFactor(), "on", "off")},
		{"password", pwNote},
		{"sessions", strconv.Itoa(sessions) + " active"},
		{"remember-me", plural(remembered, "device", "devices")},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

// hashFormat names the format of a stored hash, never the hash, with a
// note for an administrator when it is not latch's own.
func hashFormat(h string) (format, note string) {
	f, err := password.Identify(h)
	switch {
	case err != nil:
		return f.String(), "unreadable: no password logs in; set one with latch user passwd"
	case f != password.FormatArgon2id:
		return f.String(), "imported; becomes argon2id at the next login"
	}
	return f.String(), ""
}

func userPasswd(ctx context.Context, args []string, getenv func(string) string, std stdio) error {
	c := newCommand("latch user passwd", "USER", 1,
		"Set a new password (asked for twice on the terminal, or one line of stdin with\n"+
			"-password-stdin; it must pass the password policy), then end every session and\n"+
			"remember-me token of the user.")
	fromStdin := c.flags.Bool("password-stdin", false, "read the password as one line from stdin")
	a, u, err := c.openUser(ctx, args, getenv, std)
	if err != nil {
		return err
	}
	defer a.close()
	pw, err := newPassword(ctx, std, *fromStdin, u.Username)
	if err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	// Count first: the change ends them.
	s, r, err := a.devices(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	if err := a.accounts.ChangePassword(ctx, u, pw); err != nil {
		return fmt.Errorf("user passwd: %w", describe(err))
	}
	a.audit(ctx, u.ID, "password_changed", "by an administrator")
	fmt.Fprintf(std.out, "changed the password of %s; ended %s and %s\n", u.Username,
		plural(s, "session", "sessions"), plural(r, "remember-me device", "remember-me devices"))
	return nil
}

func userSetDisabled(ctx context.Context, args []string, getenv func(string) string, std stdio, disable bool) error {
	verb := yesNo(disable, "disable", "enable")
	about := "Let a disabled user log in again."
	if disable {
		about = "Stop a user logging in, and end every session and remember-me token of theirs\nat once. \"latch user enable\" undoes it (the sessions stay ended)."
	}
	c := newCommand("latch user "+verb, "USER", 1, about)
	cfg, pos, err := c.parse(args, getenv, std.errOut)
	if err != nil {
		return err
	}
	a, err := openAdmin(ctx, cfg, std.errOut)
	if err != nil {
		return err
	}
	defer a.close()
	u, err := a.findUser(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("user %s: %w", verb, err)
	}
	was := u.Disabled
	s, r, err := a.devices(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("user %s: %w", verb, err)
	}
	if err := a.accounts.SetDisabled(ctx, u, disable); err != nil {
		return fmt.Errorf("user %s: %w", verb, err)
	}
	if was != disable {
		a.audit(ctx, u.ID, "account_"+verb+"d", "by an administrator")
	}
	if !disable {
		fmt.Fprintf(std.out, "%s %s\n", yesNo(was, "enabled", "was not disabled:"), u.Username)
		return nil
	}
	fmt.Fprintf(std.out, "%s %s; ended %s and %s\n", yesNo(was, "already disabled:", "disabled"), u.Username,
		plural(s, "session", "sessions"), plural(r, "remember-me device", "remember-me devices"))
	return nil
}

func userDelete(ctx context.Context, args []string, getenv func(string) string, std stdio) error {
	c := newCommand("latch user delete", "USER", 1,
		"Delete an account and everything kept for it, and end its sessions and\n"+
			"remember-me tokens. Asks for the username to be typed, unless -yes.")
	yes := c.flags.Bool("yes", false, "delete without asking")
	a, u, err := c.openUser(ctx, args, getenv, std)
	if err != nil {
		return err
	}
	defer a.close()
	if !*yes {
		if _, ok := terminal(std.in); !ok {
			return fmt.Errorf("user delete: deleting %s needs -yes (stdin is not a terminal to confirm on)", u.Username)
		}
		fmt.Fprintf(std.errOut, "Deleting user %s (id %s, %s) cannot be undone.\nType the username to confirm: ", u.Username, u.ID, u.Email)
		typed, err := whileWaiting(ctx, func() (string, error) { return readLine(std.in, true) }, nil)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("user delete: %w", err)
		}
		if strings.TrimSpace(typed) != u.Username {
			return fmt.Errorf("user delete: that is not %s; nothing deleted", u.Username)
		}
	}
	// Count first: the store may delete the sessions it keeps with the
	// user. Delete next, so that no new login can start, then revoke what
	// is kept elsewhere (a Redis session store).
	s, r, err := a.devices(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("user delete: %w", err)
	}
	if err := a.accounts.DeleteUser(ctx, u); err != nil {
		return fmt.Errorf("user delete: %w", err)
	}
	fmt.Fprintf(std.out, "deleted user %s (id %s); ended %s and %s\n", u.Username, u.ID,
		plural(s, "session", "sessions"), plural(r, "remember-me device", "remember-me devices"))
	return nil
}

const sessionsUsage = `usage: latch sessions revoke [flags] USER
       latch sessions revoke -all [flags]

Log USER out everywhere: end every session and remember-me token.
USER is a username, an email address, or '#ID'. With -all, every user is
logged out everywhere (after a suspected breach, ASVS 7.4.5).
`

func runSessions(ctx context.Context, args []string, getenv func(string) string, std stdio) error {
	if len(args) == 0 || args[0] != "revoke" {
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprint(std.out, sessionsUsage)
			return nil
		}
		fmt.Fprint(std.errOut, sessionsUsage)
		return errors.New("sessions: want the command revoke")
	}
	c := newCommand("latch sessions revoke", "USER | -all", -1, "Log a user (or, with -all, every user) out everywhere: end every session and remember-me token.")
	all := c.flags.Bool("all", false, "log every user out everywhere")
	cfg, pos, err := c.parse(args[1:], getenv, std.errOut)
	if err != nil {
		return err
	}
	switch {
	case *all && len(pos) > 0:
		return fmt.Errorf("sessions revoke: -all takes no USER (see latch sessions revoke -h)")
	case !*all && len(pos) != 1:
		return fmt.Errorf("sessions revoke: want USER or -all, got %d argument(s) (see latch sessions revoke -h)", len(pos))
	}
	a, err := openAdmin(ctx, cfg, std.errOut)
	if err != nil {
		return err
	}
	defer a.close()
	if *all {
		users, sessions, remembered := 0, 0, 0
		after := ""
		for {
			page, err := a.store.ListUsers(ctx, after, listPage)
			if err != nil {
				return fmt.Errorf("sessions revoke: list users: %w", err)
			}
			for _, u := range page {
				s, r, err := a.revoke(ctx, &u)
				if err != nil {
					return fmt.Errorf("sessions revoke: %s: %w", u.Username, err)
				}
				if s+r > 0 {
					a.audit(ctx, u.ID, "sessions_revoked", "every user, by an administrator")
				}
				users, sessions, remembered = users+1, sessions+s, remembered+r
			}
			if len(page) < listPage {
				break
			}
			after = page[len(page)-1].ID
		}
		fmt.Fprintf(std.out, "ended %s and %s of %s\n", plural(sessions, "session", "sessions"),
			plural(remembered, "remember-me device", "remember-me devices"), plural(users, "user", "users"))
		return nil
	}
	u, err := a.findUser(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("sessions revoke: %w", err)
	}
	s, r, err := a.revoke(ctx, u)
	if err != nil {
		return fmt.Errorf("sessions revoke: %w", err)
	}
	a.audit(ctx, u.ID, "sessions_revoked", "by an administrator")
	fmt.Fprintf(std.out, "ended %s and %s of %s\n", plural(s, "session", "sessions"),
		plural(r, "remember-me device", "remember-me devices"), u.Username)
	return nil
}
