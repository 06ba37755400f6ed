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
	"net"
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
	RedisPrefix     string
	DBMaxConns      int
	DBTimeout       time.Duration
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	Remember        time.Duration
	TrustedProxies  []netip.Prefix
	SMTP            string
	SMTPFrom        string
	RequireConfirm  bool
	Require2FA      bool
	ReauthAfter     time.Duration
	PasswordMin     int
	HashConcurrency int
	CacheEntries    int
	IPv6Prefix      int
	LogLevel        slog.Level
	LogFormat       string
	// BaseURLFromAddr: -base-url was not given, so BaseURL follows -addr
	// (Run sets it from the address it listens on, which -addr :0 picks).
	BaseURLFromAddr bool
	// Warnings are settings that work but are likely mistakes; Run logs
	// them at start.
	Warnings []string
}

// flagSpec is one flag: its name is also its variable, LATCH_ + the name
// upper-cased with dashes turned into underscores.
type flagSpec struct {
	name, def, usage string
	boolean          bool
}

// textFlag is a flag whose text build checks and converts. Help shows its
// kind from the usage (-session-idle duration) and its default unquoted.
type textFlag struct{ v *string }

func (f textFlag) String() string {
	if f.v == nil {
		return ""
	}
	return *f.v
}
func (f textFlag) Set(s string) error { *f.v = s; return nil }

// boolFlag is a textFlag that, like flag.Bool, may be given without a
// value ("-require-email-confirmation").
type boolFlag struct{ textFlag }

func (b boolFlag) IsBoolFlag() bool { return true }

// define adds the flags to fs, with defaults taken from def.
func define(fs *flag.FlagSet, def func(flagSpec) string) map[string]*string {
	values := map[string]*string{}
	for _, f := range flagSpecs {
		v := def(f)
		values[f.name] = &v
		var value flag.Value = textFlag{&v}
		if f.boolean {
			value = boolFlag{textFlag{&v}}
		}
		fs.Var(value, f.name, f.usage+" ("+EnvName(f.name)+")")
		// Help shows the built-in default, never a LATCH_* value: those
		// may hold credentials (a postgres:// or smtp:// URL with a
		// password).
		fs.Lookup(f.name).DefValue = f.def
	}
	return values
}

var flagSpecs = []flagSpec{
	{name: "addr", def: "127.0.0.1:8080", usage: "`host:port` to listen on"},
	{name: "admin-addr", def: "", usage: "optional `host:port` for /metrics, /livez and /readyz (keep it private)"},
	{name: "base-url", def: "", usage: "public `URL` of the site, for links in mails and cross-origin checks (default http:// and -addr; https turns on Secure cookies and HSTS)"},
	{name: "database", def: "latch.db", usage: "SQLite `file`, or a postgres:// URL"},
	{name: "redis", def: "", usage: "optional redis:// `URL` for sessions and rate limits"},
	{name: "redis-prefix", def: "latch:", usage: "`prefix` of every Redis key, so sites can share a Redis"},
	{name: "db-max-conns", def: "10", usage: "`number` of PostgreSQL connections per instance"},
	{name: "db-timeout", def: "5s", usage: "PostgreSQL connect and statement timeout (a `duration`)"},
	{name: "session-idle", def: "30m", usage: "log out after this `duration` without a request"},
	{name: "session-lifetime", def: "12h", usage: "log out this `duration` after logging in, however busy"},
	{name: "remember", def: "720h", usage: "how long \"remember me\" lasts (a `duration`)"},
	{name: "trusted-proxies", def: "", usage: "comma-separated `networks` (CIDR) whose X-Forwarded-For is believed"},
	{name: "smtp", def: "", usage: "`smtp://user:pass@host:port` for outgoing mail (STARTTLS); empty writes mails to the log"},
	{name: "smtp-from", def: "", usage: "`sender` of mails (default \"latch <no-reply@HOST>\" with the host of -base-url)"},
	{name: "require-email-confirmation", def: "false", usage: "refuse logins until the email address is confirmed", boolean: true},
	{name: "require-two-factor", def: "false", usage: "make users set up two-factor authentication before using the site (ASVS 6.3.3)", boolean: true},
	{name: "reauth-after", def: "10m", usage: "ask for the password again before sensitive changes this `duration` after it was entered"},
	{name: "password-min-length", def: "8", usage: "shortest password accepted at sign-up and change (a `number`, at least 8)"},
	{name: "hash-concurrency", def: "0", usage: "`number` of password hashes computed at once (0: one per CPU but one, leaving a CPU for pages)"},
	{name: "ipv6-prefix", def: "64", usage: "leading `bits` of an IPv6 address that count as one client in the rate limits (a subscriber's /64)"},
	{name: "cache-entries", def: "10000", usage: "`number` of sessions (with their users) each instance keeps in its read cache; 0 turns the cache off"},
	{name: "log-level", def: "info", usage: "`level`: debug, info, warn or error"},
	{name: "log-format", def: "text", usage: "`format`: text or json"},
}

