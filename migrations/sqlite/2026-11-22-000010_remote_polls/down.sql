ALTER TABLE polls DROP COLUMN remote_voters;
ALTER TABLE polls DROP COLUMN remote_counts;
