-- Accounts are actors: people (Person) and, later, orgs (Group) and remote
-- actors, in one table and one name space, as WebFinger needs.
CREATE TABLE accounts (
    id                   BIGINT PRIMARY KEY,
    username             TEXT NOT NULL,
    domain               TEXT,                      -- NULL for local accounts
    acct_key             TEXT NOT NULL UNIQUE,      -- lower(username) or lower(username@domain)
    actor_type           TEXT NOT NULL DEFAULT 'Person',
    display_name         TEXT NOT NULL DEFAULT '',
    note                 TEXT NOT NULL DEFAULT '',  -- sanitised HTML
    note_source          TEXT NOT NULL DEFAULT '',  -- plain text as typed
    fields               TEXT NOT NULL DEFAULT '[]',-- JSON [{name, value, verified_at}]
    locked               BOOLEAN NOT NULL DEFAULT FALSE,
    bot                  BOOLEAN NOT NULL DEFAULT FALSE,
    discoverable         BOOLEAN NOT NULL DEFAULT FALSE,
    indexable            BOOLEAN NOT NULL DEFAULT FALSE,
    hide_collections     BOOLEAN NOT NULL DEFAULT FALSE,
    suspended            BOOLEAN NOT NULL DEFAULT FALSE,
    avatar_file          TEXT,                      -- relative to media.path (local uploads)
    header_file          TEXT,
    avatar_remote_url    TEXT,
    header_remote_url    TEXT,
    local                BOOLEAN NOT NULL,
    ap_id                TEXT UNIQUE,               -- actor URL; NULL for local (derived from the domain)
    inbox_url            TEXT,
    shared_inbox_url     TEXT,
    outbox_url           TEXT,
    followers_url        TEXT,
    profile_url          TEXT,
    public_key_pem       TEXT NOT NULL,
    private_key_pem      TEXT,                      -- local actors only
    fetched_at           TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX accounts_domain_idx ON accounts (domain);

-- Sign-in data and settings of local people (as Mastodon splits accounts and users).
CREATE TABLE users (
    account_id              BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    email                   TEXT NOT NULL,
    email_key               TEXT NOT NULL UNIQUE,   -- lower(email)
    password_hash           TEXT NOT NULL,
    is_admin                BOOLEAN NOT NULL DEFAULT FALSE,
    approved                BOOLEAN NOT NULL DEFAULT TRUE,
    disabled                BOOLEAN NOT NULL DEFAULT FALSE,
    registration_reason     TEXT,
    email_confirmed_at      TIMESTAMP,
    confirmation_token_hash TEXT UNIQUE,
    locale                  TEXT,
    default_privacy         TEXT NOT NULL DEFAULT 'public',
    default_sensitive       BOOLEAN NOT NULL DEFAULT FALSE,
    default_language        TEXT,
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL
);

CREATE TABLE oauth_apps (
    id                 BIGINT PRIMARY KEY,
    name               TEXT NOT NULL,
    website            TEXT,
    redirect_uris      TEXT NOT NULL,               -- newline-separated
    scopes             TEXT NOT NULL,
    client_id          TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT NOT NULL,
    created_at         TIMESTAMP NOT NULL
);

CREATE TABLE oauth_tokens (
    id                  BIGINT PRIMARY KEY,
    token_hash          TEXT NOT NULL UNIQUE,
    refresh_token_hash  TEXT UNIQUE,
    app_id              BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id          BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    scopes              TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    expires_at          TIMESTAMP,
    revoked_at          TIMESTAMP,
    last_used_at        TIMESTAMP
);
CREATE INDEX oauth_tokens_account_idx ON oauth_tokens (account_id);
CREATE INDEX oauth_tokens_app_idx ON oauth_tokens (app_id);

CREATE TABLE oauth_codes (
    id                    BIGINT PRIMARY KEY,
    code_hash             TEXT NOT NULL UNIQUE,
    app_id                BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id            BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scopes                TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    code_challenge        TEXT,
    created_at            TIMESTAMP NOT NULL,
    expires_at            TIMESTAMP NOT NULL,
    used_at               TIMESTAMP
);

-- Invitations: registration links in "invite" mode, and the first-run admin link.
CREATE TABLE invites (
    id            BIGINT PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    created_by    BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    max_uses      INTEGER,
    uses          INTEGER NOT NULL DEFAULT 0,
    grants_admin  BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at    TIMESTAMP,
    created_at    TIMESTAMP NOT NULL
);
