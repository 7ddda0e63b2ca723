//! `dashboard`: the office's dashboard page (`/office/orgs/:id`, a year of
//! network activity: six SVG charts with their tables) of an org with 50,000
//! members. The year: members joined over 14 months (a quarter employees,
//! one in six of those graduating, one in fifty leaving), 150,000 posts
//! (a tenth of them boosts), 300,000 reactions and 250,000 sign-in days by
//! members, 20,000 followers on 200 other servers. Written with SQL straight
//! into the server's database. One office member asks for the page (a real
//! web session), one request at a time: the goal is a median under 200 ms.
use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::{Value, json};
use tsunagu::db;

use crate::harness::{DbKind, Server, client, percentile, with_db};

pub const MEMBERS: usize = 50_000;
const POSTS: usize = 150_000;
const REACTIONS: usize = 300_000;
const SIGN_IN_DAYS: usize = 250_000;
const FOLLOWERS: usize = 20_000;
const SERVERS: usize = 200;
const REQUESTS: usize = 60;

const ORG: i64 = 100;
const OFFICE: i64 = 101;
const FIRST: usize = 1_000_000;
const SESSION: &str = "dashboard-bench-session-token-0123456789";

pub async fn run(kind: DbKind) -> Result<Value> {
    with_db(kind, async |db| {
        let server = Server::start(db, "alpha", &Default::default(), |_| {}).await?;
        let load_s = load(&server, kind).await?;
        measure(&server, kind, load_s).await
    })
    .await
}

async fn load(server: &Server, kind: DbKind) -> Result<f64> {
    let start = Instant::now();
    // Days before today, as timestamps in each backend's SQL.
    let ago = |days: &str| match kind {
        DbKind::Postgres => format!("(now() AT TIME ZONE 'UTC') - ({days}) * INTERVAL '1 day'"),
        DbKind::Sqlite => format!("datetime('now', '-' || ({days}) || ' days')"),
    };
    let today = db::stats::day_of(tsunagu::ids::now());
    let series = |n: usize| {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {})",
            n - 1
        )
    };
    let pem = "-----BEGIN PUBLIC KEY-----\\nbenchmark\\n-----END PUBLIC KEY-----";
    let now = ago("0");
    let script = vec![
        format!(
            "INSERT INTO accounts (id, username, acct_key, display_name, actor_type, local, discoverable, indexable, public_key_pem, created_at, updated_at) VALUES \
             ({ORG}, 'acme', 'acme', 'ACME Alumni', 'Group', TRUE, TRUE, TRUE, '{pem}', {now}, {now}), \
             ({OFFICE}, 'office', 'office', 'The office', 'Person', TRUE, TRUE, TRUE, '{pem}', {now}, {now})"
        ),
        format!(
            "INSERT INTO users (account_id, email, email_key, password_hash, approved, email_confirmed_at, created_at, updated_at) \
             VALUES ({OFFICE}, 'office@bench.example', 'office@bench.example', 'no sign-in', TRUE, {now}, {now}, {now})"
        ),
        format!(
            "INSERT INTO orgs (account_id, kind, created_by, created_at, updated_at) VALUES ({ORG}, 'official', {OFFICE}, {now}, {now})"
        ),
        format!(
            "INSERT INTO memberships (id, org_id, account_id, role, state, via, created_at, updated_at) \
             VALUES ({OFFICE}, {ORG}, {OFFICE}, 'office', 'verified', 'founder', {now}, {now})"
        ),
        format!(
            "INSERT INTO web_sessions (id, token_hash, account_id, stage, user_agent, ip, created_at, last_used_at) \
             VALUES (1, '{}', {OFFICE}, 'signed_in', 'bench', '127.0.0.1', {now}, {now})",
            tsunagu::crypto::token_hash(SESSION)
        ),
        format!(
            "{} INSERT INTO accounts (id, username, acct_key, display_name, local, discoverable, indexable, public_key_pem, created_at, updated_at) \
             SELECT {FIRST} + i, 'm' || i, 'm' || i, 'Alumnus ' || i, TRUE, TRUE, TRUE, '{pem}', {now}, {now} FROM n",
            series(MEMBERS)
        ),
        // Joined over 14 months; a quarter employees; one in a hundred pending.
        format!(
            "{} INSERT INTO memberships (id, org_id, account_id, role, state, via, created_at, updated_at) \
             SELECT {FIRST} + i, {ORG}, {FIRST} + i, CASE WHEN i % 4 = 0 THEN 'employee' ELSE 'alumnus' END, \
             CASE WHEN i % 100 = 7 THEN 'pending' ELSE 'verified' END, 'roster', {t}, {t} FROM n",
            series(MEMBERS),
            t = ago("(i * 37) % 420")
        ),
        // Graduations and departures at later days (the triggers record them).
        format!(
            "UPDATE memberships SET role = 'alumnus', updated_at = {} WHERE org_id = {ORG} AND role = 'employee' AND (id - {FIRST}) % 24 = 0 AND state = 'verified'",
            ago(&format!("((id - {FIRST}) * 37) % 420 / 2"))
        ),
        format!(
            "UPDATE memberships SET state = 'left', updated_at = {} WHERE org_id = {ORG} AND (id - {FIRST}) % 50 = 3 AND state = 'verified'",
            ago(&format!("((id - {FIRST}) * 37) % 420 / 3"))
        ),
        format!(
            "{} INSERT INTO statuses (id, account_id, text, content, visibility, local, created_at, updated_at, reblog_of_id) \
             SELECT 10000000 + i, {FIRST} + (i * 7919) % {MEMBERS}, 'news ' || i, '<p>news ' || i || '</p>', 'public', TRUE, {t}, {t}, \
             CASE WHEN i % 10 = 9 THEN 10000000 + i - 1 ELSE NULL END FROM n",
            series(POSTS),
            t = ago("(i * 13) % 365")
        ),
        format!(
            "{} INSERT INTO favourites (id, account_id, status_id, created_at) \
             SELECT 20000000 + i, {FIRST} + (CAST(i AS BIGINT) * 104729) % {MEMBERS}, 10000000 + (i + i / {POSTS}) % {POSTS}, {t} FROM n",
            series(REACTIONS),
            t = ago("(i * 17) % 365")
        ),
        format!(
            "{} INSERT INTO sign_in_days (account_id, day) \
             SELECT {FIRST} + i % {MEMBERS}, {today} - (i / {MEMBERS}) * 73 - (i * 31) % 73 FROM n",
            series(SIGN_IN_DAYS)
        ),
        format!(
            "{} INSERT INTO accounts (id, username, domain, acct_key, display_name, local, public_key_pem, created_at, updated_at) \
             SELECT 30000000 + i, 'f' || i, 's' || (i % {SERVERS}) || '.example', 'f' || i || '@s' || (i % {SERVERS}) || '.example', 'Follower', FALSE, '{pem}', {now}, {now} FROM n",
            series(FOLLOWERS)
        ),
        format!(
            "{} INSERT INTO follows (id, account_id, target_account_id, show_reblogs, notify, pending, created_at) \
             SELECT 40000000 + i, 30000000 + i, {ORG}, TRUE, FALSE, FALSE, {now} FROM n",
            series(FOLLOWERS)
        ),
        "ANALYZE".into(),
    ];
    let mut conn = server.ctx.conn().await?;
    for sql in script {
        db::execute_script(&mut conn, &sql).await?;
    }
    // PostgreSQL's triggers queued the year's changes, which the server
    // would have folded in as they came: sum them up at once instead, as
    // `tsunagu admin rebuild-activity` does.
    let rebuild = Instant::now();
    db::stats::rebuild_activity(&mut conn).await?;
    println!(
        "activity rollups rebuilt in {:.1} s",
        rebuild.elapsed().as_secs_f64()
    );
    db::execute_script(&mut conn, "ANALYZE").await?;
    if kind == DbKind::Sqlite {
        db::execute_script(&mut conn, "PRAGMA wal_checkpoint(TRUNCATE)").await?;
    }
    Ok(start.elapsed().as_secs_f64())
}

