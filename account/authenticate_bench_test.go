package account_test

// Benchmarks of Service.Authenticate for a known email with a wrong
// password and for an unknown email. The dummy hash that Authenticate
// verifies for unknown emails is meant to make the two cost the same, so
// that response times do not reveal which accounts exist (ASVS 6.3.8).
// Measured, never asserted:
//
//	go test -run '^$' -bench Authenticate -benchtime 200x ./account
//
// BenchmarkAuthenticateEnumeration interleaves the two cases, so drift of
// the machine (other load, CPU frequency) hits both alike, and reports the
// median of each and their ratio (unknown/known; 1.00 means the timing
// tells nothing).

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/sqlite"
	"github.com/latchgo/latch/throttle"
)

const benchPassword = "correct horse battery staple"

// noLimits never throttles, so that every iteration reaches the password
// check; the throttle store is still read and written as in production.
var noLimits = account.Limits{
	LoginAccount: throttle.Rule{Window: time.Hour, Free: 1 << 30, Base: time.Second, Max: time.Second},
	LoginClient:  throttle.Rule{Window: time.Hour, Free: 1 << 30, Base: time.Second, Max: time.Second},
	SignUp:       throttle.Rule{Window: time.Hour, Free: 1 << 30, Base: time.Second, Max: time.Second},
}

// newBenchService returns a Service over SQLite in a temporary directory,
// with the production hasher (DefaultParams) and one user whose password
// is benchPassword.
func newBenchService(b *testing.B) *account.Service {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.OpenAccounts(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s := account.NewService(st, password.NewHasher(password.DefaultParams), st)
	s.Limits = noLimits
	if _, err := s.SignUp(ctx, account.SignUpInput{Username: "alice", Email: "alice@example.org", Password: benchPassword}, "192.0.2.1"); err != nil {
		b.Fatal(err)
	}
	return s
}

// authenticate runs one failing login and checks that it failed as a
// wrong password does.
func authenticate(b *testing.B, s *account.Service, email string, i int) {
	_, err := s.Authenticate(context.Background(), email, "wrong password "+strconv.Itoa(i), "192.0.2.2")
	if err != account.ErrBadCredentials {
		b.Fatalf("Authenticate(%q): %v, want ErrBadCredentials", email, err)
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	for _, c := range []struct{ name, email string }{
		{"known-email-wrong-password", "alice@example.org"},
		{"unknown-email", "nobody@example.org"},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := newBenchService(b)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				authenticate(b, s, c.email, i)
				i++
			}
		})
	}
}

func BenchmarkAuthenticateEnumeration(b *testing.B) {
	s := newBenchService(b)
	// One of each, unmeasured, to warm caches and the prepared statements.
	authenticate(b, s, "alice@example.org", -1)
	authenticate(b, s, "nobody@example.org", -1)
	var known, unknown []time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// Alternate which case goes first, so neither always follows the
		// other.
		first, second := "alice@example.org", "nobody@example.org"
		if i%2 == 1 {
			first, second = second, first
		}
		for _, email := range []string{first, second} {
			t0 := time.Now()
			authenticate(b, s, email, i)
			d := time.Since(t0)
			if email == "alice@example.org" {
				known = append(known, d)
			} else {
				unknown = append(unknown, d)
			}
		}
	}
	med := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2])
	}
	mean := func(d []time.Duration) float64 {
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		return float64(sum) / float64(len(d))
	}
	b.ReportMetric(0, "ns/op") // an op is a pair here; the metrics below say more
	b.ReportMetric(med(known), "known-p50-ns")
	b.ReportMetric(med(unknown), "unknown-p50-ns")
	b.ReportMetric(med(unknown)/med(known), "unknown/known-p50")
	b.ReportMetric(mean(unknown)/mean(known), "unknown/known-mean")
}
