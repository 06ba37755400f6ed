package mailer_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/latchgo/latch/mailer"
)

// Without an SMTP server, the site logs its mails so that a developer can
// open the links. The queue makes sending asynchronous, as in production.
func ExampleNewLog() {
	// A logger without timestamps, for a stable example output.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))

	q := mailer.NewQueue(mailer.NewLog(logger), logger)

	err := q.Enqueue(mailer.Message{
		To:      "ada@example.com",
		Subject: "Reset your password",
		Text:    "Open this link within 30 minutes:\nhttp://127.0.0.1:8080/reset/Zm9vYmFy\n",
	})
	if err != nil {
		logger.Warn("reset mail not queued", "error", err)
	}

	// At shutdown: deliver what is queued, for at most 10 seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		logger.Warn("mail queue not drained", "error", err)
	}
	// Output:
	// level=INFO msg="mail not sent, logged instead (development only: no SMTP server configured)" to=ada@example.com subject="Reset your password" text="Open this link within 30 minutes:\nhttp://127.0.0.1:8080/reset/Zm9vYmFy\n" link=http://127.0.0.1:8080/reset/Zm9vYmFy
}
