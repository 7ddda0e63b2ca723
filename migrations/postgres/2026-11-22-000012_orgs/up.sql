-- Orgs: an organisation's network. Each is a local Group actor (an account
-- row with actor_type 'Group', so it shares the name space, WebFinger, keys
-- and follows with people); this row holds what only orgs have.
CREATE TABLE orgs (
    account_id   BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL DEFAULT 'official',   -- official | club
    parent_id    BIGINT REFERENCES orgs (account_id) ON DELETE SET NULL,  -- sub-groups
    created_by   BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    archived_at  TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX orgs_parent_idx ON orgs (parent_id);
