//! `inbox`: pre-signed Create activities from many remote actors into the
//! shared inbox. Phase 1 sends as fast as the server takes them (64 at a
//! time): accepted (202, durably stored) per second, and how long the worker
//! then takes to process them. Phase 2 offers a fixed 1,000/s for 5 s on an
//! open loop (latency counted from each request's scheduled time, so a slow
//! answer cannot hide the ones queued behind it): p50/p99.
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tsunagu::db;

use crate::harness::{Db, DbKind, FakeRemotes, Server, Signed, client, percentile, with_db};

const HOSTS: usize = 50;
const ACTORS_PER_HOST: usize = 20;
const BLAST: usize = 20_000;
const CONCURRENCY: usize = 64;
const RATE: usize = 1_000;
const RATE_SECONDS: usize = 5;

pub async fn run(kind: DbKind) -> Result<Value> {
    with_db(kind, async |db| measure(db, kind).await).await
}

fn create(remotes: &FakeRemotes, server: &Server, n: usize, tag: &str) -> Signed {
    let host = &remotes.hosts[n % HOSTS];
    let actor = format!("http://{host}/users/a{}", (n / HOSTS) % ACTORS_PER_HOST);
    let id = format!("{actor}/statuses/{tag}{n}");
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{id}/activity"),
        "type": "Create",
        "actor": actor,
        "published": "2026-11-30T12:00:00Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [format!("{actor}/followers")],
        "object": {
            "id": id, "type": "Note", "attributedTo": actor,
            "published": "2026-11-30T12:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [format!("{actor}/followers")],
            "content": format!("<p>Inbox benchmark note {tag}{n}: alumni news, a job opening, an event.</p>"),
        },
    });
    remotes.sign(server, &actor, &activity)
}

async fn pending(server: &Server) -> Result<i64> {
    let mut conn = server.ctx.conn().await?;
    Ok(db::federation::inbound_pending(&mut conn).await?)
}

async fn stored(server: &Server) -> Result<i64> {
    let mut conn = server.ctx.conn().await?;
    Ok(db::federation::inbound_total(&mut conn).await?)
}

/// Waits until the worker has processed everything; returns the time taken.
async fn drained(server: &Server) -> Result<Duration> {
    let start = Instant::now();
    while pending(server).await? > 0 {
        if start.elapsed() > Duration::from_secs(600) {
            bail!("the inbox worker did not catch up within 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(start.elapsed())
}

/// Sends every request, at most `CONCURRENCY` at a time: (seconds, 202s).
async fn blast(
    http: &reqwest::Client,
    server: &Arc<Server>,
    reqs: Vec<Signed>,
) -> Result<(f64, usize)> {
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(reqs.len());
    for r in reqs {
        let permit = gate.clone().acquire_owned().await?;
        let (http, server) = (http.clone(), server.clone());
        tasks.push(tokio::spawn(async move {
            let status = r.post(&http, &server).await.map(|r| r.status().as_u16());
            drop(permit);
            status
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        match t.await? {
            Ok(202) => accepted += 1,
            Ok(other) => bail!("the inbox answered {other}"),
            Err(e) => bail!("an inbox request failed: {e}"),
        }
    }
    Ok((start.elapsed().as_secs_f64(), accepted))
}

async fn measure(db: &Db, kind: DbKind) -> Result<Value> {
    let remotes = FakeRemotes::start(HOSTS, Duration::ZERO).await?;
    let server = Arc::new(Server::start(db, "alpha", &remotes.resolve, |_| {}).await?);
    let mut resolve = remotes.resolve.clone();
    resolve.extend(server.config.federation.resolve.clone());
    let http = client(&resolve);

    // Warm-up: one activity per actor, so every actor is fetched and stored
    // before the clock runs (a first contact costs a fetch, measured apart).
    let actors = HOSTS * ACTORS_PER_HOST;
    let warm: Vec<Signed> = (0..actors)
        .map(|n| create(&remotes, &server, n, "w"))
        .collect();
    let (warm_s, _) = blast(&http, &server, warm).await?;
    drained(&server).await?;

    let reqs: Vec<Signed> = (0..BLAST)
        .map(|n| create(&remotes, &server, n, "b"))
        .collect();
    let before = stored(&server).await?;
    let cpu0 = server.cpu_seconds();
    let (blast_s, accepted) = blast(&http, &server, reqs).await?;
    let cpu_accept = server.cpu_seconds() - cpu0;
    let processed_after = drained(&server).await?.as_secs_f64();
    let cpu_all = server.cpu_seconds() - cpu0;
    let durable = stored(&server).await? - before;
    if durable != accepted as i64 {
        bail!("{accepted} activities were accepted but {durable} are stored");
    }
    let per_s = accepted as f64 / blast_s;
    let processed_per_s = accepted as f64 / (blast_s + processed_after);

    // Fixed offered rate, open loop.
    let total = RATE * RATE_SECONDS;
    let reqs: Vec<Signed> = (0..total)
        .map(|n| create(&remotes, &server, n, "r"))
        .collect();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for (n, r) in reqs.into_iter().enumerate() {
        let due = start + Duration::from_secs_f64(n as f64 / RATE as f64);
        tokio::time::sleep_until(due.into()).await;
        let (http, server) = (http.clone(), server.clone());
        tasks.push(tokio::spawn(async move {
            let status = r.post(&http, &server).await.map(|r| r.status().as_u16());
            (status, due.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut lat = Vec::with_capacity(total);
    for t in tasks {
        let (status, ms) = t.await?;
        match status {
            Ok(202) => lat.push(ms),
            Ok(other) => bail!("the inbox answered {other} at 1,000/s"),
            Err(e) => bail!("an inbox request failed at 1,000/s: {e}"),
        }
    }
    lat.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&lat, 50.0), percentile(&lat, 99.0));
    drained(&server).await?;

    println!("inbox ({}, {actors} actors on {HOSTS} hosts)", kind.name());
    println!("  warm-up (first contact, actor fetched): {actors} in {warm_s:.2} s");
    println!(
        "  accepted and stored, {CONCURRENCY} at a time: {accepted} in {blast_s:.2} s = {per_s:.0}/s (goal 2,000/s: {:.2}x)",
        per_s / 2000.0
    );
    println!(
        "  processed (stored as statuses): {processed_per_s:.0}/s, done {processed_after:.2} s after the last 202"
    );
    println!(
        "  server CPU: {:.3} ms/activity to accept, {:.3} ms/activity in all",
        cpu_accept * 1000.0 / accepted as f64,
        cpu_all * 1000.0 / accepted as f64
    );
    println!(
        "  at {RATE}/s offered for {RATE_SECONDS} s: p50 {p50:.1} ms, p99 {p99:.1} ms (goal p99 < 50 ms: {:.2}x)",
        p99 / 50.0
    );
    Ok(json!({
        "scenario": "inbox", "db": kind.name(),
        "activities_per_s": per_s,
        "processed_per_s": processed_per_s,
        "cpu_ms_per_activity_accept": cpu_accept * 1000.0 / accepted as f64,
        "cpu_ms_per_activity": cpu_all * 1000.0 / accepted as f64,
        "p50_ms_at_1000": p50,
        "p99_ms_at_1000": p99,
    }))
}
