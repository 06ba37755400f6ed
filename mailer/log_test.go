package mailer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/latchgo/latch/mailer"
)

func TestLogSenderWritesMail(t *testing.T) {
	var buf bytes.Buffer
	s := mailer.NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	if err := s.Send(context.Background(), resetMail); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log is not one JSON record: %v\n%s", err, buf.Bytes())
	}
	want := map[string]any{
		"level":   "INFO",
		"to":      resetMail.To,
		"subject": resetMail.Subject,
		"text":    resetMail.Text,
		"link":    "http://127.0.0.1:8080/reset/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjK?x=1&y=2",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %q, want %q", k, rec[k], v)
		}
	}
}

func TestLogSenderRefusesInjection(t *testing.T) {
	var buf bytes.Buffer
	s := mailer.NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	err := s.Send(context.Background(), mailer.Message{To: "a@b.c\r\nBcc: x@y.z", Subject: "s", Text: "t"})
	if !errors.Is(err, mailer.ErrInvalidMessage) {
		t.Errorf("Send = %v, want ErrInvalidMessage", err)
	}
	if buf.Len() != 0 {
		t.Errorf("refused mail was logged: %s", buf.Bytes())
	}
}

func TestLogSenderNilLogger(t *testing.T) {
	if mailer.NewLog(nil) == nil {
		t.Fatal("NewLog(nil) = nil")
	}
}
