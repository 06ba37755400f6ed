-- The schema of latch's PostgreSQL backend.
--
-- Objects are created unqualified, in the first schema of the connection's
-- search_path, and goose keeps its version table there too, so a URL with
-- search_path=<schema> gives an installation its own schema. Migrations
-- run one at a time under an advisory lock (see migrate in postgres.go),
-- each in one transaction (goose's default): keep it so.
--
-- Times are timestamptz (microseconds). Text that comes from request
-- headers (ip, user_agent, detail) is text; the store replaces the bytes
-- that text cannot hold (NUL, invalid UTF-8). Rate-limit keys are opaque
-- bytes and are stored as bytea.

-- +goose Up

-- users: an identity that is GENERATED ALWAYS, so ids come only from the
-- sequence and are never reused, even after a delete or a rolled-back
-- insert: a session, token or log line that still names an old id must
-- not start to mean someone else. Usernames and emails are ASCII-only at
-- the application layer; lower() under the "C" collation folds exactly
-- the ASCII letters, whatever the database's locale (a Turkish locale
-- would fold 'I' to a dotless 'ı'), as SQLite's lower() does.
CREATE TABLE users (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username           text        NOT NULL,
    email              text        NOT NULL,
    password_hash      text        NOT NULL,
    created_at         timestamptz NOT NULL,
    disabled           boolean     NOT NULL DEFAULT false,
    email_confirmed_at timestamptz,
    totp_secret        text        NOT NULL DEFAULT '',
    totp_last_step     bigint      NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX users_username_ci ON users (lower(username COLLATE "C"));
CREATE UNIQUE INDEX users_email_ci ON users (lower(email COLLATE "C"));

-- Identifiers that are only ever compared for equality (hashes, selectors,
-- ids kept as text) use the "C" collation: byte comparison, which is what
-- they mean, and cheaper in indexes than a locale's rules.

-- sessions: user_id is text with no foreign key to users, so that the
-- session store also serves applications that keep their own users.
-- '' is an anonymous session, and no session is in the series ''; the
-- partial indexes leave those out.
CREATE TABLE sessions (
    hash         text        COLLATE "C" PRIMARY KEY,
    user_id      text        COLLATE "C" NOT NULL DEFAULT '',
    series       text        COLLATE "C" NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ip           text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT '',
    data         bytea
);
CREATE INDEX sessions_user_id ON sessions (user_id) WHERE user_id <> '';
CREATE INDEX sessions_series ON sessions (series) WHERE series <> '';
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- remember_tokens: rotated_at is NULL while the token is current.
CREATE TABLE remember_tokens (
    selector       text        COLLATE "C" PRIMARY KEY,
    validator_hash text        NOT NULL,
    user_id        text        COLLATE "C" NOT NULL,
    series         text        COLLATE "C" NOT NULL,
    created_at     timestamptz NOT NULL,
    last_used_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    rotated_at     timestamptz,
    ip             text        NOT NULL DEFAULT '',
    user_agent     text        NOT NULL DEFAULT ''
);
CREATE INDEX remember_tokens_user_id ON remember_tokens (user_id);
CREATE INDEX remember_tokens_series ON remember_tokens (series);
CREATE INDEX remember_tokens_expires_at ON remember_tokens (expires_at);

-- attempts: one row per attempt. Keys may hold any byte but NUL, which
-- text does not accept when they are not UTF-8, hence bytea.
CREATE TABLE attempts (
    key bytea       NOT NULL,
    at  timestamptz NOT NULL
);
CREATE INDEX attempts_key_at ON attempts (key, at);
CREATE INDEX attempts_at ON attempts (at);

-- Everything below belongs to a user: deleting the user deletes it, in the
-- same statement, through ON DELETE CASCADE.

-- api_tokens: hash is looked up on every API request, and unique, so a
-- lookup finds one token at most. NULL times mean "never".
CREATE TABLE api_tokens (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    hash         text        COLLATE "C" NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    expires_at   timestamptz
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id, created_at);

CREATE TABLE one_time_tokens (
    hash       text        COLLATE "C" PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        COLLATE "C" NOT NULL,
    email      text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX one_time_tokens_user_id ON one_time_tokens (user_id, purpose);

-- recovery_codes: per user, so two users may hold the same hash.
CREATE TABLE recovery_codes (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    text   COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, hash)
);

-- audit_events: user_id is NULL for events of no known account.
CREATE TABLE audit_events (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      REFERENCES users (id) ON DELETE CASCADE,
    kind       text        NOT NULL,
    at         timestamptz NOT NULL,
    ip         text        NOT NULL DEFAULT '',
    user_agent text        NOT NULL DEFAULT '',
    detail     text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_user_id ON audit_events (user_id, at);
CREATE INDEX audit_events_at ON audit_events (at);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE recovery_codes;
DROP TABLE one_time_tokens;
DROP TABLE api_tokens;
DROP TABLE attempts;
DROP TABLE remember_tokens;
DROP TABLE sessions;
DROP TABLE users;
