-- Credential epochs: revocation as one atomic write.
--
-- users.credential_epoch only grows. Every session, remember-me token, API
-- token and one-time link records the epoch it was issued under, and is
-- refused once the user's epoch differs, so "end every credential of this
-- user" is one UPDATE of one row that no request in flight can undo;
-- deleting the rows becomes cleanup. Rows that existed before this
-- migration are at epoch 0, like their users. (The number follows the
-- SQLite backend's migrations; this backend has no migration 2.)

-- +goose Up
ALTER TABLE users ADD COLUMN credential_epoch bigint NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
ALTER TABLE remember_tokens ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
ALTER TABLE one_time_tokens ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
-- Rotated remember-me tokens of a series are pruned by rotation time.
CREATE INDEX remember_tokens_series_rotated ON remember_tokens (series, rotated_at) WHERE rotated_at IS NOT NULL;

-- +goose Down
DROP INDEX remember_tokens_series_rotated;
ALTER TABLE one_time_tokens DROP COLUMN epoch;
ALTER TABLE api_tokens DROP COLUMN epoch;
ALTER TABLE remember_tokens DROP COLUMN epoch;
ALTER TABLE sessions DROP COLUMN epoch;
ALTER TABLE users DROP COLUMN credential_epoch;
