DROP TRIGGER account_stats_follows ON follows;
DROP TRIGGER account_stats_statuses ON statuses;
DROP TRIGGER account_stats_new_account ON accounts;
DROP FUNCTION account_stats_follows();
DROP FUNCTION account_stats_statuses();
DROP FUNCTION account_stats_new_account();
DROP TABLE account_stats;
