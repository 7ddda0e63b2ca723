//! `pickup`: on an idle queue, the time from a post being committed to its
//! first delivery attempt reaching a follower's server. The commit time is
//! the post's `created_at` (set just before its transaction); the arrival is
//! stamped by the fake remote as the request comes in. Same clock, one host.
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::harness::{Db, DbKind, FakeRemotes, Server, client, percentile, with_db};

const POSTS: usize = 40;

pub async fn run(kind: DbKind) -> Result<Value> {
    with_db(kind, async |db| measure(db, kind).await).await
}

async fn measure(db: &Db, kind: DbKind) -> Result<Value> {
    let mut remotes = FakeRemotes::start(1, Duration::ZERO).await?;
    // The safety-net poll is hourly: only the commit's own wake-up counts.
    let server = Server::start(db, "alpha", &remotes.resolve, |c| {
        c.federation.idle_poll_secs = 3600;
    })
    .await?;
    let mut resolve = remotes.resolve.clone();
    resolve.extend(server.config.federation.resolve.clone());
    let http = client(&resolve);
    let token = server.person("alice").await?;
    remotes.follow_all(&http, &server, &[0], "alice").await?;

    let mut samples = Vec::with_capacity(POSTS);
    for i in 0..POSTS {
        // Idle: nothing queued, workers asleep.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (created, uri) = server.post(&http, &token, &format!("pickup {i}")).await?;
        let arrived = loop {
            let a = tokio::time::timeout(Duration::from_secs(30), remotes.arrivals.recv())
                .await
                .context("no delivery within 30 s")?
                .context("fake remote gone")?;
            if a.body["object"]["id"] == uri.as_str() {
                break a.at;
            }
        };
        let ms = arrived
            .duration_since(created)
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0;
        samples.push(ms);
    }
    drop(server);
    samples.sort_by(f64::total_cmp);
    let (median, p90, max) = (
        percentile(&samples, 50.0),
        percentile(&samples, 90.0),
        samples[samples.len() - 1],
    );
    println!(
        "pickup ({}): {POSTS} posts, each after 300 ms idle, to one follower's server",
        kind.name()
    );
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>12}",
        "", "median", "p90", "max", "goal"
    );
    println!(
        "{:<10} {:>8.1}ms {:>8.1}ms {:>8.1}ms {:>10}",
        "pickup", median, p90, max, "< 100 ms"
    );
    Ok(json!({
        "scenario": "pickup",
        "db": kind.name(),
        "posts": POSTS,
        "median_ms": (median * 10.0).round() / 10.0,
        "p90_ms": (p90 * 10.0).round() / 10.0,
        "max_ms": (max * 10.0).round() / 10.0,
        "goal_ms": 100,
        "ratio_to_goal": (median / 100.0 * 1000.0).round() / 1000.0,
    }))
}
