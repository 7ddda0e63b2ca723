DROP TABLE instance_settings;
DROP TABLE domain_allows;
DROP TABLE domain_block_accounts;
DROP TABLE domain_blocks;
ALTER TABLE reports DROP COLUMN action_taken_by_account_id;
DROP TABLE silenced_accounts;
