package changefeed

import (
	"testing"
	"time"
)

func TestFeed(t *testing.T) {
	var f Feed
	if _, ok := f.Changes(); ok {
		t.Fatal("a new feed vouches for its version")
	}
	f.Confirm(time.Now())
	v, ok := f.Changes()
	if !ok {
		t.Fatal("a confirmed feed is unsure")
	}
	f.Changed()
	if w, _ := f.Changes(); w <= v {
		t.Fatalf("Changed did not move the version: %d → %d", v, w)
	}
	f.Unsure()
	if _, ok := f.Changes(); ok {
		t.Fatal("an interrupted feed vouches for its version")
	}
	f.Confirm(time.Now().Add(-MaxStaleness))
	if _, ok := f.Changes(); ok {
		t.Fatal("a confirmation older than MaxStaleness is trusted")
	}
}
