package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// moduleRoot returns the directory of the latch module that the current
// directory belongs to.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run latch-load inside the latch module (go run ./cmd/latch-load)")
	}
	return filepath.Dir(mod), nil
}

// buildServer builds ./cmd/latch of the module at root into out, with the
// given build tags ("" for the binary as shipped).
func buildServer(ctx context.Context, root, out, tags string) error {
	return buildPackage(ctx, root, out, tags, "./cmd/latch")
}

// buildPackage builds the main package pkg of the module at root into out.
func buildPackage(ctx context.Context, root, out, tags, pkg string) error {
	args := []string{"build", "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return nil
}

// goVersion is the version of the toolchain that builds the server.
func goVersion(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// server is one running server process: latch, or the plain page of
// -compare.
type server struct {
	cmd   *exec.Cmd
	base  string // http://127.0.0.1:port
	pprof string // http://127.0.0.1:port of net/http/pprof, "" if off
	exit  chan struct{}
	err   error // set when exit is closed
}

// startServer runs bin on a free loopback port over the database db (a
// SQLite file or a postgres:// URL), with X-Forwarded-For believed from
// 127.0.0.1 (so that the load can simulate many clients), and waits until
// /healthz answers 200. The server's log goes to logPath; env is added to
// its environment, extra to its flags. With pprofAddr (a latchbench
// binary only) the process also serves net/http/pprof there.
func startServer(ctx context.Context, bin, db, logPath, pprofAddr string, env []string, extra ...string) (*server, error) {
	args := append([]string{"serve",
		"-addr", "127.0.0.1:0",
		"-database", db,
		"-trusted-proxies", "127.0.0.1/32",
	}, extra...)
	if pprofAddr != "" {
		env = append([]string{"LATCH_BENCH_PPROF=" + pprofAddr}, env...)
	}
	s, err := startProcess(ctx, bin, args, logPath, env)
	if err == nil && pprofAddr != "" {
		s.pprof = "http://" + pprofAddr
	}
	return s, err
}

// startProcess runs bin with args, waits until it prints "serving on
// http://ADDR" on its standard output and then until ADDR/healthz
// answers 200. Its standard error goes to logPath; env is added to its
// environment, from which every LATCH_* variable of ours is removed.
func startProcess(ctx context.Context, bin string, args []string, logPath string, env []string) (*server, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	// Only args (and env) configure the process: drop LATCH_* variables
	// of the caller's environment.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCH_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, exit: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, a, ok := strings.Cut(sc.Text(), "serving on "); ok {
				select {
				case addr <- strings.TrimSpace(a):
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		s.err = cmd.Wait()
		logf.Close()
		close(s.exit)
	}()
	select {
	case s.base = <-addr:
	case <-s.exit:
		return nil, fmt.Errorf("server exited at start-up (%v); see %s", s.err, logPath)
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, fmt.Errorf("server did not report its address within 60s; see %s", logPath)
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("/healthz did not answer 200 within 30s (%v); see %s", err, logPath)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-s.exit:
			return nil, fmt.Errorf("server exited at start-up (%v); see %s", s.err, logPath)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		}
	}
}

// stop asks the server to shut down (SIGTERM) and kills it if it has not
// exited within 15 seconds.
func (s *server) stop() {
	select {
	case <-s.exit:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exit
	}
}

// memory reads the server's resident set size now (VmRSS) and its peak
// since start (VmHWM) from /proc, in bytes.
func (s *server) memory() (rss, hwm uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("unexpected %s line %q", name, line)
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if name == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, errors.New("no VmRSS/VmHWM in /proc/PID/status")
	}
	return rss, hwm, nil
}

// profile fetches a CPU profile of d from the server's pprof listener
// into path. It returns at once; wait on the returned channel.
func (s *server) profile(d time.Duration, path string) <-chan error {
	done := make(chan error, 1)
	if s.pprof == "" {
		done <- nil
		return done
	}
	go func() {
		secs := max(1, int(d/time.Second))
		done <- fetchTo(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.pprof, secs), path)
	}()
	return done
}

// trace fetches an execution trace of d from the server's pprof listener
// into path; wait on the returned channel.
func (s *server) trace(d time.Duration, path string) <-chan error {
	done := make(chan error, 1)
	if s.pprof == "" {
		done <- nil
		return done
	}
	go func() {
		done <- fetchTo(fmt.Sprintf("%s/debug/pprof/trace?seconds=%d", s.pprof, max(1, int(d/time.Second))), path)
	}()
	return done
}

// heapProfile saves the server's heap profile (in-use and allocated
// since start) into path.
func (s *server) heapProfile(path string) error {
	if s.pprof == "" {
		return nil
	}
	return fetchTo(s.pprof+"/debug/pprof/heap", path)
}

func fetchTo(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
