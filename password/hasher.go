package password

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Defaults for the Hasher's admission control.
const (
	// DefaultQueuePerSlot is how many callers may wait per concurrent
	// slot: MaxQueue defaults to DefaultQueuePerSlot × MaxConcurrent.
	DefaultQueuePerSlot = 32
	// DefaultMaxWait is MaxWait's default.
	DefaultMaxWait = 3 * time.Second
)

// Hasher hashes and verifies passwords with bounded concurrency. Create
// one with NewHasher, set its exported fields if the defaults do not fit,
// and share it: it is safe for concurrent use.
//
// Every hash and verification, in every format, takes one of
// MaxConcurrent slots for its duration. A caller that finds no free slot
// waits in a queue of at most MaxQueue callers for at most MaxWait; when
// the queue is full, the wait is over or its context ends, it gets an
// error matching ErrBusy instead. So a login flood costs at most
// MaxConcurrent × (one hash's memory) and a bounded number of parked
// goroutines, and callers past the bound are told quickly to come back
// (HTTP 503 or 429 with Retry-After) instead of piling up.
//
// The fields are read once, at the first Hash, Verify or DummyVerify;
// later changes have no effect.
type Hasher struct {
	// MaxConcurrent is the number of hashes computed at once. Default
	// runtime.GOMAXPROCS(0)-1, at least 1 (see DefaultConcurrency):
	// argon2id with p=1 keeps one core busy, so more would only
	// interleave them, each one holds Params.Memory KiB (19 MiB by
	// default) until it ends, and one P is left for requests that need
	// no hash, so that a login flood does not delay them. Zero or
	// negative means the default.
	MaxConcurrent int

	// MaxQueue is how many callers may wait for a slot beyond the
	// running ones. Default DefaultQueuePerSlot × MaxConcurrent: about as
	// many hashes as can be done within MaxWait on a typical machine, so
	// that a queued caller usually gets through, while a flood is turned
	// away after a few bytes of goroutine state each. Zero means the
	// default; negative means no queue (busy unless a slot is free).
	MaxQueue int

	// MaxWait is the longest a caller waits in the queue. Default
	// DefaultMaxWait (3s): beyond that a person at a login form is better
	// served by an answer than by a spinner. Zero means the default;
	// negative means no waiting, like a negative MaxQueue.
	MaxWait time.Duration

	// OnWait, if set, is called by each admitted caller with the time it
	// waited for its slot (zero when one was free): feed it to a
	// histogram to see when MaxConcurrent is too small. It must be fast
	// and safe for concurrent use.
	OnWait func(time.Duration)

	// WerkzeugIterations is the PBKDF2 iteration count assumed for
	// werkzeug hashes that omit it (see DefaultWerkzeugIterations, which
	// zero or negative means). Set it to the DEFAULT_PBKDF2_ITERATIONS of
	// the werkzeug that made them.
	WerkzeugIterations int

	params Params

	once        sync.Once
	sem         chan struct{}
	maxQueue    int64
	maxWait     time.Duration
	dec         decoder
	dummy       *argonHash
	inFlight    atomic.Int64
	queued      atomic.Int64
	onWait      func(time.Duration)
	avgCost     atomic.Int64 // moving average of one computation, ns
	testLimits  *limits      // set by tests only (export_test.go)
	computeHook func()       // set by tests only (export_test.go)
}

// DefaultConcurrency is MaxConcurrent's default: one hash per P
// (runtime.GOMAXPROCS) but one, and at least one. With every P busy in
// argon2id (tens of milliseconds each, in a loop the scheduler can only
// preempt every 10 ms), a page that needs no hash waits for a P, and a
// login flood that keeps the hasher saturated multiplies the latency of
// every other request; leaving one P free keeps it at that of an idle
// server.
func DefaultConcurrency() int {
	return max(1, runtime.GOMAXPROCS(0)-1)
}

// NewHasher returns a Hasher making argon2id hashes with p and the
// admission-control defaults filled in. It panics if p.Validate fails:
// parameters are a programming decision, so a mistake should stop the
// program at start-up rather than fail every login.
func NewHasher(p Params) *Hasher {
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("password.NewHasher: %v", err))
	}
	n := DefaultConcurrency()
	return &Hasher{
		params:             p,
		MaxConcurrent:      n,
		MaxQueue:           DefaultQueuePerSlot * n,
		MaxWait:            DefaultMaxWait,
		WerkzeugIterations: DefaultWerkzeugIterations,
	}
}

// Params returns the parameters of new hashes. A zero Hasher (not made
// by NewHasher) uses DefaultParams.
func (h *Hasher) Params() Params {
	h.init()
	return h.params
}

