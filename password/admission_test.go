package password_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchgo/latch/password"
)

// slotProbe is a compute hook that records how many computations run at
// once and can hold every admitted caller inside its slot until released.
type slotProbe struct {
	running, maxRunning atomic.Int64
	entered             chan struct{}
	gate                chan struct{}
	releaseOnce         sync.Once
}

func newSlotProbe() *slotProbe {
	return &slotProbe{entered: make(chan struct{}, 1000), gate: make(chan struct{})}
}

func (p *slotProbe) hook(h *password.Hasher) func() {
	return func() {
		n := p.running.Add(1)
		for {
			m := p.maxRunning.Load()
			if n <= m || p.maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		if got := h.InFlight(); got < 1 || int64(got) > n {
			panic("InFlight() disagrees with the computations running")
		}
		p.entered <- struct{}{}
		<-p.gate
		p.running.Add(-1)
	}
}

func (p *slotProbe) release() { p.releaseOnce.Do(func() { close(p.gate) }) }

// waitFor polls cond (test-side only) until it holds or a generous
// deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func wantBusy(t *testing.T, err error) *password.BusyError {
	t.Helper()
	if !errors.Is(err, password.ErrBusy) {
		t.Fatalf("error = %v, want ErrBusy", err)
	}
	var be *password.BusyError
	if !errors.As(err, &be) {
		t.Fatalf("error %v is not a *BusyError", err)
	}
	if be.RetryAfter < time.Second || be.RetryAfter%time.Second != 0 {
		t.Errorf("RetryAfter = %v, want whole seconds, at least 1s", be.RetryAfter)
	}
	return be
}

// With MaxConcurrent=1 and MaxQueue=2: one runs, two wait, every other
// caller is turned away at once with ErrBusy; when the slot frees, the
// waiting ones run, one at a time.
func TestAdmissionBoundsConcurrencyAndQueue(t *testing.T) {
	t.Parallel()
	h := password.NewHasher(testParams)
	h.MaxConcurrent = 1
	h.MaxQueue = 2
	h.MaxWait = time.Minute // only the gate decides here, never the clock
	probe := newSlotProbe()
	password.SetComputeHook(h, probe.hook(h))
	defer probe.release()
	ctx := context.Background()

	var wg sync.WaitGroup
	results := make(chan error, 3)
	hash := func() {
		defer wg.Done()
		_, err := h.Hash(ctx, "correct horse battery staple")
		results <- err
	}
	wg.Add(1)
	go hash()
	<-probe.entered // the first caller holds the only slot
	if h.InFlight() != 1 || h.Queued() != 0 {
		t.Fatalf("InFlight, Queued = %d, %d; want 1, 0", h.InFlight(), h.Queued())
	}
	wg.Add(2)
	go hash()
	go hash()
	waitFor(t, "two queued callers", func() bool { return h.Queued() == 2 })

	// The queue is full: everyone else is refused without waiting.
	for i := range 20 {
		start := time.Now()
		var err error
		switch i % 3 {
		case 0:
			_, err = h.Hash(ctx, "correct horse battery staple")
		case 1:
			_, _, err = h.Verify(ctx, "pw", "$2b$04$abcdefghijklmnopqrstuu"+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		case 2:
			err = h.DummyVerify(ctx, "pw")
		}
		wantBusy(t, err)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("refusal took %v, want immediate", d)
		}
	}
	if h.InFlight() != 1 || h.Queued() != 2 {
		t.Errorf("after refusals InFlight, Queued = %d, %d; want 1, 2", h.InFlight(), h.Queued())
	}

	probe.release()
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Errorf("admitted caller failed: %v", err)
		}
	}
	if m := probe.maxRunning.Load(); m != 1 {
		t.Errorf("at most %d computations ran at once, want 1", m)
	}
	if h.InFlight() != 0 || h.Queued() != 0 {
		t.Errorf("at rest InFlight, Queued = %d, %d; want 0, 0", h.InFlight(), h.Queued())
	}
}

// Many callers, a big queue: everyone gets through, never more than
// MaxConcurrent at once.
func TestAdmissionManyCallers(t *testing.T) {
	t.Parallel()
	h := password.NewHasher(testParams)
	h.MaxConcurrent = 2
	h.MaxQueue = 1000
	h.MaxWait = time.Minute
	var running, maxRunning atomic.Int64
	password.SetComputeHook(h, func() {
		n := running.Add(1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond) // let callers pile up
		running.Add(-1)
	})
	var waits atomic.Int64
	h.OnWait = func(time.Duration) { waits.Add(1) }
	ctx := context.Background()
	const callers = 64
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, err := h.Hash(ctx, "correct horse battery staple")
				errs <- err
			} else {
				errs <- h.DummyVerify(ctx, "correct horse battery staple")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("caller failed: %v", err)
		}
	}
	if m := maxRunning.Load(); m > 2 {
		t.Errorf("%d computations ran at once, want at most MaxConcurrent=2", m)
	}
	if n := waits.Load(); n != callers {
		t.Errorf("OnWait called %d times, want once per admitted caller (%d)", n, callers)
	}
}

