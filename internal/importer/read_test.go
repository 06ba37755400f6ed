package importer_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/latchgo/latch/internal/importer"
)

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]importer.Format{
		"users.csv": importer.CSV, "USERS.CSV": importer.CSV, "x.json": importer.JSON,
		"app.db": importer.FlaskSQLite, "instance/db.sqlite": importer.FlaskSQLite, "a.sqlite3": importer.FlaskSQLite,
	} {
		if got, err := importer.FormatOf(name); err != nil || got != want {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"users", "users.txt", "-", "x.csv.gz"} {
		if _, err := importer.FormatOf(name); err == nil || !strings.Contains(err.Error(), "-format") {
			t.Errorf("FormatOf(%q) = %v, want an error naming -format", name, err)
		}
	}
	if _, err := importer.ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) accepted")
	}
	if f, err := importer.ParseFormat("Flask-SQLite"); err != nil || f != importer.FlaskSQLite {
		t.Errorf("ParseFormat(Flask-SQLite) = %q, %v", f, err)
	}
}

func TestReadCSV(t *testing.T) {
	in := "\ufeffExtra, Email ,created_at,password_hash,username\r\n" + // BOM, spaces, any order, CRLF
		"x,a@example.com,2023-01-02 03:04:05,h1,alice\r\n" +
		"\n" + // blank lines are skipped, but counted
		"y,b@example.com,,h2,\"bob\nsmith\"\n" + // a quoted field over two lines
		"z,c@example.com\n" + // too short
		"z,d@example.com,,h4,dave,more,fields\n"
	recs, err := importer.ReadCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []importer.Record{
		{Pos: importer.Position{Format: importer.CSV, Line: 2}, Username: "alice", Email: "a@example.com", PasswordHash: "h1", CreatedAt: "2023-01-02 03:04:05"},
		{Pos: importer.Position{Format: importer.CSV, Line: 4}, Username: "bob\nsmith", Email: "b@example.com", PasswordHash: "h2"},
		{Pos: importer.Position{Format: importer.CSV, Line: 6}, Email: "c@example.com", Problem: "missing column username, password_hash"},
		{Pos: importer.Position{Format: importer.CSV, Line: 7}, Username: "dave", Email: "d@example.com", PasswordHash: "h4"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records: %+v", len(recs), recs)
	}
	for i := range want {
		if recs[i] != want[i] {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, recs[i], want[i])
		}
	}
	// The Flask-SQLAlchemy column names work too.
	recs, err = importer.ReadCSV(strings.NewReader("id,email,password,name\n1,a@example.com,h,Jane Doe\n"))
	if err != nil || len(recs) != 1 || recs[0].Username != "Jane Doe" || recs[0].PasswordHash != "h" {
		t.Errorf("tutorial columns: %+v, %v", recs, err)
	}
}

func TestReadCSVErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "empty"},
		{"username,email\nx,y\n", "line 1: the header has no password_hash column"},
		{"name,created_at\n", "no email, password_hash column"},
		{"username,email,password_hash\na,b,c\nd,\"e,f\n", "line 3"}, // an unterminated quote
		{"username,email,password_hash\na,b\"x,c\n", "line 2"},       // a bare quote
	} {
		_, err := importer.ReadCSV(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadCSV(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestReadJSON(t *testing.T) {
	in := `[
  {"username": "alice", "email": "a@example.com", "password_hash": "h1", "created_at": "2023-01-02T03:04:05Z", "extra": [1, {"a": 2}]},
  {"username": "bob",
   "email": "b@example.com", "password_hash": "h2", "created_at": null},
  "not an object",
  {"username": 7, "email": "c@example.com", "password_hash": "h3"},

  {"name": "Jane Doe", "email": "d@example.com", "password": "h4"},
  {"email": "e@example.com"}, {"username": "frank", "email": "f@example.com", "password_hash": "h6"}
]
`
	recs, err := importer.ReadJSON(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	pos := func(i, line int) importer.Position {
		return importer.Position{Format: importer.JSON, Index: i, Line: line}
	}
	want := []importer.Record{
		{Pos: pos(0, 2), Username: "alice", Email: "a@example.com", PasswordHash: "h1", CreatedAt: "2023-01-02T03:04:05Z"},
		{Pos: pos(1, 3), Username: "bob", Email: "b@example.com", PasswordHash: "h2"},
		{Pos: pos(2, 5), Problem: "not a JSON object"},
		{Pos: pos(3, 6), Email: "c@example.com", PasswordHash: "h3", Problem: "username not a string"},
		{Pos: pos(4, 8), Username: "Jane Doe", Email: "d@example.com", PasswordHash: "h4"},
		{Pos: pos(5, 9), Email: "e@example.com", Problem: "missing username, password_hash"},
		{Pos: pos(6, 9), Username: "frank", Email: "f@example.com", PasswordHash: "h6"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records: %+v", len(recs), recs)
	}
	for i := range want {
		if recs[i] != want[i] {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, recs[i], want[i])
		}
	}
	if got := recs[2].Pos.String(); got != "item 2 (line 5)" {
		t.Errorf("Position = %q", got)
	}
}

func TestReadJSONErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{``, "ends before"},
		{`{"username": "a"}`, "want an array"},
		{"[\n{\"username\": \"a\"}\n{\"username\": \"b\"}]", "JSON"},
		{"[\n\n{\"username\": \"a\",,}]", "line 3"},
		{`[{"username": "a"}`, "ends before"},
		{`[{"username": "a"}] [1]`, "after the array"},
	} {
		_, err := importer.ReadJSON(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadJSON(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
	recs, err := importer.ReadJSON(strings.NewReader(" [ ] \n"))
	if err != nil || len(recs) != 0 {
		t.Errorf("empty array: %v, %v", recs, err)
	}
}

// flaskDB creates an SQLite file with the schema of schema and the rows
// of inserts, as a Flask-SQLAlchemy application would have it.
func flaskDB(t *testing.T, schema string, inserts ...[]any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	for _, ins := range inserts {
		if _, err := db.Exec(ins[0].(string), ins[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// tutorialSchema is the user table of DigitalOcean's "How To Add
// Authentication to Your App with Flask-Login", as SQLAlchemy creates it.
const tutorialSchema = `CREATE TABLE user (
	id INTEGER NOT NULL,
	email VARCHAR(100),
	password VARCHAR(100),
	name VARCHAR(1000),
	PRIMARY KEY (id),
	UNIQUE (email)
)`

func TestReadFlaskSQLite(t *testing.T) {
	ins := `INSERT INTO user (id, email, password, name) VALUES (?, ?, ?, ?)`
	path := flaskDB(t, tutorialSchema,
		[]any{ins, 3, "jane@example.com", werkzeugHash, "Jane Doe"},
		[]any{ins, 7, "bob@example.com", nil, "bob"},
	)
	recs, err := importer.ReadFlaskSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	want := []importer.Record{
		{Pos: importer.Position{Format: importer.FlaskSQLite, RowID: 3}, Username: "Jane Doe", Email: "jane@example.com", PasswordHash: werkzeugHash},
		{Pos: importer.Position{Format: importer.FlaskSQLite, RowID: 7}, Username: "bob", Email: "bob@example.com"},
	}
	if len(recs) != 2 || recs[0] != want[0] || recs[1] != want[1] {
		t.Fatalf("got %+v\nwant %+v", recs, want)
	}
	if got := recs[1].Pos.String(); got != "row id 7" {
		t.Errorf("Position = %q", got)
	}
}

func TestReadFlaskSQLiteUsersTable(t *testing.T) {
	// A "users" table with a username, a password_hash and each spelling
	// of a creation time SQLite applications use.
	ins := `INSERT INTO users (username, email, password_hash, created_at) VALUES (?, ?, ?, ?)`
	path := flaskDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, email TEXT, password_hash TEXT, created_at DATETIME)`,
		[]any{ins, "a1", "a1@example.com", "h", "2023-01-02 03:04:05.123456"},
		[]any{ins, "a2", "a2@example.com", "h", int64(1700000000)},
		[]any{ins, "a3", "a3@example.com", "h", int64(1700000000123)},
		[]any{ins, "a4", "a4@example.com", "h", 1700000000.5},
		[]any{ins, "a5", "a5@example.com", "h", nil},
		[]any{ins, "a6", "a6@example.com", "h", "yesterday"},
	)
	recs, err := importer.ReadFlaskSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 {
		t.Fatalf("got %+v", recs)
	}
	now := time.Now()
	for i, want := range []time.Time{
		time.Date(2023, 1, 2, 3, 4, 5, 123456000, time.UTC),
		time.Unix(1700000000, 0),
		time.Unix(1700000000, 123000000),
		time.Unix(1700000000, 500000000),
		now,
	} {
		got, err := importer.ParseTime(recs[i].CreatedAt, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("row %d: created_at %q = %v, %v; want %v", i, recs[i].CreatedAt, got, err, want)
		}
	}
	if _, err := importer.ParseTime(recs[5].CreatedAt, now); err == nil {
		t.Errorf("created_at %q accepted", recs[5].CreatedAt)
	}
}

func TestReadFlaskSQLiteErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := importer.ReadFlaskSQLite(ctx, filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Error("a missing file was read")
	}
	noTable := flaskDB(t, `CREATE TABLE account (id INTEGER PRIMARY KEY)`)
	if _, err := importer.ReadFlaskSQLite(ctx, noTable); err == nil || !strings.Contains(err.Error(), "no user or users table") {
		t.Errorf("no table: %v", err)
	}
	noHash := flaskDB(t, `CREATE TABLE user (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`)
	if _, err := importer.ReadFlaskSQLite(ctx, noHash); err == nil || !strings.Contains(err.Error(), "no password_hash column") {
		t.Errorf("no hash column: %v", err)
	}
	notDB := filepath.Join(t.TempDir(), "x.db")
	writeFile(t, notDB, "username,email\n")
	if _, err := importer.ReadFlaskSQLite(ctx, notDB); err == nil {
		t.Error("a text file was read as SQLite")
	}
}

func TestReadFlaskSQLiteIsReadOnly(t *testing.T) {
	path := flaskDB(t, tutorialSchema, []any{`INSERT INTO user (email, password, name) VALUES ('a@example.com', 'h', 'ann')`})
	before := fileInfo(t, path)
	if _, err := importer.ReadFlaskSQLite(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	if after := fileInfo(t, path); after != before {
		t.Errorf("the application's database changed: %v -> %v", before, after)
	}
	if _, err := importer.ReadFile(context.Background(), path, importer.FlaskSQLite); err != nil {
		t.Error(err)
	}
}
