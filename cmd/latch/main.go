// Command latch runs the latch web site and its administration commands.
//
//	latch [serve] [flags]   run the site (default http://127.0.0.1:8080)
//	latch migrate [flags]   create or upgrade the database schema and exit
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
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "latch:", err)
		os.Exit(1)
	}
}

const usage = `usage: latch [command] [flags]

commands:
  serve     run the web site (the default)
  migrate   create or upgrade the database schema, then exit

Run "latch <command> -h" for the flags of a command.
`

// run is main without the process: tests call it with their own
// arguments, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
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
	case "help", "-h", "--help":
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
	v, err := server.SchemaVersion(ctx, b)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "latch: database schema is at version %d\n", v)
	return nil
}
