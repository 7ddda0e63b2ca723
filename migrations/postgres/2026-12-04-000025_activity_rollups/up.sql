-- Network activity kept as days close, so the office's dashboard reads a few
-- thousand rows of its org instead of a year of everyone's posts.
--
-- activity_days: a person's active days per kind ('post', 'reaction',
-- 'sign_in', and 'any' for all three), with how many days had passed since
-- their previous active day of that kind (`gap`, at most 31; 31 also for a
-- first day). Kept by triggers on statuses, favourites and sign_in_days.
-- Distinct people in a stretch of days then become a sum: a person counts on
-- their first active day in the stretch, which is the day whose gap reaches
-- back before the stretch began (gap > day - first day of the stretch), so
-- any stretch up to 31 days long is counted exactly.
--
-- org_activity_days: the same, summed over an org's verified members per
-- (kind, day, gap); org_activity_last: how many members were last active of
-- a kind on a day (distinct people over a whole period ending today).
-- activity_members mirrors the verified memberships and is changed only by
-- the membership trigger, so what it subtracts or adds is exactly what the
-- other triggers have propagated (cascaded deletes run their triggers in any
-- order). Days are whole UTC days since 1970-01-01, as in membership_changes.
--
-- On PostgreSQL the triggers on the source tables only append to
-- activity_queue; `activity_fold()` applies the queue under one lock (every
-- few seconds, and before the dashboard reads). Writers then never wait for
-- one another on the shared per-org rows, and a statement touching many
-- people (a deleted post's favourites) cannot deadlock with them. SQLite has
-- one writer at a time and applies changes at once.

CREATE TABLE activity_days (
    account_id  BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    day         BIGINT NOT NULL,
    events      BIGINT NOT NULL,
    gap         BIGINT NOT NULL,
    PRIMARY KEY (account_id, kind, day)
);

CREATE TABLE activity_members (
    org_id      BIGINT NOT NULL,
    account_id  BIGINT NOT NULL,
    PRIMARY KEY (account_id, org_id)
);

CREATE TABLE org_activity_days (
    org_id      BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    day         BIGINT NOT NULL,
    gap         BIGINT NOT NULL,
    people      BIGINT NOT NULL,
    events      BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind, day, gap)
);

-- Changes not yet folded in: an event (org_id NULL: one more or fewer of a
-- kind on a day) or a membership starting (+1) or ending (-1).
CREATE TABLE activity_queue (
    seq         BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL,
    org_id      BIGINT,
    kind        TEXT NOT NULL DEFAULT '',
    day         BIGINT NOT NULL DEFAULT 0,
    delta       BIGINT NOT NULL
);

CREATE TABLE org_activity_last (
    org_id      BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    day         BIGINT NOT NULL,
    people      BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind, day)
);

-- Adds to every org the person is a verified member of.
CREATE FUNCTION org_activity_add(p_account BIGINT, p_kind TEXT, p_day BIGINT, p_gap BIGINT,
                                 p_people BIGINT, p_events BIGINT) RETURNS void AS $$
    INSERT INTO org_activity_days AS o (org_id, kind, day, gap, people, events)
    SELECT m.org_id, p_kind, p_day, p_gap, p_people, p_events
    FROM activity_members m WHERE m.account_id = p_account
    ON CONFLICT (org_id, kind, day, gap)
    DO UPDATE SET people = o.people + EXCLUDED.people, events = o.events + EXCLUDED.events;
$$ LANGUAGE sql;

CREATE FUNCTION org_activity_last_add(p_account BIGINT, p_kind TEXT, p_day BIGINT,
                                      p_people BIGINT) RETURNS void AS $$
    INSERT INTO org_activity_last AS o (org_id, kind, day, people)
    SELECT m.org_id, p_kind, p_day, p_people
    FROM activity_members m WHERE m.account_id = p_account
    ON CONFLICT (org_id, kind, day) DO UPDATE SET people = o.people + EXCLUDED.people;
$$ LANGUAGE sql;

-- More (or fewer) events of a kind on a day; called by activity_fold alone.
CREATE FUNCTION activity_bump(p_account BIGINT, p_kind TEXT, p_day BIGINT, p_delta BIGINT)
RETURNS void
-- Plans made while a table was small would scan it whole once it is not.
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    now_events BIGINT;
    earlier BIGINT;
    later BIGINT;
