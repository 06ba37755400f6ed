package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestServeAndShutdown(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0"},
			env(map[string]string{"LATCH_DATABASE": filepath.Join(dir, "env.db")}), nil, outW, &logs)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no address line: %v (logs: %s)", err, logs.String())
	}
	base := strings.TrimSpace(strings.TrimPrefix(line, "latch: serving on "))
	go io.Copy(io.Discard, outR)

	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()

	// A slow request in flight is finished, not cut, by the shutdown.
	started := make(chan struct{})
	slow := make(chan int, 1)
	go func() {
		close(started)
		res, err := http.Get(base + "/signup")
		if err != nil {
			slow <- 0
			return
		}
		res.Body.Close()
		slow <- res.StatusCode
	}()
	<-started
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no shutdown")
	}
	if code := <-slow; code != 200 && code != 0 {
		t.Fatalf("in-flight request: %d", code)
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("logs: %s", logs.String())
	}
	// Without -base-url, links point where the site really listens (the
	// port -addr 127.0.0.1:0 picked), not at 127.0.0.1:8080.
	if !strings.Contains(logs.String(), "base_url="+base+" ") {
		t.Errorf("the base URL is not %s: %s", base, logs.String())
	}
}

// TestHelp: latch -h lists the commands and the flags with their kinds,
// and is not an error.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, env(nil), nil, &out, &errOut); err != nil {
			t.Fatalf("latch %v: %v", args, err)
		}
		for _, want := range []string{"commands:", "serve ", "migrate ", "user add|list", "sessions revoke", "import FILE",
			"-addr host:port", "-session-idle duration", "-db-max-conns number", "-base-url URL", "(default 30m)", "LATCH_SESSION_IDLE"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("latch %v lacks %q:\n%s", args, want, out.String())
			}
		}
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := run(context.Background(), []string{"migrate", "-database", filepath.Join(dir, "flag.db")},
		env(map[string]string{"LATCH_DATABASE": filepath.Join(dir, "missing-dir", "env.db")}), nil, &out, io.Discard)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if !strings.Contains(out.String(), "schema is at version") {
		t.Fatalf("output %q", out.String())
	}
}

func TestBadConfigurationNamesTheFlag(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-base-url", "ftp://x"}, nil, "-base-url"},
		{[]string{"-session-idle", "soon"}, nil, "-session-idle"},
		{nil, map[string]string{"LATCH_REMEMBER": "1s"}, "-remember"},
		{[]string{"-trusted-proxies", "not-a-net"}, nil, "-trusted-proxies"},
		{[]string{"-redis", "http://x"}, nil, "-redis"},
		{[]string{"-log-level", "loud"}, nil, "-log-level"},
	}
	for _, tt := range tests {
		err := run(context.Background(), append([]string{"serve"}, tt.args...), env(tt.env), nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: err = %v, want it to name %s", tt.args, tt.env, err, tt.want)
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), nil, io.Discard, io.Discard); err == nil {
		t.Error("unknown command accepted")
	}
}
