-- The initial schema of latch's SQLite backend.
--
-- Times are INTEGER unix milliseconds (UTC). Tables are STRICT, so a value
-- of the wrong type is refused instead of being stored as something else.
--
-- Every migration runs in one transaction (goose's default). Keep it so: a
-- process that lost a race to apply a migration relies on the rollback of
-- its transaction to leave nothing behind (see migrate in sqlite.go).

-- +goose Up

-- users: AUTOINCREMENT so that the id of a deleted user is never given to a
-- new one; a session, token or log line that still names the old id must
-- not start to mean someone else. Usernames and emails are ASCII-only at
-- the application layer, so SQLite's ASCII-only lower() makes these
-- indexes exactly case-insensitive.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
) STRICT;
CREATE UNIQUE INDEX users_username_ci ON users (lower(username));
CREATE UNIQUE INDEX users_email_ci ON users (lower(email));

-- sessions: user_id is TEXT with no foreign key to users, so that the
-- session store also serves applications that keep their own users.
-- '' is an anonymous session.
CREATE TABLE sessions (
    hash         TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL DEFAULT '',
    series       TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT '',
    data         BLOB
) STRICT;
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_series ON sessions (series);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- remember_tokens: rotated_at is NULL while the token is current.
CREATE TABLE remember_tokens (
    selector       TEXT    PRIMARY KEY,
    validator_hash TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    series         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    rotated_at     INTEGER,
    ip             TEXT    NOT NULL DEFAULT '',
    user_agent     TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX remember_tokens_user_id ON remember_tokens (user_id);
CREATE INDEX remember_tokens_series ON remember_tokens (series);
CREATE INDEX remember_tokens_expires_at ON remember_tokens (expires_at);

-- attempts: one row per attempt; keys are opaque (any byte but NUL).
CREATE TABLE attempts (
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
) STRICT;
CREATE INDEX attempts_key_at ON attempts (key, at);
CREATE INDEX attempts_at ON attempts (at);

-- +goose Down
DROP TABLE attempts;
DROP TABLE remember_tokens;
DROP TABLE sessions;
DROP TABLE users;
