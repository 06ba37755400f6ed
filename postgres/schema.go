package postgres

import (
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

// provider returns goose's provider of one set of migrations, recording
// them in the set's own version table.
func provider(db *sql.DB, sc schemas.Set) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, sc.Dir)
	if err != nil {
		return nil, err
	}
	store, err := database.NewStore(database.DialectPostgres, sc.Versions)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectCustom, db, fsys,
		goose.WithStore(store), goose.WithDisableGlobalRegistry(true))
}

// up converts a schema of the legacy layout, then applies the migrations
// that the session tables (and, with accounts, the account tables) lack.
// The caller holds the migration lock.
func up(ctx context.Context, db *sql.DB, accounts bool) error {
	old, err := isLegacy(ctx, db)
	if err != nil {
		return err
	}
	if old {
		if err := convertLegacy(ctx, db); err != nil {
			return fmt.Errorf("convert the tables of an earlier latch: %w", err)
		}
	}
	sets := []schemas.Set{schemas.Sessions}
	if accounts {
		sets = append(sets, schemas.Accounts)
	}
	for _, sc := range sets {
		p, err := provider(db, sc)
		if err != nil {
			return err
		}
		if _, err := p.Up(ctx); err != nil {
			return err
		}
	}
	return nil
}

// legacyTables are the tables an earlier latch created, without a prefix,
// and goose's default version table, which becomes latch_schema_legacy.
var legacyTables = [][2]string{
	{"sessions", "latch_sessions"},
	{"remember_tokens", "latch_remember_tokens"},
	{"attempts", "latch_attempts"},
	{"users", "latch_users"},
	{"api_tokens", "latch_api_tokens"},
	{"one_time_tokens", "latch_one_time_tokens"},
	{"recovery_codes", "latch_recovery_codes"},
	{"audit_events", "latch_audit_events"},
	{goose.DefaultTablename, "latch_schema_legacy"},
}

// isLegacy reports whether the current schema has an earlier latch's
// tables and not yet today's.
func isLegacy(ctx context.Context, db *sql.DB) (bool, error) {
	var old, current int
	err := db.QueryRowContext(ctx, `SELECT
		count(*) FILTER (WHERE tablename IN ($1, 'sessions', 'remember_tokens', 'users')),
		count(*) FILTER (WHERE tablename = 'latch_sessions')
		FROM pg_tables WHERE schemaname = current_schema()`, goose.DefaultTablename).Scan(&old, &current)
	if err != nil {
		return false, fmt.Errorf("look for an earlier latch's tables: %w", err)
	}
	return old == 4 && current == 0, nil
}

// convertLegacy brings a schema of an earlier latch to today's layout. It
// first applies the legacy migrations the schema lacks, as that latch
// would have; then, in one transaction, it renames every table — and its
// indexes, constraints, identity sequences and triggers, whose names
// began with the table's — to latch_…, adds the usernames' skeletons, and
// records both sets of tables as at their first version. goose's default
// table is renamed latch_schema_legacy, out of the way of an
// application's own goose.
func convertLegacy(ctx context.Context, db *sql.DB) error {
	p, err := provider(db, schemas.Legacy)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("finish the earlier migrations: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	for _, t := range legacyTables {
		if err := renameTable(ctx, tx, t[0], t[1]); err != nil {
			return fmt.Errorf("rename %s: %w", t[0], err)
		}
	}
	if _, err := tx.ExecContext(ctx, `ALTER TABLE latch_users ADD COLUMN username_skeleton text COLLATE "C" NOT NULL DEFAULT ''`); err != nil {
		return err
	}
	if err := fillSkeletons(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE UNIQUE INDEX latch_users_username_skeleton ON latch_users (username_skeleton)`); err != nil {
		return err
	}
	for _, sc := range []schemas.Set{schemas.Sessions, schemas.Accounts} {
		if err := stampFirstVersion(ctx, tx, sc); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// renameTable renames the table from to to, in the current schema, with
// every index, constraint, sequence and trigger whose name starts with
// from's: their names then start with to's, as if the table had been
// created under its new name.
func renameTable(ctx context.Context, tx *sql.Tx, from, to string) error {
	// Objects of the table, before it is renamed: indexes (renaming one
	// renames the constraint it backs), constraints without an index
	// (foreign keys), sequences the table's columns own (identities), and
	// triggers.
	rows, err := tx.QueryContext(ctx, `
		WITH t AS (SELECT c.oid FROM pg_class c
			WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace)
		SELECT 'INDEX', i.relname, '' FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = (SELECT oid FROM t)
		UNION ALL
		SELECT 'CONSTRAINT', conname, '' FROM pg_constraint
			WHERE conrelid = (SELECT oid FROM t) AND contype NOT IN ('p', 'u', 'x')
		UNION ALL
		SELECT 'SEQUENCE', s.relname, '' FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
			WHERE d.refobjid = (SELECT oid FROM t) AND s.relkind = 'S' AND d.deptype IN ('a', 'i')
		UNION ALL
		SELECT 'TRIGGER', tgname, '' FROM pg_trigger
			WHERE tgrelid = (SELECT oid FROM t) AND NOT tgisinternal`, from)
	if err != nil {
		return err
	}
	type object struct{ kind, name, unused string }
	var objects []object
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.kind, &o.name, &o.unused); err != nil {
			rows.Close()
			return err
		}
		objects = append(objects, o)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `ALTER TABLE `+quote(from)+` RENAME TO `+quote(to)); err != nil {
		return err
	}
	for _, o := range objects {
		rest, ok := strings.CutPrefix(o.name, from+"_")
		if !ok {
			continue
		}
		name := to + "_" + rest
		var stmt string
		switch o.kind {
		case "INDEX", "SEQUENCE":
			stmt = `ALTER ` + o.kind + ` ` + quote(o.name) + ` RENAME TO ` + quote(name)
		case "CONSTRAINT":
			stmt = `ALTER TABLE ` + quote(to) + ` RENAME CONSTRAINT ` + quote(o.name) + ` TO ` + quote(name)
		case "TRIGGER":
			stmt = `ALTER TRIGGER ` + quote(o.name) + ` ON ` + quote(to) + ` RENAME TO ` + quote(name)
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

func quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// fillSkeletons sets the username skeleton of every converted user (see
// schemas.Skeletons).
func fillSkeletons(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, username FROM latch_users ORDER BY id`)
	if err != nil {
		return err
	}
	var users []schemas.User
	for rows.Next() {
		var u schemas.User
		if err := rows.Scan(&u.ID, &u.Username); err != nil {
			rows.Close()
			return err
		}
		users = append(users, u)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for i, k := range schemas.Skeletons(users) {
		if _, err := tx.ExecContext(ctx, `UPDATE latch_users SET username_skeleton = $1 WHERE id = $2`, k, users[i].ID); err != nil {
			return err
		}
	}
	return nil
}

// stampFirstVersion records the set's first migration as applied: the
// converted tables are what it creates.
func stampFirstVersion(ctx context.Context, tx *sql.Tx, sc schemas.Set) error {
	store, err := database.NewStore(database.DialectPostgres, sc.Versions)
	if err != nil {
		return err
	}
	return schemas.StampFirstVersion(ctx, tx, store)
}

// errNoSchema is migrate's error when no schema of the search path exists.
var errNoSchema = errors.New("no schema of the search_path exists: create the schema first")
