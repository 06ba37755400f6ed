package main

// -compare: the side-by-side figures of issue 10 ("An authenticated page
// as fast as a plain Go page"). One run measures, in interleaved passes
// and with the same number of keep-alive connections,
//
//   - plain:   a plain Go page (./internal/plainpage): GET /user/{name}
//     from a map in memory with net/http + html/template, rendering the
//     site's own profile templates; no auth, no middleware — the ceiling;
//   - nolatch: the site's same page without latch
//     (/_bench/noauth/user/{name} of the -tags latchbench binary, over
//     SQLite) — figure 1's denominator;
//   - latch:   the site's GET /user/{name} with a session cookie, same
//     process, same SQLite file;
//   - pg:      with -postgres and -redis, two latch instances over one
//     PostgreSQL schema and one Redis prefix, driven together (half of
//     the connections each), one session valid on both.
//
// and reports the median req/s of each across the passes with the min–max
// spread, and the ratios of the same passes: latch ÷ plain (goal ≥ 0.6),
// latch ÷ nolatch (≥ 0.9), and pg per instance ÷ plain (≥ 0.5).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// Goals of issue 10.
const (
	goalLatchPlain   = 0.6
	goalLatchNoLatch = 0.9
	goalPGPlain      = 0.5
)

// CompareResult is everything one -compare run measured.
type CompareResult struct {
	Machine  Machine        `json:"machine"`
	Options  CompareOpts    `json:"options"`
	Pages    []PageInfo     `json:"pages"`
	Systems  []SystemResult `json:"systems"`
	Ratios   []RatioResult  `json:"ratios"`
	Targets  []Check        `json:"targets"`
	Warnings []string       `json:"warnings,omitempty"`
	Markdown string         `json:"markdown"` // the paragraph for BENCHMARKS.md
}

type CompareOpts struct {
	Command       string `json:"command"` // the command line, URLs left out
	Window        string `json:"window"`  // one system's share of one pass
	Passes        int    `json:"passes"`
	Connections   int    `json:"connections"`
	Generator     string `json:"generator"`
	Users         int    `json:"users"`
	PostgresRedis bool   `json:"postgres_redis"`
	ServerEnv     string `json:"server_env,omitempty"`
}

// PageInfo describes the answer each system gives, fetched once before
// the passes.
type PageInfo struct {
	System        string `json:"system"`
	Path          string `json:"path"`
	Status        int    `json:"status"`
	BodyBytes     int    `json:"body_bytes"`
	ResponseBytes int    `json:"response_bytes"` // status line, headers and body, as Go's client read them
}

// Window is what one system (one instance of the pair) did in one pass.
type Window struct {
	Requests      int     `json:"requests"`
	OK            int     `json:"ok"` // answers 200 (wrk: responses below 400; each window is followed by a check that the session still works)
	Seconds       float64 `json:"seconds"`
	PerSec        float64 `json:"per_sec"` // OK answers per second
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	NotOK         int     `json:"not_ok,omitempty"` // other answers and errors
	BytesPerReply float64 `json:"bytes_per_reply,omitempty"`
	FirstErr      string  `json:"first_error,omitempty"`
}

// Spread is one figure measured once per pass.
type Spread struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Passes []float64 `json:"passes"`
}

// spreadOf summarises per-pass values. The median of an even number of
// values is the mean of the middle two.
func spreadOf(v []float64) Spread {
	s := Spread{Passes: slices.Clone(v)}
	if len(v) == 0 {
		return s
	}
	sorted := slices.Sorted(slices.Values(v))
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	if n := len(sorted); n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return s
}

// ratios divides num by den pass by pass: interleaved passes pair up, so
// drift of the machine between passes cancels out of each ratio. A pass
// whose denominator is zero gives NaN.
func ratios(num, den []float64) []float64 {
	out := make([]float64, min(len(num), len(den)))
	for i := range out {
		if den[i] == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = num[i] / den[i]
	}
	return out
}

// meanPerPass is the per-instance figure of several instances driven
// together: their mean, pass by pass.
func meanPerPass(series ...[]float64) []float64 {
	if len(series) == 0 {
		return nil
	}
	n := len(series[0])
	for _, s := range series[1:] {
		n = min(n, len(s))
	}
	out := make([]float64, n)
	for i := range out {
		for _, s := range series {
			out[i] += s[i]
		}
		out[i] /= float64(len(series))
	}
	return out
}

