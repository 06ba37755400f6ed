// Command latch-load measures the latch site under load, the way issue 6
// asks: it builds the real server (./cmd/latch), starts it on 127.0.0.1
// over a temporary SQLite file, and reports in one run
//
//  1. the auth overhead ratio: requests/s of GET /user/{name} with a
//     session cookie ÷ requests/s of the same page served without latch
//     (a second binary built with -tags latchbench, which adds that page
//     at /_bench/noauth/user/{name});
//  2. the login-path ratio: logins/s (right password, many users and
//     clients, concurrency = cores) ÷ the argon2id verifications/s this
//     machine does in-process with password.Hasher at DefaultParams and
//     the same concurrency;
//  3. the flood p99 ratio: p99 of the authenticated page (at a fixed
//     request rate) while a flood of wrong-password logins runs ÷ its p99
//     without the flood, for a flood from one client (which the limits
//     turn into 429s) and for a distributed flood (a new client address
//     and a new email per attempt, so every attempt costs a hash);
//  4. the server's peak RSS (VmHWM) while 1,000 clients log in at once and
//     without pause, and its RSS at idle after start-up;
//  5. sign-ups/s.
//
// With -compare it measures instead the side-by-side figures of issue 10
// (compare.go): the site's authenticated GET /user/{name}, the same page
// without latch, and a plain net/http + html/template page over the same
// data in memory (./internal/plainpage), in interleaved passes with the
// same connections, and with -postgres and -redis also two latch
// instances over PostgreSQL + Redis; it prints each one's req/s (median
// and spread over the passes) and the ratios latch ÷ plain, latch ÷
// without latch and PostgreSQL + Redis per instance ÷ plain.
//
// Usage, from the module root:
//
//	go run ./cmd/latch-load                # table on stdout, ~2 minutes
//	go run ./cmd/latch-load -json          # the same as JSON
//	go run ./cmd/latch-load -profile prof  # also CPU/heap profiles per phase
//	go run ./cmd/latch-load -compare       # issue 10's side by side, ~1 minute
//	go run ./cmd/latch-load -compare -wrk -postgres URL -redis URL
//
// The server believes X-Forwarded-For from 127.0.0.1 (-trusted-proxies
// 127.0.0.1/32) so that one machine can act as many clients; the load
// generator runs on the same machine and takes some of its CPU.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/latchgo/latch/password"
)

type options struct {
	duration         time.Duration
	burstDuration    time.Duration
	rounds           int
	users            int
	concurrency      int
	pageConcurrency  int
	floodConcurrency int
	burst            int
	pageRate         float64
	floodRate        float64
	serverEnv        string
	only             string
	jsonOut          bool
	profileDir       string
	keep             bool

	// -compare (issue 10)
	compare     bool
	connections int
	postgres    string
	redis       string
	wrk         bool
	wrkThreads  int
}

func main() {
	var o options
	fs := flag.NewFlagSet("latch-load", flag.ExitOnError)
	fs.DurationVar(&o.duration, "duration", 12*time.Second, "measured time of each load (each split into -rounds windows that alternate with the load it is compared with)")
	fs.IntVar(&o.rounds, "rounds", 3, "windows per load; compared loads alternate window by window, so drift of the machine hits both alike")
	fs.DurationVar(&o.burstDuration, "burst-duration", 6*time.Second, "how long the -burst concurrent logins go on")
	fs.IntVar(&o.users, "users", 200, "accounts to sign up (and log in as); 20 with -compare unless set")
	fs.IntVar(&o.concurrency, "concurrency", runtime.NumCPU(), "concurrent sign-ups, logins and in-process hashes")
	fs.IntVar(&o.pageConcurrency, "page-concurrency", 8, "concurrent page requests for the auth overhead ratio")
	fs.Float64Var(&o.pageRate, "page-rate", 100, "requests/s of the authenticated page in the flood comparison")
	fs.Float64Var(&o.floodRate, "flood-rate", 1000, "wrong-password login attempts/s of each flood")
	fs.IntVar(&o.floodConcurrency, "flood-concurrency", 256, "most flood attempts outstanding at once")
	fs.IntVar(&o.burst, "burst", 1000, "concurrent logins for the peak-RSS figure")
	fs.StringVar(&o.serverEnv, "server-env", "", "extra environment of the server, comma-separated KEY=VALUE (experiments: GOMEMLIMIT=100MiB,GOMAXPROCS=3)")
	fs.Float64Var(&quietCores, "quiet", 0.25, "before each window, wait until other processes use fewer than this many cores (0: never wait)")
	fs.DurationVar(&quietWait, "quiet-wait", 90*time.Second, "longest wait for a quiet machine before each window")
	fs.StringVar(&o.only, "only", "", "measure only these figures, e.g. 3 or 1,4 (sign-ups always run: the others need the users)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as JSON on stdout (the table goes to stderr)")
	fs.StringVar(&o.profileDir, "profile", "", "directory for CPU profiles of the server (first window of each load; execution traces too for the flood windows) and a heap profile after the burst; every phase then runs the latchbench binary")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binaries, database, server log)")
	fs.BoolVar(&o.compare, "compare", false, "instead of the five figures, issue 10's side by side: the site's authenticated page, the same page without latch and a plain net/http + html/template page over the same data in memory, in interleaved passes (-rounds of -duration/-rounds each; default -duration 18s here); with -postgres and -redis also two latch instances over PostgreSQL + Redis")
	fs.IntVar(&o.connections, "connections", 32, "-compare: keep-alive connections of each load (the PostgreSQL pair gets half each)")
	fs.StringVar(&o.postgres, "postgres", "", "-compare: postgres:// URL of a database where a scratch schema may be created and dropped (default $LATCH_TEST_POSTGRES)")
	fs.StringVar(&o.redis, "redis", "", "-compare: redis:// URL for the PostgreSQL pair's sessions, under a scratch key prefix deleted afterwards (default $LATCH_TEST_REDIS)")
	fs.BoolVar(&o.wrk, "wrk", false, "-compare: send the load with wrk (must be on PATH; whole-second windows) instead of latch-load's Go client")
	fs.IntVar(&o.wrkThreads, "wrk-threads", 2, "-compare -wrk: wrk threads in all (split between the instances of the PostgreSQL pair)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./cmd/latch-load [flags]\n       go run ./cmd/latch-load -compare [-wrk] [-postgres URL -redis URL] [flags]")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if o.compare {
		os.Exit(mainCompare(fs, o))
	}
	if o.users < 2 || o.concurrency < 1 || o.pageConcurrency < 1 || o.floodConcurrency < 1 || o.burst < 1 ||
		o.pageRate <= 0 || o.floodRate <= 0 || o.rounds < 1 || o.duration/time.Duration(o.rounds) < time.Second {
		fmt.Fprintln(os.Stderr, "latch-load: -users must be at least 2, counts and rates positive, and -duration/-rounds at least 1s")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	res, err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "latch-load:", err)
		os.Exit(1)
	}
	if o.jsonOut {
		// The table still goes to stderr, for the person watching.
		printTable(os.Stderr, res)
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return
	}
	printTable(os.Stdout, res)
}

