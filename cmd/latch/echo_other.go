//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || zos)

package main

import "errors"

// noEcho is not available here: readSecret falls back to x/term's
// ReadPassword.
func noEcho(int) (func(), error) { return nil, errors.ErrUnsupported }
