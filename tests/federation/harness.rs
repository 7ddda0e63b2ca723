//! The harness: real instances on loopback (each with its own database,
//! named `alpha.test:PORT`, `beta.test:PORT` through the development resolve
//! map), a client that drives them over real HTTP, fake remote hosts, signed
//! deliveries, and the set-ups scenarios share (an official org with its
//! office, a remote member).
use std::collections::BTreeMap;
use std::time::Duration;

use super::common::{Backend, TestDb, test_config};
use serde_json::{Value, json};
use tsunagu::app::{self, AppState};
use tsunagu::config::FederationMode;
use tsunagu::services::{accounts, oauth, scopes::Scopes};

pub struct Instance {
    pub name: String,
    pub base: String,
    pub state: AppState,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub done: Option<tokio::task::JoinHandle<()>>,
    pub config: tsunagu::config::Config,
    pub db: Option<TestDb>,
}

impl Instance {
    /// `acct` host part: `alpha.test:PORT`.
    pub fn host(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    pub async fn token(&self, name: &str) -> String {
        let me = accounts::create_from_shell(
            &self.state.ctx,
            name,
            &format!("{name}@{}.example", self.name),
            "correct horse battery",
            false,
        )
        .await
        .unwrap();
        let app = oauth::create_app(
            &self.state.ctx,
            oauth::NewApp {
                name: "federation test".into(),
                redirect_uris: vec![oauth::OOB.into()],
                scopes: Some("read write follow".into()),
                website: None,
            },
        )
        .await
        .unwrap();
        oauth::issue_for_registration(
            &self.state.ctx,
            app.app.id,
            &me,
            Scopes::parse("read write follow").unwrap(),
        )
        .await
        .unwrap()
        .access_token
    }

    /// Stops serving (the process "goes down"); the database stays.
    pub async fn halt(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            let _ = d.await;
        }
    }

    /// Serves again on the same port with the same database.
    pub async fn restart(&mut self) {
        let port = self
            .host()
            .rsplit_once(':')
            .unwrap()
            .1
            .parse::<u16>()
            .unwrap();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let (state, stop, done) = serve(listener, self.config.clone()).await;
        self.state = state;
        self.stop = Some(stop);
        self.done = Some(done);
    }

