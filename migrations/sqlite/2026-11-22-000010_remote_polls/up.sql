-- A remote poll's tallies as its server reports them (in Update{Question});
-- NULL for our own polls, whose tallies are counted from poll_votes.
ALTER TABLE polls ADD COLUMN remote_counts TEXT;
ALTER TABLE polls ADD COLUMN remote_voters BIGINT;
