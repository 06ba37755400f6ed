package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSpread(t *testing.T) {
	for _, c := range []struct {
		num, den []float64
		scale    float64
		want     Spread
	}{
		{[]float64{10, 30, 20}, []float64{20, 20, 20}, 1, Spread{1, 0.5, 1.5}},
		{[]float64{10, 40}, []float64{10, 10}, 1, Spread{2.5, 1, 4}},
		{[]float64{10, 10}, []float64{10, 10}, 0.5, Spread{0.5, 0.5, 0.5}},
		{[]float64{10, 10}, []float64{0, 10}, 1, Spread{1, 1, 1}}, // a round without the denominator is left out
		{nil, nil, 1, Spread{}},
	} {
		if got := spread(c.num, c.den, c.scale); got != c.want {
			t.Errorf("spread(%v, %v, %v) = %+v, want %+v", c.num, c.den, c.scale, got, c.want)
		}
	}
}

func TestParseWrk(t *testing.T) {
	ok := `Running 4s test @ http://127.0.0.1:18080/user/alice
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms    1.10ms  20.11ms   80.12%
    Req/Sec    10.51k     1.02k   12.90k    71.25%
  83650 requests in 4.00s, 210.71MB read
Requests/sec:  20906.36
Transfer/sec:     52.66MB
`
	if v, err := parseWrk([]byte(ok)); err != nil || v != 20906.36 {
		t.Errorf("parseWrk = %v, %v", v, err)
	}
	for _, bad := range []string{
		strings.Replace(ok, "Requests/sec", "Non-2xx or 3xx responses: 83650\nRequests/sec", 1),
		strings.Replace(ok, "Requests/sec", "  Socket errors: connect 0, read 3, write 0, timeout 0\nRequests/sec", 1),
		"wrk: unable to connect",
	} {
		if _, err := parseWrk([]byte(bad)); err == nil {
			t.Errorf("parseWrk accepted:\n%s", bad)
		}
	}
}

// TestPlainPage: the plain page renders the users it holds, escaped, and
// nobody else.
func TestPlainPage(t *testing.T) {
	created := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	h := plainHandler(map[string]plainUser{"u00001": {"u00001", created}, "x<y": {"x<y", created}}, "u00000")
	for _, c := range []struct {
		path   string
		status int
		want   string
	}{
		{"/user/u00001", 200, `<time datetime="2026-12-04">December 4, 2026</time>`},
		{"/user/u00001", 200, `<a href="/user/u00000">u00000</a>`},
		{"/user/x%3Cy", 200, "<h1>x&lt;y</h1>"},
		{"/user/nobody", 404, ""},
		{"/healthz", 200, "ok"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("GET %s: %d, want %d with %q:\n%s", c.path, rec.Code, c.status, c.want, rec.Body)
		}
	}
}
