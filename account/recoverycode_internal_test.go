package account

import (
	"strings"
	"testing"
)

func TestNormalizeRecoveryCode(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"7kq2m-x9c4d", "7kq2mx9c4d", true},
		{"7KQ2M X9C4D", "7kq2mx9c4d", true},
		{" 7kq2mx9c4d ", "7kq2mx9c4d", true},
		{"OOOOO-lllll", "00000-11111"[:5] + "11111", true}, // o read as 0, l as 1
		{"iiiii-00000", "1111100000", true},
		{"7kq2m-x9c4", "", false},   // one short
		{"7kq2m-x9c4dd", "", false}, // one long
		{"7kq2m-x9c4u", "", false},  // u is not in the alphabet
		{"7kq2m-x9c4!", "", false},
		{"", "", false},
		{"123456", "", false}, // a TOTP code
	} {
		got, ok := normalizeRecoveryCode(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normalizeRecoveryCode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzRecoveryCode: whatever is typed into the code field, normalising
// never panics, what it accepts is ten characters of the alphabet, and
// normalising that again changes nothing.
func FuzzRecoveryCode(f *testing.F) {
	for _, s := range []string{"7kq2m-x9c4d", "OOOOO-lllll", "abcd-efgh-ijkl-mnop-qrst-uvwx", "123 456", "\u0130iiii-00000", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		norm, ok := normalizeRecoveryCode(s)
		if !ok {
			if norm != "" {
				t.Fatalf("refused %q but returned %q", s, norm)
			}
			return
		}
		if len(norm) != recoveryCodeLen {
			t.Fatalf("%q normalised to %q", s, norm)
		}
		for _, c := range norm {
			if !strings.ContainsRune(recoveryAlphabet, c) {
				t.Fatalf("%q normalised to %q, outside the alphabet", s, norm)
			}
		}
		if again, ok := normalizeRecoveryCode(norm); !ok || again != norm {
			t.Fatalf("normalising %q again gave %q %v", norm, again, ok)
		}
		_, _ = normalizeLegacyRecoveryCode(s)
	})
}
