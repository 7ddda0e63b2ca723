-- Membership of an org, separate from following. org_id is the org's Group
-- account, local or remote: a member here of an org elsewhere learns of it
-- through Accept{Join} and sees that org's members-only posts.
CREATE TABLE memberships (
    id           BIGINT PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,               -- office | employee | alumnus
    state        TEXT NOT NULL,               -- pending | verified | rejected | left
    via          TEXT NOT NULL,               -- founder | invite | roster | request | remote
    tenure_from  TEXT,                        -- YYYY, YYYY-MM or YYYY-MM-DD
    tenure_to    TEXT,
    divisions    TEXT NOT NULL DEFAULT '',
    message      TEXT NOT NULL DEFAULT '',
    left_on      TEXT,                        -- graduation: the day they left the company
    graduation_requested_on TEXT,             -- asked by the person, awaiting the office
    join_ap_id   TEXT,                        -- the remote Join this answers
    decided_by   BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    decided_at   TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (org_id, account_id)
);
CREATE INDEX memberships_account_idx ON memberships (account_id, state);
CREATE INDEX memberships_org_idx ON memberships (org_id, state, id);

CREATE TABLE org_invites (
    id          BIGINT PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (account_id) ON DELETE CASCADE,
    code        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    max_uses    INTEGER,
    uses        INTEGER NOT NULL DEFAULT 0,
    expires_at  TIMESTAMP,
    created_by  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    revoked_at  TIMESTAMP,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX org_invites_org_idx ON org_invites (org_id);

-- The office's roster of former employees; e-mail is the matching key.
CREATE TABLE roster_entries (
    id           BIGINT PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES orgs (account_id) ON DELETE CASCADE,
    email_key    TEXT NOT NULL,
    name         TEXT NOT NULL,
    tenure_from  TEXT,
    tenure_to    TEXT,
    divisions    TEXT NOT NULL DEFAULT '',
    role         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (org_id, email_key)
);

-- Consent per purpose, append-only: the latest row per purpose holds.
CREATE TABLE consents (
    id               BIGINT PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose          TEXT NOT NULL,
    granted          BOOLEAN NOT NULL,
    wording_version  TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX consents_member_idx ON consents (org_id, account_id, purpose, id);

-- An official org's recognition of a club (local or remote Group).
CREATE TABLE org_recognitions (
    org_id         BIGINT NOT NULL REFERENCES orgs (account_id) ON DELETE CASCADE,
    club_id        BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    recognised_by  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, club_id)
);
CREATE INDEX org_recognitions_club_idx ON org_recognitions (club_id);

-- Members-only posts: visibility 'members' with the org as audience; also
-- set on public posts addressed to an org (announced by it).
ALTER TABLE statuses ADD COLUMN audience_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL;
CREATE INDEX statuses_audience_idx ON statuses (audience_id, id);
