package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
)

// The side-by-side comparison (latch-load -compare): the logged-in profile
// page of the latch site, the same page without latch (the latchbench
// binary's /_bench/noauth/ route: same handler, same database read, no
// session), and a plain Go page (plain.go: the same markup from a map), in
// interleaved windows, so that drift of the machine hits all of them
// alike. With -compare-postgres and -compare-redis, the same on two latch
// instances sharing PostgreSQL and Redis.

// Comparison is what -compare measured.
type Comparison struct {
	Machine     Machine         `json:"machine"`
	Tool        string          `json:"tool"`
	Connections int             `json:"connections"`
	Window      string          `json:"window"`
	SQLite      CompareRun      `json:"sqlite"`
	Cluster     *CompareCluster `json:"postgres_redis,omitempty"`
	Targets     []Check         `json:"targets"`
}

// CompareRun is one backend's windows: requests/s of each page per round,
// and the ratios of each round.
type CompareRun struct {
	Plain      []float64 `json:"plain_per_sec"`
	NoAuth     []float64 `json:"noauth_per_sec"`
	Auth       []float64 `json:"auth_per_sec"`
	AuthPlain  Spread    `json:"auth_over_plain"`
	AuthNoAuth Spread    `json:"auth_over_noauth"`
}

// CompareCluster is the two-instance run on PostgreSQL and Redis.
type CompareCluster struct {
	Plain     []float64 `json:"plain_per_sec"`
	One       []float64 `json:"one_instance_per_sec"`   // load on instance A, B running idle
	Both      []float64 `json:"both_instances_per_sec"` // load split over A and B at once, the sum
	OnePlain  Spread    `json:"one_instance_over_plain"`
	BothPlain Spread    `json:"per_instance_over_plain"` // (both ÷ 2) ÷ plain
}

// Spread is the median of a ratio over the rounds, with its range.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func spread(num, den []float64, scale float64) Spread {
	var r []float64
	for i := range min(len(num), len(den)) {
		if den[i] > 0 {
			r = append(r, num[i]*scale/den[i])
		}
	}
	if len(r) == 0 {
		return Spread{}
	}
	slices.Sort(r)
	med := r[len(r)/2]
	if len(r)%2 == 0 {
		med = (r[len(r)/2-1] + r[len(r)/2]) / 2
	}
	return Spread{Median: med, Min: r[0], Max: r[len(r)-1]}
}

func (s Spread) String() string {
	return fmt.Sprintf("%.3f (%.3f–%.3f)", s.Median, s.Min, s.Max)
}

// target is one page under load: the server answering it, the path, and
// the headers a request carries.
type target struct {
	srv    *server
	path   string
	cookie string
}

// loader measures requests/s of one or more targets at once for a
// window, with wrk when it is installed (lighter than any Go client, so
// the generator takes less of the machine from the servers) or with the
// Go client of this command.
type loader struct {
	tool  string // "wrk" or "go"
	conns int
}

func (l loader) measure(ctx context.Context, d time.Duration, targets ...target) (float64, error) {
	pids := make([]int, 0, len(targets))
	for _, t := range targets {
		pids = append(pids, t.srv.cmd.Process.Pid)
	}
	waitQuiet(pids[0])
	per := max(1, l.conns/len(targets))
	rates := make([]float64, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { rates[i], errs[i] = l.one(ctx, d, per, t) })
	}
	wg.Wait()
	var sum float64
	for _, r := range rates {
		sum += r
	}
	return sum, errors.Join(errs...)
}

func (l loader) one(ctx context.Context, d time.Duration, conns int, t target) (float64, error) {
	if l.tool == "go" {
		c := newClient(t.srv.base, conns)
		defer c.close()
		rec, el := closedLoopRec(ctx, conns, d, func(ctx context.Context, _, _ int) (int, error) {
			r, err := c.do(ctx, "GET", t.path, nil, pageClientIP, t.cookie)
			return r.status, err
		})
		st := rec.stats(el, 200)
		if st.OK != st.Requests {
			return st.PerSec, fmt.Errorf("%s: %s", t.path, statusMix(st))
		}
		return st.PerSec, nil
	}
	args := []string{"-t", strconv.Itoa(min(conns, 2)), "-c", strconv.Itoa(conns),
		"-d", strconv.Itoa(int(d.Round(time.Second)/time.Second)) + "s",
		"-H", "X-Forwarded-For: " + pageClientIP, "-H", "Accept: text/html"}
	if t.cookie != "" {
		args = append(args, "-H", "Cookie: "+t.cookie)
	}
	out, err := exec.CommandContext(ctx, "wrk", append(args, t.srv.base+t.path)...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk %s: %w\n%s", t.path, err, out)
	}
	return parseWrk(out)
}