async fn measure(server: &Server, kind: DbKind, load_s: f64) -> Result<Value> {
    let http = client(&server.config.federation.resolve);
    let cookie = format!("tsunagu_session={SESSION}");
    let mut results = Vec::new();
    for period in ["365", "30"] {
        let url = format!("{}/office/orgs/{ORG}?period={period}", server.base);
        let mut lat = Vec::with_capacity(REQUESTS);
        for i in 0..REQUESTS + 3 {
            let t = Instant::now();
            let r = http.get(&url).header("cookie", &cookie).send().await?;
            let status = r.status();
            let body = r.text().await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if !status.is_success() || body.matches("<svg class=\"chart\"").count() != 6 {
                bail!(
                    "the dashboard answered {status} without its six charts: {}",
                    &body[..body.len().min(500)]
                );
            }
            // The first few warm the caches and the pool.
            if i >= 3 {
                lat.push(ms);
            }
        }
        lat.sort_by(f64::total_cmp);
        results.push((period, percentile(&lat, 50.0), percentile(&lat, 90.0)));
    }
    println!(
        "dashboard ({}, {MEMBERS} members, {POSTS} posts, {REACTIONS} reactions, {SIGN_IN_DAYS} sign-in days, {FOLLOWERS} followers on {SERVERS} servers; data written in {load_s:.0} s)",
        kind.name()
    );
    println!("{:<24} {:>9} {:>9}", "period", "p50 ms", "p90 ms");
    for (p, p50, p90) in &results {
        println!("{:<24} {p50:>9.1} {p90:>9.1}", format!("last {p} days"));
    }
    let year = results[0];
    println!("goal median < 200 ms (a year): {:.2}x", year.1 / 200.0);
    Ok(json!({
        "scenario": "dashboard", "db": kind.name(),
        "members": MEMBERS,
        "year_p50_ms": year.1, "year_p90_ms": year.2,
        "month_p50_ms": results[1].1, "month_p90_ms": results[1].2,
        "goal_ratio": year.1 / 200.0,
    }))
}
