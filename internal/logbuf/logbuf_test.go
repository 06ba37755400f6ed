package logbuf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer that counts its writes.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

func TestBatchesAndKeepsEveryLine(t *testing.T) {
	out := &lockedBuffer{}
	w := New(out, time.Hour, 1<<20)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				fmt.Fprintf(w, "line %d %d\n", g, i)
			}
		})
	}
	wg.Wait()
	if s, _ := out.String(); s != "" {
		t.Fatalf("written before the interval or Close: %q", s[:min(40, len(s))])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, writes := out.String()
	if lines := strings.Count(s, "\n"); lines != 800 {
		t.Fatalf("%d lines out of 800", lines)
	}
	for l := range strings.SplitSeq(strings.TrimSuffix(s, "\n"), "\n") {
		var g, i int
		if n, err := fmt.Sscanf(l, "line %d %d", &g, &i); n != 2 || err != nil {
			t.Fatalf("a line was torn: %q", l)
		}
	}
	if writes != 1 {
		t.Errorf("%d writes for one batch", writes)
	}
	// After Close, writes go straight through.
	fmt.Fprintln(w, "late")
	if s, _ := out.String(); !strings.HasSuffix(s, "late\n") {
		t.Fatal("a write after Close was kept")
	}
}

func TestFlushesOnSizeAndInterval(t *testing.T) {
	out := &lockedBuffer{}
	w := New(out, 10*time.Millisecond, 64)
	defer w.Close()
	fmt.Fprint(w, strings.Repeat("x", 40)+"\n")
	fmt.Fprint(w, strings.Repeat("y", 40)+"\n") // overflows: the first goes out
	if s, _ := out.String(); !strings.HasPrefix(s, "xxxx") {
		t.Fatalf("a full batch was not written: %q", s)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		if s, _ := out.String(); strings.Contains(s, "yyyy") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the interval never wrote the batch")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
