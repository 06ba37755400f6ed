package site

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/password"
	"github.com/latchgo/latch/throttle"
)

// errorTexts are the headings and messages of error pages. They say what
// happened in words a visitor understands and never include internals.
var errorTexts = map[int][2]string{
	http.StatusBadRequest:            {"Bad request", "The request could not be understood. Please check the form and try again."},
	http.StatusForbidden:             {"Forbidden", "This request came from another site and was refused. Go back to the page and submit the form again."},
	http.StatusNotFound:              {"Page not found", "There is no page at this address."},
	http.StatusMethodNotAllowed:      {"Method not allowed", "This page cannot be requested that way."},
	http.StatusRequestEntityTooLarge: {"Request too large", "What you sent is larger than this site accepts."},
	http.StatusTooManyRequests:       {"Too many attempts", "Please wait a moment before trying again."},
	http.StatusInternalServerError:   {"Something went wrong", "The page could not be shown. Please try again."},
	http.StatusServiceUnavailable:    {"Temporarily unavailable", "The service is busy or its database cannot be reached. Please try again in a few seconds."},
}

func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status == http.StatusTooManyRequests, status == http.StatusForbidden:
		return slog.LevelWarn
	default:
		return slog.LevelInfo
	}
}

// errorPage answers with the error page for status: JSON for API clients,
// HTML otherwise.
func (s *Site) errorPage(w http.ResponseWriter, r *http.Request, status int) {
	text, ok := errorTexts[status]
	if !ok {
		text = [2]string{http.StatusText(status), ""}
	}
	if latch.WantsJSON(r) || isAPI(r) {
		latch.WriteJSONError(w, status, text[1])
		return
	}
	s.render(w, r, status, "error", &view{Title: text[0], Status: status, Heading: text[0], Message: text[1]})
}

// serverError answers a failure that is not the visitor's doing, most
// often an unreachable database: 503 with Retry-After, the error in the log
// with the request id, nothing of it in the response.
func (s *Site) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.log(r).Error("request failed", "err", err, "path", r.URL.Path)
	w.Header().Set("Retry-After", "5")
	s.errorPageNoSession(w, r, http.StatusServiceUnavailable)
}

// errorPageNoSession renders an error page without touching the session
// (no current user, no flash messages): used when the session store itself
// is what failed.
func (s *Site) errorPageNoSession(w http.ResponseWriter, r *http.Request, status int) {
	text := errorTexts[status]
	if latch.WantsJSON(r) || isAPI(r) {
		latch.WriteJSONError(w, status, text[1])
		return
	}
	s.renderPlain(w, r, status, "error", &view{Title: text[0], Status: status, Heading: text[0], Message: text[1]})
}

// crossOrigin answers requests refused by the CSRF check.
func (s *Site) crossOrigin(w http.ResponseWriter, r *http.Request) {
	s.log(r).Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	s.errorPageNoSession(w, r, http.StatusForbidden)
}

// retryLater answers 429 or 503 with a Retry-After header.
func retryAfter(w http.ResponseWriter, seconds int) {
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
}

// busy reports whether err means the password hasher is saturated, and
// the Retry-After it suggests.
func busy(err error) (int, bool) {
	var be *password.BusyError
	if errors.As(err, &be) {
		return throttle.RetryAfterSeconds(be.RetryAfter), true
	}
	if errors.Is(err, password.ErrBusy) {
		return 1, true
	}
	return 0, false
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// limited reports whether err is a rate limit, and its Retry-After.
func limited(err error) (int, bool) {
	var le *account.LimitError
	if errors.As(err, &le) {
		return throttle.RetryAfterSeconds(le.RetryAfter), true
	}
	return 0, false
}
