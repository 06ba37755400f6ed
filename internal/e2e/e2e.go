// Package e2e drives the real latch site with a real browser (Debian's
// Chromium through chromedp). Its tests sign up, log in, restart the
// browser, attack the site from another origin and look at what a person
// sees; the screenshots command (internal/cmd/screenshots) uses the same
// helpers to start the site and the browser.
//
// The tests need Chromium: they use $LATCH_TEST_CHROMIUM, else
// /usr/bin/chromium, and skip when neither exists. CI installs the
// chromium package and fails when they skip.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchgo/latch/internal/server"
)

// ChromiumEnv names the variable that points the tests at a Chromium (or
// Chrome) binary.
const ChromiumEnv = "LATCH_TEST_CHROMIUM"

// DefaultChromium is where Debian's chromium package installs the browser.
const DefaultChromium = "/usr/bin/chromium"

// FindChromium returns the browser to run: $LATCH_TEST_CHROMIUM if set,
// else /usr/bin/chromium if it exists, else "".
func FindChromium(getenv func(string) string) string {
	if p := getenv(ChromiumEnv); p != "" {
		return p
	}
	if _, err := os.Stat(DefaultChromium); err == nil {
		return DefaultChromium
	}
	return ""
}

// AllocatorOptions are the options for chromedp.NewExecAllocator: headless
// Chromium at execPath with its profile in userDataDir, and everything that
// would make it talk to the network on its own turned off. The tests only
// ever reach 127.0.0.1; without these flags Chromium keeps trying to reach
// its vendor's services, which floods a machine with no other network.
// Some of the flags repeat chromedp's defaults on purpose: they must hold
// whatever those defaults become.
func AllocatorOptions(execPath, userDataDir string) []chromedp.ExecAllocatorOption {
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	return append(opts,
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(userDataDir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("no-proxy-server", true),
		// localhost is 127.0.0.1, where the sites listen, never ::1.
		chromedp.Flag("host-resolver-rules", "MAP localhost 127.0.0.1"),
		chromedp.WindowSize(1280, 800),
	)
}

// Site is the real latch site (SQLite database, real password hasher)
// served on a real listener on 127.0.0.1.
type Site struct {
	// URL is the site's origin, http://127.0.0.1:PORT (or localhost), also
	// its base URL.
	URL string
	App *server.App

	srv     *http.Server
	backend server.Backend
	done    chan struct{}
}

// StartSite serves the site on 127.0.0.1 with its database in dir. The
// base URL is the served origin, so the site's cross-origin checks see the
// browser's real origin. Logs go to logOut (io.Discard to drop them).
func StartSite(ctx context.Context, dir string, logOut io.Writer, args ...string) (*Site, error) {
	return startSite(ctx, "127.0.0.1", dir, logOut, args)
}

// StartLocalhostSite is StartSite with the base URL http://localhost:PORT
// (still served on 127.0.0.1): passkeys need a host name, and browsers
// refuse them on an IP address.
func StartLocalhostSite(ctx context.Context, dir string, logOut io.Writer, args ...string) (*Site, error) {
	return startSite(ctx, "localhost", dir, logOut, args)
}

func startSite(ctx context.Context, host, dir string, logOut io.Writer, args []string) (*Site, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	url := "http://" + net.JoinHostPort(host, port)
	flags := append([]string{"-database", filepath.Join(dir, "latch.db"), "-base-url", url, "-addr", ln.Addr().String()}, args...)
	cfg, _, err := server.ParseFlags("e2e", flags, func(string) string { return "" }, io.Discard)
	if err != nil {
		ln.Close()
		return nil, err
	}
	backend, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	app, err := server.NewApp(cfg, backend, logger)
	if err != nil {
		ln.Close()
		backend.Close()
		return nil, err
	}
	s := &Site{
		URL:     url,
		App:     app,
		srv:     &http.Server{Handler: app.Site.Handler(), ReadHeaderTimeout: 10 * time.Second},
		backend: backend,
		done:    make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("serve", "err", err)
		}
	}()
	return s, nil
}

// Close stops the server (connections still open are closed), finishes
// the app's background work and closes the database.
func (s *Site) Close() error {
	err := s.srv.Close()
	<-s.done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, s.App.Close(ctx), s.backend.Close())
}
