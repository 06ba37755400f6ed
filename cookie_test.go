package latch

import (
	"net/http"
	"strings"
	"testing"
)

func TestSessionToken(t *testing.T) {
	tok, other := NewToken(sessionTokenBytes), NewToken(sessionTokenBytes)
	tests := []struct {
		name   string
		header []string
		want   string
	}{
		{"alone", []string{"s=" + tok}, tok},
		{"among others", []string{"a=1; s=" + tok + "; b=2"}, tok},
		{"no spaces", []string{"a=1;s=" + tok}, tok},
		{"first of two", []string{"s=" + tok + "; s=" + other}, tok},
		{"a malformed first", []string{"s=abc; s=" + tok}, ""},
		{"an invalid first, skipped by net/http", []string{"s=a\x01c; s=" + tok}, tok},
		{"second header line", []string{"a=1", "s=" + tok}, tok},
		{"quoted", []string{`s="` + tok + `"`}, tok},
		{"spaces around the name", []string{"s =" + tok}, tok},
		{"prefix of another name", []string{"ss=" + tok + "; xs=" + tok}, ""},
		{"absent", []string{"a=1"}, ""},
		{"no header", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Header: http.Header{"Cookie": tt.header}}
			got, ok := sessionToken(r, "s")
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("sessionToken = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

// FuzzSessionToken: the fast lookup of the session cookie finds exactly
// the token net/http's cookie parser finds, so it can never make latch see
// a session that r.Cookie would not (or another one).
func FuzzSessionToken(f *testing.F) {
	tok := NewToken(sessionTokenBytes)
	many := strings.Repeat("c=v; ", 4000)
	for _, s := range []string{many + "s=" + tok, "s=" + tok + "; " + many, "s=" + tok, "a=1; s=" + tok, `s="` + tok + `"`, "s=x; s=" + tok, "s =" + tok, "s\t=" + tok + ";", " s=" + tok + " ", "s=" + tok + "\x00", "s=\x01; s=" + tok} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := &http.Request{Header: http.Header{"Cookie": {header}}}
		got, gotOK := sessionToken(r, "s")
		want, wantOK := slowSessionToken(r, "s")
		if gotOK != wantOK || got != want {
			t.Fatalf("header %q: sessionToken gives %q (%v), net/http %q (%v)", header, got, gotOK, want, wantOK)
		}
	})
}
