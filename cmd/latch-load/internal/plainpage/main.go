// Command plainpage is the ceiling that "latch-load -compare" measures the
// latch site against: GET /user/{username} served by net/http and
// html/template from a map in memory, with no authentication, no
// middleware and no database.
//
// It renders the site's own templates (layout.html and profile.html of
// internal/site/templates, read from disk once at start-up, so
// internal/site needs no exported hook) with the same data the site's
// page without latch renders: the profile of the user, no current user,
// no flash messages. Its body is therefore byte for byte the body of
// /_bench/noauth/user/{username} (latch-load checks that at every run);
// what it leaves out is everything around the body: the site's security
// headers, request log, panic recovery, body limit, CSRF check, and of
// course the session and the database.
//
// latch-load builds it into its temporary directory and runs it as
//
//	plainpage -addr 127.0.0.1:0 -templates DIR -users FILE
//
// where FILE is JSON: [{"username": "...", "created_at": "RFC 3339"}, …].
// It prints "plainpage: serving on http://ADDR" once it listens, answers
// GET /healthz, and shuts down on SIGTERM or SIGINT.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// user is what the profile template reads of a user.
type user struct {
	Username  string    `json:"username"`
	CreatedAt time.Time `json:"created_at"`
}

// flash mirrors the fields of latch.Flash the layout reads.
type flash struct{ Category, Message string }

// view has the fields of the site's view that layout.html and
// profile.html use, under the same names.
type view struct {
	Title   string
	User    *user // always nil: nobody is logged in here
	Flashes []flash
	Profile *user
	Own     bool
	Narrow  bool   // a page of one small form: never the profile
	Script  string // a page's script: never on the profile
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "plainpage:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("plainpage", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	dir := fs.String("templates", "", "directory with the site's layout.html and profile.html")
	usersFile := fs.String("users", "", "JSON file of the users to serve")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *usersFile == "" {
		return errors.New("-templates and -users are required")
	}
	b, err := os.ReadFile(*usersFile)
	if err != nil {
		return err
	}
	var users []user
	if err := json.Unmarshal(b, &users); err != nil {
		return fmt.Errorf("%s: %w", *usersFile, err)
	}
	h, err := newHandler(*dir, users)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Printf("plainpage: serving on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHandler parses layout.html and profile.html of dir and returns the
// handler of the plain page over users.
func newHandler(dir string, list []user) (http.Handler, error) {
	tpl, err := template.ParseFiles(filepath.Join(dir, "layout.html"), filepath.Join(dir, "profile.html"))
	if err != nil {
		return nil, err
	}
	users := make(map[string]*user, len(list))
	for i := range list {
		users[list[i].Username] = &list[i]
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user/{username}", func(w http.ResponseWriter, r *http.Request) {
		u, ok := users[r.PathValue("username")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		// Rendered into a buffer first, as the site does, so that a
		// template error is a clean 500 and Content-Length is known.
		var buf bytes.Buffer
		if err := tpl.ExecuteTemplate(&buf, "layout", &view{Title: u.Username, Profile: u}); err != nil {
			http.Error(w, "Something went wrong.", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux, nil
}
