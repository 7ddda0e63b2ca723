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

CREATE TABLE org_activity_last (
    org_id      BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    day         BIGINT NOT NULL,
    people      BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind, day)
);

-- SQLite has no functions of its own making: each routine is a view whose
-- INSTEAD OF INSERT trigger does the work, and callers insert a row into it.

-- Adds to every org the person is a verified member of.
CREATE VIEW org_activity_changes AS
    SELECT 0 AS account_id, kind, day, gap, people, events FROM org_activity_days WHERE 0;
CREATE TRIGGER org_activity_change INSTEAD OF INSERT ON org_activity_changes
BEGIN
    INSERT INTO org_activity_days (org_id, kind, day, gap, people, events)
    SELECT m.org_id, NEW.kind, NEW.day, NEW.gap, NEW.people, NEW.events
    FROM activity_members m WHERE m.account_id = NEW.account_id
    ON CONFLICT (org_id, kind, day, gap)
    DO UPDATE SET people = people + excluded.people, events = events + excluded.events;
END;

CREATE VIEW org_activity_last_changes AS
    SELECT 0 AS account_id, kind, day, people FROM org_activity_last WHERE 0;
CREATE TRIGGER org_activity_last_change INSTEAD OF INSERT ON org_activity_last_changes
BEGIN
    INSERT INTO org_activity_last (org_id, kind, day, people)
    SELECT m.org_id, NEW.kind, NEW.day, NEW.people
    FROM activity_members m WHERE m.account_id = NEW.account_id
    ON CONFLICT (org_id, kind, day) DO UPDATE SET people = people + excluded.people;
END;

-- One more (or one fewer, delta -1) event of a kind on a day.
CREATE VIEW activity_bumps AS
    SELECT account_id, kind, day, events AS delta FROM activity_days WHERE 0;
CREATE TRIGGER activity_bump INSTEAD OF INSERT ON activity_bumps
BEGIN
    UPDATE activity_days SET events = events + NEW.delta
    WHERE account_id = NEW.account_id AND kind = NEW.kind AND day = NEW.day;
    INSERT INTO activity_days (account_id, kind, day, events, gap)
    SELECT NEW.account_id, NEW.kind, NEW.day, NEW.delta,
           MIN(31, COALESCE(NEW.day - (SELECT MAX(a.day) FROM activity_days a
               WHERE a.account_id = NEW.account_id AND a.kind = NEW.kind AND a.day < NEW.day), 31))
    WHERE NEW.delta > 0 AND NOT EXISTS (SELECT 1 FROM activity_days a
          WHERE a.account_id = NEW.account_id AND a.kind = NEW.kind AND a.day = NEW.day);
    DELETE FROM activity_days
    WHERE account_id = NEW.account_id AND kind = NEW.kind AND day = NEW.day AND events <= 0;
    -- The next active day's gap now reaches back to a different day.
    UPDATE activity_days
    SET gap = MIN(31, COALESCE(day - (SELECT MAX(a.day) FROM activity_days a
              WHERE a.account_id = NEW.account_id AND a.kind = NEW.kind
                AND a.day < activity_days.day), 31))
    WHERE account_id = NEW.account_id AND kind = NEW.kind
      AND day = (SELECT MIN(a.day) FROM activity_days a
                 WHERE a.account_id = NEW.account_id AND a.kind = NEW.kind AND a.day > NEW.day);
END;

CREATE TRIGGER activity_days_added AFTER INSERT ON activity_days
BEGIN
    INSERT INTO org_activity_changes
    VALUES (NEW.account_id, NEW.kind, NEW.day, NEW.gap, 1, NEW.events);
    -- A new latest day: the person's previous latest is no longer theirs.
    INSERT INTO org_activity_last_changes
    SELECT NEW.account_id, NEW.kind, p.day, -1
    FROM (SELECT MAX(a.day) AS day FROM activity_days a
          WHERE a.account_id = NEW.account_id AND a.kind = NEW.kind AND a.day < NEW.day) p
    WHERE p.day IS NOT NULL AND NOT EXISTS (SELECT 1 FROM activity_days a
          WHERE a.account_id = NEW.account_id AND a.kind = NEW.kind AND a.day > NEW.day);
    INSERT INTO org_activity_last_changes
    SELECT NEW.account_id, NEW.kind, NEW.day, 1
    WHERE NOT EXISTS (SELECT 1 FROM activity_days a
          WHERE a.account_id = NEW.account_id AND a.kind = NEW.kind AND a.day > NEW.day);