BEGIN
    UPDATE activity_days SET events = events + p_delta
    WHERE account_id = p_account AND kind = p_kind AND day = p_day
    RETURNING events INTO now_events;
    IF now_events IS NULL THEN
        IF p_delta <= 0 THEN RETURN; END IF;
        SELECT MAX(a.day) INTO earlier FROM activity_days a
        WHERE a.account_id = p_account AND a.kind = p_kind AND a.day < p_day;
        INSERT INTO activity_days (account_id, kind, day, events, gap)
        VALUES (p_account, p_kind, p_day, p_delta, LEAST(COALESCE(p_day - earlier, 31), 31));
    ELSIF now_events <= 0 THEN
        DELETE FROM activity_days WHERE account_id = p_account AND kind = p_kind AND day = p_day;
    ELSE
        RETURN;
    END IF;
    -- The next active day's gap now reaches back to a different day.
    SELECT MIN(a.day) INTO later FROM activity_days a
    WHERE a.account_id = p_account AND a.kind = p_kind AND a.day > p_day;
    IF later IS NOT NULL THEN
        SELECT MAX(a.day) INTO earlier FROM activity_days a
        WHERE a.account_id = p_account AND a.kind = p_kind AND a.day < later;
        UPDATE activity_days SET gap = LEAST(COALESCE(later - earlier, 31), 31)
        WHERE account_id = p_account AND kind = p_kind AND day = later
          AND gap <> LEAST(COALESCE(later - earlier, 31), 31);
    END IF;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION activity_days_to_orgs() RETURNS trigger
-- Plans made while a table was small would scan it whole once it is not.
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    latest BIGINT;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM org_activity_add(OLD.account_id, OLD.kind, OLD.day, OLD.gap, -1, -OLD.events);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM org_activity_add(NEW.account_id, NEW.kind, NEW.day, NEW.gap, 1, NEW.events);
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT MAX(a.day) INTO latest FROM activity_days a
        WHERE a.account_id = NEW.account_id AND a.kind = NEW.kind AND a.day <> NEW.day;
        IF latest IS NULL OR latest < NEW.day THEN
            IF latest IS NOT NULL THEN
                PERFORM org_activity_last_add(NEW.account_id, NEW.kind, latest, -1);
            END IF;
            PERFORM org_activity_last_add(NEW.account_id, NEW.kind, NEW.day, 1);
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT MAX(a.day) INTO latest FROM activity_days a
        WHERE a.account_id = OLD.account_id AND a.kind = OLD.kind;
        IF latest IS NULL OR latest < OLD.day THEN
            PERFORM org_activity_last_add(OLD.account_id, OLD.kind, OLD.day, -1);
            IF latest IS NOT NULL THEN
                PERFORM org_activity_last_add(OLD.account_id, OLD.kind, latest, 1);
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER activity_days_to_orgs AFTER INSERT OR DELETE ON activity_days
    FOR EACH ROW EXECUTE FUNCTION activity_days_to_orgs();
CREATE TRIGGER activity_days_changed AFTER UPDATE ON activity_days
    FOR EACH ROW WHEN (OLD.gap <> NEW.gap OR OLD.events <> NEW.events)
    EXECUTE FUNCTION activity_days_to_orgs();

-- Joining brings the person's whole history into the org's figures (they
-- are the figures of its current members); leaving takes it out.
CREATE FUNCTION activity_membership(p_org BIGINT, p_account BIGINT, p_delta BIGINT)
RETURNS void
-- Plans made while a table was small would scan it whole once it is not.
SET plan_cache_mode = force_custom_plan AS $$
BEGIN
    IF p_delta < 0 THEN
        DELETE FROM activity_members WHERE org_id = p_org AND account_id = p_account;
        IF NOT FOUND THEN RETURN; END IF;
        UPDATE org_activity_days o SET people = o.people - 1, events = o.events - a.events
        FROM activity_days a
        WHERE a.account_id = p_account AND o.org_id = p_org
          AND o.kind = a.kind AND o.day = a.day AND o.gap = a.gap;
        UPDATE org_activity_last o SET people = o.people - 1
        FROM (SELECT kind, MAX(day) AS day FROM activity_days
              WHERE account_id = p_account GROUP BY kind) l
        WHERE o.org_id = p_org AND o.kind = l.kind AND o.day = l.day;
    ELSE
        INSERT INTO activity_members (org_id, account_id) VALUES (p_org, p_account)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN RETURN; END IF;
        INSERT INTO org_activity_days AS o (org_id, kind, day, gap, people, events)
        SELECT p_org, a.kind, a.day, a.gap, 1, a.events
        FROM activity_days a WHERE a.account_id = p_account
        ON CONFLICT (org_id, kind, day, gap)
        DO UPDATE SET people = o.people + 1, events = o.events + EXCLUDED.events;
        INSERT INTO org_activity_last AS o (org_id, kind, day, people)
        SELECT p_org, a.kind, MAX(a.day), 1
        FROM activity_days a WHERE a.account_id = p_account GROUP BY a.kind
        ON CONFLICT (org_id, kind, day) DO UPDATE SET people = o.people + 1;
    END IF;
