package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one run of wrk (github.com/wg/wrk, 4.x, with
// --latency) reports.
type wrkResult struct {
	Requests  int     // responses completed, whatever their status
	Seconds   float64 // the run's length as wrk printed it
	Bytes     float64 // bytes read, headers included
	ReqPerSec float64 // Requests/sec: all responses
	P50ms     float64
	P75ms     float64
	P90ms     float64
	P99ms     float64
	Non2xx3xx int // responses with a status above 399 (wrk counts 3xx as success)
	Connect   int // socket errors
	Read      int
	Write     int
	Timeout   int
}

// sockErrors is the number of socket errors of all kinds.
func (r wrkResult) sockErrors() int { return r.Connect + r.Read + r.Write + r.Timeout }

// parseWrk reads wrk's text output. It needs the summary lines ("N
// requests in T, B read" and "Requests/sec:"); the latency distribution
// is read when present (wrk --latency).
func parseWrk(out []byte) (wrkResult, error) {
	var r wrkResult
	var haveSummary, haveRate bool
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && strings.HasSuffix(f[0], "%"):
			// A line of the latency distribution: "50%  634.00us".
			ms, err := parseWrkDuration(f[1])
			if err != nil {
				return r, fmt.Errorf("wrk latency line %q: %w", line, err)
			}
			switch f[0] {
			case "50%":
				r.P50ms = ms
			case "75%":
				r.P75ms = ms
			case "90%":
				r.P90ms = ms
			case "99%":
				r.P99ms = ms
			}
		case len(f) == 6 && f[1] == "requests" && f[2] == "in" && f[5] == "read":
			// "57565 requests in 2.01s, 51.66MB read"
			n, err := strconv.Atoi(f[0])
			if err != nil {
				return r, fmt.Errorf("wrk summary %q: %w", line, err)
			}
			ms, err := parseWrkDuration(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return r, fmt.Errorf("wrk summary %q: %w", line, err)
			}
			b, err := parseWrkBytes(f[4])
			if err != nil {
				return r, fmt.Errorf("wrk summary %q: %w", line, err)
			}
			r.Requests, r.Seconds, r.Bytes, haveSummary = n, ms/1000, b, true
		case strings.HasPrefix(line, "Socket errors:"):
			// "Socket errors: connect 0, read 12, write 0, timeout 3"
			rest := strings.ReplaceAll(strings.TrimPrefix(line, "Socket errors:"), ",", " ")
			g := strings.Fields(rest)
			if len(g) != 8 {
				return r, fmt.Errorf("wrk socket errors %q: unexpected form", line)
			}
			for i := 0; i < len(g); i += 2 {
				n, err := strconv.Atoi(g[i+1])
				if err != nil {
					return r, fmt.Errorf("wrk socket errors %q: %w", line, err)
				}
				switch g[i] {
				case "connect":
					r.Connect = n
				case "read":
					r.Read = n
				case "write":
					r.Write = n
				case "timeout":
					r.Timeout = n
				default:
					return r, fmt.Errorf("wrk socket errors %q: unknown kind %q", line, g[i])
				}
			}
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "Non-2xx or 3xx responses:")))
			if err != nil {
				return r, fmt.Errorf("wrk %q: %w", line, err)
			}
			r.Non2xx3xx = n
		case strings.HasPrefix(line, "Requests/sec:"):
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, "Requests/sec:")), 64)
			if err != nil {
				return r, fmt.Errorf("wrk %q: %w", line, err)
			}
			r.ReqPerSec, haveRate = v, true
		}
	}
	if !haveSummary || !haveRate {
		return r, errors.New("wrk output has no summary (\"N requests in …\" and \"Requests/sec:\")")
	}
	return r, nil
}

// parseWrkDuration reads one of wrk's times ("634.00us", "1.02ms",
// "2.01s", "1.50m", "1.00h") into milliseconds.
func parseWrkDuration(s string) (float64, error) {
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"us", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("bad time %q", s)
			}
			return v * u.ms, nil
		}
	}
	return 0, fmt.Errorf("bad time %q: no unit", s)
}

// parseWrkBytes reads one of wrk's byte counts ("512.00B", "4.17MB",
// binary multiples) into bytes.
func parseWrkBytes(s string) (float64, error) {
	num, ok := strings.CutSuffix(s, "B")
	if !ok {
		return 0, fmt.Errorf("bad size %q", s)
	}
	mult := 1.0
	if n := len(num); n > 0 {
		if i := strings.IndexByte("KMGTP", num[n-1]); i >= 0 {
			num = num[:n-1]
			for range i + 1 {
				mult *= 1024
			}
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return v * mult, nil
}

// runWrk runs wrk for d (whole seconds: wrk takes no fractions) against
// url with the given headers, threads and connections, and parses what it
// reports.
func runWrk(ctx context.Context, url string, headers []string, threads, conns int, d time.Duration) (wrkResult, error) {
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", strconv.Itoa(int(d/time.Second)) + "s", "--latency"}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, url)
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wrk", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w: %s", url, err, strings.TrimSpace(stderr.String()))
	}
	r, err := parseWrk(out)
	if err != nil {
		return r, fmt.Errorf("%w\n%s", err, out)
	}
	return r, nil
}
