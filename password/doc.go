// Package password hashes, verifies and vets passwords for latch.
//
// # Hashing
//
// New hashes are argon2id (golang.org/x/crypto/argon2), the first choice
// of the OWASP Password Storage Cheat Sheet, with DefaultParams set to its
// minimum (m=19 MiB, t=2, p=1). They are stored as PHC strings,
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// which carry their own parameters, so the parameters can be raised later
// without breaking stored hashes: Verify reports needsRehash and the
// application stores a fresh hash at the next successful login.
//
// Passwords are NFKC-normalised before hashing and verifying (NIST SP
// 800-63B asks for NFKC or NFKD), so a password typed with a composed "é"
// on one device and a decomposed "e" + U+0301 on another is the same
// password. Nothing else is changed: passwords are never trimmed, never
// truncated, never case-folded. Every byte counts, up to MaxBytes (4096);
// longer input is refused with ErrTooLong before any work is done.
//
// # Bounded concurrency
//
// One argon2id hash takes 19 MiB and tens of milliseconds of a core. A
// flood of login attempts, honest or not, could otherwise start thousands
// at once and exhaust the server's memory, or starve every other request.
// A Hasher therefore admits at most MaxConcurrent computations at a time,
// lets at most MaxQueue more callers wait (blocked on a channel, not
// spinning) for at most MaxWait, and turns everyone else away at once with
// an error matching ErrBusy whose *BusyError suggests a Retry-After. InFlight,
// Queued and OnWait expose the state for metrics. Imported legacy formats
// are expensive too and go through the same admission control.
//
// # Unknown accounts
//
// When a login names an account that does not exist, call DummyVerify: it
// costs what a real Verify costs, so response times do not reveal which
// accounts exist.
//
// # Importing users from other systems
//
// Verify also accepts the hashes of the systems sites move from, so that
// their users can be imported as they are and upgraded to argon2id at
// their next login (Verify → needsRehash → Hash → store):
//
//   - bcrypt $2a$, $2b$, $2y$ (Devise, Laravel, PocketBase, Python bcrypt);
//   - werkzeug (Flask) pbkdf2:sha256:ITER$salt$hex, other hashlib digests,
//     and scrypt:N:r:p$salt$hex;
//   - Django pbkdf2_sha256$, pbkdf2_sha1$, bcrypt_sha256$, bcrypt$ and
//     argon2$;
//   - argon2id and argon2i PHC strings made by other software.
//
// These are verified against the password exactly as received, without
// NFKC, because the systems that made them hashed it raw. Identify names
// the format of a stored hash. Stored hashes are treated as untrusted
// input: their parsers never panic, and cost parameters beyond sane bounds
// (listed at Verify) are refused before anything is computed.
//
// bcrypt only ever hashed the first 72 bytes of a password. A bcrypt hash
// imported from another system therefore matches any password that shares
// those 72 bytes, exactly as it did on that system; Verify keeps that
// behaviour so that users with longer passwords can still log in, and the
// argon2id hash stored at their first login covers the whole password
// from then on. The same goes for a quirk of the HMAC inside PBKDF2 and
// scrypt: a password and the same password followed by NUL bytes (up to
// the hash's block size) give the same key. No real user types a NUL, and
// the upgrade ends this too.
//
// # Choosing passwords
//
// Policy implements the NIST SP 800-63B and OWASP ASVS 5.0 rules for new
// passwords: a length range counted in code points (at least 8, at least
// 64 allowed), no composition rules, and a blocklist: common passwords,
// one repeated character, and words from the context (username, email,
// product name). Its errors carry a message meant for the user.
//
// The common-password list is the "passwords-common" dictionary of
// zxcvbn-ts (@zxcvbn-ts/language-common 4.1.3), reduced to its entries of
// 8 or more characters. It is MIT-licensed, Copyright (c) 2012-2016 Dan
// Wheeler and Dropbox, Inc. and Copyright (c) 2021 @zxcvbn-ts; the licence
// and provenance are in common-passwords.NOTICE next to the list.
package password
