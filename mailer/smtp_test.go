package mailer_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchgo/latch/mailer"
	"github.com/latchgo/latch/mailer/smtptest"
)

const testFrom = "latch <no-reply@latch.example>"

func newSMTP(t *testing.T, rawURL string, opts ...mailer.SMTPOption) *mailer.SMTP {
	t.Helper()
	s, err := mailer.NewSMTP(rawURL, testFrom, opts...)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return s
}

func send(t *testing.T, s mailer.Sender, m mailer.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Send(ctx, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

// resetMail is a realistic mail: a non-ASCII subject, a long line, "=" signs
// (which quoted-printable must escape) and a long link with a token.
var resetMail = mailer.Message{
	To:      "ada@example.com",
	Subject: "Réinitialisez votre mot de passe — latch",
	Text: "Hello ada,\n\n" +
		"Someone (hopefully you) asked to reset the password of your latch account. " +
		"To choose a new password, open this link within 30 minutes:\n\n" +
		"http://127.0.0.1:8080/reset/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjK?x=1&y=2\n\n" +
		"If it was not you, ignore this mail: your password stays as it is.\n",
}

func TestSMTPSendPlainLoopback(t *testing.T) {
	srv := smtptest.NewServer(t)
	s := newSMTP(t, srv.URL())
	if got := s.TLSMode(); got != mailer.STARTTLSOpportunistic {
		t.Errorf("TLSMode() = %v, want opportunistic for loopback", got)
	}
	send(t, s, resetMail)

	msgs := srv.WaitFor(t, 1, 5*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "no-reply@latch.example" {
		t.Errorf("MAIL FROM = %q", got.From)
	}
	if len(got.To) != 1 || got.To[0] != "ada@example.com" {
		t.Errorf("RCPT TO = %q, want exactly [ada@example.com]", got.To)
	}
	if got.Subject != resetMail.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, resetMail.Subject)
	}
	if got.Text != resetMail.Text {
		t.Errorf("Text = %q, want %q", got.Text, resetMail.Text)
	}
	link := smtptest.Link(got.Text, "http://127.0.0.1:8080/reset/")
	if want := "http://127.0.0.1:8080/reset/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjK?x=1&y=2"; link != want {
		t.Errorf("Link = %q, want %q", link, want)
	}
	if got.TLS || got.User != "" {
		t.Errorf("TLS=%v User=%q, want plaintext without AUTH", got.TLS, got.User)
	}
	h := got.Header
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(strings.ToLower(ct), "utf-8") {
		t.Errorf("Content-Type = %q, want text/plain; charset=UTF-8", ct)
	}
	if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Name != "latch" || from[0].Address != "no-reply@latch.example" {
		t.Errorf("From = %q (%v)", h.Get("From"), err)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "ada@example.com" {
		t.Errorf("To = %q (%v)", h.Get("To"), err)
	}
	for _, name := range []string{"Cc", "Bcc", "User-Agent", "X-Mailer"} {
		if v := h.Get(name); v != "" {
			t.Errorf("%s = %q, want none", name, v)
		}
	}
	if v := h.Get("Auto-Submitted"); v != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", v)
	}
	if id := h.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@latch.example>") {
		t.Errorf("Message-ID = %q, want <random@latch.example>", id)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
}

func TestSMTPSendAuthPlainLoopback(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithAuth("mailer", "p@ss:w/rd#1"))
	if !strings.Contains(srv.URL(), "mailer:") {
		t.Fatalf("URL() = %q, want credentials", srv.URL())
	}
	send(t, newSMTP(t, srv.URL()), resetMail)
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	if got.User != "mailer" {
		t.Errorf("authenticated as %q, want mailer", got.User)
	}
}

