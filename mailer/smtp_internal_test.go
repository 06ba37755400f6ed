package mailer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchgo/latch/mailer/smtptest"
)

// The tests' servers are all on loopback. These tests pretend the host is
// remote to exercise the path a production relay takes.

func TestSMTPRemoteHostAuthOverSTARTTLS(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("mailer", "secret"))
	s, err := NewSMTP(srv.URL(), "no-reply@latch.example", WithTLSConfig(srv.ClientTLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	s.loopback = false // go-mail's auth auto-discovery, as for a remote relay
	if err := s.Send(context.Background(), Message{To: "ada@example.com", Subject: "s", Text: "t"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	if !got.TLS || got.User != "mailer" {
		t.Errorf("TLS=%v User=%q, want AUTH PLAIN over TLS", got.TLS, got.User)
	}
}

// Even if the URL check were bypassed, go-mail's auto-discovery does not
// send PLAIN or LOGIN credentials over a plaintext connection to a remote
// host.
func TestSMTPRemoteHostNeverAuthsInPlaintext(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithAuth("mailer", "secret"))
	s, err := NewSMTP(srv.URL(), "no-reply@latch.example")
	if err != nil {
		t.Fatal(err)
	}
	s.loopback = false
	s.mode = STARTTLSOpportunistic
	err = s.Send(context.Background(), Message{To: "ada@example.com", Subject: "s", Text: "t"})
	if err == nil {
		t.Fatal("Send authenticated over plaintext to a remote host")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q contains the password", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}
