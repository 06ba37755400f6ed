package mailer

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// DefaultTimeout bounds connecting to the mail server and each exchange
// with it (go-mail applies it to the dial and to every SMTP command).
const DefaultTimeout = 10 * time.Second

// TLSMode says how an [SMTP] sender protects the connection.
type TLSMode int

const (
	// STARTTLSMandatory upgrades the connection with STARTTLS and refuses
	// to send if the server does not offer it or its certificate does not
	// verify. The default for smtp:// URLs to any host that is not a
	// loopback address.
	STARTTLSMandatory TLSMode = iota
	// STARTTLSOpportunistic uses STARTTLS when the server offers it (and
	// then requires a valid certificate) and plaintext otherwise. The
	// default for smtp:// URLs to a loopback host (a local relay).
	STARTTLSOpportunistic
	// NoTLS never encrypts. Only for relays on a trusted network.
	NoTLS
	// ImplicitTLS speaks TLS from the first byte (smtps://, RFC 8314).
	ImplicitTLS
)

func (m TLSMode) String() string {
	switch m {
	case STARTTLSMandatory:
		return "starttls=mandatory"
	case STARTTLSOpportunistic:
		return "starttls=opportunistic"
	case NoTLS:
		return "starttls=none"
	case ImplicitTLS:
		return "implicit TLS"
	}
	return "unknown"
}

// SMTP is a [Sender] that delivers through an SMTP server, one connection
// per message. It is safe for concurrent use. Its String and LogValue
// methods never show the password.
type SMTP struct {
	host      string
	port      int
	loopback  bool // host is a loopback address: AUTH may go without TLS
	mode      TLSMode
	username  string
	password  string
	from      *mail.Address
	timeout   time.Duration
	tlsConfig *tls.Config
}

// SMTPOption configures [NewSMTP].
type SMTPOption func(*SMTP) error

// WithTLSConfig sets the TLS configuration for STARTTLS and implicit TLS,
// for example to trust a private CA or a test server's self-signed
// certificate (smtptest.Server.ClientTLSConfig). The config is cloned; an
// empty ServerName is set to the URL's host, and MinVersion is raised to
// TLS 1.2 if lower. Certificate verification cannot be turned off this way:
// InsecureSkipVerify is refused.
func WithTLSConfig(c *tls.Config) SMTPOption {
	return func(s *SMTP) error {
		if c == nil {
			return errors.New("mailer: WithTLSConfig: nil config")
		}
		if c.InsecureSkipVerify {
			return errors.New("mailer: WithTLSConfig: InsecureSkipVerify is not allowed; add the server's certificate to RootCAs instead")
		}
		s.tlsConfig = c.Clone()
		return nil
	}
}

// WithTimeout replaces [DefaultTimeout], the bound on connecting and on
// each SMTP exchange.
func WithTimeout(d time.Duration) SMTPOption {
	return func(s *SMTP) error {
		if d <= 0 {
			return errors.New("mailer: WithTimeout: timeout must be positive")
		}
		s.timeout = d
		return nil
	}
}

// NewSMTP returns a Sender that delivers through the SMTP server named by
// rawURL, with from as the sender.
//
// URL forms:
//
//	smtp://host[:port]               STARTTLS, port 587 by default
//	smtp://user:pass@host[:port]     the same, with SMTP AUTH
//	smtps://user:pass@host[:port]    implicit TLS, port 465 by default
//	smtp://host?starttls=mandatory|opportunistic|none
//
// With smtp://, STARTTLS is mandatory unless the host is a loopback address
// (127.0.0.0/8, ::1 or "localhost"), where it is opportunistic so that a
// local relay without TLS works; ?starttls= overrides either default.
// Certificates are always verified (see [WithTLSConfig]).
//
// A username and password in the URL (percent-encoded where needed) turn
// on SMTP AUTH; the mechanism is chosen by go-mail's auto-discovery among
// those the server offers (SCRAM, CRAM-MD5, PLAIN, LOGIN). Credentials are
// only ever sent over TLS, except to a loopback host: NewSMTP refuses
// credentials for a non-loopback host unless TLS is mandatory or implicit.
//
// from is the sender address, either plain (no-reply@example.com) or with
// a display name (latch <no-reply@example.com>); it must not contain CR,
// LF or NUL.
//
// Errors describe what is wrong without repeating the URL, so they never
// contain the password.
func NewSMTP(rawURL, from string, opts ...SMTPOption) (*SMTP, error) {
	s, err := parseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	if s.from, err = parseFrom(from); err != nil {
		return nil, err
	}
	s.timeout = DefaultTimeout
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	if s.tlsConfig == nil {
		s.tlsConfig = &tls.Config{}
	}
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = s.host
	}
	if s.tlsConfig.MinVersion < tls.VersionTLS12 {
		s.tlsConfig.MinVersion = tls.VersionTLS12
	}
	return s, nil
}

