//! The `tsunagu` binary as an operator uses it: help, migrate, admin
//! commands, configuration errors, and a first start with no config at all.
mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Backend, TestDb};
use tsunagu::config::Config;
use tsunagu::services::{Ctx, accounts};

fn tsunagu(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(args)
        .env("TSUNAGU_DATABASE__URL", &db.url)
        .env("TSUNAGU_LOG__LEVEL", "warn")
        .current_dir(db.dir.path())
        .output()
        .expect("run tsunagu")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn ctx_for(db: &TestDb) -> Ctx {
    let mut c = Config::default();
    c.database.url = db.url.clone();
    tsunagu::context(c).await.expect("connect").0
}

#[test]
fn help_explains_each_command() {
    let o = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = stdout(&o);
    for cmd in ["serve", "migrate", "admin"] {
        assert!(text.contains(cmd), "--help lacks {cmd}: {text}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["admin", "--help"])
        .output()
        .unwrap();
    let text = stdout(&o);
    for cmd in ["create-user", "approve", "pending", "create-invite"] {
        assert!(text.contains(cmd), "admin --help lacks {cmd}: {text}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["admin", "create-user", "--help"])
        .output()
        .unwrap();
    assert!(stdout(&o).contains("--password-stdin"));
}

#[test]
fn configuration_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tsunagu.toml");
    std::fs::write(&file, "[server]\nlisten = \"localhost\"\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["migrate", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("server.listen"), "{}", stderr(&o));

    std::fs::write(&file, "[registrations]\nmode = \"sometimes\"\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["serve", "-c", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("registrations.mode"), "{}", stderr(&o));

    let o = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["serve", "-c", "/no/such/file.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));

    let o = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .arg("migrate")
        .env("TSUNAGU_DATABASE__URL", "mysql://x")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("database.url"), "{}", stderr(&o));
}

dual!(migrate_and_admin_commands);

async fn migrate_and_admin_commands(b: Backend) {
    let db = TestDb::new(b).await;
    let o = tsunagu(&db, &["migrate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let migrations = std::fs::read_dir(common::workspace().join("migrations/sqlite"))
        .unwrap()
        .count();
    assert!(
        stdout(&o).contains(&format!("Applied {migrations} migration(s)")),
        "{}",
        stdout(&o)
    );
    let o = tsunagu(&db, &["migrate"]);
    assert!(stdout(&o).contains("is up to date"), "{}", stdout(&o));

    // A generated password, printed once.
    let o = tsunagu(
        &db,
        &[
            "admin",
            "create-user",
            "--username",
            "office",
            "--email",
            "office@acme.example",
            "--admin",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Created administrator @office"), "{out}");
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("Password (shown only once): "))
        .expect("password line")
        .trim()
        .to_owned();
    let ctx = ctx_for(&db).await;
    let me = accounts::authenticate(&ctx, "office", &password)
        .await
        .expect("generated password works");
    assert!(me.user.is_admin);

    // --password-stdin.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args([
            "admin",
            "create-user",
            "--username",
            "taro",
            "--email",
            "taro@example.com",
            "--password-stdin",
        ])
        .env("TSUNAGU_DATABASE__URL", &db.url)
        .current_dir(db.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("Password"), "no password is printed");
    let me = accounts::authenticate(&ctx, "taro@example.com", "a long enough password")
        .await
        .expect("stdin password works");
    assert!(!me.user.is_admin);

    // Mistakes are explained, and nothing is created.
    let o = tsunagu(
        &db,
        &[
            "admin",
            "create-user",
            "--username",
            "TARO",
            "--email",
            "other@example.com",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("Username has already been taken"),
        "{}",
        stderr(&o)
    );
    let o = tsunagu(
        &db,
        &[
            "admin",
            "create-user",
            "--username",
            "bad name",
            "--email",
            "x@example.com",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("Username must contain only letters"),
        "{}",
        stderr(&o)
    );
    let o = tsunagu(&db, &["admin", "approve", "--username", "ghost"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no local account named"),
        "{}",
        stderr(&o)
    );

    let o = tsunagu(&db, &["admin", "pending"]);
    assert!(
        stdout(&o).contains("No accounts are waiting"),
        "{}",
        stdout(&o)
    );
    let o = tsunagu(&db, &["admin", "create-invite", "--max-uses", "3"]);
    assert!(o.status.success());
    assert!(stdout(&o).starts_with("Invitation code: "));
    let o = tsunagu(&db, &["admin", "create-invite", "--max-uses", "0"]);
    assert_eq!(o.status.code(), Some(1));

    // Reports: listed for the moderators, resolved by id.
    let o = tsunagu(&db, &["admin", "reports"]);
    assert!(stdout(&o).contains("No open reports."), "{}", stdout(&o));
    let ctx = ctx_for(&db).await;
    let pw = "correct horse battery";
    let reporter = accounts::create_from_shell(&ctx, "kana", "kana@example.com", pw, false)
        .await
        .unwrap();
    let target = accounts::create_from_shell(&ctx, "troll", "troll@example.com", pw, false)
        .await
        .unwrap();
    let report = tsunagu::services::reports::create(
        &ctx,
        &reporter,
        tsunagu::services::reports::NewReport {
            account_id: target.account.id,
            status_ids: vec![],
            comment: "rude\nin DMs".into(),
            forward: false,
            category: None,
            rule_ids: vec![],
        },
    )
    .await
    .unwrap();
    let o = tsunagu(&db, &["admin", "reports"]);
    let line = stdout(&o);
    assert!(
        line.starts_with(&report.report.id.to_string())
            && line.contains("@troll\treported by @kana\tother")
            && line.contains("rude in DMs"),
        "{line}"
    );
    let id = report.report.id.to_string();
    let o = tsunagu(&db, &["admin", "resolve-report", "--id", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tsunagu(&db, &["admin", "resolve-report", "--id", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("already resolved"), "{}", stderr(&o));
    let o = tsunagu(&db, &["admin", "resolve-report", "--id", "12345"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no report with id 12345"),
        "{}",
        stderr(&o)
    );
    assert!(tsunagu(&db, &["admin", "reports"]).status.success());
    db.drop_db().await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The README's run command on a clean checkout: no config, SQLite under data/.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_without_config() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Only the port moves (8080 may be taken on the test machine); everything else is default.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .arg("serve")
        .env("TSUNAGU_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("TSUNAGU_DATABASE__URL")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    tsunagu::federation::http::install_tls_provider();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/api/v1/instance");
    let body = loop {
        if let Ok(r) = client.get(&url).send().await
            && r.status().is_success()
        {
            break r.json::<serde_json::Value>().await.unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no answer on {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(body["uri"], "localhost:8080");
    assert!(body["version"].as_str().unwrap().starts_with("4.2.0"));

    let db = dir.path().join("data/tsunagu.db");
    assert!(db.is_file(), "data/tsunagu.db was not created");
    {
        use diesel::prelude::*;
        let mut c = diesel::SqliteConnection::establish(db.to_str().unwrap()).unwrap();
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let tables: N = diesel::sql_query("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('accounts', 'users', 'oauth_apps', 'oauth_tokens')")
            .get_result(&mut c)
            .unwrap();
        assert_eq!(tables.n, 4, "the database is migrated");
    }

    // Graceful shutdown on SIGTERM, and the first-run link was printed.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    assert!(out.contains("http://localhost:8080/setup?code="), "{out}");
}

dual!(roster_import_reports_bad_rows_verifies_matches_and_is_idempotent);

async fn roster_import_reports_bad_rows_verifies_matches_and_is_idempotent(b: Backend) {
    use tsunagu::services::{memberships, orgs, roster};
    let db = TestDb::new(b).await;
    let ctx = ctx_for(&db).await;
    let _office =
        accounts::create_from_shell(&ctx, "office", "office@acme.example", "pw-123456", true)
            .await
            .unwrap();
    // Confirmed e-mails (accounts made from the shell): one on the roster, one not.
    let alum =
        accounts::create_from_shell(&ctx, "hanako", "Person42@Example.com", "pw-123456", false)
            .await
            .unwrap();
    let stranger =
        accounts::create_from_shell(&ctx, "jiro", "jiro@elsewhere.example", "pw-123456", false)
            .await
            .unwrap();
    let o = tsunagu(
        &db,
        &["org", "create", "--username", "acme", "--founder", "office"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Created official org @acme"),
        "{}",
        stdout(&o)
    );
    let o = tsunagu(
        &db,
        &[
            "org",
            "create",
            "--username",
            "acme2",
            "--founder",
            "nobody",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no local account named \"nobody\""),
        "{}",
        stderr(&o)
    );
    let acme = orgs::list(&ctx, None).await.unwrap().remove(0);
    let org_id = acme.org.account_id;

    // 10,000 good rows and four bad ones, at known lines.
    let mut csv = String::from("email,name,tenure_from,tenure_to,divisions,role\n");
    let mut bad_lines = Vec::new();
    for i in 0..10_000 {
        csv.push_str(&format!(
            "person{i}@example.com,Person {i},{},{},Sales;Tokyo,{}\n",
            2000 + i % 20,
            format_args!("{}-03", 2010 + i % 10),
            if i % 3 == 0 { "employee" } else { "alumnus" }
        ));
        let line = i as u64 + 2;
        match i {
            100 => {
                csv.push_str("not-an-email,Nobody,2001,2002,,alumnus\n");
                bad_lines.push(line + 1);
            }
            2000 => {
                csv.push_str("late@example.com,Late,last spring,,,alumnus\n");
                bad_lines.push(line + 1);
            }
            5000 => {
                csv.push_str("boss@example.com,Boss,2001,2002,,office\n");
                bad_lines.push(line + 1);
            }
            7000 => {
                csv.push_str("PERSON7@example.com,Again,2001,2002,,alumnus\n");
                bad_lines.push(line + 1);
            }
            _ => {}
        }
    }
    // Line numbers shift by one after each inserted bad row.
    let bad_lines: Vec<u64> = bad_lines
        .iter()
        .enumerate()
        .map(|(k, l)| l + k as u64)
        .collect();
    let file = db.dir.path().join("roster.csv");
    std::fs::write(&file, &csv).unwrap();
    let path = file.to_str().unwrap();

    let o = tsunagu(&db, &["org", "import-roster", "acme", path]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("10004 rows read; 10000 added, 0 updated, 0 unchanged; 1 members verified by e-mail; 4 bad rows."),
        "{out}"
    );
    for line in &bad_lines {
        assert!(
            out.contains(&format!("  line {line}: ")),
            "line {line}: {out}"
        );
    }
    assert!(out.contains("is not an e-mail address"), "{out}");
    assert!(out.contains("tenure_from must be a date"), "{out}");
    assert!(
        out.contains("role \"office\" is not alumnus or employee"),
        "{out}"
    );
    assert!(out.contains("repeats line 9"), "{out}");

    // The matching person is a verified member with the roster's facts.
    let m = memberships::mine(&ctx, &alum, org_id)
        .await
        .unwrap()
        .membership;
    assert_eq!((m.state.as_str(), m.via.as_str()), ("verified", "roster"));
    assert_eq!(m.role.as_str(), "employee", "person42: 42 % 3 == 0");
    assert_eq!(m.tenure_from.as_deref(), Some("2002"));
    assert_eq!(m.tenure_to.as_deref(), Some("2012-03"));
    assert_eq!(memberships::divisions_of(&m), ["Sales", "Tokyo"]);
    assert!(memberships::mine(&ctx, &stranger, org_id).await.is_err());

    // The same file again changes nothing.
    let o = tsunagu(&db, &["org", "import-roster", "acme", path]);
    let out = stdout(&o);
    assert!(
        out.contains("10004 rows read; 0 added, 0 updated, 10000 unchanged; 0 members verified by e-mail; 4 bad rows."),
        "{out}"
    );

    // An edited row updates its entry; progress is reported up to the total.
    let calls = std::sync::Mutex::new(Vec::new());
    let edited = "email,name,role\nperson1@example.com,Person One (renamed),alumnus\nperson2@example.com,Person 2,alumnus\n";
    let report = roster::import(&ctx, "acme", edited.as_bytes(), &|d, t| {
        calls.lock().unwrap().push((d, t))
    })
    .await
    .unwrap();
    assert_eq!(
        (report.added, report.updated, report.unchanged),
        (0, 2, 0),
        "{report:?}"
    );
    assert_eq!(calls.lock().unwrap().last(), Some(&(2, 2)));

    // Someone who registers later with a roster e-mail is verified on asking.
    let late =
        accounts::create_from_shell(&ctx, "saburo", "person9@example.com", "pw-123456", false)
            .await
            .unwrap();
    let m = memberships::request(&ctx, &late, org_id, Default::default())
        .await
        .unwrap()
        .membership;
    assert_eq!(
        (m.state.as_str(), m.role.as_str()),
        ("verified", "employee")
    );

    // Operator mistakes get a message that says what to fix.
    let o = tsunagu(&db, &["org", "import-roster", "nosuchorg", path]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no org named \"nosuchorg\""),
        "{}",
        stderr(&o)
    );
    let o = tsunagu(
        &db,
        &["org", "import-roster", "acme", "/nonexistent/roster.csv"],
    );
    assert!(
        stderr(&o).contains("cannot open the roster file"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&file, "mail,name\nx@example.com,X\n").unwrap();
    let o = tsunagu(&db, &["org", "import-roster", "acme", path]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no `email` column"), "{}", stderr(&o));
    db.drop_db().await;
}
