DROP TABLE delivery_hosts;
DROP TABLE outbound_targets;
DROP TABLE outbound_activities;
DROP TABLE inbox_activities;
ALTER TABLE follows DROP COLUMN uri;
