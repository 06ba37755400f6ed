package mailer

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateAcceptsPlainAddresses(t *testing.T) {
	for _, to := range []string{
		"ada@example.com",
		"Ada.Lovelace+latch@mail.example.co.uk",
		"o'brien@example.ie",
		"x@xn--bcher-kva.example",
		"user@localhost",
		"a!#$%&'*+-/=?^_`{|}~@example.com",
	} {
		m := Message{To: to, Subject: "Réinitialiser le mot de passe\t✓", Text: "line 1\nline 2\n"}
		if err := m.Validate(); err != nil {
			t.Errorf("Validate(To=%q) = %v, want nil", to, err)
		}
	}
}

// injectionCases are messages that must be refused before anything is
// sent (ASVS 1.3.11). The secret "zz-injected" marks the attacker's part,
// which must not appear in the error either.
var injectionCases = []struct {
	name string
	m    Message
}{
	{"CRLF Bcc in To", Message{To: "a@b.c\r\nBcc: zz-injected@y.z", Subject: "s"}},
	{"LF in To", Message{To: "a@b.c\nBcc: zz-injected@y.z", Subject: "s"}},
	{"CR in To", Message{To: "a@b.c\rzz-injected", Subject: "s"}},
	{"NUL in To", Message{To: "a@b.c\x00zz-injected", Subject: "s"}},
	{"encoded CRLF in To", Message{To: "victim@x.test%0d%0aBcc:zz-injected@y.test", Subject: "s"}},
	{"two recipients comma", Message{To: "a@b.c, zz-injected@y.z", Subject: "s"}},
	{"two recipients no space", Message{To: "a@b.c,zz-injected@y.z", Subject: "s"}},
	{"two recipients semicolon", Message{To: "a@b.c;zz-injected@y.z", Subject: "s"}},
	{"two recipients space", Message{To: "a@b.c zz-injected@y.z", Subject: "s"}},
	{"group syntax", Message{To: "list: a@b.c, zz-injected@y.z;", Subject: "s"}},
	{"display name", Message{To: "zz-injected <a@b.c>", Subject: "s"}},
	{"quoted display name with CRLF", Message{To: "\"zz-injected\r\nBcc: x@y.z\" <a@b.c>", Subject: "s"}},
	{"angle brackets", Message{To: "<a@b.c>", Subject: "s"}},
	{"comment", Message{To: "a@b.c (zz-injected)", Subject: "s"}},
	{"quoted local part", Message{To: "\"zz injected\"@b.c", Subject: "s"}},
	{"two at signs", Message{To: "a@zz-injected@b.c", Subject: "s"}},
	{"empty", Message{To: "", Subject: "s"}},
	{"no domain", Message{To: "zz-injected@", Subject: "s"}},
	{"no local part", Message{To: "@zz-injected.com", Subject: "s"}},
	{"domain literal", Message{To: "a@[127.0.0.1]", Subject: "s"}},
	{"non-ASCII", Message{To: "zz-injected@bücher.example", Subject: "s"}},
	{"too long", Message{To: strings.Repeat("a", 64) + "@" + strings.Repeat("zz-injected.", 20) + "com", Subject: "s"}},
	{"CRLF in Subject", Message{To: "a@b.c", Subject: "Hi\r\nBcc: zz-injected@y.z"}},
	{"LF in Subject", Message{To: "a@b.c", Subject: "Hi\nBcc: zz-injected@y.z"}},
	{"CR in Subject", Message{To: "a@b.c", Subject: "Hi\rzz-injected"}},
	{"NUL in Subject", Message{To: "a@b.c", Subject: "Hi\x00zz-injected"}},
	{"NEL in Subject", Message{To: "a@b.c", Subject: "Hi\u0085zz-injected"}},
	{"line separator in Subject", Message{To: "a@b.c", Subject: "Hi\u2028zz-injected"}},
	{"invalid UTF-8 in Subject", Message{To: "a@b.c", Subject: "Hi\xffzz-injected"}},
	{"NUL in Text", Message{To: "a@b.c", Subject: "s", Text: "x\x00zz-injected"}},
	{"invalid UTF-8 in Text", Message{To: "a@b.c", Subject: "s", Text: "x\xffzz-injected"}},
}

func TestValidateRefusesInjection(t *testing.T) {
	for _, tc := range injectionCases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate()
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Validate() = %v, want ErrInvalidMessage", err)
			}
			if strings.Contains(err.Error(), "zz-injected") {
				t.Errorf("error %q repeats the offending value", err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ s, addr, want string }{
		{"550 5.1.1 <Bob@Example.com>: no such user", "bob@example.com", "550 5.1.1 <<recipient>>: no such user"},
		{"rcpt bob@example.com, bob@example.com", "bob@example.com", "rcpt <recipient>, <recipient>"},
		{"nothing to hide", "bob@example.com", "nothing to hide"},
		{"ünïcödé BOB@EXAMPLE.COM ✓", "bob@example.com", "ünïcödé <recipient> ✓"},
		{"short", "", "short"},
	} {
		if got := redact(tc.s, tc.addr); got != tc.want {
			t.Errorf("redact(%q, %q) = %q, want %q", tc.s, tc.addr, got, tc.want)
		}
	}
}
