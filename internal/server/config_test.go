package server

import (
	"io"
	"strings"
	"testing"
)

// TestBaseURLFollowsAddr: without -base-url the site's links follow
// -addr; a -base-url on this machine that names another port than -addr
// is warned about.
func TestBaseURLFollowsAddr(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
		warn bool
	}{
		{nil, nil, "http://127.0.0.1:8080", false},
		{[]string{"-addr", "127.0.0.1:9090"}, nil, "http://127.0.0.1:9090", false},
		{[]string{"-addr", ":9090"}, nil, "http://127.0.0.1:9090", false},
		{[]string{"-addr", "0.0.0.0:9090"}, nil, "http://127.0.0.1:9090", false},
		{[]string{"-addr", "[::1]:9090"}, nil, "http://[::1]:9090", false},
		{[]string{"-addr", "localhost:9090"}, nil, "http://localhost:9090", false},
		{nil, map[string]string{"LATCH_ADDR": "127.0.0.1:7070"}, "http://127.0.0.1:7070", false},
		{[]string{"-addr", "127.0.0.1:9090", "-base-url", "https://latch.example"}, nil, "https://latch.example", false},
		{[]string{"-addr", "127.0.0.1:9090", "-base-url", "http://localhost:9090"}, nil, "http://localhost:9090", false},
		{[]string{"-addr", "127.0.0.1:9090", "-base-url", "http://127.0.0.1:8080"}, nil, "http://127.0.0.1:8080", true},
		{[]string{"-addr", "127.0.0.1:9090", "-base-url", "http://localhost"}, nil, "http://localhost", true},
		{[]string{"-addr", "127.0.0.1:80", "-base-url", "http://localhost"}, nil, "http://localhost", false},
		{nil, map[string]string{"LATCH_ADDR": "127.0.0.1:9090", "LATCH_BASE_URL": "http://127.0.0.1:8080"}, "http://127.0.0.1:8080", true},
	} {
		cfg, _, err := ParseFlags("test", c.args, func(k string) string { return c.env[k] }, io.Discard)
		if err != nil {
			t.Fatalf("%v %v: %v", c.args, c.env, err)
		}
		if cfg.BaseURL.String() != c.want {
			t.Errorf("%v %v: base URL %s, want %s", c.args, c.env, cfg.BaseURL, c.want)
		}
		if warned := len(cfg.Warnings) > 0; warned != c.warn {
			t.Errorf("%v %v: warnings %q, want a warning: %v", c.args, c.env, cfg.Warnings, c.warn)
		} else if warned && !strings.Contains(cfg.Warnings[0], "links in mails will not reach the site") {
			t.Errorf("warning %q", cfg.Warnings[0])
		}
	}
}