// mainCompare runs -compare and returns the exit code.
func mainCompare(fs *flag.FlagSet, o options) int {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["duration"] {
		o.duration = time.Duration(o.rounds) * 6 * time.Second // the review's passes: 6 s each
	}
	if !set["users"] {
		o.users = 20 // the page shows one of them; sign-ups cost a hash each
	}
	if o.postgres == "" {
		o.postgres = os.Getenv("LATCH_TEST_POSTGRES")
	}
	if o.redis == "" {
		o.redis = os.Getenv("LATCH_TEST_REDIS")
	}
	var bad []string
	if o.profileDir != "" || o.only != "" {
		bad = append(bad, "-profile and -only belong to the five figures, not to -compare")
	}
	if (o.postgres == "") != (o.redis == "") {
		bad = append(bad, "-postgres and -redis go together (the pair keeps its sessions in Redis)")
	}
	if o.users < 2 || o.concurrency < 1 || o.rounds < 1 || o.connections < 1 || o.wrkThreads < 1 {
		bad = append(bad, "-users must be at least 2, -concurrency, -rounds, -connections and -wrk-threads at least 1")
	}
	if o.postgres != "" && o.connections < 2 {
		bad = append(bad, "-connections must be at least 2 with the PostgreSQL pair")
	}
	if o.duration/time.Duration(o.rounds) < time.Second {
		bad = append(bad, "-duration/-rounds must be at least 1s")
	}
	if len(bad) > 0 {
		fmt.Fprintln(os.Stderr, "latch-load:", strings.Join(bad, "; "))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runCompare(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "latch-load:", err)
		return 1
	}
	if o.jsonOut {
		printCompare(os.Stderr, res)
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return 0
	}
	printCompare(os.Stdout, res)
	fmt.Fprintf(os.Stdout, "\nFor BENCHMARKS.md (\"Side by side\"):\n\n%s", res.Markdown)
	return 0
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "latch-load: "+format+"\n", args...)
}

// Result is everything one run measured.
type Result struct {
	Machine  Machine `json:"machine"`
	Options  Opts    `json:"options"`
	Auth     Auth    `json:"auth_overhead"`
	Login    Login   `json:"login_path"`
	Flood    Flood   `json:"flood"`
	Memory   Memory  `json:"memory"`
	SignUps  Stats   `json:"signups"`
	SignCPU  CPUUse  `json:"signups_cpu"`
	Targets  []Check `json:"targets"`
	Profiles string  `json:"profiles,omitempty"`
}

type Machine struct {
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPU        string `json:"cpu"`
	Go         string `json:"go"`
	Date       string `json:"date"`
	LoadAvg    string `json:"loadavg_at_start"`
	QuietWait  string `json:"waited_for_quiet"`
}

