package password

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrTooLong is returned, before any hashing, for a password longer
	// than MaxBytes. Refusing it cheaply keeps a megabyte-sized "password"
	// from costing more than a normal one.
	ErrTooLong = errors.New("password: too long")

	// ErrBusy is matched (errors.Is) by every error returned when the
	// Hasher refuses or gives up waiting for work: the queue is full,
	// MaxWait passed, or the caller's context ended while it waited. The
	// concrete error is a *BusyError carrying a Retry-After suggestion.
	ErrBusy = errors.New("password: hasher busy")

	// ErrMalformedHash is wrapped by errors for stored hashes whose format
	// is recognised but whose content is broken, or whose parameters are
	// outside the bounds this package accepts (see Verify).
	ErrMalformedHash = errors.New("password: malformed hash")

	// ErrUnknownFormat is wrapped by errors for stored hashes in a format
	// (or a variant of one) this package does not verify.
	ErrUnknownFormat = errors.New("password: unknown hash format")

	// ErrInvalidParams is wrapped by Params.Validate errors.
	ErrInvalidParams = errors.New("password: invalid argon2id parameters")
)

// BusyError is the concrete error behind ErrBusy. RetryAfter is a
// suggestion for an HTTP Retry-After header: a whole number of seconds,
// at least one, estimated from the current queue and the recent cost of a
// hash.
type BusyError struct {
	RetryAfter time.Duration

	reason string
	cause  error // the context's error when the caller's context ended
}

func (e *BusyError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("password: hasher busy: %s: %v (retry after %s)", e.reason, e.cause, e.RetryAfter)
	}
	return fmt.Sprintf("password: hasher busy: %s (retry after %s)", e.reason, e.RetryAfter)
}

// Is makes errors.Is(err, ErrBusy) true for every *BusyError.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// Unwrap returns the context error (context.Canceled or
// context.DeadlineExceeded) when the caller's context ended while it
// waited, so that errors.Is works for those too; otherwise nil.
func (e *BusyError) Unwrap() error { return e.cause }
