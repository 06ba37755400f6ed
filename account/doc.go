// Package account holds what a login system needs beyond remembering who
// is logged in (which is package latch's job): users and the rules around
// their credentials.
//
//   - Service signs users up (username, email and password rules, taken
//     names reported per field), checks passwords (Authenticate), throttles
//     guessing per account and per client, costs the same for unknown
//     emails (a dummy hash), and upgrades old hashes (werkzeug, Django,
//     bcrypt) to argon2id at the next login.
//   - Recovery runs the flows that go through the mailbox: password reset,
//     email confirmation and change of email, with single-use hashed
//     tokens, links built from the configured base URL, and answers that do
//     not reveal whether an address has an account.
//   - TwoFactor enrols TOTP authenticator apps (QR code rendered on the
//     server), checks codes once each, and keeps ten hashed recovery codes.
//   - APITokens issues "Authorization: Bearer" tokens for programs (only a
//     hash is stored) and resolves them to users, for latch's request
//     loader.
//   - Auditor keeps a log of security events that users can read.
//
// Revocation has one home: Service.Revoke (and ChangePassword, SetDisabled,
// DeleteUser, which revoke too). Each raises the user's credential epoch
// (User.Epoch) in the store in one atomic write, together with the new
// password hash and the deletion of the user's API tokens and mailed
// links; every session, remember-me token, API token, link and pending
// second step issued under an earlier epoch is refused from then on, on
// every instance, whatever request is in flight. Deleting the sessions
// (Service.Sessions, the site's latch.Manager) is cleanup after that.
//
// Each of these takes the storage interfaces it consumes (Store,
// CredentialStore, OneTimeTokenStore, …); the sqlite and postgres packages
// implement all of them as Backend. User satisfies latch.User and
// latch.ActiveUser, so a latch.Manager[*account.User] logs these users in.
//
// Nothing here logs: errors are returned, and Service reports what it did
// through its Hook, which the latch site uses for its logs, metrics and
// audit log.
package account