type Opts struct {
	Duration         string  `json:"duration"`
	Rounds           int     `json:"rounds"`
	Users            int     `json:"users"`
	Concurrency      int     `json:"concurrency"`
	PageConcurrency  int     `json:"page_concurrency"`
	PageRate         float64 `json:"page_rate"`
	FloodRate        float64 `json:"flood_rate"`
	FloodConcurrency int     `json:"flood_concurrency"`
	Burst            int     `json:"burst"`
	BurstDuration    string  `json:"burst_duration"`
	ServerEnv        string  `json:"server_env,omitempty"`
	Only             string  `json:"only,omitempty"`
}

type Auth struct {
	Unavailable string  `json:"unavailable,omitempty"` // why figure 1 was not measured
	WithAuth    Stats   `json:"with_auth"`
	NoAuth      Stats   `json:"no_auth"`
	Ratio       float64 `json:"ratio"` // req/s with ÷ without
	CPUAuthUs   float64 `json:"server_cpu_us_per_req_auth"`
	CPUNoAuth   float64 `json:"server_cpu_us_per_req_noauth"`
	CPURatio    float64 `json:"cpu_ratio"` // server CPU/req without ÷ with: the ratio the server alone would reach
	CPUWith     CPUUse  `json:"cpu_with_auth"`
	CPUWithout  CPUUse  `json:"cpu_no_auth"`
}

type Login struct {
	Logins      Stats   `json:"logins"`
	HashPerSec  float64 `json:"argon2id_verifies_per_sec"`
	HashMs      float64 `json:"argon2id_ms_per_verify"`
	Concurrency int     `json:"concurrency"`
	Ratio       float64 `json:"ratio"`
	CPULogin    CPUUse  `json:"cpu_logins"`
	CPUHash     CPUUse  `json:"cpu_hashing"`
}

type FloodRun struct {
	Flood          Stats     `json:"flood"`
	Page           Stats     `json:"page"`
	P99Ratio       float64   `json:"p99_ratio"` // pooled p99 of the page during the flood ÷ without
	PageP99Windows []float64 `json:"page_p99_ms_per_window"`
	CPU            CPUUse    `json:"cpu"`
}

type Flood struct {
	Baseline           Stats     `json:"baseline_page"`
	BaselineP99Windows []float64 `json:"baseline_p99_ms_per_window"`
	BaselineCPU        CPUUse    `json:"baseline_cpu"`
	SingleIP           FloodRun  `json:"single_client"`
	Distributed        FloodRun  `json:"distributed"`
}

type Memory struct {
	IdleFreshMiB      float64 `json:"idle_rss_fresh_mib"`
	IdleMiB           float64 `json:"idle_rss_mib"` // after start-up on the populated database
	PeakHWMMiB        float64 `json:"peak_vmhwm_mib"`
	PeakSampledMiB    float64 `json:"peak_sampled_rss_mib"`
	AfterBurstIdleMiB float64 `json:"rss_5s_after_burst_mib"`
	Burst             Stats   `json:"burst"`
	BurstCPU          CPUUse  `json:"burst_cpu"`
}

type Check struct {
	Figure string  `json:"figure"`
	Value  float64 `json:"value"`
	Op     string  `json:"op"`
	Target float64 `json:"target"`
	Met    bool    `json:"met"`
}

const (
	userPassword = "quiet orbit lantern 42"
	victims      = 10 // accounts only the one-client flood attacks, so their limits do not touch other phases
	floodIP      = "203.0.113.66"
	pageClientIP = "198.51.100.7"
)

func username(i int) string { return fmt.Sprintf("u%05d", i) }
func email(i int) string    { return fmt.Sprintf("u%05d@bench.example", i) }

// series is one load measured over several windows.
type series struct {
	name     string
	rec      *recorder
	el       time.Duration
	cpu      cpuAcc
	profiled bool
	p99s     []float64 // each window's p99, ms
}

func newSeries(name string) *series { return &series{name: name, rec: newRecorder()} }

// window runs one window of the series' load and accumulates it; load
// returns the window's recorder and length. The first window of each
// series is profiled when profiling is on.
func (s *series) window(srv *server, prof func(*server, string, time.Duration) <-chan error, d time.Duration, load func() (*recorder, time.Duration)) {
	var pc <-chan error
	if !s.profiled {
		pc = prof(srv, s.name, d-time.Second)
	}
	waitQuiet(srv.cmd.Process.Pid)
	c0 := snapCPU(srv.cmd.Process.Pid)
	rec, el := load()
	use := c0.to(snapCPU(srv.cmd.Process.Pid))
	if !s.profiled {
		if err := <-pc; err != nil {
			progress("profile %s: %v", s.name, err)
		}
		s.profiled = true
	}
	s.p99s = append(s.p99s, rec.stats(el, 0).P99ms)
	s.rec.merge(rec)
	s.el += el
	s.cpu.add(use, el.Seconds())
}

func (s *series) stats(expected int) Stats { return s.rec.stats(s.el, expected) }

