package mailer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch/mailer"
	"github.com/latchgo/latch/mailer/smtptest"
)

// syncBuffer is a bytes.Buffer safe for the workers' concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger() (*slog.Logger, *syncBuffer) {
	buf := new(syncBuffer)
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// fakeSender fails its first failures calls with err (a temporary error
// by default), then succeeds. If gate is set, each call waits for it
// first (or for ctx).
type fakeSender struct {
	mu       sync.Mutex
	calls    int
	sent     []mailer.Message
	failures int
	err      error
	gate     chan struct{}
	started  chan struct{} // receives once per call, if set
}

func (f *fakeSender) Send(ctx context.Context, m mailer.Message) error {
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.failures {
		if f.err != nil {
			return f.err
		}
		return fmt.Errorf("451 4.3.0 mailbox %s busy", m.To)
	}
	f.sent = append(f.sent, m)
	return nil
}

func (f *fakeSender) counts() (calls, sent int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, len(f.sent)
}

var fastRetries = mailer.WithRetryDelays(time.Millisecond, 2*time.Millisecond, 4*time.Millisecond)

func closeQueue(t *testing.T, q *mailer.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

var secretMail = mailer.Message{
	To:      "grace.hopper@navy.example",
	Subject: "Confirm zz-subject",
	Text:    "open http://127.0.0.1:8080/confirm/zz-token-body",
}

func TestQueueRetriesThenSucceeds(t *testing.T) {
	f := &fakeSender{failures: 2}
	logger, logs := testLogger()
	q := mailer.NewQueue(f, logger, fastRetries)
	if err := q.Enqueue(secretMail); err != nil {
		t.Fatal(err)
	}
	closeQueue(t, q)
	if calls, sent := f.counts(); calls != 3 || sent != 1 {
		t.Errorf("calls=%d sent=%d, want 3 attempts and 1 delivery", calls, sent)
	}
	if st := q.Stats(); st != (mailer.QueueStats{Queued: 1, Sent: 1}) {
		t.Errorf("Stats() = %+v", st)
	}
	out := logs.String()
	if got := strings.Count(out, "will retry"); got != 2 {
		t.Errorf("logged %d retries, want 2:\n%s", got, out)
	}
	checkLogPrivacy(t, out)
}

// checkLogPrivacy checks that queue logs name the recipient's domain but
// not the address, the subject or the body.
func checkLogPrivacy(t *testing.T, out string) {
	t.Helper()
	if !strings.Contains(out, "domain=navy.example") {
		t.Errorf("log does not name the recipient's domain:\n%s", out)
	}
	for _, secret := range []string{"grace.hopper", "zz-subject", "zz-token-body"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

func TestQueueGivesUpAfterLastAttempt(t *testing.T) {
	f := &fakeSender{failures: 1000}
	logger, logs := testLogger()
	q := mailer.NewQueue(f, logger, fastRetries)
	if err := q.Enqueue(secretMail); err != nil {
		t.Fatal(err)
	}
	closeQueue(t, q)
	if calls, _ := f.counts(); calls != 4 {
		t.Errorf("calls = %d, want 4 (1 + 3 retries)", calls)
	}
	if st := q.Stats(); st != (mailer.QueueStats{Queued: 1, Failed: 1}) {
		t.Errorf("Stats() = %+v", st)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "attempts=4") {
		t.Errorf("final failure not logged as an error:\n%s", out)
	}
	checkLogPrivacy(t, out)
}

func TestQueuePermanentErrorIsNotRetried(t *testing.T) {
	f := &fakeSender{failures: 1000, err: fmt.Errorf("550 no such user: %w", mailer.ErrPermanent)}
	logger, _ := testLogger()
	q := mailer.NewQueue(f, logger, fastRetries)
	if err := q.Enqueue(secretMail); err != nil {
		t.Fatal(err)
	}
	closeQueue(t, q)
	if calls, _ := f.counts(); calls != 1 {
		t.Errorf("calls = %d, want 1", calls)
	}
	if st := q.Stats(); st.Failed != 1 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestQueueFull(t *testing.T) {
	f := &fakeSender{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	logger, _ := testLogger()
	q := mailer.NewQueue(f, logger, mailer.WithWorkers(1), mailer.WithQueueSize(2), fastRetries)
	m := mailer.Message{To: "ada@example.com", Subject: "s", Text: "t"}
	if err := q.Enqueue(m); err != nil {
		t.Fatal(err)
	}
	<-f.started // the worker holds the first message; the buffer is empty
	for i := range 2 {
		if err := q.Enqueue(m); err != nil {
			t.Fatalf("Enqueue %d: %v", i+2, err)
		}
	}
	start := time.Now()
	err := q.Enqueue(m)
	if !errors.Is(err, mailer.ErrQueueFull) {
		t.Fatalf("Enqueue on a full queue = %v, want ErrQueueFull", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("Enqueue on a full queue took %v", d)
	}
	if st := q.Stats(); st != (mailer.QueueStats{Queued: 3, Dropped: 1, Pending: 3}) {
		t.Errorf("Stats() = %+v", st)
	}
	close(f.gate)
	closeQueue(t, q)
	if st := q.Stats(); st != (mailer.QueueStats{Queued: 3, Sent: 3, Dropped: 1}) {
		t.Errorf("Stats() after Close = %+v", st)
	}
}

func TestQueueEnqueueDoesNotWaitForSender(t *testing.T) {
	f := &fakeSender{gate: make(chan struct{})}
	logger, _ := testLogger()
	q := mailer.NewQueue(f, logger)
	start := time.Now()
	for range 100 {
		if err := q.Enqueue(mailer.Message{To: "ada@example.com", Subject: "s", Text: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("100 Enqueue calls took %v while the sender was stuck", d)
	}
	close(f.gate)
	closeQueue(t, q)
	if st := q.Stats(); st.Sent != 100 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestQueueCloseDrains(t *testing.T) {
	srv := smtptest.NewServer(t)
	s := newSMTP(t, srv.URL())
	logger, _ := testLogger()
	q := mailer.NewQueue(s, logger, mailer.WithWorkers(3))
	const n = 25
	for i := range n {
		if err := q.Enqueue(mailer.Message{To: fmt.Sprintf("user%d@example.com", i), Subject: "s", Text: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	closeQueue(t, q)
	if got := len(srv.Messages()); got != n {
		t.Errorf("%d messages delivered after Close, want %d", got, n)
	}
	if st := q.Stats(); st != (mailer.QueueStats{Queued: n, Sent: n}) {
		t.Errorf("Stats() = %+v", st)
	}
	if err := q.Enqueue(resetMail); !errors.Is(err, mailer.ErrQueueClosed) {
		t.Errorf("Enqueue after Close = %v, want ErrQueueClosed", err)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestQueueCloseWithExpiredContextReturnsPromptly(t *testing.T) {
	// A sender that ignores its context and never returns on its own.
	gate := make(chan struct{})
	stuck := mailer.Sender(senderFunc(func(ctx context.Context, m mailer.Message) error {
		<-gate
		return nil
	}))
	logger, _ := testLogger()
	q := mailer.NewQueue(stuck, logger, mailer.WithWorkers(1))
	for range 5 {
		if err := q.Enqueue(mailer.Message{To: "ada@example.com", Subject: "s", Text: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	start := time.Now()
	err := q.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("Close with an expired context took %v", d)
	}
	if err := q.Enqueue(resetMail); !errors.Is(err, mailer.ErrQueueClosed) {
		t.Errorf("Enqueue after Close = %v, want ErrQueueClosed", err)
	}
	// Once the stuck call returns, the rest is abandoned, not sent.
	close(gate)
	waitFor(t, func() bool { return q.Stats().Pending == 0 })
	st := q.Stats()
	if st.Queued != 5 || st.Sent+st.Dropped != 5 || st.Sent > 1 {
		t.Errorf("Stats() = %+v, want at most the in-flight message sent and the rest dropped", st)
	}
}

func TestQueueCloseDeadlineCancelsRetries(t *testing.T) {
	f := &fakeSender{failures: 1000}
	logger, _ := testLogger()
	q := mailer.NewQueue(f, logger, mailer.WithRetryDelays(time.Hour))
	if err := q.Enqueue(secretMail); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { c, _ := f.counts(); return c == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := q.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	waitFor(t, func() bool { return q.Stats().Pending == 0 })
	if st := q.Stats(); st != (mailer.QueueStats{Queued: 1, Dropped: 1}) {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestQueueAttemptTimeout(t *testing.T) {
	f := &fakeSender{gate: make(chan struct{})} // never opened: every attempt times out
	logger, logs := testLogger()
	q := mailer.NewQueue(f, logger, mailer.WithAttemptTimeout(20*time.Millisecond), mailer.WithRetryDelays(time.Millisecond))
	if err := q.Enqueue(secretMail); err != nil {
		t.Fatal(err)
	}
	closeQueue(t, q)
	if st := q.Stats(); st != (mailer.QueueStats{Queued: 1, Failed: 1}) {
		t.Errorf("Stats() = %+v", st)
	}
	if !strings.Contains(logs.String(), "deadline exceeded") {
		t.Errorf("timeout not logged:\n%s", logs)
	}
}

func TestQueueRefusesInvalidMessages(t *testing.T) {
	f := &fakeSender{}
	logger, _ := testLogger()
	q := mailer.NewQueue(f, logger)
	for _, m := range []mailer.Message{
		{To: "a@b.c\r\nBcc: x@y.z", Subject: "s"},
		{To: "a@b.c, x@y.z", Subject: "s"},
		{To: "a@b.c", Subject: "s\r\nBcc: x@y.z"},
	} {
		if err := q.Enqueue(m); !errors.Is(err, mailer.ErrInvalidMessage) {
			t.Errorf("Enqueue(%q, %q) = %v, want ErrInvalidMessage", m.To, m.Subject, err)
		}
	}
	closeQueue(t, q)
	if calls, _ := f.counts(); calls != 0 {
		t.Errorf("sender called %d times", calls)
	}
	if st := q.Stats(); st != (mailer.QueueStats{}) {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestQueueSurvivesPanickingSender(t *testing.T) {
	logger, logs := testLogger()
	q := mailer.NewQueue(senderFunc(func(context.Context, mailer.Message) error { panic("boom") }), logger, fastRetries)
	if err := q.Enqueue(secretMail); err != nil {
		t.Fatal(err)
	}
	closeQueue(t, q)
	if st := q.Stats(); st != (mailer.QueueStats{Queued: 1, Failed: 1}) {
		t.Errorf("Stats() = %+v", st)
	}
	if !strings.Contains(logs.String(), "panicked") {
		t.Errorf("panic not logged:\n%s", logs)
	}
}

// End to end: the SMTP sender against a server that answers 451 to the
// first two deliveries; the queue retries and the mail arrives.
func TestQueueSMTPRetriesTemporaryFailures(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithFailFirst(2))
	logger, logs := testLogger()
	q := mailer.NewQueue(newSMTP(t, srv.URL()), logger, fastRetries)
	if err := q.Enqueue(secretMail); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)
	closeQueue(t, q)
	if got[0].Text != secretMail.Text+"\n" { // SMTP transmits whole lines
		t.Errorf("Text = %q", got[0].Text)
	}
	if st := q.Stats(); st != (mailer.QueueStats{Queued: 1, Sent: 1}) {
		t.Errorf("Stats() = %+v", st)
	}
	out := logs.String()
	if strings.Count(out, "will retry") != 2 || !strings.Contains(out, "451") {
		t.Errorf("want two logged 451 retries:\n%s", out)
	}
	checkLogPrivacy(t, out)
}

// End to end: a permanent SMTP rejection is not retried, and the log does
// not contain the address the server echoes back.
func TestQueueSMTPPermanentRejection(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithRejectRecipient(secretMail.To))
	logger, logs := testLogger()
	q := mailer.NewQueue(newSMTP(t, srv.URL()), logger, fastRetries)
	if err := q.Enqueue(secretMail); err != nil {
		t.Fatal(err)
	}
	closeQueue(t, q)
	if st := q.Stats(); st != (mailer.QueueStats{Queued: 1, Failed: 1}) {
		t.Errorf("Stats() = %+v", st)
	}
	out := logs.String()
	if strings.Contains(out, "will retry") || !strings.Contains(out, "550") {
		t.Errorf("want one logged 550 failure without retries:\n%s", out)
	}
	checkLogPrivacy(t, out)
}

func TestQueueIsASender(t *testing.T) {
	f := &fakeSender{}
	logger, _ := testLogger()
	var s mailer.Sender = mailer.NewQueue(f, logger)
	if err := s.Send(context.Background(), resetMail); err != nil {
		t.Fatal(err)
	}
	closeQueue(t, s.(*mailer.Queue))
	if _, sent := f.counts(); sent != 1 {
		t.Errorf("sent = %d", sent)
	}
}

type senderFunc func(context.Context, mailer.Message) error

func (f senderFunc) Send(ctx context.Context, m mailer.Message) error { return f(ctx, m) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
