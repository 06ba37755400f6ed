// Package logbuf batches log output: a busy site writes one log line per
// request, and a write(2) per line costs more CPU than the line is worth.
// Lines are kept in memory and written out together every interval, as
// soon as a batch reaches its size, and at Close. A crash loses at most
// the last interval's lines; a clean shutdown loses none.
package logbuf

import (
	"io"
	"sync"
	"time"
)

// Writer is an io.Writer that batches writes to another. Each Write is
// kept whole, so lines written by one Write (as log/slog's handlers do)
// never interleave.
type Writer struct {
	mu     sync.Mutex
	out    io.Writer
	buf    []byte
	size   int
	err    error
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// New returns a Writer that writes to out every interval, and whenever
// size bytes are waiting. Close it to write the rest.
func New(out io.Writer, interval time.Duration, size int) *Writer {
	w := &Writer{out: out, size: size, buf: make([]byte, 0, size), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop(interval)
	return w
}

func (w *Writer) loop(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.mu.Lock()
			w.flush()
			w.mu.Unlock()
		}
	}
}

// Write keeps p for the next batch, writing the batch first if p would
// overflow it. After Close it writes through.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.out.Write(p)
	}
	if len(w.buf)+len(p) > w.size {
		w.flush()
	}
	if len(p) >= w.size {
		if _, err := w.out.Write(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// flush writes the batch; the caller holds mu. A failed write drops the
// batch (logging must not block the site) and is reported by Close.
func (w *Writer) flush() {
	if len(w.buf) == 0 {
		return
	}
	if _, err := w.out.Write(w.buf); err != nil && w.err == nil {
		w.err = err
	}
	w.buf = w.buf[:0]
}

// Close writes what is waiting and stops batching; later writes go
// straight through. It returns the first write error, if any.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return w.err
	}
	w.closed = true
	w.flush()
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	return w.err
}
