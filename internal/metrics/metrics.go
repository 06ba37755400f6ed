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
	reg.MustRegister(m.requests, m.duration, m.logins, m.hashWait)
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

// HashQueue exposes the hasher's running and waiting hashes.
func (m *Metrics) HashQueue(inFlight, queued func() int) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latch_password_hashes_running", Help: "Password hashes being computed."},
			func() float64 { return float64(inFlight()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latch_password_hash_queue_depth", Help: "Password hashes waiting for a slot."},
			func() float64 { return float64(queued()) }),
	)
}

// Sessions exposes the number of active sessions, counted by count at
// most once per scrape with a short timeout.
func (m *Metrics) Sessions(count func(context.Context) (int, error)) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "latch_sessions_active",
		Help: "Unexpired sessions (logged-in and anonymous).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := count(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

// SQLPool exposes database/sql pool statistics under a pool label.
func (m *Metrics) SQLPool(name string, db *sql.DB) {
	m.Registry.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
