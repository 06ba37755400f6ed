// Package mailer sends latch's account mails: password reset links, email
// confirmation links and "your email address was changed" notices.
//
// A [Message] is one plain-text mail to one recipient. A [Sender] delivers
// it: [SMTP] through a mail server (on github.com/wneessen/go-mail), [Log]
// to the application log when no mail server is configured (development
// only), and [Queue] in the background through another Sender.
//
// # Why it is built this way
//
// Asynchronous delivery. A "forgot password" page must answer in the same
// time whether or not the address belongs to an account (OWASP Forgot
// Password Cheat Sheet, ASVS 6.3.8): if the page waited for the mail server
// only when there is a mail to send, its response time would tell an
// attacker which addresses are registered. The site therefore hands mails to
// a [Queue], whose [Queue.Enqueue] never blocks and never talks to the
// network; workers deliver in the background with retries, so a slow or
// failing mail server neither slows requests down nor loses the mail on the
// first hiccup.
//
// Plain text only. Account mails carry one link and a few sentences. Plain
// text has nothing to escape (a username in an HTML mail is an injection
// point), nothing to load (no tracking pixels, no remote images) and shows
// the link exactly as it is, which is what a user should check before
// clicking.
//
// One recipient per message. Every account mail goes to exactly one address
// taken from the account (CVE-2017-18908: a reset mail sent to an
// attacker-supplied second address). The recipient must be a single plain
// addr-spec, local@domain, with no display name, comments, quoted strings,
// commas or line breaks, and the subject and sender must not contain CR,
// LF or NUL; anything else is refused with [ErrInvalidMessage] before a
// connection is made (ASVS 1.3.11, mail injection). No Cc or Bcc exist.
//
// # Wiring it into a site
//
//	var s mailer.Sender
//	if smtpURL != "" {
//		smtp, err := mailer.NewSMTP(smtpURL, "latch <no-reply@example.com>")
//		if err != nil {
//			return err // the error never contains the password
//		}
//		s = smtp
//	} else {
//		logger.Warn("no SMTP server configured: mails, with their one-time links, are written to the log")
//		s = mailer.NewLog(logger)
//	}
//	q := mailer.NewQueue(s, logger)
//	defer q.Close(shutdownCtx) // delivers what is queued, up to the deadline
//
//	// in a handler:
//	if err := q.Enqueue(mailer.Message{To: user.Email, Subject: "Reset your password", Text: body}); err != nil {
//		logger.Warn("reset mail not queued", "error", err) // answer the user the same way regardless
//	}
//
// Package mailer/smtptest provides a real SMTP server on 127.0.0.1 for
// tests that read the mails and click their links.
package mailer
