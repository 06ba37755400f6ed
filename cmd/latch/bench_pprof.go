//go:build latchbench

package main

// This file exists only in binaries built with -tags latchbench (the load
// command cmd/latch-load builds one); the shipped command never contains
// it.
//
// With LATCH_BENCH_PPROF set to a loopback address (127.0.0.1:6061), the
// process serves net/http/pprof there, on a listener of its own, so CPU
// and heap profiles can be taken from the server under load:
//
//	go tool pprof -top http://127.0.0.1:6061/debug/pprof/profile?seconds=10

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("LATCH_BENCH_PPROF")
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "latch: LATCH_BENCH_PPROF=%q: want a loopback address such as 127.0.0.1:6061\n", addr)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "latch: LATCH_BENCH_PPROF: %v\n", err)
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	fmt.Fprintf(os.Stderr, "latch: pprof on http://%s/debug/pprof/\n", ln.Addr())
	go func() { _ = http.Serve(ln, mux) }()
}