// SystemResult is one system's req/s over the passes.
type SystemResult struct {
	Key    string  `json:"key"`
	Name   string  `json:"name"`
	PerSec Spread  `json:"per_sec"`
	P50ms  float64 `json:"p50_ms"` // medians over the passes
	P99ms  float64 `json:"p99_ms"`
	// ServerCPUus is the server processes' CPU time per answer, µs:
	// what the server costs, whatever the load generator costs.
	ServerCPUus Spread   `json:"server_cpu_us_per_request"`
	Windows     []Window `json:"windows,omitempty"`
	CPU         CPUUse   `json:"cpu"`
	// CPUPasses is CPU use pass by pass: a pass where other processes
	// were busy is suspect.
	CPUPasses []CPUUse `json:"cpu_passes,omitempty"`
}

// RatioResult is a ratio of two systems, pass by pass.
type RatioResult struct {
	Key  string  `json:"key"`
	Name string  `json:"name"`
	Goal float64 `json:"goal,omitempty"` // at least; 0: informative
	Spread
}

// target is one server page a load is sent to.
type target struct {
	srv    *server
	c      *client
	path   string
	cookie string
	// check: after each window, the page must still answer 200 with the
	// cookie. A session that stopped working would turn into redirects
	// to /login, which wrk counts as successes.
	check bool
	wire  int // bytes of one answer, for the wrk sanity check
}

// compareSystem is one load: one target, or the two instances of the
// PostgreSQL pair, driven together.
type compareSystem struct {
	key, name string
	targets   []*target
	cpu       cpuAcc
	windows   [][]Window // [target][pass]
	cpuUs     []float64  // [pass] server CPU per OK answer, µs
	cpuPasses []CPUUse   // [pass]
}

// cpuPerRequest is the server CPU time per answer in µs (0 without
// answers).
func cpuPerRequest(cpu time.Duration, answers int) float64 {
	if answers <= 0 {
		return 0
	}
	return float64(cpu) / 1e3 / float64(answers)
}

// generator sends the load of one window.
type generator struct {
	wrk     bool
	threads int // wrk threads in all
}

func (g generator) describe() string {
	if g.wrk {
		return fmt.Sprintf("wrk -t%d", g.threads)
	}
	return "latch-load's Go client (net/http, one goroutine per connection)"
}

