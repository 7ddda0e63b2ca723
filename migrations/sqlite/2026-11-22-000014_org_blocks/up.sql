-- An org's office blocks people or whole domains for the org: they cannot
-- join, follow it or post into it.
CREATE TABLE org_blocks (
    id          BIGINT PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (account_id) ON DELETE CASCADE,
    account_id  BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    domain      TEXT,
    created_by  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (org_id, account_id),
    UNIQUE (org_id, domain)
);
