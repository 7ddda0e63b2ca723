DROP INDEX polls_open_expiry_idx;
ALTER TABLE polls DROP COLUMN ended_notified;
