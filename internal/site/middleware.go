package site

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// requestInfo is what the site keeps about a request in its context: its
// id (for every log line about it), the User-Agent (for code that sees
// only a context, such as the account service's hook writing the audit
// log), and the route pattern that served it, filled in by the mux, for
// the request log and metrics, which run outside the mux. One context
// value holds all three.
type requestInfo struct {
	id        string
	userAgent string
	route     string
}

type requestInfoKey struct{}

func infoOf(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

// setRoute records the route pattern that served r.
func setRoute(r *http.Request, pattern string) {
	if ri := infoOf(r.Context()); ri != nil {
		ri.route = pattern
	}
}

// statusWriter records the status and size of a response for the request
// log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (Flush,
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests gives each request an id (in the X-Request-Id response
// header and on every log line about it) and logs one line when it ends.
// Only the path is logged: query strings can carry tokens.
func (s *Site) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header()["X-Request-Id"] = []string{id}
		ri := &requestInfo{id: id, userAgent: r.UserAgent(), route: "unmatched"}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		elapsed := time.Since(start)
		if s.cfg.Observe != nil {
			s.cfg.Observe(ri.route, r.Method, sw.status, elapsed)
		}
		s.logger.LogAttrs(r.Context(), levelFor(sw.status), "request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", ri.route),
			slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes),
			slog.Duration("duration", elapsed),
			slog.String("ip", s.clientIP(r)),
		)
	})
}

// recoverPanics turns a panic into a plain 500 page. The stack goes to the
// log, never to the client.
func (s *Site) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log(r).Error("panic", "panic", v, "stack", string(debug.Stack()))
				s.errorPage(w, r, http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows nothing but the site's own stylesheet and
// images: no scripts at all, no inline styles, no framing, forms only to
// the site itself.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// scriptPolicy is the CSP of the pages that offer passkeys: the same,
// plus the site's own script file and its calls back to the site. Still
// no inline script, no eval, nothing from elsewhere.
const scriptPolicy = contentSecurityPolicy + "; script-src 'self'; connect-src 'self'"

// securityHeaders sets the headers every response carries (ASVS 3.4).
// Dynamic responses are also marked no-store; static files override it.
func (s *Site) securityHeaders(next http.Handler) http.Handler {
	// Canonical keys and values made once: every response shares the
	// value slices (Header.Set and Add replace or grow a copy, never
	// write into them), which saves a dozen allocations per request.
	headers := http.Header{}
	headers.Set("Content-Security-Policy", contentSecurityPolicy)
	headers.Set("X-Content-Type-Options", "nosniff")
	headers.Set("X-Frame-Options", "DENY")
	headers.Set("Referrer-Policy", "same-origin")
	headers.Set("Cross-Origin-Opener-Policy", "same-origin")
	headers.Set("Cross-Origin-Resource-Policy", "same-origin")
	headers.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	headers.Set("Cache-Control", "no-store")
	if s.cfg.BaseURL.Scheme == "https" {
		headers.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	for k, v := range headers {
		headers[k] = slices.Clip(v)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range headers {
			h[k] = v
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses bodies over MaxBodyBytes: at once when the client
// announces the length, else when a handler reads past the limit.
func (s *Site) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			s.errorPage(w, r, http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// withErrorPages serves the site's own 404 and 405 pages for requests the
// mux has no route for, instead of the mux's plain text.
func (s *Site) withErrorPages(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			setRoute(r, pattern)
			// ServeHTTP, not h: only the mux sets r.PathValue.
			mux.ServeHTTP(w, r)
			return
		}
		// No pattern matched: the mux's handler is its 404, 405 or
		// redirect (trailing slash, cleaned path). Run it against a probe
		// to learn which, then answer with our page.
		probe := &probeWriter{header: http.Header{}}
		h.ServeHTTP(probe, r)
		switch probe.status {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			if allow := probe.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			s.errorPage(w, r, probe.status)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// probeWriter captures a status and headers and discards the body.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }
func (p *probeWriter) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

func (p *probeWriter) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// static serves the embedded stylesheet. Only files are served: a
// directory, a dot-file or a missing file is a 404, never a listing.
func (s *Site) static() http.Handler {
	files := staticFiles()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if name == "" || strings.HasPrefix(name, ".") || !fs.ValidPath(name) || path.Base(name) != name {
			s.errorPage(w, r, http.StatusNotFound)
			return
		}
		f, err := files.Open(name)
		if err != nil {
			s.errorPage(w, r, http.StatusNotFound)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || st.IsDir() {
			s.errorPage(w, r, http.StatusNotFound)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeContent(w, r, name, st.ModTime(), f.(readSeeker))
	})
}

type readSeeker interface {
	Read([]byte) (int, error)
	Seek(int64, int) (int64, error)
}

// sameScheme refuses a state-changing request whose Origin has another
// scheme than the site's, when the browser sent no Sec-Fetch-Site to
// decide by. http.CrossOriginProtection then compares only the Origin's
// host with the Host header, so a page served over plain http on the same
// host name — which a network attacker can inject — could post to the
// https site.
func (s *Site) sameScheme(next http.Handler) http.Handler {
	want := s.cfg.BaseURL.Scheme
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			origin := r.Header.Get("Origin")
			if r.Header.Get("Sec-Fetch-Site") == "" && origin != "" && origin != "null" {
				if u, err := url.Parse(origin); err != nil || !strings.EqualFold(u.Scheme, want) {
					s.crossOrigin(w, r)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
