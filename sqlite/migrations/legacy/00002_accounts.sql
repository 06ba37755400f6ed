-- Accounts beyond a password: confirmed email addresses, two-factor
-- authentication, API tokens, one-time links, recovery codes and an audit
-- log.
--
-- Everything here belongs to a user, so each table has a foreign key to
-- users with ON DELETE CASCADE: deleting the user deletes it, in the same
-- transaction, whatever path the deletion takes. (Sessions and remember-me
-- tokens have no such key; see 00001_init.sql.) Connections run with
-- foreign_keys on (sqlite.go), which the cascade needs.
--
-- The same rules as in 00001_init.sql hold: STRICT tables, INTEGER unix
-- milliseconds, one transaction per migration.

-- +goose Up

-- email_confirmed_at is NULL while the address is unconfirmed.
-- totp_last_step is the last TOTP time step used, so that a code is
-- accepted once; 0 means none (steps are Unix time / 30, far above 0).
ALTER TABLE users ADD COLUMN email_confirmed_at INTEGER;
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- api_tokens: AUTOINCREMENT so that the id of a revoked token is never
-- given to a new one. hash is looked up on every API request; it is
-- unique, so a lookup finds one token at most. last_used_at and expires_at
-- are NULL for "never".
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER
) STRICT;
CREATE INDEX api_tokens_user_id ON api_tokens (user_id, created_at);

-- one_time_tokens: at most a few per user (the newest of each purpose).
CREATE TABLE one_time_tokens (
    hash       TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    email      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX one_time_tokens_user_id ON one_time_tokens (user_id, purpose);

-- recovery_codes: the key is per user, so two users may hold the same
-- hash, and the primary key serves every query (all are by user).
CREATE TABLE recovery_codes (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    TEXT    NOT NULL,
    PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID;

-- audit_events: user_id is NULL for events of no known account (a failed
-- login for an unknown email). AUTOINCREMENT keeps ids growing, which
-- breaks ties between events of the same millisecond.
CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    ip         TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_events_user_id ON audit_events (user_id, at);
CREATE INDEX audit_events_at ON audit_events (at);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE recovery_codes;
DROP TABLE one_time_tokens;
DROP TABLE api_tokens;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_secret;
ALTER TABLE users DROP COLUMN email_confirmed_at;
