package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/latchgo/latch/internal/importer"
)

func runImport(ctx context.Context, args []string, getenv func(string) string, std stdio) error {
	c := newCommand("latch import", "FILE", 1,
		"Import users from another application, such as a Flask-Login one, keeping their\n"+
			"password hashes (werkzeug, Django, bcrypt, argon2): each is verified as it is\n"+
			"and replaced by argon2id at the user's next login.\n\n"+
			"FILE is CSV with a header username,email,password_hash[,created_at] (.csv),\n"+
			"a JSON array of objects with those keys (.json), or the SQLite database of a\n"+
			"Flask-SQLAlchemy app (.db, .sqlite, .sqlite3), whose user (or users) table is\n"+
			"read directly; \"-\" reads CSV or JSON from stdin. created_at is RFC 3339 or\n"+
			"2006-01-02 15:04:05[.999999] (UTC); empty means now.\n\n"+
			"Rows with an invalid username or email, an unknown or plain-text password, a\n"+
			"bad created_at, or an email or username that is taken are refused and listed\n"+
			"with their line (CSV), item (JSON) or row id (SQLite); the others are imported.\n"+
			"The exit status is 1 if any row was refused.")
	format := c.flags.String("format", "", "csv, json or flask-sqlite (default: from FILE's extension)")
	dryRun := c.flags.Bool("dry-run", false, "check every row and report, but write nothing")
	fix := c.flags.Bool("fix-usernames", false, "turn names that are not valid usernames (\"Jane Doe\") into valid ones,\nand number taken ones (\"jane2\"), instead of refusing the row")
	allOrNothing := c.flags.Bool("all-or-nothing", false, "import nothing if any row is refused")
	confirmed := c.flags.Bool("confirmed", false, "mark the imported email addresses as confirmed (default: unconfirmed)")
	cfg, pos, err := c.parse(args, getenv, std.errOut)
	if err != nil {
		return err
	}
	file := pos[0]
	var f importer.Format
	switch {
	case *format != "":
		f, err = importer.ParseFormat(*format)
	case file == "-":
		err = errors.New("stdin has no extension to tell its format by")
	default:
		f, err = importer.FormatOf(file)
	}
	if err != nil {
		return fmt.Errorf("import: -format: %w", err)
	}
	// Read the whole file before touching the database: a file that
	// cannot be read changes nothing.
	var recs []importer.Record
	switch {
	case file != "-":
		recs, err = importer.ReadFile(ctx, file, f)
	case f == importer.CSV:
		recs, err = importer.ReadCSV(std.in)
	case f == importer.JSON:
		recs, err = importer.ReadJSON(std.in)
	default:
		err = errors.New("a flask-sqlite database cannot be read from stdin")
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	a, err := openAdmin(ctx, cfg, std.errOut)
	if err != nil {
		return err
	}
	defer a.close()
	now := time.Now().UTC()
	plan, err := importer.Check(ctx, a.store, recs, importer.Options{FixUsernames: *fix, Now: now})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	rep := importReport{plan: plan, refused: plan.Refuse, dryRun: *dryRun}
	switch {
	case *dryRun:
	case *allOrNothing && len(plan.Refuse) > 0:
		rep.withheld = len(plan.Accept)
	default:
		res, err := importer.Create(ctx, a.store, plan, importer.CreateOptions{
			Confirmed: *confirmed, AllOrNothing: *allOrNothing, Now: now,
		})
		rep.created = len(res.Created)
		source := filepath.Base(file)
		if file == "-" {
			source = "stdin"
		}
		for _, c := range res.Created {
			a.audit(ctx, c.User.ID, "imported", "imported from "+source+" by an administrator")
		}
		rep.refused = append(rep.refused, res.Refused...)
		if *allOrNothing && len(res.Refused) > 0 {
			rep.withheld = len(plan.Accept) - len(res.Refused)
		}
		if err != nil {
			rep.print(std.out)
			return fmt.Errorf("import: stopped: %w", err)
		}
	}
	rep.print(std.out)
	if n := len(rep.refused); n > 0 {
		return fmt.Errorf("import: %s refused", plural(n, "row", "rows"))
	}
	return nil
}

// importReport is what `latch import` prints.
type importReport struct {
	plan     *importer.Plan
	refused  []importer.Refusal
	created  int
	withheld int // valid rows not imported because of -all-or-nothing
	dryRun   bool
}

func (r *importReport) print(w io.Writer) {
	slices.SortStableFunc(r.refused, func(a, b importer.Refusal) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Index, b.Pos.Index), cmp.Compare(a.Pos.RowID, b.Pos.RowID))
	})
	if r.dryRun {
		fmt.Fprintf(w, "dry run: would import %s, refused %d; nothing was written\n", plural(len(r.plan.Accept), "user", "users"), len(r.refused))
	} else {
		fmt.Fprintf(w, "imported %s, refused %d\n", plural(r.created, "user", "users"), len(r.refused))
	}
	if r.withheld > 0 {
		fmt.Fprintf(w, "-all-or-nothing: the %s that passed were not imported either\n", plural(r.withheld, "row", "rows"))
	}
	if len(r.plan.Accept) > 0 {
		formats := map[string]int{}
		for _, c := range r.plan.Accept {
			formats[c.HashFormat.String()]++
		}
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(formats)) {
			parts = append(parts, fmt.Sprintf("%s %d", name, formats[name]))
		}
		fmt.Fprintf(w, "password hashes: %s (each verified as it is and upgraded to argon2id at the user's next login)\n", strings.Join(parts, ", "))
	}
	if renamed := r.plan.Renamed(); len(renamed) > 0 {
		fmt.Fprintf(w, "usernames made valid (-fix-usernames):\n")
		for _, c := range renamed {
			fmt.Fprintf(w, "  %s: %s -> %s\n", c.Pos, quote(c.From), c.User.Username)
		}
	}
	if len(r.refused) > 0 {
		fmt.Fprintf(w, "refused:\n")
		for _, x := range r.refused {
			fmt.Fprintf(w, "  %s\n", x)
		}
	}
}

// quote quotes a value from an import file for the terminal, shortened.
func quote(s string) string {
	if len(s) > 64 {
		s = strings.ToValidUTF8(s[:64], "") + "…"
	}
	return fmt.Sprintf("%q", s)
}
