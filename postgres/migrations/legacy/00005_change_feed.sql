-- The change feed of latch.ChangeTracker: every statement that changes
-- sessions or users notifies the channel latch_changes, with the schema
-- as payload, so that every instance's Store (listening on a connection
-- of its own) knows to stop serving what its read cache holds. NOTIFY is
-- delivered at commit, never for a rolled-back change, and several in one
-- transaction are delivered once. (The number follows the SQLite
-- backend's migrations.)

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION latch_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('latch_changes', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER sessions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION latch_notify_change();
CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION latch_notify_change();

-- +goose Down
DROP TRIGGER users_changed ON users;
DROP TRIGGER sessions_changed ON sessions;
DROP FUNCTION latch_notify_change();
