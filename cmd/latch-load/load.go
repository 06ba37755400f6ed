package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// client sends the load. Redirects are not followed (a login's 303 is its
// answer), bodies are read to the end so connections are reused, and the
// pool keeps up to maxConns connections to the server alive.
type client struct {
	base string
	http *http.Client
}

func newClient(base string, maxConns int) *client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0, // no limit overall
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &client{
		base: base,
		http: &http.Client{
			Transport:     tr,
			Timeout:       60 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// response is what the load keeps of an answer.
type response struct {
	status  int
	cookies []*http.Cookie
}

// do sends one request. xff, if set, is sent as X-Forwarded-For: the
// server believes it from 127.0.0.1, so each distinct value is a distinct
// client for its rate limits.
func (c *client) do(ctx context.Context, method, path string, form url.Values, xff, cookie string) (response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return response{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", "latch-load/1")
	req.Header.Set("Accept", "text/html")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return response{status: resp.StatusCode, cookies: resp.Cookies()}, nil
}

// cookieHeader turns the cookies a response set into a Cookie header.
func cookieHeader(cs []*http.Cookie) string {
	var parts []string
	for _, c := range cs {
		if c.Value != "" && c.MaxAge >= 0 {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	return strings.Join(parts, "; ")
}

// clientIPs hands out distinct client addresses from 10.0.0.0/8, one per
// simulated client.
var ipCounter atomic.Uint32

func nextIP() string {
	n := ipCounter.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", n>>16&0xff, n>>8&0xff, n&0xff)
}

// recorder collects latencies and statuses; one per worker, merged at the
// end, so recording costs no locking.
type recorder struct {
	lat      []time.Duration
	status   map[int]int
	errs     int
	firstErr error
	dropped  int // open loop: sends skipped because too many were outstanding
}

func newRecorder() *recorder { return &recorder{status: map[int]int{}} }

func (r *recorder) add(d time.Duration, status int, err error) {
	if err != nil {
		r.errs++
		if r.firstErr == nil {
			r.firstErr = err
		}
		return
	}
	r.lat = append(r.lat, d)
	r.status[status]++
}

func (r *recorder) merge(o *recorder) {
	r.lat = append(r.lat, o.lat...)
	for k, v := range o.status {
		r.status[k] += v
	}
	r.errs += o.errs
	r.dropped += o.dropped
	if r.firstErr == nil {
		r.firstErr = o.firstErr
	}
}

// Stats summarises one measured load.
type Stats struct {
	Requests int            `json:"requests"`
	Seconds  float64        `json:"seconds"`
	PerSec   float64        `json:"per_sec"` // answers with the expected status, per second
	Expected int            `json:"expected_status"`
	OK       int            `json:"ok"`
	Status   map[string]int `json:"status"`
	Errors   int            `json:"errors"`
	FirstErr string         `json:"first_error,omitempty"`
	P50ms    float64        `json:"p50_ms"`
	P90ms    float64        `json:"p90_ms"`
	P99ms    float64        `json:"p99_ms"`
	MaxMs    float64        `json:"max_ms"`
	Dropped  int            `json:"dropped,omitempty"` // open loop only: sends skipped at the in-flight cap
}

func (r *recorder) stats(elapsed time.Duration, expected int) Stats {
	s := Stats{
		Requests: len(r.lat) + r.errs,
		Seconds:  elapsed.Seconds(),
		Expected: expected,
		OK:       r.status[expected],
		Status:   map[string]int{},
		Errors:   r.errs,
		Dropped:  r.dropped,
	}
	for _, k := range slices.Sorted(maps.Keys(r.status)) {
		s.Status[strconv.Itoa(k)] = r.status[k]
	}
	if r.firstErr != nil {
		s.FirstErr = r.firstErr.Error()
	}
	if elapsed > 0 {
		s.PerSec = float64(s.OK) / elapsed.Seconds()
	}
	if len(r.lat) > 0 {
		slices.Sort(r.lat)
		q := func(p float64) float64 {
			i := int(p * float64(len(r.lat)-1))
			return float64(r.lat[i]) / 1e6
		}
		s.P50ms, s.P90ms, s.P99ms, s.MaxMs = q(0.50), q(0.90), q(0.99), q(1)
	}
	return s
}

// statusMix renders a status map as "303:1234 503:12".
func statusMix(s Stats) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.Status)) {
		parts = append(parts, k+":"+strconv.Itoa(s.Status[k]))
	}
	if s.Errors > 0 {
		parts = append(parts, "err:"+strconv.Itoa(s.Errors))
	}
	return strings.Join(parts, " ")
}

// op is one request of a load: worker is the worker's index, i counts the
// worker's own requests.
type op func(ctx context.Context, worker, i int) (status int, err error)

// closedLoop runs workers that each send their next request as soon as the
// previous one is answered, for d, all starting at once.
func closedLoop(ctx context.Context, workers int, d time.Duration, expected int, fn op) Stats {
	rec, elapsed := closedLoopRec(ctx, workers, d, fn)
	return rec.stats(elapsed, expected)
}

// openLoop sends rate requests per second for d on a fixed schedule,
// whatever the answers' latency, and measures each latency from the time
// the request was due (so a stalled server is not hidden by the sender
// waiting for it: no coordinated omission). At most maxInFlight requests
// are outstanding; sends past that are counted as dropped.
func openLoop(ctx context.Context, rate float64, d time.Duration, maxInFlight int, fn op) (*recorder, time.Duration) {
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d / interval)
	var (
		mu  sync.Mutex
		all = newRecorder()
		wg  sync.WaitGroup
	)
	sem := make(chan struct{}, maxInFlight)
	t0 := time.Now()
	for i := range n {
		due := t0.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				wg.Wait()
				return all, time.Since(t0)
			}
		}
		select {
		case sem <- struct{}{}:
		default:
			all.dropped++
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			status, err := fn(ctx, 0, i)
			lat := time.Since(due)
			mu.Lock()
			all.add(lat, status, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all, time.Since(t0)
}
