-- Reports: by our people (POST /api/v1/reports) and from other servers
-- (ActivityPub Flag). The reporter of a Flag is the remote actor that sent it
-- (usually its instance actor: servers keep the person anonymous).
CREATE TABLE reports (
    id                 BIGINT PRIMARY KEY,
    account_id         BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_ids         TEXT NOT NULL DEFAULT '[]',   -- JSON array of status ids
    comment            TEXT NOT NULL DEFAULT '',
    category           TEXT NOT NULL DEFAULT 'other',
    rule_ids           TEXT NOT NULL DEFAULT '[]',   -- JSON array of rule ids
    forwarded          BOOLEAN NOT NULL DEFAULT FALSE,
    uri                TEXT UNIQUE,                  -- the Flag's id (theirs, or ours when forwarded)
    created_at         TIMESTAMP NOT NULL,
    action_taken_at    TIMESTAMP
);
CREATE INDEX reports_target_idx ON reports (target_account_id);

-- A Flag is sent by the instance actor, not by the person who reported.
ALTER TABLE outbound_activities ADD COLUMN signed_by_instance BOOLEAN NOT NULL DEFAULT FALSE;
