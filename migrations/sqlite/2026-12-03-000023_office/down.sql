DROP TABLE roster_imports;
DROP INDEX favourites_account_created_idx;
DROP INDEX statuses_account_created_idx;
DROP TABLE sign_in_days;
DROP TRIGGER memberships_record_delete;
DROP TRIGGER memberships_record_update;
DROP TRIGGER memberships_record_insert;
DROP TABLE membership_changes;
