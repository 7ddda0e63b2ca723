//! The alumni office: network activity figures against the database, and
//! the office's pages (requests, members, roster import, announcements)
//! through the real router as a browser uses them.
use std::collections::{BTreeMap, HashMap, HashSet};

use axum::http::{Method, StatusCode};
use chrono::{Duration, NaiveDateTime};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use tsunagu::db::{self, DbConn};

use crate::common::{Backend, TestApp};
use crate::dual;
use crate::web::Browser;

dual!(
    network_activity_matches_the_database,
    office_pages_decide_requests_manage_members_import_rosters_and_pin_announcements,
    the_office_invites_by_shared_link_and_by_email,
    the_office_recognises_clubs_blocks_and_edits_the_org_profile,
);

const MEMBERS: i64 = 1_000;
const FIRST: i64 = 5_000_000;

/// xorshift: the same "random" year every run.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// How one generated person's membership went.
struct Person {
    role: &'static str,
    state: &'static str,
    joined: i64,
    graduated: Option<i64>,
    left: Option<i64>,
}

fn person(i: i64, today: i64) -> Person {
    let joined = today - (i * 37) % 420;
    let role = if i % 100 == 0 {
        "office"
    } else if i % 4 == 0 {
        "employee"
    } else {
        "alumnus"
    };
    let state = if i % 97 == 5 {
        "pending"
    } else if i % 89 == 7 {
        "rejected"
    } else {
        "verified"
    };
    let verified = state == "verified";
    let graduated = (verified && role == "employee" && i % 12 == 0 && joined < today)
        .then(|| joined + 1 + (i * 13) % (today - joined));
    let left = (verified && graduated.is_none() && i % 53 == 3 && joined < today)
        .then(|| (joined + today) / 2 + 1);
    Person {
        role,
        state,
        joined,
        graduated,
        left,
    }
}

