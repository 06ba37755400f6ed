// Package importer moves user accounts from another system — a Flask-Login
// application above all — into latch.
//
// It works in three steps, each usable on its own:
//
//  1. Read: ReadCSV, ReadJSON and ReadFlaskSQLite turn a file into
//     Records, plain strings with the place each came from (a CSV line, a
//     JSON array index and line, an SQLite row id).
//  2. Check: Check validates every Record (username, email, password hash,
//     creation time), finds duplicates within the file and against the
//     database, optionally derives valid usernames from free-form names,
//     and returns a Plan: the accounts to create and the records refused,
//     each with a reason.
//  3. Create: Create stores the Plan's accounts with their legacy password
//     hashes, which latch verifies as they are and upgrades to argon2id at
//     each user's next login.
//
// Nothing here ever prints or returns a password hash: reasons name the
// field and the format, never the value.
package importer

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format is the kind of file an import reads.
type Format string

// The formats Read knows.
const (
	// CSV is RFC 4180 text with a header row naming the columns
	// username, email, password_hash and created_at, in any order.
	CSV Format = "csv"
	// JSON is an array of objects with those keys.
	JSON Format = "json"
	// FlaskSQLite is the SQLite database of a Flask-SQLAlchemy
	// application, whose user or users table is read directly.
	FlaskSQLite Format = "flask-sqlite"
)

// ParseFormat checks a format name given by the user.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case CSV, JSON, FlaskSQLite:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want csv, json or flask-sqlite)", s)
}

// FormatOf guesses a file's format from its extension: .csv, .json, and
// .db, .sqlite or .sqlite3 for a Flask-SQLAlchemy database.
func FormatOf(name string) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV, nil
	case ".json":
		return JSON, nil
	case ".db", ".sqlite", ".sqlite3":
		return FlaskSQLite, nil
	}
	return "", fmt.Errorf("cannot tell the format of %q from its extension (use -format csv, json or flask-sqlite)", name)
}

// Position says where a Record came from, for messages.
type Position struct {
	// Format is the kind of file.
	Format Format
	// Line is the 1-based line on which the record starts (CSV: its
	// physical line, which counts the lines of quoted fields spanning
	// several; JSON: the line of the item's opening brace), 0 if unknown.
	Line int
	// Index is the 0-based index of the item in a JSON array.
	Index int
	// RowID is the SQLite rowid of a FlaskSQLite row.
	RowID int64
}

func (p Position) String() string {
	switch p.Format {
	case JSON:
		if p.Line > 0 {
			return fmt.Sprintf("item %d (line %d)", p.Index, p.Line)
		}
		return fmt.Sprintf("item %d", p.Index)
	case FlaskSQLite:
		return fmt.Sprintf("row id %d", p.RowID)
	}
	return fmt.Sprintf("line %d", p.Line)
}

// Record is one user as read from a file, before any check. Fields are
// "" when the file has no value for them.
type Record struct {
	Pos          Position
	Username     string
	Email        string
	PasswordHash string
	// CreatedAt is the text of the creation time: RFC 3339, or
	// SQLAlchemy's "2006-01-02 15:04:05.999999" in UTC; "" means now.
	CreatedAt string
	// Problem, when not "", is why the record cannot be used at all: a
	// CSV record too short for the header, a JSON item that is not an
	// object or whose fields are not strings. Never contains a value.
	Problem string
}

// field is one of the columns an import reads, with the names it goes by:
// the first is the documented one, the others are what Flask-SQLAlchemy
// models commonly call it (the Flask-Login tutorial's user table has
// "name" and "password").
type field struct {
	key      string
	names    []string
	required bool
}

var fields = []field{
	{"username", []string{"username", "name"}, true},
	{"email", []string{"email"}, true},
	{"password_hash", []string{"password_hash", "password"}, true},
	{"created_at", []string{"created_at", "created", "date_created"}, false},
}

// set stores a field's value in r.
func (r *Record) set(key, v string) {
	switch key {
	case "username":
		r.Username = v
	case "email":
		r.Email = v
	case "password_hash":
		r.PasswordHash = v
	case "created_at":
		r.CreatedAt = v
	}
}

// columnMap finds, for each field, the position of the best-named column
// among names (compared case-insensitively, surrounding spaces ignored);
// -1 when none matches. missing lists the required fields not found.
func columnMap(names []string) (idx map[string]int, missing []string) {
	pos := map[string]int{}
	for i, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if _, dup := pos[n]; !dup {
			pos[n] = i
		}
	}
	idx = map[string]int{}
	for _, f := range fields {
		idx[f.key] = -1
		for _, n := range f.names {
			if i, ok := pos[n]; ok {
				idx[f.key] = i
				break
			}
		}
		if idx[f.key] < 0 && f.required {
			missing = append(missing, f.key)
		}
	}
	return idx, missing
}
