DROP TABLE org_blocks;
