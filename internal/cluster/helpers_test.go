// Package cluster_test runs real latch processes side by side, as a load
// balancer would see them: several instances sharing PostgreSQL and Redis,
// nginx in front, and the databases failing and coming back.
package cluster_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// latchBinary builds cmd/latch once for the whole package.
func latchBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "latch-cluster-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "latch")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/latch")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// services returns the PostgreSQL and Redis URLs of the test environment,
// or skips the test.
func services(t *testing.T) (pg, rd string) {
	t.Helper()
	pg, rd = os.Getenv("LATCH_TEST_POSTGRES"), os.Getenv("LATCH_TEST_REDIS")
	if pg == "" || rd == "" {
		t.Skip("LATCH_TEST_POSTGRES and LATCH_TEST_REDIS must be set (bash .ci/run sets them)")
	}
	return pg, rd
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// pgSchema creates an empty schema for one test and returns a -database
// URL that uses it; the schema is dropped at the end.
func pgSchema(t *testing.T, base string) string {
	t.Helper()
	schema := randomName("latch_cluster_")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	return withQuery(base, "search_path", schema)
}

func withQuery(raw, key, value string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// redisPrefix returns a key prefix for one test and deletes its keys at
// the end.
func redisPrefix(t *testing.T, rawURL string) string {
	t.Helper()
	prefix := randomName("latchcluster") + ":"
	t.Cleanup(func() {
		opt, err := goredis.ParseURL(rawURL)
		if err != nil {
			return
		}
		c := goredis.NewClient(opt)
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// instance is one running latch process.
type instance struct {
	t    *testing.T
	cmd  *exec.Cmd
	URL  string
	logs *logBuffer
	done chan error
}

type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs `latch serve` with args on a free port and waits until it
// says where it listens.
func start(t *testing.T, args ...string) *instance {
	t.Helper()
	bin := latchBinary(t)
	cmd := exec.Command(bin, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inst := &instance{t: t, cmd: cmd, logs: logs, done: make(chan error, 1)}
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { inst.done <- cmd.Wait() }()
	t.Cleanup(func() { inst.stop() })
	deadline := time.After(30 * time.Second)
	for inst.URL == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("latch exited before serving:\n%s", logs.String())
			}
			if u, found := strings.CutPrefix(line, "latch: serving on "); found {
				inst.URL = u
			}
		case <-deadline:
			t.Fatalf("latch did not start in 30s:\n%s", logs.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	return inst
}

// stop sends SIGTERM and waits for a graceful exit.
func (i *instance) stop() {
	if i.cmd.ProcessState != nil {
		return
	}
	_ = i.cmd.Process.Signal(os.Interrupt)
	select {
	case <-i.done:
	case <-time.After(15 * time.Second):
		_ = i.cmd.Process.Kill()
		<-i.done
	}
}

// alive reports whether the process is still running.
func (i *instance) alive() bool {
	select {
	case err := <-i.done:
		i.done <- err
		return false
	default:
		return true
	}
}

// browser is a cookie-keeping client that does not follow redirects. Its
// jar holds cookies per host, not per port, so one browser talks to every
// instance on 127.0.0.1 with the same cookies — as it would through a load
// balancer.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, target string, form url.Values, header ...string) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(data)}
}

func (b *browser) get(target string) response { return b.do("GET", target, nil) }

func (b *browser) post(target string, form url.Values) response { return b.do("POST", target, form) }

const password = "correct horse battery staple"

func (b *browser) signup(base, name string) response {
	return b.post(base+"/signup", url.Values{"username": {name}, "email": {name + "@example.com"}, "password": {password}})
}

func (b *browser) login(base, name string, remember bool) response {
	f := url.Values{"email": {name + "@example.com"}, "password": {password}}
	if remember {
		f.Set("remember", "1")
	}
	return b.post(base+"/login", f)
}

// me returns the status of /api/me on base.
func (b *browser) me(base string) int { return b.get(base + "/api/me").status }

func (b *browser) cookie(base, name string) string {
	u, _ := url.Parse(base)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(base, name, value string) {
	u, _ := url.Parse(base)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func (b *browser) dropCookie(base, name string) {
	u, _ := url.Parse(base)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Path: "/", MaxAge: -1}})
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitFor polls cond until it holds or the timeout passes.
// logsWritten waits until what the instances logged so far has reached
// their log: they write it in batches a tenth of a second apart. Checks
// that something was not logged come after it.
func logsWritten() { time.Sleep(300 * time.Millisecond) }

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
