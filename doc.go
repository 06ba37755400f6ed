// Package latch is a login manager for net/http applications: Flask-Login
// for Go, with secure defaults.
package latch
