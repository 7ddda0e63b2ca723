ALTER TABLE outbound_activities DROP COLUMN signed_by_instance;
DROP TABLE reports;
