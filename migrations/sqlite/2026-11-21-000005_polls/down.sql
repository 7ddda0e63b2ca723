DROP TABLE poll_votes;
DROP TABLE polls;
