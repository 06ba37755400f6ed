package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchgo/latch/account"
)

// AddAuditEvent implements [account.AuditStore]. An event with UserID ""
// belongs to no account (user_id NULL); one naming a user that does not
// exist is refused with account.ErrNotFound.
func (s *AccountStore) AddAuditEvent(ctx context.Context, e *account.AuditEvent) error {
	var user sql.NullInt64
	if e.UserID != "" {
		n, ok := parseID(e.UserID)
		if !ok {
			return fmt.Errorf("sqlite: add audit event: %w", account.ErrNotFound)
		}
		user = sql.NullInt64{Int64: n, Valid: true}
	}
	var id int64
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO latch_audit_events (user_id, kind, at, ip, user_agent, detail)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		user, e.Kind, millis(e.At), e.IP, e.UserAgent, e.Detail).Scan(&id)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("sqlite: add audit event: %w", account.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: add audit event: %w", err)
	}
	e.ID = formatID(id)
	return nil
}

// UserAuditEvents implements [account.AuditStore]. Events of the same
// millisecond come newest (highest id) first.
func (s *AccountStore) UserAuditEvents(ctx context.Context, userID string, limit int) ([]account.AuditEvent, error) {
	user, ok := parseID(userID)
	if !ok || limit <= 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `
		SELECT id, user_id, kind, at, ip, user_agent, detail FROM latch_audit_events
		WHERE user_id = ? ORDER BY at DESC, id DESC LIMIT ?`, user, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user audit events: %w", err)
	}
	list, err := collect(rows, func(row interface{ Scan(...any) error }) (account.AuditEvent, error) {
		var (
			e        account.AuditEvent
			id, user int64
			at       int64
		)
		err := row.Scan(&id, &user, &e.Kind, &at, &e.IP, &e.UserAgent, &e.Detail)
		e.ID, e.UserID, e.At = formatID(id), formatID(user), fromMillis(at)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: user audit events: %w", err)
	}
	return list, nil
}

// DeleteAuditEventsBefore implements [account.AuditStore].
func (s *AccountStore) DeleteAuditEventsBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM latch_audit_events WHERE at < ?`, millis(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete audit events: %w", err)
	}
	return rowsAffected(res, "delete audit events")
}
