DROP TABLE org_announcement_reads;
