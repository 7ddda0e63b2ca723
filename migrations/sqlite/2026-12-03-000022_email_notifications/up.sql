-- Which notifications a person also gets by e-mail (comma-separated
-- notification types). No row: the defaults (services/notifications.rs).
CREATE TABLE email_notifications (
    account_id  BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kinds       TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
