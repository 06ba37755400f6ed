package site

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// floodAudit decides which refused logins reach the audit log. Every
// refusal is logged, but a row each would let an attacker's thousand
// attempts a second become a thousand rows (and fsyncs) a second through
// the database's one writer, queueing every other write behind them and
// filling the disk. So each client's refusals are recorded once per
// floodAuditEvery, and all clients' together at most once a second (with
// bursts of floodAuditBurst): an operator reading the audit log still sees
// who was refused, and when.
type floodAudit struct {
	mu    sync.Mutex
	last  map[string]time.Time // client → when a refusal of it was last recorded
	total *rate.Limiter
}

const (
	floodAuditEvery = time.Minute
	floodAuditBurst = 20
	// floodAuditClients bounds the memory of last: with the total rate
	// it holds about a minute of clients and is pruned past this size.
	floodAuditClients = 1024
)

func newFloodAudit() *floodAudit {
	return &floodAudit{last: map[string]time.Time{}, total: rate.NewLimiter(rate.Every(time.Second), floodAuditBurst)}
}

// record reports whether a refusal of client at now goes into the audit
// log.
func (f *floodAudit) record(client string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.last[client]; ok && now.Sub(t) < floodAuditEvery && !now.Before(t) {
		return false
	}
	if !f.total.AllowN(now, 1) {
		return false
	}
	if len(f.last) >= floodAuditClients {
		for c, t := range f.last {
			if now.Sub(t) >= floodAuditEvery {
				delete(f.last, c)
			}
		}
		if len(f.last) >= floodAuditClients {
			clear(f.last)
		}
	}
	f.last[client] = now
	return true
}