// parseWrk reads wrk's Requests/sec, refusing a run that had errors or
// answers other than 2xx/3xx (a page that answered 303 to the login page
// would be measured as fast, and wrong).
func parseWrk(out []byte) (float64, error) {
	if bytes.Contains(out, []byte("Non-2xx or 3xx responses")) || bytes.Contains(out, []byte("Socket errors")) {
		return 0, fmt.Errorf("wrk saw failed requests:\n%s", out)
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Requests/sec:"); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no Requests/sec in wrk's output:\n%s", out)
}

type compareOptions struct {
	postgres, redis string
	tool            string
	conns           int
}

func compare(ctx context.Context, o options, co compareOptions) (*Comparison, error) {
	tool := co.tool
	if tool == "auto" {
		tool = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			tool = "wrk"
		}
	}
	if tool != "go" && tool != "wrk" {
		return nil, fmt.Errorf("-tool %q: want go, wrk or auto", co.tool)
	}
	win := o.duration / time.Duration(o.rounds)
	loadavg, _ := os.ReadFile("/proc/loadavg")
	res := &Comparison{
		Machine: Machine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPU: cpuModel(), Go: goVersion(ctx),
			Date: time.Now().UTC().Format(time.RFC3339), LoadAvg: strings.TrimSpace(string(loadavg))},
		Tool: tool, Connections: co.conns, Window: win.String(),
	}
	l := loader{tool: tool, conns: co.conns}

	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "latch-load-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		progress("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	bench := filepath.Join(tmp, "latch-bench")
	progress("building %s/cmd/latch with -tags latchbench", root)
	if err := buildServer(ctx, root, bench, "latchbench"); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(tmp, "server.log")

	// SQLite: one instance, as `go run ./cmd/latch` runs.
	s, err := startServer(ctx, bench, filepath.Join(tmp, "latch.db"), logPath, "", nil)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	cookie, users, err := populate(ctx, s)
	if err != nil {
		return nil, err
	}
	usersFile := filepath.Join(tmp, "users.json")
	b, _ := json.Marshal(users)
	if err := os.WriteFile(usersFile, b, 0o600); err != nil {
		return nil, err
	}
	plain, err := startProcess(ctx, filepath.Join(tmp, "plain.log"), nil, self, "-serve-plain", usersFile, "-plain-viewer", username(0))
	if err != nil {
		return nil, fmt.Errorf("the plain page server: %w", err)
	}
	defer plain.stop()

	page := "/user/" + username(1)
	plainT := target{srv: plain, path: page}
	noauthT := target{srv: s, path: "/_bench/noauth" + page, cookie: cookie}
	authT := target{srv: s, path: page, cookie: cookie}
	progress("SQLite: plain page, page without latch, page with latch; %d rounds of %s each, %s, %d connections", o.rounds, win, tool, co.conns)
	for _, t := range []target{plainT, noauthT, authT} { // warm up, off the record
		if _, err := l.measure(ctx, time.Second, t); err != nil {
			return nil, err
		}
	}
	run := &res.SQLite
	for range o.rounds {
		for _, m := range []struct {
			t   target
			out *[]float64
		}{{plainT, &run.Plain}, {noauthT, &run.NoAuth}, {authT, &run.Auth}} {
			v, err := l.measure(ctx, win, m.t)
			if err != nil {
				return nil, err
			}
			*m.out = append(*m.out, v)
		}
	}
	run.AuthPlain, run.AuthNoAuth = spread(run.Auth, run.Plain, 1), spread(run.Auth, run.NoAuth, 1)
	s.stop()
	res.Targets = append(res.Targets,
		Check{"SQLite: latch page ÷ plain Go page", run.AuthPlain.Median, ">=", 0.6, run.AuthPlain.Median >= 0.6},
		Check{"SQLite: latch page ÷ same page without latch", run.AuthNoAuth.Median, ">=", 0.9, run.AuthNoAuth.Median >= 0.9})

	if co.postgres != "" {
		cl, err := compareCluster(ctx, l, o, co, bench, tmp, plainT)
		if err != nil {
			return nil, err
		}
		res.Cluster = cl
		res.Targets = append(res.Targets,
			Check{"PostgreSQL + Redis, two instances: per instance ÷ plain Go page", cl.BothPlain.Median, ">=", 0.5, cl.BothPlain.Median >= 0.5})
	}
	res.Machine.QuietWait = quietTotal.Round(time.Second).String()
	return res, nil
}

