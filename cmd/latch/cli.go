package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/server"
)

// stdio is a command's standard streams.
type stdio struct {
	in          io.Reader
	out, errOut io.Writer
}

// command describes an administration command: its own flags and
// positional arguments. The shared configuration flags (-database, -redis
// and the rest of `latch serve -h`, with their LATCH_* variables) are
// accepted too, and all flags may come before, between or after the
// arguments; "--" ends the flags.
type command struct {
	name  string // "latch user add"
	args  string // "USERNAME EMAIL", for the usage line
	about string
	nargs int // positional arguments wanted
	flags *flag.FlagSet
}

func newCommand(name, args string, nargs int, about string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &command{name: name, args: args, nargs: nargs, about: about, flags: fs}
}

// short is the command's name without "latch ", for error messages that
// main prefixes with "latch: ".
func (c *command) short() string { return strings.TrimPrefix(c.name, "latch ") }

// parse separates the command's own flags, the configuration flags and
// the positional arguments, parses the first with c.flags and the second
// with server.ParseFlags, and checks the number of arguments.
func (c *command) parse(args []string, getenv func(string) string, stderr io.Writer) (*server.Config, []string, error) {
	var own, shared, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			c.usage(stderr)
			return nil, nil, flag.ErrHelp
		}
		dst := &shared
		if server.IsBoolFlag(name) {
			hasValue = true
		}
		if f := c.flags.Lookup(name); f != nil {
			dst = &own
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				hasValue = true // a boolean flag takes no separate value
			}
		}
		*dst = append(*dst, a)
		// Non-boolean flags, the command's own and the configuration's,
		// take the next argument as their value.
		if !hasValue && i+1 < len(args) {
			i++
			*dst = append(*dst, args[i])
		}
	}
	if err := c.flags.Parse(own); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.short(), err)
	}
	cfg, rest, err := server.ParseFlags(c.name, shared, getenv, io.Discard)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.short(), err)
	}
	pos = append(pos, rest...)
	switch {
	case c.nargs < 0: // the command checks its arguments itself
	case len(pos) != c.nargs && c.nargs == 0:
		return nil, nil, fmt.Errorf("%s: takes no arguments, got %q (see %s -h)", c.short(), pos, c.name)
	case len(pos) != c.nargs:
		return nil, nil, fmt.Errorf("%s: want %s, got %d argument(s) (see %s -h)", c.short(), c.args, len(pos), c.name)
	}
	return cfg, pos, nil
}

// usage prints the command's help: its own flags, then the configuration
// flags as server.ParseFlags describes them.
func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", strings.TrimSpace(c.name+" [flags] "+c.args), c.about)
	n := 0
	c.flags.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nflags:\n")
		c.flags.SetOutput(w)
		c.flags.PrintDefaults()
		c.flags.SetOutput(io.Discard)
	}
	var shared bytes.Buffer
	// Built-in defaults, not the LATCH_* values: those may hold credentials
	// (a postgres:// or smtp:// URL with a password).
	_, _, _ = server.ParseFlags(c.name, []string{"-h"}, func(string) string { return "" }, &shared)
	_, defaults, _ := strings.Cut(shared.String(), "\n") // drop "Usage of …:"
	fmt.Fprintf(w, "\nconfiguration flags (the same as latch serve's):\n%s", defaults)
}

// admin is an administration command's view of the site: the configured
// database, the login manager (sessions and remember-me tokens, wherever
// they are kept) and an account service without rate limits.
type admin struct {
	app      *server.App
	store    account.Store
	accounts *account.Service
	stderr   io.Writer
	close    func()
}

func openAdmin(ctx context.Context, cfg *server.Config, stderr io.Writer) (*admin, error) {
	backend, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// The site's start-up notes (about mail, say) are for `latch serve`;
	// a command's own errors are returned, not logged.
	quiet := *cfg
	quiet.LogLevel = max(cfg.LogLevel, slog.LevelError)
	app, err := server.NewApp(cfg, backend, quiet.NewLogger(stderr))
	if err != nil {
		backend.Close()
		return nil, err
	}
	// The site's service throttles sign-ups and logins per client; an
	// administrator at the console is not a client to throttle. The
	// password policy stays the site's.
	svc := account.NewService(backend, app.Accounts.Hasher(), nil)
	svc.Policy = app.Accounts.Policy
	svc.ContextWords = app.Accounts.ContextWords
	svc.Sessions = app.Auth
	closeAll := func() {
		// The commands send no mail; this only stops the site's workers.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = app.Close(ctx)
		backend.Close()
	}
	return &admin{app: app, store: backend, accounts: svc, stderr: stderr, close: closeAll}, nil
}

// auditAgent stands for the device in the audit events of administration
// commands, which the user sees in their account's history.
const auditAgent = "latch command line"

// audit records what an administrator did to an account in its audit log.
// A failure is reported, not returned: the change itself is made.
func (a *admin) audit(ctx context.Context, userID, kind, detail string) {
	if err := a.app.Auditor.Record(ctx, userID, kind, "", auditAgent, detail); err != nil {
		fmt.Fprintf(a.stderr, "latch: warning: audit log: %v\n", err)
	}
}

// findUser looks a user up by a reference from the command line: "#ID",
// an email (it has an @), or a username.
func (a *admin) findUser(ctx context.Context, ref string) (*account.User, error) {
	var (
		u   *account.User
		err error
	)
	switch {
	case strings.HasPrefix(ref, "#"):
		u, err = a.store.UserByID(ctx, ref[1:])
	case strings.Contains(ref, "@"):
		u, err = a.store.UserByEmail(ctx, ref)
	default:
		u, err = a.store.UserByUsername(ctx, ref)
	}
	if errors.Is(err, account.ErrNotFound) {
		return nil, fmt.Errorf("no user %s", strconv.Quote(ref))
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", strconv.Quote(ref), err)
	}
	return u, nil
}

