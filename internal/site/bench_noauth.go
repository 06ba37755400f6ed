//go:build latchbench

package site

import (
	"net/http"
)

// This file exists only in binaries built with -tags latchbench (the load
// command cmd/latch-load builds one); the shipped site never contains it.
//
// It serves the profile page without the login manager, at
// /_bench/noauth/user/{username}, so that the load command can divide the
// throughput of the real, authenticated /user/{username} by that of the
// same page without authentication. Both go through the same outer chain
// (request log, panic recovery, security headers, body limit, CSRF check,
// the site's error pages); the only difference is latch: Manager.Handler
// (session cookie → session → user), RequireLogin, and the current user
// and flash messages that render reads from the session.

// benchNoAuthPrefix is where the unauthenticated copy of the pages lives.
const benchNoAuthPrefix = "/_bench/noauth/"

// benchRoutes mounts the unauthenticated profile page on root. routes()
// calls it (an empty function in normal builds, see bench_noauth_stub.go).
func benchRoutes(s *Site, root *http.ServeMux) {
	pages := http.NewServeMux()
	pages.HandleFunc("GET "+benchNoAuthPrefix+"user/{username}", s.benchProfile)
	root.Handle(benchNoAuthPrefix, s.withErrorPages(pages))
}

// benchProfile is profile without latch: the same username check, the
// same store lookup, the same template. There is no current user, so the
// page's header shows the "Log in / Sign up" links instead of the user's
// name and the "Log out" button, and the "This is your profile" hint is
// never shown (a few dozen bytes of difference).
func (s *Site) benchProfile(w http.ResponseWriter, r *http.Request) {
	p, ok := s.profileUser(w, r)
	if !ok {
		return
	}
	// renderPlain, not render: render reads the user and the flash
	// messages from latch's per-request state, which this request does
	// not have.
	s.renderPlain(w, r, http.StatusOK, "profile", &view{Title: p.Username, Profile: p})
}
