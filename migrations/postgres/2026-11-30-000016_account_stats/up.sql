-- Counters shown with every account (statuses, followers, following, last
-- post), kept by triggers as rows change: counting them per page cost more
-- than the rest of a home timeline (docs/performance.md, timeline).
CREATE TABLE account_stats (
    account_id       BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    statuses_count   BIGINT NOT NULL DEFAULT 0,
    last_status_at   TIMESTAMP,
    followers_count  BIGINT NOT NULL DEFAULT 0,
    following_count  BIGINT NOT NULL DEFAULT 0
);

INSERT INTO account_stats (account_id, statuses_count, last_status_at, followers_count, following_count)
SELECT a.id,
       (SELECT COUNT(*) FROM statuses s WHERE s.account_id = a.id),
       (SELECT MAX(s.created_at) FROM statuses s WHERE s.account_id = a.id),
       (SELECT COUNT(*) FROM follows f WHERE f.target_account_id = a.id AND NOT f.pending),
       (SELECT COUNT(*) FROM follows f WHERE f.account_id = a.id AND NOT f.pending)
FROM accounts a;

CREATE FUNCTION account_stats_new_account() RETURNS trigger AS $$
BEGIN
    INSERT INTO account_stats (account_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER account_stats_new_account AFTER INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION account_stats_new_account();

CREATE FUNCTION account_stats_statuses() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE account_stats SET
            statuses_count = statuses_count - 1,
            last_status_at = (SELECT MAX(created_at) FROM statuses WHERE account_id = OLD.account_id)
        WHERE account_id = OLD.account_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE account_stats SET
            statuses_count = statuses_count + 1,
            last_status_at = GREATEST(last_status_at, NEW.created_at)
        WHERE account_id = NEW.account_id;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER account_stats_statuses AFTER INSERT OR DELETE OR UPDATE OF account_id, created_at ON statuses
    FOR EACH ROW EXECUTE FUNCTION account_stats_statuses();

CREATE FUNCTION account_stats_follows() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') AND NOT OLD.pending THEN
        UPDATE account_stats SET followers_count = followers_count - 1 WHERE account_id = OLD.target_account_id;
        UPDATE account_stats SET following_count = following_count - 1 WHERE account_id = OLD.account_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NOT NEW.pending THEN
        UPDATE account_stats SET followers_count = followers_count + 1 WHERE account_id = NEW.target_account_id;
        UPDATE account_stats SET following_count = following_count + 1 WHERE account_id = NEW.account_id;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER account_stats_follows AFTER INSERT OR DELETE OR UPDATE OF account_id, target_account_id, pending ON follows
    FOR EACH ROW EXECUTE FUNCTION account_stats_follows();
