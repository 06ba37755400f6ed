package importer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/importer"
	"github.com/latchgo/latch/password"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func fileInfo(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d bytes, modified %v, %x", fi.Size(), fi.ModTime(), b[:min(len(b), 64)])
}

func TestFixUsername(t *testing.T) {
	for in, want := range map[string]string{
		"Jane Doe":                    "Jane_Doe",
		"  Jane   Doe  ":              "Jane_Doe",
		"José Ñúñez":                  "Jose_Nunez",
		"ｆｕｌｌ":                        "full",
		"o'brien":                     "o_brien",
		"Al":                          "Al_",
		"x":                           "x__",
		"":                            "user",
		"李小龍":                         "user",
		"李 ab":                        "ab_",
		"already_ok.name-1":           "already_ok.name-1",
		strings.Repeat("a", 40):       strings.Repeat("a", 32),
		"a" + strings.Repeat("é", 40): "a" + strings.Repeat("e", 31),
		"mail@example.com":            "mail_example.com",
	} {
		got := importer.FixUsername(in)
		if got != want {
			t.Errorf("FixUsername(%q) = %q, want %q", in, got, want)
		}
		if msg := account.ValidateUsername(got); msg != "" {
			t.Errorf("FixUsername(%q) = %q, not valid: %s", in, got, msg)
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                                 now,
		"2023-01-02T03:04:05Z":             time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC),
		"2023-01-02T03:04:05.5+02:00":      time.Date(2023, 1, 2, 1, 4, 5, 5e8, time.UTC),
		"2023-01-02 03:04:05":              time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC),
		"2023-01-02 03:04:05.123456":       time.Date(2023, 1, 2, 3, 4, 5, 123456000, time.UTC),
		"2023-01-02T03:04:05.123456":       time.Date(2023, 1, 2, 3, 4, 5, 123456000, time.UTC),
		"2023-01-02 03:04:05.123456+00:00": time.Date(2023, 1, 2, 3, 4, 5, 123456000, time.UTC),
		" 2023-01-02 03:04:05 ":            time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC),
	} {
		got, err := importer.ParseTime(in, now)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"2023-13-01", "yesterday", "2023-01-02", "1700000000", "2023-01-02 25:00:00", "2030-01-01T00:00:00Z"} {
		if got, err := importer.ParseTime(in, now); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", in, got)
		}
	}
}

