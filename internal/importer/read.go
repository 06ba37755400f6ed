package importer

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// wantColumns is the header the messages suggest.
const wantColumns = "username,email,password_hash[,created_at]"

// ReadFile reads the records of the file at path in format f.
func ReadFile(ctx context.Context, path string, f Format) ([]Record, error) {
	if f == FlaskSQLite {
		return ReadFlaskSQLite(ctx, path)
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	switch f {
	case CSV:
		return ReadCSV(file)
	case JSON:
		return ReadJSON(file)
	}
	return nil, fmt.Errorf("unknown format %q", f)
}

// ReadCSV reads RFC 4180 CSV whose first record is a header naming the
// columns (username, email, password_hash, created_at; in any order,
// compared case-insensitively; other columns are ignored). A record with
// fewer fields than the header needs is returned with a Problem. A
// header without a required column, or text that is not CSV (a stray
// quote), is an error that names its line: nothing of such a file is
// used.
func ReadCSV(r io.Reader) ([]Record, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("the file is empty: want a header line %s", wantColumns)
	}
	if err != nil {
		return nil, fmt.Errorf("CSV: %w", err)
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff") // a byte-order mark, as spreadsheets write
	idx, missing := columnMap(header)
	if len(missing) > 0 {
		return nil, fmt.Errorf("line 1: the header has no %s column: want %s", strings.Join(missing, ", "), wantColumns)
	}
	var recs []Record
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		rec := Record{Pos: Position{Format: CSV, Line: line}}
		var short []string
		for _, f := range fields {
			switch i := idx[f.key]; {
			case i < 0:
			case i >= len(row):
				if f.required {
					short = append(short, f.key)
				}
			default:
				rec.set(f.key, row[i])
			}
		}
		if len(short) > 0 {
			rec.Problem = "missing column " + strings.Join(short, ", ")
		}
		recs = append(recs, rec)
	}
}

// ReadJSON reads a JSON array of objects with the keys username, email,
// password_hash and created_at (other keys are ignored; null is the same
// as a missing key). An item that is not an object, lacks a required key
// or has a value that is not a string is returned with a Problem. Text
// that is not a JSON array is an error naming its line.
func ReadJSON(r io.Reader) ([]Record, error) {
	lc := &lineCounter{r: r, line: 1}
	dec := json.NewDecoder(lc)
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(err, lc)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errors.New("JSON: want an array of objects")
	}
	var recs []Record
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonError(err, lc)
		}
		// RawMessage holds the item's bytes exactly, so it began
		// len(raw) bytes before where the decoder stands now.
		start := dec.InputOffset() - int64(len(raw))
		rec := Record{Pos: Position{Format: JSON, Index: i, Line: lc.lineAt(start)}}
		rec.fromJSON(raw)
		recs = append(recs, rec)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, jsonError(err, lc)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("JSON: line %d: unexpected data after the array", lc.lineAt(dec.InputOffset()))
	}
	return recs, nil
}

func (rec *Record) fromJSON(raw json.RawMessage) {
	var obj map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		rec.Problem = "not a JSON object"
		return
	}
	keys := make([]string, 0, len(obj))
	for k, v := range obj {
		if string(v) != "null" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // a deterministic choice when keys differ only in case
	idx, missing := columnMap(keys)
	var bad []string
	for _, f := range fields {
		i := idx[f.key]
		if i < 0 {
			continue
		}
		var s string
		if err := json.Unmarshal(obj[keys[i]], &s); err != nil {
			bad = append(bad, f.key)
			continue
		}
		rec.set(f.key, s)
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "missing "+strings.Join(missing, ", "))
	}
	if len(bad) > 0 {
		problems = append(problems, strings.Join(bad, ", ")+" not a string")
	}
	rec.Problem = strings.Join(problems, "; ")
}

// jsonError adds the line to a decoding error.
func jsonError(err error, lc *lineCounter) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("JSON: line %d: %w", lc.lineAt(se.Offset), err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("JSON: the file ends before the array does")
	}
	return fmt.Errorf("JSON: %w", err)
}

