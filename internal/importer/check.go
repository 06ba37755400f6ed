package importer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/password"
)

// Lookup is what Check asks of the database; account.Store has it.
type Lookup interface {
	// UsernameTaken reports whether an account has this username, or one
	// that looks the same (account.UsernameSkeleton).
	UsernameTaken(ctx context.Context, username string) (bool, error)
	// UserByEmail matches case-insensitively and returns an error
	// wrapping account.ErrNotFound when there is no such user.
	UserByEmail(ctx context.Context, email string) (*account.User, error)
}

// Options adjust Check.
type Options struct {
	// FixUsernames derives a valid username from one that is not ("Jane
	// Doe" becomes "Jane_Doe", "José" "Jose"; see FixUsername), and gives
	// a username already used earlier in the file or by an account in the
	// database a numeric suffix ("jane2"), instead of refusing the
	// record. Flask-Login applications often keep a free-form display
	// name where latch wants a username. Each change is reported in
	// Candidate.Fixed and From.
	FixUsernames bool
	// Now is the creation time of records without one, and the time
	// after which (with a day of grace for clock skew) a creation time
	// is refused as in the future. Default time.Now().
	Now time.Time
}

// Candidate is a record that passed every check.
type Candidate struct {
	Pos Position
	// User is ready for account.Store.CreateUser: Username, Email,
	// PasswordHash (the legacy hash as it was) and CreatedAt are set.
	User account.User
	// HashFormat is the format of User.PasswordHash.
	HashFormat password.Format
	// Fixed reports that Options.FixUsernames changed the username; From
	// is then the username as the file had it (maybe "").
	Fixed bool
	From  string
}

// Refusal is a record that will not be imported, and why. Reason never
// contains a password hash.
type Refusal struct {
	Pos    Position
	Reason string
}

func (r Refusal) String() string { return r.Pos.String() + ": " + r.Reason }

// Plan is what Check decided, in the order of the file.
type Plan struct {
	Accept []Candidate
	Refuse []Refusal
}

// Renamed returns the accepted candidates whose username FixUsernames
// changed.
func (p *Plan) Renamed() []Candidate {
	var out []Candidate
	for _, c := range p.Accept {
		if c.Fixed {
			out = append(out, c)
		}
	}
	return out
}

// Check validates records and decides which to import:
//
//   - the username must be valid (account.ValidateUsername), unless
//     opt.FixUsernames derives one;
//   - the email must be valid (account.NormalizeEmail), and is stored in
//     its normalised form;
//   - the password hash must be one latch can verify
//     (password.Identify): a plain-text password or an unknown format is
//     refused, never stored;
//   - created_at must be empty (now), RFC 3339, or SQLAlchemy's
//     "2006-01-02 15:04:05[.999999]" taken as UTC, and not in the future;
//   - an email or username used by an earlier record of the file or by
//     an account in the database (compared case-insensitively) is
//     refused: the first record in the file keeps it.
//
// Every reason found for a record is reported. An error is returned only
// when the database cannot be asked.
func Check(ctx context.Context, db Lookup, recs []Record, opt Options) (*Plan, error) {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	cands := make([]Candidate, len(recs))
	validName := make([]bool, len(recs))
	reasons := make([][]string, len(recs))
	alive := func(i int) bool { return len(reasons[i]) == 0 }
	for i, r := range recs {
		cands[i], validName[i], reasons[i] = checkRecord(r, now, opt.FixUsernames)
	}

	// Emails: the first record in the file keeps one; the database's
	// accounts keep theirs.
	emails := map[string]Position{}
	for i := range recs {
		if !alive(i) {
			continue
		}
		email := cands[i].User.Email
		key := strings.ToLower(email)
		if p, dup := emails[key]; dup {
			reasons[i] = append(reasons[i], fmt.Sprintf("email %s is also on %s", show(email), p))
			continue
		}
		emails[key] = cands[i].Pos
		switch _, err := db.UserByEmail(ctx, email); {
		case err == nil:
			reasons[i] = append(reasons[i], fmt.Sprintf("email %s already has an account", show(email)))
		case !errors.Is(err, account.ErrNotFound):
			return nil, fmt.Errorf("look up email: %w", err)
		}
	}

	// Usernames: first the records whose username is valid keep it, in
	// file order, unless the database has it; only then are names made
	// for the others, so that a made-up name never takes one a later
	// record has.
	// Names are the same when they are equal ignoring case, or look the
	// same (b0b, bob: account.UsernameSkeleton), as CreateUser finds.
	claimed := map[string]Position{}
	claimedName := map[string]string{}
	keys := func(name string) [2]string {
		return [2]string{"lower:" + strings.ToLower(name), "skeleton:" + account.UsernameSkeleton(name)}
	}
	find := func(name string) (Position, string, bool) {
		for _, k := range keys(name) {
			if p, ok := claimed[k]; ok {
				return p, claimedName[k], true
			}
		}
		return Position{}, "", false
	}
	claim := func(name string, p Position) {
		for _, k := range keys(name) {
			claimed[k], claimedName[k] = p, name
		}
	}
	dbHas := map[string]bool{}
	inDB := func(name string) (bool, error) {
		k := strings.ToLower(name)
		if has, ok := dbHas[k]; ok {
			return has, nil
		}
		taken, err := db.UsernameTaken(ctx, name)
		if err != nil {
			return false, fmt.Errorf("look up username: %w", err)
		}
		dbHas[k] = taken
		return taken, nil
	}
	var rename []int
	for i := range recs {
		if !alive(i) {
			continue
		}
		if !validName[i] {
			rename = append(rename, i)
			continue
		}
		name := cands[i].User.Username
		if p, other, dup := find(name); dup {
			switch {
			case opt.FixUsernames:
				rename = append(rename, i)
			case strings.EqualFold(other, name):
				reasons[i] = append(reasons[i], fmt.Sprintf("username %s is also on %s", show(name), p))
			default:
				reasons[i] = append(reasons[i], fmt.Sprintf("username %s looks like %s on %s", show(name), show(other), p))
			}
			continue
		}
		taken, err := inDB(name)
		if err != nil {
			return nil, err
		}
		if taken {
			if opt.FixUsernames {
				rename = append(rename, i)
			} else {
				reasons[i] = append(reasons[i], fmt.Sprintf("username %s is taken by an existing account (or looks like one)", show(name)))
			}
			continue
		}
		claim(name, cands[i].Pos)
	}
	next := map[string]int{} // the next suffix to try for a base name
	for _, i := range rename {
		from := cands[i].User.Username
		base := FixUsername(from)
		name, n := base, max(next[strings.ToLower(base)], 2)
		for {
			_, _, dup := find(name)
			if !dup {
				taken, err := inDB(name)
				if err != nil {
					return nil, err
				}
				if !taken {
					break
				}
			}
			name = withSuffix(base, n)
			n++
		}
		next[strings.ToLower(base)] = n
		claim(name, cands[i].Pos)
		cands[i].User.Username, cands[i].From, cands[i].Fixed = name, from, true
	}

	plan := &Plan{}
	for i := range recs {
		if alive(i) {
			plan.Accept = append(plan.Accept, cands[i])
		} else {
			plan.Refuse = append(plan.Refuse, Refusal{Pos: recs[i].Pos, Reason: strings.Join(reasons[i], "; ")})
		}
	}
	return plan, nil
}