END;

CREATE TRIGGER activity_days_removed AFTER DELETE ON activity_days
BEGIN
    INSERT INTO org_activity_changes
    VALUES (OLD.account_id, OLD.kind, OLD.day, OLD.gap, -1, -OLD.events);
    -- The latest day went: the one before it is the latest now.
    INSERT INTO org_activity_last_changes
    SELECT OLD.account_id, OLD.kind, OLD.day, -1
    WHERE NOT EXISTS (SELECT 1 FROM activity_days a
          WHERE a.account_id = OLD.account_id AND a.kind = OLD.kind AND a.day > OLD.day);
    INSERT INTO org_activity_last_changes
    SELECT OLD.account_id, OLD.kind, p.day, 1
    FROM (SELECT MAX(a.day) AS day FROM activity_days a
          WHERE a.account_id = OLD.account_id AND a.kind = OLD.kind) p
    WHERE p.day IS NOT NULL AND p.day < OLD.day;
END;

CREATE TRIGGER activity_days_changed AFTER UPDATE ON activity_days
WHEN OLD.gap <> NEW.gap OR OLD.events <> NEW.events
BEGIN
    INSERT INTO org_activity_changes
    VALUES (OLD.account_id, OLD.kind, OLD.day, OLD.gap, -1, -OLD.events),
           (NEW.account_id, NEW.kind, NEW.day, NEW.gap, 1, NEW.events);
END;

-- Joining brings the person's whole history into the org's figures (they
-- are the figures of its current members); leaving takes it out.
CREATE VIEW membership_activity AS
    SELECT org_id, account_id, 0 AS delta FROM activity_members WHERE 0;
CREATE TRIGGER membership_activity_joined INSTEAD OF INSERT ON membership_activity
WHEN NEW.delta > 0 AND NOT EXISTS (SELECT 1 FROM activity_members
     WHERE org_id = NEW.org_id AND account_id = NEW.account_id)
BEGIN
    INSERT INTO activity_members (org_id, account_id) VALUES (NEW.org_id, NEW.account_id);
    INSERT INTO org_activity_days (org_id, kind, day, gap, people, events)
    SELECT NEW.org_id, a.kind, a.day, a.gap, 1, a.events
    FROM activity_days a WHERE a.account_id = NEW.account_id
    ON CONFLICT (org_id, kind, day, gap)
    DO UPDATE SET people = people + 1, events = events + excluded.events;
    INSERT INTO org_activity_last (org_id, kind, day, people)
    SELECT NEW.org_id, a.kind, MAX(a.day), 1
    FROM activity_days a WHERE a.account_id = NEW.account_id GROUP BY a.kind
    ON CONFLICT (org_id, kind, day) DO UPDATE SET people = people + 1;
END;
CREATE TRIGGER membership_activity_left INSTEAD OF INSERT ON membership_activity
WHEN NEW.delta < 0 AND EXISTS (SELECT 1 FROM activity_members
     WHERE org_id = NEW.org_id AND account_id = NEW.account_id)
BEGIN
    DELETE FROM activity_members WHERE org_id = NEW.org_id AND account_id = NEW.account_id;
    UPDATE org_activity_days SET people = people - 1, events = org_activity_days.events - a.events
    FROM activity_days a
    WHERE a.account_id = NEW.account_id AND org_activity_days.org_id = NEW.org_id
      AND org_activity_days.kind = a.kind AND org_activity_days.day = a.day
      AND org_activity_days.gap = a.gap;
    UPDATE org_activity_last SET people = people - 1
    FROM (SELECT kind, MAX(day) AS day FROM activity_days
          WHERE account_id = NEW.account_id GROUP BY kind) l
    WHERE org_activity_last.org_id = NEW.org_id AND org_activity_last.kind = l.kind
      AND org_activity_last.day = l.day;
