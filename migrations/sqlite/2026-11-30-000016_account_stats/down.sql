DROP TRIGGER account_stats_follow_changed;
DROP TRIGGER account_stats_follow_removed;
DROP TRIGGER account_stats_follow_added;
DROP TRIGGER account_stats_status_moved;
DROP TRIGGER account_stats_status_removed;
DROP TRIGGER account_stats_status_added;
DROP TRIGGER account_stats_new_account;
DROP TABLE account_stats;
