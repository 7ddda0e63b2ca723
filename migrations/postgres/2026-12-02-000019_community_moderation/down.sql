DROP TABLE peer_software;
DROP TABLE community_bans;
DROP TABLE thread_locks;
