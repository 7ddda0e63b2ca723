//! Real servers and fake remotes for the scenarios.
//!
//! A server is this binary re-executed as `tsunagu serve` with a config file
//! of its own, so its memory and CPU are measured apart from the load. The
//! bench opens the same database itself for set-up (accounts, tokens), as
//! an operator's shell commands would.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use clap::ValueEnum;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tsunagu::config::{Config, FederationMode};
use tsunagu::federation::signatures::{PrivateKey, sign_request};
use tsunagu::services::{Ctx, accounts, oauth, scopes::Scopes};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    pub fn name(self) -> &'static str {
        match self {
            DbKind::Sqlite => "sqlite",
            DbKind::Postgres => "postgres",
        }
    }
}

/// Runs `scenario` on a fresh database of `kind`, dropped afterwards even
/// when the scenario fails.
pub async fn with_db(
    kind: DbKind,
    scenario: impl AsyncFnOnce(&Db) -> Result<Value>,
) -> Result<Value> {
    let db = Db::new(kind).await?;
    let out = scenario(&db).await;
    // To look into a scenario's data afterwards (query plans, say).
    if std::env::var_os("TSUNAGU_BENCH_KEEP_DB").is_some() {
        eprintln!("kept: {}", db.url);
    } else {
        db.drop().await;
    }
    out
}

/// A fresh database: a file in a temporary directory, or a new PostgreSQL
/// database on the server `TSUNAGU_BENCH_POSTGRES_URL` names (default:
/// postgres://postgres@127.0.0.1:5432/postgres); dropped afterwards.
pub struct Db {
    pub url: String,
    pub dir: PathBuf,
    pg: Option<(String, String)>,
}

impl Db {
    pub async fn new(kind: DbKind) -> Result<Db> {
        let stamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)?
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("tsunagu-bench-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        match kind {
            DbKind::Sqlite => Ok(Db {
                url: format!("sqlite://{}", dir.join("tsunagu.db").display()),
                dir,
                pg: None,
            }),
            DbKind::Postgres => {
                let admin = std::env::var("TSUNAGU_BENCH_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
                let name = format!("tsunagu_bench_{}_{}", std::process::id(), stamp % 1_000_000);
                let mut c = AsyncPgConnection::establish(&admin)
                    .await
                    .with_context(|| {
                        format!(
                            "connecting to PostgreSQL at {admin} (set TSUNAGU_BENCH_POSTGRES_URL)"
                        )
                    })?;
                c.batch_execute(&format!("CREATE DATABASE {name}")).await?;
                let (base, _) = admin
                    .rsplit_once('/')
                    .context("the URL names no database")?;
                Ok(Db {
                    url: format!("{base}/{name}"),
                    dir,
                    pg: Some((admin, name)),
                })
            }
        }
    }

