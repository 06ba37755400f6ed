package mailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

var (
	// ErrQueueFull is returned by [Queue.Enqueue] when the buffer is full.
	// The message is not queued; the caller should answer its user as if it
	// had been (a reset page must not reveal anything either way).
	ErrQueueFull = errors.New("mailer: queue full")
	// ErrQueueClosed is returned by [Queue.Enqueue] after [Queue.Close].
	ErrQueueClosed = errors.New("mailer: queue closed")
)

// Defaults for [NewQueue].
const (
	DefaultQueueSize      = 1000
	DefaultWorkers        = 2
	DefaultAttemptTimeout = 30 * time.Second
)

// DefaultRetryDelays is the back-off schedule of a [Queue]: after a failed
// first attempt it waits 1s, then 5s, then 25s before the next ones, so a
// message gets four attempts over about half a minute.
var DefaultRetryDelays = []time.Duration{1 * time.Second, 5 * time.Second, 25 * time.Second}

// QueueStats are a [Queue]'s counters since it was created, for metrics.
type QueueStats struct {
	Queued  uint64 // accepted by Enqueue
	Sent    uint64 // delivered
	Failed  uint64 // given up on: every attempt failed, or a permanent error
	Dropped uint64 // refused by Enqueue because the buffer was full, or abandoned when Close's context ended first
	Pending uint64 // accepted and not yet delivered, failed or abandoned (waiting, being sent or between retries)
}

// QueueOption configures [NewQueue].
type QueueOption func(*Queue)

// WithQueueSize sets how many messages may wait (default
// [DefaultQueueSize]); Enqueue returns [ErrQueueFull] beyond that.
func WithQueueSize(n int) QueueOption {
	return func(q *Queue) {
		if n > 0 {
			q.size = n
		}
	}
}

// WithWorkers sets how many messages are sent at the same time (default
// [DefaultWorkers]).
func WithWorkers(n int) QueueOption {
	return func(q *Queue) {
		if n > 0 {
			q.workers = n
		}
	}
}

// WithRetryDelays sets the back-off schedule: after the k-th failed attempt
// the queue waits delays[k-1] and tries again, so a message gets
// len(delays)+1 attempts. No delays means a single attempt. The default is
// [DefaultRetryDelays]; tests use milliseconds.
func WithRetryDelays(delays ...time.Duration) QueueOption {
	return func(q *Queue) {
		q.delays = slices.Clone(delays)
	}
}

// WithAttemptTimeout bounds each attempt's call to the Sender (default
// [DefaultAttemptTimeout]), through the context passed to Send.
func WithAttemptTimeout(d time.Duration) QueueOption {
	return func(q *Queue) {
		if d > 0 {
			q.attemptTimeout = d
		}
	}
}

// Queue sends messages in the background through another [Sender], so
// that no request waits for a mail server: [Queue.Enqueue] takes the
// same, short time whether a mail is sent or not and whatever the mail
// server does. Workers retry failed deliveries with back-off, except for
// errors that match [ErrPermanent] or [ErrInvalidMessage].
//
// Failures are logged with the recipient's domain only and never with the
// subject or text; the error is logged with the recipient's address
// replaced by "<recipient>".
//
// A Queue is itself a Sender ([Queue.Send] enqueues), so it can be passed
// where a Sender is expected.
type Queue struct {
	sender         Sender
	logger         *slog.Logger
	size           int
	workers        int
	delays         []time.Duration
	attemptTimeout time.Duration

	ch     chan Message
	done   chan struct{}   // closed when every worker has returned
	ctx    context.Context // cancelled when Close gives up
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	stats     QueueStats
	abandoned uint64
}

