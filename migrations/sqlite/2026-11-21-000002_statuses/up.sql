-- Statuses (local and remote) and what people do with them.
CREATE TABLE statuses (
    id                     INTEGER PRIMARY KEY NOT NULL,
    account_id             BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri                    TEXT UNIQUE,              -- ActivityPub id of remote statuses; NULL for local
    url                    TEXT,                     -- remote HTML page
    text                   TEXT NOT NULL DEFAULT '', -- source as typed (local)
    content                TEXT NOT NULL DEFAULT '', -- sanitised HTML
    spoiler_text           TEXT NOT NULL DEFAULT '',
    visibility             TEXT NOT NULL,            -- public | unlisted | private | direct
    sensitive              BOOLEAN NOT NULL DEFAULT FALSE,
    language               TEXT,
    in_reply_to_id         BIGINT REFERENCES statuses (id) ON DELETE SET NULL,
    in_reply_to_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    reblog_of_id           BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    application_id         BIGINT REFERENCES oauth_apps (id) ON DELETE SET NULL,
    local                  BOOLEAN NOT NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL,
    edited_at              TIMESTAMP
);
CREATE INDEX statuses_account_idx ON statuses (account_id, id);
CREATE INDEX statuses_reply_idx ON statuses (in_reply_to_id);
CREATE INDEX statuses_reblog_idx ON statuses (reblog_of_id);
CREATE INDEX statuses_public_idx ON statuses (visibility, id);
CREATE UNIQUE INDEX statuses_one_reblog_idx ON statuses (account_id, reblog_of_id);

-- Earlier versions, for /history (the first edit also stores the original).
CREATE TABLE status_edits (
    id            INTEGER PRIMARY KEY NOT NULL,
    status_id     BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    text          TEXT NOT NULL,
    content       TEXT NOT NULL,
    spoiler_text  TEXT NOT NULL,
    sensitive     BOOLEAN NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX status_edits_status_idx ON status_edits (status_id, id);

CREATE TABLE mentions (
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, account_id)
);
CREATE INDEX mentions_account_idx ON mentions (account_id, status_id);

CREATE TABLE tags (
    id          INTEGER PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,   -- lower-case
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE status_tags (
    status_id  BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    tag_id     BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, tag_id)
);
CREATE INDEX status_tags_tag_idx ON status_tags (tag_id, status_id);

-- Follows and follow requests (locked accounts); one row each way a person chooses.
CREATE TABLE follows (
    id                 INTEGER PRIMARY KEY NOT NULL,
    account_id         BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs       BOOLEAN NOT NULL DEFAULT TRUE,
    notify             BOOLEAN NOT NULL DEFAULT FALSE,
    pending            BOOLEAN NOT NULL DEFAULT FALSE,  -- a request awaiting a locked account's answer
    created_at         TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX follows_pair_idx ON follows (account_id, target_account_id);
CREATE INDEX follows_target_idx ON follows (target_account_id, id);

CREATE TABLE favourites (
    id          INTEGER PRIMARY KEY NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX favourites_pair_idx ON favourites (account_id, status_id);
CREATE INDEX favourites_status_idx ON favourites (status_id, id);

CREATE TABLE bookmarks (
    id          INTEGER PRIMARY KEY NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX bookmarks_pair_idx ON bookmarks (account_id, status_id);

CREATE TABLE status_pins (
    id          INTEGER PRIMARY KEY NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX status_pins_pair_idx ON status_pins (account_id, status_id);

CREATE TABLE notifications (
    id               INTEGER PRIMARY KEY NOT NULL,
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,  -- recipient
    from_account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,   -- mention | status | reblog | follow | follow_request | favourite | poll | update | admin.sign_up
    status_id        BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX notifications_account_idx ON notifications (account_id, id);

-- Idempotency-Key: a retried POST returns the status the first one created.
CREATE TABLE idempotency_keys (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, key)
);
