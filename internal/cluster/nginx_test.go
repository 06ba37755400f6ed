package cluster_test

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nginxConfig is deploy/nginx.conf, the file the README tells operators to
// use, with the test's ports and temp paths put in.
func nginxConfig(t *testing.T, listen, a, b int, dir string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(data)
	for old, repl := range map[string]string{
		"listen 127.0.0.1:8080;":              fmt.Sprintf("listen 127.0.0.1:%d;", listen),
		"server 127.0.0.1:8081;":              fmt.Sprintf("server 127.0.0.1:%d;", a),
		"server 127.0.0.1:8082;":              fmt.Sprintf("server 127.0.0.1:%d;", b),
		"worker_processes auto;":              "worker_processes 1;",
		"events { worker_connections 1024; }": "events { worker_connections 256; }",
	} {
		if !strings.Contains(conf, old) {
			t.Fatalf("deploy/nginx.conf no longer contains %q; update this test with it", old)
		}
		conf = strings.Replace(conf, old, repl, 1)
	}
	// Temp files under the test's directory, so nginx needs nothing of
	// the machine's own configuration.
	temps := ""
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		temps += fmt.Sprintf("    %s_temp_path %s;\n", kind, filepath.Join(dir, kind))
	}
	return strings.Replace(conf, "http {\n", "http {\n"+temps+"    access_log off;\n", 1)
}

// TestNginxInFrontOfTwoInstances runs the documented deployment: nginx
// with deploy/nginx.conf in front of two instances sharing PostgreSQL and
// Redis.
func TestNginxInFrontOfTwoInstances(t *testing.T) {
	pg, rd := services(t)
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/sbin/nginx"} {
			if _, serr := os.Stat(p); serr == nil {
				nginx, err = p, nil
			}
		}
	}
	if err != nil {
		t.Skip("nginx is not installed (apt-get install nginx-light)")
	}
	dsn, prefix := pgSchema(t, pg), redisPrefix(t, rd)
	listen := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", listen)
	args := []string{"-database", dsn, "-redis", rd, "-redis-prefix", prefix, "-trusted-proxies", "127.0.0.1/32", "-base-url", base}
	a, b := start(t, args...), start(t, args...)
	portOf := func(u string) int {
		var p int
		fmt.Sscanf(u[strings.LastIndex(u, ":")+1:], "%d", &p)
		return p
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(t, listen, portOf(a.URL), portOf(b.URL), dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	global := fmt.Sprintf("daemon off; pid %s; error_log stderr warn;", filepath.Join(dir, "nginx.pid"))
	if os.Geteuid() == 0 {
		global += " user root;"
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", conf, "-g", global)
	// Its own process group, so the cleanup stops the workers too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var nginxLog strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			nginxLog.WriteString(sc.Text() + "\n")
		}
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGQUIT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	u := newBrowser(t)
	waitFor(t, 10*time.Second, "nginx to answer", func() bool {
		resp, err := u.client.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// The whole flow through the proxy; requests land on both instances.
	if r := u.signup(base, "gina"); r.status != 303 {
		t.Fatalf("sign-up through nginx: %d %s\n%s", r.status, r.body, nginxLog.String())
	}
	if r := u.login(base, "gina", true); r.status != 303 {
		t.Fatalf("login through nginx: %d", r.status)
	}
	for i := range 6 {
		if r := u.get(base + "/user/gina"); r.status != 200 {
			t.Fatalf("profile request %d: %d", i, r.status)
		}
	}
	// A same-origin browser POST (Origin = the public URL) passes the
	// CSRF check behind the proxy; a cross-site one does not.
	if r := u.do("POST", base+"/logout", url.Values{}, "Origin", base, "Sec-Fetch-Site", "same-origin"); r.status != 303 {
		t.Fatalf("same-origin logout through nginx: %d", r.status)
	}
	if r := newBrowser(t).do("POST", base+"/login", url.Values{"email": {"gina@example.com"}}, "Origin", "http://evil.example"); r.status != 403 {
		t.Fatalf("cross-origin POST through nginx: %d", r.status)
	}
	// Instances write their request log in batches (a tenth of a second).
	for _, inst := range []*instance{a, b} {
		waitFor(t, 5*time.Second, "instance "+inst.URL+" to log a profile request (else nginx did not balance)", func() bool {
			return strings.Contains(inst.logs.String(), "path=/user/gina")
		})
	}

	// The client address is the one nginx saw; a spoofed X-Forwarded-For
	// does not escape the per-client limit on failed logins (30 free an
	// hour): rotate the header on every attempt and still get 429.
	attacker := newBrowser(t)
	limited := false
	for i := range 40 {
		r := attacker.do("POST", base+"/login", url.Values{"email": {fmt.Sprintf("user%d@example.com", i)}, "password": {"Summer2026!"}},
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		if r.status == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("rotating X-Forwarded-For through nginx escaped the per-client limit")
	}
	logsWritten()
	if logs := a.logs.String() + b.logs.String(); strings.Contains(logs, "ip=203.0.113.") {
		t.Fatal("an instance believed the client's X-Forwarded-For")
	}
}
