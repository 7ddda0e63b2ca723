//! Network activity: the office's figures of its org over a period — members
//! by role, new and active members, posts, reactions and reach. Aggregates
//! only: nothing here names a person, and any count of 1 to 4 is given as
//! "fewer than five" (`Count::FewerThanFive`), so no small group can be
//! picked out.
use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDate;
use serde::Serialize;

use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::LocalUser;
use crate::db::{self, DbConn, stats::day_of};
use crate::domain::Role;
use crate::ids;

crate::text_enum! {
    /// The periods the dashboard offers, by their length in days.
    pub enum Period {
        Week => "7",
        Month => "30",
        Quarter => "90",
        Year => "365",
    }
}

impl Period {
    pub fn days(self) -> i64 {
        match self {
            Period::Week => 7,
            Period::Month => 30,
            Period::Quarter => 90,
            Period::Year => 365,
        }
    }

    /// Days a chart's bar or point stands for: days for a week or a month,
    /// weeks for a quarter, 30-day stretches for a year.
    pub fn bucket_days(self) -> i64 {
        match self {
            Period::Week | Period::Month => 1,
            Period::Quarter => 7,
            Period::Year => 30,
        }
    }
}

/// A figure as the office may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exact(i64),
    /// 1 to 4: too few to show without pointing at someone.
    FewerThanFive,
}

impl Count {
    pub fn of(n: i64) -> Count {
        if (1..5).contains(&n) {
            Count::FewerThanFive
        } else {
            Count::Exact(n)
        }
    }

    /// The value to plot: small groups are left out of charts (a gap).
    pub fn plotted(self) -> Option<i64> {
        match self {
            Count::Exact(n) => Some(n),
            Count::FewerThanFive => None,
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Exact(n) => write!(f, "{n}"),
            Count::FewerThanFive => f.write_str("<5"),
        }
    }
}

/// Numbers as numbers, small groups as the string "<5".
impl Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Exact(n) => s.serialize_i64(*n),
            Count::FewerThanFive => s.serialize_str("<5"),
        }
    }
}

/// Days `first ..= last` (UTC dates).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Span {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// One bucket of a period.
#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    #[serde(flatten)]
    pub span: Span,
    /// Verified members at the end of the bucket, by role.
    pub members: HashMap<Role, Count>,
    pub members_total: Count,
    /// Memberships verified in the bucket (including people who came back).
    pub new_members: Count,
    /// Members who posted, reacted or used the server in the bucket.
    pub active_members: Count,
    pub posts: Count,
    pub reactions: Count,
}

/// The whole period at once (active people are not the sum of the buckets').
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub members: HashMap<Role, Count>,
    pub members_total: Count,
    pub new_members: Count,
    pub active_members: Count,
    pub posting_members: Count,
    pub reacting_members: Count,
    pub signed_in_members: Count,
    pub posts: Count,
    pub reactions: Count,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reach {
    /// A server's host, or `None` for this one.
    pub server: Option<String>,
    pub followers: Count,
}

#[derive(Debug, Clone, Serialize)]
pub struct NetworkActivity {
    pub org_id: i64,
    pub period: Period,
    #[serde(flatten)]
    pub span: Span,
    pub totals: Totals,
    pub buckets: Vec<Bucket>,
    /// The org's followers by server, most first (the 20 largest, then the
    /// rest together as `others`).
    pub reach: Vec<Reach>,
    pub reach_others: Count,
}

const REACH_SERVERS: usize = 20;
/// Servers read for reach (beyond these, "others" undercounts).
const REACH_READ: i64 = 1000;

/// The org's activity over the period ending today (UTC), for its office.
pub async fn network_activity(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    period: Period,
) -> ServiceResult<NetworkActivity> {
    let mut conn = office_conn(ctx, me, org_id).await?;
    compute(&mut conn, org_id, period, day_of(ids::now())).await
}

/// A connection for the office of an org here: figures are of orgs here
/// (a remote org's roles are its server's word).
async fn office_conn(ctx: &Ctx, me: &LocalUser, org_id: i64) -> ServiceResult<DbConn<'static>> {
    super::memberships::require_office(ctx, org_id, me).await?;
    let mut conn = ctx.conn().await?;
    match db::accounts::find(&mut conn, org_id).await? {
        Some((a, _)) if a.local => Ok(conn),
        _ => Err(ServiceError::not_found()),
    }
}

