//! `memory`: resident memory of a server process idle after start (with its
//! workers, pools and one account), and after it served a burst of timeline
//! requests. The full `timeline` scenario (10,000 accounts, 1,000,000 posts)
//! is not built yet; this measures the same server after a small load.
use std::time::Duration;

use anyhow::Result;
use serde_json::{Value, json};

use crate::harness::{Db, DbKind, Server, client, with_db};

pub async fn run(kind: DbKind) -> Result<Value> {
    with_db(kind, async |db| measure(db, kind).await).await
}

async fn measure(db: &Db, kind: DbKind) -> Result<Value> {
    let server = Server::start(db, "alpha", &Default::default(), |_| {}).await?;
    let http = client(&server.config.federation.resolve);
    let token = server.person("alice").await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = server.rss_mb();
    let cpu_before = server.cpu_seconds();
    let started = std::time::Instant::now();
    for i in 0..200 {
        http.post(format!("{}/api/v1/statuses", server.base))
            .bearer_auth(&token)
            .json(&json!({"status": format!("post {i}")}))
            .send()
            .await?
            .error_for_status()?;
    }
    for _ in 0..2000 {
        http.get(format!("{}/api/v1/timelines/home", server.base))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = server.cpu_seconds() - cpu_before;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let loaded = server.rss_mb();
    drop(server);
    println!("memory ({}): server resident set", kind.name());
    println!("{:<34} {:>8} {:>10}", "", "MiB", "goal");
    println!("{:<34} {:>8.1} {:>10}", "idle after start", idle, "< 60 MB");
    println!(
        "{:<34} {:>8.1} {:>10}",
        "after 200 posts + 2,000 home pages", loaded, ""
    );
    Ok(json!({
        "scenario": "memory",
        "db": kind.name(),
        "idle_mb": (idle * 10.0).round() / 10.0,
        "loaded_mb": (loaded * 10.0).round() / 10.0,
        "loaded_after": "200 posts and 2,000 home timeline pages (the timeline scenario is not built yet)",
        "load_seconds": (wall * 100.0).round() / 100.0,
        "server_cpu_ms_per_request": (cpu * 1000.0 / 2200.0 * 100.0).round() / 100.0,
        "goal_idle_mb": 60,
        "idle_ratio_to_goal": (idle / 60.0 * 1000.0).round() / 1000.0,
    }))
}
