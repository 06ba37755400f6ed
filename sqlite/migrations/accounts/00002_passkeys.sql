-- latch_passkeys: users' WebAuthn credentials (account.PasskeyStore).
-- credential_id is the authenticator's id of the credential, unique across
-- users, looked up at every passkey login; credential is the library's
-- encoding of the public key, counter and flags, opaque to SQL; epoch is
-- the user's credential epoch at registration (see account.Passkey).

-- +goose Up
CREATE TABLE latch_passkeys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES latch_users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    credential_id BLOB    NOT NULL UNIQUE,
    epoch         INTEGER NOT NULL DEFAULT 0,
    credential    BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
) STRICT;
CREATE INDEX latch_passkeys_user_id ON latch_passkeys (user_id, id);

-- +goose Down
DROP TABLE latch_passkeys;
