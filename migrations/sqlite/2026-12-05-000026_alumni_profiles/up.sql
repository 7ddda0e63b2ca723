-- Alumni profiles: what a person says beyond Mastodon's profile (career at
-- each org, now, skills...), each field with the audiences its owner chose.
-- Remote people's released fields are stored here too (from their server).

CREATE TABLE alumni_profiles (
    account_id   BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    current_org  TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT '',
    industry     TEXT,                       -- domain::Industry
    city         TEXT NOT NULL DEFAULT '',
    region       TEXT NOT NULL DEFAULT '',
    country      TEXT,                       -- ISO 3166-1 alpha-2, upper case
    now_text     TEXT NOT NULL DEFAULT '',
    now_on       TEXT,                       -- YYYY-MM-DD: when "now" was said
    updated_at   TIMESTAMP NOT NULL,
    reminded_at  TIMESTAMP,
    -- What the public sees, as [[name, value], ...]: shown after the
    -- person's own Mastodon profile fields without reading the rest.
    public_fields TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX alumni_profiles_industry_idx ON alumni_profiles (industry, account_id);
CREATE INDEX alumni_profiles_country_idx ON alumni_profiles (country, account_id);

-- Skills, interests, languages and "open to" flags: one row per value, so a
-- filter is an index range and a facet a GROUP BY.
CREATE TABLE alumni_tags (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    field       TEXT NOT NULL,               -- domain::TagField
    tag         TEXT NOT NULL,               -- normalised (lower case) for matching
    label       TEXT NOT NULL,               -- as the person wrote it
    position    INTEGER NOT NULL,
    PRIMARY KEY (account_id, field, tag)
);
CREATE INDEX alumni_tags_match_idx ON alumni_tags (field, tag, account_id);

-- Periods at an org: several per org (left and came back, moved division).
CREATE TABLE alumni_tenures (
    id           BIGINT PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    org_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    year_from    INTEGER NOT NULL,
    year_to      INTEGER,                    -- NULL: still there
    division     TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT '',
    verified_by  BIGINT,                     -- the office account that confirmed it
    verified_at  TIMESTAMP
);
CREATE INDEX alumni_tenures_account_idx ON alumni_tenures (account_id, year_from);
CREATE INDEX alumni_tenures_org_idx ON alumni_tenures (org_id, year_from, account_id);
CREATE INDEX alumni_tenures_division_idx ON alumni_tenures (org_id, division, account_id);

-- Who may see each field: 'public', 'my_orgs', 'members:ORG', 'office:ORG'.
-- No row for a field: only its owner.
CREATE TABLE alumni_audiences (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    field       TEXT NOT NULL,               -- domain::AlumniField
    audience    TEXT NOT NULL,
    PRIMARY KEY (account_id, field, audience)
);

-- The periods members stated when they joined, one per division (the
-- roster's are verified by the import that brought them).
WITH RECURSIVE split (membership_id, ord, division, rest) AS (
    SELECT id, 0, '', divisions || char(10)
    FROM memberships WHERE tenure_from IS NOT NULL AND state = 'verified'
    UNION ALL
    SELECT membership_id, ord + 1,
           substr(rest, 1, instr(rest, char(10)) - 1),
           substr(rest, instr(rest, char(10)) + 1)
    FROM split WHERE rest <> '' AND ord < 15
)
INSERT INTO alumni_tenures (id, account_id, org_id, year_from, year_to, division, verified_by, verified_at)
SELECT (m.id << 4) + (s.ord - 1), m.account_id, m.org_id,
       CAST(substr(m.tenure_from, 1, 4) AS INTEGER),
       CAST(substr(m.tenure_to, 1, 4) AS INTEGER),
       s.division,
       CASE WHEN m.via = 'roster' THEN m.decided_by END,
       CASE WHEN m.via = 'roster' THEN m.decided_at END
FROM split s JOIN memberships m ON m.id = s.membership_id
WHERE s.ord > 0;
