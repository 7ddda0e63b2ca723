//! Aggregates for the office's dashboard (network activity). Days are whole
//! UTC days since 1970-01-01; the database's triggers turn timestamps into
//! days and keep the per-day rollups read here.
use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;

use super::schema::{accounts, follows, membership_changes, sign_in_days};
use super::{Backend, DbConn, DbResult};
use crate::with_conn;

/// How many memberships of an org changed role (or began or ended) on a day.
#[derive(Debug, Clone, Queryable)]
pub struct RoleChanges {
    pub day: i64,
    pub role_before: Option<String>,
    pub role_after: Option<String>,
    pub count: i64,
}

/// Every change of the org's verified memberships, grouped by day (a few
/// rows a day at most, whatever the org's size).
pub async fn role_changes(conn: &mut DbConn<'_>, org_id: i64) -> DbResult<Vec<RoleChanges>> {
    with_conn!(conn, |c| membership_changes::table
        .filter(membership_changes::org_id.eq(org_id))
        .group_by((
            membership_changes::day,
            membership_changes::role_before,
            membership_changes::role_after,
        ))
        .select((
            membership_changes::day,
            membership_changes::role_before,
            membership_changes::role_after,
            count_star(),
        ))
        .order(membership_changes::day)
        .load(c)
        .await)
}

/// Notes that the person used the server on `day` (once a day is enough).
pub async fn record_sign_in(conn: &mut DbConn<'_>, account_id: i64, day: i64) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(sign_in_days::table)
        .values((
            sign_in_days::account_id.eq(account_id),
            sign_in_days::day.eq(day),
        ))
        .on_conflict_do_nothing()
        .execute(c)
        .await
        .map(drop))
}

/// What the org's current members did in one bucket of days: `kind` is
/// `post`, `reaction`, `sign_in` or `any`; `bucket` -1 is the whole period.
#[derive(Debug, Clone, QueryableByName)]
pub struct ActivityRow {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub bucket: i64,
    #[diesel(sql_type = BigInt)]
    pub events: i64,
    #[diesel(sql_type = BigInt)]
    pub people: i64,
}

/// Applies the activity changes queued by the triggers to the rollups and
/// returns how many there were. PostgreSQL queues them (writers never wait
/// for one another on an org's shared rows); SQLite applies them at once,
/// so there is nothing to do.
pub async fn fold_activity(conn: &mut DbConn<'_>) -> DbResult<i64> {
    #[derive(QueryableByName)]
    struct Folded {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    if conn.backend() == Backend::Sqlite {
        return Ok(0);
    }
    let f: Folded = with_conn!(conn, |c| diesel::sql_query("SELECT activity_fold() AS n")
        .get_result(c)
        .await)?;
    Ok(f.n)
}

/// Recomputes every activity rollup from the stored posts, favourites,
/// sign-in days and memberships (what the migration did once). Writers of
/// those wait until it is done.
pub async fn rebuild_activity(conn: &mut DbConn<'_>) -> DbResult<()> {
    let sql = match conn.backend() {
        Backend::Postgres => "SELECT activity_rebuild()",
        Backend::Sqlite => "INSERT INTO activity_rebuilds VALUES (0)",
    };
    with_conn!(conn, |c| diesel::sql_query(sql).execute(c).await.map(drop))
}

/// The longest bucket `activity` counts people in exactly: the triggers
/// keep each active day's distance to the one before up to this many days.
pub const MAX_BUCKET_DAYS: i64 = 31;

/// The days `first_day ..= last_day` cut into buckets of `width` days from
/// the first, read from the rollups the triggers keep (migration
/// `…000025_activity_rollups`): a few rows per day whatever the org's size.
/// Posts exclude boosts and private messages (followers-only and direct
/// posts are nobody's business but their audience's); reactions are
/// favourites. The whole period's people count who was last active in it,
/// so `last_day` must be today (nothing is dated later).
pub async fn activity(
    conn: &mut DbConn<'_>,
    org_id: i64,
    first_day: i64,
    last_day: i64,
    width: i64,
) -> DbResult<Vec<ActivityRow>> {
    debug_assert!((1..=MAX_BUCKET_DAYS).contains(&width));
    // A person counts in a bucket on their first active day in it: the day
    // whose gap reaches back before the bucket began.
    let bucket = format!("CAST((day - {first_day}) / {width} AS BIGINT)");
    let sql = format!(
        "SELECT kind, {bucket} AS bucket, CAST(SUM(events) AS BIGINT) AS events, \
           CAST(SUM(CASE WHEN gap > (day - {first_day}) % {width} THEN people ELSE 0 END) AS BIGINT) AS people \
         FROM org_activity_days WHERE org_id = {org_id} AND day >= {first_day} AND day <= {last_day} \
         GROUP BY kind, {bucket} \
         UNION ALL \
         SELECT kind, CAST(-1 AS BIGINT), CAST(0 AS BIGINT), CAST(SUM(people) AS BIGINT) \
         FROM org_activity_last WHERE org_id = {org_id} AND day >= {first_day} GROUP BY kind"
    );
    let mut rows: Vec<ActivityRow> =
        with_conn!(conn, |c| diesel::sql_query(sql.clone()).load(c).await)?;
    // The period's events are its buckets' together.
    let mut events: HashMap<String, i64> = HashMap::new();
    for r in rows.iter().filter(|r| r.bucket >= 0) {
        *events.entry(r.kind.clone()).or_default() += r.events;
    }
    for r in rows.iter_mut().filter(|r| r.bucket == -1) {
        r.events = events.remove(&r.kind).unwrap_or(0);
    }
    rows.extend(events.into_iter().map(|(kind, events)| ActivityRow {
        kind,
        bucket: -1,
        events,
        people: 0,
    }));
    Ok(rows)
}

/// The org's followers by server (`None`: this one), most first.
pub async fn followers_by_server(
    conn: &mut DbConn<'_>,
    org_id: i64,
    limit: i64,
) -> DbResult<Vec<(Option<String>, i64)>> {
    with_conn!(conn, |c| follows::table
        .inner_join(accounts::table.on(accounts::id.eq(follows::account_id)))
        .filter(follows::target_account_id.eq(org_id))
        .filter(follows::pending.eq(false))
        .group_by(accounts::domain)
        .select((accounts::domain, count_star()))
        .order((count_star().desc(), accounts::domain))
        .limit(limit)
        .load(c)
        .await)
}

/// Midnight UTC at the start of `day`.
pub fn start_of_day(day: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(day * 86_400, 0)
        .unwrap_or_default()
        .naive_utc()
}

/// The UTC day of a timestamp, as the triggers and queries count days.
pub fn day_of(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp().div_euclid(86_400)
}
