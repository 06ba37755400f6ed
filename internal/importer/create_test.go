package importer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/importer"
)

func plan(t *testing.T, db *memStore, rows ...string) *importer.Plan {
	t.Helper()
	p, err := importer.Check(context.Background(), db, csvRecs(t, rows...), importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Refuse) > 0 {
		t.Fatalf("refused: %v", p.Refuse)
	}
	return p
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	db := newMemStore()
	p := plan(t, db, "alice,a@example.com,"+werkzeugHash+",2020-01-01 00:00:00", "bob,b@example.com,"+bcryptHash+",")
	res, err := importer.Create(ctx, db, p, importer.CreateOptions{Confirmed: true, Now: now})
	if err != nil || len(res.Created) != 2 || len(res.Refused) != 0 {
		t.Fatalf("Create = %+v, %v", res, err)
	}
	u, err := db.UserByEmail(ctx, "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != res.Created[0].User.ID || u.PasswordHash != werkzeugHash || !u.EmailConfirmedAt.Equal(now) ||
		!u.CreatedAt.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("stored %+v", u)
	}
	// Unconfirmed by default.
	p = plan(t, db, "carol,c@example.com,"+bcryptHash+",")
	if _, err := importer.Create(ctx, db, p, importer.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.UserByEmail(ctx, "c@example.com"); u == nil || u.EmailConfirmed() {
		t.Errorf("carol: %+v", u)
	}
}

func TestCreateRace(t *testing.T) {
	// An account created by somebody else between Check and Create.
	ctx := context.Background()
	db := newMemStore()
	p := plan(t, db, "alice,a@example.com,"+bcryptHash+",", "bob,b@example.com,"+bcryptHash+",", "carol,c@example.com,"+bcryptHash+",")
	if err := db.CreateUser(ctx, &account.User{Username: "BOB", Email: "other@example.com"}); err != nil {
		t.Fatal(err)
	}
	res, err := importer.Create(ctx, db, p, importer.CreateOptions{})
	if err != nil || len(res.Created) != 2 || len(res.Refused) != 1 || !strings.Contains(res.Refused[0].String(), `line 3: username "bob" was taken`) {
		t.Fatalf("Create = %+v, %v", res, err)
	}

	// All or nothing: the accounts created are deleted again.
	db = newMemStore()
	p = plan(t, db, "alice,a@example.com,"+bcryptHash+",", "bob,b@example.com,"+bcryptHash+",", "carol,c@example.com,"+bcryptHash+",")
	if err := db.CreateUser(ctx, &account.User{Username: "other", Email: "C@example.com"}); err != nil {
		t.Fatal(err)
	}
	res, err = importer.Create(ctx, db, p, importer.CreateOptions{AllOrNothing: true})
	if err != nil || len(res.Created) != 0 || len(res.Refused) != 1 || !strings.Contains(res.Refused[0].Reason, "email") {
		t.Fatalf("Create = %+v, %v", res, err)
	}
	if db.count() != 1 || len(db.deleted) != 2 {
		t.Errorf("after rollback: %d users, deleted %v", db.count(), db.deleted)
	}
}

func TestCreateStoreFailure(t *testing.T) {
	ctx := context.Background()
	for _, allOrNothing := range []bool{false, true} {
		db := newMemStore()
		p := plan(t, db, "alice,a@example.com,"+bcryptHash+",", "bob,b@example.com,"+bcryptHash+",", "carol,c@example.com,"+bcryptHash+",")
		db.failCreate = func(u *account.User) error {
			if u.Username == "bob" {
				return errors.New("disk full")
			}
			return nil
		}
		res, err := importer.Create(ctx, db, p, importer.CreateOptions{AllOrNothing: allOrNothing})
		if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("all-or-nothing %v: err = %v", allOrNothing, err)
		}
		want := 1
		if allOrNothing {
			want = 0
		}
		if len(res.Created) != want || db.count() != want {
			t.Errorf("all-or-nothing %v: created %d, stored %d; want %d", allOrNothing, len(res.Created), db.count(), want)
		}
	}
}
