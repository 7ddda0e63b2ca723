-- Media attachments: uploaded (local) or referenced (remote) files of statuses.
CREATE TABLE media_attachments (
    id             INTEGER PRIMARY KEY NOT NULL,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id      BIGINT REFERENCES statuses (id) ON DELETE SET NULL,
    kind           TEXT NOT NULL DEFAULT 'image',   -- image | gifv | video | audio | unknown
    file           TEXT,                            -- relative to media.path, once processed
    preview_file   TEXT,
    remote_url     TEXT,
    description    TEXT NOT NULL DEFAULT '',
    focus_x        REAL NOT NULL DEFAULT 0,
    focus_y        REAL NOT NULL DEFAULT 0,
    meta           TEXT NOT NULL DEFAULT '{}',      -- JSON: original/small sizes
    blurhash       TEXT,
    state          TEXT NOT NULL DEFAULT 'processing', -- processing | ready | failed
    error          TEXT,
    position       INTEGER NOT NULL DEFAULT 0,      -- order within its status
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX media_attachments_status_idx ON media_attachments (status_id);
CREATE INDEX media_attachments_account_idx ON media_attachments (account_id, id);
