-- The tables of the account package: users and what belongs to them. They
-- come only with sqlite.OpenAccounts; the session store never creates
-- them. Version table: latch_schema_accounts.
--
-- Everything that belongs to a user has a foreign key to latch_users with
-- ON DELETE CASCADE: deleting the user deletes it, in the same transaction,
-- whatever path the deletion takes. (Sessions and remember-me tokens have
-- no such key; see the session store's migrations.) Connections run with
-- foreign_keys on (sqlite.go), which the cascade needs. The same rules as
-- for the session store hold: STRICT tables, INTEGER unix milliseconds,
-- one transaction per migration.

-- +goose Up

-- latch_users: AUTOINCREMENT so that the id of a deleted user is never
-- given to a new one; a session, token or log line that still names the
-- old id must not start to mean someone else. Usernames and emails are
-- ASCII-only at the application layer, so SQLite's ASCII-only lower()
-- makes these indexes exactly case-insensitive. username_skeleton is
-- account.UsernameSkeleton(username): names a reader cannot tell apart
-- cannot both exist. email_confirmed_at is NULL while unconfirmed;
-- totp_last_step is the last TOTP time step used (0: none);
-- credential_epoch only grows (see account.Store.RevokeCredentials).
CREATE TABLE latch_users (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    username           TEXT    NOT NULL,
    email              TEXT    NOT NULL,
    password_hash      TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    disabled           INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    email_confirmed_at INTEGER,
    totp_secret        TEXT    NOT NULL DEFAULT '',
    totp_last_step     INTEGER NOT NULL DEFAULT 0,
    credential_epoch   INTEGER NOT NULL DEFAULT 0,
    username_skeleton  TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX latch_users_username_ci ON latch_users (lower(username));
CREATE UNIQUE INDEX latch_users_email_ci ON latch_users (lower(email));
CREATE UNIQUE INDEX latch_users_username_skeleton ON latch_users (username_skeleton);

-- latch_api_tokens: AUTOINCREMENT so that the id of a revoked token is
-- never given to a new one. hash is looked up on every API request.
-- last_used_at and expires_at are NULL for "never".
CREATE TABLE latch_api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES latch_users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER,
    epoch        INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX latch_api_tokens_user_id ON latch_api_tokens (user_id, created_at);

-- latch_one_time_tokens: at most a few per user (the newest of each
-- purpose).
CREATE TABLE latch_one_time_tokens (
    hash       TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES latch_users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    email      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    epoch      INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX latch_one_time_tokens_user_id ON latch_one_time_tokens (user_id, purpose);

-- latch_recovery_codes: the key is per user, so two users may hold the
-- same hash, and the primary key serves every query (all are by user).
CREATE TABLE latch_recovery_codes (
    user_id INTEGER NOT NULL REFERENCES latch_users (id) ON DELETE CASCADE,
    hash    TEXT    NOT NULL,
    PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID;

-- latch_audit_events: user_id is NULL for events of no known account (a
-- failed login for an unknown email). AUTOINCREMENT keeps ids growing,
-- which breaks ties between events of the same millisecond.
CREATE TABLE latch_audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER REFERENCES latch_users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    ip         TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX latch_audit_events_user_id ON latch_audit_events (user_id, at);
CREATE INDEX latch_audit_events_at ON latch_audit_events (at);

-- +goose Down
DROP TABLE latch_audit_events;
DROP TABLE latch_recovery_codes;
DROP TABLE latch_one_time_tokens;
DROP TABLE latch_api_tokens;
DROP TABLE latch_users;
