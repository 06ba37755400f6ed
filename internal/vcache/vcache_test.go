package vcache

import (
	"fmt"
	"sync"
	"testing"
)

func TestVersionDecides(t *testing.T) {
	c := New[string](100, 1<<20)
	c.Put("k", 1, "one", 3)
	if v, ok := c.Get("k", 1); !ok || v != "one" {
		t.Fatalf("Get at the same version = %q, %v", v, ok)
	}
	if _, ok := c.Get("k", 2); ok {
		t.Fatal("an entry of an earlier version was returned")
	}
	// The stale entry is gone, even for its own version.
	if _, ok := c.Get("k", 1); ok {
		t.Fatal("a stale entry survived a Get at a newer version")
	}
	if n, b := c.Len(); n != 0 || b != 0 {
		t.Fatalf("Len = %d, %d after the stale entry was dropped", n, b)
	}
}

func TestBounds(t *testing.T) {
	tests := []struct {
		name                string
		maxEntries          int
		maxBytes, entrySize int64
		puts                int
		wantAtMost          int
	}{
		{"entries", 16 * 4, 1 << 30, 1, 1000, 16 * 4},
		{"bytes", 1 << 20, 16 * 100, 10, 1000, 16 * 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New[int](tt.maxEntries, tt.maxBytes)
			for i := range tt.puts {
				c.Put(fmt.Sprint(i), 1, i, tt.entrySize)
			}
			n, b := c.Len()
			if n > tt.wantAtMost || b > tt.maxBytes {
				t.Fatalf("Len = %d entries, %d bytes; bounds %d, %d", n, b, tt.wantAtMost, tt.maxBytes)
			}
			// The newest entries are the ones kept.
			if _, ok := c.Get(fmt.Sprint(tt.puts-1), 1); !ok {
				t.Error("the newest entry was evicted")
			}
			if _, ok := c.Get("0", 1); ok {
				t.Error("the oldest entry survived")
			}
		})
	}
}

func TestOversizedNotKept(t *testing.T) {
	c := New[string](100, 16*10)
	c.Put("k", 1, "small", 5)
	c.Put("k", 1, "huge", 11)
	if _, ok := c.Get("k", 1); ok {
		t.Fatal("a value larger than a shard's byte share was kept (or the old one survived)")
	}
}

func TestDelete(t *testing.T) {
	c := New[int](100, 1<<20)
	for i := range 10 {
		c.Put(fmt.Sprint(i), 1, i, 1)
	}
	c.Delete("3")
	c.DeleteFunc(func(v int) bool { return v%2 == 0 })
	for i := range 10 {
		_, ok := c.Get(fmt.Sprint(i), 1)
		if want := i%2 == 1 && i != 3; ok != want {
			t.Errorf("entry %d present = %v, want %v", i, ok, want)
		}
	}
}

// TestOrderStaysBounded: puts and deletes of ever new keys do not grow the
// insertion order without bound.
func TestOrderStaysBounded(t *testing.T) {
	c := New[int](16*8, 1<<20)
	for i := range 10000 {
		k := fmt.Sprint(i)
		c.Put(k, 1, i, 1)
		c.Delete(k)
	}
	for i := range c.shards {
		if n := len(c.shards[i].order); n > 128 {
			t.Fatalf("shard %d keeps %d keys in its order for %d entries", i, n, len(c.shards[i].m))
		}
	}
}

func TestConcurrent(t *testing.T) {
	c := New[int](1000, 1<<20)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := fmt.Sprint(i % 300)
				v := uint64(i % 3)
				if got, ok := c.Get(k, v); ok && got%300 != i%300 {
					t.Errorf("Get(%s) = %d", k, got)
				}
				c.Put(k, v, i, 8)
			}
		})
	}
	wg.Wait()
}