END $$ LANGUAGE plpgsql;

-- Applies what is queued: one folder at a time (the others wait, then find
-- little left). Events are summed per person, kind and day first (the end
-- state does not depend on their order); memberships go in the order they
-- changed. Returns how many queued changes it applied.
CREATE FUNCTION activity_fold() RETURNS BIGINT
-- Plans made while a table was small would scan it whole once it is not.
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    r RECORD;
    n BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(20261204);
    CREATE TEMP TABLE IF NOT EXISTS activity_taken (LIKE activity_queue) ON COMMIT DELETE ROWS;
    WITH taken AS (DELETE FROM activity_queue RETURNING *)
    INSERT INTO activity_taken SELECT * FROM taken;
    GET DIAGNOSTICS n = ROW_COUNT;
    FOR r IN SELECT account_id, kind, day, SUM(delta)::BIGINT AS delta FROM activity_taken
             WHERE org_id IS NULL GROUP BY account_id, kind, day HAVING SUM(delta) <> 0
             ORDER BY account_id, kind, day LOOP
        PERFORM activity_bump(r.account_id, r.kind, r.day, r.delta);
    END LOOP;
    FOR r IN SELECT org_id, account_id, delta FROM activity_taken
             WHERE org_id IS NOT NULL ORDER BY seq LOOP
        PERFORM activity_membership(r.org_id, r.account_id, r.delta);
    END LOOP;
    RETURN n;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION memberships_activity() RETURNS trigger AS $$
DECLARE
    was BOOLEAN := TG_OP <> 'INSERT' AND OLD.state = 'verified';
    is_now BOOLEAN := TG_OP <> 'DELETE' AND NEW.state = 'verified';
BEGIN
    IF was AND NOT is_now THEN
        INSERT INTO activity_queue (account_id, org_id, delta) VALUES (OLD.account_id, OLD.org_id, -1);
    ELSIF is_now AND NOT was THEN
        INSERT INTO activity_queue (account_id, org_id, delta) VALUES (NEW.account_id, NEW.org_id, 1);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER memberships_activity AFTER INSERT OR DELETE OR UPDATE OF state ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_activity();

-- The events themselves. Posts exclude boosts and private messages (as the
-- dashboard always has); reactions are favourites.
CREATE FUNCTION statuses_activity() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.reblog_of_id IS NULL
       AND OLD.visibility IN ('public', 'unlisted', 'members') THEN
        INSERT INTO activity_queue (account_id, kind, day, delta)
        SELECT OLD.account_id, k, (OLD.created_at::date - DATE '1970-01-01')::BIGINT, -1
        FROM unnest(ARRAY['post', 'any']) AS k;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.reblog_of_id IS NULL
       AND NEW.visibility IN ('public', 'unlisted', 'members') THEN
        INSERT INTO activity_queue (account_id, kind, day, delta)
        SELECT NEW.account_id, k, (NEW.created_at::date - DATE '1970-01-01')::BIGINT, 1
        FROM unnest(ARRAY['post', 'any']) AS k;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER statuses_activity AFTER INSERT OR DELETE ON statuses
    FOR EACH ROW EXECUTE FUNCTION statuses_activity();
