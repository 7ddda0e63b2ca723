DROP TABLE roster_imports;
DROP INDEX favourites_account_created_idx;
DROP INDEX statuses_account_created_idx;
DROP TABLE sign_in_days;
DROP TRIGGER memberships_record_changes ON memberships;
DROP FUNCTION record_membership_change();
DROP TABLE membership_changes;