// urlError returns an error about the SMTP URL. It never includes any part
// of the URL: a password with an unencoded "/", "#" or "@" makes the parser
// misplace it into the host, port or path.
func urlError(reason string) error {
	return errors.New("mailer: SMTP URL: " + reason)
}

func parseSMTPURL(rawURL string) (*SMTP, error) {
	if rawURL == "" {
		return nil, urlError("empty")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error quotes the URL; say only that it failed.
		return nil, urlError("cannot be parsed (percent-encode special characters in the user name and password)")
	}
	s := &SMTP{}
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port = 465
		s.mode = ImplicitTLS
	default:
		return nil, urlError("scheme must be smtp:// or smtps://")
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, urlError("missing host (want smtp://[user:password@]host[:port])")
	}
	if (u.Path != "" && u.Path != "/") || u.Fragment != "" || u.RawFragment != "" {
		return nil, urlError("unexpected path or fragment (percent-encode special characters in the user name and password)")
	}
	s.host = u.Hostname()
	if !validHost(s.host) {
		return nil, urlError("invalid host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, urlError("invalid port")
		}
		s.port = n
	}
	s.loopback = isLoopback(s.host)
	if s.mode != ImplicitTLS {
		s.mode = STARTTLSMandatory
		if s.loopback {
			s.mode = STARTTLSOpportunistic
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, urlError("invalid query")
	}
	for k, v := range q {
		if k != "starttls" {
			return nil, urlError("unknown parameter (only starttls is supported)")
		}
		if s.mode == ImplicitTLS {
			return nil, urlError("starttls cannot be combined with smtps://")
		}
		if len(v) != 1 {
			return nil, urlError("starttls given more than once")
		}
		switch strings.ToLower(v[0]) {
		case "mandatory":
			s.mode = STARTTLSMandatory
		case "opportunistic":
			s.mode = STARTTLSOpportunistic
		case "none":
			s.mode = NoTLS
		default:
			return nil, urlError("starttls must be mandatory, opportunistic or none")
		}
	}
	if u.User != nil {
		s.username = u.User.Username()
		pass, ok := u.User.Password()
		if s.username == "" {
			return nil, urlError("password without user name")
		}
		if !ok || pass == "" {
			return nil, urlError("user name without password")
		}
		s.password = pass
		if strings.ContainsAny(s.username, "\x00\r\n") || strings.ContainsAny(s.password, "\x00\r\n") {
			return nil, urlError("user name or password contains NUL, CR or LF")
		}
		if !s.loopback && s.mode != STARTTLSMandatory && s.mode != ImplicitTLS {
			return nil, urlError("refusing to send credentials to a non-loopback host without mandatory TLS (use starttls=mandatory or smtps://)")
		}
	}
	return s, nil
}

// validHost reports whether h is an IP address or a DNS name.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	return validDomain(strings.TrimSuffix(h, "."))
}

// isLoopback reports whether host is "localhost" or a loopback IP address
// (127.0.0.0/8, ::1). Names other than "localhost" are not resolved: what
// they resolve to can change.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parseFrom(from string) (*mail.Address, error) {
	if strings.ContainsAny(from, "\x00\r\n") {
		return nil, errors.New("mailer: from address contains NUL, CR or LF")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, errors.New("mailer: from is not a valid address (want addr@example.com or Name <addr@example.com>)")
	}
	for _, r := range a.Name {
		if isLineBreakOrControl(r) {
			return nil, errors.New("mailer: from display name contains a control character")
		}
	}
	if err := checkAddress("from", a.Address); err != nil {
		return nil, fmt.Errorf("mailer: from address: %w", err)
	}
	return a, nil
}