// A queued caller whose context is cancelled leaves the queue promptly
// with an error matching both ErrBusy and context.Canceled.
func TestAdmissionContextCancelWhileQueued(t *testing.T) {
	t.Parallel()
	h := password.NewHasher(testParams)
	h.MaxConcurrent = 1
	h.MaxWait = time.Minute
	probe := newSlotProbe()
	password.SetComputeHook(h, probe.hook(h))
	defer probe.release()

	go func() { _, _ = h.Hash(context.Background(), "holder") }()
	<-probe.entered

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := h.Verify(ctx, "pw", "pbkdf2:sha256:1000$salt$"+"0000000000000000000000000000000000000000000000000000000000000000")
		done <- err
	}()
	waitFor(t, "the caller to queue", func() bool { return h.Queued() == 1 })
	cancel()
	select {
	case err := <-done:
		wantBusy(t, err)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want it to match context.Canceled too", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled caller still waiting after 10s")
	}
	waitFor(t, "the queue to empty", func() bool { return h.Queued() == 0 })
}

// A caller whose context has already ended is refused without queueing
// or computing.
func TestAdmissionContextAlreadyDone(t *testing.T) {
	t.Parallel()
	h, computed := countingHasher(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.Hash(ctx, "pw")
	wantBusy(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled too", err)
	}
	if n := computed.Load(); n != 0 {
		t.Errorf("%d hashes computed, want 0", n)
	}
}

// After MaxWait in the queue a caller gives up with ErrBusy.
func TestAdmissionMaxWait(t *testing.T) {
	t.Parallel()
	h := password.NewHasher(testParams)
	h.MaxConcurrent = 1
	h.MaxWait = 20 * time.Millisecond
	probe := newSlotProbe()
	password.SetComputeHook(h, probe.hook(h))
	defer probe.release()
	go func() { _, _ = h.Hash(context.Background(), "holder") }()
	<-probe.entered

	start := time.Now()
	err := h.DummyVerify(context.Background(), "pw")
	wantBusy(t, err)
	if d := time.Since(start); d < 20*time.Millisecond || d > 10*time.Second {
		t.Errorf("gave up after %v, want about MaxWait (20ms)", d)
	}
	if h.Queued() != 0 {
		t.Errorf("Queued = %d after timeout, want 0", h.Queued())
	}
}

// A negative MaxQueue disables waiting: busy unless a slot is free.
func TestAdmissionNoQueue(t *testing.T) {
	t.Parallel()
	h, probe, _ := heldWithoutQueue()
	defer probe.release()
	_, err := h.Hash(context.Background(), "pw")
	wantBusy(t, err)
}

// heldWithoutQueue returns a hasher of one slot and no queue whose slot
// a hash holds until probe is released; done closes when that hash has
// returned.
func heldWithoutQueue() (h *password.Hasher, probe *slotProbe, done chan struct{}) {
	h = password.NewHasher(testParams)
	h.MaxConcurrent = 1
	h.MaxQueue = -1
	probe = newSlotProbe()
	password.SetComputeHook(h, probe.hook(h))
	done = make(chan struct{})
	go func() { _, _ = h.Hash(context.Background(), "holder"); close(done) }()
	<-probe.entered
	return h, probe, done
}

// OnWait reports zero for a caller that found a free slot and the real
// wait for one that queued.
func TestOnWait(t *testing.T) {
	t.Parallel()
	h := password.NewHasher(testParams)
	h.MaxConcurrent = 1
	h.MaxWait = time.Minute
	waits := make(chan time.Duration, 2)
	h.OnWait = func(d time.Duration) { waits <- d }
	probe := newSlotProbe()
	password.SetComputeHook(h, probe.hook(h))

	go func() { _, _ = h.Hash(context.Background(), "first") }()
	<-probe.entered
	if d := <-waits; d != 0 {
		t.Errorf("first caller waited %v, want 0", d)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = h.Hash(context.Background(), "second")
	}()
	waitFor(t, "the second caller to queue", func() bool { return h.Queued() == 1 })
	time.Sleep(5 * time.Millisecond)
	probe.release()
	<-done
	if d := <-waits; d <= 0 {
		t.Errorf("queued caller's wait = %v, want > 0", d)
	}
}

// Do shares the slots of Hash and Verify: while a hash holds the only
// slot and nothing may queue, Do is turned away without running its
// function; once the slot is free it runs it.
func TestDoSharesTheSlots(t *testing.T) {
	t.Parallel()
	h, probe, done := heldWithoutQueue()
	ran := false
	wantBusy(t, h.Do(context.Background(), func() { ran = true }))
	if ran {
		t.Fatal("Do ran its function while turned away")
	}
	probe.release()
	<-done
	if err := h.Do(context.Background(), func() { ran = true }); err != nil || !ran {
		t.Fatalf("Do on a free hasher: ran=%v err=%v", ran, err)
	}
	if h.InFlight() != 0 {
		t.Fatalf("InFlight %d after Do returned", h.InFlight())
	}
}
