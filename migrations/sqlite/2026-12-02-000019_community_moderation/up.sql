-- What a remote community's moderators decided that concerns this server
-- (Lemmy's Lock and Block in a community): threads locked against new
-- replies, and our people banned from posting into the community.
CREATE TABLE thread_locks (
    status_id  BIGINT PRIMARY KEY NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    locked_at  TIMESTAMP NOT NULL
);
CREATE TABLE community_bans (
    group_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    reason      TEXT NOT NULL,
    expires_at  TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, account_id)
);
CREATE INDEX community_bans_account_idx ON community_bans (account_id);
-- What software a peer runs (its NodeInfo), where that changes what we
-- send it: Lemmy takes a group's post only as Announce{Create}, a microblog
-- only as Announce{Note}. Empty when its NodeInfo could not be read.
CREATE TABLE peer_software (
    host        TEXT PRIMARY KEY NOT NULL,
    software    TEXT NOT NULL,
    version     TEXT NOT NULL,
    checked_at  TIMESTAMP NOT NULL
);
