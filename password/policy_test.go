package password_test

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/latchgo/latch/password"
)

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	ctxWords := []string{"alice_w", "Alice.Wonder@Example.org", "latch"}
	tests := []struct {
		name     string
		password string
		context  []string
		want     password.Reason // 0: accepted
	}{
		// Accepted: no composition rules (NIST SP 800-63B).
		{"all-lowercase passphrase", "correct horse battery staple", nil, 0},
		{"passphrase with spaces around", "  tulips in the rain  ", nil, 0},
		{"exactly 8 characters", "tg7#kq2z", nil, 0},
		{"Unicode only (CJK)", "雨の日の図書館で本", nil, 0},
		{"Unicode only (Cyrillic)", "ёжик в тумане", nil, 0},
		{"emoji", "🐢🌧️📚🔑🎈🌵🧲🪁", nil, 0},
		{"8 code points, 16 bytes", "éèêëēėęě", nil, 0},
		{"64 characters", strings.Repeat("abcd efgh ", 6) + "ijkl", nil, 0},
		{"1024 characters", strings.Repeat("q", 1023) + "w", nil, 0},
		{"short context words ignored", "al is my pal forever", []string{"al", "a@b"}, 0},
		{"context word not contained", "tulips in the rain", ctxWords, 0},

		{"empty", "", nil, password.TooShort},
		{"7 characters", "tg7#kq2", nil, password.TooShort},
		{"7 code points in 14 bytes", "éèêëēėę", nil, password.TooShort},
		{"decomposed characters count once", strings.Repeat("e\u0301", 7), nil, password.TooShort},
		{"1025 characters", strings.Repeat("q", 1024) + "w", nil, password.TooLong},
		{"over MaxBytes", strings.Repeat("q", password.MaxBytes+1), nil, password.TooLong},
		{"1 MB", strings.Repeat("q", 1<<20), nil, password.TooLong},

		{"common", "password", nil, password.Common},
		{"common, other case", "PassWord123", nil, password.Common},
		{"common digits", "12345678", nil, password.Common},
		{"common, fullwidth (NFKC)", "ｐａｓｓｗｏｒｄ", nil, password.Common},
		{"common, 10 characters", "1q2w3e4r5t", nil, password.Common},

		{"repeated character", "aaaaaaaa", nil, password.Repetitive},
		{"repeated character, mixed case", "AaAaAaAaAa", nil, password.Repetitive},
		{"repeated space", "            ", nil, password.Repetitive},
		{"repeated emoji", strings.Repeat("🙂", 12), nil, password.Repetitive},
		{"digit run wrapping", "123456789012345", nil, password.Repetitive},
		{"keyboard rows", "qwertyuiopasdfgh", nil, password.Repetitive},
		{"keyboard rows, upper case", "QWERTYUIOPASDFGH", nil, password.Repetitive},
		{"alphabet backwards", "zyxwvutsrqpo", nil, password.Repetitive},
		{"digits backwards", "0987654321098", nil, password.Repetitive},
		{"keyboard columns", "3edc4rfv5tgb6yhn", nil, password.Repetitive},
		{"azerty row", "azertyuiopqsd", nil, password.Repetitive},

		{"contains username", "my name is alice_w!", ctxWords, password.Context},
		{"equals username, other case", "ALICE_W-ALICE_W", ctxWords, password.Context},
		{"contains email", "alice.wonder@example.org1", ctxWords, password.Context},
		{"contains email local part", "xx alice.wonder xx", ctxWords, password.Context},
		{"contains product name", "my latch password", ctxWords, password.Context},
		{"local part derived from email only", "bobby-tables-rules", []string{"Bobby-Tables@example.com"}, password.Context},
		{"context word NFKC", "ｌａｔｃｈ ｌａｔｃｈ", []string{"latch"}, password.Context},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := password.DefaultPolicy.Check(tt.password, tt.context...)
			if tt.want == 0 {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want accepted", tt.password, err)
				}
				return
			}
			var pe *password.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Check(%q) = %v, want a *PolicyError", tt.password, err)
			}
			if pe.Reason != tt.want {
				t.Errorf("Check(%q) reason = %v, want %v", tt.password, pe.Reason, tt.want)
			}
			if pe.Message == "" || !strings.HasSuffix(pe.Message, ".") {
				t.Errorf("Check(%q) message = %q, want a sentence for the user", tt.password, pe.Message)
			}
		})
	}
}