// lineCounter passes reads through and remembers where the newlines are,
// so that a byte offset of the decoder can be turned into a line number.
// Offsets asked about must not decrease; newlines behind the last one are
// forgotten, so memory stays bounded by the decoder's read-ahead.
type lineCounter struct {
	r    io.Reader
	off  int64   // bytes read so far
	nl   []int64 // offsets of newlines not yet counted
	line int     // the line at the last offset asked about
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			c.nl = append(c.nl, c.off+int64(i))
		}
	}
	c.off += int64(n)
	return n, err
}

// lineAt returns the 1-based line of the byte at offset off.
func (c *lineCounter) lineAt(off int64) int {
	for len(c.nl) > 0 && c.nl[0] < off {
		c.nl = c.nl[1:]
		c.line++
	}
	return c.line
}

// ReadFlaskSQLite reads the users of a Flask-SQLAlchemy application from
// its SQLite file, opened read-only: the table "user" (Flask-SQLAlchemy's
// name for a model class User), else "users". Columns are found by name:
// username or name; email; password_hash or password; and, if present,
// created_at, created or date_created. Each Record's Position is its row
// id.
func ReadFlaskSQLite(ctx context.Context, path string) ([]Record, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err // the driver would say only "unable to open"
	}
	db, err := sql.Open("sqlite", sqliteURI(path))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var table string
	err = db.QueryRowContext(ctx, `
		SELECT name FROM sqlite_master
		WHERE type = 'table' AND lower(name) IN ('user', 'users')
		ORDER BY lower(name) LIMIT 1`).Scan(&table)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s has no user or users table", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	cols, err := tableColumns(ctx, db, table)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	idx, missing := columnMap(cols)
	if len(missing) > 0 {
		return nil, fmt.Errorf("table %q of %s has no %s column: want %s", table, path, strings.Join(missing, ", "), wantColumns)
	}
	var keys, sel []string
	for _, f := range fields {
		if i := idx[f.key]; i >= 0 {
			keys = append(keys, f.key)
			sel = append(sel, quoteIdent(cols[i]))
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT rowid, `+strings.Join(sel, ", ")+` FROM `+quoteIdent(table)+` ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("read table %q of %s: %w", table, path, err)
	}
	defer rows.Close()
	var recs []Record
	vals := make([]any, len(keys)+1)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read table %q of %s: %w", table, path, err)
		}
		id, _ := vals[0].(int64)
		rec := Record{Pos: Position{Format: FlaskSQLite, RowID: id}}
		for i, k := range keys {
			if k == "created_at" {
				rec.set(k, sqlTime(vals[i+1]))
			} else {
				rec.set(k, sqlText(vals[i+1]))
			}
		}
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read table %q of %s: %w", table, path, err)
	}
	return recs, nil
}

func tableColumns(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// sqliteURI names path as a read-only SQLite URI, so that nothing, not
// even a journal, is written to the application's database.
func sqliteURI(path string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + esc + "?mode=ro&_pragma=busy_timeout(5000)"
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// sqlText is a column value as text.
func sqlText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// sqlTime is a creation-time column as text Check understands. Besides
// text, SQLite applications store times as Unix seconds or milliseconds
// (integer or real); a number outside the years 1970 to 9999 is passed on
// as a number, which Check refuses.
func sqlTime(v any) string {
	const maxSec = 253402300800 // year 10000
	var t time.Time
	switch n := v.(type) {
	case int64:
		switch {
		case n < 0:
			return sqlText(v)
		case n >= 1e11: // not seconds: nobody signed up in the year 5138
			t = time.UnixMilli(n)
		default:
			t = time.Unix(n, 0)
		}
	case float64:
		if n >= 1e11 {
			n /= 1000
		}
		if !(n >= 0 && n < maxSec) { // also NaN
			return sqlText(v)
		}
		sec := math.Floor(n)
		t = time.Unix(int64(sec), int64(math.Round((n-sec)*1e6))*1e3)
	default:
		return sqlText(v)
	}
	if t.Unix() >= maxSec {
		return sqlText(v)
	}
	return t.UTC().Format(time.RFC3339Nano)
}
