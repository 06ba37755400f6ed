package mailer

import (
	"context"
	"log/slog"
	"strings"
	"unicode"
)

// Log is a [Sender] that writes each mail to a logger instead of sending
// it, for running the site locally without a mail server: the developer
// reads the reset or confirmation link in the log and opens it.
//
// FOR DEVELOPMENT ONLY. The log then contains working one-time links
// (password reset, email confirmation) and recipients' addresses, which
// ASVS 16.2.5 forbids in production logs: anyone who can read the log can
// take over any account that requests a reset. The site logs a warning at
// start-up when Log is in use.
type Log struct {
	logger *slog.Logger
}

// NewLog returns a Sender that logs each message at INFO on logger
// (slog.Default() if nil) with the attributes to, subject and text, plus one
// link attribute per http(s) URL in the text so that it can be clicked in a
// terminal. See [Log] for why this is only for development.
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{logger: logger}
}

// Send validates m (the same rules as [SMTP], so that a mail refused in
// production is refused in development too) and logs it.
func (l *Log) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	attrs := []slog.Attr{
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("text", m.Text),
	}
	for _, link := range links(m.Text) {
		attrs = append(attrs, slog.String("link", link))
	}
	l.logger.LogAttrs(ctx, slog.LevelInfo, "mail not sent, logged instead (development only: no SMTP server configured)", attrs...)
	return nil
}

// links returns the http:// and https:// URLs in text, in order.
func links(text string) []string {
	var out []string
	for field := range strings.FieldsFuncSeq(text, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("<>\"'`", r)
	}) {
		i := strings.Index(field, "http://")
		if j := strings.Index(field, "https://"); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i < 0 {
			continue
		}
		if u := strings.TrimRight(field[i:], ".,;:!?)]}"); len(u) > len("https://") {
			out = append(out, u)
		}
	}
	return out
}
