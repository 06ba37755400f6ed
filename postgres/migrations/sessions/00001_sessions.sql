-- The tables of latch's session store: sessions, remember-me tokens and
-- rate-limit attempts — all that latch.Store and throttle.Store need, so
-- an application that keeps its own users gets nothing else. Every table
-- latch creates starts with latch_, and each set of tables has its own
-- goose version table (this one: latch_schema_sessions), so latch lives
-- beside an application's tables and migrations in one schema.
--
-- Objects are created unqualified, in the first schema of the connection's
-- search_path, so a URL with search_path=<schema> gives an installation a
-- schema of its own. Migrations run one at a time under an advisory lock
-- (see migrate in postgres.go), each in one transaction: keep it so.
--
-- Times are timestamptz (microseconds). Text that comes from request
-- headers (ip, user_agent) is text; the store replaces the bytes that text
-- cannot hold (NUL, invalid UTF-8). Rate-limit keys are opaque bytes and
-- are stored as bytea. Identifiers only ever compared for equality use
-- the "C" collation: byte comparison, which is what they mean.

-- +goose Up

-- latch_sessions: user_id is text with no foreign key, so that the store
-- serves applications that keep their own users. '' is an anonymous
-- session, and no session is in the series ''; the partial indexes leave
-- those out. epoch is the user's credential epoch when it was issued.
CREATE TABLE latch_sessions (
    hash         text        COLLATE "C" PRIMARY KEY,
    user_id      text        COLLATE "C" NOT NULL DEFAULT '',
    series       text        COLLATE "C" NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ip           text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT '',
    data         bytea,
    epoch        bigint      NOT NULL DEFAULT 0
);
CREATE INDEX latch_sessions_user_id ON latch_sessions (user_id) WHERE user_id <> '';
CREATE INDEX latch_sessions_series ON latch_sessions (series) WHERE series <> '';
CREATE INDEX latch_sessions_expires_at ON latch_sessions (expires_at);

-- latch_remember_tokens: rotated_at is NULL while the token is current.
CREATE TABLE latch_remember_tokens (
    selector       text        COLLATE "C" PRIMARY KEY,
    validator_hash text        NOT NULL,
    user_id        text        COLLATE "C" NOT NULL,
    series         text        COLLATE "C" NOT NULL,
    created_at     timestamptz NOT NULL,
    last_used_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    rotated_at     timestamptz,
    ip             text        NOT NULL DEFAULT '',
    user_agent     text        NOT NULL DEFAULT '',
    epoch          bigint      NOT NULL DEFAULT 0
);
CREATE INDEX latch_remember_tokens_user_id ON latch_remember_tokens (user_id);
CREATE INDEX latch_remember_tokens_series ON latch_remember_tokens (series);
CREATE INDEX latch_remember_tokens_expires_at ON latch_remember_tokens (expires_at);
CREATE INDEX latch_remember_tokens_series_rotated ON latch_remember_tokens (series, rotated_at) WHERE rotated_at IS NOT NULL;

-- latch_attempts: one row per attempt. Keys may hold any byte but NUL,
-- which text does not accept when they are not UTF-8, hence bytea.
CREATE TABLE latch_attempts (
    key bytea       NOT NULL,
    at  timestamptz NOT NULL
);
CREATE INDEX latch_attempts_key_at ON latch_attempts (key, at);
CREATE INDEX latch_attempts_at ON latch_attempts (at);

-- The change feed of latch.ChangeTracker: every statement that changes
-- sessions notifies latch_changes with the schema as payload, so that every
-- instance's Store (listening on a connection of its own) stops serving
-- what its read cache holds. NOTIFY is delivered at commit, never for a
-- rolled-back change, and several in one transaction are delivered once.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION latch_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('latch_changes', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER latch_sessions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON latch_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION latch_notify_change();

-- +goose Down
DROP TRIGGER latch_sessions_changed ON latch_sessions;
DROP TABLE latch_attempts;
DROP TABLE latch_remember_tokens;
DROP TABLE latch_sessions;