/// The figures with `today` as the period's last day.
pub async fn compute(
    conn: &mut DbConn<'_>,
    org_id: i64,
    period: Period,
    today: i64,
) -> ServiceResult<NetworkActivity> {
    let first = today - period.days() + 1;
    let width = period.bucket_days();
    let n = (period.days() + width - 1) / width;
    let spans: Vec<(i64, i64)> = (0..n)
        .map(|i| (first + i * width, (first + (i + 1) * width - 1).min(today)))
        .collect();

    // Members by role at the end of each bucket, replaying the changes.
    let changes = db::stats::role_changes(conn, org_id).await?;
    let mut members: HashMap<Role, i64> = HashMap::new();
    let mut at_end: Vec<HashMap<Role, i64>> = Vec::with_capacity(spans.len());
    let mut joined = vec![0i64; spans.len()];
    let mut joined_total = 0;
    let mut next = changes.iter().peekable();
    for &(from, to) in &spans {
        while let Some(c) = next.next_if(|c| c.day <= to) {
            if let Some(r) = c.role_before.as_deref().and_then(Role::parse) {
                *members.entry(r).or_default() -= c.count;
            }
            if let Some(r) = c.role_after.as_deref().and_then(Role::parse) {
                *members.entry(r).or_default() += c.count;
                if c.role_before.is_none() && c.day >= from {
                    joined[at_end.len()] += c.count;
                    joined_total += c.count;
                }
            }
        }
        at_end.push(members.clone());
    }

    db::stats::fold_activity(conn).await?;
    let rows = db::stats::activity(conn, org_id, first, today, width).await?;
    let pick = |kind: &str, bucket: i64| {
        rows.iter()
            .find(|r| r.kind == kind && r.bucket == bucket)
            .map_or((0, 0), |r| (r.events, r.people))
    };
    let by_role = |m: &HashMap<Role, i64>| -> HashMap<Role, Count> {
        Role::ALL
            .iter()
            .map(|r| (*r, Count::of(m.get(r).copied().unwrap_or(0))))
            .collect()
    };
    let buckets = spans
        .iter()
        .enumerate()
        .map(|(i, &(from, to))| {
            let b = i as i64;
            Bucket {
                span: span(from, to),
                members: by_role(&at_end[i]),
                members_total: Count::of(at_end[i].values().sum()),
                new_members: Count::of(joined[i]),
                active_members: Count::of(pick("any", b).1),
                posts: Count::of(pick("post", b).0),
                reactions: Count::of(pick("reaction", b).0),
            }
        })
        .collect();
    let totals = Totals {
        members: by_role(&members),
        members_total: Count::of(members.values().sum()),
        new_members: Count::of(joined_total),
        active_members: Count::of(pick("any", -1).1),
        posting_members: Count::of(pick("post", -1).1),
        reacting_members: Count::of(pick("reaction", -1).1),
        signed_in_members: Count::of(pick("sign_in", -1).1),
        posts: Count::of(pick("post", -1).0),
        reactions: Count::of(pick("reaction", -1).0),
    };

    let (reach, reach_others) = followers_by_server(conn, org_id).await?;
    Ok(NetworkActivity {
        org_id,
        period,
        span: span(first, today),
        totals,
        buckets,
        reach,
        reach_others,
    })
}

/// The org's followers by server for its office (the reach figures alone).
pub async fn reach(ctx: &Ctx, me: &LocalUser, org_id: i64) -> ServiceResult<(Vec<Reach>, Count)> {
    let mut conn = office_conn(ctx, me, org_id).await?;
    followers_by_server(&mut conn, org_id).await
}

/// Servers with fewer than five followers are not named (a server of one
/// would name its person): they count among the others.
async fn followers_by_server(
    conn: &mut DbConn<'_>,
    org_id: i64,
) -> ServiceResult<(Vec<Reach>, Count)> {
    let (named, small): (Vec<_>, Vec<_>) = db::stats::followers_by_server(conn, org_id, REACH_READ)
        .await?
        .into_iter()
        .partition(|(_, n)| *n >= 5);
    let others: i64 = named
        .iter()
        .skip(REACH_SERVERS)
        .chain(small.iter())
        .map(|(_, n)| n)
        .sum();
    let reach = named
        .into_iter()
        .take(REACH_SERVERS)
        .map(|(server, n)| Reach {
            server,
            followers: Count::of(n),
        })
        .collect();
    Ok((reach, Count::of(others)))
}

