package cluster_test

import (
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// TestTwoInstancesShareEverything is issue 4's multi-instance scenario:
// two latch processes on two ports share PostgreSQL and Redis, and a user
// moves between them freely.
func TestTwoInstancesShareEverything(t *testing.T) {
	pg, rd := services(t)
	dsn, prefix := pgSchema(t, pg), redisPrefix(t, rd)
	args := []string{"-database", dsn, "-redis", rd, "-redis-prefix", prefix}
	a, b := start(t, args...), start(t, args...)

	// Sign up through A, log in through B, use the session on A.
	u := newBrowser(t)
	if r := u.signup(a.URL, "alice"); r.status != 303 {
		t.Fatalf("sign-up on A: %d %s", r.status, r.body)
	}
	if r := u.login(b.URL, "alice", false); r.status != 303 {
		t.Fatalf("login on B: %d", r.status)
	}
	if s := u.me(a.URL); s != 200 {
		t.Fatalf("B's session on A: %d", s)
	}
	if r := u.get(a.URL + "/user/alice"); r.status != 200 || !strings.Contains(r.body, "alice") {
		t.Fatalf("profile on A: %d", r.status)
	}
	// Log out on A: the cookie is dead on B.
	session := u.cookie(a.URL, "latch_session")
	if r := u.post(a.URL+"/logout", nil); r.status != 303 {
		t.Fatalf("logout on A: %d", r.status)
	}
	replay := newBrowser(t)
	replay.setCookie(b.URL, "latch_session", session)
	if s := replay.me(b.URL); s != 401 {
		t.Fatalf("logged-out session still works on B: %d", s)
	}

	// A remember-me token used on A is rotated, and the rotated one works
	// on B; the old one is refused there as theft after the grace window
	// (tested in the library with a fake clock), so here: the new one.
	r := newBrowser(t)
	r.login(b.URL, "alice", true)
	first := r.cookie(b.URL, "latch_remember")
	r.dropCookie(a.URL, "latch_session")
	if s := r.me(a.URL); s != 200 {
		t.Fatalf("remember-me on A: %d", s)
	}
	second := r.cookie(a.URL, "latch_remember")
	if second == "" || second == first {
		t.Fatal("remember-me token not rotated on A")
	}
	r.dropCookie(b.URL, "latch_session")
	if s := r.me(b.URL); s != 200 {
		t.Fatalf("rotated token on B: %d", s)
	}

	// Failed logins spread over A and B count against one limit: the
	// account allows 10 free failures in an hour, wherever they land.
	attacker := newBrowser(t)
	for i := range 10 {
		target := []string{a.URL, b.URL}[i%2]
		res := attacker.post(target+"/login", url.Values{"email": {"alice@example.com"}, "password": {fmt.Sprintf("guess number %d", i)}})
		if res.status != 422 {
			t.Fatalf("failure %d on %s: %d", i+1, target, res.status)
		}
	}
	for _, target := range []string{a.URL, b.URL} {
		res := attacker.post(target+"/login", url.Values{"email": {"alice@example.com"}, "password": {password}})
		if res.status != 429 || res.header.Get("Retry-After") == "" {
			t.Fatalf("11th attempt on %s: %d, want 429 with Retry-After", target, res.status)
		}
	}
}

// TestConcurrentRememberRestoreAcrossInstances: a browser restoring
// several tabs at once sends one remember-me token to several instances;
// all of them log in, and it is not taken for theft.
func TestConcurrentRememberRestoreAcrossInstances(t *testing.T) {
	pg, rd := services(t)
	dsn, prefix := pgSchema(t, pg), redisPrefix(t, rd)
	args := []string{"-database", dsn, "-redis", rd, "-redis-prefix", prefix}
	a, b := start(t, args...), start(t, args...)
	u := newBrowser(t)
	u.signup(a.URL, "bob")
	u.login(a.URL, "bob", true)
	token := u.cookie(a.URL, "latch_remember")

	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tab := newBrowser(t)
			target := []string{a.URL, b.URL}[i%2]
			tab.setCookie(target, "latch_remember", token)
			codes[i] = tab.me(target)
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("tab %d: %d", i, c)
		}
	}
	logsWritten()
	for _, inst := range []*instance{a, b} {
		if strings.Contains(inst.logs.String(), "remember_theft") {
			t.Fatalf("concurrent tabs taken for theft:\n%s", inst.logs.String())
		}
	}
}

// TestInstancesStartingTogetherMigrateOnce: several instances started at
// once against an empty schema all come up (the advisory lock makes one
// migrate while the others wait).
func TestInstancesStartingTogetherMigrateOnce(t *testing.T) {
	pg, rd := services(t)
	dsn, prefix := pgSchema(t, pg), redisPrefix(t, rd)
	var wg sync.WaitGroup
	insts := make([]*instance, 4)
	for i := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			insts[i] = start(t, "-database", dsn, "-redis", rd, "-redis-prefix", prefix)
		}()
	}
	wg.Wait()
	u := newBrowser(t)
	if r := u.signup(insts[0].URL, "carol"); r.status != 303 {
		t.Fatalf("sign-up: %d", r.status)
	}
	for i, inst := range insts {
		if r := newBrowser(t).login(inst.URL, "carol", false); r.status != 303 {
			t.Fatalf("instance %d: login %d", i, r.status)
		}
	}
}

// TestMigrateCommand: `latch migrate` with PostgreSQL and Redis configured
// reports the schema version and exits.
func TestMigrateCommand(t *testing.T) {
	pg, rd := services(t)
	out, err := exec.Command(latchBinary(t), "migrate", "-database", pgSchema(t, pg), "-redis", rd).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "schema is at version") {
		t.Fatalf("latch migrate: %v\n%s", err, out)
	}
}