// window drives every target of sys at once for d, with conns connections
// split evenly among them, and returns one Window per target.
func (g generator) window(ctx context.Context, sys *compareSystem, conns int, d time.Duration) ([]Window, error) {
	n := len(sys.targets)
	out := make([]Window, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, t := range sys.targets {
		wg.Go(func() {
			if g.wrk {
				th := max(1, g.threads/n)
				c := max(th, conns/n/th*th) // wrk gives each thread connections/threads
				r, err := runWrk(ctx, t.srv.base+t.path, loadHeaders(t.cookie), th, c, d)
				if err != nil {
					errs[i] = err
					return
				}
				out[i] = windowFromWrk(r)
				return
			}
			rec, el := closedLoopRec(ctx, conns/n, d, func(ctx context.Context, _, _ int) (int, error) {
				r, err := t.c.do(ctx, "GET", t.path, nil, pageClientIP, t.cookie)
				return r.status, err
			})
			st := rec.stats(el, http.StatusOK)
			out[i] = Window{Requests: st.Requests, OK: st.OK, Seconds: st.Seconds, PerSec: st.PerSec,
				P50ms: st.P50ms, P99ms: st.P99ms, NotOK: st.Requests - st.OK, FirstErr: st.FirstErr}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, t := range sys.targets {
		if !t.check {
			continue
		}
		if r, err := t.c.do(ctx, "GET", t.path, nil, pageClientIP, t.cookie); err != nil || r.status != http.StatusOK {
			return nil, fmt.Errorf("%s: GET %s%s answered %d (%v) after the window: the session stopped working during it", sys.name, t.srv.base, t.path, r.status, err)
		}
	}
	return out, nil
}

// loadHeaders are the headers of every page request, whichever client
// sends it: the session may be bound to the client's address and agent
// (session protection), so wrk sends what the Go client logged in with.
func loadHeaders(cookie string) []string {
	h := []string{"User-Agent: latch-load/1", "Accept: text/html", "X-Forwarded-For: " + pageClientIP}
	if cookie != "" {
		h = append(h, "Cookie: "+cookie)
	}
	return h
}

// windowFromWrk turns wrk's report into a Window: wrk's Requests/sec
// counts every response, so it is scaled to the OK ones.
func windowFromWrk(r wrkResult) Window {
	w := Window{Requests: r.Requests, OK: r.Requests - r.Non2xx3xx, Seconds: r.Seconds,
		P50ms: r.P50ms, P99ms: r.P99ms, NotOK: r.Non2xx3xx + r.sockErrors()}
	if r.Requests > 0 {
		w.PerSec = r.ReqPerSec * float64(w.OK) / float64(r.Requests)
		w.BytesPerReply = r.Bytes / float64(r.Requests)
	}
	if r.Non2xx3xx > 0 {
		w.FirstErr = fmt.Sprintf("%d responses with a status above 399", r.Non2xx3xx)
	}
	if e := r.sockErrors(); e > 0 {
		w.FirstErr = strings.TrimPrefix(w.FirstErr+fmt.Sprintf("; socket errors: connect %d, read %d, write %d, timeout %d", r.Connect, r.Read, r.Write, r.Timeout), "; ")
	}
	return w
}

// childrenCPU is the CPU time of this process's children that have been
// waited for: the wrk processes (the servers run until the end).
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// snapCPUOf reads the CPU time of the machine, of the given server
// processes together, and of the load generator (this process and its
// finished children: wrk).
func snapCPUOf(pids []int) cpuSnap {
	s := cpuSnap{at: time.Now(), machine: machineBusy(), self: processCPU(os.Getpid()) + childrenCPU()}
	for _, p := range pids {
		s.srv += processCPU(p)
	}
	return s
}

// cleanups runs functions in reverse order of registration, like defer,
// for what runCompare starts in loops and branches.
type cleanups []func()

func (c *cleanups) add(f func()) { *c = append(*c, f) }

func (c cleanups) run() {
	for i := len(c) - 1; i >= 0; i-- {
		c[i]()
	}
}

// signUp signs up the -users accounts on srv and returns when each was
// created (the site stores the time of the request in UTC).
func signUp(ctx context.Context, c *client, n, workers int) ([]time.Time, error) {
	created := make([]time.Time, n)
	rec, _ := fixedLoop(ctx, workers, n, func(ctx context.Context, i int) (int, error) {
		r, err := c.do(ctx, "POST", "/signup", map[string][]string{
			"username": {username(i)}, "email": {email(i)}, "password": {userPassword},
		}, nextIP(), "")
		created[i] = time.Now().UTC()
		return r.status, err
	})
	if st := rec.stats(time.Second, http.StatusSeeOther); st.OK != n {
		return nil, fmt.Errorf("sign-ups: %d of %d succeeded (%s; %s)", st.OK, n, statusMix(st), st.FirstErr)
	}
	return created, nil
}

// fetch GETs base+path with the cookie and returns the status, the body
// and the size of the whole answer.
func fetch(ctx context.Context, c *client, base, path, cookie string) (status int, body []byte, wire int, err error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	if err != nil {
		return 0, nil, 0, err
	}
	for _, h := range loadHeaders(cookie) {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	dump, err := httputil.DumpResponse(resp, true)
	if err != nil {
		return 0, nil, 0, err
	}
	_, b, _ := strings.Cut(string(dump), "\r\n\r\n")
	return resp.StatusCode, []byte(b), len(dump), nil
}

// scratchSchema creates an empty schema with a random name in the
// database of pgURL and returns the URL with it as the search path, and
// a function that drops it with everything in it.
func scratchSchema(ctx context.Context, pgURL string) (string, string, func() error, error) {
	u, err := url.Parse(pgURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", nil, errors.New("-postgres must be a postgres:// URL")
	}
	schema := "latch_load_" + randomHex(6)
	run := func(stmt string) error {
		// WithoutCancel: the schema is dropped after an interrupt too.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pgURL)
		if err != nil {
			return fmt.Errorf("connect to -postgres: %w", err)
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, stmt)
		return err
	}
	if err := run("CREATE SCHEMA " + schema); err != nil {
		return "", "", nil, fmt.Errorf("create a scratch schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema, func() error { return run("DROP SCHEMA " + schema + " CASCADE") }, nil
}

// deleteRedisPrefix deletes every key under prefix (no glob characters).
func deleteRedisPrefix(ctx context.Context, redisURL, prefix string) error {
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		if err := c.Unlink(ctx, iter.Val()).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// compareCommand is the command line that reproduces a run, with the
// URLs of -postgres and -redis left out (they may hold passwords).
func compareCommand(o options) string {
	c := "go run ./cmd/latch-load -compare"
	if o.wrk {
		c += " -wrk"
		if o.wrkThreads != 2 {
			c += fmt.Sprintf(" -wrk-threads %d", o.wrkThreads)
		}
	}
	if o.postgres != "" && o.redis != "" {
		c += " -postgres URL -redis URL"
	}
	if o.rounds != 3 {
		c += fmt.Sprintf(" -rounds %d", o.rounds)
	}
	if o.duration != time.Duration(o.rounds)*6*time.Second {
		c += " -duration " + o.duration.String()
	}
	if o.connections != 32 {
		c += fmt.Sprintf(" -connections %d", o.connections)
	}
	if o.users != 20 {
		c += fmt.Sprintf(" -users %d", o.users)
	}
	if o.serverEnv != "" {
		c += " -server-env " + o.serverEnv
	}
	if quietCores != 0.25 {
		c += fmt.Sprintf(" -quiet %g", quietCores)
	}
	if quietCores > 0 && quietWait != 90*time.Second {
		c += " -quiet-wait " + quietWait.String()
	}
	return c
}

// runCompare runs the side-by-side comparison.
func runCompare(ctx context.Context, o options) (*CompareResult, error) {
	gen := generator{wrk: o.wrk, threads: o.wrkThreads}
	if gen.wrk {
		if _, err := exec.LookPath("wrk"); err != nil {
			return nil, errors.New("-wrk: wrk is not on PATH (Debian: apt-get install wrk)")
		}
	}
	pg := o.postgres != "" && o.redis != ""
	win := o.duration / time.Duration(o.rounds)
	if gen.wrk {
		// wrk takes whole seconds.
		win = max(time.Second, win.Round(time.Second))
	}
	loadavg, _ := os.ReadFile("/proc/loadavg")
	res := &CompareResult{
		Machine: Machine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPU: cpuModel(), Go: goVersion(ctx),
			Date: time.Now().UTC().Format(time.RFC3339), LoadAvg: strings.TrimSpace(string(loadavg))},
		Options: CompareOpts{Command: compareCommand(o), Window: win.String(), Passes: o.rounds, Connections: o.connections, Generator: gen.describe(),
			Users: o.users, PostgresRedis: pg, ServerEnv: o.serverEnv},
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "latch-load-")
	if err != nil {
		return nil, err
	}
	var done cleanups
	defer func() { done.run() }()
	if o.keep {
		progress("keeping %s", tmp)
	} else {
		done.add(func() { os.RemoveAll(tmp) })
	}
	var env []string
	for kv := range strings.SplitSeq(o.serverEnv, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			if !strings.Contains(kv, "=") {
				return nil, fmt.Errorf("-server-env: %q is not KEY=VALUE", kv)
			}
			env = append(env, kv)
		}
	}

	bench, shipped, plain := filepath.Join(tmp, "latch-bench"), filepath.Join(tmp, "latch"), filepath.Join(tmp, "plainpage")
	progress("building %s/cmd/latch with -tags latchbench (and as shipped for PostgreSQL), and the plain page", root)
	if err := buildServer(ctx, root, bench, "latchbench"); err != nil {
		return nil, err
	}
	if pg {
		if err := buildServer(ctx, root, shipped, ""); err != nil {
			return nil, err
		}
	}
	if err := buildPackage(ctx, root, plain, "", "./cmd/latch-load/internal/plainpage"); err != nil {
		return nil, err
	}

	// The site over SQLite: the latchbench binary serves the page with
	// latch and without it, in one process, as in figure 1.
	progress("starting the site over SQLite; signing up %d users", o.users)
	site, err := startServer(ctx, bench, filepath.Join(tmp, "latch.db"), filepath.Join(tmp, "server.log"), "", env)
	if err != nil {
		return nil, err
	}
	done.add(site.stop)
	sc := newClient(site.base, 4096)
	done.add(sc.close)
	created, err := signUp(ctx, sc, o.users, o.concurrency)
	if err != nil {
		return nil, err
	}
	cookie, err := login(ctx, sc, 0, pageClientIP)
	if err != nil {
		return nil, err
	}
	page := "/user/" + username(1)

	// The plain page: the same users, in a map.
	type plainUser struct {
		Username  string    `json:"username"`
		CreatedAt time.Time `json:"created_at"`
	}
	users := make([]plainUser, o.users)
	for i := range users {
		users[i] = plainUser{username(i), created[i]}
	}
	usersFile := filepath.Join(tmp, "users.json")
	b, err := json.Marshal(users)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(usersFile, b, 0o644); err != nil {
		return nil, err
	}
	progress("starting the plain page")
	pp, err := startProcess(ctx, plain, []string{"-addr", "127.0.0.1:0", "-templates", filepath.Join(root, "internal", "site", "templates"), "-users", usersFile},
		filepath.Join(tmp, "plainpage.log"), env)
	if err != nil {
		return nil, err
	}
	done.add(pp.stop)
	pc := newClient(pp.base, 4096)
	done.add(pc.close)

	systems := []*compareSystem{
		{key: "plain", name: "plain Go page: map in memory, net/http + html/template, no auth",
			targets: []*target{{srv: pp, c: pc, path: page, cookie: cookie}}},
		{key: "nolatch", name: "site page without latch (SQLite, -tags latchbench)",
			targets: []*target{{srv: site, c: sc, path: "/_bench/noauth" + page, cookie: cookie}}},
		{key: "latch", name: "latch: site page with a session (SQLite)",
			targets: []*target{{srv: site, c: sc, path: page, cookie: cookie, check: true}}},
	}

	if pg {
		pgURL, schema, drop, err := scratchSchema(ctx, o.postgres)
		if err != nil {
			return nil, err
		}
		prefix := "latch_load:" + randomHex(6) + ":"
		if o.keep {
			progress("keeping PostgreSQL schema %s and Redis keys under %s", schema, prefix)
		} else {
			done.add(func() {
				if err := drop(); err != nil {
					progress("drop schema %s: %v", schema, err)
				}
				if err := deleteRedisPrefix(context.Background(), o.redis, prefix); err != nil {
					progress("delete Redis keys under %s: %v", prefix, err)
				}
			})
		}
		progress("starting two latch instances over PostgreSQL (schema %s) + Redis (prefix %s); signing up %d users", schema, prefix, o.users)
		var inst [2]*server
		var clients [2]*client
		for i := range inst {
			// One after the other: the first one creates the schema.
			s, err := startServer(ctx, shipped, pgURL, filepath.Join(tmp, fmt.Sprintf("server-pg-%c.log", 'a'+i)), "", env,
				"-redis", o.redis, "-redis-prefix", prefix)
			if err != nil {
				return nil, err
			}
			done.add(s.stop)
			inst[i], clients[i] = s, newClient(s.base, 4096)
			done.add(clients[i].close)
		}
		if _, err := signUp(ctx, clients[0], o.users, o.concurrency); err != nil {
			return nil, err
		}
		pgCookie, err := login(ctx, clients[0], 0, pageClientIP)
		if err != nil {
			return nil, err
		}
		systems = append(systems, &compareSystem{key: "pg", name: "latch: PostgreSQL + Redis, two instances",
			targets: []*target{
				{srv: inst[0], c: clients[0], path: page, cookie: pgCookie, check: true},
				{srv: inst[1], c: clients[1], path: page, cookie: pgCookie, check: true},
			}})
	}

	// What each system answers, once, before the load.
	bodies := map[string][]byte{}
	for _, sys := range systems {
		for i, t := range sys.targets {
			st, body, wire, err := fetch(ctx, t.c, t.srv.base, t.path, t.cookie)
			if err != nil {
				return nil, fmt.Errorf("%s: GET %s: %w", sys.name, t.path, err)
			}
			if st != http.StatusOK {
				msg := fmt.Sprintf("%s: GET %s%s: status %d, want 200", sys.name, t.srv.base, t.path, st)
				if sys.key == "nolatch" {
					msg += " (the page without latch is not mounted: internal/site/site.go routes() needs `benchRoutes(s, root)`, see BENCHMARKS.md)"
				}
				return nil, errors.New(msg)
			}
			t.wire = wire
			name := sys.key
			if len(sys.targets) > 1 {
				name = fmt.Sprintf("%s-%c", sys.key, 'a'+i)
			}
			res.Pages = append(res.Pages, PageInfo{System: name, Path: t.path, Status: st, BodyBytes: len(body), ResponseBytes: wire})
			bodies[name] = body
		}
	}
	if string(bodies["plain"]) != string(bodies["nolatch"]) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the plain page's body (%d bytes) differs from the site's page without latch (%d bytes); see %s",
			len(bodies["plain"]), len(bodies["nolatch"]), "cmd/latch-load/internal/plainpage"))
	}

	// Warm every system off the record: connections, caches, statements.
	progress("warming up each system for 1s")
	for _, sys := range systems {
		if _, err := gen.window(ctx, sys, o.connections, time.Second); err != nil {
			return nil, err
		}
	}

	progress("%d interleaved passes of %s per system, %d connections, %s", o.rounds, win, o.connections, gen.describe())
	for _, sys := range systems {
		sys.windows = make([][]Window, len(sys.targets))
	}
	for p := range o.rounds {
		// Each pass starts with the next system, so none is always first
		// or always last.
		for j := range systems {
			sys := systems[(p+j)%len(systems)]
			var pids []int
			for _, t := range sys.targets {
				pids = append(pids, t.srv.cmd.Process.Pid)
			}
			waitQuiet(pids[0])
			c0 := snapCPUOf(pids)
			ws, err := gen.window(ctx, sys, o.connections, win)
			if err != nil {
				return nil, err
			}
			c1 := snapCPUOf(pids)
			use := c0.to(c1)
			sys.cpu.add(use, c1.at.Sub(c0.at).Seconds())
			sys.cpuPasses = append(sys.cpuPasses, use)
			ok := 0
			for _, w := range ws {
				ok += w.OK
			}
			sys.cpuUs = append(sys.cpuUs, cpuPerRequest(c1.srv-c0.srv, ok))
			for i, w := range ws {
				sys.windows[i] = append(sys.windows[i], w)
				if gen.wrk && w.BytesPerReply > 0 {
					if t := sys.targets[i]; math.Abs(w.BytesPerReply/float64(t.wire)-1) > 0.2 {
						res.Warnings = append(res.Warnings, fmt.Sprintf("%s, pass %d: %.0f bytes per reply, the page is %d", sys.key, p+1, w.BytesPerReply, t.wire))
					}
				}
				if w.NotOK > 0 {
					res.Warnings = append(res.Warnings, fmt.Sprintf("%s, pass %d: %d answers not 200 or failed (%s)", sys.key, p+1, w.NotOK, w.FirstErr))
				}
			}
			progress("  pass %d: %-8s %s (cores: server %.2f, load %.2f, other %.2f)", p+1, sys.key, perSecList(ws), use.Server, use.Load, use.Other)
		}
	}
	res.Machine.QuietWait = quietTotal.Round(time.Second).String()
	summarize(res, systems)
	res.Markdown = markdown(res)
	return res, nil
}

func perSecList(ws []Window) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%.0f req/s", w.PerSec))
	}
	return strings.Join(parts, " + ")
}

// summarize turns the windows into systems, ratios and targets.
func summarize(res *CompareResult, systems []*compareSystem) {
	perSec, cpuUs := map[string][]float64{}, map[string][]float64{}
	add := func(key, name string, ws []Window) *SystemResult {
		var v, p50, p99 []float64
		for _, w := range ws {
			v, p50, p99 = append(v, w.PerSec), append(p50, w.P50ms), append(p99, w.P99ms)
		}
		perSec[key] = v
		res.Systems = append(res.Systems, SystemResult{Key: key, Name: name, PerSec: spreadOf(v),
			P50ms: spreadOf(p50).Median, P99ms: spreadOf(p99).Median, Windows: ws})
		return &res.Systems[len(res.Systems)-1]
	}
	for _, sys := range systems {
		cpuUs[sys.key] = sys.cpuUs
		if len(sys.targets) == 1 {
			s := add(sys.key, sys.name, sys.windows[0])
			s.CPU, s.ServerCPUus, s.CPUPasses = sys.cpu.use(), spreadOf(sys.cpuUs), sys.cpuPasses
			continue
		}
		var each [][]float64
		for i, ws := range sys.windows {
			add(fmt.Sprintf("%s-%c", sys.key, 'a'+i), fmt.Sprintf("  instance %c", 'A'+i), ws)
			each = append(each, perSec[fmt.Sprintf("%s-%c", sys.key, 'a'+i)])
		}
		per := meanPerPass(each...)
		perSec[sys.key] = per
		res.Systems = append(res.Systems, SystemResult{Key: sys.key, Name: sys.name + ", per instance (mean of A and B)",
			PerSec: spreadOf(per), ServerCPUus: spreadOf(sys.cpuUs), CPU: sys.cpu.use(), CPUPasses: sys.cpuPasses})
	}
	ratio := func(key, name, num, den string, goal float64) {
		of := perSec
		if strings.HasPrefix(key, "cpu:") {
			of = cpuUs
		}
		if of[num] == nil || of[den] == nil {
			return
		}
		rr := RatioResult{Key: key, Name: name, Goal: goal, Spread: spreadOf(ratios(of[num], of[den]))}
		res.Ratios = append(res.Ratios, rr)
		if goal > 0 {
			res.Targets = append(res.Targets, Check{Figure: name, Value: rr.Median, Op: ">=", Target: goal, Met: rr.Median >= goal})
		}
	}
	ratio("latch/plain", "latch ÷ plain Go page (SQLite)", "latch", "plain", goalLatchPlain)
	ratio("latch/nolatch", "latch ÷ same page without latch (SQLite)", "latch", "nolatch", goalLatchNoLatch)
	ratio("pg/plain", "PostgreSQL + Redis per instance ÷ plain Go page", "pg", "plain", goalPGPlain)
	ratio("nolatch/plain", "site page without latch ÷ plain Go page", "nolatch", "plain", 0)
	// The same comparisons by server CPU per request (the cheaper one's
	// over the dearer one's): the ratios the servers would reach if the
	// load generator cost nothing.
	ratio("cpu:plain/latch", "server CPU per request: plain Go page ÷ latch", "plain", "latch", 0)
	ratio("cpu:nolatch/latch", "server CPU per request: without latch ÷ latch", "nolatch", "latch", 0)
	ratio("cpu:plain/pg", "server CPU per request: plain Go page ÷ PostgreSQL + Redis pair", "plain", "pg", 0)
}

func printCompare(out io.Writer, r *CompareResult) {
	m, o := r.Machine, r.Options
	fmt.Fprintf(out, "latch-load -compare  %s  %d cores (GOMAXPROCS %d), %s, %s\n", m.Date, m.Cores, m.GOMAXPROCS, m.CPU, m.Go)
	fmt.Fprintf(out, "%d interleaved passes of %s per system, %d keep-alive connections, load from %s on the same machine;\nload average at start %s; waited %s for a quiet machine",
		o.Passes, o.Window, o.Connections, o.Generator, m.LoadAvg, m.QuietWait)
	if o.ServerEnv != "" {
		fmt.Fprintf(out, "; server env %s", o.ServerEnv)
	}
	fmt.Fprintf(out, "\ncores: CPU cores busy on average in the server(s) / the load generator / anything else (PostgreSQL and Redis count here)\n\n")
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "system\treq/s median\tmin–max\tper pass\tp50 / p99 ms\tserver µs/req\tcores\n")
	for _, s := range r.Systems {
		lat, cpu, cores := "", "", ""
		if s.P50ms > 0 || s.P99ms > 0 {
			lat = fmt.Sprintf("%.2f / %.2f", s.P50ms, s.P99ms)
		}
		if s.ServerCPUus.Median > 0 {
			cpu = fmt.Sprintf("%.1f", s.ServerCPUus.Median)
		}
		if s.CPU != (CPUUse{}) {
			cores = fmt.Sprintf("%.2f / %.2f / %.2f", s.CPU.Server, s.CPU.Load, s.CPU.Other)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s–%s\t%s\t%s\t%s\t%s\n", s.Name, thousands(s.PerSec.Median), thousands(s.PerSec.Min), thousands(s.PerSec.Max),
			joinf(s.PerSec.Passes, thousands), lat, cpu, cores)
	}
	tw.Flush()
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ratio (pass by pass)\tmedian\tmin–max\tper pass\tgoal\tmet\n")
	for _, x := range r.Ratios {
		goal, met := "", ""
		if x.Goal > 0 {
			goal, met = fmt.Sprintf("≥ %g", x.Goal), "yes"
			if x.Median < x.Goal {
				met = "NO"
			}
		}
		f := func(v float64) string { return ratioString(v, x.Goal, 3) }
		fmt.Fprintf(tw, "%s\t%s\t%s–%s\t%s\t%s\t%s\n", x.Name, f(x.Median), f(x.Min), f(x.Max), joinf(x.Passes, f), goal, met)
	}
	tw.Flush()
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "page\tpath\tbody\tanswer (with headers)\n")
	for _, p := range r.Pages {
		fmt.Fprintf(tw, "%s\t%s\t%d B\t%d B\n", p.System, p.Path, p.BodyBytes, p.ResponseBytes)
	}
	tw.Flush()
	for _, w := range r.Warnings {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
}

