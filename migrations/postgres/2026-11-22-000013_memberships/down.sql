DROP INDEX statuses_audience_idx;
ALTER TABLE statuses DROP COLUMN audience_id;
DROP TABLE org_recognitions;
DROP TABLE consents;
DROP TABLE roster_entries;
DROP TABLE org_invites;
DROP TABLE memberships;