// devices counts a user's active sessions and remember-me tokens.
func (a *admin) devices(ctx context.Context, userID string) (sessions, remembered int, err error) {
	s, err := a.app.Auth.UserSessions(ctx, userID)
	if err != nil {
		return 0, 0, err
	}
	r, err := a.app.Auth.UserRememberTokens(ctx, userID)
	if err != nil {
		return 0, 0, err
	}
	return len(s), len(r), nil
}

// revoke ends every credential of a user at once (account.Service.Revoke:
// the credential epoch, then cleanup) and reports how many sessions and
// remembered devices there were.
func (a *admin) revoke(ctx context.Context, u *account.User) (sessions, remembered int, err error) {
	sessions, remembered, err = a.devices(ctx, u.ID)
	if err != nil {
		return 0, 0, err
	}
	if err := a.accounts.Revoke(ctx, u); err != nil {
		return 0, 0, err
	}
	return sessions, remembered, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// describe turns an account.ValidationError into one line naming each
// field; other errors pass through.
func describe(err error) error {
	var ve *account.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	keys := make([]string, 0, len(ve.Fields))
	for k := range ve.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + ve.Fields[k]
	}
	return errors.New(strings.Join(parts, "; "))
}

// maxLine bounds what is read as one line of stdin: a password
// (password.MaxBytes is 4096) or a typed confirmation.
const maxLine = 4096

// terminal returns the file descriptor of r if r is a terminal.
func terminal(r io.Reader) (int, bool) {
	f, ok := r.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// whileWaiting runs read, which blocks on the terminal or stdin, and
// returns early when ctx ends (Ctrl-C is caught by main to cancel ctx, so
// a read that ignored it could not be interrupted). cleanup runs in that
// case.
func whileWaiting(ctx context.Context, read func() (string, error), cleanup func()) (string, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := read()
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		if cleanup != nil {
			cleanup()
		}
		return "", ctx.Err()
	}
}

// readLine reads one line from r, one byte at a time so that nothing
// after it is consumed, without its line ending. It fails on a line
// longer than maxLine; with drain it reads the rest of such a line first,
// so that a terminal does not hand it to the shell after we exit.
func readLine(r io.Reader, drain bool) (string, error) {
	var line []byte
	var b [1]byte
	tooLong := false
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if len(line) == maxLine {
				tooLong = true
				if !drain {
					break
				}
			} else {
				line = append(line, b[0])
			}
		}
		if errors.Is(err, io.EOF) {
			if len(line) == 0 {
				return "", io.EOF
			}
			break
		}
		if err != nil {
			return "", err
		}
	}
	if tooLong {
		return "", fmt.Errorf("line longer than %d bytes", maxLine)
	}
	return strings.TrimSuffix(string(line), "\r"), nil
}

// newPassword gets a new password for user: one line of stdin with
// fromStdin, else typed twice at the terminal without echo.
func newPassword(ctx context.Context, std stdio, fromStdin bool, user string) (string, error) {
	if fromStdin {
		pw, err := whileWaiting(ctx, func() (string, error) { return readLine(std.in, false) }, nil)
		switch {
		case errors.Is(err, io.EOF):
			return "", errors.New("-password-stdin: stdin is empty")
		case err != nil:
			return "", fmt.Errorf("-password-stdin: %w", err)
		}
		return pw, nil
	}
	fd, ok := terminal(std.in)
	if !ok {
		return "", errors.New("stdin is not a terminal to ask for the password: pipe it in with -password-stdin")
	}
	pw, err := readSecret(ctx, std.in, fd, std.errOut, "New password for "+user+": ")
	if err != nil {
		return "", err
	}
	again, err := readSecret(ctx, std.in, fd, std.errOut, "Repeat it: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the two passwords differ; nothing changed")
	}
	return pw, nil
}

// readSecret prompts on w and reads a line from the terminal r (whose
// descriptor is fd) without echo.
func readSecret(ctx context.Context, r io.Reader, fd int, w io.Writer, prompt string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	fmt.Fprint(w, prompt)
	defer fmt.Fprintln(w) // the Enter the user typed was not echoed
	var (
		s   string
		err error
	)
	if restore, nerr := noEcho(fd); nerr == nil {
		s, err = whileWaiting(ctx, func() (string, error) { return readLine(r, true) }, nil)
		restore()
	} else {
		state, gerr := term.GetState(fd)
		if gerr != nil {
			return "", fmt.Errorf("read password: %w", gerr)
		}
		s, err = whileWaiting(ctx, func() (string, error) {
			b, err := term.ReadPassword(fd)
			if len(b) > maxLine {
				return "", fmt.Errorf("line longer than %d bytes", maxLine)
			}
			return string(b), err
		}, func() { _ = term.Restore(fd, state) })
	}
	switch {
	case errors.Is(err, io.EOF):
		return "", errors.New("no password typed")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "", err
	case err != nil:
		return "", fmt.Errorf("read password: %w", err)
	}
	return s, nil
}

// openUser is the start of every command that acts on one USER: it parses
// the command line, opens the configured database and finds the user.
func (c *command) openUser(ctx context.Context, args []string, getenv func(string) string, std stdio) (*admin, *account.User, error) {
	cfg, pos, err := c.parse(args, getenv, std.errOut)
	if err != nil {
		return nil, nil, err
	}
	a, err := openAdmin(ctx, cfg, std.errOut)
	if err != nil {
		return nil, nil, err
	}
	u, err := a.findUser(ctx, pos[0])
	if err != nil {
		a.close()
		return nil, nil, fmt.Errorf("%s: %w", c.short(), err)
	}
	return a, u, nil
}