    pub async fn stop(mut self) {
        self.halt().await;
        if let Some(db) = self.db.take() {
            db.drop_db().await;
        }
    }
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    config: tsunagu::config::Config,
) -> (
    AppState,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let state = AppState::new(config).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let s = state.clone();
    let done = tokio::spawn(async move {
        app::run(listener, s, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (state, tx, done)
}

/// Starts one instance per name, all knowing each other's loopback address.
pub async fn cluster(b: Backend, names: &[&str]) -> Vec<Instance> {
    cluster_with(b, names, &BTreeMap::new()).await
}

/// Like [`cluster`], also resolving `extra` host names (instances run elsewhere).
pub async fn cluster_with(
    b: Backend,
    names: &[&str],
    extra: &BTreeMap<String, String>,
) -> Vec<Instance> {
    cluster_tweaked(b, names, extra, |_, _| {}).await
}

/// Like [`cluster_with`]; `tweak(name, config)` adjusts each instance's config.
pub async fn cluster_tweaked(
    b: Backend,
    names: &[&str],
    extra: &BTreeMap<String, String>,
    tweak: impl Fn(&str, &mut tsunagu::config::Config),
) -> Vec<Instance> {
    let mut listeners = Vec::new();
    for _ in names {
        listeners.push(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let mut resolve = extra.clone();
    for (name, l) in names.iter().zip(&listeners) {
        resolve.insert(format!("{name}.test"), l.local_addr().unwrap().to_string());
    }
    let mut out = Vec::new();
    for (name, listener) in names.iter().zip(listeners) {
        let db = TestDb::new(b).await;
        let mut cfg = test_config(&db);
        let port = listener.local_addr().unwrap().port();
        cfg.server.domain = format!("{name}.test:{port}");
        cfg.federation.mode = FederationMode::Development;
        cfg.federation.resolve = resolve.clone();
        cfg.limits.api_requests_per_5min = 100_000;
        tweak(name, &mut cfg);
        let (state, tx, done) = serve(listener, cfg.clone()).await;
        out.push(Instance {
            name: name.to_string(),
            base: format!("http://{name}.test:{port}"),
            state,
            stop: Some(tx),
            done: Some(done),
            config: cfg,
            db: Some(db),
        });
    }
    out
}

/// A client-API caller that reaches `*.test` through the same resolve map.
pub struct Client {
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(instances: &[Instance]) -> Client {
        tsunagu::federation::http::install_tls_provider();
        let mut b = reqwest::Client::builder().timeout(Duration::from_secs(20));
        for i in instances {
            let (host, port) = i
                .host()
                .rsplit_once(':')
                .map(|(h, p)| (h.to_owned(), p.to_owned()))
                .unwrap();
            let addr = format!("127.0.0.1:{port}").parse().unwrap();
            b = b.resolve(&host, addr);
        }
        Client {
            http: b.build().unwrap(),
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, url).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The status code of a GET (for "is it gone yet?").
    pub async fn status_of(&self, url: &str, token: &str) -> u16 {
        self.call(reqwest::Method::GET, url, token, None).await.0
    }

    /// Waits until `token`'s user on `base` follows account `id`.
    pub async fn await_following(&self, base: &str, token: &str, id: &str) {
        eventually("the follow is accepted", async || {
            let r = self
                .get(
                    &format!("{base}/api/v1/accounts/relationships?id[]={id}"),
                    token,
                )
                .await;
            (r[0]["following"] == true).then_some(())
        })
        .await;
    }

    /// `token`'s person on `from` follows `acct` (found through WebFinger) and
    /// waits for the Accept; returns the account's id on `from`.
    pub async fn follow_and_wait(&self, from: &Instance, token: &str, acct: &str) -> String {
        let found = self
            .get(
                &format!("{}/api/v1/accounts/lookup?acct={acct}", from.base),
                token,
            )
            .await;
        let id = found["id"].as_str().unwrap().to_owned();
        self.post(
            &format!("{}/api/v1/accounts/{id}/follow", from.base),
            token,
            json!({}),
        )
        .await;
        self.await_following(&from.base, token, &id).await;
        id
    }

    /// A new person `name` on `node` who follows `acct` (elsewhere), the
    /// follow accepted: their token and `acct`'s account id on `node`.
    pub async fn follower(&self, node: &Instance, name: &str, acct: &str) -> Follower {
        let token = node.token(name).await;
        let followed_id = self.follow_and_wait(node, &token, acct).await;
        Follower { token, followed_id }
    }

    /// One post by `token` on `node` for each visibility (the direct one
    /// mentions `dm_to`, an acct), keyed by visibility.
    pub async fn post_each_visibility(
        &self,
        node: &Instance,
        token: &str,
        dm_to: &str,
    ) -> BTreeMap<&'static str, Value> {
        let mut posts = BTreeMap::new();
        for visibility in ["public", "unlisted", "private", "direct"] {
            let text = match visibility {
                "direct" => format!("@{dm_to} a {visibility} post"),
                _ => format!("a {visibility} post"),
            };
            let posted = self
                .post(
                    &format!("{}/api/v1/statuses", node.base),
                    token,
                    json!({"status": text, "visibility": visibility}),
                )
                .await;
            posts.insert(visibility, posted);
        }
        posts
    }

    pub async fn get(&self, url: &str, token: &str) -> Value {
        let (status, v) = self.call(reqwest::Method::GET, url, token, None).await;
        assert_eq!(status, 200, "GET {url}: {v}");
        v
    }

    pub async fn post(&self, url: &str, token: &str, body: Value) -> Value {
        let (status, v) = self
            .call(reqwest::Method::POST, url, token, Some(body))
            .await;
        assert_eq!(status, 200, "POST {url}: {v}");
        v
    }
}

/// A loopback listener for a fake remote server `NAME.test`, its port, and
/// the resolve entry the instances need to reach it.
pub async fn fake_host(name: &str) -> (tokio::net::TcpListener, u16, BTreeMap<String, String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let extra = BTreeMap::from([(format!("{name}.test"), format!("127.0.0.1:{port}"))]);
    (listener, port, extra)
}

/// A fake remote Person `{base}/users/{name}` with `public_pem` as its key.
pub fn fake_actor(base: &str, name: &str, public_pem: &str) -> Value {
    let id = format!("{base}/users/{name}");
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id, "type": "Person", "preferredUsername": name,
        "inbox": format!("{id}/inbox"),
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": public_pem },
    })
}

/// A key pair: the signing key and its public PEM.
pub fn key_pair() -> (tsunagu::federation::signatures::PrivateKey, String) {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let private_pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public_pem = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    (
        tsunagu::federation::signatures::PrivateKey::from_pem(&private_pem).unwrap(),
        public_pem,
    )
}

/// A fresh RSA public key in PEM, for fake remote actors.
pub fn public_key_pem() -> String {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    let k = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    k.to_public_key().to_public_key_pem(LineEnding::LF).unwrap()
}

/// Someone following an account on another instance (see [`Client::follower`]).
pub struct Follower {
    pub token: String,
    /// The followed account's id on the follower's instance.
    pub followed_id: String,
}

/// Polls `check` until it returns Some, or fails after 40 s naming `what`
/// (a backed-off host is retried after 10 s).
pub async fn eventually<T, F: AsyncFn() -> Option<T>>(what: &str, check: F) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn home_id(c: &Client, base: &str, token: &str, uri: &str) -> String {
    let home = c.get(&format!("{base}/api/v1/timelines/home"), token).await;
    home.as_array()
        .unwrap()
        .iter()
        .find(|s| s["uri"] == uri)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Posts `activity` to `to`'s shared inbox signed with `signer`'s real key.
pub async fn deliver_as(
    c: &Client,
    signer: &Instance,
    name: &str,
    to: &Instance,
    activity: &Value,
) -> u16 {
    let mut conn = signer.state.ctx.conn().await.unwrap();
    let (acct, _) = tsunagu::db::accounts::find_by_acct_key(&mut conn, name)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    let key = tsunagu::federation::signatures::PrivateKey::from_pem(
        acct.private_key_pem.as_deref().unwrap(),
    )
    .unwrap();
    let key_id = format!("{}/users/{name}#main-key", signer.base);
    deliver_signed(c, &key, &key_id, to, activity).await
}

/// Posts `activity` to `to`'s shared inbox signed with `key` as `key_id`.
pub async fn deliver_signed(
    c: &Client,
    key: &tsunagu::federation::signatures::PrivateKey,
    key_id: &str,
    to: &Instance,
    activity: &Value,
) -> u16 {
    deliver_signed_response(&c.http, key, key_id, &to.host(), &to.base, activity)
        .await
        .status()
        .as_u16()
}

/// [`deliver_signed`], returning the whole response (status and headers).
pub async fn deliver_signed_response(
    http: &reqwest::Client,
    key: &tsunagu::federation::signatures::PrivateKey,
    key_id: &str,
    to_host: &str,
    to_base: &str,
    activity: &Value,
) -> reqwest::Response {
    let body = activity.to_string();
    let headers = tsunagu::federation::signatures::sign_request(
        key,
        key_id,
        "POST",
        "/inbox",
        to_host,
        Some(body.as_bytes()),
        std::time::SystemTime::now(),
    );
    let mut r = http
        .post(format!("{to_base}/inbox"))
        .header("Content-Type", "application/activity+json")
        .body(body);
    for (k, v) in headers {
        r = r.header(k, v);
    }
    r.send().await.unwrap()
}

/// The real `tsunagu serve` binary, killable with SIGKILL.
pub struct Process {
    pub child: std::process::Child,
}

impl Process {
    pub fn start(config: &std::path::Path) -> Process {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .args(["serve", "--config"])
            .arg(config)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start tsunagu");
        Process { child }
    }

    pub fn kill(mut self) {
        // SIGKILL: no shutdown, no flushing, nothing finishes.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// Resolves a URL through `base`'s search (`resolve=true`) as `token`.
pub async fn resolve_on(c: &Client, base: &str, token: &str, q: &str) -> Value {
    let url = reqwest::Url::parse_with_params(
        &format!("{base}/api/v2/search"),
        &[("q", q), ("resolve", "true")],
    )
    .unwrap();
    c.get(url.as_str(), token).await
}

/// Makes `office` (a local person on `node`) an administrator and creates
/// the official org `name` as them (its founder, so its office).
pub async fn official_org(node: &Instance, office: &str, name: &str) {
    let mut conn = node.state.ctx.conn().await.unwrap();
    let (a, _) = tsunagu::db::accounts::find_by_acct_key(&mut conn, office)
        .await
        .unwrap()
        .unwrap();
    let mut admin = tsunagu::db::accounts::find_local_user(&mut conn, a.id)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    admin.user.is_admin = true;
    tsunagu::services::orgs::create(
        &node.state.ctx,
        &admin,
        tsunagu::services::orgs::NewOrg {
            username: name.into(),
            display_name: Some("ACME Alumni".into()),
            note: None,
            kind: None,
            parent_id: None,
            locked: None,
        },
    )
    .await
    .unwrap();
}

/// An official org on a node with its office, as most org scenarios begin.
pub struct OrgOn {
    /// The office's token (`office`, an administrator of the node).
    pub office: String,
    /// The org's id on its own node.
    pub id: String,
}

impl OrgOn {
    /// The official org `name` on `node` (its first org), founded by a new
    /// person `office`.
    pub async fn official(c: &Client, node: &Instance, name: &str) -> OrgOn {
        let office = node.token("office").await;
        official_org(node, "office", name).await;
        let orgs = c.get(&format!("{}/api/v1/orgs", node.base), &office).await;
        let id = orgs[0]["id"].as_str().unwrap().to_owned();
        OrgOn { office, id }
    }

    /// People on the org's own node join with one invite (verified at once).
    pub async fn join_by_invite(&self, c: &Client, node: &Instance, people: &[&String]) {
        let invite = c
            .post(
                &format!("{}/api/v1/orgs/{}/invites", node.base, self.id),
                &self.office,
                json!({"max_uses": people.len()}),
            )
            .await;
        for t in people {
            let m = c
                .post(
                    &format!("{}/api/v1/orgs/{}/membership_requests", node.base, self.id),
                    t,
                    json!({"invite_code": invite["code"]}),
                )
                .await;
            assert_eq!(m["state"], "verified", "{m}");
        }
    }
}

/// GET `url` signed by `signer`'s key (`keyId`), as an authorized fetch.
pub async fn signed_get(c: &Client, url: &str, key_pem: &str, key_id: &str) -> u16 {
    signed_fetch(c, url, key_pem, key_id).await.0
}

/// [`signed_get`] with the body.
pub async fn signed_fetch(c: &Client, url: &str, key_pem: &str, key_id: &str) -> (u16, String) {
    let key = tsunagu::federation::signatures::PrivateKey::from_pem(key_pem).unwrap();
    let parsed = url::Url::parse(url).unwrap();
    let host = format!(
        "{}:{}",
        parsed.host_str().unwrap(),
        parsed.port_or_known_default().unwrap()
    );
    let headers = tsunagu::federation::signatures::sign_request(
        &key,
        key_id,
        "GET",
        parsed.path(),
        &host,
        None,
        std::time::SystemTime::now(),
    );
    let mut r = c
        .http
        .get(url)
        .header("Accept", "application/activity+json");
    for (k, v) in headers {
        r = r.header(k, v);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

pub async fn private_key_of(node: &Instance, name: &str) -> String {
    let mut conn = node.state.ctx.conn().await.unwrap();
    let (a, _) = tsunagu::db::accounts::find_by_acct_key(&mut conn, name)
        .await
        .unwrap()
        .unwrap();
    a.private_key_pem.unwrap()
}

pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `person` on `home` asks to join the org `acme` on `alpha` and the office
/// approves; returns the org's account id on `home`.
pub async fn remote_member(
    c: &Client,
    (alpha, office, acme_on_alpha): (&Instance, &str, &str),
    home: &Instance,
    person: &str,
) -> String {
    let acme_on_home = c
        .get(
            &format!(
                "{}/api/v1/accounts/lookup?acct=acme@{}",
                home.base,
                alpha.host()
            ),
            person,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let asked = c
        .post(
            &format!(
                "{}/api/v1/orgs/{acme_on_home}/membership_requests",
                home.base
            ),
            person,
            json!({"consents": {"directory": true}}),
        )
        .await;
    assert_eq!(asked["state"], "pending", "{asked}");
    let me = c
        .get(
            &format!("{}/api/v1/accounts/verify_credentials", home.base),
            person,
        )
        .await;
    let acct = format!("{}@{}", me["username"].as_str().unwrap(), home.host());
    let request = eventually("the office sees the request", async || {
        let q = c
            .get(
                &format!(
                    "{}/api/v1/orgs/{acme_on_alpha}/membership_requests",
                    alpha.base
                ),
                office,
            )
            .await;
        q.as_array()
            .unwrap()
            .iter()
            .find(|r| r["account"]["acct"] == acct.as_str())
            .cloned()
    })
    .await;
    c.post(
        &format!(
            "{}/api/v1/orgs/{acme_on_alpha}/membership_requests/{}/approve",
            alpha.base,
            request["id"].as_str().unwrap()
        ),
        office,
        json!({}),
    )
    .await;
    eventually("the member's server learns of the approval", async || {
        let m = c
            .get(
                &format!("{}/api/v1/orgs/{acme_on_home}/membership", home.base),
                person,
            )
            .await;
        (m["state"] == "verified").then_some(())
    })
    .await;
    acme_on_home
}

/// Server-sent events of one stream, collected in the background.
pub struct Collected {
    pub text: std::sync::Arc<std::sync::Mutex<String>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Collected {
    pub async fn open(c: &Client, url: &str, token: Option<&str>) -> Collected {
        let mut req = c.http.get(url).timeout(Duration::from_secs(600));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let into = text.clone();
        let task = tokio::spawn(async move {
            while let Ok(Some(chunk)) = resp.chunk().await {
                into.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk));
            }
        });
        Collected { text, task }
    }

    pub fn close(self) -> String {
        self.task.abort();
        self.text.lock().unwrap().clone()
    }
}
