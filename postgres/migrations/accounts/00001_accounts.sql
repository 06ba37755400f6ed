-- The tables of the account package: users and what belongs to them. They
-- come only with postgres.OpenAccounts; the session store never creates
-- them. Version table: latch_schema_accounts. The same rules as for the
-- session store's tables hold.

-- +goose Up

-- latch_users: an identity that is GENERATED ALWAYS, so ids come only from
-- the sequence and are never reused, even after a delete or a rolled-back
-- insert: a session, token or log line that still names an old id must
-- not start to mean someone else. Usernames and emails are ASCII-only at
-- the application layer; lower() under the "C" collation folds exactly
-- the ASCII letters, whatever the database's locale (a Turkish locale
-- would fold 'I' to a dotless 'ı'), as SQLite's lower() does.
-- username_skeleton is account.UsernameSkeleton(username): names a reader
-- cannot tell apart cannot both exist. credential_epoch only grows (see
-- account.Store.RevokeCredentials).
CREATE TABLE latch_users (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username           text        NOT NULL,
    email              text        NOT NULL,
    password_hash      text        NOT NULL,
    created_at         timestamptz NOT NULL,
    disabled           boolean     NOT NULL DEFAULT false,
    email_confirmed_at timestamptz,
    totp_secret        text        NOT NULL DEFAULT '',
    totp_last_step     bigint      NOT NULL DEFAULT 0,
    credential_epoch   bigint      NOT NULL DEFAULT 0,
    username_skeleton  text        COLLATE "C" NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX latch_users_username_ci ON latch_users (lower(username COLLATE "C"));
CREATE UNIQUE INDEX latch_users_email_ci ON latch_users (lower(email COLLATE "C"));
CREATE UNIQUE INDEX latch_users_username_skeleton ON latch_users (username_skeleton);

-- Everything below belongs to a user: deleting the user deletes it, in the
-- same statement, through ON DELETE CASCADE.

-- latch_api_tokens: hash is looked up on every API request, and unique,
-- so a lookup finds one token at most. NULL times mean "never".
CREATE TABLE latch_api_tokens (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES latch_users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    hash         text        COLLATE "C" NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    expires_at   timestamptz,
    epoch        bigint      NOT NULL DEFAULT 0
);
CREATE INDEX latch_api_tokens_user_id ON latch_api_tokens (user_id, created_at);

CREATE TABLE latch_one_time_tokens (
    hash       text        COLLATE "C" PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES latch_users (id) ON DELETE CASCADE,
    purpose    text        COLLATE "C" NOT NULL,
    email      text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    epoch      bigint      NOT NULL DEFAULT 0
);
CREATE INDEX latch_one_time_tokens_user_id ON latch_one_time_tokens (user_id, purpose);

-- latch_recovery_codes: per user, so two users may hold the same hash.
CREATE TABLE latch_recovery_codes (
    user_id bigint NOT NULL REFERENCES latch_users (id) ON DELETE CASCADE,
    hash    text   COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, hash)
);

-- latch_audit_events: user_id is NULL for events of no known account.
CREATE TABLE latch_audit_events (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      REFERENCES latch_users (id) ON DELETE CASCADE,
    kind       text        NOT NULL,
    at         timestamptz NOT NULL,
    ip         text        NOT NULL DEFAULT '',
    user_agent text        NOT NULL DEFAULT '',
    detail     text        NOT NULL DEFAULT ''
);
CREATE INDEX latch_audit_events_user_id ON latch_audit_events (user_id, at);
CREATE INDEX latch_audit_events_at ON latch_audit_events (at);

-- Users notify the change feed too: a user's change (a disabled account,
-- a raised credential epoch) ends what every instance's cache holds.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION latch_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('latch_changes', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER latch_users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON latch_users
    FOR EACH STATEMENT EXECUTE FUNCTION latch_notify_change();

-- +goose Down
DROP TRIGGER latch_users_changed ON latch_users;
DROP TABLE latch_audit_events;
DROP TABLE latch_recovery_codes;
DROP TABLE latch_one_time_tokens;
DROP TABLE latch_api_tokens;
DROP TABLE latch_users;