func TestSMTPWrongPasswordIsPermanentAndNotLeaked(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithAuth("mailer", "right"))
	s := newSMTP(t, "smtp://mailer:wrong-s3cret@"+srv.Addr())
	err := s.Send(context.Background(), resetMail)
	if err == nil {
		t.Fatal("Send with a wrong password succeeded")
	}
	if !errors.Is(err, mailer.ErrPermanent) {
		t.Errorf("error %q does not match ErrPermanent", err)
	}
	if strings.Contains(err.Error(), "wrong-s3cret") || strings.Contains(err.Error(), "ada@example.com") {
		t.Errorf("error %q leaks the password or the recipient", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestSMTPSTARTTLSMandatory(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("mailer", "secret"))
	s := newSMTP(t, srv.URL(), mailer.WithTLSConfig(srv.ClientTLSConfig()))
	if got := s.TLSMode(); got != mailer.STARTTLSMandatory {
		t.Fatalf("TLSMode() = %v for %s, want mandatory", got, srv.URL())
	}
	send(t, s, resetMail)
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	if !got.TLS {
		t.Error("message was not sent over TLS")
	}
	if got.User != "mailer" {
		t.Errorf("authenticated as %q, want mailer", got.User)
	}
	if got.Text != resetMail.Text {
		t.Errorf("Text = %q", got.Text)
	}
}

func TestSMTPSTARTTLSOpportunisticUsesTLSWhenOffered(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	s := newSMTP(t, "smtp://"+srv.Addr(), mailer.WithTLSConfig(srv.ClientTLSConfig()))
	send(t, s, resetMail)
	if got := srv.WaitFor(t, 1, 5*time.Second)[0]; !got.TLS {
		t.Error("opportunistic STARTTLS did not use the offered TLS")
	}
}

func TestSMTPSTARTTLSMandatoryRefusesPlaintextServer(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithAuth("mailer", "secret"))
	s := newSMTP(t, srv.URL()+"?starttls=mandatory")
	err := s.Send(context.Background(), resetMail)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %v, want a STARTTLS error", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q leaks the password", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered in plaintext", n)
	}
}

func TestSMTPSTARTTLSRefusesUntrustedCertificate(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("mailer", "secret"))
	s := newSMTP(t, srv.URL()) // no WithTLSConfig: the self-signed cert is not trusted
	err := s.Send(context.Background(), resetMail)
	if err == nil {
		t.Fatal("Send trusted a self-signed certificate")
	}
	var certErr *tls.CertificateVerificationError
	if !errors.As(err, &certErr) {
		t.Errorf("error %q is not a certificate verification error", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithImplicitTLS(), smtptest.WithAuth("mailer", "secret"))
	if !strings.HasPrefix(srv.URL(), "smtps://") {
		t.Fatalf("URL() = %q", srv.URL())
	}
	s := newSMTP(t, srv.URL(), mailer.WithTLSConfig(srv.ClientTLSConfig()))
	send(t, s, resetMail)
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	if !got.TLS || got.User != "mailer" {
		t.Errorf("TLS=%v User=%q, want TLS and AUTH", got.TLS, got.User)
	}
}

// countingListener is a TCP listener that counts connections, to prove
// that refused messages never reach the network.
func countingListener(t *testing.T) (addr string, accepted func() int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return l.Addr().String(), func() int64 {
		time.Sleep(50 * time.Millisecond) // let a pending Accept return
		return n.Load()
	}
}

func TestSMTPInjectionRefusedBeforeConnecting(t *testing.T) {
	addr, accepted := countingListener(t)
	s := newSMTP(t, "smtp://"+addr, mailer.WithTimeout(time.Second))
	for _, m := range []mailer.Message{
		{To: "ada@example.com", Subject: "Reset\r\nBcc: evil@attacker.example", Text: "x"},
		{To: "ada@example.com, evil@attacker.example", Subject: "Reset", Text: "x"},
		{To: "Ada <ada@example.com>", Subject: "Reset", Text: "x"},
		{To: "a@b.c\r\nBcc: x@y.z", Subject: "Reset", Text: "x"},
		{To: "victim@x.test%0d%0aBcc:attacker@y.test", Subject: "Reset", Text: "x"},
		{To: "ada@example.com", Subject: "Reset\x00", Text: "x"},
	} {
		err := s.Send(context.Background(), m)
		if !errors.Is(err, mailer.ErrInvalidMessage) {
			t.Errorf("Send(%q, %q) = %v, want ErrInvalidMessage", m.To, m.Subject, err)
		}
	}
	if n := accepted(); n != 0 {
		t.Errorf("%d connections made for refused messages", n)
	}
}

func TestSMTPRejectedRecipientIsPermanentAndRedacted(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithRejectRecipient("Ada@Example.com"))
	err := newSMTP(t, srv.URL()).Send(context.Background(), resetMail)
	if err == nil {
		t.Fatal("Send to a rejected recipient succeeded")
	}
	if !errors.Is(err, mailer.ErrPermanent) {
		t.Errorf("error %q does not match ErrPermanent", err)
	}
	if strings.Contains(strings.ToLower(err.Error()), "ada@example.com") {
		t.Errorf("error %q contains the recipient's address", err)
	}
}

func TestSMTPTemporaryFailureIsNotPermanent(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithFailFirst(1))
	s := newSMTP(t, srv.URL())
	err := s.Send(context.Background(), resetMail)
	if err == nil {
		t.Fatal("first Send succeeded, want 451")
	}
	if errors.Is(err, mailer.ErrPermanent) {
		t.Errorf("451 error %q matches ErrPermanent", err)
	}
	send(t, s, resetMail)
	srv.WaitFor(t, 1, 5*time.Second)
}

