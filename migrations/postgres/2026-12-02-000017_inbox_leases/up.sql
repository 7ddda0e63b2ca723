-- The inbox workers skip actors with an activity in flight (or waiting for
-- a retry) on any node, so one actor's activities go one at a time, in
-- order. Those rows are few; this index finds them without scanning the
-- whole backlog on every claim.
CREATE INDEX inbox_activities_leased_idx ON inbox_activities (lease_until, actor_uri)
    WHERE processed_at IS NULL AND lease_until IS NOT NULL;
