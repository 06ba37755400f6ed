//go:build latchbench

package server_test

// The auth overhead of the profile page in-process: the site's whole
// handler chain (as NewApp wires it, over SQLite in a temporary file, with
// the request log written to io.Discard) serving GET /user/{name} with a
// session cookie, and the same page without latch at
// /_bench/noauth/user/{name} (internal/site/bench_noauth.go). No network
// and no load generator, so ns/op is the server's CPU per request and the
// ratio of the two is the part of the auth overhead that is latch's.
// Needs the latchbench tag (and the benchRoutes hook in site.routes):
//
//	go test -tags latchbench -run '^$' -bench Page -benchmem ./internal/server
//	go test -tags latchbench -run '^$' -bench Page/auth -cpuprofile auth.pprof ./internal/server

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

type pageWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *pageWriter) Header() http.Header { return w.h }
func (w *pageWriter) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
}
func (w *pageWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	w.n += len(b)
	return len(b), nil
}

func BenchmarkPage(b *testing.B) {
	h, cookie := benchSite(b, "-database", filepath.Join(b.TempDir(), "bench.db"))
	for _, c := range []struct{ name, path string }{
		{"auth", "/user/bob"},
		{"noauth", "/_bench/noauth/user/bob"},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", c.path, nil)
			r.Header.Set("Cookie", cookie)
			r.Header.Set("Accept", "text/html")
			pw := &pageWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(pw.h)
				pw.code, pw.n = 0, 0
				h.ServeHTTP(pw, r)
			}
			if pw.code != 200 {
				b.Fatalf("GET %s: %d", c.path, pw.code)
			}
			b.ReportMetric(float64(pw.n), "page-bytes")
		})
	}
}
