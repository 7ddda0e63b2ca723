-- An account that moved (ActivityPub Move, verified through the new
-- account's alsoKnownAs) points to where it went.
ALTER TABLE accounts ADD COLUMN moved_to_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL;