// String describes the sender without the password, for logs and errors.
func (s *SMTP) String() string {
	scheme := "smtp"
	if s.mode == ImplicitTLS {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(s.host, strconv.Itoa(s.port))}
	if s.username != "" {
		u.User = url.UserPassword(s.username, "xxxxx")
	}
	if s.mode != ImplicitTLS {
		u.RawQuery = s.mode.String()
	}
	return u.String()
}

// LogValue implements slog.LogValuer; like String it omits the password.
func (s *SMTP) LogValue() slog.Value {
	return slog.StringValue(s.String())
}

// TLSMode returns how the connection is protected.
func (s *SMTP) TLSMode() TLSMode { return s.mode }

// Send delivers m to its one recipient. It validates m first and returns
// an error wrapping [ErrInvalidMessage], without connecting, if m is not
// safe to send. ctx bounds connecting; if it has a deadline sooner than the
// timeout, that deadline also bounds each SMTP exchange. Delivery errors
// never contain the recipient's address; SMTP 5xx replies match
// [ErrPermanent].
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	timeout := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return context.DeadlineExceeded
		}
		timeout = min(timeout, left)
	}

	msg, err := s.buildMsg(m)
	if err != nil {
		return err
	}
	// A new go-mail client per message: the client keeps per-connection
	// state (its auth selection among it) that is not safe to share
	// between concurrent sends.
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(s.tlsConfig),
	}
	switch s.mode {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case STARTTLSMandatory:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case STARTTLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.username != "" {
		opts = append(opts, gomail.WithUsername(s.username), gomail.WithPassword(s.password))
		if s.loopback {
			// To a local relay, PLAIN and LOGIN may go without TLS
			// (go-mail's auto-discovery offers them only over TLS).
			opts = append(opts, gomail.WithOpportunisticSMTPAuth(
				gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
				gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc))
		} else {
			// TLS is mandatory here (checked in NewSMTP), so
			// auto-discovery picks the best mechanism, PLAIN or LOGIN
			// included, over an encrypted connection.
			opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover))
		}
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("mailer: smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return newDeliveryError(err, m.To)
	}
	return nil
}

func (s *SMTP) buildMsg(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.EnvelopeFrom(s.from.Address); err != nil {
		return nil, fmt.Errorf("%w: from", ErrInvalidMessage)
	}
	if err := msg.To(m.To); err != nil {
		return nil, invalid("To is not a single plain address (local@domain)")
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	// Our own Message-ID: go-mail's would carry this machine's host name.
	var id [16]byte
	_, _ = rand.Read(id[:])
	msg.SetMessageIDWithValue(hex.EncodeToString(id[:]) + "@" + domainOf(s.from.Address))
	// RFC 3834: an automatic mail; auto-responders should not answer.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return msg, nil
}

// deliveryError is a failed SMTP delivery. Its message has the recipient's
// address replaced by "<recipient>".
type deliveryError struct {
	msg       string
	code      int // SMTP reply code, 0 if none
	permanent bool
	err       error
}

func newDeliveryError(err error, to string) error {
	e := &deliveryError{msg: "mailer: smtp: " + redact(err.Error(), to), err: err}
	var se *gomail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		e.code = se.ErrorCode()
	case errors.As(err, &te):
		e.code = te.Code
	}
	e.permanent = e.code >= 500 && e.code < 600
	return e
}

func (e *deliveryError) Error() string { return e.msg }

// Unwrap gives access to the cause (for context.DeadlineExceeded and the
// like). The cause's own message may contain the recipient's address.
func (e *deliveryError) Unwrap() error { return e.err }

func (e *deliveryError) Is(target error) bool {
	return target == ErrPermanent && e.permanent
}
