package importer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchgo/latch/account"
)

// Store is what Create needs; account.Store has it.
type Store interface {
	CreateUser(ctx context.Context, u *account.User) error
	DeleteUser(ctx context.Context, id string) error
}

// CreateOptions adjust Create.
type CreateOptions struct {
	// Confirmed marks every imported email address as confirmed at Now
	// (User.EmailConfirmedAt, which CreateUser stores), for applications
	// whose users proved their address already. By default imported
	// addresses are unconfirmed.
	Confirmed bool
	// AllOrNothing: when one account cannot be created, the accounts this
	// call created are deleted again and nothing is imported.
	AllOrNothing bool
	// Now is when emails are confirmed. Default time.Now().
	Now time.Time
}

// Result is what Create did.
type Result struct {
	// Created are the accounts created, with User.ID set.
	Created []Candidate
	// Refused are candidates the database refused because their username
	// or email was taken after Check looked.
	Refused []Refusal
}

// Create creates the plan's accepted accounts, in order, keeping each
// legacy password hash as it is: latch verifies it at the user's next
// login and replaces it with an argon2id hash then.
//
// A username or email taken since Check ran refuses that candidate (with
// AllOrNothing: rolls back and refuses it, and the Result lists nothing
// created). Any other failure stops the import and is returned with the
// Result so far; with AllOrNothing the accounts created are deleted first.
func Create(ctx context.Context, st Store, plan *Plan, opt CreateOptions) (*Result, error) {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	res := &Result{}
	rollback := func(cause error) error {
		// Undo even when ctx was cancelled: that is what asked to stop.
		bg := context.WithoutCancel(ctx)
		var errs []error
		for i := len(res.Created) - 1; i >= 0; i-- {
			if err := st.DeleteUser(bg, res.Created[i].User.ID); err != nil {
				errs = append(errs, fmt.Errorf("roll back %s: %w", res.Created[i].Pos, err))
			}
		}
		res.Created = nil
		if len(errs) > 0 {
			return errors.Join(append([]error{cause}, errs...)...)
		}
		return cause
	}
	for _, c := range plan.Accept {
		u := c.User
		u.ID = ""
		if opt.Confirmed {
			u.EmailConfirmedAt = now
		}
		err := st.CreateUser(ctx, &u)
		var reason string
		switch {
		case errors.Is(err, account.ErrUsernameTaken):
			reason = fmt.Sprintf("username %s was taken while importing", show(u.Username))
		case errors.Is(err, account.ErrEmailTaken):
			reason = fmt.Sprintf("email %s was taken while importing", show(u.Email))
		case err != nil:
			err = fmt.Errorf("%s: create user: %w", c.Pos, err)
			if opt.AllOrNothing {
				return res, rollback(err)
			}
			return res, err
		}
		if reason != "" {
			res.Refused = append(res.Refused, Refusal{Pos: c.Pos, Reason: reason})
			if opt.AllOrNothing {
				return res, rollback(nil)
			}
			continue
		}
		c.User = u
		res.Created = append(res.Created, c)
	}
	return res, nil
}