END;

CREATE TRIGGER memberships_activity_inserted AFTER INSERT ON memberships
WHEN NEW.state = 'verified'
BEGIN
    INSERT INTO membership_activity VALUES (NEW.org_id, NEW.account_id, 1);
END;
CREATE TRIGGER memberships_activity_updated AFTER UPDATE OF state ON memberships
WHEN (OLD.state = 'verified') <> (NEW.state = 'verified')
BEGIN
    INSERT INTO membership_activity
    VALUES (NEW.org_id, NEW.account_id, CASE WHEN NEW.state = 'verified' THEN 1 ELSE -1 END);
END;
CREATE TRIGGER memberships_activity_deleted AFTER DELETE ON memberships
WHEN OLD.state = 'verified'
BEGIN
    INSERT INTO membership_activity VALUES (OLD.org_id, OLD.account_id, -1);
END;

-- The events themselves. Posts exclude boosts and private messages (as the
-- dashboard always has); reactions are favourites.
CREATE TRIGGER statuses_activity_added AFTER INSERT ON statuses
WHEN NEW.reblog_of_id IS NULL AND NEW.visibility IN ('public', 'unlisted', 'members')
BEGIN
    INSERT INTO activity_bumps VALUES
        (NEW.account_id, 'post', CAST(julianday(date(NEW.created_at)) - 2440587.5 AS INTEGER), 1),
        (NEW.account_id, 'any', CAST(julianday(date(NEW.created_at)) - 2440587.5 AS INTEGER), 1);
END;
CREATE TRIGGER statuses_activity_removed AFTER DELETE ON statuses
WHEN OLD.reblog_of_id IS NULL AND OLD.visibility IN ('public', 'unlisted', 'members')
BEGIN
    INSERT INTO activity_bumps VALUES
        (OLD.account_id, 'post', CAST(julianday(date(OLD.created_at)) - 2440587.5 AS INTEGER), -1),
        (OLD.account_id, 'any', CAST(julianday(date(OLD.created_at)) - 2440587.5 AS INTEGER), -1);
END;
CREATE TRIGGER statuses_activity_changed
AFTER UPDATE OF account_id, created_at, visibility, reblog_of_id ON statuses
WHEN OLD.account_id <> NEW.account_id OR OLD.created_at <> NEW.created_at
     OR OLD.visibility <> NEW.visibility OR OLD.reblog_of_id IS NOT NEW.reblog_of_id
BEGIN
    INSERT INTO activity_bumps
    SELECT OLD.account_id, k.kind, CAST(julianday(date(OLD.created_at)) - 2440587.5 AS INTEGER), -1
    FROM (SELECT 'post' AS kind UNION ALL SELECT 'any') k
    WHERE OLD.reblog_of_id IS NULL AND OLD.visibility IN ('public', 'unlisted', 'members');
    INSERT INTO activity_bumps
    SELECT NEW.account_id, k.kind, CAST(julianday(date(NEW.created_at)) - 2440587.5 AS INTEGER), 1
    FROM (SELECT 'post' AS kind UNION ALL SELECT 'any') k
    WHERE NEW.reblog_of_id IS NULL AND NEW.visibility IN ('public', 'unlisted', 'members');
END;

CREATE TRIGGER favourites_activity_added AFTER INSERT ON favourites
BEGIN
    INSERT INTO activity_bumps VALUES
        (NEW.account_id, 'reaction', CAST(julianday(date(NEW.created_at)) - 2440587.5 AS INTEGER), 1),
        (NEW.account_id, 'any', CAST(julianday(date(NEW.created_at)) - 2440587.5 AS INTEGER), 1);
