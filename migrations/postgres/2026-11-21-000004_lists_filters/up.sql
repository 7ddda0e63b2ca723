-- Lists, filters, markers, blocks, mutes, featured tags, conversations, announcements.
CREATE TABLE lists (
    id              BIGINT PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title           TEXT NOT NULL,
    replies_policy  TEXT NOT NULL DEFAULT 'list',   -- followed | list | none
    exclusive       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX lists_account_idx ON lists (account_id);

CREATE TABLE list_accounts (
    list_id     BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, account_id)
);

CREATE TABLE filters (
    id              BIGINT PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title           TEXT NOT NULL,
    contexts        TEXT NOT NULL,                 -- space-separated: home notifications public thread account
    action          TEXT NOT NULL DEFAULT 'warn',  -- warn | hide
    expires_at      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX filters_account_idx ON filters (account_id);

CREATE TABLE filter_keywords (
    id          BIGINT PRIMARY KEY,
    filter_id   BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword     TEXT NOT NULL,
    whole_word  BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX filter_keywords_filter_idx ON filter_keywords (filter_id);

CREATE TABLE markers (
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline      TEXT NOT NULL,                   -- home | notifications
    last_read_id  BIGINT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 0,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, timeline)
);

CREATE TABLE blocks (
    id                 BIGINT PRIMARY KEY,
    account_id         BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at         TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX blocks_pair_idx ON blocks (account_id, target_account_id);
CREATE INDEX blocks_target_idx ON blocks (target_account_id);

CREATE TABLE mutes (
    id                  BIGINT PRIMARY KEY,
    account_id          BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hide_notifications  BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at          TIMESTAMP,
    created_at          TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX mutes_pair_idx ON mutes (account_id, target_account_id);

CREATE TABLE featured_tags (
    id          BIGINT PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id      BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX featured_tags_pair_idx ON featured_tags (account_id, tag_id);

-- One row per person per direct-message thread (keyed by the thread's root status).
CREATE TABLE conversations (
    id              BIGINT PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    root_status_id  BIGINT NOT NULL,
    last_status_id  BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    unread          BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX conversations_pair_idx ON conversations (account_id, root_status_id);

CREATE TABLE announcements (
    id           BIGINT PRIMARY KEY,
    text         TEXT NOT NULL,
    content      TEXT NOT NULL,
    starts_at    TIMESTAMP,
    ends_at      TIMESTAMP,
    all_day      BOOLEAN NOT NULL DEFAULT FALSE,
    published    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE TABLE announcement_reads (
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    announcement_id  BIGINT NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, announcement_id)
);