func run(ctx context.Context, o options) (*Result, error) {
	loadavg, _ := os.ReadFile("/proc/loadavg")
	res := &Result{
		Machine: Machine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPU: cpuModel(), Go: goVersion(ctx),
			Date: time.Now().UTC().Format(time.RFC3339), LoadAvg: strings.TrimSpace(string(loadavg))},
		Options: Opts{Duration: o.duration.String(), Rounds: o.rounds, Users: o.users, Concurrency: o.concurrency,
			PageConcurrency: o.pageConcurrency, PageRate: o.pageRate, FloodRate: o.floodRate, FloodConcurrency: o.floodConcurrency,
			Burst: o.burst, BurstDuration: o.burstDuration.String(), ServerEnv: o.serverEnv, Only: o.only},
	}
	win := o.duration / time.Duration(o.rounds)
	want := func(fig int) bool { return o.only == "" || strings.Contains(o.only, strconv.Itoa(fig)) }
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
	shipped, bench := filepath.Join(tmp, "latch"), filepath.Join(tmp, "latch-bench")
	progress("building %s/cmd/latch (as shipped, and with -tags latchbench)", root)
	if err := buildServer(ctx, root, shipped, ""); err != nil {
		return nil, err
	}
	if err := buildServer(ctx, root, bench, "latchbench"); err != nil {
		return nil, err
	}
	db := filepath.Join(tmp, "latch.db")
	logPath := filepath.Join(tmp, "server.log")
	var env []string
	for kv := range strings.SplitSeq(o.serverEnv, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			if !strings.Contains(kv, "=") {
				return nil, fmt.Errorf("-server-env: %q is not KEY=VALUE", kv)
			}
			env = append(env, kv)
		}
	}

	// With -profile every phase runs the latchbench binary, which can
	// serve pprof; without it figures 2-5 come from the shipped binary.
	bin, pprofAddr := shipped, ""
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return nil, err
		}
		bin = bench
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
		res.Profiles = o.profileDir
	}
	prof := func(s *server, name string, d time.Duration) <-chan error {
		if o.profileDir == "" {
			return s.profile(0, "")
		}
		cpu := s.profile(d, filepath.Join(o.profileDir, name+".cpu.pprof"))
		if !strings.HasPrefix(name, "flood") {
			return cpu
		}
		// Page latency under a flood is about scheduling, which an
		// execution trace shows (go tool trace -pprof=sched).
		tr := s.trace(min(d, 3*time.Second), filepath.Join(o.profileDir, name+".trace"))
		done := make(chan error, 1)
		go func() { done <- errors.Join(<-cpu, <-tr) }()
		return done
	}
	start := func(bin string) (*server, error) { return startServer(ctx, bin, db, logPath, pprofAddr, env) }

	// Server 1: a fresh database. Sign-ups, hash rate, logins, floods.
	progress("starting the server on a fresh database")
	s, err := start(bin)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	time.Sleep(time.Second)
	rss, _, err := s.memory()
	if err != nil {
		return nil, err
	}
	res.Memory.IdleFreshMiB = mib(rss)

	c := newClient(s.base, 4096)
	defer c.close()

	progress("5. signing up %d users (+%d flood victims), concurrency %d", o.users, victims, o.concurrency)
	signups := newSeries("signup")
	signups.window(s, prof, 3*time.Second, func() (*recorder, time.Duration) {
		return fixedLoop(ctx, o.concurrency, o.users+victims, func(ctx context.Context, i int) (int, error) {
			r, err := c.do(ctx, "POST", "/signup", map[string][]string{
				"username": {username(i)}, "email": {email(i)}, "password": {userPassword},
			}, nextIP(), "")
			return r.status, err
		})
	})
	res.SignUps, res.SignCPU = signups.stats(303), signups.cpu.use()
	if res.SignUps.OK != o.users+victims {
		return nil, fmt.Errorf("sign-ups: %d of %d succeeded (%s; %s); see %s", res.SignUps.OK, o.users+victims, statusMix(res.SignUps), res.SignUps.FirstErr, logPath)
	}

	if want(2) {
		progress("2. logins (right password, %d users, a client address each) vs raw argon2id in-process, concurrency %d, %d×%s each", o.users, o.concurrency, o.rounds, win)
		hasher := password.NewHasher(password.DefaultParams)
		enc, err := hasher.Hash(ctx, userPassword)
		if err != nil {
			return nil, err
		}
		hashWindow(ctx, hasher, enc, o.concurrency, time.Second) // warm up: heap, page faults
		logins, hashes := newSeries("login"), newSeries("hash")
		var hashCount int
		for range o.rounds {
			hashes.window(s, func(*server, string, time.Duration) <-chan error { return s.profile(0, "") }, win, func() (*recorder, time.Duration) {
				rec, n, el := hashWindow(ctx, hasher, enc, o.concurrency, win)
				hashCount += n
				return rec, el
			})
			logins.window(s, prof, win, func() (*recorder, time.Duration) {
				return closedLoopRec(ctx, o.concurrency, win, func(ctx context.Context, w, i int) (int, error) {
					u := (w + i*o.concurrency) % o.users
					r, err := c.do(ctx, "POST", "/login", map[string][]string{"email": {email(u)}, "password": {userPassword}}, nextIP(), "")
					return r.status, err
				})
			})
		}
		if hashCount == 0 {
			return nil, errors.New("in-process hashing: nothing finished")
		}
		hs := hashes.stats(0)
		res.Login.HashPerSec = float64(hashCount) / hashes.el.Seconds()
		res.Login.HashMs = hs.P50ms
		res.Login.Concurrency = o.concurrency
		res.Login.Logins = logins.stats(303)
		res.Login.Ratio = res.Login.Logins.PerSec / res.Login.HashPerSec
		res.Login.CPULogin, res.Login.CPUHash = logins.cpu.use(), hashes.cpu.use()
	}

	// The page the floods are measured against: user 0 looks at user 1.
	cookie, err := login(ctx, c, 0, pageClientIP)
	if err != nil {
		return nil, err
	}
	page := func(path string) op {
		return func(ctx context.Context, _, _ int) (int, error) {
			r, err := c.do(ctx, "GET", path, nil, pageClientIP, cookie)
			return r.status, err
		}
	}
	profilePage := page("/user/" + username(1))
	if st, err := profilePage(ctx, 0, 0); err != nil || st != 200 {
		return nil, fmt.Errorf("GET /user/%s with a session: status %d, %v", username(1), st, err)
	}

	if want(3) {
		progress("3. page p99 at %.0f req/s: alone, during a %.0f/s flood from one client, during a %.0f/s distributed flood; %d×%s each",
			o.pageRate, o.floodRate, o.floodRate, o.rounds, win)
		base, single, dist := newSeries("flood-baseline"), newSeries("flood-single"), newSeries("flood-distributed")
		singleFlood, distFlood := newRecorder(), newRecorder()
		var singleEl, distEl time.Duration
		pageLoad := func(d time.Duration) (*recorder, time.Duration) {
			return openLoop(ctx, o.pageRate, d, 4096, profilePage)
		}
		for range o.rounds {
			base.window(s, prof, win, func() (*recorder, time.Duration) { return pageLoad(win) })
			single.window(s, prof, win, func() (*recorder, time.Duration) {
				fl, fel, pg, pel := floodWindow(ctx, o, win, pageLoad, func(ctx context.Context, w, i int) (int, error) {
					v := o.users + i%victims
					r, err := c.do(ctx, "POST", "/login", map[string][]string{"email": {email(v)}, "password": {fmt.Sprintf("wrong guess %d", i)}}, floodIP, "")
					return r.status, err
				})
				singleFlood.merge(fl)
				singleEl += fel
				return pg, pel
			})
			dist.window(s, prof, win, func() (*recorder, time.Duration) {
				fl, fel, pg, pel := floodWindow(ctx, o, win, pageLoad, func(ctx context.Context, w, i int) (int, error) {
					r, err := c.do(ctx, "POST", "/login", map[string][]string{"email": {fmt.Sprintf("nobody-%d@bench.example", i)}, "password": {fmt.Sprintf("wrong guess %d", i)}}, nextIP(), "")
					return r.status, err
				})
				distFlood.merge(fl)
				distEl += fel
				return pg, pel
			})
		}
		res.Flood.Baseline, res.Flood.BaselineCPU, res.Flood.BaselineP99Windows = base.stats(200), base.cpu.use(), base.p99s
		res.Flood.SingleIP = FloodRun{Flood: singleFlood.stats(singleEl, 429), Page: single.stats(200), CPU: single.cpu.use(), PageP99Windows: single.p99s}
		res.Flood.Distributed = FloodRun{Flood: distFlood.stats(distEl, 422), Page: dist.stats(200), CPU: dist.cpu.use(), PageP99Windows: dist.p99s}
		for _, fr := range []*FloodRun{&res.Flood.SingleIP, &res.Flood.Distributed} {
			if res.Flood.Baseline.P99ms > 0 {
				fr.P99Ratio = fr.Page.P99ms / res.Flood.Baseline.P99ms
			}
		}
	}

	c.close()
	s.stop()

	if want(4) {
		// Server 2: the populated database, fresh process. Idle RSS, then
		// -burst concurrent logins.
		progress("4. restarting the server: idle RSS, then %d concurrent logins for %s", o.burst, o.burstDuration)
		if s, err = start(bin); err != nil {
			return nil, err
		}
		defer s.stop()
		time.Sleep(time.Second)
		if rss, _, err = s.memory(); err != nil {
			return nil, err
		}
		res.Memory.IdleMiB = mib(rss)
		bc := newClient(s.base, o.burst+64)
		var (
			peak     uint64
			sampling = make(chan struct{})
			sampled  sync.WaitGroup
		)
		sampled.Go(func() {
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				if r, _, err := s.memory(); err == nil {
					peak = max(peak, r)
				}
				select {
				case <-sampling:
					return
				case <-t.C:
				}
			}
		})
		burst := newSeries("burst")
		burst.window(s, prof, o.burstDuration, func() (*recorder, time.Duration) {
			return closedLoopRec(ctx, o.burst, o.burstDuration, func(ctx context.Context, w, i int) (int, error) {
				u := (w + i) % o.users
				r, err := bc.do(ctx, "POST", "/login", map[string][]string{"email": {email(u)}, "password": {userPassword}}, nextIP(), "")
				return r.status, err
			})
		})
		close(sampling)
		sampled.Wait()
		res.Memory.Burst, res.Memory.BurstCPU = burst.stats(303), burst.cpu.use()
		_, hwm, err := s.memory()
		if err != nil {
			return nil, err
		}
		res.Memory.PeakHWMMiB, res.Memory.PeakSampledMiB = mib(hwm), mib(peak)
		if o.profileDir != "" {
			if err := s.heapProfile(filepath.Join(o.profileDir, "burst.heap.pprof")); err != nil {
				return nil, err
			}
		}
		bc.close()
		time.Sleep(5 * time.Second)
		if rss, _, err = s.memory(); err != nil {
			return nil, err
		}
		res.Memory.AfterBurstIdleMiB = mib(rss)
		s.stop()
	}

	if want(1) {
		// Server 3: the latchbench binary, which also serves the page without
		// latch. Figure 1.
		progress("1. auth overhead: /user/{name} with a session vs the same page without latch, %d×%s each", o.rounds, win)
		if s, err = start(bench); err != nil {
			return nil, err
		}
		defer s.stop()
		c = newClient(s.base, 4096)
		defer c.close()
		if cookie, err = login(ctx, c, 0, pageClientIP); err != nil {
			return nil, err
		}
		authPage, noAuthPage := page("/user/"+username(1)), page("/_bench/noauth/user/"+username(1))
		if st, err := noAuthPage(ctx, 0, 0); err != nil || st != 200 {
			res.Auth.Unavailable = fmt.Sprintf("GET /_bench/noauth/user/%s: status %d (%v): the page without latch is not mounted; "+
				"internal/site/site.go routes() needs the line `benchRoutes(s, root)` after root.Handle(\"/\", …) (see BENCHMARKS.md)", username(1), st, err)
			progress("1. skipped: %s", res.Auth.Unavailable)
		} else {
			// Warm both paths (connections, statement caches) off the record.
			closedLoop(ctx, o.pageConcurrency, time.Second, 200, authPage)
			closedLoop(ctx, o.pageConcurrency, time.Second, 200, noAuthPage)
			with, without := newSeries("page-auth"), newSeries("page-noauth")
			for range o.rounds {
				without.window(s, prof, win, func() (*recorder, time.Duration) { return closedLoopRec(ctx, o.pageConcurrency, win, noAuthPage) })
				with.window(s, prof, win, func() (*recorder, time.Duration) { return closedLoopRec(ctx, o.pageConcurrency, win, authPage) })
			}
			a := &res.Auth
			a.WithAuth, a.NoAuth = with.stats(200), without.stats(200)
			a.CPUWith, a.CPUWithout = with.cpu.use(), without.cpu.use()
			a.Ratio = a.WithAuth.PerSec / a.NoAuth.PerSec
			if a.WithAuth.PerSec > 0 && a.NoAuth.PerSec > 0 {
				a.CPUAuthUs = a.CPUWith.Server / a.WithAuth.PerSec * 1e6
				a.CPUNoAuth = a.CPUWithout.Server / a.NoAuth.PerSec * 1e6
				a.CPURatio = a.CPUNoAuth / a.CPUAuthUs
			}
		}
		s.stop()
	}

	res.Machine.QuietWait = quietTotal.Round(time.Second).String()

	a := &res.Auth
	if a.Unavailable != "" {
		want = func(fig int) bool { return fig != 1 && (o.only == "" || strings.Contains(o.only, strconv.Itoa(fig))) }
	}
	for _, c := range []struct {
		fig int
		Check
	}{
		{1, Check{"1 auth overhead ratio (req/s)", a.Ratio, ">=", 0.8, a.Ratio >= 0.8}},
		{2, Check{"2 login-path ratio", res.Login.Ratio, ">=", 0.9, res.Login.Ratio >= 0.9}},
		{3, Check{"3 flood p99 ratio, one client", res.Flood.SingleIP.P99Ratio, "<=", 2, res.Flood.SingleIP.P99Ratio <= 2}},
		{3, Check{"3 flood p99 ratio, distributed", res.Flood.Distributed.P99Ratio, "<=", 2, res.Flood.Distributed.P99Ratio <= 2}},
		{4, Check{"4 peak RSS, 1,000 concurrent logins (MiB)", res.Memory.PeakHWMMiB, "<=", 150, res.Memory.PeakHWMMiB <= 150}},
		{4, Check{"4 idle RSS after start-up (MiB)", res.Memory.IdleMiB, "<=", 25, res.Memory.IdleMiB <= 25}},
	} {
		if want(c.fig) {
			res.Targets = append(res.Targets, c.Check)
		}
	}
	return res, nil
}