func (h *Hasher) init() {
	h.once.Do(func() {
		if h.params == (Params{}) {
			h.params = DefaultParams
		}
		n := h.MaxConcurrent
		if n <= 0 {
			n = DefaultConcurrency()
		}
		h.sem = make(chan struct{}, n)
		switch {
		case h.MaxQueue < 0 || h.MaxWait < 0:
			h.maxQueue = 0
		case h.MaxQueue == 0:
			h.maxQueue = int64(DefaultQueuePerSlot * n)
		default:
			h.maxQueue = int64(h.MaxQueue)
		}
		h.maxWait = h.MaxWait
		h.onWait = h.OnWait
		if h.maxWait == 0 {
			h.maxWait = DefaultMaxWait
		}
		h.dec = defaultDecoder
		if h.testLimits != nil {
			h.dec.lim = *h.testLimits
		}
		if h.WerkzeugIterations > 0 {
			h.dec.werkzeugIter = h.WerkzeugIterations
		}
		// The dummy hash for DummyVerify: random salt and random "key"
		// with the current parameters. Verifying against it costs exactly
		// what verifying a real hash does, and it matches no password
		// (the chance is 2^-8·KeyLen), so no hash has to be computed
		// here.
		h.dummy = &argonHash{
			variant: "argon2id",
			memory:  h.params.Memory,
			time:    h.params.Time,
			threads: h.params.Threads,
			salt:    randomBytes(h.params.SaltLen),
			key:     randomBytes(h.params.KeyLen),
		}
	})
}

func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never fails (since Go 1.24 it crashes the program
	// rather than return predictable bytes).
	_, _ = rand.Read(b)
	return b
}

// Hash returns the argon2id PHC string of password (NFKC-normalised,
// otherwise exactly as given: never trimmed, truncated or case-folded)
// with a fresh random salt. Errors: ErrTooLong for passwords over
// MaxBytes, ErrBusy when admission control turns the call away.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	h.init()
	if len(password) > MaxBytes {
		return "", tooLong(len(password))
	}
	a := &argonHash{
		variant: "argon2id",
		memory:  h.params.Memory,
		time:    h.params.Time,
		threads: h.params.Threads,
		salt:    randomBytes(h.params.SaltLen),
	}
	pw := []byte(norm.NFKC.String(password))
	err := h.run(ctx, func() {
		a.key = argon2.IDKey(pw, a.salt, a.time, a.memory, a.threads, h.params.KeyLen)
	})
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return a.encode(), nil
}

// Verify reports whether password matches the stored hash encoded, in
// constant time with respect to the hash's content.
//
// encoded may be latch's argon2id or any format listed at Format. When
// ok, needsRehash says the hash is not argon2id with h's Params: the
// caller should then Hash the password and store the new hash (see the
// package example). A wrong password is ok=false with a nil error.
//
// Errors (always with ok=false): ErrTooLong; ErrMalformedHash for a broken
// hash or one whose cost parameters are beyond what this package will
// compute (argon2: m > 1 GiB, t or p > 64, salt outside 8-128 or hash
// outside 16-128 bytes; PBKDF2: iterations outside 1-10,000,000; scrypt:
// N not a power of two or > 2^20, r > 32, p > 16, 128·N·r·p > 1 GiB;
// bcrypt: cost outside 4-18); ErrUnknownFormat; ErrBusy.
//
// latch's own argon2id hashes are checked against the NFKC form of
// password, as Hash made them. The imported formats are checked against
// password exactly as received, because the systems that made them did
// not normalise. bcrypt formats only ever covered the first 72 bytes of a
// password (see "Importing users from other systems" in the package
// documentation).
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	h.init()
	if len(password) > MaxBytes {
		return false, false, tooLong(len(password))
	}
	s, _, err := h.dec.decode(encoded)
	if err != nil {
		return false, false, err
	}
	var match bool
	var checkErr error
	if err := h.run(ctx, func() { match, checkErr = s.check(password) }); err != nil {
		return false, false, fmt.Errorf("verify %s hash: %w", s.format, err)
	}
	if checkErr != nil {
		return false, false, checkErr
	}
	if !match {
		return false, false, nil
	}
	return true, !h.current(s), nil
}

// current reports whether s is an argon2id hash with exactly h's Params.
func (h *Hasher) current(s *stored) bool {
	a := s.argon
	return s.format == FormatArgon2id && a != nil &&
		a.memory == h.params.Memory && a.time == h.params.Time && a.threads == h.params.Threads &&
		uint32(len(a.salt)) == h.params.SaltLen && uint32(len(a.key)) == h.params.KeyLen
}

