// Package smtptest runs a real SMTP server on 127.0.0.1 for tests: the
// code under test sends mail over the network exactly as in production,
// and the test reads what arrived and follows its links.
//
//	srv := smtptest.NewServer(t)
//	site := startSite(t, "-smtp", srv.URL())
//	// ... ask for a password reset ...
//	msg := srv.WaitFor(t, 1, 5*time.Second)[0]
//	resetURL := smtptest.Link(msg.Text, "http://127.0.0.1:8080/reset/")
//
// The server accepts mail for any recipient. Options make it require
// AUTH PLAIN, offer STARTTLS or speak implicit TLS with a self-signed
// certificate generated in-process (trusted by [Server.ClientTLSConfig]),
// or fail the first deliveries to exercise retries.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message as the server received it.
type Received struct {
	From    string      // envelope sender (MAIL FROM)
	To      []string    // envelope recipients (RCPT TO)
	Header  mail.Header // the message's header fields
	Subject string      // the Subject header, RFC 2047 words decoded
	// Text is the body decoded from its Content-Transfer-Encoding
	// (quoted-printable or base64, as go-mail writes it), with CRLF line
	// endings turned into "\n". For a multipart message it is the first
	// text/plain part. SMTP transmits whole lines, so a text sent without
	// a final line break arrives with one.
	Text string
	Data []byte // the raw message as received after DATA
	TLS  bool   // whether the session was encrypted (STARTTLS or implicit TLS)
	User string // the user name the client authenticated as, "" without AUTH
}

// Option configures [NewServer].
type Option func(*Server)

// WithAuth makes the server offer AUTH PLAIN and refuse mail from clients
// that have not authenticated with username and password. Without TLS,
// AUTH is offered in plaintext (the server is on loopback); with TLS, only
// after STARTTLS.
func WithAuth(username, password string) Option {
	return func(s *Server) {
		s.username, s.password, s.auth = username, password, true
	}
}

// WithSTARTTLS makes the server offer STARTTLS with a self-signed
// certificate for 127.0.0.1, ::1 and localhost. Clients trust it through
// [Server.ClientTLSConfig]. [Server.URL] then asks for starttls=mandatory.
func WithSTARTTLS() Option {
	return func(s *Server) { s.startTLS = true }
}

// WithImplicitTLS makes the server speak TLS from the first byte (smtps)
// with the self-signed certificate; [Server.URL] returns an smtps:// URL.
func WithImplicitTLS() Option {
	return func(s *Server) { s.implicitTLS = true }
}

// WithFailFirst makes the server answer the first n MAIL FROM commands
// with "451 4.3.0 Try again later", a temporary failure.
func WithFailFirst(n int) Option {
	return func(s *Server) { s.failFirst = n }
}

// WithRejectRecipient makes the server answer RCPT TO for addr (ignoring
// case) with "550 5.1.1 No such user", a permanent failure.
func WithRejectRecipient(addr string) Option {
	return func(s *Server) { s.reject = append(s.reject, strings.ToLower(addr)) }
}

// Server is a running SMTP server. It is safe for concurrent use.
type Server struct {
	username, password string
	auth               bool
	startTLS           bool
	implicitTLS        bool
	failFirst          int
	reject             []string

	srv       *smtp.Server
	addr      string
	clientTLS *tls.Config

	mu       sync.Mutex
	msgs     []Received
	mails    int // MAIL FROM commands seen
	notify   chan struct{}
	logClose bool
	t        testing.TB
}

// NewServer starts a server on 127.0.0.1 on a free port. It is closed when
// the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, notify: make(chan struct{})}
	for _, opt := range opts {
		opt(s)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.addr = l.Addr().String()

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 50
	srv.ErrorLog = testLogger{s}
	if s.startTLS || s.implicitTLS {
		cert, pool, err := selfSigned()
		if err != nil {
			l.Close()
			t.Fatalf("smtptest: certificate: %v", err)
		}
		serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.clientTLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		if s.startTLS {
			srv.TLSConfig = serverTLS
		}
		if s.implicitTLS {
			l = tls.NewListener(l, serverTLS)
		}
	} else {
		// Plaintext on loopback: let tests exercise AUTH without TLS.
		srv.AllowInsecureAuth = true
	}
	s.srv = srv

	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
		s.mu.Lock()
		s.logClose = true
		s.mu.Unlock()
	})
	return s
}