// floodWindow runs a flood at -flood-rate for d and, while it runs, the
// page load; the page starts after the flood has settled and ends before
// it stops.
func floodWindow(ctx context.Context, o options, d time.Duration, pageLoad func(time.Duration) (*recorder, time.Duration), flood op) (fl *recorder, fel time.Duration, pg *recorder, pel time.Duration) {
	var wg sync.WaitGroup
	wg.Go(func() { fl, fel = openLoop(ctx, o.floodRate, d, o.floodConcurrency, flood) })
	time.Sleep(200 * time.Millisecond)
	pg, pel = pageLoad(d - 400*time.Millisecond)
	wg.Wait()
	return fl, fel, pg, pel
}

// login logs user i in from client address ip and returns the cookies.
func login(ctx context.Context, c *client, i int, ip string) (string, error) {
	r, err := c.do(ctx, "POST", "/login", map[string][]string{"email": {email(i)}, "password": {userPassword}}, ip, "")
	if err != nil {
		return "", err
	}
	if r.status != 303 {
		return "", fmt.Errorf("login as %s: status %d", email(i), r.status)
	}
	return cookieHeader(r.cookies), nil
}

// fixedLoop does n operations with workers, each taking the next index.
func fixedLoop(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) (int, error)) (*recorder, time.Duration) {
	var next sync.Mutex
	idx := 0
	take := func() (int, bool) {
		next.Lock()
		defer next.Unlock()
		if idx >= n {
			return 0, false
		}
		idx++
		return idx - 1, true
	}
	recs := make([]*recorder, workers)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := range workers {
		recs[w] = newRecorder()
		wg.Go(func() {
			for {
				i, ok := take()
				if !ok || ctx.Err() != nil {
					return
				}
				s := time.Now()
				st, err := fn(ctx, i)
				recs[w].add(time.Since(s), st, err)
			}
		})
	}
	wg.Wait()
	el := time.Since(t0)
	all := newRecorder()
	for _, r := range recs {
		all.merge(r)
	}
	return all, el
}