// populate signs up two users on s and logs the first in: its cookie
// views the second's profile.
func populate(ctx context.Context, s *server) (string, []plainUser, error) {
	c := newClient(s.base, 4)
	defer c.close()
	var users []plainUser
	for i := range 2 {
		r, err := c.do(ctx, "POST", "/signup", url.Values{"username": {username(i)}, "email": {email(i)}, "password": {userPassword}}, nextIP(), "")
		if err != nil || r.status != 303 {
			return "", nil, fmt.Errorf("sign up %s: status %d, %v", username(i), r.status, err)
		}
		users = append(users, plainUser{Username: username(i), Created: time.Now().UTC()})
	}
	cookie, err := login(ctx, c, 0, pageClientIP)
	return cookie, users, err
}

// compareCluster runs two latch instances on a fresh schema of
// co.postgres, with sessions in co.redis, and compares one instance under
// load, and both at once, with the plain page.
func compareCluster(ctx context.Context, l loader, o options, co compareOptions, bench, tmp string, plainT target) (*CompareCluster, error) {
	b := make([]byte, 6)
	rand.Read(b)
	schema := "latch_load_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, co.postgres)
	if err != nil {
		return nil, fmt.Errorf("-compare-postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, fmt.Errorf("-compare-postgres: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "DROP SCHEMA "+schema+" CASCADE") //nolint:errcheck // best effort
	u, err := url.Parse(co.postgres)
	if err != nil {
		return nil, fmt.Errorf("-compare-postgres: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	env := []string{"LATCH_REDIS=" + co.redis, "LATCH_REDIS_PREFIX=" + schema + ":"}
	var inst [2]*server
	for i := range inst {
		if inst[i], err = startServer(ctx, bench, u.String(), filepath.Join(tmp, fmt.Sprintf("instance-%d.log", i)), "", env); err != nil {
			return nil, err
		}
		defer inst[i].stop()
	}
	cookie, _, err := populate(ctx, inst[0])
	if err != nil {
		return nil, err
	}
	page := "/user/" + username(1)
	a, bT := target{srv: inst[0], path: page, cookie: cookie}, target{srv: inst[1], path: page, cookie: cookie}
	progress("PostgreSQL + Redis, two instances: plain page, one instance, both at once; %d rounds", o.rounds)
	for _, t := range []target{a, bT} {
		if _, err := l.measure(ctx, time.Second, t); err != nil {
			return nil, fmt.Errorf("the session made on instance A, on instance %s: %w", t.srv.base, err)
		}
	}
	win := o.duration / time.Duration(o.rounds)
	cl := &CompareCluster{}
	for range o.rounds {
		for _, m := range []struct {
			ts  []target
			out *[]float64
		}{{[]target{plainT}, &cl.Plain}, {[]target{a}, &cl.One}, {[]target{a, bT}, &cl.Both}} {
			v, err := l.measure(ctx, win, m.ts...)
			if err != nil {
				return nil, err
			}
			*m.out = append(*m.out, v)
		}
	}
	cl.OnePlain, cl.BothPlain = spread(cl.One, cl.Plain, 1), spread(cl.Both, cl.Plain, 0.5)
	return cl, nil
}

func printComparison(out io.Writer, c *Comparison) {
	m := c.Machine
	fmt.Fprintf(out, "latch-load -compare  %s  %d cores (GOMAXPROCS %d), %s, %s\n", m.Date, m.Cores, m.GOMAXPROCS, m.CPU, m.Go)
	fmt.Fprintf(out, "GET /user/{name} logged in; %s, %d connections, windows of %s interleaved; load average at start %s; waited %s for a quiet machine\n\n",
		c.Tool, c.Connections, c.Window, m.LoadAvg, m.QuietWait)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "page\treq/s per round\tmedian\t÷ plain (median, range)")
	row := func(name string, v []float64, ratio string) {
		med := spread(v, slices.Repeat([]float64{1}, len(v)), 1).Median
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\n", name, perRound(v), med, ratio)
	}
	s := c.SQLite
	row("plain Go page (map, html/template)", s.Plain, "1")
	row("site page without latch (SQLite)", s.NoAuth, spread(s.NoAuth, s.Plain, 1).String())
	row("latch, SQLite", s.Auth, s.AuthPlain.String())
	if cl := c.Cluster; cl != nil {
		row("plain Go page (again)", cl.Plain, "1")
		row("latch, PostgreSQL + Redis, instance A alone", cl.One, cl.OnePlain.String())
		row("latch, both instances at once (sum)", cl.Both, "per instance "+cl.BothPlain.String())
	}
	tw.Flush()
	fmt.Fprintf(out, "\nlatch ÷ the same page without latch (SQLite): %s\n\n", s.AuthNoAuth)
	for _, t := range c.Targets {
		met := "met"
		if !t.Met {
			met = "NOT met"
		}
		fmt.Fprintf(out, "%-66s %.3f %s %.2f  %s\n", t.Figure, t.Value, t.Op, t.Target, met)
	}
}

func perRound(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strings.Join(parts, " ")
}
