DROP TABLE community_bans;
DROP TABLE thread_locks;
