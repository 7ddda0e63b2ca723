-- Polls attached to statuses, and votes.
CREATE TABLE polls (
    id           INTEGER PRIMARY KEY NOT NULL,
    status_id    BIGINT NOT NULL UNIQUE REFERENCES statuses (id) ON DELETE CASCADE,
    options      TEXT NOT NULL,               -- JSON array of option titles
    multiple     BOOLEAN NOT NULL DEFAULT FALSE,
    hide_totals  BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at   TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE poll_votes (
    id          INTEGER PRIMARY KEY NOT NULL,
    poll_id     BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choice      INTEGER NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX poll_votes_choice_idx ON poll_votes (poll_id, account_id, choice);