// checkRecord checks what can be checked of one record alone. nameValid
// reports whether the username is usable as it is; when it is not and
// fix is set, that is not a reason to refuse.
func checkRecord(r Record, now time.Time, fix bool) (c Candidate, nameValid bool, reasons []string) {
	c.Pos = r.Pos
	if r.Problem != "" {
		return c, false, []string{r.Problem}
	}
	c.User.Username = strings.TrimSpace(r.Username)
	nameValid = account.ValidateUsername(c.User.Username) == ""
	if !nameValid && !fix {
		reasons = append(reasons, fmt.Sprintf("username %s is not valid: want 3 to 32 letters, digits, _ . or - (-fix-usernames makes one)", show(c.User.Username)))
	}
	if strings.TrimSpace(r.Email) == "" {
		reasons = append(reasons, "no email")
	} else if email, msg := account.NormalizeEmail(r.Email); msg != "" {
		reasons = append(reasons, fmt.Sprintf("email %s is not a valid address", show(r.Email)))
	} else {
		c.User.Email = email
	}
	h := strings.TrimSpace(r.PasswordHash)
	f, err := password.Identify(h)
	switch {
	case h == "":
		reasons = append(reasons, "no password_hash")
	case f == password.FormatUnknown:
		// Never echo the value: it may well be a plain-text password.
		reasons = append(reasons, "password_hash is not a hash latch can verify (plain text, or an unknown format)")
	case err != nil:
		reasons = append(reasons, fmt.Sprintf("password_hash looks like %s but is malformed", f))
	default:
		c.User.PasswordHash, c.HashFormat = h, f
	}
	t, err := ParseTime(r.CreatedAt, now)
	if err != nil {
		reasons = append(reasons, err.Error())
	} else {
		c.User.CreatedAt = t
	}
	return c, nameValid, reasons
}

// timeLayouts are the creation-time spellings ParseTime accepts besides
// RFC 3339: what SQLAlchemy's DateTime stores in SQLite (str() of a naive
// datetime) and Python's isoformat() of one. Go accepts a fractional
// second after the seconds even when the layout has none.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
}

// ParseTime reads a creation time: "" is now; RFC 3339; or
// "2006-01-02 15:04:05[.999999]" (also with a T, or with a zone offset),
// which without a zone is taken as UTC. A time more than a day after now
// is refused.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return now.UTC(), nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if t.After(now.Add(24 * time.Hour)) {
				return time.Time{}, fmt.Errorf("created_at %s is in the future", show(s))
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("created_at %s is not a time: want RFC 3339 or 2006-01-02 15:04:05", show(s))
}

// FixUsername derives a valid username from a name that may not be one:
// accents are dropped ("José" → "Jose"), compatibility characters
// simplified (full-width letters, ligatures), every run of other
// characters that a username cannot hold becomes one "_" ("Jane Doe" →
// "Jane_Doe"; none at either end), the result is cut to 32 bytes, padded
// with "_" to 3, and "user" stands in for a name with nothing usable.
// Unique suffixes are Check's business.
func FixUsername(name string) string {
	var b strings.Builder
	pending := false
	for _, r := range norm.NFKD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining mark left by the decomposition of a letter
		case r < utf8.RuneSelf && usernameByte(byte(r)):
			if pending {
				b.WriteByte('_')
				pending = false
			}
			b.WriteRune(r)
		default:
			pending = b.Len() > 0
		}
		if b.Len() >= account.UsernameMax {
			break
		}
	}
	s := b.String()
	if len(s) > account.UsernameMax {
		s = s[:account.UsernameMax]
	}
	if s == "" {
		return "user"
	}
	for len(s) < account.UsernameMin {
		s += "_"
	}
	return s
}

func usernameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
}

// withSuffix appends n to base, shortening base to stay within the
// username length limit.
func withSuffix(base string, n int) string {
	s := strconv.Itoa(n)
	if len(base)+len(s) > account.UsernameMax {
		base = base[:account.UsernameMax-len(s)]
	}
	return base + s
}

// show quotes a value from the file for a message: escaped, so that it
// cannot play tricks on a terminal, and shortened.
func show(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
