// Package server wires the latch site together: configuration from flags
// and LATCH_* variables, storage backends, the login manager, the account
// service, and an HTTP server that shuts down gracefully.
package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is everything `latch serve` and the other subcommands can be told.
type Config struct {
	Addr            string
	AdminAddr       string
	BaseURL         *url.URL
	Database        string
	Redis           string
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	Remember        time.Duration
	TrustedProxies  []netip.Prefix
	SMTP            string
	SMTPFrom        string
	RequireConfirm  bool
	PasswordMin     int
	LogLevel        slog.Level
	LogFormat       string
}

// flagSpec is one flag: its name is also its variable, LATCH_ + the name
// upper-cased with dashes turned into underscores.
type flagSpec struct {
	name, def, usage string
}

var flagSpecs = []flagSpec{
	{"addr", "127.0.0.1:8080", "address to listen on"},
	{"admin-addr", "", "optional address for /metrics, /livez and /readyz (keep it private)"},
	{"base-url", "http://127.0.0.1:8080", "public URL of the site (https turns on Secure cookies and HSTS)"},
	{"database", "latch.db", "SQLite file, or a postgres:// URL"},
	{"redis", "", "optional redis:// URL for sessions and rate limits"},
	{"session-idle", "30m", "log out after this long without a request"},
	{"session-lifetime", "12h", "log out this long after logging in, however busy"},
	{"remember", "720h", `how long "remember me" lasts`},
	{"trusted-proxies", "", "comma-separated networks (CIDR) whose X-Forwarded-For is believed"},
	{"smtp", "", "smtp://user:pass@host:port for outgoing mail (STARTTLS); empty writes mails to the log"},
	{"smtp-from", "", `sender of mails (default "latch <no-reply@HOST>" with the host of -base-url)`},
	{"require-email-confirmation", "false", "refuse logins until the email address is confirmed"},
	{"password-min-length", "8", "shortest password accepted at sign-up and change (at least 8)"},
	{"log-level", "info", "debug, info, warn or error"},
	{"log-format", "text", "text or json"},
}

// EnvName is the variable that sets a flag.
func EnvName(flagName string) string {
	return "LATCH_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// ParseFlags reads the configuration from args, with LATCH_* variables
// (through getenv) as defaults that flags override. Errors name the flag.
func ParseFlags(name string, args []string, getenv func(string) string, out io.Writer) (*Config, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	values := map[string]*string{}
	for _, f := range flagSpecs {
		def := f.def
		if v := getenv(EnvName(f.name)); v != "" {
			def = v
		}
		values[f.name] = fs.String(f.name, def, f.usage+" ("+EnvName(f.name)+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	cfg, err := build(values)
	if err != nil {
		return nil, nil, err
	}
	return cfg, fs.Args(), nil
}

func build(v map[string]*string) (*Config, error) {
	cfg := &Config{
		Addr: *v["addr"], AdminAddr: *v["admin-addr"], Database: *v["database"], Redis: *v["redis"],
		LogFormat: *v["log-format"], SMTP: *v["smtp"], SMTPFrom: *v["smtp-from"],
	}
	var errs []error
	bad := func(flagName, format string, args ...any) {
		errs = append(errs, fmt.Errorf("-%s: %s", flagName, fmt.Sprintf(format, args...)))
	}
	u, err := url.Parse(*v["base-url"])
	switch {
	case err != nil:
		bad("base-url", "%v", err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.User != nil, u.RawQuery != "", u.Fragment != "":
		bad("base-url", "want http(s)://host[:port], got %q", *v["base-url"])
	case u.Path != "" && u.Path != "/":
		bad("base-url", "the site must be served at the root of its host, got path %q", u.Path)
	default:
		u.Path = ""
		cfg.BaseURL = u
	}
	if cfg.Addr == "" {
		bad("addr", "must not be empty")
	}
	if cfg.AdminAddr != "" && cfg.AdminAddr == cfg.Addr {
		bad("admin-addr", "must differ from -addr: metrics are not for the public")
	}
	if cfg.Database == "" {
		bad("database", "must not be empty")
	}
	if cfg.Redis != "" && !strings.HasPrefix(cfg.Redis, "redis://") && !strings.HasPrefix(cfg.Redis, "rediss://") {
		bad("redis", "want a redis:// or rediss:// URL")
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
		min  time.Duration
	}{
		{"session-idle", &cfg.SessionIdle, time.Minute},
		{"session-lifetime", &cfg.SessionLifetime, time.Minute},
		{"remember", &cfg.Remember, time.Hour},
	} {
		dur, err := time.ParseDuration(*v[d.name])
		if err != nil {
			bad(d.name, "want a duration such as 30m or 12h, got %q", *v[d.name])
			continue
		}
		if dur < d.min {
			bad(d.name, "must be at least %s", d.min)
			continue
		}
		*d.dst = dur
	}
	for p := range strings.SplitSeq(*v["trusted-proxies"], ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			if a, aerr := netip.ParseAddr(p); aerr == nil {
				prefix = netip.PrefixFrom(a, a.BitLen())
			} else {
				bad("trusted-proxies", "%q is not a network or address", p)
				continue
			}
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, prefix.Masked())
	}
	if b, err := strconv.ParseBool(*v["require-email-confirmation"]); err != nil {
		bad("require-email-confirmation", "want true or false")
	} else {
		cfg.RequireConfirm = b
	}
	if n, err := strconv.Atoi(*v["password-min-length"]); err != nil || n < 8 || n > 128 {
		bad("password-min-length", "want a number from 8 to 128")
	} else {
		cfg.PasswordMin = n
	}
	if cfg.SMTP != "" && !strings.HasPrefix(cfg.SMTP, "smtp://") && !strings.HasPrefix(cfg.SMTP, "smtps://") {
		bad("smtp", "want an smtp:// or smtps:// URL")
	}
	if cfg.SMTPFrom == "" && cfg.BaseURL != nil {
		cfg.SMTPFrom = "latch <no-reply@" + cfg.BaseURL.Hostname() + ">"
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*v["log-level"])); err != nil {
		bad("log-level", "want debug, info, warn or error")
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		bad("log-format", "want text or json")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// Secure reports whether the site is served over HTTPS.
func (c *Config) Secure() bool { return c.BaseURL.Scheme == "https" }

// NewLogger builds the logger the configuration asks for.
func (c *Config) NewLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
