package latch_test

import (
	"strings"
	"testing"

	"github.com/latchgo/latch"
)

func TestNewTokenUniqueAndSized(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := latch.NewToken(32)
		if len(tok) != 43 {
			t.Fatalf("token %q has %d chars, want 43 (32 bytes)", tok, len(tok))
		}
		if seen[tok] {
			t.Fatalf("duplicate token after %d draws", len(seen))
		}
		seen[tok] = true
		if _, ok := latch.ParseSessionToken(tok); !ok {
			t.Fatalf("ParseSessionToken refuses a token NewToken made: %q", tok)
		}
	}
}

func TestParseSessionToken(t *testing.T) {
	good := latch.NewToken(32)
	zero := strings.Repeat("A", 43) // 32 zero bytes, canonical
	if _, ok := latch.ParseSessionToken(zero); !ok {
		t.Fatal("canonical all-zero token refused")
	}
	bad := []string{
		"", "x", good[:42], good + "A", "../" + good[3:], good[:42] + "=",
		good[:42] + "\x00", strings.Repeat("a", 10_000), good[:42] + "+",
		// Same length and alphabet, but the last character sets bits
		// beyond the 256 encoded ones: a second spelling of zero bytes.
		zero[:42] + "B",
	}
	for _, b := range bad {
		if _, ok := latch.ParseSessionToken(b); ok {
			t.Errorf("ParseSessionToken(%q) accepted", b)
		}
	}
}

func TestParseRememberToken(t *testing.T) {
	sel, val := latch.NewToken(16), latch.NewToken(32)
	if s, v, ok := latch.ParseRememberToken(sel + "." + val); !ok || s != sel || v != val {
		t.Fatalf("ParseRememberToken refused a well-formed token")
	}
	for _, b := range []string{"", sel, sel + val, sel + ":" + val, val + "." + sel, sel + "." + val + "x", sel + ".." + val[1:], sel + "." + val[:42] + "/"} {
		if _, _, ok := latch.ParseRememberToken(b); ok {
			t.Errorf("ParseRememberToken(%q) accepted", b)
		}
	}
}

func TestHashTokenIsStableAndDistinct(t *testing.T) {
	a, b := latch.NewToken(32), latch.NewToken(32)
	if latch.HashToken(a) != latch.HashToken(a) {
		t.Fatal("HashToken is not deterministic")
	}
	if latch.HashToken(a) == latch.HashToken(b) || latch.HashToken(a) == a {
		t.Fatal("HashToken does not separate tokens or returns the token")
	}
}

// FuzzParseTokens feeds arbitrary cookie values to both token parsers: they
// must never panic, and whatever they accept must be exactly the canonical
// encoding of a token of the right size (so one secret has one spelling).
func FuzzParseTokens(f *testing.F) {
	f.Add(latch.NewToken(32))
	f.Add(latch.NewToken(16) + "." + latch.NewToken(32))
	f.Add("../../etc/passwd")
	f.Add(strings.Repeat("A", 43))
	f.Add(strings.Repeat("A", 22) + "." + strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, in string) {
		if tok, ok := latch.ParseSessionToken(in); ok {
			if tok != in || len(in) != 43 || strings.ContainsAny(in, "+/=.\x00") {
				t.Fatalf("session token %q accepted", in)
			}
		}
		if sel, val, ok := latch.ParseRememberToken(in); ok {
			if sel+"."+val != in || len(sel) != 22 || len(val) != 43 {
				t.Fatalf("remember token %q accepted as %q, %q", in, sel, val)
			}
		}
	})
}
