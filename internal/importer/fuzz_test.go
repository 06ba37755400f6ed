package importer_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/importer"
	"github.com/latchgo/latch/password"
)

// checkAccepted is the property of every fuzz target: whatever the input,
// Check accepts only records with a valid username, a valid normalised
// email and a hash latch can verify, never two with the same username or
// email, and gives every other record a reason.
func checkAccepted(t *testing.T, recs []importer.Record, fix bool) {
	db := newMemStore(account.User{Username: "taken", Email: "taken@example.com"})
	plan, err := importer.Check(context.Background(), db, recs, importer.Options{FixUsernames: fix, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Accept)+len(plan.Refuse) != len(recs) {
		t.Fatalf("%d records, %d accepted, %d refused", len(recs), len(plan.Accept), len(plan.Refuse))
	}
	names, emails := map[string]bool{"taken": true}, map[string]bool{"taken@example.com": true}
	for _, c := range plan.Accept {
		u := c.User
		if msg := account.ValidateUsername(u.Username); msg != "" {
			t.Errorf("%s: accepted username %q: %s", c.Pos, u.Username, msg)
		}
		if e, msg := account.NormalizeEmail(u.Email); msg != "" || e != u.Email {
			t.Errorf("%s: accepted email %q: %s", c.Pos, u.Email, msg)
		}
		if f, err := password.Identify(u.PasswordHash); err != nil || f == password.FormatUnknown || f != c.HashFormat {
			t.Errorf("%s: accepted a hash Identify says %v, %v of", c.Pos, f, err)
		}
		if u.CreatedAt.IsZero() || u.CreatedAt.Location() != time.UTC {
			t.Errorf("%s: created %v", c.Pos, u.CreatedAt)
		}
		n, e := strings.ToLower(u.Username), strings.ToLower(u.Email)
		if names[n] || emails[e] {
			t.Errorf("%s: %q / %q accepted twice or clashes with the database", c.Pos, u.Username, u.Email)
		}
		names[n], emails[e] = true, true
		if !fix && (c.Fixed || c.From != "") {
			t.Errorf("%s: renamed without FixUsernames", c.Pos)
		}
	}
	for _, r := range plan.Refuse {
		if r.Reason == "" || strings.Contains(r.Reason, "\n") {
			t.Errorf("%s: reason %q", r.Pos, r.Reason)
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("username,email,password_hash,created_at\nalice,a@example.com,"+werkzeugHash+",2023-01-02 03:04:05\n"), false)
	f.Add([]byte("email,name,password\n\"a@example.com\",\"Jane Doe\","+bcryptHash+"\nA@EXAMPLE.COM,Jane Doe,"+djangoHash+"\n"), true)
	f.Add([]byte("username,email,password_hash\ntaken,b@example.com,"+bcryptHash+"\nx,y\n\"bob\nsmith\",b@x.io,$2b$04$\n"), true)
	f.Add([]byte("\ufeffUSERNAME,Email,Password_Hash,created_at,x\nal,a@b.co,plain,2023-01-02T03:04:05Z,\n"), false)
	f.Add([]byte("username,email,password_hash\n\"unterminated\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		recs, err := importer.ReadCSV(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.Pos.Format != importer.CSV || r.Pos.Line < 2 {
				t.Errorf("position %+v", r.Pos)
			}
		}
		checkAccepted(t, recs, fix)
	})
}

func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(`[{"username":"alice","email":"a@example.com","password_hash":"`+werkzeugHash+`","created_at":"2023-01-02 03:04:05"}]`), false)
	f.Add([]byte(`[{"name":"Jane Doe","email":"j@example.com","password":"`+bcryptHash+`"},{"name":"Jane Doe","email":"j2@example.com","password":"`+djangoHash+`"}]`), true)
	f.Add([]byte("[\n 1, null, {\"username\": 7}, {\"username\": \"taken\", \"email\": \"x@y.io\", \"password_hash\": \"$2b$\"}\n]"), true)
	f.Add([]byte(`[{"username":"a\u0000b","email":"a@example.com","password_hash":"x","created_at":null}] `), false)
	f.Add([]byte(`{"username":"x"}`), false)
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		recs, err := importer.ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		line := 0
		for i, r := range recs {
			if r.Pos.Format != importer.JSON || r.Pos.Index != i || r.Pos.Line < max(line, 1) {
				t.Errorf("position %+v after line %d", r.Pos, line)
			}
			line = r.Pos.Line
		}
		if n := bytes.Count(data, []byte("\n")) + 1; line > n {
			t.Errorf("line %d of a %d-line input", line, n)
		}
		checkAccepted(t, recs, fix)
	})
}