fn noon(day: i64) -> String {
    (db::stats::start_of_day(day) + Duration::hours(12))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

async fn run(conn: &mut DbConn<'_>, sql: &str) {
    db::execute_script(conn, sql)
        .await
        .unwrap_or_else(|e| panic!("{e}: {}", &sql[..sql.len().min(300)]));
}

#[derive(QueryableByName)]
struct Activity {
    #[diesel(sql_type = BigInt)]
    account_id: i64,
    #[diesel(sql_type = Timestamp)]
    at: NaiveDateTime,
    #[diesel(sql_type = Nullable<BigInt>)]
    reblog_of_id: Option<i64>,
    #[diesel(sql_type = Text)]
    visibility: String,
}

#[derive(QueryableByName)]
struct SignIn {
    #[diesel(sql_type = BigInt)]
    account_id: i64,
    #[diesel(sql_type = BigInt)]
    day: i64,
}

#[derive(QueryableByName)]
struct Member {
    #[diesel(sql_type = BigInt)]
    account_id: i64,
    #[diesel(sql_type = Text)]
    role: String,
}

#[derive(QueryableByName)]
struct Follower {
    #[diesel(sql_type = Nullable<Text>)]
    domain: Option<String>,
}

async fn load<
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + Send + 'static,
>(
    conn: &mut DbConn<'_>,
    sql: &str,
) -> Vec<T> {
    let sql = sql.to_owned();
    tsunagu::with_conn!(conn, |c| diesel::sql_query(sql.clone()).load::<T>(c).await).unwrap()
}

/// What the office may see of a number.
fn shown(n: i64) -> Value {
    if (1..5).contains(&n) {
        json!("<5")
    } else {
        json!(n)
    }
}

async fn network_activity_matches_the_database(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, admin) = app.user_with("office_admin", "read write", true).await;
    let (_, outsider) = app.user("outsider", "read write").await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(&admin),
            &json!({"username": "acme"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let org: i64 = r.json()["id"].as_str().unwrap().parse().unwrap();

    let now = tsunagu::ids::now();
    let today = db::stats::day_of(now);
    let mut conn = app.state.ctx.conn().await.unwrap();
    let pem = "-----BEGIN PUBLIC KEY-----\\nx\\n-----END PUBLIC KEY-----";
    let account = |id: i64, name: &str, domain: Option<&str>| {
        let (d, key, local) = match domain {
            Some(d) => (format!("'{d}'"), format!("{name}@{d}"), "FALSE"),
            None => ("NULL".into(), name.to_owned(), "TRUE"),
        };
        format!(
            "({id}, '{name}', {d}, '{key}', '{name}', {local}, TRUE, TRUE, '{pem}', '{t}', '{t}')",
            t = ts(now)
        )
    };
    let accounts_sql = "INSERT INTO accounts (id, username, domain, acct_key, display_name, local, discoverable, indexable, public_key_pem, created_at, updated_at) VALUES ";

    // 1,000 people and their memberships: joined over 14 months, some
    // pending or rejected, employees graduating, a few leaving.
    let people: Vec<Person> = (0..MEMBERS).map(|i| person(i, today)).collect();
    let rows: Vec<String> = (0..MEMBERS)
        .map(|i| account(FIRST + i, &format!("m{i}"), None))
        .collect();
    for chunk in rows.chunks(250) {
        run(&mut conn, &format!("{accounts_sql}{}", chunk.join(", "))).await;
    }
    let rows: Vec<String> = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "({}, {org}, {}, '{}', '{}', 'roster', '{t}', '{t}')",
                FIRST + i as i64,
                FIRST + i as i64,
                p.role,
                p.state,
                t = noon(p.joined)
            )
        })
        .collect();
    for chunk in rows.chunks(250) {
        run(
            &mut conn,
            &format!(
                "INSERT INTO memberships (id, org_id, account_id, role, state, via, created_at, updated_at) VALUES {}",
                chunk.join(", ")
            ),
        )
        .await;
    }
    for (i, p) in people.iter().enumerate() {
        let id = FIRST + i as i64;
        if let Some(g) = p.graduated {
            run(&mut conn, &format!("UPDATE memberships SET role = 'alumnus', left_on = '2026-01-01', updated_at = '{}' WHERE id = {id}", noon(g))).await;
        }
        if let Some(l) = p.left {
            run(
                &mut conn,
                &format!(
                    "UPDATE memberships SET state = 'left', updated_at = '{}' WHERE id = {id}",
                    noon(l)
                ),
            )
            .await;
        }
    }

    // The administrator who founded the org is its first office member.
    let mut people = people;
    people.push(Person {
        role: "office",
        state: "verified",
        joined: today,
        graduated: None,
        left: None,
    });

    // A year of posts (some boosts), reactions and sign-ins, by members,
    // former members and people who never got in alike.
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut rows = Vec::new();
    for k in 0..6_000i64 {
        let who = FIRST + rng.below(MEMBERS as u64) as i64;
        let at = now - Duration::minutes(rng.below(400 * 24 * 60) as i64);
        let boost = if k > 0 && k % 11 == 0 {
            (7_000_000 + k - 1).to_string()
        } else {
            "NULL".into()
        };
        rows.push(format!(
            "({}, {who}, 'post {k}', '<p>post {k}</p>', '{vis}', TRUE, '{t}', '{t}', {boost})",
            7_000_000 + k,
            vis = match k % 13 {
                5 => "direct",
                6 => "private",
                7 => "unlisted",
                _ => "public",
            },
            t = ts(at)
        ));
    }
    for chunk in rows.chunks(500) {
        run(&mut conn, &format!("INSERT INTO statuses (id, account_id, text, content, visibility, local, created_at, updated_at, reblog_of_id) VALUES {}", chunk.join(", "))).await;
    }
    let mut pairs = HashSet::new();
    let mut rows = Vec::new();
    while rows.len() < 9_000 {
        let who = FIRST + rng.below(MEMBERS as u64) as i64;
        let what = 7_000_000 + rng.below(6_000) as i64;
        if !pairs.insert((who, what)) {
            continue;
        }
        let at = now - Duration::minutes(rng.below(380 * 24 * 60) as i64);
        rows.push(format!(
            "({}, {who}, {what}, '{}')",
            8_000_000 + rows.len(),
            ts(at)
        ));
    }
    for chunk in rows.chunks(500) {
        run(
            &mut conn,
            &format!(
                "INSERT INTO favourites (id, account_id, status_id, created_at) VALUES {}",
                chunk.join(", ")
            ),
        )
        .await;
    }
    let mut days = HashSet::new();
    while days.len() < 4_000 {
        days.insert((
            FIRST + rng.below(MEMBERS as u64) as i64,
            today - rng.below(400) as i64,
        ));
    }
    let rows: Vec<String> = days.iter().map(|(a, d)| format!("({a}, {d})")).collect();
    for chunk in rows.chunks(500) {
        run(
            &mut conn,
            &format!(
                "INSERT INTO sign_in_days (account_id, day) VALUES {}",
                chunk.join(", ")
            ),
        )
        .await;
    }

    // Followers of the org: 12 on one server, 3 on another (too few to
    // show), 7 members here.
    let mut rows = Vec::new();
    let mut follows = Vec::new();
    for (n, domain) in [(12, "a.example"), (3, "b.example")] {
        for i in 0..n {
            let id = 9_000_000 + rows.len() as i64;
            rows.push(account(id, &format!("f{i}"), Some(domain)));
            follows.push(id);
        }
    }
    run(&mut conn, &format!("{accounts_sql}{}", rows.join(", "))).await;
    follows.extend((0..7).map(|i| FIRST + 1 + i));
    let rows: Vec<String> = follows
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!(
                "({}, {a}, {org}, TRUE, FALSE, FALSE, '{}')",
                9_500_000 + i,
                ts(now)
            )
        })
        .collect();
    run(&mut conn, &format!("INSERT INTO follows (id, account_id, target_account_id, show_reblogs, notify, pending, created_at) VALUES {}", rows.join(", "))).await;

    // What the database holds, read back raw.
    let members: Vec<Member> = load(
        &mut conn,
        &format!(
            "SELECT account_id, role FROM memberships WHERE org_id = {org} AND state = 'verified'"
        ),
    )
    .await;
    let followers: Vec<Follower> = load(
        &mut conn,
        &format!("SELECT a.domain FROM follows f JOIN accounts a ON a.id = f.account_id WHERE f.target_account_id = {org} AND NOT f.pending"),
    )
    .await;
    drop(conn);
    let mut by_role_now: HashMap<&str, i64> = HashMap::new();
    for m in &members {
        *by_role_now.entry(m.role.as_str()).or_default() += 1;
    }

    // Only the office (or an administrator) sees the figures.
    let url = |p: &str| format!("/api/v1/orgs/{org}/activity?period={p}");
    app.get(&url("30"), Some(&outsider))
        .await
        .assert_error(StatusCode::FORBIDDEN, "Only the org's office may do this");
    let r = app.get(&url("14"), Some(&admin)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());

    for (period, width) in [(7i64, 1i64), (30, 1), (90, 7), (365, 30)] {
        let r = app.get(&url(&period.to_string()), Some(&admin)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let got = r.json();
        let first = today - period + 1;
        let buckets = got["buckets"].as_array().unwrap();
        assert_eq!(buckets.len() as i64, (period + width - 1) / width);
        let mut joined_total = 0;
        for (i, bucket) in buckets.iter().enumerate() {
            let from = first + i as i64 * width;
            let to = (from + width - 1).min(today);
            assert_eq!(
                bucket["first"],
                db::stats::start_of_day(from).date().to_string()
            );
            assert_eq!(
                bucket["last"],
                db::stats::start_of_day(to).date().to_string()
            );
            // Members by role at the end of the bucket, from how each joined,
            // graduated and left.
            let mut roles: BTreeMap<&str, i64> = BTreeMap::new();
            let mut joined = 0;
            for p in people.iter().filter(|p| p.state == "verified") {
                if p.joined > to || p.left.is_some_and(|l| l <= to) {
                    continue;
                }
                let role = if p.graduated.is_some_and(|g| g <= to) {
                    "alumnus"
                } else {
                    p.role
                };
                *roles.entry(role).or_default() += 1;
                if p.joined >= from {
                    joined += 1;
                }
            }
            joined_total += joined;
            for role in ["office", "employee", "alumnus"] {
                let n = roles.get(role).copied().unwrap_or(0);
                assert_eq!(
                    bucket["members"][role],
                    shown(n),
                    "{period} days, bucket {i}, {role}"
                );
            }
            assert_eq!(bucket["members_total"], shown(roles.values().sum()));
            assert_eq!(
                bucket["new_members"],
                shown(joined),
                "{period} days, bucket {i}"
            );
        }
        let totals = &got["totals"];
        for role in ["office", "employee", "alumnus"] {
            let n = by_role_now.get(role).copied().unwrap_or(0);
            assert_eq!(totals["members"][role], shown(n), "{role} now");
            // The last bucket ends today: the same as the memberships now.
            assert_eq!(buckets.last().unwrap()["members"][role], shown(n));
        }
        assert_eq!(totals["members_total"], shown(members.len() as i64));
        assert_eq!(totals["new_members"], shown(joined_total));
        // Reach: followers by server, small groups hidden.
        let mut servers: HashMap<Option<String>, i64> = HashMap::new();
        for f in &followers {
            *servers.entry(f.domain.clone()).or_default() += 1;
        }
        // Servers with fewer than five followers are not named.
        let reach = got["reach"].as_array().unwrap();
        let named: Vec<_> = servers.iter().filter(|(_, n)| **n >= 5).collect();
        assert_eq!(reach.len(), named.len());
        for r in reach {
            let server = r["server"].as_str().map(str::to_owned);
            assert_eq!(r["followers"], shown(servers[&server]), "{server:?}");
        }
        assert_eq!(reach[0]["server"], "a.example");
        assert_eq!(reach[0]["followers"], 12);
        let others: i64 = servers.values().filter(|n| **n < 5).sum();
        assert_eq!(got["reach_others"], shown(others));
        assert_eq!(got["reach_others"], "<5", "b.example's 3");
    }

    // Who was active, and how much, against the raw rows; the rollups the
    // triggers keep against the same rows.
    check_activity(&app, &admin, org, today).await;

    // The same figures on the office's page: charts as SVG beside tables,
    // and as CSV.
    let mut browser = Browser::new(&app, "en");
    assert_eq!(
        browser
            .sign_in("office_admin", "correct horse battery")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let page = browser.get(&format!("/office/orgs/{org}?period=90")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert_eq!(
        html.matches("<svg class=\"chart\" role=\"img\"").count(),
        6,
        "six charts"
    );
    assert!(html.contains("<title>Members by role</title>"));
    assert!(
        html.contains("<th scope=\"row\">"),
        "tables beside the charts"
    );
    let csv = browser
        .get(&format!("/office/orgs/{org}/activity.csv?period=365"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "first_day,last_day,members_office,members_employee,members_alumnus,members_total,new_members,active_members,posts,reactions"
    );
    assert_eq!(lines.count(), 13, "a row per 30 days");
    let reach = browser
        .get(&format!("/office/orgs/{org}/reach.csv"))
        .await
        .text();
    assert!(
        reach.contains("a.example,12") && reach.contains("others,<5"),
        "{reach}"
    );
    assert!(!reach.contains("b.example"), "{reach}");

    // Then the year changes under the figures: posts deleted (and with them
    // their boosts and reactions), reactions taken back, sign-in days gone,
    // posts redated or made private, members leaving, people with a past
    // joining, accounts deleted outright; and one member posting, reacting
    // and deleting through the API as clients do.
    let mut conn = app.state.ctx.conn().await.unwrap();
    for sql in [
        "DELETE FROM statuses WHERE id >= 7000000 AND id < 7100000 AND id % 7 = 3".to_owned(),
        "DELETE FROM favourites WHERE id >= 8000000 AND id % 5 = 1".to_owned(),
        "DELETE FROM sign_in_days WHERE day % 9 = 0".to_owned(),
        format!(
            "UPDATE statuses SET created_at = '{}' WHERE id >= 7000000 AND id % 17 = 2",
            noon(today - 45)
        ),
        "UPDATE statuses SET visibility = 'private' WHERE id >= 7000000 AND id % 19 = 4".to_owned(),
        format!(
            "UPDATE memberships SET state = 'left', updated_at = '{t}' WHERE id % 31 = 2 AND state = 'verified'",
            t = ts(now)
        ),
        format!(
            "UPDATE memberships SET state = 'verified', updated_at = '{t}' WHERE state IN ('pending', 'rejected')",
            t = ts(now)
        ),
        format!(
            "DELETE FROM accounts WHERE id IN ({}, {})",
            FIRST + 10,
            FIRST + 21
        ),
    ] {
        run(&mut conn, &sql).await;
    }
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let public: Vec<Id> = load(&mut conn, "SELECT id FROM statuses WHERE id >= 7000000 AND visibility = 'public' AND reblog_of_id IS NULL ORDER BY id LIMIT 2").await;
    drop(conn);
    let r = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&admin),
            &json!({"status": "今日の活動", "visibility": "public"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mine = r.json()["id"].as_str().unwrap().to_owned();
    for (method, uri) in [
        (
            Method::POST,
            format!("/api/v1/statuses/{}/favourite", public[0].id),
        ),
        (
            Method::POST,
            format!("/api/v1/statuses/{}/favourite", public[1].id),
        ),
        (
            Method::POST,
            format!("/api/v1/statuses/{}/unfavourite", public[1].id),
        ),
        (Method::DELETE, format!("/api/v1/statuses/{mine}")),
    ] {
        let r = app.json(method, &uri, Some(&admin), &json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
    }
    check_activity(&app, &admin, org, today).await;
    // Rebuilt from scratch (the shell's `admin rebuild-activity`), the same.
    let mut conn = app.state.ctx.conn().await.unwrap();
    db::stats::rebuild_activity(&mut conn).await.unwrap();
    drop(conn);
    check_activity(&app, &admin, org, today).await;
    app.finish().await;
}

/// The raw rows every activity figure comes from.
struct Raw {
    /// The org's verified members now.
    members: HashSet<i64>,
    /// (person, kind, day) of every event, members' or not.
    events: Vec<(i64, &'static str, i64)>,
}

async fn raw(app: &TestApp, org: i64) -> Raw {
    let mut conn = app.state.ctx.conn().await.unwrap();
    let members: Vec<Member> = load(
        &mut conn,
        &format!(
            "SELECT account_id, role FROM memberships WHERE org_id = {org} AND state = 'verified'"
        ),
    )
    .await;
    let posts: Vec<Activity> = load(
        &mut conn,
        "SELECT account_id, created_at AS at, reblog_of_id, visibility FROM statuses",
    )
    .await;
    let reactions: Vec<Activity> = load(
        &mut conn,
        "SELECT account_id, created_at AS at, CAST(NULL AS BIGINT) AS reblog_of_id, 'public' AS visibility FROM favourites",
    )
    .await;
    let sign_ins: Vec<SignIn> = load(&mut conn, "SELECT account_id, day FROM sign_in_days").await;
    let mut events = Vec::new();
    // Boosts and private messages are nobody's figures.
    for p in posts.iter().filter(|p| {
        p.reblog_of_id.is_none() && !["direct", "private"].contains(&p.visibility.as_str())
    }) {
        events.push((p.account_id, "post", db::stats::day_of(p.at)));
    }
    for p in &reactions {
        events.push((p.account_id, "reaction", db::stats::day_of(p.at)));
    }
    for s in &sign_ins {
        events.push((s.account_id, "sign_in", s.day));
    }
    Raw {
        members: members.iter().map(|m| m.account_id).collect(),
        events,
    }
}

/// Active people, posts and reactions of every period and bucket as the API
/// gives them, against the same counted here from the raw rows; then the
/// rollup tables against a rollup computed here.
async fn check_activity(app: &TestApp, admin: &str, org: i64, today: i64) {
    let raw = raw(app, org).await;
    let count = |from: i64, to: i64, kinds: &[&str]| -> (i64, i64) {
        let mut people = HashSet::new();
        let mut events = 0;
        for (who, kind, day) in &raw.events {
            if raw.members.contains(who) && kinds.contains(kind) && (from..=to).contains(day) {
                people.insert(*who);
                events += 1;
            }
        }
        (events, people.len() as i64)
    };
    let all = ["post", "reaction", "sign_in"];
    for (period, width) in [(7i64, 1i64), (30, 1), (90, 7), (365, 30)] {
        let r = app
            .get(
                &format!("/api/v1/orgs/{org}/activity?period={period}"),
                Some(admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let got = r.json();
        let first = today - period + 1;
        for (i, bucket) in got["buckets"].as_array().unwrap().iter().enumerate() {
            let from = first + i as i64 * width;
            let to = (from + width - 1).min(today);
            let at = format!("{period} days, bucket {i}");
            assert_eq!(
                bucket["active_members"],
                shown(count(from, to, &all).1),
                "{at}"
            );
            assert_eq!(bucket["posts"], shown(count(from, to, &["post"]).0), "{at}");
            assert_eq!(
                bucket["reactions"],
                shown(count(from, to, &["reaction"]).0),
                "{at}"
            );
        }
        let totals = &got["totals"];
        let at = format!("{period} days");
        assert_eq!(
            totals["active_members"],
            shown(count(first, today, &all).1),
            "{at}"
        );
        assert_eq!(
            totals["posting_members"],
            shown(count(first, today, &["post"]).1),
            "{at}"
        );
        assert_eq!(
            totals["reacting_members"],
            shown(count(first, today, &["reaction"]).1),
            "{at}"
        );
        assert_eq!(
            totals["signed_in_members"],
            shown(count(first, today, &["sign_in"]).1),
            "{at}"
        );
        assert_eq!(
            totals["posts"],
            shown(count(first, today, &["post"]).0),
            "{at}"
        );
        assert_eq!(
            totals["reactions"],
            shown(count(first, today, &["reaction"]).0),
            "{at}"
        );
    }

    // Each person's active days with their gaps, and the org's sums.
    let mut days: BTreeMap<(i64, String, i64), i64> = BTreeMap::new();
    for (who, kind, day) in &raw.events {
        for k in [*kind, "any"] {
            *days.entry((*who, k.to_owned(), *day)).or_default() += 1;
        }
    }
    let mut person: BTreeMap<(i64, String, i64), (i64, i64)> = BTreeMap::new();
    let mut previous: HashMap<(i64, String), i64> = HashMap::new();
    for ((who, kind, day), events) in &days {
        let gap = previous
            .insert((*who, kind.clone()), *day)
            .map_or(31, |p| (day - p).min(31));
        person.insert((*who, kind.clone(), *day), (*events, gap));
    }
    let mut by_org: BTreeMap<(String, i64, i64), (i64, i64)> = BTreeMap::new();
    let mut last: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for ((who, kind, day), (events, gap)) in &person {
        if raw.members.contains(who) {
            let e = by_org.entry((kind.clone(), *day, *gap)).or_default();
            e.0 += 1;
            e.1 += events;
            last.insert((*who, kind.clone()), *day);
        }
    }
    let mut last_by_day: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for ((_, kind), day) in last {
        *last_by_day.entry((kind, day)).or_default() += 1;
    }
    let mut conn = app.state.ctx.conn().await.unwrap();
    let stored: Vec<Rollup> = load(
        &mut conn,
        "SELECT account_id AS id, kind, day, gap, events, CAST(0 AS BIGINT) AS people FROM activity_days",
    )
    .await;
    let stored: BTreeMap<_, _> = stored
        .into_iter()
        .map(|r| ((r.id, r.kind, r.day), (r.events, r.gap)))
        .collect();
    assert!(stored == person, "activity_days differ from the raw rows");
    let stored: Vec<Rollup> = load(
        &mut conn,
        &format!("SELECT org_id AS id, kind, day, gap, events, people FROM org_activity_days WHERE org_id = {org} AND (people <> 0 OR events <> 0)"),
    )
    .await;
    let stored: BTreeMap<_, _> = stored
        .into_iter()
        .map(|r| ((r.kind, r.day, r.gap), (r.people, r.events)))
        .collect();
    assert!(
        stored == by_org,
        "org_activity_days differ from the raw rows"
    );
    let stored: Vec<Rollup> = load(
        &mut conn,
        &format!("SELECT org_id AS id, kind, day, CAST(0 AS BIGINT) AS gap, CAST(0 AS BIGINT) AS events, people FROM org_activity_last WHERE org_id = {org} AND people <> 0"),
    )
    .await;
    let stored: BTreeMap<_, _> = stored
        .into_iter()
        .map(|r| ((r.kind, r.day), r.people))
        .collect();
    assert_eq!(stored, last_by_day, "org_activity_last");
}

#[derive(QueryableByName)]
struct Rollup {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    day: i64,
    #[diesel(sql_type = BigInt)]
    gap: i64,
    #[diesel(sql_type = BigInt)]
    events: i64,
    #[diesel(sql_type = BigInt)]
    people: i64,
}

const PASSWORD: &str = "correct horse battery";

async fn office_pages_decide_requests_manage_members_import_rosters_and_pin_announcements(
    b: Backend,
) {
    let app = TestApp::start(b).await;
    let (_, admin) = app.user_with("admin", "read write", true).await;
    let (_, hanako) = app.user("hanako", "read write").await;
    let (_, taro) = app.user("taro", "read write").await;
    let (_, jiro) = app.user("jiro", "read write").await;
    let (office_me, office_token) = app.user("office", "read write").await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(&admin),
            &json!({"username": "acme", "display_name": "ACME Alumni"}),
        )
        .await;
    let org = r.json()["id"].as_str().unwrap().to_owned();
    // The administrator makes `office` the org's office (through the API).
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invites"),
            Some(&admin),
            &json!({"role": "office"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let code = r.json()["code"].as_str().unwrap().to_owned();
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{org}/membership_requests"),
            Some(&office_token),
            &json!({"invite_code": code}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let _ = office_me;
    // Hanako and Taro ask to join; Jiro is an employee by invitation.
    for token in [&hanako, &taro] {
        let r = app
            .json(
                Method::POST,
                &format!("/api/v1/orgs/{org}/membership_requests"),
                Some(token),
                &json!({"role": "employee", "tenure_from": "2010", "divisions": ["Battery"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invites"),
            Some(&admin),
            &json!({"role": "employee"}),
        )
        .await;
    let code = r.json()["code"].as_str().unwrap().to_owned();
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{org}/membership_requests"),
            Some(&jiro),
            &json!({"invite_code": code}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let mut office = Browser::new(&app, "en");
    assert_eq!(
        office.sign_in("office", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let home = office.get("/home").await.text();
    assert!(home.contains("href=\"/office\""), "the office's way in");
    let index = office.get("/office").await.text();
    assert!(index.contains(&format!("/office/orgs/{org}")), "{index}");

    // Requests: approve Hanako, reject Taro.
    let page = office.get(&format!("/office/orgs/{org}/requests")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains("hanako") && html.contains("taro") && html.contains("Battery"));
    let ids: Vec<String> = html
        .split(&format!("/office/orgs/{org}/requests/"))
        .skip(1)
        .filter_map(|s| s.split_once("/approve").map(|(id, _)| id.to_owned()))
        .filter(|id| id.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(ids.len(), 2, "{html}");
    let hanako_first = html.find("hanako").unwrap() < html.find("taro").unwrap();
    let (hanako_req, taro_req) = if hanako_first {
        (&ids[0], &ids[1])
    } else {
        (&ids[1], &ids[0])
    };
    // A form without the browser's token does nothing.
    let r = office
        .post(
            &format!("/office/orgs/{org}/requests/{hanako_req}/approve"),
            &[("authenticity_token", "forged")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = office
        .post(
            &format!("/office/orgs/{org}/requests/{hanako_req}/approve"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.header("location").unwrap().ends_with("done=approved"));
    let r = office
        .post(
            &format!("/office/orgs/{org}/requests/{taro_req}/reject"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let state = |token: &str| {
        let (app, org, token) = (&app, org.clone(), token.to_owned());
        async move {
            app.get(&format!("/api/v1/orgs/{org}/membership"), Some(&token))
                .await
                .json()["state"]
                .clone()
        }
    };
    assert_eq!(state(&hanako).await, "verified");
    assert_eq!(state(&taro).await, "rejected");

    // Members: search, change a role, graduate an employee, remove someone.
    let html = office
        .get(&format!("/office/orgs/{org}/members?q=JIR"))
        .await
        .text();
    assert!(
        html.contains("jiro") && !html.contains(">hanako<"),
        "search by name"
    );
    let account_id = |u: &str| {
        let (app, org, admin, u) = (&app, org.clone(), admin.clone(), u.to_owned());
        async move {
            let list = app
                .get(&format!("/api/v1/orgs/{org}/members"), Some(&admin))
                .await
                .json();
            list.as_array()
                .unwrap()
                .iter()
                .find(|m| m["account"]["username"] == u.as_str())
                .unwrap()["account"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let hanako_id = account_id("hanako").await;
    let jiro_id = account_id("jiro").await;
    let r = office
        .post(
            &format!("/office/orgs/{org}/members/{hanako_id}/role"),
            &[("role", "alumnus")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = office
        .post(
            &format!("/office/orgs/{org}/members/{jiro_id}/graduate"),
            &[("left_on", "2026-11-30")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let m = app
        .get(&format!("/api/v1/orgs/{org}/membership"), Some(&jiro))
        .await
        .json();
    assert_eq!(m["role"], "alumnus");
    assert_eq!(m["left_on"], "2026-11-30");
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{org}/membership"), Some(&hanako))
            .await
            .json()["role"],
        "alumnus"
    );
    // The last office member cannot give the role away (the administrator
    // founded the org: an office member until made an alumnus here).
    let admin_id = account_id("admin").await;
    let r = office
        .post(
            &format!("/office/orgs/{org}/members/{admin_id}/role"),
            &[("role", "alumnus")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let office_id = account_id("office").await;
    let r = office
        .post(
            &format!("/office/orgs/{org}/members/{office_id}/role"),
            &[("role", "alumnus")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = office
        .post(&format!("/office/orgs/{org}/members/{jiro_id}/remove"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(state(&jiro).await, "left");

    // Announcements: pinned, then on a member's home page.
    let r = office
        .post(
            &format!("/office/orgs/{org}/announcements"),
            &[
                ("text", "Homecoming day is 12 December"),
                ("visibility", "members"),
                ("pinned", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = office
        .get(&format!("/office/orgs/{org}/announcements"))
        .await
        .text();
    assert!(page.contains("Homecoming day"), "listed as pinned");
    let mut member = Browser::new(&app, "en");
    member.sign_in("hanako", PASSWORD).await;
    let home = member.get("/home").await.text();
    assert!(
        home.contains("Announcements from your organisations") && home.contains("Homecoming day")
    );
    assert!(
        !home.contains("href=\"/office\""),
        "no office link for members"
    );
    // Members and strangers are kept out of the office's pages.
    for path in [
        "",
        "/requests",
        "/members",
        "/roster",
        "/announcements",
        "/activity.csv",
    ] {
        let r = member.get(&format!("/office/orgs/{org}{path}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    let r = member
        .post(
            &format!("/office/orgs/{org}/members/{office_id}/remove"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Roster import: only for an official org's office (a club's founder
    // could otherwise probe addresses).
    let r = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(&hanako),
            &json!({"username": "acme_tennis", "kind": "club", "parent_id": org}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let club = r.json()["id"].as_str().unwrap().to_owned();
    let r = member
        .post_file(
            &format!("/office/orgs/{club}/roster"),
            "file",
            "a.csv",
            b"email\nx@example.org\n",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    // Roster import: a Shift_JIS file with one bad row, previewed, imported,
    // and the bad row downloadable.
    let csv = "email,name,tenure_from,tenure_to,divisions,role\r\nsuzuki@example.org,鈴木一郎,2001,2015,電池事業部,alumnus\r\nhanako@example.com,山田花子,2005,2020,営業,alumnus\r\nnot-an-address,佐藤,2001,2002,,alumnus\r\n";
    let (sjis, _, bad) = encoding_rs::SHIFT_JIS.encode(csv);
    assert!(!bad);
    let r = office
        .post_file(
            &format!("/office/orgs/{org}/roster"),
            "file",
            "名簿.csv",
            &sjis,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let job = r.header("location").unwrap().to_owned();
    let html = office.get(&job).await.text();
    assert!(
        html.contains("Shift_JIS") && html.contains("Nothing has changed yet"),
        "{html}"
    );
    assert!(html.contains("not-an-address"), "the bad row is shown");
    let r = office.post(&format!("{job}/start"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let mut done = false;
    for _ in 0..100 {
        let html = office.get(&job).await.text();
        if html.contains("The roster is imported.") {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(done, "the import finishes");
    let r = office.post(&format!("{job}/start"), &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "only once");
    let report = office.get(&format!("{job}/bad_rows.csv")).await;
    assert_eq!(report.status, StatusCode::OK);
    let text = report.text();
    assert!(text.starts_with('\u{feff}'));
    assert!(
        text.contains("line,problem") && text.contains("not-an-address"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2, "{text}");
    // The roster holds the names as written, in UTF-8.
    let mut conn = app.state.ctx.conn().await.unwrap();
    let names: Vec<RosterName> =
        load(&mut conn, "SELECT name FROM roster_entries ORDER BY name").await;
    drop(conn);
    let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, vec!["山田花子", "鈴木一郎"]);
    app.finish().await;
}

#[derive(QueryableByName)]
struct RosterName {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The invitations page: a shared link with a limit, single-use links sent
/// to each address (through the mail transport), withdrawing; bad input and
/// a server without mail get clear errors.
async fn the_office_invites_by_shared_link_and_by_email(b: Backend) {
    let app = TestApp::start_with(b, |c| {
        c.mail.transport = tsunagu::config::MailTransport::File;
    })
    .await;
    let (_, admin) = app.user_with("admin", "read write", true).await;
    let (_, member) = app.user("member", "read write").await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(&admin),
            &json!({"username": "acme", "display_name": "ACME Alumni"}),
        )
        .await;
    let org = r.json()["id"].as_str().unwrap().to_owned();
    let page = format!("/office/orgs/{org}/invitations");
    let mut outsider = Browser::new(&app, "en");
    outsider.sign_in("member", "correct horse battery").await;
    assert_eq!(outsider.get(&page).await.status, StatusCode::FORBIDDEN);

    let mut office = Browser::new(&app, "en");
    office.sign_in("admin", "correct horse battery").await;
    let r = office.get(&page).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = office
        .post(
            &page,
            &[
                ("role", "employee"),
                ("days", "7"),
                ("max_uses", "25"),
                ("emails", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let listed = app
        .get(&format!("/api/v1/orgs/{org}/invites"), Some(&admin))
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["role"], "employee");
    assert_eq!(listed[0]["max_uses"], 25);
    let shared = listed[0]["code"].as_str().unwrap().to_owned();
    let html = office
        .get(&format!("{page}?done=invitation-created"))
        .await
        .text();
    assert!(html.contains(&shared), "the link is shown to copy: {html}");

    // By e-mail: one single-use link per address (duplicates once).
    let r = office
        .post(
            &page,
            &[
                ("role", "alumnus"),
                ("days", "30"),
                (
                    "emails",
                    "suzuki@example.org\nSuzuki@example.org\n\ntanaka@example.org",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    for to in ["suzuki@example.org", "tanaka@example.org"] {
        let mail = {
            let mut tries = 0;
            loop {
                let found = crate::web::mails_to(&app, to);
                if let Some(m) = <[String]>::first(&found) {
                    assert_eq!(found.len(), 1, "one mail to {to}");
                    break m.clone();
                }
                tries += 1;
                assert!(tries < 100, "no invitation mailed to {to}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        };
        assert!(
            mail.contains("ACME Alumni") && mail.contains("/join/"),
            "{mail}"
        );
        assert!(
            mail.contains("招待") && mail.contains("invites you"),
            "both languages: {mail}"
        );
    }
    let listed = app
        .get(&format!("/api/v1/orgs/{org}/invites"), Some(&admin))
        .await
        .json();
    let by_mail: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["role"] == "alumnus")
        .collect();
    assert_eq!(by_mail.len(), 2);
    assert!(by_mail.iter().all(|i| i["max_uses"] == 1), "{listed}");

    // Bad addresses are refused whole, nothing created.
    let r = office
        .post(
            &page,
            &[
                ("role", "alumnus"),
                ("days", "30"),
                ("emails", "ok@example.org\nnot-an-address"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("not-an-address"));
    let count = app
        .get(&format!("/api/v1/orgs/{org}/invites"), Some(&admin))
        .await
        .json()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(count, 3);

    // Withdrawn: the link no longer works.
    let id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == shared.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = office.post(&format!("{page}/{id}/revoke"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut stranger = Browser::new(&app, "en");
    let r = stranger.get(&format!("/join/{shared}")).await;
    assert!(r.text().contains("invalid"), "{}", r.text());

    // A request turned down with a reason: the person hears why by e-mail.
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{org}/membership_requests"),
            Some(&member),
            &json!({"role": "alumnus", "tenure_from": "2001"}),
        )
        .await;
    let request = r.json()["id"].as_str().unwrap().to_owned();
    let long = "x".repeat(1001);
    let r = office
        .post(
            &format!("/office/orgs/{org}/requests/{request}/reject"),
            &[("reason", long.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = office
        .post(
            &format!("/office/orgs/{org}/requests/{request}/reject"),
            &[(
                "reason",
                "We could not find you on the 2001 roster; please write to us.",
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let mail = {
        let mut tries = 0;
        loop {
            if let Some(m) = crate::web::mails_to(&app, "member@example.com").pop() {
                break m;
            }
            tries += 1;
            assert!(tries < 100, "no rejection mailed");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    assert!(
        mail.contains("2001 roster") && mail.contains("ACME Alumni"),
        "{mail}"
    );
    app.finish().await;

    // A server without mail says so instead of pretending to send.
    let app = TestApp::start(b).await;
    let (_, admin) = app.user_with("admin", "read write", true).await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(&admin),
            &json!({"username": "acme", "display_name": "ACME Alumni"}),
        )
        .await;
    let org = r.json()["id"].as_str().unwrap().to_owned();
    let mut office = Browser::new(&app, "en");
    office.sign_in("admin", "correct horse battery").await;
    let page = format!("/office/orgs/{org}/invitations");
    assert!(
        office
            .get(&page)
            .await
            .text()
            .contains("cannot send e-mail")
    );
    let r = office
        .post(
            &page,
            &[
                ("role", "alumnus"),
                ("days", "30"),
                ("emails", "a@example.org"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("no mail transport"), "{}", r.text());
    app.finish().await;
}

async fn the_office_recognises_clubs_blocks_and_edits_the_org_profile(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, admin) = app.user_with("admin", "read write", true).await;
    let (_, taro) = app.user("taro", "read write").await;
    let (hanako, hanako_token) = app.user("hanako", "read write").await;
    let create = async |token: &str, body: Value| {
        let r = app
            .json(Method::POST, "/api/v1/orgs", Some(token), &body)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_owned()
    };
    let acme = create(&admin, json!({"username": "acme", "display_name": "ACME"})).await;
    let tennis = create(
        &taro,
        json!({"username": "tennis", "kind": "club", "display_name": "Tennis club"}),
    )
    .await;
    let golf = create(&taro, json!({"username": "golf", "kind": "club"})).await;
    let mut outsider = Browser::new(&app, "en");
    outsider.sign_in("hanako", PASSWORD).await;
    for path in ["clubs", "blocks", "profile"] {
        let r = outsider.get(&format!("/office/orgs/{acme}/{path}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    let r = outsider
        .post(
            &format!("/office/orgs/{acme}/blocks"),
            &[("domain", "x.example")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Clubs: the clubs here are offered; one recognised by its button,
    // one by its handle; a handle nobody has is a clear error.
    let mut office = Browser::new(&app, "en");
    office.sign_in("admin", PASSWORD).await;
    let clubs = format!("/office/orgs/{acme}/clubs");
    let html = office.get(&clubs).await.text();
    assert!(
        html.contains(&format!("id=\"candidate-{tennis}\"")) && html.contains("Tennis club"),
        "{html}"
    );
    let r = office
        .post(&format!("{clubs}/{tennis}/recognise"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = office.post(&clubs, &[("handle", "@golf")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = office.post(&clubs, &[("handle", "nobody")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .contains("The club: no such account here or on its server"),
        "{}",
        r.text()
    );
    let recognised = |v: &Value| -> Vec<String> {
        let mut names: Vec<String> = v["recognizes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["username"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    let got = app
        .get(&format!("/api/v1/orgs/{acme}/recognitions"), None)
        .await
        .json();
    assert_eq!(recognised(&got), ["golf", "tennis"]);
    let html = office
        .get(&format!("{clubs}?done=club-recognised"))
        .await
        .text();
    assert!(html.contains("The club is recognised."));
    assert!(
        html.contains(&format!("id=\"club-{golf}\"")),
        "listed as recognised"
    );
    assert!(
        !html.contains(&format!("id=\"candidate-{golf}\"")),
        "no longer offered"
    );
    let r = office.post(&format!("{clubs}/{golf}/withdraw"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let got = app
        .get(&format!("/api/v1/orgs/{acme}/recognitions"), None)
        .await
        .json();
    assert_eq!(recognised(&got), ["tennis"]);
    // The club's own office sees who recognises it.
    let mut club_office = Browser::new(&app, "ja");
    club_office.sign_in("taro", PASSWORD).await;
    let html = club_office
        .get(&format!("/office/orgs/{tennis}/clubs"))
        .await
        .text();
    assert!(
        html.contains("公認している組織") && html.contains("@acme"),
        "{html}"
    );
    let r = club_office
        .post(
            &format!("/office/orgs/{tennis}/clubs/{golf}/recognise"),
            &[],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "clubs do not recognise"
    );

    // Blocks: an account by its handle, a whole server; the blocked person
    // cannot ask to join; unblocking lifts it.
    let blocks = format!("/office/orgs/{acme}/blocks");
    let r = office.post(&blocks, &[("handle", "hanako")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = office.post(&blocks, &[("domain", "Spam.Example")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    for bad in [
        vec![],
        vec![("handle", "hanako"), ("domain", "spam.example")],
    ] {
        let r = office.post(&blocks, &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }
    let r = office
        .post(&blocks, &[("handle", "nobody@nowhere.invalid")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = office
        .get(&format!("{blocks}?done=org-blocked"))
        .await
        .text();
    assert!(
        html.contains("@hanako") && html.contains("Everyone on spam.example"),
        "{html}"
    );
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{acme}/membership"),
            Some(&hanako_token),
            &json!({"role": "alumnus"}),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.text());
    let listed = app
        .get(&format!("/api/v1/orgs/{acme}/blocks"), Some(&admin))
        .await
        .json();
    let hanako_block = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["account_id"].as_str() == Some(hanako.account.id.to_string().as_str()))
        .unwrap_or_else(|| panic!("{listed}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = office
        .post(&format!("{blocks}/{hanako_block}/remove"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let html = office.get(&blocks).await.text();
    assert!(
        !html.contains("@hanako") && html.contains("spam.example"),
        "{html}"
    );

    // The profile: name, description, fields and a picture.
    let profile = format!("/office/orgs/{acme}/profile");
    let html = office.get(&profile).await.text();
    assert!(html.contains("value=\"ACME\""), "{html}");
    let logo = crate::media::png(64, 64);
    let r = office
        .post_multipart(
            &profile,
            &[
                ("display_name", "ACME OB会"),
                ("note", "ACMEの卒業生とその家族のための会です。"),
                ("field_name_0", "Founded"),
                ("field_value_0", "1952"),
            ],
            Some(("avatar", &logo)),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let got = app
        .get(&format!("/api/v1/accounts/{acme}"), None)
        .await
        .json();
    assert_eq!(got["display_name"], "ACME OB会");
    assert!(got["note"].as_str().unwrap().contains("卒業生"), "{got}");
    assert_eq!(got["fields"][0]["name"], "Founded");
    assert_eq!(got["fields"][0]["value"], "1952");
    assert!(
        !got["avatar"].as_str().unwrap().contains("missing"),
        "{got}"
    );
    let r = office
        .post_multipart(&profile, &[("display_name", &"長".repeat(101))], None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("role=\"alert\""), "{}", r.text());
    let got = app
        .get(&format!("/api/v1/accounts/{acme}"), None)
        .await
        .json();
    assert_eq!(got["display_name"], "ACME OB会", "nothing changed");
    app.finish().await;
}
