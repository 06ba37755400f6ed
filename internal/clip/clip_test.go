package clip_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/latchgo/latch/internal/clip"
)

func TestText(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc"},
		{"héllo", 2, "h"}, // é is two bytes: never cut in half
		{"a\xffb", 10, "a\uFFFDb"},
		{strings.Repeat("🙂", 3), 5, "🙂"},
	}
	for _, tt := range tests {
		got := clip.Text(tt.in, tt.n)
		if got != tt.want || !utf8.ValidString(got) || len(got) > max(tt.n, len(tt.want)) {
			t.Errorf("Text(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