fn span(first: i64, last: i64) -> Span {
    let date = |d: i64| db::stats::start_of_day(d).date();
    Span {
        first: date(first),
        last: date(last),
    }
}

/// The buckets as CSV (one row each), for the office's spreadsheet.
pub fn activity_csv(a: &NetworkActivity) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec!["first_day".to_owned(), "last_day".to_owned()];
    head.extend(Role::ALL.iter().map(|r| format!("members_{r}")));
    head.extend(
        [
            "members_total",
            "new_members",
            "active_members",
            "posts",
            "reactions",
        ]
        .map(str::to_owned),
    );
    let _ = w.write_record(&head);
    for b in &a.buckets {
        let mut row = vec![b.span.first.to_string(), b.span.last.to_string()];
        row.extend(Role::ALL.iter().map(|r| b.members[r].to_string()));
        row.extend(
            [
                b.members_total,
                b.new_members,
                b.active_members,
                b.posts,
                b.reactions,
            ]
            .map(|c| c.to_string()),
        );
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Followers by server as CSV (`this_server` for our own).
pub fn reach_csv(reach: &[Reach], reach_others: Count, this_server: &str) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["server", "followers"]);
    for r in reach {
        let server = r.server.as_deref().unwrap_or(this_server);
        let _ = w.write_record([server, &r.followers.to_string()]);
    }
    if reach_others != Count::Exact(0) {
        let _ = w.write_record(["others", &reach_others.to_string()]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Recomputes the figures' rollups from the stored rows (the shell's
/// `tsunagu admin rebuild-activity`, after a restore or a doubt).
pub async fn rebuild(ctx: &Ctx) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    Ok(db::stats::rebuild_activity(&mut conn).await?)
}

/// How often queued activity is folded into the rollups (the dashboard
/// folds before it reads, so this only keeps the queue short).
const FOLD_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Folds the queued activity changes into the rollups, on its own clock.
pub async fn keep_folded(ctx: Ctx) {
    loop {
        tokio::time::sleep(FOLD_EVERY).await;
        let folded = async {
            let mut conn = ctx.conn().await?;
            Ok::<_, ServiceError>(db::stats::fold_activity(&mut conn).await?)
        };
        if let Err(e) = folded.await {
            tracing::warn!(error = %e.detail(), "folding the activity figures failed");
        }
    }
}

/// Who has been seen today, so a sign-in day is written once per person and
/// day, not on every request.
#[derive(Default)]
pub struct Seen(Mutex<(i64, std::collections::HashSet<i64>)>);

impl Seen {
    /// Records that the account used the server today (once a day). A
    /// failure is logged, never the request's: the figures can miss a day.
    pub async fn note(&self, conn: &mut DbConn<'_>, account_id: i64) {
        let today = day_of(ids::now());
        {
            let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if seen.0 != today {
                *seen = (today, Default::default());
            }
            if seen.1.contains(&account_id) {
                return;
            }
        }
        match db::stats::record_sign_in(conn, account_id, today).await {
            Ok(()) => {
                let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
                if seen.0 == today {
                    seen.1.insert(account_id);
                }
            }
            Err(e) => tracing::warn!(error = %e, "sign-in day not recorded"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_groups_are_hidden() {
        assert_eq!(Count::of(0), Count::Exact(0));
        assert_eq!(Count::of(1), Count::FewerThanFive);
        assert_eq!(Count::of(4), Count::FewerThanFive);
        assert_eq!(Count::of(5), Count::Exact(5));
        assert_eq!(Count::of(4).to_string(), "<5");
        assert_eq!(serde_json::to_string(&Count::of(3)).unwrap(), "\"<5\"");
        assert_eq!(serde_json::to_string(&Count::of(12)).unwrap(), "12");
        assert_eq!(Count::of(2).plotted(), None);
    }

    #[test]
    fn periods_cover_their_days() {
        for p in Period::ALL {
            let n = (p.days() + p.bucket_days() - 1) / p.bucket_days();
            assert!(n * p.bucket_days() >= p.days());
            assert!((n - 1) * p.bucket_days() < p.days());
        }
        assert_eq!(Period::parse("90"), Some(Period::Quarter));
        // Longer buckets would need the rollups' gaps kept further back.
        assert!(
            Period::ALL
                .iter()
                .all(|p| p.bucket_days() <= db::stats::MAX_BUCKET_DAYS)
        );
        assert_eq!(Period::parse("14"), None);
    }
}
