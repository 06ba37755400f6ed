package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/latchgo/latch/account"
)

func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", maxLine)
	for _, tt := range []struct {
		in, want, rest string
		drain          bool
		err            string
	}{
		{in: "secret\nnext", want: "secret", rest: "next"},
		{in: "secret\r\n", want: "secret"},
		{in: "with spaces  \n", want: "with spaces  "},
		{in: "no newline", want: "no newline"},
		{in: "\n", want: ""},
		{in: "", err: "EOF"},
		{in: long + "\n", want: long},
		{in: long + "y\nnext", err: "longer than 4096", rest: "\nnext"},
		{in: long + "yyy\nnext", drain: true, err: "longer than 4096", rest: "next"},
	} {
		r := strings.NewReader(tt.in)
		got, err := readLine(r, tt.drain)
		rest, _ := io.ReadAll(r)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("readLine(%.20q, %v) = %.20q, %v; want error %q", tt.in, tt.drain, got, err, tt.err)
			}
		} else if err != nil || got != tt.want {
			t.Errorf("readLine(%.20q) = %.20q, %v; want %.20q", tt.in, got, err, tt.want)
		}
		if string(rest) != tt.rest {
			t.Errorf("readLine(%.20q, %v) left %q, want %q", tt.in, tt.drain, rest, tt.rest)
		}
	}
	if _, err := readLine(strings.NewReader(""), false); !errors.Is(err, io.EOF) {
		t.Errorf("empty input: %v", err)
	}
}

func TestDescribe(t *testing.T) {
	err := describe(fmt.Errorf("sign up: %w", &account.ValidationError{Fields: map[string]string{"username": "Use 3 to 32 characters.", "email": "Enter a valid email address."}})).Error()
	if err != "email: Enter a valid email address.; username: Use 3 to 32 characters." {
		t.Errorf("describe = %q", err)
	}
	other := errors.New("disk full")
	if describe(other) != other {
		t.Error("describe changed another error")
	}
}
