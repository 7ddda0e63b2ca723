-- Network activity for the office's dashboard: aggregates only.
--
-- Every change of who is a verified member of an org, and in which role, is
-- recorded by a trigger, so members by role can be counted for any past day
-- whichever code path changed the membership. Days are whole UTC days since
-- 1970-01-01. No foreign keys: the history outlives the people in it.
CREATE TABLE membership_changes (
    id           BIGSERIAL PRIMARY KEY,
    org_id       BIGINT NOT NULL,
    account_id   BIGINT NOT NULL,
    role_before  TEXT,          -- NULL: was not a verified member
    role_after   TEXT,          -- NULL: is no longer a verified member
    day          BIGINT NOT NULL
);
CREATE INDEX membership_changes_org_idx ON membership_changes (org_id, day);

CREATE FUNCTION record_membership_change() RETURNS trigger AS $$
DECLARE
    before_role TEXT := NULL;
    after_role  TEXT := NULL;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.state = 'verified' THEN before_role := OLD.role; END IF;
    IF TG_OP <> 'DELETE' AND NEW.state = 'verified' THEN after_role := NEW.role; END IF;
    IF before_role IS NOT DISTINCT FROM after_role THEN RETURN NULL; END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO membership_changes (org_id, account_id, role_before, role_after, day)
        VALUES (OLD.org_id, OLD.account_id, before_role, NULL,
                (now() AT TIME ZONE 'UTC')::date - DATE '1970-01-01');
    ELSE
        INSERT INTO membership_changes (org_id, account_id, role_before, role_after, day)
        VALUES (NEW.org_id, NEW.account_id, before_role, after_role,
                NEW.updated_at::date - DATE '1970-01-01');
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER memberships_record_changes
    AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION record_membership_change();

INSERT INTO membership_changes (org_id, account_id, role_before, role_after, day)
SELECT org_id, account_id, NULL, role, created_at::date - DATE '1970-01-01'
FROM memberships WHERE state = 'verified';

-- Days on which a person used the server (a web session or an access token),
-- at most one row a day: "signed in" for active members.
CREATE TABLE sign_in_days (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day         BIGINT NOT NULL,
    PRIMARY KEY (account_id, day)
);
CREATE INDEX sign_in_days_day_idx ON sign_in_days (day, account_id);

-- Posts and reactions of an org's members over a period.
CREATE INDEX statuses_account_created_idx ON statuses (account_id, created_at);
CREATE INDEX favourites_account_created_idx ON favourites (account_id, created_at);

-- A roster file from the office's web page: previewed, then imported in the
-- background while the page shows progress, then kept as a report (the file
-- itself is dropped once imported).
CREATE TABLE roster_imports (
    id          BIGINT PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (account_id) ON DELETE CASCADE,
    created_by  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    file_name   TEXT NOT NULL,
    encoding    TEXT NOT NULL,
    content     TEXT NOT NULL,
    state       TEXT NOT NULL,      -- previewed | running | done | failed
    total       BIGINT NOT NULL DEFAULT 0,
    done        BIGINT NOT NULL DEFAULT 0,
    report      TEXT NOT NULL,      -- JSON: the preview, then the outcome
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX roster_imports_org_idx ON roster_imports (org_id, id);
