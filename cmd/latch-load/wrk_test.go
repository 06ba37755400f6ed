package main

import (
	"math"
	"os"
	"strings"
	"testing"
)

func TestParseWrk(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name string
		out  string
		want wrkResult
		err  string // part of the error, "" for none
	}{
		{
			name: "200s, wrk 4.1 as packaged by Debian",
			out:  read("wrk-ok.txt"),
			want: wrkResult{Requests: 34904, Seconds: 1.10, Bytes: 31.32 * 1024 * 1024, ReqPerSec: 31688.82,
				P50ms: 0.765, P75ms: 2.22, P90ms: 4.07, P99ms: 9.60},
		},
		{
			name: "404s",
			out:  read("wrk-404.txt"),
			want: wrkResult{Requests: 24861, Seconds: 1.00, Bytes: 4.17 * 1024 * 1024, ReqPerSec: 24839.84,
				P50ms: 0.062, P75ms: 0.065, P90ms: 0.107, P99ms: 1.91, Non2xx3xx: 24861},
		},
		{
			name: "socket errors, slow latencies, no distribution",
			out: `Running 1m test @ http://127.0.0.1:8080/user/u00001
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02s   300.00ms   1.99s    70.00%
    Req/Sec    10.00      5.00    20.00     60.00%
  1200 requests in 1.00m, 512.00KB read
  Socket errors: connect 0, read 12, write 1, timeout 37
  Non-2xx or 3xx responses: 5
Requests/sec:     20.00
Transfer/sec:      8.53KB
`,
			want: wrkResult{Requests: 1200, Seconds: 60, Bytes: 512 * 1024, ReqPerSec: 20, Non2xx3xx: 5, Read: 12, Write: 1, Timeout: 37},
		},
		{
			name: "tiny transfer in bytes",
			out:  "  3 requests in 2.00s, 512.00B read\nRequests/sec:      1.50\n",
			want: wrkResult{Requests: 3, Seconds: 2, Bytes: 512, ReqPerSec: 1.5},
		},
		{name: "no summary", out: "unable to connect to 127.0.0.1:1 Connection refused\n", err: "no summary"},
		{name: "no rate", out: "  3 requests in 2.00s, 512.00B read\n", err: "no summary"},
		{name: "bad latency", out: "     50%   12.00xs\n  3 requests in 2.00s, 512.00B read\nRequests/sec: 1.5\n", err: "latency"},
		{name: "bad socket errors", out: "  Socket errors: connect 0, read 1\n", err: "socket errors"},
		{name: "unknown socket error", out: "  Socket errors: connect 0, read 1, write 0, reset 3\n", err: "unknown kind"},
		{name: "bad size", out: "  3 requests in 2.00s, 5XB read\nRequests/sec: 1.5\n", err: "bad size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseWrk([]byte(tc.out))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !wrkClose(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// wrkClose compares two results, the floats to a relative 1e-9.
func wrkClose(a, b wrkResult) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y)) }
	return a.Requests == b.Requests && a.Non2xx3xx == b.Non2xx3xx &&
		a.Connect == b.Connect && a.Read == b.Read && a.Write == b.Write && a.Timeout == b.Timeout &&
		near(a.Seconds, b.Seconds) && near(a.Bytes, b.Bytes) && near(a.ReqPerSec, b.ReqPerSec) &&
		near(a.P50ms, b.P50ms) && near(a.P75ms, b.P75ms) && near(a.P90ms, b.P90ms) && near(a.P99ms, b.P99ms)
}

func TestParseWrkDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ms   float64
		fail bool
	}{
		{in: "634.00us", ms: 0.634},
		{in: "1.02ms", ms: 1.02},
		{in: "2.01s", ms: 2010},
		{in: "1.50m", ms: 90000},
		{in: "1.00h", ms: 3600000},
		{in: "0.00us", ms: 0},
		{in: "12", fail: true},
		{in: "ms", fail: true},
		{in: "-1.00ms", fail: true},
		{in: "1.0xs", fail: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ms, err := parseWrkDuration(tc.in)
			if tc.fail {
				if err == nil {
					t.Fatalf("parsed as %v ms, want an error", ms)
				}
				return
			}
			if err != nil || math.Abs(ms-tc.ms) > 1e-9*math.Max(1, tc.ms) {
				t.Errorf("%v ms, %v; want %v ms", ms, err, tc.ms)
			}
		})
	}
}

func TestParseWrkBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		b    float64
		fail bool
	}{
		{in: "512.00B", b: 512},
		{in: "4.17MB", b: 4.17 * 1024 * 1024},
		{in: "8.53KB", b: 8.53 * 1024},
		{in: "1.50GB", b: 1.5 * 1024 * 1024 * 1024},
		{in: "2.00TB", b: 2 * 1024 * 1024 * 1024 * 1024},
		{in: "4.17MiB", fail: true},
		{in: "4.17M", fail: true},
		{in: "B", fail: true},
		{in: "xMB", fail: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			b, err := parseWrkBytes(tc.in)
			if tc.fail {
				if err == nil {
					t.Fatalf("parsed as %v bytes, want an error", b)
				}
				return
			}
			if err != nil || math.Abs(b-tc.b) > 1e-6 {
				t.Errorf("%v bytes, %v; want %v", b, err, tc.b)
			}
		})
	}
}

func TestWindowFromWrk(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   wrkResult
		want Window
	}{
		{
			name: "all fine",
			in:   wrkResult{Requests: 1000, Seconds: 1, Bytes: 1510000, ReqPerSec: 990, P50ms: 1, P99ms: 5},
			want: Window{Requests: 1000, OK: 1000, Seconds: 1, PerSec: 990, P50ms: 1, P99ms: 5, BytesPerReply: 1510},
		},
		{
			name: "errors count against the rate",
			in:   wrkResult{Requests: 1000, Seconds: 1, Bytes: 1000, ReqPerSec: 1000, Non2xx3xx: 250, Timeout: 3},
			want: Window{Requests: 1000, OK: 750, Seconds: 1, PerSec: 750, NotOK: 253, BytesPerReply: 1,
				FirstErr: "250 responses with a status above 399; socket errors: connect 0, read 0, write 0, timeout 3"},
		},
		{
			name: "socket errors only",
			in:   wrkResult{Requests: 10, Seconds: 1, ReqPerSec: 10, Connect: 1},
			want: Window{Requests: 10, OK: 10, Seconds: 1, PerSec: 10, NotOK: 1, FirstErr: "socket errors: connect 1, read 0, write 0, timeout 0"},
		},
		{
			name: "nothing answered",
			in:   wrkResult{Seconds: 1, Connect: 32},
			want: Window{Seconds: 1, NotOK: 32, FirstErr: "socket errors: connect 32, read 0, write 0, timeout 0"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := windowFromWrk(tc.in); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