// DummyVerify does the work of verifying password against an argon2id
// hash with h's Params and throws the result away. Call it when a login
// names an unknown account, so that the response takes as long as for a
// known one and does not reveal which accounts exist. It goes through
// admission control like Verify and returns only ErrTooLong or ErrBusy
// errors.
func (h *Hasher) DummyVerify(ctx context.Context, password string) error {
	h.init()
	if len(password) > MaxBytes {
		return tooLong(len(password))
	}
	pw := []byte(norm.NFKC.String(password))
	if err := h.run(ctx, func() { _ = h.dummy.matches(pw) }); err != nil {
		return fmt.Errorf("dummy verify: %w", err)
	}
	return nil
}

// Saturated returns an error matching ErrBusy (a *BusyError) when a
// hash asked for now would be turned away because every slot is taken and
// the queue is full, and nil otherwise. A caller that has database work
// to do before it hashes (a login looks the user up and checks its rate
// limits) asks first, so that under a flood the attempts that would end
// in 503 anyway cost no database work. nil is not a promise: the queue
// may fill before the caller gets to hash.
func (h *Hasher) Saturated() error {
	h.init()
	if len(h.sem) == cap(h.sem) && h.queued.Load() >= h.maxQueue {
		return h.busy("queue full", nil)
	}
	return nil
}

// InFlight returns the number of hash computations running now (at most
// MaxConcurrent).
func (h *Hasher) InFlight() int { return int(h.inFlight.Load()) }

// Queued returns the number of callers waiting for a slot now (at most
// MaxQueue).
func (h *Hasher) Queued() int { return int(h.queued.Load()) }

func tooLong(n int) error {
	return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLong, n, MaxBytes)
}

// Do runs fn in one of h's slots, under the admission control of Hash
// and Verify (the same MaxConcurrent, MaxQueue and MaxWait): for other
// costly key derivations of a login, such as the argon2id of a recovery
// code, that must not escape the bound on CPU the hasher keeps. It
// returns an error matching ErrBusy, without calling fn, when the call is
// turned away.
func (h *Hasher) Do(ctx context.Context, fn func()) error {
	h.init()
	return h.run(ctx, fn)
}

// run executes fn in a slot, waiting for one if needed.
func (h *Hasher) run(ctx context.Context, fn func()) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	if h.computeHook != nil {
		h.computeHook()
	}
	start := time.Now()
	fn()
	h.observe(time.Since(start))
	return nil
}

// acquire takes a slot of the semaphore. The slot count is the channel's
// capacity; waiting callers block in the channel send, so waiting costs no
// CPU, and the atomic queue counter bounds how many may do so.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return h.busy("context ended before admission", err)
	}
	select {
	case h.sem <- struct{}{}:
		h.admitted(0)
		return nil
	default:
	}
	if h.queued.Add(1) > h.maxQueue {
		h.queued.Add(-1)
		return h.busy("queue full", nil)
	}
	start := time.Now()
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.sem <- struct{}{}:
		h.queued.Add(-1)
		h.admitted(time.Since(start))
		return nil
	case <-timer.C:
		h.queued.Add(-1)
		return h.busy("waited longer than MaxWait", nil)
	case <-ctx.Done():
		h.queued.Add(-1)
		return h.busy("context ended while queued", ctx.Err())
	}
}

func (h *Hasher) admitted(waited time.Duration) {
	h.inFlight.Add(1)
	if h.onWait != nil {
		h.onWait(waited)
	}
}

func (h *Hasher) release() {
	h.inFlight.Add(-1)
	<-h.sem
}

// observe folds one computation's duration into the moving average used
// for Retry-After estimates. Lost updates under contention only make the
// estimate a little staler, so a plain load and store will do.
func (h *Hasher) observe(d time.Duration) {
	old := h.avgCost.Load()
	if old == 0 {
		h.avgCost.Store(int64(d))
		return
	}
	h.avgCost.Store(old + (int64(d)-old)/8)
}

// busy builds the ErrBusy error with a Retry-After estimate: the time for
// the work already admitted or queued to drain through the slots, rounded
// up to whole seconds and kept within [1s, 60s].
func (h *Hasher) busy(reason string, cause error) error {
	avg := time.Duration(h.avgCost.Load())
	if avg <= 0 {
		avg = 100 * time.Millisecond
	}
	pending := h.queued.Load() + h.inFlight.Load() + 1
	est := avg * time.Duration(pending) / time.Duration(cap(h.sem))
	est = ((est + time.Second - 1) / time.Second) * time.Second
	est = min(max(est, time.Second), time.Minute)
	return &BusyError{RetryAfter: est, reason: reason, cause: cause}
}