// testLogger forwards the server's error log to the test until it ends.
type testLogger struct{ s *Server }

func (l testLogger) Printf(format string, v ...any) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if !l.s.logClose {
		l.s.t.Logf("smtptest: "+format, v...)
	}
}

func (l testLogger) Println(v ...any) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if !l.s.logClose {
		l.s.t.Log(append([]any{"smtptest:"}, v...)...)
	}
}

// Addr returns the server's host:port (127.0.0.1:port).
func (s *Server) Addr() string { return s.addr }

// URL returns an smtp:// URL for the server, for the site's -smtp setting:
// with the user name and password of [WithAuth], "?starttls=mandatory"
// with [WithSTARTTLS], and the smtps scheme with [WithImplicitTLS]. With
// either TLS option the client must also trust [Server.ClientTLSConfig].
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.addr}
	if s.implicitTLS {
		u.Scheme = "smtps"
	} else if s.startTLS {
		u.RawQuery = "starttls=mandatory"
	}
	if s.auth {
		u.User = url.UserPassword(s.username, s.password)
	}
	return u.String()
}

// ClientTLSConfig returns a TLS configuration that trusts the server's
// self-signed certificate (for mailer.WithTLSConfig), or nil if the server
// has no TLS. ServerName is left empty for the client to fill in.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Messages returns the messages received so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Reset forgets the messages received so far.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
}

// WaitFor waits until at least n messages have arrived and returns all of
// them, oldest first. It fails the test if that takes longer than timeout.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			msgs := append([]Received(nil), s.msgs...)
			s.mu.Unlock()
			return msgs
		}
		notify := s.notify
		got := len(s.msgs)
		s.mu.Unlock()
		select {
		case <-notify:
		case <-deadline.C:
			t.Fatalf("smtptest: got %d messages within %v, want %d", got, timeout, n)
			return nil
		}
	}
}

// Link returns the first URL in text that starts with prefix, up to the
// next space, line break, quote or angle bracket, without trailing
// punctuation; "" if there is none.
func Link(text, prefix string) string {
	if prefix == "" {
		return ""
	}
	i := strings.Index(text, prefix)
	if i < 0 {
		return ""
	}
	rest := text[i:]
	if end := strings.IndexFunc(rest, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>\"'`", r)
	}); end >= 0 {
		rest = rest[:end]
	}
	return strings.TrimRight(rest, ".,;:!?)]}")
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var (
	errTryLater = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	errNoUser   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
)

func (ss *session) AuthMechanisms() []string {
	if !ss.s.auth {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if !ss.s.auth || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if (identity != "" && identity != username) || username != ss.s.username || password != ss.s.password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.auth && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.s.mu.Lock()
	ss.s.mails++
	fail := ss.s.mails <= ss.s.failFirst
	ss.s.mu.Unlock()
	if fail {
		return errTryLater
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	for _, r := range ss.s.reject {
		if strings.EqualFold(r, to) {
			return errNoUser
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	rec := Received{
		From: ss.from,
		To:   append([]string(nil), ss.to...),
		Data: data,
		TLS:  isTLS,
		User: ss.user,
	}
	if msg, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		rec.Header = msg.Header
		dec := new(mime.WordDecoder)
		if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
			rec.Subject = subj
		} else {
			rec.Subject = msg.Header.Get("Subject")
		}
		rec.Text = bodyText(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, rec)
	close(ss.s.notify)
	ss.s.notify = make(chan struct{})
	ss.s.mu.Unlock()
	return nil
}

// bodyText decodes a body (or the first text/plain part of a multipart
// body) to text with "\n" line endings.
func bodyText(contentType, encoding string, body io.Reader) string {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err == nil && strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return ""
			}
			if t := p.Header.Get("Content-Type"); t == "" || strings.HasPrefix(strings.ToLower(t), "text/plain") {
				return bodyText(t, p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	}
	b, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.EOF) {
		return string(b)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// newlineStripper drops CR and LF, which base64 bodies are wrapped with.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }

// selfSigned returns a fresh ECDSA certificate for 127.0.0.1, ::1 and
// localhost, valid for a day, and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
