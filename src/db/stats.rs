//! Aggregates for the office's dashboard (network activity). Days are whole
//! UTC days since 1970-01-01; the day of a timestamp is computed by the
//! database, which is the one place the two backends' SQL differs here.
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

/// The days `first_day ..= last_day` cut into buckets of `width` days from
/// the first. Posts exclude boosts and private messages (followers-only and
/// direct posts are nobody's business but their audience's); reactions are
/// favourites.
pub async fn activity(
    conn: &mut DbConn<'_>,
    org_id: i64,
    first_day: i64,
    last_day: i64,
    width: i64,
) -> DbResult<Vec<ActivityRow>> {
    let backend = conn.backend();
    let day_of = |col: &str| match backend {
        Backend::Postgres => format!("({col}::date - DATE '1970-01-01')"),
        Backend::Sqlite => format!("CAST(julianday({col}) - 2440587.5 AS INTEGER)"),
    };
    let at = |day: i64| {
        let t = start_of_day(day).format("%Y-%m-%d %H:%M:%S");
        match backend {
            Backend::Postgres => format!("TIMESTAMP '{t}'"),
            Backend::Sqlite => format!("'{t}'"),
        }
    };
    let (from, until) = (at(first_day), at(last_day + 1));
    // Each person's events per kind and bucket first (one hashed pass over
    // the period's rows); every figure is then a count over those.
    let sql = format!(
        "WITH m AS (SELECT account_id FROM memberships WHERE org_id = {org_id} AND state = 'verified'), \
         a AS ( \
           SELECT 'post' AS kind, s.account_id AS account_id, {post_day} AS d FROM statuses s \
             WHERE s.account_id IN (SELECT account_id FROM m) AND s.created_at >= {from} AND s.created_at < {until} \
             AND s.reblog_of_id IS NULL AND s.visibility IN ('public', 'unlisted', 'members') \
           UNION ALL SELECT 'reaction', f.account_id, {fav_day} FROM favourites f \
             WHERE f.account_id IN (SELECT account_id FROM m) AND f.created_at >= {from} AND f.created_at < {until} \
           UNION ALL SELECT 'sign_in', g.account_id, g.day FROM sign_in_days g \
             WHERE g.account_id IN (SELECT account_id FROM m) AND g.day >= {first_day} AND g.day <= {last_day} \
         ), \
         b AS (SELECT kind, CAST((d - {first_day}) / {width} AS BIGINT) AS bucket, account_id, COUNT(*) AS events \
               FROM a GROUP BY kind, CAST((d - {first_day}) / {width} AS BIGINT), account_id) \
         SELECT kind, bucket, CAST(SUM(events) AS BIGINT) AS events, COUNT(*) AS people FROM b GROUP BY kind, bucket \
         UNION ALL SELECT 'any', bucket, CAST(0 AS BIGINT), COUNT(*) FROM (SELECT bucket, account_id FROM b GROUP BY bucket, account_id) x GROUP BY bucket \
         UNION ALL SELECT kind, CAST(-1 AS BIGINT), CAST(SUM(events) AS BIGINT), COUNT(*) FROM (SELECT kind, account_id, SUM(events) AS events FROM b GROUP BY kind, account_id) y GROUP BY kind \
         UNION ALL SELECT 'any', CAST(-1 AS BIGINT), CAST(0 AS BIGINT), COUNT(*) FROM (SELECT account_id FROM b GROUP BY account_id) z",
        post_day = day_of("s.created_at"),
        fav_day = day_of("f.created_at"),
    );
    with_conn!(conn, |c| diesel::sql_query(sql.clone()).load(c).await)
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