END;
CREATE TRIGGER favourites_activity_removed AFTER DELETE ON favourites
BEGIN
    INSERT INTO activity_bumps VALUES
        (OLD.account_id, 'reaction', CAST(julianday(date(OLD.created_at)) - 2440587.5 AS INTEGER), -1),
        (OLD.account_id, 'any', CAST(julianday(date(OLD.created_at)) - 2440587.5 AS INTEGER), -1);
END;
CREATE TRIGGER favourites_activity_changed AFTER UPDATE OF account_id, created_at ON favourites
WHEN OLD.account_id <> NEW.account_id OR OLD.created_at <> NEW.created_at
BEGIN
    INSERT INTO activity_bumps VALUES
        (OLD.account_id, 'reaction', CAST(julianday(date(OLD.created_at)) - 2440587.5 AS INTEGER), -1),
        (OLD.account_id, 'any', CAST(julianday(date(OLD.created_at)) - 2440587.5 AS INTEGER), -1),
        (NEW.account_id, 'reaction', CAST(julianday(date(NEW.created_at)) - 2440587.5 AS INTEGER), 1),
        (NEW.account_id, 'any', CAST(julianday(date(NEW.created_at)) - 2440587.5 AS INTEGER), 1);
END;

CREATE TRIGGER sign_in_days_activity_added AFTER INSERT ON sign_in_days
BEGIN
    INSERT INTO activity_bumps VALUES
        (NEW.account_id, 'sign_in', NEW.day, 1), (NEW.account_id, 'any', NEW.day, 1);
END;
CREATE TRIGGER sign_in_days_activity_removed AFTER DELETE ON sign_in_days
BEGIN
    INSERT INTO activity_bumps VALUES
        (OLD.account_id, 'sign_in', OLD.day, -1), (OLD.account_id, 'any', OLD.day, -1);
END;

-- Recomputes every rollup from the stored rows: once here, and on demand
-- (`tsunagu admin rebuild-activity`). Triggers cannot hold WITH clauses, so
-- the events are spelled out twice.
CREATE VIEW activity_rebuilds AS SELECT 0 AS everything WHERE 0;
CREATE TRIGGER activity_rebuild INSTEAD OF INSERT ON activity_rebuilds
BEGIN
    -- Without members first, so the row triggers below change no org.
    DELETE FROM activity_members;
    DELETE FROM activity_days;
    DELETE FROM org_activity_days;
    DELETE FROM org_activity_last;
    INSERT INTO activity_days (account_id, kind, day, events, gap)
    SELECT account_id, kind, day, events,
           MIN(31, COALESCE(day - LAG(day) OVER (PARTITION BY account_id, kind ORDER BY day), 31))
    FROM (SELECT account_id, kind, day, COUNT(*) AS events
          FROM (SELECT account_id, 'post' AS kind, CAST(julianday(date(created_at)) - 2440587.5 AS INTEGER) AS day
              FROM statuses WHERE reblog_of_id IS NULL AND visibility IN ('public', 'unlisted', 'members')
              UNION ALL SELECT account_id, 'reaction', CAST(julianday(date(created_at)) - 2440587.5 AS INTEGER) FROM favourites
              UNION ALL SELECT account_id, 'sign_in', day FROM sign_in_days) e GROUP BY account_id, kind, day
          UNION ALL
          SELECT account_id, 'any' AS kind, day, COUNT(*) AS events
          FROM (SELECT account_id, 'post' AS kind, CAST(julianday(date(created_at)) - 2440587.5 AS INTEGER) AS day
              FROM statuses WHERE reblog_of_id IS NULL AND visibility IN ('public', 'unlisted', 'members')
              UNION ALL SELECT account_id, 'reaction', CAST(julianday(date(created_at)) - 2440587.5 AS INTEGER) FROM favourites
              UNION ALL SELECT account_id, 'sign_in', day FROM sign_in_days) e GROUP BY account_id, day) per_day
    WHERE true;
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
END;

INSERT INTO activity_rebuilds VALUES (0);
