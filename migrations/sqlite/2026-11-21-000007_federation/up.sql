-- Federation: durable inbound and outbound activity logs.

-- The ActivityPub id of a follow (ours: generated; remote: theirs), so
-- Accept, Reject and Undo can name it.
ALTER TABLE follows ADD COLUMN uri TEXT;

-- Every accepted inbound activity, stored before the 202 and processed later.
-- ap_id is unique: a redelivered activity is dropped at the door.
CREATE TABLE inbox_activities (
    id            BIGINT PRIMARY KEY,
    ap_id         TEXT NOT NULL UNIQUE,
    actor_uri     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    body          TEXT NOT NULL,
    received_at   TIMESTAMP NOT NULL,
    processed_at  TIMESTAMP,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    lease_until   TIMESTAMP
);
CREATE INDEX inbox_activities_pending_idx ON inbox_activities (id) WHERE processed_at IS NULL;

-- One row per outgoing activity (the payload, stored once)...
CREATE TABLE outbound_activities (
    id          BIGINT PRIMARY KEY,      -- time-ordered: the delivery order
    ap_id       TEXT NOT NULL,
    actor_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- ...and which inboxes of each remote host it goes to.
CREATE TABLE outbound_targets (
    activity_id  BIGINT NOT NULL REFERENCES outbound_activities (id) ON DELETE CASCADE,
    host         TEXT NOT NULL,
    inboxes      TEXT NOT NULL,          -- JSON array of inbox URLs on this host
    PRIMARY KEY (host, activity_id)
);

-- Per remote host: how far delivery got (done_upto), what is queued (head),
-- backoff and circuit-breaker state, and which node holds the host now.
CREATE TABLE delivery_hosts (
    host             TEXT PRIMARY KEY,
    head             BIGINT NOT NULL DEFAULT 0,
    done_upto        BIGINT NOT NULL DEFAULT 0,
    failures         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP,
    last_error       TEXT,
    last_success_at  TIMESTAMP,
    delivered        BIGINT NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_until      TIMESTAMP
);
CREATE INDEX delivery_hosts_work_idx ON delivery_hosts (next_attempt_at) WHERE head > done_upto;
