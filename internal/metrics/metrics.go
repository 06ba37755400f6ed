// Package metrics exposes the site's Prometheus metrics: requests by route
// and status, login outcomes, the password hasher's queue, active
// sessions and database pool statistics. They are served on a separate
// admin address, never on the public one.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors of one process.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	logins   *prometheus.CounterVec
	hashWait prometheus.Histogram
	pools    *poolCollector
}

// New registers the standard process and Go collectors and the site's own.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "latch_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_logins_total",
			Help: "Login attempts by result: ok, failed, limited, inactive, unconfirmed.",
		}, []string{"result"}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "latch_password_hash_queue_wait_seconds",
			Help:    "Time password hashes waited for a hashing slot.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	m.pools = &poolCollector{}
	reg.MustRegister(m.requests, m.duration, m.logins, m.hashWait, m.pools)
	for _, r := range []string{"ok", "failed", "limited", "inactive", "unconfirmed"} {
		m.logins.WithLabelValues(r)
	}
	return m
}

// ObserveRequest counts one finished request. Route is the mux pattern
// ("GET /user/{username}"), never the raw path, so the number of series
// stays bounded whatever clients send.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// Login counts a login attempt's result.
func (m *Metrics) Login(result string) { m.logins.WithLabelValues(result).Inc() }

// HashWait records how long a hash waited for a slot.
func (m *Metrics) HashWait(d time.Duration) { m.hashWait.Observe(d.Seconds()) }

// SessionCache exposes the login manager's read cache: lookups it
// answered and missed, and what it holds.
func (m *Metrics) SessionCache(stats func() (hits, misses uint64, entries int, bytes int64)) {
	m.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "latch_session_cache_hits_total", Help: "Session lookups answered by the read cache."},
			func() float64 { h, _, _, _ := stats(); return float64(h) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "latch_session_cache_misses_total", Help: "Session lookups that read the store."},
			func() float64 { _, mi, _, _ := stats(); return float64(mi) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latch_session_cache_entries", Help: "Sessions held by the read cache."},
			func() float64 { _, _, e, _ := stats(); return float64(e) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latch_session_cache_bytes", Help: "Bytes held by the read cache, as estimated."},
			func() float64 { _, _, _, b := stats(); return float64(b) }),
	)
}

// HashQueue exposes the hasher's running and waiting hashes.
func (m *Metrics) HashQueue(inFlight, queued func() int) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latch_password_hashes_running", Help: "Password hashes being computed."},
			func() float64 { return float64(inFlight()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latch_password_hash_queue_depth", Help: "Password hashes waiting for a slot."},
			func() float64 { return float64(queued()) }),
	)
}

// Sessions exposes the number of active sessions. Counting can be costly
// (a table scan, a Redis SCAN), so the count is refreshed at most once a
// minute, whatever the scrape interval.
func (m *Metrics) Sessions(count func(context.Context) (int, error)) {
	var (
		mu   sync.Mutex
		last time.Time
		n    = -1.0
	)
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "latch_sessions_active",
		Help: "Unexpired sessions (logged-in and anonymous), counted at most once a minute; -1 if counting failed.",
	}, func() float64 {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < time.Minute {
			return n
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := count(ctx)
		last, n = time.Now(), float64(c)
		if err != nil {
			n = -1
		}
		return n
	}))
}

// PoolSnapshot is a connection pool's state at one moment; counts and
// durations are cumulative.
type PoolSnapshot struct {
	Open, InUse, Idle, Max int
	WaitCount              int64
	WaitDuration           time.Duration
}

// Pool exposes a connection pool's statistics under a pool label.
func (m *Metrics) Pool(name string, stats func() PoolSnapshot) {
	m.pools.mu.Lock()
	defer m.pools.mu.Unlock()
	m.pools.names = append(m.pools.names, name)
	m.pools.stats = append(m.pools.stats, stats)
}

var (
	poolOpen  = prometheus.NewDesc("latch_db_pool_connections", "Database connections by state.", []string{"pool", "state"}, nil)
	poolMax   = prometheus.NewDesc("latch_db_pool_max_connections", "Database pool size limit.", []string{"pool"}, nil)
	poolWaits = prometheus.NewDesc("latch_db_pool_waits_total", "Times a query waited for a free connection.", []string{"pool"}, nil)
	poolWait  = prometheus.NewDesc("latch_db_pool_wait_seconds_total", "Total time queries waited for a free connection.", []string{"pool"}, nil)
)

// poolCollector reports every pool registered with Pool; one collector,
// since a registry takes each metric description once.
type poolCollector struct {
	mu    sync.Mutex
	names []string
	stats []func() PoolSnapshot
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolOpen
	ch <- poolMax
	ch <- poolWaits
	ch <- poolWait
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, name := range c.names {
		s := c.stats[i]()
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.InUse), name, "in_use")
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.Idle), name, "idle")
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.Max), name)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount), name)
		ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, s.WaitDuration.Seconds(), name)
	}
}

// SQLPool turns database/sql statistics into a PoolSnapshot.
func SQLPool(st sql.DBStats) PoolSnapshot {
	return PoolSnapshot{Open: st.OpenConnections, InUse: st.InUse, Idle: st.Idle, Max: st.MaxOpenConnections,
		WaitCount: st.WaitCount, WaitDuration: st.WaitDuration}
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
