package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/server"
	"github.com/latchgo/latch/password"
)

// vector is an entry of password/testdata/legacy-hashes.json: a real hash
// made by werkzeug, Django or Python's bcrypt, and a password that
// matches it, or does not when Wrong.
type vector struct {
	Format   string `json:"format"`
	Password string `json:"password"`
	Hash     string `json:"hash"`
	Wrong    bool   `json:"wrong"`
}

func legacyHashes(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "password", "testdata", "legacy-hashes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Hashes []vector }
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Hashes) < 10 {
		t.Fatalf("only %d hashes", len(file.Hashes))
	}
	return file.Hashes
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeCSV(t *testing.T, rows [][]string) string {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "users.csv", b.String())
}

// tutorialSchema is the user table of DigitalOcean's "How To Add
// Authentication to Your App with Flask-Login" as Flask-SQLAlchemy
// creates it in SQLite.
const tutorialSchema = `CREATE TABLE user (
	id INTEGER NOT NULL,
	email VARCHAR(100),
	password VARCHAR(100),
	name VARCHAR(1000),
	PRIMARY KEY (id),
	UNIQUE (email)
)`

// flaskDB writes the tutorial's database with rows of (id, email,
// password, name).
func flaskDB(t *testing.T, rows [][]any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(tutorialSchema); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if _, err := db.Exec(`INSERT INTO user (id, email, password, name) VALUES (?, ?, ?, ?)`, r...); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func userCount(t *testing.T, db string) int {
	t.Helper()
	var users []map[string]any
	if err := json.Unmarshal([]byte(latchRun(t, db, "", "user", "list", "-json").ok(t).out), &users); err != nil {
		t.Fatal(err)
	}
	return len(users)
}

// TestImportLegacyHashes moves every real hash of legacy-hashes.json into
// latch three times, through a CSV file, a JSON file and the Flask-Login
// tutorial's SQLite database, and logs each user in: the right password
// works and leaves an argon2id hash, the wrong one does not.
//
// Verifying the legacy hashes is slow on purpose (seconds under -race), so
// the test runs in parallel with the others, and with -short logs in with
// one right and one wrong password per hash format only.
func TestImportLegacyHashes(t *testing.T) {
	t.Parallel()
	vectors := legacyHashes(t)
	email := func(i int) string { return fmt.Sprintf("user%d@Example.com", i) }
	created := time.Date(2021, 3, 4, 5, 6, 7, 890123000, time.UTC)

	rows := [][]string{{"username", "email", "password_hash", "created_at"}}
	var items []map[string]string
	var flask [][]any
	for i, v := range vectors {
		rows = append(rows, []string{fmt.Sprintf("user%d", i), email(i), v.Hash, created.Format("2006-01-02 15:04:05.999999")})
		items = append(items, map[string]string{"username": fmt.Sprintf("user%d", i), "email": email(i), "password_hash": v.Hash, "created_at": created.Format(time.RFC3339Nano)})
		flask = append(flask, []any{i + 1, email(i), v.Hash, fmt.Sprintf("User Number %d", i)})
	}
	js, err := json.MarshalIndent(items, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dbs := [3]string{newDB(t), newDB(t), newDB(t)}
	imports := []struct {
		name, file string
		flags      []string
		created    bool // created_at comes from the file
		confirmed  bool
		username   func(i int) string
	}{
		{"csv", writeCSV(t, rows), nil, true, false, func(i int) string { return fmt.Sprintf("user%d", i) }},
		{"json", writeFile(t, "users.json", string(js)), []string{"-confirmed"}, true, true, func(i int) string { return fmt.Sprintf("user%d", i) }},
		{"flask-sqlite", flaskDB(t, flask), []string{"-fix-usernames"}, false, false, func(i int) string { return fmt.Sprintf("User_Number_%d", i) }},
	}
	apps := make([]*server.App, len(imports))
	for k, imp := range imports {
		r := latchRun(t, dbs[k], "", append([]string{"import", imp.file}, imp.flags...)...).ok(t)
		if !strings.HasPrefix(r.out, fmt.Sprintf("imported %d users, refused 0\n", len(vectors))) {
			t.Errorf("%s: %s", imp.name, r.out)
		}
		if !strings.Contains(r.out, "werkzeug-pbkdf2") || !strings.Contains(r.out, "upgraded to argon2id") {
			t.Errorf("%s: no hash summary in %s", imp.name, r.out)
		}
		apps[k] = openApp(t, dbs[k])
		for i, v := range vectors {
			u, err := apps[k].Backend.UserByEmail(context.Background(), email(i))
			if err != nil {
				t.Fatalf("%s: %v", imp.name, err)
			}
			if u.PasswordHash != v.Hash || u.Username != imp.username(i) || u.Email != email(i) || u.EmailConfirmed() != imp.confirmed || u.Disabled {
				t.Errorf("%s: entry %d stored as %s %s confirmed=%v (hash kept: %v)", imp.name, i, u.Username, u.Email, u.EmailConfirmed(), u.PasswordHash == v.Hash)
			}
			if imp.created && !u.CreatedAt.Equal(created.Truncate(time.Millisecond)) && !u.CreatedAt.Equal(created) {
				t.Errorf("%s: created %v, want %v", imp.name, u.CreatedAt, created)
			}
			if !imp.created && time.Since(u.CreatedAt) > time.Hour {
				t.Errorf("%s: created %v, want now", imp.name, u.CreatedAt)
			}
		}
	}
	if r := latchRun(t, dbs[2], "", "import", imports[2].file, "-fix-usernames", "-dry-run"); !strings.Contains(r.out, "already has an account") {
		t.Errorf("importing twice: %s", r.out)
	}

	// Each entry logs in once, in turn on each of the three databases,
	// so every kind of hash is tried from every kind of file. One worker
	// per database: its hasher has one slot on a two-core machine, and
	// under -race a legacy hash takes seconds, so two workers on one
	// database would turn each other's upgrade away as busy.
	type job struct {
		i int
		v vector
	}
	jobs := make([]chan job, len(apps))
	var wg sync.WaitGroup
	for k, app := range apps {
		jobs[k] = make(chan job, len(vectors))
		wg.Go(func() {
			for j := range jobs[k] {
				err := authenticate(app, email(j.i), j.v.Password)
				u, uerr := app.Backend.UserByEmail(context.Background(), email(j.i))
				if uerr != nil {
					t.Error(uerr)
					continue
				}
				format, _ := password.Identify(u.PasswordHash)
				switch {
				case j.v.Wrong && !errors.Is(err, account.ErrBadCredentials):
					t.Errorf("entry %d (%s): a wrong password logged in: %v", j.i, j.v.Format, err)
				case j.v.Wrong && u.PasswordHash != j.v.Hash:
					t.Errorf("entry %d (%s): a failed login changed the hash", j.i, j.v.Format)
				case !j.v.Wrong && err != nil:
					t.Errorf("entry %d (%s, imported from %s): login failed: %v", j.i, j.v.Format, imports[j.i%len(apps)].name, err)
				case !j.v.Wrong && format != password.FormatArgon2id:
					t.Errorf("entry %d (%s): after login the hash is %v, want argon2id", j.i, j.v.Format, format)
				}
			}
		})
	}
	tried := map[string]bool{}
	for i, v := range vectors {
		key := fmt.Sprint(v.Format, v.Wrong)
		if testing.Short() && tried[key] {
			continue
		}
		tried[key] = true
		jobs[i%len(apps)] <- job{i, v}
	}
	for _, c := range jobs {
		close(c)
	}
	wg.Wait()
}

func TestImportCSVRefusals(t *testing.T) {
	v := legacyHashes(t)
	good := v[0].Hash
	db := newDB(t)
	latchRun(t, db, alicePassword+"\n", "user", "add", "-password-stdin", "existing", "existing@example.com").ok(t)
	file := writeFile(t, "users.csv", ""+
		"id,email,username,password_hash,created_at\n"+ // 1: any column order, an extra column
		"1,ann@example.com,ann,"+good+",2020-01-01 10:00:00\n"+ // 2: fine
		"2,bad-email,bea,"+good+",\n"+ // 3
		"3,cid@example.com,c d,"+good+",\n"+ // 4: bad username
		"4,dan@example.com,dan,secret123,\n"+ // 5: plain text
		"5,eve@example.com,eve,"+good+",last tuesday\n"+ // 6
		"6,\"ANN@example.com\",ann2,"+good+",\n"+ // 7: email also on line 2
		"7,fay@example.com,\"fay\"\n"+ // 8: missing columns
		"\n"+ // 9
		"8,\"gus\n@example.com\",gus,"+good+",\n"+ // 10-11: a quoted newline
		"9,EXISTING@example.com,hal,"+good+",\n"+ // 12: in the database
		"10,ivy@example.com,Existing,"+good+",\n"+ // 13: in the database
		"11,jo@example.com,jo.jo,"+v[6].Hash+",2021-05-06T07:08:09+02:00\n") // 14: fine
	r := latchRun(t, db, "", "import", file)
	r.fails(t, "import: 9 rows refused")
	want := `imported 2 users, refused 9
password hashes: bcrypt 1, werkzeug-pbkdf2 1 (each verified as it is and upgraded to argon2id at the user's next login)
refused:
  line 3: email "bad-email" is not a valid address
  line 4: username "c d" is not valid: want 3 to 32 letters, digits, _ . or - (-fix-usernames makes one)
  line 5: password_hash is not a hash latch can verify (plain text, or an unknown format)
  line 6: created_at "last tuesday" is not a time: want RFC 3339 or 2006-01-02 15:04:05
  line 7: email "ANN@example.com" is also on line 2
  line 8: missing column password_hash
  line 10: email "gus\n@example.com" is not a valid address
  line 12: email "EXISTING@example.com" already has an account
  line 13: username "Existing" is taken by an existing account (or looks like one)
`
	if r.out != want {
		t.Errorf("output:\n%s\nwant:\n%s", r.out, want)
	}
	if strings.Contains(r.out, "secret123") {
		t.Error("the plain-text password was printed")
	}
	app := openApp(t, db)
	ann, err := app.Backend.UserByEmail(context.Background(), "ann@example.com")
	if err != nil || ann.Username != "ann" || ann.PasswordHash != good || !ann.CreatedAt.Equal(time.Date(2020, 1, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("ann: %+v, %v", ann, err)
	}
	jo, err := app.Backend.UserByUsername(context.Background(), "JO.JO")
	if err != nil || !jo.CreatedAt.Equal(time.Date(2021, 5, 6, 5, 8, 9, 0, time.UTC)) {
		t.Errorf("jo.jo: %+v, %v", jo, err)
	}
	if n := userCount(t, db); n != 3 {
		t.Errorf("%d users, want 3", n)
	}
}

func TestImportJSONRefusals(t *testing.T) {
	good := legacyHashes(t)[1].Hash
	db := newDB(t)
	file := writeFile(t, "export.json", `[
  {"username": "ann", "email": "ann@example.com", "password_hash": "`+good+`", "created_at": "2020-01-01T10:00:00Z"},
  {"username": "bea", "email": "bea@example.com", "password_hash": "not-a-hash"},
  {"username": "cy", "email": "cy@example.com", "password_hash": "`+good+`"},
  "dan",
  {
    "username": "eve",
    "email": "eve@example.com"
  },
  {"username": "fay", "email": "fay@example.com", "password_hash": "`+good+`", "created_at": 1700000000},
  {"username": "Ann", "email": "gus@example.com", "password_hash": "`+good+`", "created_at": "2020-01-01 10:00:00"}
]`)
	r := latchRun(t, db, "", "import", file)
	r.fails(t, "import: 6 rows refused")
	want := `imported 1 user, refused 6
password hashes: werkzeug-scrypt 1 (each verified as it is and upgraded to argon2id at the user's next login)
refused:
  item 1 (line 3): password_hash is not a hash latch can verify (plain text, or an unknown format)
  item 2 (line 4): username "cy" is not valid: want 3 to 32 letters, digits, _ . or - (-fix-usernames makes one)
  item 3 (line 5): not a JSON object
  item 4 (line 6): missing password_hash
  item 5 (line 10): created_at not a string
  item 6 (line 11): username "Ann" is also on item 0 (line 2)
`
	if r.out != want {
		t.Errorf("output:\n%s\nwant:\n%s", r.out, want)
	}
	if n := userCount(t, db); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}

func TestImportFlaskSQLiteRefusals(t *testing.T) {
	good := legacyHashes(t)[2].Hash
	db := newDB(t)
	file := flaskDB(t, [][]any{
		{1, "ann@example.com", good, "ann"},
		{5, "bea@example.com", "bea-password", "bea"},
		{9, "not an email", good, "Cy Young"},
		{12, "dan@example.com", nil, "dan"},
		{13, "eve@example.com", good, nil},
	})
	r := latchRun(t, db, "", "import", "-format", "flask-sqlite", file)
	want := `imported 1 user, refused 4
password hashes: werkzeug-pbkdf2 1 (each verified as it is and upgraded to argon2id at the user's next login)
refused:
  row id 5: password_hash is not a hash latch can verify (plain text, or an unknown format)
  row id 9: username "Cy Young" is not valid: want 3 to 32 letters, digits, _ . or - (-fix-usernames makes one); email "not an email" is not a valid address
  row id 12: no password_hash
  row id 13: username "" is not valid: want 3 to 32 letters, digits, _ . or - (-fix-usernames makes one)
`
	r.fails(t, "import: 4 rows refused")
	if r.out != want {
		t.Errorf("output:\n%s\nwant:\n%s", r.out, want)
	}
	// With -fix-usernames, the names become usernames, and the mapping is
	// reported.
	db = newDB(t)
	r = latchRun(t, db, "", "import", "-fix-usernames", file)
	for _, want := range []string{
		"imported 2 users, refused 3\n",
		"usernames made valid (-fix-usernames):\n  row id 13: \"\" -> user\n",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("no %q in\n%s", want, r.out)
		}
	}
}

func TestImportDryRun(t *testing.T) {
	good := legacyHashes(t)[0].Hash
	db := newDB(t)
	file := writeFile(t, "users.csv", "username,email,password_hash\nann,ann@example.com,"+good+"\nbea,bea@example.com,"+good+"\nJane Doe,jane@example.com,"+good+"\n")
	r := latchRun(t, db, "", "import", "-dry-run", "-fix-usernames", file).ok(t)
	if !strings.HasPrefix(r.out, "dry run: would import 3 users, refused 0; nothing was written\n") ||
		!strings.Contains(r.out, `line 4: "Jane Doe" -> Jane_Doe`) {
		t.Errorf("output:\n%s", r.out)
	}
	if n := userCount(t, db); n != 0 {
		t.Errorf("a dry run wrote %d users", n)
	}
	// A dry run reports refusals with exit status 1 all the same.
	bad := writeFile(t, "bad.csv", "username,email,password_hash\nann,ann@example.com,"+good+"\nbea,bea@,"+good+"\n")
	latchRun(t, db, "", "import", "-dry-run", bad).fails(t, "1 row refused")
	if n := userCount(t, db); n != 0 {
		t.Errorf("a dry run wrote %d users", n)
	}
}

func TestImportAllOrNothing(t *testing.T) {
	good := legacyHashes(t)[0].Hash
	db := newDB(t)
	file := writeFile(t, "users.csv", "username,email,password_hash\nann,ann@example.com,"+good+"\nbea,bea@example.com,"+good+"\ncy,cy@example.com,"+good+"\n")
	r := latchRun(t, db, "", "import", "-all-or-nothing", file)
	r.fails(t, "1 row refused")
	if !strings.HasPrefix(r.out, "imported 0 users, refused 1\n-all-or-nothing: the 2 rows that passed were not imported either\n") {
		t.Errorf("output:\n%s", r.out)
	}
	if n := userCount(t, db); n != 0 {
		t.Errorf("%d users imported", n)
	}
	// Without the flag the valid rows go in.
	latchRun(t, db, "", "import", file).fails(t, "1 row refused")
	if n := userCount(t, db); n != 2 {
		t.Errorf("%d users imported", n)
	}
}

func TestImportFileErrors(t *testing.T) {
	good := legacyHashes(t)[0].Hash
	db := newDB(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "want FILE"},
		{[]string{"import", filepath.Join(t.TempDir(), "missing.csv")}, "no such file"},
		{[]string{"import", writeFile(t, "users.txt", "x")}, "-format"},
		{[]string{"import", "-format", "xml", writeFile(t, "users.csv", "x")}, `unknown format "xml"`},
		{[]string{"import", writeFile(t, "users.csv", "username,email\nann,ann@example.com\n")}, "line 1: the header has no password_hash column"},
		{[]string{"import", writeFile(t, "users.csv", "username,email,password_hash\nann,\"ann@example.com,"+good+"\n")}, "line 2"},
		{[]string{"import", writeFile(t, "users.json", "[{\"username\": \"ann\"},\n{]")}, "line 2"},
		{[]string{"import", writeFile(t, "users.json", `{"users": []}`)}, "want an array"},
		{[]string{"import", writeFile(t, "app.db", "not a database")}, "app.db"},
		{[]string{"import", "-"}, "stdin has no extension"},
		{[]string{"import", "-format", "flask-sqlite", "-"}, "cannot be read from stdin"},
	} {
		latchRun(t, db, "", tt.args...).fails(t, tt.want)
	}
	if n := userCount(t, db); n != 0 {
		t.Errorf("%d users imported from broken files", n)
	}
	// stdin, with the format given.
	r := latchRun(t, db, "username,email,password_hash\nann,ann@example.com,"+good+"\n", "import", "-format", "csv", "-").ok(t)
	if !strings.HasPrefix(r.out, "imported 1 user, refused 0") {
		t.Errorf("stdin: %s", r.out)
	}
	r = latchRun(t, db, `[{"username":"bea","email":"bea@example.com","password_hash":"`+good+`"}]`, "import", "-", "-format=json").ok(t)
	if !strings.HasPrefix(r.out, "imported 1 user, refused 0") {
		t.Errorf("stdin: %s", r.out)
	}
}
