-- latch_passkeys: users' WebAuthn credentials (account.PasskeyStore).
-- credential_id is the authenticator's id of the credential, unique across
-- users, looked up at every passkey login; credential is the library's
-- encoding of the public key, counter and flags, opaque to SQL; epoch is
-- the user's credential epoch at registration (see account.Passkey).

-- +goose Up
CREATE TABLE latch_passkeys (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint      NOT NULL REFERENCES latch_users (id) ON DELETE CASCADE,
    name          text        NOT NULL,
    credential_id bytea       NOT NULL UNIQUE,
    epoch         bigint      NOT NULL DEFAULT 0,
    credential    bytea       NOT NULL,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz
);
CREATE INDEX latch_passkeys_user_id ON latch_passkeys (user_id, id);

-- +goose Down
DROP TABLE latch_passkeys;
