//! `memory`: resident memory of a server process idle after start (with its
//! workers, pools and one account), and after the timeline scenario's load
//! (its data set, then home pages from 8 callers for 10 s; 1 on SQLite).
use std::time::Duration;

use anyhow::Result;
use serde_json::{Value, json};

use crate::harness::{Db, DbKind, Server, with_db};
use crate::timeline;

pub async fn run(kind: DbKind) -> Result<Value> {
    with_db(kind, async |db| measure(db, kind).await).await
}

async fn measure(db: &Db, kind: DbKind) -> Result<Value> {
    let server = Server::start(db, "alpha", &Default::default(), |_| {}).await?;
    server.person("alice").await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = server.rss_mb();
    timeline::load(&server, kind).await?;
    // One caller on SQLite: concurrent pages at this size stall there (docs/performance.md).
    let callers = if kind == DbKind::Postgres { 8 } else { 1 };
    let load = timeline::phase(&server, callers, 10).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let loaded = server.rss_mb();
    drop(server);
    println!("memory ({}): server resident set", kind.name());
    println!("{:<44} {:>8} {:>10}", "", "MiB", "goal");
    println!("{:<44} {:>8.1} {:>10}", "idle after start", idle, "< 60 MB");
    println!(
        "{:<44} {:>8.1} {:>10}",
        format!("after the timeline load (callers: {callers}, 10 s)"),
        loaded,
        ""
    );
    Ok(json!({
        "scenario": "memory",
        "db": kind.name(),
        "idle_mb": (idle * 10.0).round() / 10.0,
        "loaded_mb": (loaded * 10.0).round() / 10.0,
        "loaded_after": format!(
            "the timeline data set ({} accounts, {} statuses) and {:.0} home pages/s from callers: {callers}, for 10 s",
            timeline::ACCOUNTS, timeline::STATUSES, load.requests_per_s
        ),
        "goal_idle_mb": 60,
        "idle_ratio_to_goal": (idle / 60.0 * 1000.0).round() / 1000.0,
    }))
}
