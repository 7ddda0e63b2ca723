-- Members dismiss their orgs' announcements (the office's pinned posts) as
-- they dismiss the instance's (announcement_reads).
CREATE TABLE org_announcement_reads (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, status_id)
);
