package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/latchgo/latch/internal/schemas"
)

// migrate converts a database of the legacy layout, then applies the
// migrations the session tables (and, with accounts, the account tables)
// lack.
func (s *Store) migrate(ctx context.Context, accounts bool) error {
	if err := s.convertLegacy(ctx); err != nil {
		return fmt.Errorf("convert the tables of an earlier latch: %w", err)
	}
	var err error
	if s.sessions, err = s.up(ctx, schemas.Sessions); err != nil {
		return err
	}
	if accounts {
		if s.accounts, err = s.up(ctx, schemas.Accounts); err != nil {
			return err
		}
	}
	return nil
}

// up applies the migrations of one schema that the database lacks.
//
// Two processes opening a new file at the same time may both see the same
// migration pending. Their transactions are serialised by the write lock
// (BEGIN IMMEDIATE); the second one then fails, either on the schema the
// first one created or in onceStore.Insert, and rolls back whole. up then
// sees the migration applied and carries on from there.
func (s *Store) up(ctx context.Context, sc schemas.Set) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, sc.Dir)
	if err != nil {
		return nil, err
	}
	store, err := versionStore(sc.Versions)
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectCustom, s.write, fsys,
		goose.WithStore(onceStore{store}), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, err
	}
	for {
		_, err := p.Up(ctx)
		if err == nil {
			return p, nil
		}
		var perr *goose.PartialError
		if !errors.As(err, &perr) || perr.Failed == nil || perr.Failed.Source == nil {
			return nil, err
		}
		v, verr := p.GetDBVersion(ctx)
		if verr != nil || v < perr.Failed.Source.Version {
			return nil, err // a real failure, not a lost race
		}
	}
}

func versionStore(table string) (database.StoreExtender, error) {
	std, err := database.NewStore(database.DialectSQLite3, table)
	if err != nil {
		return nil, err
	}
	ext, ok := std.(database.StoreExtender)
	if !ok {
		return nil, errors.New("goose's sqlite3 store lacks TableExists")
	}
	return ext, nil
}

// errAppliedMeanwhile aborts the transaction of a migration that another
// process applied while this one waited for the write lock.
var errAppliedMeanwhile = errors.New("migration applied by another process")

// onceStore is goose's own sqlite3 version store, except that recording a
// migration that is already recorded fails, which rolls back the
// migration's transaction instead of applying it twice.
type onceStore struct {
	database.StoreExtender
}

func (s onceStore) Insert(ctx context.Context, db database.DBTxConn, req database.InsertRequest) error {
	if req.Version > 0 { // 0 is goose's marker of a new version table, not a migration
		m, err := s.GetMigration(ctx, db, req.Version)
		switch {
		case err == nil && m.IsApplied:
			return errAppliedMeanwhile
		case err != nil && !errors.Is(err, database.ErrVersionNotFound):
			return err
		}
	}
	return s.StoreExtender.Insert(ctx, db, req)
}

// legacyTables are the tables an earlier latch created, without a prefix.
var legacyTables = []string{
	"sessions", "remember_tokens", "attempts",
	"users", "api_tokens", "one_time_tokens", "recovery_codes", "audit_events",
}

// convertLegacy brings a database of an earlier latch — unprefixed tables,
// goose's default version table — to today's layout, in one transaction:
// it finishes that layout's migrations, renames every table to latch_…
// (SQLite carries the foreign keys along), recreates the indexes under
// their new names, adds the usernames' skeletons, and records both sets
// of tables as at their first version. goose's default table is renamed
// latch_schema_legacy, out of the way of an application's own goose. A
// database of any other shape is left alone.
func (s *Store) convertLegacy(ctx context.Context) error {
	legacy, err := s.isLegacy(ctx, s.write)
	if err != nil || !legacy {
		return err
	}
	// All in one write transaction, which holds the file's write lock:
	// another process converting at the same moment waits, and then finds
	// nothing left to do.
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if legacy, err := s.isLegacy(ctx, tx); err != nil || !legacy {
			return err
		}
		if err := finishLegacy(ctx, tx); err != nil {
			return err
		}
		var indexes []string
		rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (`+
			placeholders(len(legacyTables))+`)`, anySlice(legacyTables)...)
		if err != nil {
			return err
		}
		if indexes, err = collect(rows, func(r interface{ Scan(...any) error }) (string, error) {
			var name string
			return name, r.Scan(&name)
		}); err != nil {
			return err
		}
		for _, ix := range indexes {
			if _, err := tx.ExecContext(ctx, `DROP INDEX "`+ix+`"`); err != nil {
				return err
			}
		}
		for _, t := range legacyTables {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE "`+t+`" RENAME TO "latch_`+t+`"`); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `ALTER TABLE latch_users ADD COLUMN username_skeleton TEXT NOT NULL DEFAULT ''`); err != nil {
			return err
		}
		if err := fillSkeletons(ctx, tx); err != nil {
			return err
		}
		for _, sc := range []schemas.Set{schemas.Sessions, schemas.Accounts} {
			if err := createIndexes(ctx, tx, sc); err != nil {
				return err
			}
			if err := stampFirstVersion(ctx, tx, sc); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `ALTER TABLE `+goose.DefaultTablename+` RENAME TO latch_schema_legacy`)
		return err
	})
}

