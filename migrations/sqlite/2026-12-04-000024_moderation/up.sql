-- Instance moderation from the admin's pages: silenced accounts, who handled
-- a report, the servers blocked or (in allow-list mode) allowed, which
-- accounts a domain block suspended or silenced (lifting it restores exactly
-- those), and the instance settings an admin changed on the web (NULL: as
-- in the configuration file).
CREATE TABLE silenced_accounts (
    account_id   BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    silenced_at  TIMESTAMP NOT NULL
);

ALTER TABLE reports ADD COLUMN action_taken_by_account_id BIGINT;

CREATE TABLE domain_blocks (
    id               BIGINT PRIMARY KEY,
    domain           TEXT NOT NULL UNIQUE,
    severity         TEXT NOT NULL,
    public_comment   TEXT NOT NULL,
    private_comment  TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL
);

CREATE TABLE domain_block_accounts (
    domain_block_id  BIGINT NOT NULL REFERENCES domain_blocks (id) ON DELETE CASCADE,
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (domain_block_id, account_id)
);

CREATE TABLE domain_allows (
    id          BIGINT PRIMARY KEY,
    domain      TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE instance_settings (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    title              TEXT,
    description        TEXT,
    contact_email      TEXT,
    rules              TEXT,
    registration_mode  TEXT,
    federation_access  TEXT,
    updated_at         TIMESTAMP NOT NULL
);
