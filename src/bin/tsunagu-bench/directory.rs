//! `directory`: an org's directory (名簿) search, `GET
//! /api/v1/orgs/:id/directory`, over 50,000 members with full alumni
//! profiles: an industry of 27, three skills of 300, two languages, "open
//! to" flags, one or two periods at the org in one of 12 divisions, each
//! field released to fellow members (70 %), the public (20 %) or nobody
//! (10 %); nine in ten chose to be listed. Written with SQL straight into
//! the server's database. A member (not the office: the listing consent
//! and every audience apply) asks, one request at a time, for industry +
//! skill + tenure overlap + open-to; the goal is a median under 50 ms.
use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::{Value, json};
use tsunagu::db;
use tsunagu::domain::{AlumniField, Industry};

use crate::harness::{DbKind, Server, client, percentile, with_db};

pub const MEMBERS: usize = 50_000;
const REQUESTS: usize = 60;
const ORG: i64 = 100;
const OFFICE: i64 = 101;
const FIRST: usize = 1_000_000;
const TOKEN: &str = "directory-bench-token-0123456789abcdef";

/// The combined query of the goal, and two more for the record.
const QUERIES: [(&str, &str); 3] = [
    (
        "industry+skill+tenure+open_to",
        "industry[]=healthcare&skills[]=skill-7&tenure_from=2000&tenure_to=2010&open_to[]=mentoring",
    ),
    (
        "same, with facet counts",
        "industry[]=healthcare&skills[]=skill-7&tenure_from=2000&tenure_to=2010&open_to[]=mentoring&facets=true",
    ),
    ("free text, by name", "q=alumnus%201234&order=name"),
];

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
    let now = match kind {
        DbKind::Postgres => "(now() AT TIME ZONE 'UTC')".to_owned(),
        DbKind::Sqlite => "datetime('now')".to_owned(),
    };
    let ago = |minutes: &str| match kind {
        DbKind::Postgres => format!("{now} - ({minutes}) * INTERVAL '1 minute'"),
        DbKind::Sqlite => format!("datetime('now', '-' || ({minutes}) || ' minutes')"),
    };
    let series = format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {})",
        MEMBERS - 1
    );
    let industry = {
        let arms: Vec<String> = Industry::ALL
            .iter()
            .enumerate()
            .map(|(k, v)| format!("WHEN {k} THEN '{v}'"))
            .collect();
        format!("CASE i % {} {} END", Industry::ALL.len(), arms.join(" "))
    };
    let pem = "-----BEGIN PUBLIC KEY-----\\nbenchmark\\n-----END PUBLIC KEY-----";
    let reader = FIRST + 1;
    let mut script = vec![
        format!(
            "INSERT INTO accounts (id, username, acct_key, display_name, actor_type, local, discoverable, indexable, public_key_pem, created_at, updated_at) VALUES \
             ({ORG}, 'acme', 'acme', 'ACME Alumni', 'Group', TRUE, TRUE, TRUE, '{pem}', {now}, {now}), \
             ({OFFICE}, 'office', 'office', 'The office', 'Person', TRUE, TRUE, TRUE, '{pem}', {now}, {now})"
        ),
        format!(
            "INSERT INTO orgs (account_id, kind, created_by, created_at, updated_at) VALUES ({ORG}, 'official', {OFFICE}, {now}, {now})"
        ),
        format!(
            "INSERT INTO memberships (id, org_id, account_id, role, state, via, created_at, updated_at) \
             VALUES ({OFFICE}, {ORG}, {OFFICE}, 'office', 'verified', 'founder', {now}, {now})"
        ),
        format!(
            "{series} INSERT INTO accounts (id, username, acct_key, display_name, local, discoverable, indexable, public_key_pem, created_at, updated_at) \
             SELECT {FIRST} + i, 'm' || i, 'm' || i, 'Alumnus ' || i, TRUE, TRUE, TRUE, '{pem}', {now}, {now} FROM n"
        ),
        format!(
            "INSERT INTO users (account_id, email, email_key, password_hash, approved, email_confirmed_at, created_at, updated_at) \
             VALUES ({reader}, 'reader@bench.example', 'reader@bench.example', 'no sign-in', TRUE, {now}, {now}, {now})"
        ),
        format!(
            "INSERT INTO oauth_apps (id, name, redirect_uris, scopes, client_id, client_secret_hash, created_at) \
             VALUES (1, 'bench', 'urn:ietf:wg:oauth:2.0:oob', 'read', 'bench', 'none', {now})"
        ),
        format!(
            "INSERT INTO oauth_tokens (id, token_hash, app_id, account_id, scopes, created_at) \
             VALUES (1, '{}', 1, {reader}, 'read', {now})",
            tsunagu::crypto::token_hash(TOKEN)
        ),
        format!(
            "{series} INSERT INTO memberships (id, org_id, account_id, role, state, via, created_at, updated_at) \
             SELECT {FIRST} + i, {ORG}, {FIRST} + i, CASE WHEN i % 4 = 0 THEN 'employee' ELSE 'alumnus' END, \
             'verified', 'roster', {now}, {now} FROM n"
        ),
        // Nine in ten chose to be listed (the reader among them).
        format!(
            "{series} INSERT INTO consents (id, org_id, account_id, purpose, granted, wording_version, created_at) \
             SELECT {FIRST} + i, {ORG}, {FIRST} + i, 'directory', i % 10 <> 0, '1', {now} FROM n"
        ),
        format!(
            "{series} INSERT INTO account_stats (account_id, statuses_count, last_status_at, followers_count, following_count) \
             SELECT {FIRST} + i, 1, {t}, 0, 0 FROM n WHERE true \
             ON CONFLICT (account_id) DO UPDATE SET last_status_at = excluded.last_status_at",
            t = ago("(CAST(i AS BIGINT) * 7919) % 525600")
        ),
        format!(
            "{series} INSERT INTO alumni_profiles (account_id, current_org, title, industry, city, region, country, now_text, now_on, updated_at) \
             SELECT {FIRST} + i, 'Company ' || (i % 5000), 'Engineer', {industry}, 'City ' || (i % 300), '', \
             CASE WHEN i % 5 = 0 THEN 'US' ELSE 'JP' END, 'Now ' || i, NULL, {t} FROM n",
            t = ago("(CAST(i AS BIGINT) * 104729) % 1051200")
        ),
        // Three skills from 300 (one of 100 each), two interests, ja and
        // sometimes en, open to mentoring (a third) and comeback (a fifth).
        format!(
            "{series} INSERT INTO alumni_tags (account_id, field, tag, label, position) \
             SELECT {FIRST} + i, 'skill', 'skill-' || (i % 100), 'Skill-' || (i % 100), 0 FROM n \
             UNION ALL SELECT {FIRST} + i, 'skill', 'skill-' || (100 + (i * 7) % 100), 'Skill', 1 FROM n \
             UNION ALL SELECT {FIRST} + i, 'skill', 'skill-' || (200 + (i * 13) % 100), 'Skill', 2 FROM n \
             UNION ALL SELECT {FIRST} + i, 'interest', 'interest-' || (i % 50), 'Interest', 0 FROM n \
             UNION ALL SELECT {FIRST} + i, 'language', 'ja', 'ja', 0 FROM n \
             UNION ALL SELECT {FIRST} + i, 'language', 'en', 'en', 1 FROM n WHERE i % 2 = 0 \
             UNION ALL SELECT {FIRST} + i, 'open_to', 'mentoring', 'mentoring', 0 FROM n WHERE i % 3 = 0 \
             UNION ALL SELECT {FIRST} + i, 'open_to', 'comeback', 'comeback', 1 FROM n WHERE i % 5 = 0"
        ),
        // One period, a second for one in four (they came back).
        format!(
            "{series} INSERT INTO alumni_tenures (id, account_id, org_id, year_from, year_to, division, title) \
             SELECT {FIRST} + i, {FIRST} + i, {ORG}, 1980 + (i * 11) % 40, \
             CASE WHEN i % 4 = 0 THEN NULL ELSE 1981 + (i * 11) % 40 + i % 8 END, 'div-' || (i % 12), 'Engineer' FROM n \
             UNION ALL SELECT 2 * {FIRST} + i, {FIRST} + i, {ORG}, 2015 + i % 8, NULL, 'div-' || ((i + 5) % 12), 'Lead' FROM n WHERE i % 4 = 1"
        ),
    ];
    for field in AlumniField::ALL {
        script.push(format!(
            "{series} INSERT INTO alumni_audiences (account_id, field, audience) \
             SELECT {FIRST} + i, '{field}', CASE WHEN i % 10 < 7 THEN 'my_orgs' ELSE 'public' END FROM n WHERE i % 10 <> 9"
        ));
    }
    script.push("ANALYZE".into());
    let mut conn = server.ctx.conn().await?;
    for sql in script {
        db::execute_script(&mut conn, &sql).await?;
    }
    if kind == DbKind::Sqlite {
        db::execute_script(&mut conn, "PRAGMA wal_checkpoint(TRUNCATE)").await?;
    }
    Ok(start.elapsed().as_secs_f64())
}

