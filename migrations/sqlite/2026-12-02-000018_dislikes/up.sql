-- Negative votes (Lemmy's Dislike). Mastodon has none, so the client API
-- shows them nowhere yet; they are kept so a later Undo finds them and the
-- org's web can count them.
CREATE TABLE dislikes (
    id          INTEGER PRIMARY KEY NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX dislikes_pair_idx ON dislikes (account_id, status_id);
CREATE INDEX dislikes_status_idx ON dislikes (status_id, id);
