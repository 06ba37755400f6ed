package cluster_test

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// revocationBound is how soon after a revocation returns every instance
// must refuse what it revoked, whatever its read cache holds.
const revocationBound = 100 * time.Millisecond

// cacheHits reads latch_session_cache_hits_total from an admin address.
func cacheHits(t *testing.T, admin string) float64 {
	t.Helper()
	res, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	m := regexp.MustCompile(`(?m)^latch_session_cache_hits_total (\S+)$`).FindStringSubmatch(b.String())
	if m == nil {
		t.Fatal("no latch_session_cache_hits_total in /metrics")
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// probe sends GET /api/me with only the given session cookie, over and
// over, from several goroutines, until stop is closed, and records when
// each request started and what it got.
type probe struct {
	mu      sync.Mutex
	results []probeResult
	stop    chan struct{}
	wg      sync.WaitGroup
}

type probeResult struct {
	start  time.Time
	status int
}

func startProbe(target, cookie string, workers int) *probe {
	p := &probe{stop: make(chan struct{})}
	for range workers {
		p.wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-p.stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", target+"/api/me", nil)
				req.AddCookie(&http.Cookie{Name: "latch_session", Value: cookie})
				start := time.Now()
				res, err := client.Do(req)
				if err != nil {
					continue
				}
				res.Body.Close()
				p.mu.Lock()
				p.results = append(p.results, probeResult{start, res.StatusCode})
				p.mu.Unlock()
			}
		})
	}
	return p
}

// finish stops the probe and checks it against a revocation that returned
// at revoked: every request that started more than revocationBound later
// was refused. It returns how long after the revocation the first refusal
// started (for the log).
func (p *probe) finish(t *testing.T, revoked time.Time) time.Duration {
	t.Helper()
	// A loaded machine can stall the server for longer than the bound:
	// wait until requests that started after the bound have come back,
	// so that there is something to judge.
	waitFor(t, 10*time.Second, "answers to requests sent after the revocation bound", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		n := 0
		for _, r := range p.results {
			if r.start.Sub(revoked) > revocationBound {
				n++
			}
		}
		return n >= 8
	})
	close(p.stop)
	p.wg.Wait()
	first := time.Duration(-1)
	late := 0
	served := time.Duration(-1) // the latest start of a request still served
	for _, r := range p.results {
		after := r.start.Sub(revoked)
		if r.status == http.StatusUnauthorized && (first < 0 || after < first) && after > -time.Second {
			first = after
		}
		if r.status != http.StatusUnauthorized && after > served {
			served = after
		}
		if after > revocationBound && r.status != http.StatusUnauthorized {
			late++
		}
	}
	if late > 0 {
		t.Errorf("%d requests that started more than %v after the revocation were still served", late, revocationBound)
	}
	if first < 0 {
		t.Fatal("the revoked session was never refused")
	}
	if served >= 0 {
		t.Logf("the last request served started %v after the revocation returned", served.Round(time.Millisecond))
	}
	return first
}

// TestRevocationReachesOtherInstanceWithinBound: two instances share
// PostgreSQL and Redis, each with its read cache on. A session that B
// serves from its cache is revoked through A; B refuses it within
// revocationBound — for a logout (a session deleted in Redis) and for
// "log out everywhere else" (the credential epoch raised in PostgreSQL).
func TestRevocationReachesOtherInstanceWithinBound(t *testing.T) {
	pg, rd := services(t)
	dsn, prefix := pgSchema(t, pg), redisPrefix(t, rd)
	adminB := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args := []string{"-database", dsn, "-redis", rd, "-redis-prefix", prefix}
	a := start(t, args...)
	b := start(t, append(args, "-admin-addr", adminB)...)

	owner := newBrowser(t)
	if r := owner.signup(a.URL, "alice"); r.status != 303 {
		t.Fatalf("sign-up: %d", r.status)
	}
	for round, revoke := range []struct {
		name string
		do   func(victim string)
	}{
		{"logout", func(victim string) {
			v := newBrowser(t)
			v.setCookie(a.URL, "latch_session", victim)
			if r := v.post(a.URL+"/logout", nil); r.status != 303 {
				t.Fatalf("logout on A: %d", r.status)
			}
		}},
		{"log out everywhere else", func(string) {
			if r := owner.post(a.URL+"/account/devices/revoke-others", nil); r.status != 303 {
				t.Fatalf("revoke others on A: %d", r.status)
			}
		}},
	} {
		t.Run(revoke.name, func(t *testing.T) {
			owner.login(a.URL, "alice", false) // fresh, for revoke-others
			device := newBrowser(t)
			if r := device.login(a.URL, "alice", false); r.status != 303 {
				t.Fatalf("login %d: %d", round, r.status)
			}
			victim := device.cookie(a.URL, "latch_session")
			// B serves the session, from its cache once it has read it.
			before := cacheHits(t, adminB)
			for range 20 {
				if s := device.me(b.URL); s != 200 {
					t.Fatalf("the session on B: %d", s)
				}
			}
			if hits := cacheHits(t, adminB) - before; hits < 10 {
				t.Fatalf("B answered only %v of 20 requests from its cache: the test would prove nothing", hits)
			}
			p := startProbe(b.URL, victim, 4)
			time.Sleep(50 * time.Millisecond)
			revoke.do(victim)
			revoked := time.Now()
			first := p.finish(t, revoked)
			t.Logf("%s on A: B refused the session %v after the revocation returned", revoke.name, first.Round(time.Millisecond))
		})
	}
}

// TestCommandLineRevocationReachesSQLiteServer: `latch sessions revoke`,
// another process on the same SQLite file, ends a session that the
// running server serves from its cache, within revocationBound.
func TestCommandLineRevocationReachesSQLiteServer(t *testing.T) {
	db := filepath.Join(t.TempDir(), "latch.db")
	admin := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	srv := start(t, "-database", db, "-admin-addr", admin)
	u := newBrowser(t)
	if r := u.signup(srv.URL, "alice"); r.status != 303 {
		t.Fatalf("sign-up: %d", r.status)
	}
	if r := u.login(srv.URL, "alice", false); r.status != 303 {
		t.Fatalf("login: %d", r.status)
	}
	before := cacheHits(t, admin)
	for range 20 {
		if s := u.me(srv.URL); s != 200 {
			t.Fatalf("the session: %d", s)
		}
	}
	if hits := cacheHits(t, admin) - before; hits < 10 {
		t.Fatalf("only %v of 20 requests came from the cache: the test would prove nothing", hits)
	}
	p := startProbe(srv.URL, u.cookie(srv.URL, "latch_session"), 4)
	time.Sleep(50 * time.Millisecond)
	cmd := exec.Command(latchBinary(t), "sessions", "revoke", "-database", db, "alice")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("latch sessions revoke: %v\n%s", err, out)
	}
	revoked := time.Now()
	first := p.finish(t, revoked)
	t.Logf("the server refused the session %v after the command returned", first.Round(time.Millisecond))
}