async fn measure(server: &Server, kind: DbKind, load_s: f64) -> Result<Value> {
    let http = client(&server.config.federation.resolve);
    let mut results = Vec::new();
    for (name, query) in QUERIES {
        let url = format!("{}/api/v1/orgs/{ORG}/directory?{query}", server.base);
        let mut lat = Vec::with_capacity(REQUESTS);
        let mut total = 0;
        for i in 0..REQUESTS + 3 {
            let t = Instant::now();
            let r = http.get(&url).bearer_auth(TOKEN).send().await?;
            let status = r.status();
            let body: Value = r.json().await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            total = body["total"].as_i64().unwrap_or(-1);
            if !status.is_success() || total <= 0 {
                bail!("the directory answered {status} with nothing for {query}: {body}");
            }
            // The first few warm the caches and the pool.
            if i >= 3 {
                lat.push(ms);
            }
        }
        lat.sort_by(f64::total_cmp);
        results.push((name, total, percentile(&lat, 50.0), percentile(&lat, 90.0)));
    }
    println!(
        "directory ({}, {MEMBERS} members with full profiles; data written in {load_s:.0} s)",
        kind.name()
    );
    println!(
        "{:<32} {:>7} {:>9} {:>9}",
        "query", "found", "p50 ms", "p90 ms"
    );
    for (name, total, p50, p90) in &results {
        println!("{name:<32} {total:>7} {p50:>9.1} {p90:>9.1}");
    }
    let goal = results[0].2;
    println!("goal median < 50 ms (combined filter): {:.2}x", goal / 50.0);
    Ok(json!({
        "scenario": "directory", "db": kind.name(), "members": MEMBERS,
        "combined_p50_ms": goal, "combined_p90_ms": results[0].3, "combined_found": results[0].1,
        "with_facets_p50_ms": results[1].2, "text_p50_ms": results[2].2,
        "goal_ratio": goal / 50.0,
    }))
}