// IsBoolFlag reports whether the configuration flag name may be given
// without a value, for commands that sort their arguments themselves.
func IsBoolFlag(name string) bool {
	for _, f := range flagSpecs {
		if f.name == name {
			return f.boolean
		}
	}
	return false
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
	given := map[string]bool{}
	values := define(fs, func(f flagSpec) string {
		if v := getenv(EnvName(f.name)); v != "" {
			given[f.name] = true
			return v
		}
		return f.def
	})
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	cfg, err := build(values, given)
	if err != nil {
		return nil, nil, err
	}
	return cfg, fs.Args(), nil
}

// PrintFlags writes the configuration flags and their defaults, as -h
// shows them.
func PrintFlags(out io.Writer) {
	fs := flag.NewFlagSet("latch", flag.ContinueOnError)
	fs.SetOutput(out)
	define(fs, func(f flagSpec) string { return f.def })
	fs.PrintDefaults()
}

// baseFromAddr is the base URL of a site that listens on addr: http://
// and the address, with a loopback address for one that listens on every
// interface.
func baseFromAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// loopback reports whether host is a name or address of this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func build(v map[string]*string, given map[string]bool) (*Config, error) {
	cfg := &Config{
		Addr: *v["addr"], AdminAddr: *v["admin-addr"], Database: *v["database"], Redis: *v["redis"],
		LogFormat: *v["log-format"], SMTP: *v["smtp"], SMTPFrom: *v["smtp-from"], RedisPrefix: *v["redis-prefix"],
	}

	var errs []error
	bad := func(flagName, format string, args ...any) {
		errs = append(errs, fmt.Errorf("-%s: %s", flagName, fmt.Sprintf(format, args...)))
	}
	base := *v["base-url"]
	if !given["base-url"] {
		base, cfg.BaseURLFromAddr = baseFromAddr(cfg.Addr), true
	}
	u, err := url.Parse(base)
	switch {
	case err != nil:
		bad("base-url", "%v", err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.User != nil, u.RawQuery != "", u.Fragment != "":
		bad("base-url", "want http(s)://host[:port], got %q", base)
	case u.Path != "" && u.Path != "/":
		bad("base-url", "the site must be served at the root of its host, got path %q", u.Path)
	default:
		u.Path = ""
		cfg.BaseURL = u
	}
	if cfg.Addr == "" {
		bad("addr", "must not be empty")
	}
	// A site on this machine whose -base-url names another port than it
	// listens on sends mails with links that lead nowhere.
	if cfg.BaseURL != nil && given["base-url"] && given["addr"] && loopback(cfg.BaseURL.Hostname()) {
		_, port, err := net.SplitHostPort(cfg.Addr)
		want := cfg.BaseURL.Port()
		if want == "" {
			want = map[string]string{"http": "80", "https": "443"}[cfg.BaseURL.Scheme]
		}
		if err == nil && port != want && port != "0" {
			cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("-base-url %s names port %s of this machine, but -addr listens on %s: links in mails will not reach the site", cfg.BaseURL, want, cfg.Addr))
		}
	}
	if n, err := strconv.Atoi(*v["db-max-conns"]); err != nil || n < 1 || n > 1000 {
		bad("db-max-conns", "want a number from 1 to 1000")
	} else {
		cfg.DBMaxConns = n
	}
	if d, err := time.ParseDuration(*v["db-timeout"]); err != nil || d < 100*time.Millisecond {
		bad("db-timeout", "want a duration of at least 100ms, such as 5s")
	} else {
		cfg.DBTimeout = d
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
		{"reauth-after", &cfg.ReauthAfter, time.Minute},
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
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"require-email-confirmation", &cfg.RequireConfirm}, {"require-two-factor", &cfg.Require2FA}} {
		on, err := strconv.ParseBool(*v[b.name])
		if err != nil {
			bad(b.name, "want true or false")
			continue
		}
		*b.dst = on
	}
	if n, err := strconv.Atoi(*v["hash-concurrency"]); err != nil || n < 0 || n > 256 {
		bad("hash-concurrency", "want a number from 0 (automatic) to 256")
	} else {
		cfg.HashConcurrency = n
	}
	if n, err := strconv.Atoi(*v["ipv6-prefix"]); err != nil || n < 32 || n > 128 {
		bad("ipv6-prefix", "want a number of bits from 32 to 128")
	} else {
		cfg.IPv6Prefix = n
	}
	if n, err := strconv.Atoi(*v["cache-entries"]); err != nil || n < 0 || n > 10_000_000 {
		bad("cache-entries", "want a number from 0 (off) to 10000000")
	} else {
		cfg.CacheEntries = n
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
