-- Set once the poll's end has been announced to its voters and author
-- (several app nodes race for it; the one whose UPDATE flips it notifies).
ALTER TABLE polls ADD COLUMN ended_notified BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX polls_open_expiry_idx ON polls (expires_at) WHERE NOT ended_notified;
