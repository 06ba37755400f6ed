package account

import (
	"context"
	"fmt"
	"time"

	"github.com/latchgo/latch/internal/clip"
)

// AuditRetention is how long audit events are kept by default: a year,
// enough to answer "was my account used while I was away?".
const AuditRetention = 365 * 24 * time.Hour

// Auditor records security events of accounts and lists them for their
// owners.
type Auditor struct {
	store AuditStore
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// NewAuditor returns an Auditor over store.
func NewAuditor(store AuditStore) *Auditor { return &Auditor{store: store, Now: time.Now} }

// Record stores one event. Detail must never hold a secret.
func (a *Auditor) Record(ctx context.Context, userID, kind, ip, userAgent, detail string) error {
	e := &AuditEvent{
		UserID: userID, Kind: kind, At: a.Now().UTC(),
		IP: clip.Text(ip, 64), UserAgent: clip.Text(userAgent, 256), Detail: clip.Text(detail, 512),
	}
	if err := a.store.AddAuditEvent(ctx, e); err != nil {
		return fmt.Errorf("record audit event %s: %w", kind, err)
	}
	return nil
}

// Recent returns a user's newest events, newest first.
func (a *Auditor) Recent(ctx context.Context, userID string, limit int) ([]AuditEvent, error) {
	return a.store.UserAuditEvents(ctx, userID, limit)
}

// Prune deletes events older than the retention period.
func (a *Auditor) Prune(ctx context.Context, retention time.Duration) (int, error) {
	return a.store.DeleteAuditEventsBefore(ctx, a.Now().Add(-retention))
}