// closedLoopRec is closedLoop that returns the raw recorder, for loads
// measured in several rounds.
func closedLoopRec(ctx context.Context, workers int, d time.Duration, fn op) (*recorder, time.Duration) {
	recs := make([]*recorder, workers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	stop := make(chan struct{})
	for w := range workers {
		recs[w] = newRecorder()
		wg.Go(func() {
			<-start
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := time.Now()
				st, err := fn(ctx, w, i)
				recs[w].add(time.Since(s), st, err)
				if ctx.Err() != nil {
					return
				}
			}
		})
	}
	t0 := time.Now()
	close(start)
	time.AfterFunc(d, func() { close(stop) })
	wg.Wait()
	el := time.Since(t0)
	all := newRecorder()
	for _, r := range recs {
		all.merge(r)
	}
	return all, el
}

// hashWindow verifies a password against enc for d in this process, with
// the production Hasher (DefaultParams, its admission control) and n
// callers, and returns the latencies and the number of verifications.
func hashWindow(ctx context.Context, h *password.Hasher, enc string, n int, d time.Duration) (*recorder, int, time.Duration) {
	recs := make([]*recorder, n)
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	t0 := time.Now()
	for w := range n {
		recs[w] = newRecorder()
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				s := time.Now()
				ok, _, err := h.Verify(ctx, userPassword, enc)
				if err == nil && !ok {
					err = errors.New("verify: password does not match")
				}
				recs[w].add(time.Since(s), 0, err)
			}
		})
	}
	wg.Wait()
	el := time.Since(t0)
	all := newRecorder()
	for _, r := range recs {
		all.merge(r)
	}
	return all, all.status[0], el
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func printTable(out io.Writer, r *Result) {
	m, o := r.Machine, r.Options
	fmt.Fprintf(out, "latch-load  %s  %d cores (GOMAXPROCS %d), %s, %s, SQLite in a temp file\n", m.Date, m.Cores, m.GOMAXPROCS, m.CPU, m.Go)
	fmt.Fprintf(out, "loads of %s in %d alternating windows; load average at start %s; waited %s for a quiet machine", o.Duration, o.Rounds, m.LoadAvg, m.QuietWait)
	if o.ServerEnv != "" {
		fmt.Fprintf(out, "; server env %s", o.ServerEnv)
	}
	fmt.Fprintf(out, "\ncores: CPU cores busy on average in the server / the load generator / anything else on the machine\n\n")
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	lat := func(s Stats) string {
		return fmt.Sprintf("p50 %.2f  p99 %.2f  max %.1f ms", s.P50ms, s.P99ms, s.MaxMs)
	}
	cores := func(u CPUUse) string { return fmt.Sprintf("%.2f / %.2f / %.2f", u.Server, u.Load, u.Other) }
	row := func(name, value, latency, statuses, cpu string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, value, latency, statuses, cpu)
	}
	row("figure", "value", "latency", "statuses", "cores")
	show := func(fig int) bool { return o.Only == "" || strings.Contains(o.Only, strconv.Itoa(fig)) }
	a := r.Auth
	switch {
	case !show(1):
	case a.Unavailable != "":
		row("1 NOT MEASURED", "see below", "", "", "")
	default:
		row("1 GET /user/{name}, session cookie", fmt.Sprintf("%.0f req/s", a.WithAuth.PerSec), lat(a.WithAuth), statusMix(a.WithAuth), cores(a.CPUWith))
		row("  same page without latch (latchbench)", fmt.Sprintf("%.0f req/s", a.NoAuth.PerSec), lat(a.NoAuth), statusMix(a.NoAuth), cores(a.CPUWithout))
		row("  AUTH OVERHEAD RATIO (req/s with ÷ without)", fmt.Sprintf("%.3f", a.Ratio), fmt.Sprintf("%d concurrent", o.PageConcurrency), "", "")
		row("  server CPU per request with / without", fmt.Sprintf("%.0f / %.0f µs", a.CPUAuthUs, a.CPUNoAuth), fmt.Sprintf("ratio %.3f", a.CPURatio), "", "")
	}
	if l := r.Login; show(2) {
		row("2 logins (right password, a client each)", fmt.Sprintf("%.1f /s", l.Logins.PerSec), lat(l.Logins), statusMix(l.Logins), cores(l.CPULogin))
		row("  argon2id verifies in-process", fmt.Sprintf("%.1f /s", l.HashPerSec), fmt.Sprintf("p50 %.1f ms, %d concurrent", l.HashMs, l.Concurrency), "", cores(l.CPUHash))
		row("  LOGIN-PATH RATIO (logins/s ÷ verifies/s)", fmt.Sprintf("%.3f", l.Ratio), "", "", "")
	}
	if f := r.Flood; show(3) {
		row(fmt.Sprintf("3 page at %.0f req/s, no flood", o.PageRate), "", lat(f.Baseline), statusMix(f.Baseline), cores(f.BaselineCPU))
		row("  its p99 per window", "", msList(f.BaselineP99Windows), "", "")
		for _, x := range []struct {
			name string
			fr   FloodRun
		}{{"one client", f.SingleIP}, {"distributed", f.Distributed}} {
			row(fmt.Sprintf("  flood %.0f/s, %s", o.FloodRate, x.name), fmt.Sprintf("%.0f answers/s", float64(x.fr.Flood.Requests)/x.fr.Flood.Seconds), lat(x.fr.Flood), statusMix(x.fr.Flood)+dropped(x.fr.Flood), "")
			row("  page during it", "", lat(x.fr.Page), statusMix(x.fr.Page)+dropped(x.fr.Page), cores(x.fr.CPU))
			row("  its p99 per window", "", msList(x.fr.PageP99Windows), "", "")
			row("  FLOOD P99 RATIO, "+x.name, fmt.Sprintf("%.2f", x.fr.P99Ratio), "", "", "")
		}
	}
	if mm := r.Memory; show(4) {
		row("4 IDLE RSS after start-up (fresh / populated db)", fmt.Sprintf("%.1f / %.1f MiB", mm.IdleFreshMiB, mm.IdleMiB), "", "", "")
		row(fmt.Sprintf("  PEAK RSS (VmHWM), %d concurrent logins", o.Burst), fmt.Sprintf("%.1f MiB", mm.PeakHWMMiB), fmt.Sprintf("sampled max %.1f, 5 s later %.1f MiB", mm.PeakSampledMiB, mm.AfterBurstIdleMiB), "", "")
		row("  those logins", fmt.Sprintf("%.1f ok/s", mm.Burst.PerSec), lat(mm.Burst), statusMix(mm.Burst), cores(mm.BurstCPU))
	}
	row("5 SIGN-UPS", fmt.Sprintf("%.1f /s", r.SignUps.PerSec), lat(r.SignUps), statusMix(r.SignUps), cores(r.SignCPU))
	tw.Flush()
	if a.Unavailable != "" {
		fmt.Fprintf(out, "\nfigure 1: %s\n", a.Unavailable)
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "target\tvalue\tgoal\tmet\n")
	for _, c := range r.Targets {
		met := "yes"
		if !c.Met {
			met = "NO"
		}
		fmt.Fprintf(tw, "%s\t%.3g\t%s %g\t%s\n", c.Figure, c.Value, c.Op, c.Target, met)
	}
	tw.Flush()
	if r.Profiles != "" {
		fmt.Fprintf(out, "\nCPU profiles (first window of each load) and a heap profile after the burst are in %s, e.g.\n  go tool pprof -top %s/page-auth.cpu.pprof\n", r.Profiles, r.Profiles)
	}
}

func msList(v []float64) string {
	var parts []string
	for _, x := range v {
		parts = append(parts, fmt.Sprintf("%.1f", x))
	}
	return strings.Join(parts, " ") + " ms"
}

func dropped(s Stats) string {
	if s.Dropped == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d not sent: too many outstanding)", s.Dropped)
}
