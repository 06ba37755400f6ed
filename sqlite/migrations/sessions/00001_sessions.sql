-- The tables of latch's session store: sessions, remember-me tokens and
-- rate-limit attempts. They are all that latch.Store and throttle.Store
-- need, so an application that keeps its own users creates nothing else.
-- Every table latch creates starts with latch_, and each set of tables has
-- its own goose version table (this one: latch_schema_sessions), so latch
-- lives beside an application's tables — and its migrations — in one file.
--
-- Times are INTEGER unix milliseconds (UTC). Tables are STRICT, so a value
-- of the wrong type is refused instead of being stored as something else.
-- Every migration runs in one transaction (goose's default). Keep it so: a
-- process that lost a race to apply a migration relies on the rollback of
-- its transaction to leave nothing behind (see migrate in sqlite.go).

-- +goose Up

-- latch_sessions: user_id is TEXT with no foreign key, so that the store
-- serves applications that keep their own users. '' is an anonymous
-- session. epoch is the user's credential epoch when it was issued.
CREATE TABLE latch_sessions (
    hash         TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL DEFAULT '',
    series       TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT '',
    data         BLOB,
    epoch        INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX latch_sessions_user_id ON latch_sessions (user_id);
CREATE INDEX latch_sessions_series ON latch_sessions (series);
CREATE INDEX latch_sessions_expires_at ON latch_sessions (expires_at);

-- latch_remember_tokens: rotated_at is NULL while the token is current.
CREATE TABLE latch_remember_tokens (
    selector       TEXT    PRIMARY KEY,
    validator_hash TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    series         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    rotated_at     INTEGER,
    ip             TEXT    NOT NULL DEFAULT '',
    user_agent     TEXT    NOT NULL DEFAULT '',
    epoch          INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX latch_remember_tokens_user_id ON latch_remember_tokens (user_id);
CREATE INDEX latch_remember_tokens_series ON latch_remember_tokens (series);
CREATE INDEX latch_remember_tokens_expires_at ON latch_remember_tokens (expires_at);
CREATE INDEX latch_remember_tokens_series_rotated ON latch_remember_tokens (series, rotated_at);

-- latch_attempts: one row per attempt; keys are opaque (any byte but NUL).
CREATE TABLE latch_attempts (
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
) STRICT;
CREATE INDEX latch_attempts_key_at ON latch_attempts (key, at);
CREATE INDEX latch_attempts_at ON latch_attempts (at);

-- +goose Down
DROP TABLE latch_attempts;
DROP TABLE latch_remember_tokens;
DROP TABLE latch_sessions;
