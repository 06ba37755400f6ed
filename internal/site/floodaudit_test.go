package site

import (
	"fmt"
	"testing"
	"time"
)

func TestFloodAudit(t *testing.T) {
	f := newFloodAudit()
	t0 := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	// One client: one row a minute, however many refusals.
	rows := 0
	for i := range 1000 {
		if f.record("203.0.113.1", t0.Add(time.Duration(i)*time.Millisecond)) {
			rows++
		}
	}
	if rows != 1 {
		t.Fatalf("1,000 refusals of one client in a second: %d rows, want 1", rows)
	}
	if f.record("203.0.113.1", t0.Add(59*time.Second)) {
		t.Fatal("a second row within the minute")
	}
	if !f.record("203.0.113.1", t0.Add(61*time.Second)) {
		t.Fatal("no row a minute later")
	}
	// Many clients at once: the burst, then one a second.
	f = newFloodAudit()
	rows = 0
	for i := range 5000 {
		if f.record(fmt.Sprintf("client %d", i), t0.Add(time.Duration(i)*time.Millisecond)) {
			rows++
		}
	}
	if want := floodAuditBurst + 5; rows < want-1 || rows > want+1 {
		t.Fatalf("5,000 clients refused over 5 s: %d rows, want about %d", rows, want)
	}
	if len(f.last) > floodAuditClients {
		t.Fatalf("%d clients remembered, bound %d", len(f.last), floodAuditClients)
	}
	// A clock that steps back does not silence a client for good.
	f = newFloodAudit()
	f.record("c", t0)
	if !f.record("c", t0.Add(-time.Hour)) {
		t.Fatal("a refusal before the last recorded one was dropped")
	}
}
