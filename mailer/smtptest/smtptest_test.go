package smtptest_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/latchgo/latch/mailer/smtptest"
)

func TestLink(t *testing.T) {
	const prefix = "https://latch.example/reset/"
	for _, tc := range []struct{ text, want string }{
		{"open\nhttps://latch.example/reset/abc-_123\nsoon", "https://latch.example/reset/abc-_123"},
		{"open https://latch.example/reset/abc?x=1&y=2.", "https://latch.example/reset/abc?x=1&y=2"},
		{"(https://latch.example/reset/abc)", "https://latch.example/reset/abc"},
		{"<https://latch.example/reset/abc>", "https://latch.example/reset/abc"},
		{"\"https://latch.example/reset/abc\"", "https://latch.example/reset/abc"},
		{"https://latch.example/reset/abc\r\n", "https://latch.example/reset/abc"},
		{"https://latch.example/reset/one https://latch.example/reset/two", "https://latch.example/reset/one"},
		{"http://latch.example/reset/abc", ""},
		{"no link here", ""},
	} {
		if got := smtptest.Link(tc.text, prefix); got != tc.want {
			t.Errorf("Link(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
	if got := smtptest.Link("anything", ""); got != "" {
		t.Errorf("Link with empty prefix = %q", got)
	}
}

// sendRaw delivers data with go-smtp's client, to test the server on
// encodings other than go-mail's.
func sendRaw(t *testing.T, srv *smtptest.Server, a sasl.Client, to []string, data string) error {
	t.Helper()
	return plainSendMail(srv.Addr(), a, "sender@example.com", to, strings.ReplaceAll(data, "\n", "\r\n"))
}

// plainSendMail is smtp.SendMail without its mandatory STARTTLS.
func plainSendMail(addr string, a sasl.Client, from string, to []string, data string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if a != nil {
		if err := c.Auth(a); err != nil {
			return err
		}
	}
	if err := c.SendMail(from, to, strings.NewReader(data)); err != nil {
		return err
	}
	return c.Quit()
}

func TestServerDecodesBodies(t *testing.T) {
	srv := smtptest.NewServer(t)
	for _, tc := range []struct {
		name, data, subject, text string
	}{
		{
			name: "quoted-printable",
			data: "From: a@example.com\nTo: b@example.com\nSubject: =?UTF-8?q?R=C3=A9initialiser?=\n" +
				"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n" +
				"caf=C3=A9 a=3Db long=\n line\n",
			subject: "Réinitialiser",
			text:    "café a=b long line\n",
		},
		{
			name: "base64",
			data: "From: a@example.com\nTo: b@example.com\nSubject: =?UTF-8?b?w6l0w6k=?=\n" +
				"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n" +
				"bGluZSAxCmxp\nbmUgMgo=\n",
			subject: "été",
			text:    "line 1\nline 2\n",
		},
		{
			name: "multipart",
			data: "From: a@example.com\nTo: b@example.com\nSubject: multi\nMIME-Version: 1.0\n" +
				"Content-Type: multipart/alternative; boundary=XYZ\n\n" +
				"--XYZ\nContent-Type: text/html\n\n<p>html</p>\n" +
				"--XYZ\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\nplain =E2=9C=93\n" +
				"--XYZ--\n",
			subject: "multi",
			text:    "plain ✓",
		},
		{
			name:    "7bit",
			data:    "From: a@example.com\nTo: b@example.com\nSubject: plain\n\nhello\nworld\n",
			subject: "plain",
			text:    "hello\nworld\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.Reset()
			if err := sendRaw(t, srv, nil, []string{"b@example.com"}, tc.data); err != nil {
				t.Fatal(err)
			}
			got := srv.WaitFor(t, 1, 5*time.Second)[0]
			if got.Subject != tc.subject {
				t.Errorf("Subject = %q, want %q", got.Subject, tc.subject)
			}
			if got.Text != tc.text {
				t.Errorf("Text = %q, want %q", got.Text, tc.text)
			}
			if got.From != "sender@example.com" || len(got.To) != 1 || got.To[0] != "b@example.com" {
				t.Errorf("envelope From=%q To=%q", got.From, got.To)
			}
			if !strings.Contains(string(got.Data), "\r\n") {
				t.Errorf("Data is not the raw CRLF message: %q", got.Data)
			}
		})
	}
}

func TestServerRecordsEveryRecipient(t *testing.T) {
	srv := smtptest.NewServer(t)
	if err := sendRaw(t, srv, nil, []string{"b@example.com", "c@example.com"}, "Subject: x\n\nx\n"); err != nil {
		t.Fatal(err)
	}
	if got := srv.WaitFor(t, 1, 5*time.Second)[0].To; len(got) != 2 {
		t.Errorf("To = %q, want both recipients", got)
	}
}

func TestServerRequiresAuth(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithAuth("u", "p"))
	if err := sendRaw(t, srv, nil, []string{"b@example.com"}, "Subject: x\n\nx\n"); err == nil {
		t.Error("mail accepted without AUTH")
	}
	if err := sendRaw(t, srv, sasl.NewPlainClient("", "u", "wrong"), []string{"b@example.com"}, "Subject: x\n\nx\n"); err == nil {
		t.Error("mail accepted with a wrong password")
	}
	if err := sendRaw(t, srv, sasl.NewPlainClient("", "u", "p"), []string{"b@example.com"}, "Subject: x\n\nx\n"); err != nil {
		t.Fatalf("mail with the right password: %v", err)
	}
	if got := srv.WaitFor(t, 1, 5*time.Second); len(got) != 1 || got[0].User != "u" {
		t.Errorf("got %+v", got)
	}
}

func TestServerURLAndTLSConfig(t *testing.T) {
	plain := smtptest.NewServer(t)
	if want := "smtp://" + plain.Addr(); plain.URL() != want {
		t.Errorf("URL() = %q, want %q", plain.URL(), want)
	}
	if plain.ClientTLSConfig() != nil {
		t.Error("ClientTLSConfig() != nil without TLS")
	}
	if !strings.HasPrefix(plain.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q, want 127.0.0.1:port", plain.Addr())
	}
	tlsSrv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("u", "p w"))
	if want := "smtp://u:p%20w@" + tlsSrv.Addr() + "?starttls=mandatory"; tlsSrv.URL() != want {
		t.Errorf("URL() = %q, want %q", tlsSrv.URL(), want)
	}
	c, err := smtp.DialStartTLS(tlsSrv.Addr(), tlsSrv.ClientTLSConfig())
	if err != nil {
		t.Fatalf("STARTTLS with ClientTLSConfig: %v", err)
	}
	c.Close()
}

// fatalRecorder records Fatalf instead of failing the real test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestWaitForTimesOut(t *testing.T) {
	srv := smtptest.NewServer(t)
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		srv.WaitFor(rec, 1, 50*time.Millisecond)
	}()
	<-done
	if !strings.Contains(rec.msg, "got 0 messages") {
		t.Errorf("WaitFor failure = %q", rec.msg)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("WaitFor took %v", d)
	}
}

func TestWaitForWakesOnDelivery(t *testing.T) {
	srv := smtptest.NewServer(t)
	go func() {
		time.Sleep(20 * time.Millisecond)
		_ = plainSendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, "Subject: x\r\n\r\nx\r\n")
	}()
	if got := srv.WaitFor(t, 1, 5*time.Second); len(got) != 1 {
		t.Errorf("got %d messages", len(got))
	}
}