// ratioString formats a ratio with digits decimals, or more where fewer
// would round a value below the goal up to it (0.8996 is not "0.900"
// next to a goal of 0.9 that is not met).
func ratioString(v, goal float64, digits int) string {
	for goal > 0 && v < goal && digits < 6 && fmt.Sprintf("%.*f", digits, v) == fmt.Sprintf("%.*f", digits, goal) {
		digits++
	}
	return fmt.Sprintf("%.*f", digits, v)
}

func joinf(v []float64, f func(float64) string) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = f(x)
	}
	return strings.Join(parts, " ")
}

// thousands formats v rounded to a whole number with commas: 39,500.
func thousands(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// markdown is the "Side by side" paragraph for BENCHMARKS.md, with this
// run's figures filled in.
func markdown(r *CompareResult) string {
	var b strings.Builder
	m, o := r.Machine, r.Options
	fmt.Fprintf(&b, "One run of `%s` (%s; %s, %d cores, %s): %d interleaved passes of %s per system, "+
		"%d keep-alive connections, the load from %s on the same cores.\n\n",
		o.Command, m.Date, m.CPU, m.Cores, m.Go, o.Passes, o.Window, o.Connections, o.Generator)
	sys := map[string]SystemResult{}
	for _, s := range r.Systems {
		sys[s.Key] = s
	}
	rat := map[string]RatioResult{}
	for _, x := range r.Ratios {
		rat[x.Key] = x
	}
	b.WriteString("| system | req/s (median) | min–max | ÷ plain Go (median of passes) |\n|---|---:|---:|---:|\n")
	row := func(name, key, ratioKey string) {
		s, ok := sys[key]
		if !ok {
			return
		}
		q := "1"
		if ratioKey != "" {
			q = ratioString(rat[ratioKey].Median, rat[ratioKey].Goal, 2)
		}
		fmt.Fprintf(&b, "| %s | %s | %s–%s | %s |\n", name, thousands(s.PerSec.Median), thousands(s.PerSec.Min), thousands(s.PerSec.Max), q)
	}
	row("plain Go page, same data in a map, no auth (net/http + html/template)", "plain", "")
	row("site page without latch (SQLite)", "nolatch", "nolatch/plain")
	row("latch, SQLite", "latch", "latch/plain")
	row("latch, PostgreSQL + Redis, per instance of two", "pg", "pg/plain")
	b.WriteString("\n")
	met := func(x RatioResult) string {
		if x.Median >= x.Goal {
			return "met"
		}
		return "**not met**"
	}
	var parts []string
	for _, k := range []struct{ key, text string }{
		{"latch/plain", "latch ÷ plain Go page"},
		{"latch/nolatch", "latch ÷ the same page without latch"},
		{"pg/plain", "PostgreSQL + Redis per instance ÷ plain Go page"},
	} {
		x, ok := rat[k.key]
		if !ok {
			continue
		}
		f := func(v float64) string { return ratioString(v, x.Goal, 2) }
		parts = append(parts, fmt.Sprintf("%s **%s** (passes %s–%s; goal ≥ %g: %s)", k.text, f(x.Median), f(x.Min), f(x.Max), x.Goal, met(x)))
	}
	b.WriteString(strings.Join(parts, "; ") + ".")
	var cpu []string
	for _, k := range []struct{ key, text string }{
		{"plain", "plain Go page"}, {"nolatch", "without latch"}, {"latch", "latch"}, {"pg", "PostgreSQL + Redis pair (the instances only)"},
	} {
		if s, ok := sys[k.key]; ok && s.ServerCPUus.Median > 0 {
			cpu = append(cpu, fmt.Sprintf("%s %.0f", k.text, s.ServerCPUus.Median))
		}
	}
	if len(cpu) > 0 {
		fmt.Fprintf(&b, " Server CPU per request, µs (median of passes): %s.", strings.Join(cpu, ", "))
	}
	var other float64
	for _, s := range r.Systems {
		if s.Key == "plain" || s.Key == "nolatch" || s.Key == "latch" {
			other = max(other, s.CPU.Other) // the pair's "other" holds PostgreSQL and Redis
		}
	}
	fmt.Fprintf(&b, " Other processes used up to %.2f cores during the SQLite and plain passes", other)
	if other >= 0.25 {
		b.WriteString(" — the machine was busy; re-run on a quiet one")
	}
	b.WriteString(".\n")
	return b.String()
}
