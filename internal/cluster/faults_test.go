package cluster_test

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchgo/latch"
)

// throwawayRedis runs a private redis-server on a free port that the test
// may stop and start.
type throwawayRedis struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func newThrowawayRedis(t *testing.T) *throwawayRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	r := &throwawayRedis{t: t, port: freePort(t)}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *throwawayRedis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *throwawayRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.t.TempDir())
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	waitFor(r.t, 10*time.Second, "redis to answer", func() bool {
		return exec.Command("redis-cli", "-p", strconv.Itoa(r.port), "ping").Run() == nil
	})
}

func (r *throwawayRedis) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// throwawayPostgres runs a private PostgreSQL cluster in a temp directory.
// PostgreSQL refuses to run as root, so when the test runs as root (as CI
// does) the cluster runs as the "postgres" user.
type throwawayPostgres struct {
	t    *testing.T
	dir  string
	port int
	bin  string
	as   []string
}

func newThrowawayPostgres(t *testing.T) *throwawayPostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("PostgreSQL server binaries are not installed")
	}
	p := &throwawayPostgres{t: t, port: freePort(t), bin: filepath.Dir(bins[len(bins)-1])}
	parent, err := os.MkdirTemp("", "latch-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	p.dir = filepath.Join(parent, "data")
	if os.Geteuid() == 0 {
		pgUser, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root without a postgres user")
		}
		uid, _ := strconv.Atoi(pgUser.Uid)
		gid, _ := strconv.Atoi(pgUser.Gid)
		if err := os.Chown(parent, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.as = []string{"runuser", "-u", "postgres", "--"}
	}
	p.run("initdb", "-D", p.dir, "-A", "trust", "-U", "postgres", "--no-sync")
	p.start()
	t.Cleanup(func() { p.pgctl("stop", "-m", "immediate") })
	return p
}

func (p *throwawayPostgres) run(tool string, args ...string) {
	p.t.Helper()
	argv := append(append([]string{}, p.as...), filepath.Join(p.bin, tool))
	argv = append(argv, args...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("%s: %v\n%s", tool, err, out)
	}
}

func (p *throwawayPostgres) pgctl(args ...string) {
	argv := append(append([]string{}, p.as...), filepath.Join(p.bin, "pg_ctl"), "-D", p.dir)
	argv = append(argv, args...)
	_ = exec.Command(argv[0], argv[1:]...).Run()
}

func (p *throwawayPostgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

func (p *throwawayPostgres) start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.port, filepath.Dir(p.dir))
	p.run("pg_ctl", "-D", p.dir, "-o", opts, "-l", filepath.Join(filepath.Dir(p.dir), "log"), "-w", "start")
}

// crash stops the server the hard way, as a power cut would.
func (p *throwawayPostgres) crash() { p.pgctl("stop", "-m", "immediate") }

// TestRedisOutage: with Redis gone, pages answer 503 with a clear page and
// /healthz says so; the process survives and recovers when Redis returns.
func TestRedisOutage(t *testing.T) {
	pg, _ := services(t)
	rd := newThrowawayRedis(t)
	inst := start(t, "-database", pgSchema(t, pg), "-redis", rd.URL(), "-db-timeout", "2s")
	u := newBrowser(t)
	if r := u.signup(inst.URL, "dora"); r.status != 303 {
		t.Fatalf("sign-up: %d", r.status)
	}
	u.login(inst.URL, "dora", false)
	if u.me(inst.URL) != 200 {
		t.Fatal("not logged in")
	}

	rd.stop()
	// The session cache may serve what Redis confirmed up to
	// latch.MaxStaleness ago; past that, every page asks Redis.
	time.Sleep(latch.MaxStaleness)
	r := u.get(inst.URL + "/user/dora")
	if r.status != 503 || !strings.Contains(r.body, "Temporarily unavailable") || r.header.Get("Retry-After") == "" {
		t.Fatalf("page during the outage: %d %q", r.status, r.body)
	}
	if strings.Contains(strings.ToLower(r.body), "redis") || strings.Contains(r.body, "dial tcp") {
		t.Fatal("the error page shows internals")
	}
	if r := u.get(inst.URL + "/healthz"); r.status != 503 {
		t.Fatalf("healthz during the outage: %d", r.status)
	}
	if r := newBrowser(t).login(inst.URL, "dora", false); r.status != 503 {
		t.Fatalf("login during the outage: %d", r.status)
	}
	if !inst.alive() {
		t.Fatalf("latch died:\n%s", inst.logs.String())
	}

	rd.start() // an empty Redis: sessions are gone, the service is back
	waitFor(t, 20*time.Second, "healthz to recover", func() bool { return u.get(inst.URL+"/healthz").status == 200 })
	v := newBrowser(t)
	if r := v.login(inst.URL, "dora", false); r.status != 303 {
		t.Fatalf("login after recovery: %d", r.status)
	}
	if v.me(inst.URL) != 200 {
		t.Fatal("session after recovery")
	}
}

// TestPostgresOutage: with PostgreSQL gone, a sign-up answers 503 and
// leaves no partial account; pages and /healthz answer 503; after a
// restart everything acknowledged before is there and service resumes.
func TestPostgresOutage(t *testing.T) {
	services(t)
	db := newThrowawayPostgres(t)
	inst := start(t, "-database", db.URL(), "-db-timeout", "2s")
	u := newBrowser(t)
	if r := u.signup(inst.URL, "erin"); r.status != 303 {
		t.Fatalf("sign-up: %d %s", r.status, r.body)
	}
	u.login(inst.URL, "erin", false)

	db.crash()
	time.Sleep(latch.MaxStaleness) // as for Redis: past the cache's bound
	f := newBrowser(t)
	r := f.signup(inst.URL, "frank")
	if r.status != 503 {
		t.Fatalf("sign-up during the outage: %d", r.status)
	}
	if r := u.get(inst.URL + "/user/erin"); r.status != 503 || !strings.Contains(r.body, "Temporarily unavailable") {
		t.Fatalf("page during the outage: %d", r.status)
	}
	if r := u.get(inst.URL + "/healthz"); r.status != 503 {
		t.Fatalf("healthz: %d", r.status)
	}
	for _, secret := range []string{"dial tcp", "SQLSTATE", "pgx", "connection refused"} {
		if strings.Contains(r.body, secret) {
			t.Fatalf("internals in the answer: %q", secret)
		}
	}
	if !inst.alive() {
		t.Fatalf("latch died:\n%s", inst.logs.String())
	}

	db.start()
	waitFor(t, 30*time.Second, "healthz to recover", func() bool { return u.get(inst.URL+"/healthz").status == 200 })
	if s := u.me(inst.URL); s != 200 {
		t.Fatalf("erin's session after the restart: %d", s)
	}
	// frank's failed sign-up left nothing behind: the name is free.
	if r := f.signup(inst.URL, "frank"); r.status != 303 {
		t.Fatalf("frank after recovery: %d %s", r.status, r.body)
	}
	if r := newBrowser(t).post(inst.URL+"/login", url.Values{"email": {"erin@example.com"}, "password": {password}}); r.status != 303 {
		t.Fatalf("erin's login after recovery: %d", r.status)
	}
}
