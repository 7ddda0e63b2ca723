//! `fanout`: one post to followers on 1,000 remote instances (fake hosts on
//! 127.0.x.y, one follower each): the time from the post's commit until
//! every inbox has it, deliveries per second and server CPU per delivery.
//! `slow-remote`: one remote that answers each POST after 200 ms; a run of
//! posts to its follower: activities per second delivered.
use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::harness::{Db, DbKind, FakeRemotes, Server, client, with_db};

const HOSTS: usize = 1_000;
const SLOW_POSTS: usize = 200;
const SLOW_DELAY: Duration = Duration::from_millis(200);

pub async fn run(kind: DbKind) -> Result<Value> {
    with_db(kind, async |db| fanout(db, kind).await).await
}

pub async fn run_slow(kind: DbKind) -> Result<Value> {
    with_db(kind, async |db| slow(db, kind).await).await
}

async fn fanout(db: &Db, kind: DbKind) -> Result<Value> {
    let mut remotes = FakeRemotes::start(HOSTS, Duration::ZERO).await?;
    let server = Server::start(db, "alpha", &remotes.resolve, |_| {}).await?;
    let mut resolve = remotes.resolve.clone();
    resolve.extend(server.config.federation.resolve.clone());
    let http = client(&resolve);
    let token = server.person("alice").await?;
    let all: Vec<usize> = (0..HOSTS).collect();
    remotes.follow_all(&http, &server, &all, "alice").await?;

    let cpu0 = server.cpu_seconds();
    let (created, uri) = server.post(&http, &token, "fan-out benchmark").await?;
    let mut reached = HashSet::new();
    let mut last = created;
    while reached.len() < HOSTS {
        let a = tokio::time::timeout(Duration::from_secs(120), remotes.arrivals.recv())
            .await
            .with_context(|| {
                format!(
                    "only {} of {HOSTS} inboxes reached within 120 s",
                    reached.len()
                )
            })?
            .context("fake remotes gone")?;
        if a.body["object"]["id"] == uri.as_str() && reached.insert(a.host) {
            last = last.max(a.at);
        }
    }
    let cpu = server.cpu_seconds() - cpu0;
    let secs = last
        .duration_since(created)
        .unwrap_or_default()
        .as_secs_f64();
    let per_s = HOSTS as f64 / secs;
    println!(
        "fanout ({}, one post, {HOSTS} remote instances)",
        kind.name()
    );
    println!(
        "  every inbox reached {secs:.3} s after the commit (goal 2 s: {:.2}x)",
        secs / 2.0
    );
    println!(
        "  {per_s:.0} deliveries/s; server CPU {:.3} ms per delivery",
        cpu * 1000.0 / HOSTS as f64
    );
    Ok(json!({
        "scenario": "fanout", "db": kind.name(),
        "seconds_all_delivered": secs,
        "deliveries_per_s": per_s,
        "cpu_ms_per_delivery": cpu * 1000.0 / HOSTS as f64,
    }))
}

async fn slow(db: &Db, kind: DbKind) -> Result<Value> {
    let mut remotes = FakeRemotes::start(1, SLOW_DELAY).await?;
    let server = Server::start(db, "alpha", &remotes.resolve, |_| {}).await?;
    let mut resolve = remotes.resolve.clone();
    resolve.extend(server.config.federation.resolve.clone());
    let http = client(&resolve);
    let token = server.person("alice").await?;
    remotes.follow_all(&http, &server, &[0], "alice").await?;

    let mut first = None;
    let mut uris = Vec::with_capacity(SLOW_POSTS);
    for i in 0..SLOW_POSTS {
        let (created, uri) = server
            .post(&http, &token, &format!("slow remote {i}"))
            .await?;
        first.get_or_insert(created);
        uris.push(uri);
    }
    let first = first.context("no posts")?;
    let mut order = Vec::with_capacity(SLOW_POSTS);
    let mut last = first;
    while order.len() < SLOW_POSTS {
        let a = tokio::time::timeout(Duration::from_secs(120), remotes.arrivals.recv())
            .await
            .with_context(|| {
                format!(
                    "only {} of {SLOW_POSTS} delivered within 120 s",
                    order.len()
                )
            })?
            .context("fake remote gone")?;
        if a.body["type"] == "Create" {
            // Arrival is stamped when the request comes in; it is answered 200 ms later.
            last = last.max(a.at + SLOW_DELAY);
            order.push(
                a.body["object"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    let secs = last.duration_since(first).unwrap_or_default().as_secs_f64();
    let per_s = SLOW_POSTS as f64 / secs;
    let mut sorted = order.clone();
    sorted.sort_by_key(|u| uris.iter().position(|x| x == u));
    if sorted.len() != uris.len() {
        bail!("deliveries went missing");
    }
    println!(
        "slow-remote ({}, every POST answered after {} ms)",
        kind.name(),
        SLOW_DELAY.as_millis()
    );
    println!(
        "  {SLOW_POSTS} posts delivered in {secs:.2} s = {per_s:.1}/s (goal 50/s: {:.2}x)",
        per_s / 50.0
    );
    Ok(json!({
        "scenario": "slow-remote", "db": kind.name(),
        "activities_per_s": per_s,
        "seconds": secs,
    }))
}