func TestSMTPContextDeadlineBoundsSilentServer(t *testing.T) {
	// A server that accepts connections and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	s := newSMTP(t, "smtp://"+l.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, resetMail)
	if err == nil {
		t.Fatal("Send to a silent server succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v with a 300ms deadline", d)
	}
	if errors.Is(err, mailer.ErrPermanent) {
		t.Errorf("timeout %q matches ErrPermanent", err)
	}
}

func TestNewSMTPURL(t *testing.T) {
	const pw = "s3cr3t-PW"
	for _, tc := range []struct {
		url      string
		wantErr  string // substring; "" means success
		wantMode mailer.TLSMode
		wantStr  string // String() on success
	}{
		{url: "smtp://mail.example.com", wantMode: mailer.STARTTLSMandatory, wantStr: "smtp://mail.example.com:587?starttls=mandatory"},
		{url: "smtp://user:" + pw + "@mail.example.com:2525", wantMode: mailer.STARTTLSMandatory, wantStr: "smtp://user:xxxxx@mail.example.com:2525?starttls=mandatory"},
		{url: "SMTP://mail.example.com/", wantMode: mailer.STARTTLSMandatory, wantStr: "smtp://mail.example.com:587?starttls=mandatory"},
		{url: "smtps://user:" + pw + "@mail.example.com", wantMode: mailer.ImplicitTLS, wantStr: "smtps://user:xxxxx@mail.example.com:465"},
		{url: "smtp://127.0.0.1:1025", wantMode: mailer.STARTTLSOpportunistic, wantStr: "smtp://127.0.0.1:1025?starttls=opportunistic"},
		{url: "smtp://127.8.9.10:25", wantMode: mailer.STARTTLSOpportunistic},
		{url: "smtp://[::1]:25", wantMode: mailer.STARTTLSOpportunistic, wantStr: "smtp://[::1]:25?starttls=opportunistic"},
		{url: "smtp://LocalHost:25", wantMode: mailer.STARTTLSOpportunistic},
		{url: "smtp://user:" + pw + "@localhost:25", wantMode: mailer.STARTTLSOpportunistic},
		{url: "smtp://user:" + pw + "@localhost:25?starttls=none", wantMode: mailer.NoTLS},
		{url: "smtp://localhost:25?starttls=mandatory", wantMode: mailer.STARTTLSMandatory},
		{url: "smtp://relay.internal?starttls=opportunistic", wantMode: mailer.STARTTLSOpportunistic},
		{url: "smtp://relay.internal?starttls=none", wantMode: mailer.NoTLS},
		{url: "smtp://user:p%40ss%2Fw%23rd@mail.example.com", wantMode: mailer.STARTTLSMandatory},
		// 127.0.0.1.example.com is not a loopback address.
		{url: "smtp://127.0.0.1.example.com", wantMode: mailer.STARTTLSMandatory},

		{url: "", wantErr: "empty"},
		{url: "ftp://user:" + pw + "@mail.example.com", wantErr: "scheme"},
		{url: "user:" + pw + "@mail.example.com", wantErr: "scheme"},
		{url: "mail.example.com:25", wantErr: "scheme"},
		{url: "smtp:" + pw, wantErr: "missing host"},
		{url: "smtp://user:" + pw + "@", wantErr: "missing host"},
		{url: "smtp://user:" + pw + "@mail.example.com:0", wantErr: "invalid port"},
		{url: "smtp://user:" + pw + "@mail.example.com:99999", wantErr: "invalid port"},
		{url: "smtp://user:" + pw + "@mail.example.com:smtp", wantErr: "cannot be parsed"},
		{url: "smtp://user:s3cr3t/PW@mail.example.com", wantErr: "SMTP URL"},
		{url: "smtp://user:s3cr3t#PW@mail.example.com", wantErr: "SMTP URL"},
		{url: "smtp://user:s3cr3t?PW@mail.example.com", wantErr: "SMTP URL"},
		{url: "smtp://user:s3cr3t-PW@mail.example.com/path", wantErr: "unexpected path"},
		{url: "smtp://user:s3cr3t-PW@mail.example.com#frag", wantErr: "unexpected path"},
		{url: "smtp://user:s3cr3t%ZZPW@mail.example.com", wantErr: "cannot be parsed"},
		{url: "smtp://user:s3cr3t\r\nPW@mail.example.com", wantErr: "cannot be parsed"},
		{url: "smtp://user:s3cr3t%00PW@localhost", wantErr: "NUL"},
		{url: "smtp://user:s3cr3t%0d%0aPW@localhost", wantErr: "NUL"},
		{url: "smtp://user:s3cr3t PW@mail.example.com", wantErr: "SMTP URL"},
		{url: "smtp://user:" + pw + "@mail_example!com", wantErr: "SMTP URL"},
		{url: "smtp://user:" + pw + "@mail.example.com?starttls=bogus", wantErr: "starttls must be"},
		{url: "smtp://user:" + pw + "@mail.example.com?starttls=none&starttls=mandatory", wantErr: "more than once"},
		{url: "smtp://user:" + pw + "@mail.example.com?tls=off", wantErr: "unknown parameter"},
		{url: "smtp://user:" + pw + "@mail.example.com?starttls=%zz", wantErr: "invalid query"},
		{url: "smtps://user:" + pw + "@mail.example.com?starttls=mandatory", wantErr: "cannot be combined"},
		{url: "smtp://:" + pw + "@mail.example.com", wantErr: "password without user name"},
		{url: "smtp://user@mail.example.com", wantErr: "user name without password"},
		{url: "smtp://user:@mail.example.com", wantErr: "user name without password"},
		{url: "smtp://user:" + pw + "@mail.example.com?starttls=none", wantErr: "refusing to send credentials"},
		{url: "smtp://user:" + pw + "@mail.example.com?starttls=opportunistic", wantErr: "refusing to send credentials"},
		{url: "smtp://user:" + pw + "@10.0.0.1?starttls=none", wantErr: "refusing to send credentials"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			s, err := mailer.NewSMTP(tc.url, testFrom)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("NewSMTP succeeded, want error containing %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not contain %q", err, tc.wantErr)
				}
				for _, secret := range []string{pw, "s3cr3t", "PW"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains the password (%q)", err, secret)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("NewSMTP: %v", err)
			}
			if got := s.TLSMode(); got != tc.wantMode {
				t.Errorf("TLSMode() = %v, want %v", got, tc.wantMode)
			}
			if tc.wantStr != "" && s.String() != tc.wantStr {
				t.Errorf("String() = %q, want %q", s.String(), tc.wantStr)
			}
			// Nothing that prints the sender shows the password.
			var logged strings.Builder
			slog.New(slog.NewTextHandler(&logged, nil)).Info("smtp", "sender", s)
			for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %s", s, s), logged.String()} {
				if strings.Contains(out, pw) || strings.Contains(out, "p@ss") {
					t.Errorf("%q shows the password", out)
				}
			}
		})
	}
}