// finishLegacy applies, inside tx, the legacy migrations the database
// lacks, and records them in goose's default table as goose would. They
// are plain statements, one per line-ending ";".
func finishLegacy(ctx context.Context, tx *sql.Tx) error {
	applied := map[int64]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version_id, is_applied FROM `+goose.DefaultTablename+` ORDER BY id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			v  int64
			on bool
		)
		if err := rows.Scan(&v, &on); err != nil {
			rows.Close()
			return err
		}
		applied[v] = on
	}
	if err := rows.Close(); err != nil {
		return err
	}
	entries, err := fs.ReadDir(migrations, schemas.Legacy.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%05d_", &v); err != nil {
			return fmt.Errorf("legacy migration %s: %w", e.Name(), err)
		}
		if applied[v] {
			continue
		}
		b, err := fs.ReadFile(migrations, schemas.Legacy.Dir+"/"+e.Name())
		if err != nil {
			return err
		}
		for _, stmt := range upStatements(string(b)) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("legacy migration %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+goose.DefaultTablename+` (version_id, is_applied) VALUES (?, 1)`, v); err != nil {
			return err
		}
	}
	return nil
}

// upStatements returns the statements of a goose SQL migration's Up part.
func upStatements(src string) []string {
	_, up, _ := strings.Cut(src, "-- +goose Up")
	up, _, _ = strings.Cut(up, "-- +goose Down")
	var (
		out []string
		cur strings.Builder
	)
	for line := range strings.SplitSeq(up, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	return out
}

// isLegacy reports whether the database has an earlier latch's tables and
// not yet today's.
func (s *Store) isLegacy(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('`+goose.DefaultTablename+`', 'sessions', 'remember_tokens', 'users')) * 10 +
		(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'latch_sessions')`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look for an earlier latch's tables: %w", err)
	}
	return n == 40, nil
}

// fillSkeletons sets the username skeleton of every converted user (see
// schemas.Skeletons).
func fillSkeletons(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, username FROM latch_users ORDER BY id`)
	if err != nil {
		return err
	}
	users, err := collect(rows, func(r interface{ Scan(...any) error }) (schemas.User, error) {
		var u schemas.User
		return u, r.Scan(&u.ID, &u.Username)
	})
	if err != nil {
		return err
	}
	for i, k := range schemas.Skeletons(users) {
		if _, err := tx.ExecContext(ctx, `UPDATE latch_users SET username_skeleton = ? WHERE id = ?`, k, users[i].ID); err != nil {
			return err
		}
	}
	return nil
}

// createIndexes runs the CREATE INDEX statements of a schema's first
// migration: the converted tables get exactly the indexes a new database
// has, under the same names.
func createIndexes(ctx context.Context, tx *sql.Tx, sc schemas.Set) error {
	f, err := migrations.Open(sc.Dir + "/00001_" + strings.TrimPrefix(sc.Versions, "latch_schema_") + ".sql")
	if err != nil {
		return err
	}
	defer f.Close()
	sc2 := bufio.NewScanner(f)
	for sc2.Scan() {
		line := strings.TrimSpace(sc2.Text())
		if strings.HasPrefix(line, "-- +goose Down") {
			break
		}
		if strings.HasPrefix(line, "CREATE INDEX ") || strings.HasPrefix(line, "CREATE UNIQUE INDEX ") {
			if _, err := tx.ExecContext(ctx, line); err != nil {
				return fmt.Errorf("%s: %w", line, err)
			}
		}
	}
	return sc2.Err()
}

// stampFirstVersion records the set's first migration as applied: the
// converted tables are what it creates.
func stampFirstVersion(ctx context.Context, tx *sql.Tx, sc schemas.Set) error {
	store, err := versionStore(sc.Versions)
	if err != nil {
		return err
	}
	return schemas.StampFirstVersion(ctx, tx, store)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
