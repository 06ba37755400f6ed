package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/latchgo/latch/account"
)

// AddAuditEvent implements [account.AuditStore]. An event with UserID ""
// belongs to no account (user_id NULL); one naming a user that does not
// exist is refused with account.ErrNotFound. IP, UserAgent and Detail
// may quote request headers, and are stored as clientText.
func (s *AccountStore) AddAuditEvent(ctx context.Context, e *account.AuditEvent) error {
	var user *int64
	if e.UserID != "" {
		n, ok := parseID(e.UserID)
		if !ok {
			return fmt.Errorf("postgres: add audit event: %w", account.ErrNotFound)
		}
		user = &n
	}
	var id int64
	err := s.pool.QueryRow(ctx, `
		INSERT INTO latch_audit_events (user_id, kind, at, ip, user_agent, detail)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		user, e.Kind, e.At, clientText(e.IP), clientText(e.UserAgent), clientText(e.Detail)).Scan(&id)
	if _, missing := isViolation(err, foreignKeyViolation); missing {
		return fmt.Errorf("postgres: add audit event: %w", account.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: add audit event: %w", err)
	}
	e.ID = formatID(id)
	return nil
}

// UserAuditEvents implements [account.AuditStore]. Events of the same
// instant come newest (highest id) first.
func (s *AccountStore) UserAuditEvents(ctx context.Context, userID string, limit int) ([]account.AuditEvent, error) {
	user, ok := parseID(userID)
	if !ok || limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, user_id, kind, at, ip, user_agent, detail FROM latch_audit_events
		WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, user, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: user audit events: %w", err)
	}
	list, err := collect(rows, func(row scanner) (account.AuditEvent, error) {
		var (
			e        account.AuditEvent
			id, user int64
		)
		err := row.Scan(&id, &user, &e.Kind, &e.At, &e.IP, &e.UserAgent, &e.Detail)
		e.ID, e.UserID, e.At = formatID(id), formatID(user), e.At.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: user audit events: %w", err)
	}
	return list, nil
}

// DeleteAuditEventsBefore implements [account.AuditStore].
func (s *AccountStore) DeleteAuditEventsBefore(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM latch_audit_events WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete audit events: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
