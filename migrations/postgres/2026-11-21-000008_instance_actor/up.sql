-- The instance actor (`/actor`, type Application) signs our fetches, as
-- servers with authorized fetch require. One row, created on first use.
CREATE TABLE instance_actor (
    id               INTEGER PRIMARY KEY,
    private_key_pem  TEXT NOT NULL,
    public_key_pem   TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