CREATE TRIGGER statuses_activity_changed
    AFTER UPDATE OF account_id, created_at, visibility, reblog_of_id ON statuses
    FOR EACH ROW WHEN (OLD.account_id <> NEW.account_id OR OLD.created_at <> NEW.created_at
                       OR OLD.visibility <> NEW.visibility
                       OR OLD.reblog_of_id IS DISTINCT FROM NEW.reblog_of_id)
    EXECUTE FUNCTION statuses_activity();

CREATE FUNCTION favourites_activity() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO activity_queue (account_id, kind, day, delta)
        SELECT OLD.account_id, k, (OLD.created_at::date - DATE '1970-01-01')::BIGINT, -1
        FROM unnest(ARRAY['reaction', 'any']) AS k;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO activity_queue (account_id, kind, day, delta)
        SELECT NEW.account_id, k, (NEW.created_at::date - DATE '1970-01-01')::BIGINT, 1
        FROM unnest(ARRAY['reaction', 'any']) AS k;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER favourites_activity AFTER INSERT OR DELETE OR UPDATE OF account_id, created_at
    ON favourites FOR EACH ROW EXECUTE FUNCTION favourites_activity();

CREATE FUNCTION sign_in_days_activity() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO activity_queue (account_id, kind, day, delta)
        SELECT OLD.account_id, k, OLD.day, -1 FROM unnest(ARRAY['sign_in', 'any']) AS k;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO activity_queue (account_id, kind, day, delta)
        SELECT NEW.account_id, k, NEW.day, 1 FROM unnest(ARRAY['sign_in', 'any']) AS k;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER sign_in_days_activity AFTER INSERT OR DELETE OR UPDATE ON sign_in_days
    FOR EACH ROW EXECUTE FUNCTION sign_in_days_activity();

-- Recomputes every rollup from the stored rows: once here, and on demand
-- (`tsunagu admin rebuild-activity`). Writers wait meanwhile.
CREATE FUNCTION activity_rebuild() RETURNS void AS $$
BEGIN
    LOCK TABLE statuses, favourites, sign_in_days, memberships IN SHARE ROW EXCLUSIVE MODE;
    PERFORM pg_advisory_xact_lock(20261204);
    -- Summed below in one pass, not row by row.
    ALTER TABLE activity_days DISABLE TRIGGER USER;
    TRUNCATE activity_queue, activity_days, activity_members, org_activity_days, org_activity_last;
    WITH events AS (
        SELECT account_id, 'post' AS kind, (created_at::date - DATE '1970-01-01')::BIGINT AS day
        FROM statuses WHERE reblog_of_id IS NULL AND visibility IN ('public', 'unlisted', 'members')
        UNION ALL
        SELECT account_id, 'reaction', (created_at::date - DATE '1970-01-01')::BIGINT FROM favourites
        UNION ALL
        SELECT account_id, 'sign_in', day FROM sign_in_days
    ), per_day AS (
        SELECT account_id, kind, day, COUNT(*) AS events FROM events GROUP BY account_id, kind, day
        UNION ALL
        SELECT account_id, 'any', day, COUNT(*) FROM events GROUP BY account_id, day
    )
    INSERT INTO activity_days (account_id, kind, day, events, gap)
    SELECT account_id, kind, day, events,
           LEAST(COALESCE(day - LAG(day) OVER (PARTITION BY account_id, kind ORDER BY day), 31), 31)
    FROM per_day;

    INSERT INTO activity_members (org_id, account_id)
    SELECT org_id, account_id FROM memberships WHERE state = 'verified';

    INSERT INTO org_activity_days (org_id, kind, day, gap, people, events)
    SELECT m.org_id, a.kind, a.day, a.gap, COUNT(*), SUM(a.events)
    FROM activity_members m JOIN activity_days a ON a.account_id = m.account_id
    GROUP BY m.org_id, a.kind, a.day, a.gap;

    INSERT INTO org_activity_last (org_id, kind, day, people)
    SELECT m.org_id, l.kind, l.day, COUNT(*)
    FROM activity_members m
    JOIN (SELECT account_id, kind, MAX(day) AS day FROM activity_days GROUP BY account_id, kind) l
      ON l.account_id = m.account_id
    GROUP BY m.org_id, l.kind, l.day;
    ALTER TABLE activity_days ENABLE TRIGGER USER;
END $$ LANGUAGE plpgsql;

SELECT activity_rebuild();