    pub async fn drop(self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(mut c) = AsyncPgConnection::establish(admin).await
        {
            let _ = c
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A tsunagu server in a child process.
pub struct Server {
    pub base: String,
    pub host: String,
    pub config: Config,
    child: std::process::Child,
    pub ctx: Ctx,
}

impl Server {
    /// Starts `name.bench` on a free loopback port; `resolve` maps other
    /// `*.bench` host names to loopback addresses (fake remotes).
    pub async fn start(
        db: &Db,
        name: &str,
        resolve: &BTreeMap<String, String>,
        tweak: impl FnOnce(&mut Config),
    ) -> Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let host = format!("{name}.bench:{port}");
        let mut config = Config::default();
        config.server.listen = format!("127.0.0.1:{port}");
        config.server.domain = host.clone();
        config.database.url = db.url.clone();
        config.federation.mode = FederationMode::Development;
        config.federation.resolve = resolve.clone();
        config
            .federation
            .resolve
            .insert(format!("{name}.bench"), format!("127.0.0.1:{port}"));
        config.limits.api_requests_per_5min = 10_000_000;
        config.media.path = db.dir.join("media");
        config.mail.file_dir = db.dir.join("mail");
        config.log.level = "warn".into();
        tweak(&mut config);
        let path = db.dir.join(format!("{name}.toml"));
        std::fs::write(&path, config_toml(&config))?;
        // Migrations run here first, so the server starts at once.
        let (ctx, _) = tsunagu::context(config.clone()).await?;
        let child = std::process::Command::new(std::env::current_exe()?)
            .args(["serve", "--config"])
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("starting the server")?;
        let server = Server {
            base: format!("http://{host}"),
            host,
            config,
            child,
            ctx,
        };
        let http = client(&server.config.federation.resolve);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{}/health", server.base)).send().await
                && r.status().is_success()
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("the server did not answer /health within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process, MiB.
    pub fn rss_mb(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    /// CPU seconds (user + system) the server process has used.
    pub fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the command name (which may hold spaces): utime is 14th, stime 15th.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        // SAFETY-free: sysconf(_SC_CLK_TCK) is 100 on Linux.
        (ticks(11) + ticks(12)) / 100.0
    }

    /// Posts as `token`; returns the post's commit time (`created_at`,
    /// stamped just before its transaction) and its ActivityPub id.
    pub async fn post(
        &self,
        http: &reqwest::Client,
        token: &str,
        text: &str,
    ) -> Result<(SystemTime, String)> {
        let posted: Value = http
            .post(format!("{}/api/v1/statuses", self.base))
            .bearer_auth(token)
            .json(&json!({"status": text}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let created: SystemTime = chrono::DateTime::parse_from_rfc3339(
            posted["created_at"].as_str().context("no created_at")?,
        )?
        .into();
        Ok((
            created,
            posted["uri"].as_str().context("no uri")?.to_owned(),
        ))
    }

    /// A person with an access token (read write follow).
    pub async fn person(&self, name: &str) -> Result<String> {
        let me = accounts::create_from_shell(
            &self.ctx,
            name,
            &format!("{name}@bench.example"),
            "correct horse battery staple",
            false,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let app = oauth::create_app(
            &self.ctx,
            oauth::NewApp {
                name: "tsunagu-bench".into(),
                redirect_uris: vec![oauth::OOB.into()],
                scopes: Some("read write follow".into()),
                website: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(oauth::issue_for_registration(
            &self.ctx,
            app.app.id,
            &me,
            Scopes::parse("read write follow").map_err(|e| anyhow::anyhow!("{e}"))?,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .access_token)
    }
}

impl Drop for Server {
    /// Stops the server; a scenario that fails half-way leaves none behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The settings the scenarios change, as a config file (`Config::load` reads TOML).
fn config_toml(c: &Config) -> String {
    let resolve: Vec<String> = c
        .federation
        .resolve
        .iter()
        .map(|(h, a)| format!("\"{h}\" = \"{a}\""))
        .collect();
    format!(
        "[server]\nlisten = \"{}\"\ndomain = \"{}\"\n\n[database]\nurl = \"{}\"\nmax_connections = {}\n\n\
         [federation]\nmode = \"development\"\nworkers = {}\nidle_poll_secs = {}\n\n[federation.resolve]\n{}\n\n\
         [limits]\napi_requests_per_5min = {}\n\n[media]\npath = \"{}\"\n\n[mail]\nfile_dir = \"{}\"\n\n[log]\nlevel = \"{}\"\n",
        c.server.listen,
        c.server.domain,
        c.database.url,
        c.database.max_connections,
        c.federation.workers,
        c.federation.idle_poll_secs,
        resolve.join("\n"),
        c.limits.api_requests_per_5min,
        c.media.path.display(),
        c.mail.file_dir.display(),
        c.log.level,
    )
}

/// An HTTP client that reaches `*.bench` through the resolve map.
pub fn client(resolve: &BTreeMap<String, String>) -> reqwest::Client {
    tsunagu::federation::http::install_tls_provider();
    let mut b = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64);
    for (host, addr) in resolve {
        if let Ok(a) = addr.parse::<SocketAddr>() {
            b = b.resolve(host, a);
        }
    }
    b.build().expect("http client")
}

/// Something a fake remote received: when, on which host, and the body.
pub struct Arrival {
    pub at: SystemTime,
    pub host: String,
    pub body: Value,
}

/// Fake remote servers: `count` hosts `r{i}.bench`, each on its own
/// loopback address (127.0.x.y), each with one actor `u` sharing one key.
pub struct FakeRemotes {
    pub hosts: Vec<String>,
    pub resolve: BTreeMap<String, String>,
    pub key: Arc<PrivateKey>,
    pub arrivals: mpsc::UnboundedReceiver<Arrival>,
}

#[derive(Clone)]
struct FakeState {
    host: String,
    public_pem: Arc<String>,
    tx: mpsc::UnboundedSender<Arrival>,
    delay: Duration,
}

impl FakeRemotes {
    /// `delay`: how long each inbox POST takes to be answered.
    pub async fn start(count: usize, delay: Duration) -> Result<FakeRemotes> {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?;
        let private_pem = key.to_pkcs8_pem(LineEnding::LF)?.to_string();
        let public_pem = Arc::new(key.to_public_key().to_public_key_pem(LineEnding::LF)?);
        let (tx, arrivals) = mpsc::unbounded_channel();
        let mut hosts = Vec::new();
        let mut resolve = BTreeMap::new();
        for i in 0..count {
            let ip = format!("127.0.{}.{}", 1 + i / 250, 1 + i % 250);
            let listener = tokio::net::TcpListener::bind((ip.as_str(), 0))
                .await
                .with_context(|| format!("binding {ip}"))?;
            let port = listener.local_addr()?.port();
            let host = format!("r{i}.bench:{port}");
            resolve.insert(format!("r{i}.bench"), format!("{ip}:{port}"));
            let state = FakeState {
                host: host.clone(),
                public_pem: public_pem.clone(),
                tx: tx.clone(),
                delay,
            };
            let app = axum::Router::new()
                .route("/users/{name}", axum::routing::get(fake_actor))
                .route("/users/{name}/inbox", axum::routing::post(fake_inbox))
                .route("/inbox", axum::routing::post(fake_inbox))
                .with_state(state);
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            hosts.push(host);
        }
        Ok(FakeRemotes {
            hosts,
            resolve,
            key: Arc::new(PrivateKey::from_pem(&private_pem).map_err(|e| anyhow::anyhow!("{e}"))?),
            arrivals,
        })
    }

    /// The actor id of host `i`'s person.
    pub fn actor(&self, i: usize) -> String {
        format!("http://{}/users/u", self.hosts[i])
    }

    /// `activity` as a shared-inbox POST to `server`, signed by `actor_uri`
    /// (any actor on a fake host: they share the key).
    pub fn sign(&self, server: &Server, actor_uri: &str, activity: &Value) -> Signed {
        let body = activity.to_string();
        let headers = sign_request(
            &self.key,
            &format!("{actor_uri}#main-key"),
            "POST",
            "/inbox",
            &server.host,
            Some(body.as_bytes()),
            SystemTime::now(),
        );
        Signed { body, headers }
    }

    /// The person of each host in `hosts` follows `acct_name` on `server`
    /// (Follows sent 32 at a time); waits until every Accept has arrived.
    pub async fn follow_all(
        &mut self,
        http: &reqwest::Client,
        server: &Server,
        hosts: &[usize],
        acct_name: &str,
    ) -> Result<()> {
        use futures_util::StreamExt;
        let follows = hosts.iter().map(|&i| {
            let follow = json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{}#follow/{acct_name}", self.actor(i)),
                "type": "Follow",
                "actor": self.actor(i),
                "object": format!("{}/users/{acct_name}", server.base),
            });
            let signed = self.sign(server, &self.actor(i), &follow);
            async move { signed.post(http, server).await.map(|r| r.status().as_u16()) }
        });
        let statuses: Vec<Result<u16>> = futures_util::stream::iter(follows)
            .buffer_unordered(32)
            .collect()
            .await;
        for s in statuses {
            let s = s?;
            if s != 202 {
                bail!("a Follow was answered {s}");
            }
        }
        let mut waiting: std::collections::HashSet<&str> =
            hosts.iter().map(|&i| self.hosts[i].as_str()).collect();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !waiting.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.arrivals.recv()).await {
                Ok(Some(a)) if a.body["type"] == "Accept" => {
                    waiting.remove(a.host.as_str());
                }
                Ok(Some(_)) => continue,
                _ => bail!("{} follows were not accepted within 120 s", waiting.len()),
            }
        }
        Ok(())
    }
}

/// A signed inbox POST, ready to send (signing is not part of what a
/// scenario measures).
pub struct Signed {
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Signed {
    pub async fn post(&self, http: &reqwest::Client, server: &Server) -> Result<reqwest::Response> {
        let mut r = http
            .post(format!("{}/inbox", server.base))
            .header("Content-Type", "application/activity+json")
            .body(self.body.clone());
        for (k, v) in &self.headers {
            r = r.header(*k, v);
        }
        Ok(r.send().await?)
    }
}

async fn fake_actor(State(s): State<FakeState>, Path(name): Path<String>) -> String {
    let id = format!("http://{}/users/{name}", s.host);
    json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id, "type": "Person", "preferredUsername": name,
        "inbox": format!("{id}/inbox"),
        "endpoints": {"sharedInbox": format!("http://{}/inbox", s.host)},
        "followers": format!("{id}/followers"),
        "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": *s.public_pem},
    })
    .to_string()
}

async fn fake_inbox(
    State(s): State<FakeState>,
    _h: HeaderMap,
    body: String,
) -> axum::http::StatusCode {
    let at = SystemTime::now();
    if !s.delay.is_zero() {
        tokio::time::sleep(s.delay).await;
    }
    let body = serde_json::from_str(&body).unwrap_or(Value::Null);
    let _ = s.tx.send(Arrival {
        at,
        host: s.host.clone(),
        body,
    });
    axum::http::StatusCode::ACCEPTED
}

/// The p-th percentile (0..=100) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