// NewQueue starts a queue that delivers through s and logs on logger
// (slog.Default() if nil). Stop it with [Queue.Close].
func NewQueue(s Sender, logger *slog.Logger, opts ...QueueOption) *Queue {
	if logger == nil {
		logger = slog.Default()
	}
	q := &Queue{
		sender:         s,
		logger:         logger,
		size:           DefaultQueueSize,
		workers:        DefaultWorkers,
		delays:         slices.Clone(DefaultRetryDelays),
		attemptTimeout: DefaultAttemptTimeout,
		done:           make(chan struct{}),
	}
	for _, opt := range opts {
		if opt != nil {
			opt(q)
		}
	}
	q.ch = make(chan Message, q.size)
	q.ctx, q.cancel = context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range q.workers {
		wg.Go(q.work)
	}
	go func() {
		wg.Wait()
		close(q.done)
	}()
	return q
}

// Enqueue validates m and queues it for delivery. It never blocks: it
// returns an error wrapping [ErrInvalidMessage] for a message that is not
// safe to send, [ErrQueueFull] when the buffer is full, [ErrQueueClosed]
// after Close, and nil otherwise.
func (q *Queue) Enqueue(m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrQueueClosed
	}
	select {
	case q.ch <- m:
		q.stats.Queued++
		return nil
	default:
		q.stats.Dropped++
		return ErrQueueFull
	}
}

// Send is Enqueue, so that a Queue can serve as a [Sender]; ctx is not
// used. A nil error means the message was queued, not delivered.
func (q *Queue) Send(_ context.Context, m Message) error {
	return q.Enqueue(m)
}

// Stats returns a consistent snapshot of the counters.
func (q *Queue) Stats() QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.stats
	st.Pending = st.Queued - st.Sent - st.Failed - q.abandoned
	return st
}

// Close stops accepting messages and waits until the queued ones are
// delivered or given up on, including their retries. If ctx ends first,
// Close cancels the attempt in progress, abandons the remaining messages
// (counted as Dropped) and returns ctx's error at once, without waiting
// for the workers to notice. Close may be called more than once.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		q.cancel()
		return ctx.Err()
	}
}

func (q *Queue) work() {
	for m := range q.ch {
		q.deliver(m)
	}
}

func (q *Queue) count(f func(*QueueStats)) {
	q.mu.Lock()
	f(&q.stats)
	q.mu.Unlock()
}

func (q *Queue) abandon() {
	q.mu.Lock()
	q.stats.Dropped++
	q.abandoned++
	q.mu.Unlock()
}

func (q *Queue) deliver(m Message) {
	domain := domainOf(m.To)
	for attempt := 1; ; attempt++ {
		if q.ctx.Err() != nil {
			q.abandon()
			return
		}
		err := q.attempt(m)
		if err == nil {
			q.count(func(s *QueueStats) { s.Sent++ })
			q.logger.Debug("mail sent", "domain", domain, "attempt", attempt)
			return
		}
		if q.ctx.Err() != nil {
			q.abandon()
			q.logger.Warn("mail abandoned at shutdown", "domain", domain, "attempt", attempt)
			return
		}
		errText := redact(err.Error(), m.To)
		permanent := errors.Is(err, ErrPermanent) || errors.Is(err, ErrInvalidMessage)
		if permanent || attempt > len(q.delays) {
			q.count(func(s *QueueStats) { s.Failed++ })
			q.logger.Error("mail delivery failed", "domain", domain, "attempts", attempt,
				"permanent", permanent, "error", errText)
			return
		}
		delay := q.delays[attempt-1]
		q.logger.Warn("mail delivery attempt failed, will retry", "domain", domain,
			"attempt", attempt, "retry_in", delay, "error", errText)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-q.ctx.Done():
			t.Stop()
		}
	}
}

// attempt calls the sender once, with the per-attempt timeout, turning a
// panic into an error so that a faulty Sender cannot crash the process.
func (q *Queue) attempt(m Message) (err error) {
	ctx, cancel := context.WithTimeout(q.ctx, q.attemptTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: sender panicked: %v", ErrPermanent, r)
		}
	}()
	return q.sender.Send(ctx, m)
}
