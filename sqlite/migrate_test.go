package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
)

// TestOnceStoreRefusesSecondRecord checks the guard that makes a process
// which lost the race to apply a migration roll its transaction back, even
// when the migration's statements happened to succeed a second time.
func TestOnceStoreRefusesSecondRecord(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "goose.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	std, err := database.NewStore(database.DialectSQLite3, goose.DefaultTablename)
	if err != nil {
		t.Fatal(err)
	}
	s := onceStore{std.(database.StoreExtender)}
	if err := s.CreateVersionTable(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, v := range []int64{0, 1} {
		if err := s.Insert(ctx, db, database.InsertRequest{Version: v}); err != nil {
			t.Fatalf("Insert(%d): %v", v, err)
		}
	}
	if err := s.Insert(ctx, db, database.InsertRequest{Version: 1}); !errors.Is(err, errAppliedMeanwhile) {
		t.Errorf("second Insert(1) = %v, want errAppliedMeanwhile", err)
	}
}
