-- Signed-in browsers (the member web). The cookie holds a random token;
-- only its SHA-256 is stored. `stage` is 'signed_in', or 'second_factor'
-- while a password was right and the one-time code is still owed.
CREATE TABLE web_sessions (
    id            BIGINT PRIMARY KEY NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    stage         TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    ip            TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_account_idx ON web_sessions (account_id);
-- Two-factor sign-in with a time-based one-time password (RFC 6238). The
-- secret exists from the start of set-up; `enabled_at` once a code proved
-- the person's app has it. `last_step` keeps a code from working twice;
-- `failures` wrong codes in a row lock code entry until `locked_until`
-- (a six-digit code must not be guessable from many addresses).
CREATE TABLE two_factor (
    account_id    BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    secret        TEXT NOT NULL,
    enabled_at    TIMESTAMP,
    last_step     BIGINT NOT NULL,
    failures      INTEGER NOT NULL,
    locked_until  TIMESTAMP
);
-- Single-use recovery codes (SHA-256 only), for a lost phone.
CREATE TABLE recovery_codes (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    used_at     TIMESTAMP,
    PRIMARY KEY (account_id, code_hash)
);
-- Links sent by e-mail to act on an account: a password reset, or the
-- proof of a new e-mail address (`new_email`). SHA-256 of the token only;
-- single-use, with an end.
CREATE TABLE account_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    new_email   TEXT,
    expires_at  TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX account_tokens_account_idx ON account_tokens (account_id);