func csvRecs(t *testing.T, rows ...string) []importer.Record {
	t.Helper()
	recs, err := importer.ReadCSV(strings.NewReader("username,email,password_hash,created_at\n" + strings.Join(rows, "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// reasons maps "line N" to the reason of each refusal.
func reasons(p *importer.Plan) map[string]string {
	m := map[string]string{}
	for _, r := range p.Refuse {
		m[r.Pos.String()] = r.Reason
	}
	return m
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	db := newMemStore(account.User{Username: "taken", Email: "taken@example.com"})
	recs := csvRecs(t,
		"alice, Alice@Example.com ,"+werkzeugHash+",2023-01-02 03:04:05", // line 2: fine
		"Bob Smith,bob@example.com,"+bcryptHash+",",                      // 3: invalid username
		"carol,not-an-email,"+bcryptHash+",",                             // 4
		"dave,dave@example.com,hunter2hunter2,",                          // 5: plain text
		"erin,erin@example.com,pbkdf2:sha256:x$y$z,",                     // 6: malformed werkzeug
		"frank,frank@example.com,"+djangoHash+",2023-02-30",              // 7: bad time
		"ALICE,alice2@example.com,"+bcryptHash+",",                       // 8: username also on 2
		"alice3,ALICE@example.com,"+bcryptHash+",",                       // 9: email also on 2
		"Taken,new@example.com,"+bcryptHash+",",                          // 10: username in the database
		"newbie,TAKEN@example.com,"+bcryptHash+",",                       // 11: email in the database
		",,,",                   // 12: empty
		"gina,gina@example.com", // 13: short
	)
	plan, err := importer.Check(ctx, db, recs, importer.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Accept) != 1 {
		t.Fatalf("accepted %+v", plan.Accept)
	}
	got := plan.Accept[0]
	want := account.User{Username: "alice", Email: "Alice@Example.com", PasswordHash: werkzeugHash, CreatedAt: time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)}
	if got.User != want || got.HashFormat != password.FormatWerkzeugPBKDF2 || got.Pos.Line != 2 || got.Fixed || got.From != "" {
		t.Errorf("accepted %+v, want %+v", got, want)
	}
	r := reasons(plan)
	for line, want := range map[string]string{
		"line 3":  `username "Bob Smith" is not valid`,
		"line 4":  `email "not-an-email" is not a valid address`,
		"line 5":  "password_hash is not a hash latch can verify",
		"line 6":  "password_hash looks like werkzeug-pbkdf2 but is malformed",
		"line 7":  `created_at "2023-02-30" is not a time`,
		"line 8":  `username "ALICE" is also on line 2`,
		"line 9":  `email "ALICE@example.com" is also on line 2`,
		"line 10": `username "Taken" is taken`,
		"line 11": `email "TAKEN@example.com" already has an account`,
		"line 12": "no email; no password_hash",
		"line 13": "missing column password_hash",
	} {
		if !strings.Contains(r[line], want) {
			t.Errorf("%s: reason %q, want it to contain %q", line, r[line], want)
		}
		delete(r, line)
	}
	if len(r) > 0 {
		t.Errorf("unexpected refusals: %v", r)
	}
	for _, x := range plan.Refuse {
		if strings.Contains(x.Reason, "hunter2") || strings.Contains(x.Reason, "pbkdf2:sha256:x") {
			t.Errorf("a reason shows the password or hash: %s", x)
		}
	}
}

func TestCheckFixUsernames(t *testing.T) {
	ctx := context.Background()
	db := newMemStore(
		account.User{Username: "Jane_Doe", Email: "old@example.com"},
		account.User{Username: "bob", Email: "bob-old@example.com"},
	)
	recs := csvRecs(t,
		"Jane Doe,j1@example.com,"+bcryptHash+",",  // 2: Jane_Doe is in the database
		"Jane Doe,j2@example.com,"+bcryptHash+",",  // 3
		"Jane_Doe3,j3@example.com,"+bcryptHash+",", // 4: valid, keeps its name although 2 and 3 come first
		"José,jose@example.com,"+bcryptHash+",",    // 5
		"bob,bob@example.com,"+bcryptHash+",",      // 6: bob is in the database
		"Al,al@example.com,"+bcryptHash+",",        // 7
		"al_,al2@example.com,"+bcryptHash+",",      // 8: valid, so Al becomes al_2
		"x y,bad-email,"+bcryptHash+",",            // 9: refused for its email, takes no name
		"x_y,xy@example.com,"+bcryptHash+",",       // 10
	)
	plan, err := importer.Check(ctx, db, recs, importer.Options{FixUsernames: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, c := range plan.Accept {
		got[c.Pos.Line] = c.User.Username + " from " + c.From
		if msg := account.ValidateUsername(c.User.Username); msg != "" {
			t.Errorf("line %d: %q: %s", c.Pos.Line, c.User.Username, msg)
		}
	}
	want := map[int]string{
		2:  "Jane_Doe2 from Jane Doe",
		3:  "Jane_Doe4 from Jane Doe",
		4:  "Jane_Doe3 from ",
		5:  "Jose from José",
		6:  "bob2 from bob",
		7:  "Al_2 from Al",
		8:  "al_ from ",
		10: "x_y from ",
	}
	for line, w := range want {
		if got[line] != w {
			t.Errorf("line %d: %q, want %q", line, got[line], w)
		}
	}
	if len(got) != len(want) || len(plan.Refuse) != 1 || plan.Refuse[0].Pos.Line != 9 {
		t.Errorf("accepted %v, refused %v", got, plan.Refuse)
	}
	if n := len(plan.Renamed()); n != 5 {
		t.Errorf("Renamed: %d", n)
	}
}

func TestCheckSuffixKeepsLengthLimit(t *testing.T) {
	long := strings.Repeat("n", 40)
	var rows []string
	for i := range 12 {
		rows = append(rows, fmt.Sprintf("%s,u%d@example.com,%s,", long, i, bcryptHash))
	}
	plan, err := importer.Check(context.Background(), newMemStore(), csvRecs(t, rows...), importer.Options{FixUsernames: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range plan.Accept {
		if msg := account.ValidateUsername(c.User.Username); msg != "" || seen[c.User.Username] {
			t.Errorf("%q: %s (seen %v)", c.User.Username, msg, seen[c.User.Username])
		}
		seen[c.User.Username] = true
	}
	if len(plan.Accept) != 12 || !seen[strings.Repeat("n", 30)+"11"] {
		t.Errorf("accepted %v", seen)
	}
}

type failingLookup struct{}

func (failingLookup) UsernameTaken(context.Context, string) (bool, error) {
	return false, errors.New("database is down")
}

func (failingLookup) UserByEmail(context.Context, string) (*account.User, error) {
	return nil, errors.New("database is down")
}

// TestCheckLookalikeUsernames: a username that looks like one earlier in
// the file, or like an account's, is refused (or renamed with
// -fix-usernames), before CreateUser would refuse it.
func TestCheckLookalikeUsernames(t *testing.T) {
	db := newMemStore(account.User{Username: "alice", Email: "alice@example.com", PasswordHash: bcryptHash})
	recs := csvRecs(t, "b0b,bob0@example.com,"+bcryptHash+",\nbob,bob@example.com,"+bcryptHash+",\na1ice,a1@example.com,"+bcryptHash+",")
	plan, err := importer.Check(context.Background(), db, recs, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Accept) != 1 || plan.Accept[0].User.Username != "b0b" || len(plan.Refuse) != 2 {
		t.Fatalf("accepted %+v, refused %+v", plan.Accept, plan.Refuse)
	}
	for _, r := range plan.Refuse {
		if !strings.Contains(r.Reason, "looks like") {
			t.Errorf("refusal %q", r.Reason)
		}
	}
	plan, err = importer.Check(context.Background(), db, recs, importer.Options{FixUsernames: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Accept) != 3 || plan.Accept[1].User.Username != "bob2" || plan.Accept[2].User.Username != "a1ice2" {
		t.Errorf("with -fix-usernames: %+v", plan.Accept)
	}
}

func TestCheckDatabaseError(t *testing.T) {
	_, err := importer.Check(context.Background(), failingLookup{}, csvRecs(t, "alice,a@example.com,"+bcryptHash+","), importer.Options{})
	if err == nil || !strings.Contains(err.Error(), "database is down") {
		t.Errorf("err = %v", err)
	}
}

func TestCheckLegacyHashes(t *testing.T) {
	var rows []string
	for i, v := range legacyHashes(t) {
		rows = append(rows, fmt.Sprintf("user%d,user%d@example.com,%s,", i, i, v.Hash))
	}
	plan, err := importer.Check(context.Background(), newMemStore(), csvRecs(t, rows...), importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Refuse) > 0 || len(plan.Accept) != len(rows) {
		t.Fatalf("refused %v", plan.Refuse)
	}
	for _, c := range plan.Accept {
		if c.HashFormat == password.FormatUnknown || c.HashFormat == password.FormatArgon2id {
			t.Errorf("%s: format %v", c.Pos, c.HashFormat)
		}
	}
}