func TestNewSMTPFrom(t *testing.T) {
	for _, from := range []string{"no-reply@latch.example", "latch <no-reply@latch.example>", `"Latch, Inc." <no-reply@latch.example>`, "Équipe latch <no-reply@latch.example>"} {
		if _, err := mailer.NewSMTP("smtp://localhost", from); err != nil {
			t.Errorf("NewSMTP(from=%q) = %v", from, err)
		}
	}
	for _, from := range []string{
		"",
		"not an address",
		"a@b.c\r\nBcc: x@y.z",
		"a@b.c\nBcc: x@y.z",
		"a@b.c\x00",
		"a@b.c, d@e.f",
		"\"Evil\r\nBcc: x@y.z\" <a@b.c>",
		"=?utf-8?q?Evil=0D=0ABcc:_x@y.z?= <a@b.c>",
		"<\"quoted local\"@b.c>",
	} {
		if _, err := mailer.NewSMTP("smtp://localhost", from); err == nil {
			t.Errorf("NewSMTP(from=%q) succeeded, want error", from)
		}
	}
}

func TestWithTLSConfig(t *testing.T) {
	if _, err := mailer.NewSMTP("smtp://mail.example.com", testFrom, mailer.WithTLSConfig(&tls.Config{InsecureSkipVerify: true})); err == nil {
		t.Error("WithTLSConfig accepted InsecureSkipVerify")
	}
	if _, err := mailer.NewSMTP("smtp://mail.example.com", testFrom, mailer.WithTLSConfig(nil)); err == nil {
		t.Error("WithTLSConfig accepted nil")
	}
	if _, err := mailer.NewSMTP("smtp://mail.example.com", testFrom, mailer.WithTimeout(0)); err == nil {
		t.Error("WithTimeout accepted 0")
	}
	cfg := &tls.Config{}
	if _, err := mailer.NewSMTP("smtp://mail.example.com", testFrom, mailer.WithTLSConfig(cfg)); err != nil {
		t.Fatal(err)
	}
	if cfg.ServerName != "" || cfg.MinVersion != 0 {
		t.Error("WithTLSConfig modified the caller's config")
	}
}
