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

CREATE TRIGGER account_stats_new_account AFTER INSERT ON accounts
BEGIN
    INSERT OR IGNORE INTO account_stats (account_id) VALUES (NEW.id);
END;

CREATE TRIGGER account_stats_status_added AFTER INSERT ON statuses
BEGIN
    UPDATE account_stats SET
        statuses_count = statuses_count + 1,
        last_status_at = CASE WHEN last_status_at IS NULL OR NEW.created_at > last_status_at
                              THEN NEW.created_at ELSE last_status_at END
    WHERE account_id = NEW.account_id;
END;

CREATE TRIGGER account_stats_status_removed AFTER DELETE ON statuses
BEGIN
    UPDATE account_stats SET
        statuses_count = statuses_count - 1,
        last_status_at = (SELECT MAX(created_at) FROM statuses WHERE account_id = OLD.account_id)
    WHERE account_id = OLD.account_id;
END;

CREATE TRIGGER account_stats_status_moved AFTER UPDATE OF account_id, created_at ON statuses
BEGIN
    UPDATE account_stats SET
        statuses_count = statuses_count - 1,
        last_status_at = (SELECT MAX(created_at) FROM statuses WHERE account_id = OLD.account_id)
    WHERE account_id = OLD.account_id;
    UPDATE account_stats SET
        statuses_count = statuses_count + 1,
        last_status_at = (SELECT MAX(created_at) FROM statuses WHERE account_id = NEW.account_id)
    WHERE account_id = NEW.account_id;
END;

CREATE TRIGGER account_stats_follow_added AFTER INSERT ON follows WHEN NOT NEW.pending
BEGIN
    UPDATE account_stats SET followers_count = followers_count + 1 WHERE account_id = NEW.target_account_id;
    UPDATE account_stats SET following_count = following_count + 1 WHERE account_id = NEW.account_id;
END;

CREATE TRIGGER account_stats_follow_removed AFTER DELETE ON follows WHEN NOT OLD.pending
BEGIN
    UPDATE account_stats SET followers_count = followers_count - 1 WHERE account_id = OLD.target_account_id;
    UPDATE account_stats SET following_count = following_count - 1 WHERE account_id = OLD.account_id;
END;

CREATE TRIGGER account_stats_follow_changed AFTER UPDATE OF account_id, target_account_id, pending ON follows
BEGIN
    UPDATE account_stats SET followers_count = followers_count - 1
        WHERE account_id = OLD.target_account_id AND NOT OLD.pending;
    UPDATE account_stats SET following_count = following_count - 1
        WHERE account_id = OLD.account_id AND NOT OLD.pending;
    UPDATE account_stats SET followers_count = followers_count + 1
        WHERE account_id = NEW.target_account_id AND NOT NEW.pending;
    UPDATE account_stats SET following_count = following_count + 1
        WHERE account_id = NEW.account_id AND NOT NEW.pending;
END;