func TestPolicyMessages(t *testing.T) {
	t.Parallel()
	p, err := password.NewPolicy(15, 128)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pw      string
		context []string
		want    string
	}{
		{"short one", nil, "Use at least 15 characters."},
		{strings.Repeat("ab", 65), nil, "Use at most 128 characters."},
		{"passwordpassword", nil, "This password is too common; choose another."},
		{"alice in wonderland", []string{"alice"}, "Don't use your username, email or the site's name in your password."},
		{strings.Repeat("z", 20), nil, "Don't use one character repeated; choose another password."},
	}
	for _, tt := range tests {
		var pe *password.PolicyError
		if err := p.Check(tt.pw, tt.context...); !errors.As(err, &pe) || pe.Message != tt.want {
			t.Errorf("Check(%q) = %v, want message %q", tt.pw, err, tt.want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		min, max int
		ok       bool
	}{
		{8, 1024, true},
		{8, 64, true},
		{15, 64, true},
		{64, 64, true},
		{8, password.MaxBytes, true},
		{7, 1024, false},
		{0, 1024, false},
		{-1, 1024, false},
		{8, 63, false},
		{100, 80, false},
		{8, password.MaxBytes + 1, false},
	}
	for _, tt := range tests {
		p, err := password.NewPolicy(tt.min, tt.max)
		if (err == nil) != tt.ok {
			t.Errorf("NewPolicy(%d, %d) error = %v, want ok=%v", tt.min, tt.max, err, tt.ok)
		}
		if err == nil && (p.MinLength != tt.min || p.MaxLength != tt.max) {
			t.Errorf("NewPolicy(%d, %d) = %+v", tt.min, tt.max, p)
		}
	}
	if err := password.DefaultPolicy.Validate(); err != nil {
		t.Errorf("DefaultPolicy.Validate() = %v", err)
	}
}

// The zero Policy is DefaultPolicy; a Policy built without Validate still
// keeps the floor of 8.
func TestPolicyZeroAndUnvalidated(t *testing.T) {
	t.Parallel()
	var zero password.Policy
	if err := zero.Check("tulips in the rain"); err != nil {
		t.Errorf("zero Policy refused a good password: %v", err)
	}
	var pe *password.PolicyError
	if err := zero.Check("tulips"); !errors.As(err, &pe) || pe.Reason != password.TooShort {
		t.Errorf("zero Policy Check(6 chars) = %v, want TooShort", err)
	}
	weak := password.Policy{MinLength: 4, MaxLength: 10}
	if err := weak.Check("tulip12"); !errors.As(err, &pe) || pe.Reason != password.TooShort || pe.Message != "Use at least 8 characters." {
		t.Errorf("Policy{MinLength: 4} Check(7 chars) = %v, want TooShort at 8", err)
	}
}

func TestReasonString(t *testing.T) {
	t.Parallel()
	for _, r := range []password.Reason{password.TooShort, password.TooLong, password.Common, password.Context, password.Repetitive} {
		if s := r.String(); s == "" || strings.HasPrefix(s, "Reason(") {
			t.Errorf("Reason(%d).String() = %q", int(r), s)
		}
	}
	if s := password.Reason(0).String(); s != "Reason(0)" {
		t.Errorf("Reason(0).String() = %q", s)
	}
}

// The embedded list must be exactly the source list's entries of 8 or
// more characters, and IsCommon must know each of them.
// TestIsCommonMatchesEmbeddedList checks every embedded entry, and, when
// the project's shared data folder is next to the repository (a
// development checkout), that the embedded list is exactly the 8+
// character entries of the source list.
func TestIsCommonMatchesEmbeddedList(t *testing.T) {
	t.Parallel()
	embedded, err := os.ReadFile("common-passwords.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(embedded), "\n"), "\n")
	if len(lines) < 10000 {
		t.Fatalf("embedded list has only %d entries", len(lines))
	}
	for _, line := range lines {
		if utf8.RuneCountInString(line) < 8 {
			t.Fatalf("embedded entry %q is shorter than the policy floor", line)
		}
		if !password.IsCommon(line) || !password.IsCommon(strings.ToUpper(line)) {
			t.Fatalf("IsCommon(%q) = false for a listed password", line)
		}
	}
	f, err := os.Open("../../shared/data/common-passwords.txt")
	if err != nil {
		t.Logf("source list not next to the repository (%v); checked the embedded list only", err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	kept := 0
	for sc.Scan() {
		if utf8.RuneCountInString(sc.Text()) >= 8 {
			kept++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if kept != len(lines) {
		t.Errorf("embedded list has %d entries, source has %d entries of 8+ characters", len(lines), kept)
	}
}

func TestIsCommon(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pw   string
		want bool
	}{
		{"password", true},
		{"PASSWORD", true},
		{"iloveyou", true},
		{"qwertyuiop", true},
		{"123456", false}, // too short for the embedded list; Policy refuses it by length
		{"correct horse battery staple", false},
		{"", false},
		{strings.Repeat("a", password.MaxBytes+1), false},
	}
	for _, tt := range tests {
		if got := password.IsCommon(tt.pw); got != tt.want {
			t.Errorf("IsCommon(%q) = %v, want %v", tt.pw, got, tt.want)
		}
	}
}
