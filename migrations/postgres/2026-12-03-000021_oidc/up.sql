-- Single sign-on (OpenID Connect): who a provider's subject is here.
CREATE TABLE oidc_identities (
    issuer         TEXT NOT NULL,
    subject        TEXT NOT NULL,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email          TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    last_used_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_identities_account_idx ON oidc_identities (account_id);
-- A sign-in sent to the provider and not yet back: found by the hash of the
-- browser's cookie, used once, good for 10 minutes. `state` and `nonce` are
-- checked on return; `pkce_verifier` proves the code is ours to redeem.
CREATE TABLE oidc_logins (
    token_hash     TEXT PRIMARY KEY NOT NULL,
    state          TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    next           TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL
);
