//go:build !latchbench

package site

import "net/http"

// benchRoutes mounts nothing: the unauthenticated benchmark page exists
// only in binaries built with -tags latchbench (see bench_noauth.go).
func benchRoutes(*Site, *http.ServeMux) {}
