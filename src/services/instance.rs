//! Facts about this instance that `/api/v1/instance` and `/api/v2/instance` report.
use super::views::{self, AccountView};
use super::{Ctx, ServiceResult};
use crate::db;

pub struct InstanceFacts {
    pub user_count: i64,
    pub status_count: i64,
    pub domain_count: i64,
    pub contact: Option<AccountView>,
}

pub async fn facts(ctx: &Ctx) -> ServiceResult<InstanceFacts> {
    let mut conn = ctx.conn().await?;
    let contact = db::accounts::first_admin(&mut conn).await?;
    let facts = InstanceFacts {
        user_count: db::accounts::count_active_local(&mut conn).await?,
        status_count: db::statuses::count_local(&mut conn).await?,
        domain_count: db::accounts::count_domains(&mut conn).await?,
        contact: None,
    };
    drop(conn);
    Ok(InstanceFacts {
        contact: match contact {
            Some(a) => Some(views::account(ctx, a).await?),
            None => None,
        },
        ..facts
    })
}

/// `GET /health`: is the database reachable?
pub async fn health(ctx: &Ctx) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    Ok(conn.ping().await?)
}

pub async fn peers(ctx: &Ctx) -> ServiceResult<Vec<String>> {
    let mut conn = ctx.conn().await?;
    Ok(db::accounts::known_domains(&mut conn).await?)
}

/// One week of activity, newest week first (as Mastodon reports it).
pub struct WeekActivity {
    pub week_start: i64,
    pub statuses: usize,
    pub logins: usize,
    pub registrations: usize,
}

/// The last 12 weeks (weeks start on Monday, UTC).
pub async fn activity(ctx: &Ctx) -> ServiceResult<Vec<WeekActivity>> {
    use chrono::{Datelike, Duration, NaiveTime};
    let today = chrono::Utc::now().date_naive();
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let starts: Vec<chrono::NaiveDateTime> = (0..12)
        .map(|i| (monday - Duration::weeks(i)).and_time(NaiveTime::MIN))
        .collect();
    let mut conn = ctx.conn().await?;
    let (posts, regs, logins) =
        db::accounts::activity_since(&mut conn, *starts.last().expect("12 weeks")).await?;
    Ok(starts
        .iter()
        .map(|start| {
            let end = *start + Duration::weeks(1);
            let inside = |t: &chrono::NaiveDateTime| t >= start && *t < end;
            let mut people: Vec<i64> = logins
                .iter()
                .filter(|(t, _)| inside(t))
                .map(|(_, a)| *a)
                .collect();
            people.sort_unstable();
            people.dedup();
            WeekActivity {
                week_start: start.and_utc().timestamp(),
                statuses: posts.iter().filter(|t| inside(t)).count(),
                logins: people.len(),
                registrations: regs.iter().filter(|t| inside(t)).count(),
            }
        })
        .collect())
}

/// One remote host's delivery state, for `tsunagu federation status`.
pub struct HostStatus {
    pub host: String,
    pub queued: i64,
    pub lag_seconds: Option<i64>,
    pub delivered: i64,
    pub failures: i32,
    pub breaker_open_until: Option<chrono::NaiveDateTime>,
    pub last_error: Option<String>,
    pub last_success_at: Option<chrono::NaiveDateTime>,
}

/// Delivery state per remote host, and inbound activities awaiting processing.
pub async fn federation_status(ctx: &Ctx) -> ServiceResult<(Vec<HostStatus>, i64)> {
    let mut conn = ctx.conn().await?;
    let now = crate::ids::now();
    let mut out = Vec::new();
    for h in db::federation::hosts(&mut conn).await? {
        let queued = db::federation::pending_count(&mut conn, &h.host, h.done_upto).await?;
        let oldest = db::federation::oldest_pending(&mut conn, &h.host, h.done_upto).await?;
        out.push(HostStatus {
            queued,
            lag_seconds: oldest.map(|o| (now - o).num_seconds().max(0)),
            delivered: h.delivered,
            failures: h.failures,
            breaker_open_until: h.next_attempt_at.filter(|t| *t > now),
            last_error: h.last_error,
            last_success_at: h.last_success_at,
            host: h.host,
        });
    }
    let inbound = db::federation::inbound_pending(&mut conn).await?;
    Ok((out, inbound))
}
