// Command latch runs the latch web site and its administration commands.
//
//	latch [serve] [flags]               run the site (default http://127.0.0.1:8080)
//	latch migrate [flags]               create or upgrade the database schema and exit
//	latch user add|list|show|passwd|disable|enable|delete …
//	                                    manage accounts
//	latch sessions revoke USER|-all    log a user (or everyone) out everywhere
//	latch import [flags] FILE           import users from CSV, JSON or a Flask-SQLAlchemy database
//
// The administration commands work on the configured database: they take
// the same -database and -redis flags (and LATCH_* variables) as serve.
//
// Every flag can also be set with an environment variable LATCH_<NAME>
// (dashes become underscores); a flag given on the command line wins.
// Run `latch serve -h` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/latchgo/latch/internal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return // the help that was asked for is printed
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "latch:", err)
		os.Exit(1)
	}
}

const usage = `usage: latch [command] [flags]

commands:
  serve                 run the web site (the default)
  migrate               create or upgrade the database schema, then exit
  user add|list|show|passwd|disable|enable|delete
                        manage accounts ("latch user help" lists them)
  sessions revoke USER  log a user (or -all: everyone) out everywhere
  import FILE           import users from CSV, JSON or a Flask-SQLAlchemy
                        SQLite database, keeping their password hashes

Every command takes the configuration flags of serve (-database, -redis, …)
or their LATCH_* variables. Run "latch <command> -h" for its flags.
`

// run is main without the process: tests call it with their own
// arguments, environment, input and output. stdin is read by the commands
// that ask for a password or a confirmation; when it is a terminal (an
// *os.File), they prompt on stderr without echo.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	std := stdio{in: stdin, out: stdout, errOut: stderr}
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		// latch -h: the commands, then the flags every command takes.
		fmt.Fprint(stdout, usage)
		fmt.Fprintln(stdout, "\nflags (of serve, and of every command):")
		server.PrintFlags(stdout)
		return nil
	}
	switch cmd {
	case "serve":
		cfg, _, err := server.ParseFlags("latch serve", args, getenv, stderr)
		if err != nil {
			return err
		}
		return server.Run(ctx, cfg, stderr, stdout)
	case "migrate":
		cfg, _, err := server.ParseFlags("latch migrate", args, getenv, stderr)
		if err != nil {
			return err
		}
		return migrate(ctx, cfg, stdout)
	case "user":
		return runUser(ctx, args, getenv, std)
	case "sessions":
		return runSessions(ctx, args, getenv, std)
	case "import":
		return runImport(ctx, args, getenv, std)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func migrate(ctx context.Context, cfg *server.Config, out io.Writer) error {
	b, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	sessions, accounts, err := server.SchemaVersions(ctx, b)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "latch: database schema is at version %d (sessions) and %d (accounts)\n", sessions, accounts)
	return nil
}
