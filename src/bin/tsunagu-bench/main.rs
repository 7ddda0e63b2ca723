//! `tsunagu-bench SCENARIO [--db sqlite|postgres]`: starts real tsunagu
//! servers (child processes of this program, so their memory and CPU are
//! theirs alone) and fake remote servers on loopback, runs one scenario,
//! prints a table and, last, `RESULT {json}`. docs/performance.md explains
//! each scenario and keeps the latest figures.
mod crypto;
mod dashboard;
mod directory;
mod fanout;
mod harness;
mod inbox;
mod memory;
mod pickup;
mod timeline;

use clap::{Parser, ValueEnum};
use serde_json::Value;

#[derive(Parser)]
#[command(
    name = "tsunagu-bench",
    about = "tsunagu's benchmarks (docs/performance.md)"
)]
struct Args {
    scenario: Scenario,
    /// The database the servers use (default: SQLite; PostgreSQL for `timeline`, `dashboard` and `directory`).
    #[arg(long, value_enum)]
    db: Option<harness::DbKind>,
    /// Seconds each crypto operation is measured for.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum Scenario {
    Crypto,
    Dashboard,
    Directory,
    Fanout,
    SlowRemote,
    Inbox,
    Pickup,
    Memory,
    Timeline,
}

fn main() {
    // A server child process: this binary, re-executed as `tsunagu serve`.
    if std::env::args().nth(1).as_deref() == Some("serve") {
        std::process::exit(tsunagu::cli::run());
    }
    let args = Args::parse();
    let db = args.db.unwrap_or(match args.scenario {
        Scenario::Timeline | Scenario::Dashboard | Scenario::Directory => harness::DbKind::Postgres,
        _ => harness::DbKind::Sqlite,
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result: anyhow::Result<Value> = rt.block_on(async {
        match args.scenario {
            Scenario::Crypto => crypto::run(args.seconds).await,
            Scenario::Inbox => inbox::run(db).await,
            Scenario::Fanout => fanout::run(db).await,
            Scenario::SlowRemote => fanout::run_slow(db).await,
            Scenario::Pickup => pickup::run(db).await,
            Scenario::Timeline => timeline::run(db).await,
            Scenario::Dashboard => dashboard::run(db).await,
            Scenario::Directory => directory::run(db).await,
            Scenario::Memory => memory::run(db).await,
        }
    });
    match result {
        Ok(v) => println!("RESULT {v}"),
        Err(e) => {
            eprintln!("tsunagu-bench: {e:#}");
            std::process::exit(1);
        }
    }
}
