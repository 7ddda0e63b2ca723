//! Several real instances on loopback, each with its own database, named
//! `alpha.test:PORT`, `beta.test:PORT` through the development resolve map,
//! driven through the client API over real HTTP.
#[path = "../common/mod.rs"]
mod common;
mod pool;
mod security;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Backend, TestDb, test_config};
use serde_json::{Value, json};
use tsunagu::app::{self, AppState};
use tsunagu::config::FederationMode;
use tsunagu::services::{accounts, oauth, scopes::Scopes};

struct Instance {
    name: String,
    base: String,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
    config: tsunagu::config::Config,
    db: Option<TestDb>,
}

impl Instance {
    /// `acct` host part: `alpha.test:PORT`.
    fn host(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    async fn token(&self, name: &str) -> String {
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
    async fn halt(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            let _ = d.await;
        }
    }

    /// Serves again on the same port with the same database.
    async fn restart(&mut self) {
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

    async fn stop(mut self) {
        self.halt().await;
        if let Some(db) = self.db.take() {
            db.drop_db().await;
        }
    }
}

async fn serve(
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
async fn cluster(b: Backend, names: &[&str]) -> Vec<Instance> {
    cluster_with(b, names, &BTreeMap::new()).await
}

/// Like [`cluster`], also resolving `extra` host names (instances run elsewhere).
async fn cluster_with(
    b: Backend,
    names: &[&str],
    extra: &BTreeMap<String, String>,
) -> Vec<Instance> {
    cluster_tweaked(b, names, extra, |_, _| {}).await
}

/// Like [`cluster_with`]; `tweak(name, config)` adjusts each instance's config.
async fn cluster_tweaked(
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
struct Client {
    http: reqwest::Client,
}

impl Client {
    fn new(instances: &[Instance]) -> Client {
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

    async fn call(
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
    async fn status_of(&self, url: &str, token: &str) -> u16 {
        self.call(reqwest::Method::GET, url, token, None).await.0
    }

    /// Waits until `token`'s user on `base` follows account `id`.
    async fn await_following(&self, base: &str, token: &str, id: &str) {
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
    async fn follow_and_wait(&self, from: &Instance, token: &str, acct: &str) -> String {
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

    async fn get(&self, url: &str, token: &str) -> Value {
        let (status, v) = self.call(reqwest::Method::GET, url, token, None).await;
        assert_eq!(status, 200, "GET {url}: {v}");
        v
    }

    async fn post(&self, url: &str, token: &str, body: Value) -> Value {
        let (status, v) = self
            .call(reqwest::Method::POST, url, token, Some(body))
            .await;
        assert_eq!(status, 200, "POST {url}: {v}");
        v
    }
}

/// A loopback listener for a fake remote server `NAME.test`, its port, and
/// the resolve entry the instances need to reach it.
async fn fake_host(name: &str) -> (tokio::net::TcpListener, u16, BTreeMap<String, String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let extra = BTreeMap::from([(format!("{name}.test"), format!("127.0.0.1:{port}"))]);
    (listener, port, extra)
}

/// A fake remote Person `{base}/users/{name}` with `public_pem` as its key.
fn fake_actor(base: &str, name: &str, public_pem: &str) -> Value {
    let id = format!("{base}/users/{name}");
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id, "type": "Person", "preferredUsername": name,
        "inbox": format!("{id}/inbox"),
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": public_pem },
    })
}

/// A fresh RSA public key in PEM, for fake remote actors.
fn public_key_pem() -> String {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    let k = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    k.to_public_key().to_public_key_pem(LineEnding::LF).unwrap()
}

/// Polls `check` until it returns Some, or fails after 40 s naming `what`
/// (a backed-off host is retried after 10 s).
async fn eventually<T, F: AsyncFn() -> Option<T>>(what: &str, check: F) -> T {
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

dual!(
    follow_post_and_unfollow_across_instances,
    discovery_documents,
    unsigned_and_forged_deliveries_are_refused,
    a_stopped_receiver_gets_everything_once_after_restart,
    locked_accounts_and_visibility_across_instances,
    origins_duplicates_and_actor_deletion,
    a_sender_killed_mid_fanout_loses_nothing,
    search_resolves_remote_accounts_and_posts,
    fetches_are_signed_by_the_instance_actor,
    a_web_only_node_and_a_worker_node_share_one_database,
    reports_reach_the_reported_accounts_server_as_flags,
    reply_parents_and_boosted_posts_are_fetched,
    reply_chains_are_fetched_within_a_bound,
    a_remote_that_never_answers_costs_a_timeout_not_a_hang,
    polls_and_votes_travel_as_questions,
    attachments_travel_as_documents,
    a_moved_account_takes_its_followers_along,
    a_remote_person_follows_an_org,
    an_inbound_flood_is_refused_politely_and_loses_nothing,
);

async fn follow_post_and_unfollow_across_instances(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;

    // alice finds bob@beta through WebFinger and follows him.
    let acct = format!("bob@{}", beta.host());
    let remote_bob = c
        .get(
            &format!("{}/api/v1/accounts/lookup?acct={acct}", alpha.base),
            &alice,
        )
        .await;
    assert_eq!(remote_bob["acct"], acct);
    assert_eq!(remote_bob["username"], "bob");
    let bob_id = remote_bob["id"].as_str().unwrap().to_owned();
    let rel = c
        .post(
            &format!("{}/api/v1/accounts/{bob_id}/follow", alpha.base),
            &alice,
            json!({}),
        )
        .await;
    assert!(
        rel["requested"] == true || rel["following"] == true,
        "{rel}"
    );

    // bob's server accepts (bob is not locked); alice's side turns into following.
    c.await_following(&alpha.base, &alice, &bob_id).await;
    let bob_local = c
        .get(
            &format!("{}/api/v1/accounts/verify_credentials", beta.base),
            &bob,
        )
        .await;
    let bob_local_id = bob_local["id"].as_str().unwrap().to_owned();
    let followers = c
        .get(
            &format!("{}/api/v1/accounts/{bob_local_id}/followers", beta.base),
            &bob,
        )
        .await;
    assert_eq!(followers[0]["acct"], format!("alice@{}", alpha.host()));
    let notes = c
        .get(&format!("{}/api/v1/notifications", beta.base), &bob)
        .await;
    assert_eq!(notes[0]["type"], "follow", "{notes}");

    // bob posts; the post reaches alice's home timeline on alpha.
    let post = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "Hello from beta #reunion", "visibility": "public"}),
        )
        .await;
    let uri = post["uri"].as_str().unwrap().to_owned();
    let arrived = eventually("bob's post on alice's home timeline", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", alpha.base), &alice)
            .await;
        home.as_array()
            .unwrap()
            .iter()
            .find(|s| s["uri"] == uri)
            .cloned()
    })
    .await;
    assert!(
        arrived["content"]
            .as_str()
            .unwrap()
            .contains("Hello from beta")
    );
    assert_eq!(arrived["account"]["acct"], acct);
    assert_eq!(arrived["visibility"], "public");

    // alice favourites, reblogs and replies on alpha; bob hears of each on beta.
    let remote_id = arrived["id"].as_str().unwrap().to_owned();
    c.post(
        &format!("{}/api/v1/statuses/{remote_id}/favourite", alpha.base),
        &alice,
        json!({}),
    )
    .await;
    c.post(
        &format!("{}/api/v1/statuses/{remote_id}/reblog", alpha.base),
        &alice,
        json!({}),
    )
    .await;
    let reply = c
        .post(
            &format!("{}/api/v1/statuses", alpha.base),
            &alice,
            json!({"status": format!("@{acct} welcome back!"), "in_reply_to_id": remote_id}),
        )
        .await;
    assert_eq!(reply["in_reply_to_id"], remote_id.as_str());
    let local_post_id = post["id"].as_str().unwrap().to_owned();
    let kinds = eventually("favourite, reblog and mention on beta", async || {
        let notes = c
            .get(&format!("{}/api/v1/notifications", beta.base), &bob)
            .await;
        let kinds: Vec<String> = notes
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap().to_owned())
            .collect();
        ["favourite", "reblog", "mention"]
            .iter()
            .all(|k| kinds.iter().any(|x| x == k))
            .then_some(notes)
    })
    .await;
    for n in kinds.as_array().unwrap() {
        if n["type"] != "follow" {
            assert_eq!(
                n["account"]["acct"],
                format!("alice@{}", alpha.host()),
                "{n}"
            );
        }
    }
    let ctx_on_beta = c
        .get(
            &format!("{}/api/v1/statuses/{local_post_id}/context", beta.base),
            &bob,
        )
        .await;
    assert_eq!(ctx_on_beta["descendants"][0]["uri"], reply["uri"]);
    let counts = c
        .get(
            &format!("{}/api/v1/statuses/{local_post_id}", beta.base),
            &bob,
        )
        .await;
    assert_eq!(counts["favourites_count"], 1);
    assert_eq!(counts["reblogs_count"], 1);
    // Unfavourite propagates too.
    c.post(
        &format!("{}/api/v1/statuses/{remote_id}/unfavourite", alpha.base),
        &alice,
        json!({}),
    )
    .await;
    eventually("the Undo Like reaches beta", async || {
        let s = c
            .get(
                &format!("{}/api/v1/statuses/{local_post_id}", beta.base),
                &bob,
            )
            .await;
        (s["favourites_count"] == 0).then_some(())
    })
    .await;

    // bob edits the post and renames himself; alpha shows both.
    let (st, _) = c
        .call(
            reqwest::Method::PUT,
            &format!("{}/api/v1/statuses/{local_post_id}", beta.base),
            &bob,
            Some(json!({"status": "Hello again from beta"})),
        )
        .await;
    assert_eq!(st, 200);
    eventually("the edit reaches alpha", async || {
        let s = c
            .get(
                &format!("{}/api/v1/statuses/{remote_id}", alpha.base),
                &alice,
            )
            .await;
        (s["content"].as_str().unwrap().contains("Hello again") && s["edited_at"].is_string())
            .then_some(())
    })
    .await;
    let (st, _) = c
        .call(
            reqwest::Method::PATCH,
            &format!("{}/api/v1/accounts/update_credentials", beta.base),
            &bob,
            Some(json!({"display_name": "Bob (Beta Corp alumni)"})),
        )
        .await;
    assert_eq!(st, 200);
    eventually("the profile update reaches alpha", async || {
        let a = c
            .get(&format!("{}/api/v1/accounts/{bob_id}", alpha.base), &alice)
            .await;
        (a["display_name"] == "Bob (Beta Corp alumni)").then_some(())
    })
    .await;

    // Deleting it on beta deletes it on alpha.
    let (status, _) = c
        .call(
            reqwest::Method::DELETE,
            &format!(
                "{}/api/v1/statuses/{}",
                beta.base,
                post["id"].as_str().unwrap()
            ),
            &bob,
            None,
        )
        .await;
    assert_eq!(status, 200);
    eventually("the Delete reaches alpha", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", alpha.base), &alice)
            .await;
        (!home.as_array().unwrap().iter().any(|s| s["uri"] == uri)).then_some(())
    })
    .await;

    // alice unfollows: bob's follower list empties on beta.
    c.post(
        &format!("{}/api/v1/accounts/{bob_id}/unfollow", alpha.base),
        &alice,
        json!({}),
    )
    .await;
    eventually("beta sees the Undo", async || {
        let f = c
            .get(
                &format!("{}/api/v1/accounts/{bob_local_id}/followers", beta.base),
                &bob,
            )
            .await;
        f.as_array().unwrap().is_empty().then_some(())
    })
    .await;
    for n in nodes {
        n.stop().await;
    }
}

async fn discovery_documents(b: Backend) {
    let nodes = cluster(b, &["alpha"]).await;
    let alpha = &nodes[0];
    let c = Client::new(&nodes);
    let carol = alpha.token("carol").await;
    let host = alpha.host();
    let get = async |path: &str, accept: &str| {
        let r = c
            .http
            .get(format!("{}{path}", alpha.base))
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let ctype = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, ctype, r.text().await.unwrap())
    };
    let (s, ctype, body) = get(
        &format!("/.well-known/webfinger?resource=acct:carol@{host}"),
        "*/*",
    )
    .await;
    assert_eq!(s, 200);
    assert!(ctype.starts_with("application/jrd+json"));
    let jrd: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(jrd["subject"], format!("acct:carol@{host}"));
    let actor_url = jrd["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(actor_url, format!("{}/users/carol", alpha.base));
    let (s, _, _) = get(
        &format!("/.well-known/webfinger?resource=acct:nobody@{host}"),
        "*/*",
    )
    .await;
    assert_eq!(s, 404);
    let (s, _, _) = get(
        "/.well-known/webfinger?resource=acct:carol@elsewhere.example",
        "*/*",
    )
    .await;
    assert_eq!(s, 404);

    // The actor: JSON for ActivityPub clients, the profile page for browsers.
    for accept in [
        "application/activity+json",
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
    ] {
        let (s, ctype, body) = get("/users/carol", accept).await;
        assert_eq!(s, 200, "{accept}");
        assert!(ctype.starts_with("application/activity+json"));
        let actor: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(actor["type"], "Person");
        assert_eq!(actor["id"], actor_url);
        assert_eq!(actor["preferredUsername"], "carol");
        assert_eq!(actor["inbox"], format!("{actor_url}/inbox"));
        assert_eq!(
            actor["endpoints"]["sharedInbox"],
            format!("{}/inbox", alpha.base)
        );
        assert_eq!(actor["publicKey"]["owner"], actor_url);
        assert!(
            actor["publicKey"]["publicKeyPem"]
                .as_str()
                .unwrap()
                .contains("BEGIN PUBLIC KEY")
        );
        assert_eq!(actor["manuallyApprovesFollowers"], false);
    }
    // Browsers are sent to the profile URL.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve(
            host.rsplit_once(':').unwrap().0,
            format!("127.0.0.1:{}", host.rsplit_once(':').unwrap().1)
                .parse()
                .unwrap(),
        )
        .build()
        .unwrap();
    let r = no_redirect
        .get(format!("{}/users/carol", alpha.base))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/@carol");

    let (s, _, body) = get("/.well-known/nodeinfo", "*/*").await;
    assert_eq!(s, 200);
    let links: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(links["links"].as_array().unwrap().len(), 2);
    for v in ["2.0", "2.1"] {
        let (s, _, body) = get(&format!("/nodeinfo/{v}"), "*/*").await;
        assert_eq!(s, 200);
        let ni: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(ni["version"], v);
        assert_eq!(ni["software"]["name"], "tsunagu");
        assert_eq!(ni["protocols"], json!(["activitypub"]));
        assert_eq!(ni["usage"]["users"]["total"], 1);
    }
    let (s, ctype, body) = get("/.well-known/host-meta", "*/*").await;
    assert_eq!(s, 200);
    assert!(ctype.starts_with("application/xrd+xml"));
    assert!(body.contains("/.well-known/webfinger?resource={uri}"));

    // The featured collection: pinned posts anyone may see, as Notes.
    let mut pinned = Vec::new();
    for visibility in ["public", "private"] {
        let p = c
            .post(
                &format!("{}/api/v1/statuses", alpha.base),
                &carol,
                json!({"status": format!("pinned {visibility} post"), "visibility": visibility}),
            )
            .await;
        let id = p["id"].as_str().unwrap();
        c.post(
            &format!("{}/api/v1/statuses/{id}/pin", alpha.base),
            &carol,
            json!({}),
        )
        .await;
        pinned.push(p);
    }
    let (s, _, body) = get(
        "/users/carol/collections/featured",
        "application/activity+json",
    )
    .await;
    assert_eq!(s, 200);
    let featured: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(featured["type"], "OrderedCollection");
    assert_eq!(
        featured["totalItems"], 1,
        "the private pin is not published: {featured}"
    );
    assert_eq!(featured["orderedItems"][0]["id"], pinned[0]["uri"]);
    assert_eq!(featured["orderedItems"][0]["type"], "Note");
    let (s, _, _) = get(
        "/users/nobody/collections/featured",
        "application/activity+json",
    )
    .await;
    assert_eq!(s, 404);
    for n in nodes {
        n.stop().await;
    }
}

async fn unsigned_and_forged_deliveries_are_refused(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    alpha.token("alice").await;
    beta.token("bob").await;
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/users/alice#follow/1", alpha.base),
        "type": "Follow",
        "actor": format!("{}/users/alice", alpha.base),
        "object": format!("{}/users/bob", beta.base),
    });
    let post = async |headers: Vec<(&str, String)>, body: String| {
        let mut r = c
            .http
            .post(format!("{}/inbox", beta.base))
            .header("Content-Type", "application/activity+json")
            .body(body);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r.send().await.unwrap().status().as_u16()
    };
    // No signature at all.
    assert_eq!(post(vec![], activity.to_string()).await, 401);
    // Bodies over 1 MiB are refused before anything is parsed.
    let huge = format!("{{\"padding\": \"{}\"}}", "x".repeat(1024 * 1024 + 1));
    assert_eq!(post(vec![], huge).await, 413);
    // Signed by a key we make up, claiming to be alice: the key does not verify.
    let fake = {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let k = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        tsunagu::federation::signatures::PrivateKey::from_pem(
            &k.to_pkcs8_pem(LineEnding::LF).unwrap(),
        )
        .unwrap()
    };
    let body = activity.to_string();
    let sign = |body: &str, date_shift: i64| {
        let now = std::time::SystemTime::now()
            .checked_add(Duration::from_secs(date_shift.max(0) as u64))
            .unwrap()
            .checked_sub(Duration::from_secs((-date_shift).max(0) as u64))
            .unwrap();
        tsunagu::federation::signatures::sign_request(
            &fake,
            &format!("{}/users/alice#main-key", alpha.base),
            "POST",
            "/inbox",
            &beta.host(),
            Some(body.as_bytes()),
            now,
        )
    };
    assert_eq!(post(sign(&body, 0), body.clone()).await, 401, "forged key");
    // Stale date.
    assert_eq!(
        post(sign(&body, -7200), body.clone()).await,
        401,
        "stale date"
    );
    // Altered body under a signature made for another body.
    let other = body.replace("Follow", "Block");
    assert_eq!(post(sign(&body, 0), other).await, 401, "altered body");
    // Nothing of it was stored or acted upon.
    let mut conn = beta.state.ctx.conn().await.unwrap();
    assert_eq!(
        tsunagu::db::federation::inbound_pending(&mut conn)
            .await
            .unwrap(),
        0
    );
    drop(conn);
    for n in nodes {
        n.stop().await;
    }
}

async fn a_stopped_receiver_gets_everything_once_after_restart(b: Backend) {
    let mut nodes = cluster(b, &["alpha", "beta"]).await;
    let c = Client::new(&nodes);
    let alice = nodes[0].token("alice").await;
    let bob = nodes[1].token("bob").await;
    let (alpha_base, beta_base) = (nodes[0].base.clone(), nodes[1].base.clone());
    // bob@beta follows alice@alpha.
    let remote_alice = c
        .get(
            &format!(
                "{beta_base}/api/v1/accounts/lookup?acct=alice@{}",
                nodes[0].host()
            ),
            &bob,
        )
        .await;
    let alice_id = remote_alice["id"].as_str().unwrap().to_owned();
    c.post(
        &format!("{beta_base}/api/v1/accounts/{alice_id}/follow"),
        &bob,
        json!({}),
    )
    .await;
    c.await_following(&beta_base, &bob, &alice_id).await;

    // beta goes down; alice posts three times.
    nodes[1].halt().await;
    let mut uris = Vec::new();
    for i in 0..3 {
        let s = c
            .post(
                &format!("{alpha_base}/api/v1/statuses"),
                &alice,
                json!({"status": format!("while you were away {i}")}),
            )
            .await;
        uris.push(s["uri"].as_str().unwrap().to_owned());
    }
    // alpha notices the host is down and backs off (the breaker opens).
    let ctx = nodes[0].state.ctx.clone();
    let beta_host = nodes[1].host();
    eventually("alpha backs off beta", async || {
        let mut conn = ctx.conn().await.unwrap();
        let h = tsunagu::db::federation::host(&mut conn, &beta_host)
            .await
            .unwrap()?;
        (h.failures >= 1 && h.next_attempt_at.is_some() && h.done_upto < h.head).then_some(())
    })
    .await;
    let (status, _) = tsunagu::services::federation::status(&ctx).await.unwrap();
    let beta_row = status.iter().find(|h| h.host == beta_host).unwrap();
    assert!(beta_row.queued >= 3, "queued: {}", beta_row.queued);
    assert!(beta_row.breaker_open_until.is_some());
    assert!(beta_row.last_error.is_some());

    // beta comes back: everything arrives, once each, in order.
    nodes[1].restart().await;
    let home = eventually("all three posts on bob's home timeline", async || {
        let home = c
            .get(&format!("{beta_base}/api/v1/timelines/home"), &bob)
            .await;
        let got: Vec<String> = home
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["uri"].as_str().unwrap().to_owned())
            .collect();
        uris.iter().all(|u| got.contains(u)).then_some(got)
    })
    .await;
    for u in &uris {
        assert_eq!(
            home.iter().filter(|g| *g == u).count(),
            1,
            "{u} arrived once"
        );
    }
    let mut conn = ctx.conn().await.unwrap();
    let h = tsunagu::db::federation::host(&mut conn, &beta_host)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.done_upto, h.head, "nothing left queued");
    assert_eq!(h.failures, 0, "the breaker closed again");
    drop(conn);
    for n in nodes {
        n.stop().await;
    }
}

async fn locked_accounts_and_visibility_across_instances(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let dave = alpha.token("dave").await; // follows nobody
    let bob = beta.token("bob").await;
    // bob locks his account.
    c.call(
        reqwest::Method::PATCH,
        &format!("{}/api/v1/accounts/update_credentials", beta.base),
        &bob,
        Some(json!({"locked": true})),
    )
    .await;
    let acct = format!("bob@{}", beta.host());
    let remote_bob = c
        .get(
            &format!("{}/api/v1/accounts/lookup?acct={acct}", alpha.base),
            &alice,
        )
        .await;
    assert_eq!(remote_bob["locked"], true);
    let bob_id = remote_bob["id"].as_str().unwrap().to_owned();
    let rel = c
        .post(
            &format!("{}/api/v1/accounts/{bob_id}/follow", alpha.base),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(rel["requested"], true);
    // The request waits on beta until bob answers.
    let requester = eventually("the follow request on beta", async || {
        let reqs = c
            .get(&format!("{}/api/v1/follow_requests", beta.base), &bob)
            .await;
        reqs.as_array().unwrap().first().cloned()
    })
    .await;
    assert_eq!(requester["acct"], format!("alice@{}", alpha.host()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = c
        .get(
            &format!("{}/api/v1/accounts/relationships?id[]={bob_id}", alpha.base),
            &alice,
        )
        .await;
    assert_eq!(r[0]["following"], false, "not before bob accepts");
    assert_eq!(r[0]["requested"], true);
    c.post(
        &format!(
            "{}/api/v1/follow_requests/{}/authorize",
            beta.base,
            requester["id"].as_str().unwrap()
        ),
        &bob,
        json!({}),
    )
    .await;
    c.await_following(&alpha.base, &alice, &bob_id).await;

    // bob mentions dave@alpha directly; beta has never heard of dave and
    // looks him up through WebFinger while posting.
    let dave_acct = format!("dave@{}", alpha.host());
    let mut uris = std::collections::HashMap::new();
    for (vis, text) in [
        ("public", "public news".to_owned()),
        ("unlisted", "unlisted news".to_owned()),
        ("private", "followers-only news".to_owned()),
        ("direct", format!("@{dave_acct} a direct word")),
    ] {
        let s = c
            .post(
                &format!("{}/api/v1/statuses", beta.base),
                &bob,
                json!({"status": text, "visibility": vis}),
            )
            .await;
        uris.insert(vis, s["uri"].as_str().unwrap().to_owned());
    }
    // alice (a follower) gets public, unlisted and followers-only in her home timeline.
    let home = eventually("alice's home has the three", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", alpha.base), &alice)
            .await;
        let got: Vec<String> = home
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["uri"].as_str().unwrap().to_owned())
            .collect();
        ["public", "unlisted", "private"]
            .iter()
            .all(|v| got.contains(&uris[v]))
            .then_some(got)
    })
    .await;
    assert!(
        !home.contains(&uris["direct"]),
        "the direct post is not alice's"
    );
    // dave gets the direct post as a mention, and nothing else.
    let mention = eventually("dave's mention", async || {
        let n = c
            .get(&format!("{}/api/v1/notifications", alpha.base), &dave)
            .await;
        n.as_array()
            .unwrap()
            .iter()
            .find(|n| n["type"] == "mention")
            .cloned()
    })
    .await;
    assert_eq!(mention["status"]["uri"], uris["direct"].as_str());
    assert_eq!(mention["status"]["visibility"], "direct");
    // Neither the direct nor the followers-only post is visible to alpha's other people.
    let direct_id = mention["status"]["id"].as_str().unwrap().to_owned();
    let st = c
        .status_of(
            &format!("{}/api/v1/statuses/{direct_id}", alpha.base),
            &alice,
        )
        .await;
    assert_eq!(st, 404, "alice may not see a direct post to dave");
    let public_tl = c
        .get(&format!("{}/api/v1/timelines/public", alpha.base), &dave)
        .await;
    let on_public: Vec<&str> = public_tl
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    assert!(on_public.contains(&uris["public"].as_str()));
    for v in ["unlisted", "private", "direct"] {
        assert!(
            !on_public.contains(&uris[v].as_str()),
            "{v} is not on the public timeline"
        );
    }
    let private_id = home_id(&c, &alpha.base, &alice, &uris["private"]).await;
    let st = c
        .status_of(
            &format!("{}/api/v1/statuses/{private_id}", alpha.base),
            &dave,
        )
        .await;
    assert_eq!(st, 404, "dave does not follow bob");
    // The Note documents themselves: public ones are served, the others are not.
    for (v, expect) in [
        ("public", 200),
        ("unlisted", 200),
        ("private", 404),
        ("direct", 404),
    ] {
        let r = c
            .http
            .get(&uris[v])
            .header("Accept", "application/activity+json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), expect, "{v} Note document");
    }
    // bob deletes his account on beta: he and his posts vanish from alpha.
    tsunagu::services::federation::delete_local_account(&beta.state.ctx, "bob")
        .await
        .unwrap();
    eventually("bob gone from alpha", async || {
        let st = c
            .status_of(&format!("{}/api/v1/accounts/{bob_id}", alpha.base), &alice)
            .await;
        (st == 404).then_some(())
    })
    .await;
    let home = c
        .get(&format!("{}/api/v1/timelines/home", alpha.base), &alice)
        .await;
    assert!(home.as_array().unwrap().is_empty(), "{home}");
    let st = c
        .status_of(
            &format!("{}/api/v1/accounts/verify_credentials", beta.base),
            &bob,
        )
        .await;
    assert_eq!(st, 401, "bob's token died with his account");
    let r = c
        .http
        .get(format!("{}/users/bob", beta.base))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    for n in nodes {
        n.stop().await;
    }
}

async fn home_id(c: &Client, base: &str, token: &str, uri: &str) -> String {
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
async fn deliver_as(
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
async fn deliver_signed(
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
async fn deliver_signed_response(
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

async fn origins_duplicates_and_actor_deletion(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let alice_uri = format!("{}/users/alice", alpha.base);
    let note = |id: &str, by: &str| {
        json!({
            "id": id, "type": "Note", "attributedTo": by,
            "content": "<p>hello <script>alert(1)</script></p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [],
        })
    };
    let create = |id: &str, object: Value| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": id, "type": "Create", "actor": alice_uri, "object": object,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        })
    };
    // A well-formed Create, delivered twice: stored once, shown once, sanitised.
    let good = create(
        &format!("{}/users/alice/statuses/1/activity", alpha.base),
        note(
            &format!("{}/users/alice/statuses/1", alpha.base),
            &alice_uri,
        ),
    );
    assert_eq!(deliver_as(&c, alpha, "alice", beta, &good).await, 202);
    assert_eq!(
        deliver_as(&c, alpha, "alice", beta, &good).await,
        202,
        "a redelivery is accepted and dropped"
    );
    let shown = eventually("the note on beta's public timeline", async || {
        let tl = c
            .get(&format!("{}/api/v1/timelines/public", beta.base), &bob)
            .await;
        let list = tl.as_array().unwrap().clone();
        (!list.is_empty()).then_some(list)
    })
    .await;
    assert_eq!(shown.len(), 1);
    let content = shown[0]["content"].as_str().unwrap();
    assert!(
        content.contains("hello") && !content.contains("<script"),
        "{content}"
    );

    // An activity id on another origin than its actor: refused at the door.
    let foreign_id = create(
        "http://gamma.test/activities/1",
        note(
            &format!("{}/users/alice/statuses/2", alpha.base),
            &alice_uri,
        ),
    );
    assert_eq!(deliver_as(&c, alpha, "alice", beta, &foreign_id).await, 401);
    // A Note attributed to someone else (CVE-2024-23832): accepted, never stored.
    let forged = create(
        &format!("{}/users/alice/statuses/3/activity", alpha.base),
        note(
            "http://gamma.test/users/mallory/statuses/3",
            "http://gamma.test/users/mallory",
        ),
    );
    assert_eq!(deliver_as(&c, alpha, "alice", beta, &forged).await, 202);
    let impersonation = create(
        &format!("{}/users/alice/statuses/4/activity", alpha.base),
        note(
            &format!("{}/users/alice/statuses/4", alpha.base),
            &format!("{}/users/bob", beta.base),
        ),
    );
    assert_eq!(
        deliver_as(&c, alpha, "alice", beta, &impersonation).await,
        202
    );
    // A Delete of bob's (local) status by alice: ignored.
    let bobs = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "mine"}),
        )
        .await;
    let delete_other = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{alice_uri}#delete/9"), "type": "Delete", "actor": alice_uri,
        "object": bobs["uri"],
    });
    assert_eq!(
        deliver_as(&c, alpha, "alice", beta, &delete_other).await,
        202
    );
    // Wait until the worker has handled everything stored.
    let ctx = beta.state.ctx.clone();
    eventually("beta's inbox drained", async || {
        let mut conn = ctx.conn().await.unwrap();
        (tsunagu::db::federation::inbound_pending(&mut conn)
            .await
            .unwrap()
            == 0)
            .then_some(())
    })
    .await;
    let tl = c
        .get(&format!("{}/api/v1/timelines/public", beta.base), &bob)
        .await;
    let uris: Vec<&str> = tl
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris.len(),
        2,
        "only the good note and bob's own post: {uris:?}"
    );
    assert!(
        uris.contains(&bobs["uri"].as_str().unwrap()),
        "bob's post survives alice's Delete"
    );

    // alice blocks bob, then lifts the block.
    let alice_on_beta = shown[0]["account"]["id"].as_str().unwrap().to_owned();
    let bob_uri = format!("{}/users/bob", beta.base);
    let block = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{alice_uri}#blocks/1"), "type": "Block", "actor": alice_uri, "object": bob_uri,
    });
    assert_eq!(deliver_as(&c, alpha, "alice", beta, &block).await, 202);
    let rel_url = format!(
        "{}/api/v1/accounts/relationships?id[]={alice_on_beta}",
        beta.base
    );
    eventually("bob sees he is blocked", async || {
        let r = c.get(&rel_url, &bob).await;
        (r[0]["blocked_by"] == true).then_some(())
    })
    .await;
    let unblock = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{alice_uri}#blocks/1/undo"), "type": "Undo", "actor": alice_uri, "object": block,
    });
    assert_eq!(deliver_as(&c, alpha, "alice", beta, &unblock).await, 202);
    eventually("the block is lifted", async || {
        let r = c.get(&rel_url, &bob).await;
        (r[0]["blocked_by"] == false).then_some(())
    })
    .await;

    // alice deletes her account: she and her posts disappear from beta.
    let gone = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{alice_uri}#delete"), "type": "Delete", "actor": alice_uri,
        "object": alice_uri, "to": ["https://www.w3.org/ns/activitystreams#Public"],
    });
    assert_eq!(deliver_as(&c, alpha, "alice", beta, &gone).await, 202);
    eventually("alice's account gone from beta", async || {
        let st = c
            .status_of(
                &format!("{}/api/v1/accounts/{alice_on_beta}", beta.base),
                &bob,
            )
            .await;
        (st == 404).then_some(())
    })
    .await;
    let tl = c
        .get(&format!("{}/api/v1/timelines/public", beta.base), &bob)
        .await;
    assert_eq!(
        tl.as_array().unwrap().len(),
        1,
        "alice's posts went with her"
    );
    for n in nodes {
        n.stop().await;
    }
}

/// The real `tsunagu serve` binary, killable with SIGKILL.
struct Process {
    child: std::process::Child,
}

impl Process {
    fn start(config: &std::path::Path) -> Process {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .args(["serve", "--config"])
            .arg(config)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start tsunagu");
        Process { child }
    }

    fn kill(mut self) {
        // SIGKILL: no shutdown, no flushing, nothing finishes.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

async fn a_sender_killed_mid_fanout_loses_nothing(b: Backend) {
    // alpha runs as its own process; four receivers run in this one.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let alpha_host = format!("alpha.test:{port}");
    let alpha_base = format!("http://{alpha_host}");
    let mut extra = BTreeMap::new();
    extra.insert("alpha.test".to_owned(), format!("127.0.0.1:{port}"));
    let receivers = cluster_with(b, &["r1", "r2", "r3", "r4"], &extra).await;
    let db = TestDb::new(b).await;
    let mut resolve = String::new();
    for r in &receivers {
        let (host, p) = r
            .host()
            .rsplit_once(':')
            .map(|(h, p)| (h.to_owned(), p.to_owned()))
            .unwrap();
        resolve.push_str(&format!("\"{host}\" = \"127.0.0.1:{p}\"\n"));
    }
    let config_path = db.dir.path().join("alpha.toml");
    std::fs::write(
        &config_path,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\ndomain = \"{alpha_host}\"\n\
             [database]\nurl = \"{}\"\n\
             [media]\npath = \"{}\"\n\
             [limits]\napi_requests_per_5min = 100000\n\
             [log]\nlevel = \"warn\"\n\
             [federation]\nmode = \"development\"\n[federation.resolve]\n{resolve}",
            db.url,
            db.dir.path().join("media").display()
        ),
    )
    .unwrap();
    // alice and her token, written straight into alpha's database.
    let mut cfg = test_config(&db);
    cfg.server.domain = alpha_host.clone();
    cfg.federation.mode = FederationMode::Development;
    let alpha_state = AppState::new(cfg).await.unwrap();
    let alpha_setup = Instance {
        name: "alpha".into(),
        base: alpha_base.clone(),
        state: alpha_state,
        stop: None,
        done: None,
        config: test_config(&db),
        db: None,
    };
    let alice = alpha_setup.token("alice").await;
    drop(alpha_setup);

    let mut all = receivers;
    let c = Client {
        http: {
            tsunagu::federation::http::install_tls_provider();
            let mut b = reqwest::Client::builder().timeout(Duration::from_secs(20));
            for r in &all {
                let (h, p) = r
                    .host()
                    .rsplit_once(':')
                    .map(|(h, p)| (h.to_owned(), p.to_owned()))
                    .unwrap();
                b = b.resolve(&h, format!("127.0.0.1:{p}").parse().unwrap());
            }
            b.resolve("alpha.test", format!("127.0.0.1:{port}").parse().unwrap())
                .build()
                .unwrap()
        },
    };
    let mut alpha = Process::start(&config_path);
    eventually("alpha answers", async || {
        let r = c
            .http
            .get(format!("{alpha_base}/health"))
            .send()
            .await
            .ok()?;
        r.status().is_success().then_some(())
    })
    .await;

    // Everyone follows alice.
    let mut tokens = Vec::new();
    for (i, r) in all.iter().enumerate() {
        let t = r.token(&format!("reader{i}")).await;
        let a = c
            .get(
                &format!("{}/api/v1/accounts/lookup?acct=alice@{alpha_host}", r.base),
                &t,
            )
            .await;
        let id = a["id"].as_str().unwrap().to_owned();
        c.post(
            &format!("{}/api/v1/accounts/{id}/follow", r.base),
            &t,
            json!({}),
        )
        .await;
        c.await_following(&r.base, &t, &id).await;
        tokens.push(t);
    }

    // alice posts 20 times; alpha is killed right after the last post is committed.
    let mut uris = Vec::new();
    for i in 0..20 {
        let s = c
            .post(
                &format!("{alpha_base}/api/v1/statuses"),
                &alice,
                json!({"status": format!("news {i}")}),
            )
            .await;
        uris.push(s["uri"].as_str().unwrap().to_owned());
    }
    alpha.kill();
    alpha = Process::start(&config_path);

    for (r, t) in all.iter().zip(&tokens) {
        let got = eventually("every post on every receiver", async || {
            let home = c
                .get(&format!("{}/api/v1/timelines/home?limit=40", r.base), t)
                .await;
            let got: Vec<String> = home
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["uri"].as_str().unwrap().to_owned())
                .collect();
            uris.iter().all(|u| got.contains(u)).then_some(got)
        })
        .await;
        assert_eq!(got.len(), 20, "{}: each post once", r.name);
    }
    alpha.kill();
    for r in all.drain(..) {
        r.stop().await;
    }
    db.drop_db().await;
}

async fn search_resolves_remote_accounts_and_posts(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let dave = alpha.token("dave").await;
    let carol = beta.token("carol").await;
    let post = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &carol,
            json!({"status": "Reunion on 6/8 #alumni"}),
        )
        .await;
    let acct = format!("carol@{}", beta.host());
    let search = async |q: &str, resolve: bool| {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/api/v2/search", alpha.base),
            &[
                ("q", q),
                ("resolve", if resolve { "true" } else { "false" }),
            ],
        )
        .unwrap();
        c.get(url.as_str(), &dave).await
    };
    // Without resolve, alpha knows nothing of carol.
    let r = search(&acct, false).await;
    assert!(r["accounts"].as_array().unwrap().is_empty(), "{r}");
    let r = search(&format!("@{acct}"), true).await;
    assert_eq!(r["accounts"][0]["acct"], acct, "{r}");
    // A post's URL (its id) resolves to the post, stored with its author.
    let uri = post["uri"].as_str().unwrap();
    let r = search(uri, true).await;
    let found = &r["statuses"][0];
    assert_eq!(found["uri"], uri, "{r}");
    assert!(
        found["content"]
            .as_str()
            .unwrap()
            .contains("Reunion on 6/8")
    );
    assert_eq!(found["account"]["acct"], acct);
    // A URL nobody answers finds nothing, and the search still answers.
    let r = search("http://beta.test:1/users/nobody", true).await;
    assert!(r["accounts"].as_array().unwrap().is_empty());
    assert!(r["statuses"].as_array().unwrap().is_empty());
    for n in nodes {
        n.stop().await;
    }
}

/// A remote server with authorized fetch: it serves its actor only to GETs
/// signed by a key it can fetch and verify.
async fn fetches_are_signed_by_the_instance_actor(b: Backend) {
    use axum::http::{HeaderMap, StatusCode};
    let (strict, strict_port, extra) = fake_host("strict").await;
    let nodes = cluster_with(b, &["alpha"], &extra).await;
    let alpha = &nodes[0];
    let dave = alpha.token("dave").await;
    let c = Client::new(&nodes);

    // alpha's instance actor, as any server would fetch it.
    let actor: Value = c
        .http
        .get(format!("{}/actor", alpha.base))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(actor["type"], "Application");
    assert_eq!(actor["id"], format!("{}/actor", alpha.base));
    let alpha_key = tsunagu::federation::signatures::PublicKey::from_pem(
        actor["publicKey"]["publicKeyPem"].as_str().unwrap(),
    )
    .unwrap();
    let key_id = actor["publicKey"]["id"].as_str().unwrap().to_owned();

    let strict_base = format!("http://strict.test:{strict_port}");
    let strict_host = format!("strict.test:{strict_port}");
    let doc = fake_actor(&strict_base, "strict", &public_key_pem());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen2 = seen.clone();
    let app = axum::Router::new().route(
        "/users/strict",
        axum::routing::get(move |headers: HeaderMap| {
            let (doc, seen, alpha_key, key_id, strict_host) = (
                doc.clone(),
                seen2.clone(),
                alpha_key.clone(),
                key_id.clone(),
                strict_host.clone(),
            );
            async move {
                let lookup = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let Some(sig) = lookup("signature") else {
                    return (StatusCode::UNAUTHORIZED, "unsigned".to_owned());
                };
                let sig = tsunagu::federation::signatures::parse_signature_header(&sig).unwrap();
                seen.lock().unwrap().push(sig.key_id.clone());
                let req = tsunagu::federation::signatures::SignedRequest {
                    method: "GET",
                    path_and_query: "/users/strict",
                    authority: &strict_host,
                    header: &lookup,
                    body: None,
                };
                let ok = sig.key_id == key_id
                    && tsunagu::federation::signatures::precheck(
                        &req,
                        &sig,
                        std::time::SystemTime::now(),
                    )
                    .is_ok()
                    && tsunagu::federation::signatures::verify(&req, &sig, &alpha_key).is_ok();
                if ok {
                    (StatusCode::OK, doc.to_string())
                } else {
                    (StatusCode::UNAUTHORIZED, "bad signature".to_owned())
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(strict, app).await.unwrap() });

    let url = reqwest::Url::parse_with_params(
        &format!("{}/api/v2/search", alpha.base),
        &[
            ("q", format!("{strict_base}/users/strict").as_str()),
            ("resolve", "true"),
        ],
    )
    .unwrap();
    let r = c.get(url.as_str(), &dave).await;
    assert_eq!(
        r["accounts"][0]["acct"],
        format!("strict@strict.test:{strict_port}"),
        "{r}"
    );
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [format!("{}/actor#main-key", alpha.base)]
    );
    for n in nodes {
        n.stop().await;
    }
}

/// Two app nodes on one database: alpha's web node (no workers) takes the
/// client API and the inbox; a worker node, serving no traffic, delivers and
/// processes. On PostgreSQL the worker polls only hourly, so everything it
/// does on time was woken by NOTIFY from the other node's commits; SQLite
/// (one node in production) has no cross-process signal and polls every second.
async fn a_web_only_node_and_a_worker_node_share_one_database(b: Backend) {
    let mut nodes = cluster_tweaked(b, &["alpha", "beta"], &BTreeMap::new(), |name, cfg| {
        if name == "alpha" {
            cfg.federation.workers = false;
        }
    })
    .await;
    let mut worker_cfg = nodes[0].config.clone();
    worker_cfg.federation.workers = true;
    worker_cfg.federation.idle_poll_secs = match b {
        Backend::Postgres => 3600,
        Backend::Sqlite => 1,
    };
    let worker_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (_worker_state, worker_stop, worker_done) = serve(worker_listener, worker_cfg).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;

    // Follow (queued by the web node, sent by the worker), Accept (stored by
    // the web node's inbox, processed by the worker).
    c.follow_and_wait(alpha, &alice, &format!("bob@{}", beta.host()))
        .await;

    // Both directions of posts.
    let from_bob = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "posted on beta", "visibility": "public"}),
        )
        .await;
    let uri = from_bob["uri"].as_str().unwrap().to_owned();
    eventually(
        "bob's post reaches alice through the worker node",
        async || {
            let home = c
                .get(&format!("{}/api/v1/timelines/home", alpha.base), &alice)
                .await;
            home.as_array()
                .unwrap()
                .iter()
                .any(|s| s["uri"] == uri.as_str())
                .then_some(())
        },
    )
    .await;
    c.post(
        &format!("{}/api/v1/statuses", alpha.base),
        &alice,
        json!({"status": format!("@bob@{} hello from the web node", beta.host()), "visibility": "public"}),
    )
    .await;
    eventually("alice's mention reaches bob", async || {
        let notes = c
            .get(
                &format!("{}/api/v1/notifications?types[]=mention", beta.base),
                &bob,
            )
            .await;
        (!notes.as_array().unwrap().is_empty()).then_some(())
    })
    .await;

    let _ = worker_stop.send(());
    let _ = worker_done.await;
    for n in nodes.drain(..) {
        n.stop().await;
    }
}

/// alice@alpha reports bob@beta: kept on alpha, and with `forward` sent to
/// beta as a Flag from alpha's instance actor (alice stays anonymous there).
async fn reports_reach_the_reported_accounts_server_as_flags(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let post = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "cheap watches", "visibility": "public"}),
        )
        .await;
    let url = reqwest::Url::parse_with_params(
        &format!("{}/api/v2/search", alpha.base),
        &[("q", post["uri"].as_str().unwrap()), ("resolve", "true")],
    )
    .unwrap();
    let found = c.get(url.as_str(), &alice).await;
    let on_alpha = &found["statuses"][0];
    let (status_id, bob_id) = (
        on_alpha["id"].as_str().unwrap().to_owned(),
        on_alpha["account"]["id"].as_str().unwrap().to_owned(),
    );

    // Not forwarded: stays on alpha.
    let kept = c
        .post(
            &format!("{}/api/v1/reports", alpha.base),
            &alice,
            json!({"account_id": bob_id, "comment": "just for our moderators"}),
        )
        .await;
    assert_eq!(kept["forwarded"], false);
    let forwarded = c
        .post(
            &format!("{}/api/v1/reports", alpha.base),
            &alice,
            json!({"account_id": bob_id, "status_ids": [status_id], "comment": "spam", "category": "spam", "forward": true}),
        )
        .await;
    assert_eq!(forwarded["forwarded"], true, "{forwarded}");
    assert_eq!(forwarded["status_ids"], json!([status_id]));
    assert_eq!(
        tsunagu::services::reports::open(&alpha.state.ctx)
            .await
            .unwrap()
            .len(),
        2
    );

    let on_beta = eventually("the Flag is stored as a report on beta", async || {
        let open = tsunagu::services::reports::open(&beta.state.ctx)
            .await
            .unwrap();
        (!open.is_empty()).then_some(open)
    })
    .await;
    assert_eq!(on_beta.len(), 1, "only the forwarded report travels");
    let r = &on_beta[0];
    assert_eq!(r.target.username, "bob");
    assert!(r.target.local);
    assert_eq!(r.report.comment, "spam");
    assert_eq!(
        r.reporter.ap_id.as_deref(),
        Some(format!("{}/actor", alpha.base).as_str()),
        "the reporter is alpha's instance actor, not alice"
    );
    let bob_post_id = post["id"].as_str().unwrap();
    assert_eq!(r.report.status_ids, format!("[{bob_post_id}]"));
    for n in nodes {
        n.stop().await;
    }
}

/// Resolves a URL through `base`'s search (`resolve=true`) as `token`.
async fn resolve_on(c: &Client, base: &str, token: &str, q: &str) -> Value {
    let url = reqwest::Url::parse_with_params(
        &format!("{base}/api/v2/search"),
        &[("q", q), ("resolve", "true")],
    )
    .unwrap();
    c.get(url.as_str(), token).await
}

/// alice@alpha follows only carol and dave on gamma. carol replies to a post
/// of bob@beta, dave boosts another: alpha has neither post, and fetches both
/// from beta, so the reply has its context and the boost shows.
async fn reply_parents_and_boosted_posts_are_fetched(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta", "gamma"]).await;
    let (alpha, beta, gamma) = (&nodes[0], &nodes[1], &nodes[2]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let carol = gamma.token("carol").await;
    let dave = gamma.token("dave").await;
    for who in ["carol", "dave"] {
        c.follow_and_wait(alpha, &alice, &format!("{who}@{}", gamma.host()))
            .await;
    }
    let question = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "Who is coming to the Kyoto reunion?"}),
        )
        .await;
    let news = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "Our old team won an award"}),
        )
        .await;
    let (question_uri, news_uri) = (
        question["uri"].as_str().unwrap().to_owned(),
        news["uri"].as_str().unwrap().to_owned(),
    );
    let on_gamma = resolve_on(&c, &gamma.base, &carol, &question_uri).await;
    let q_on_gamma = on_gamma["statuses"][0]["id"].as_str().unwrap().to_owned();
    let reply = c
        .post(
            &format!("{}/api/v1/statuses", gamma.base),
            &carol,
            json!({"status": "Me!", "in_reply_to_id": q_on_gamma}),
        )
        .await;
    let reply_uri = reply["uri"].as_str().unwrap().to_owned();
    let n_on_gamma = resolve_on(&c, &gamma.base, &dave, &news_uri).await["statuses"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.post(
        &format!("{}/api/v1/statuses/{n_on_gamma}/reblog", gamma.base),
        &dave,
        json!({}),
    )
    .await;

    // The boost shows in alice's home; the reply (to bob, whom alice does
    // not follow) is on carol's profile, as on Mastodon.
    let home = eventually("the boost reaches alice", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", alpha.base), &alice)
            .await;
        home.as_array()
            .unwrap()
            .iter()
            .any(|s| s["reblog"]["uri"] == news_uri.as_str())
            .then_some(home)
    })
    .await;
    let list = home.as_array().unwrap();
    let carol_on_alpha = c
        .get(
            &format!(
                "{}/api/v1/accounts/lookup?acct=carol@{}",
                alpha.base,
                gamma.host()
            ),
            &alice,
        )
        .await;
    let carol_id = carol_on_alpha["id"].as_str().unwrap().to_owned();
    let reply_on_alpha = eventually("carol's reply reaches alpha", async || {
        let posts = c
            .get(
                &format!("{}/api/v1/accounts/{carol_id}/statuses", alpha.base),
                &alice,
            )
            .await;
        posts
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["uri"] == reply_uri.as_str())
            .cloned()
    })
    .await;
    assert!(
        reply_on_alpha["in_reply_to_id"].is_string(),
        "the parent was fetched and linked: {reply_on_alpha}"
    );
    let ctx = c
        .get(
            &format!(
                "{}/api/v1/statuses/{}/context",
                alpha.base,
                reply_on_alpha["id"].as_str().unwrap()
            ),
            &alice,
        )
        .await;
    assert_eq!(ctx["ancestors"][0]["uri"], question_uri.as_str(), "{ctx}");
    assert_eq!(
        ctx["ancestors"][0]["account"]["acct"],
        format!("bob@{}", beta.host())
    );
    let boost = list
        .iter()
        .find(|s| s["reblog"]["uri"] == news_uri.as_str())
        .unwrap();
    assert_eq!(boost["account"]["acct"], format!("dave@{}", gamma.host()));
    assert!(
        boost["reblog"]["content"]
            .as_str()
            .unwrap()
            .contains("won an award")
    );
    for n in nodes {
        n.stop().await;
    }
}

/// A server that answers every post with a parent it has not shown yet
/// (an endless chain), a two-post loop, and a parent that claims another
/// origin's id: the fetches stop at the bound, the loop ends, the forgery is
/// not stored, and the replies themselves are kept.
async fn reply_chains_are_fetched_within_a_bound(b: Backend) {
    use axum::extract::Path;
    use axum::http::StatusCode;
    let (deep, port, extra) = fake_host("deep").await;
    let nodes = cluster_with(b, &["alpha"], &extra).await;
    let alpha = &nodes[0];
    let dave = alpha.token("dave").await;
    let c = Client::new(&nodes);

    let base = format!("http://deep.test:{port}");
    let actor = fake_actor(&base, "deep", &public_key_pem());
    let fetched = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let note = {
        let (base, fetched) = (base.clone(), fetched.clone());
        move |Path(name): Path<String>| {
            let (base, fetched) = (base.clone(), fetched.clone());
            async move {
                fetched.lock().unwrap().push(name.clone());
                let parent = match name.as_str() {
                    "loop-a" => "loop-b".to_owned(),
                    "loop-b" => "loop-a".to_owned(),
                    "child-of-forged" => "forged".to_owned(),
                    n => match n.parse::<u32>() {
                        Ok(i) => (i + 1).to_string(),
                        Err(_) => return (StatusCode::NOT_FOUND, String::new()),
                    },
                };
                let id = if name == "forged" {
                    "http://evil.test/notes/1".to_owned()
                } else {
                    format!("{base}/notes/{name}")
                };
                let doc = json!({
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": id, "type": "Note",
                    "attributedTo": format!("{base}/users/deep"),
                    "to": ["https://www.w3.org/ns/activitystreams#Public"],
                    "content": format!("<p>note {name}</p>"),
                    "inReplyTo": format!("{base}/notes/{parent}"),
                });
                (StatusCode::OK, doc.to_string())
            }
        }
    };
    let app = axum::Router::new()
        .route(
            "/users/deep",
            axum::routing::get(move || {
                let a = actor.clone();
                async move { a.to_string() }
            }),
        )
        .route("/notes/{name}", axum::routing::get(note));
    tokio::spawn(async move { axum::serve(deep, app).await.unwrap() });

    let context_of = async |q: &str| {
        let r = resolve_on(&c, &alpha.base, &dave, q).await;
        let id = r["statuses"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{q} resolved: {r}"))
            .to_owned();
        c.get(
            &format!("{}/api/v1/statuses/{id}/context", alpha.base),
            &dave,
        )
        .await
    };
    // The endless chain: the post and 8 ancestors, 9 fetches, then it stops.
    let ctx = context_of(&format!("{base}/notes/0")).await;
    let ancestors = ctx["ancestors"].as_array().unwrap();
    assert_eq!(ancestors.len(), 8, "{ctx}");
    assert!(ancestors[0]["content"].as_str().unwrap().contains("note 8"));
    let notes: Vec<String> = fetched.lock().unwrap().drain(..).collect();
    assert_eq!(notes, (0..=8).map(|i| i.to_string()).collect::<Vec<_>>());

    // The loop: both posts stored once, two fetches.
    let ctx = context_of(&format!("{base}/notes/loop-a")).await;
    assert_eq!(ctx["ancestors"].as_array().unwrap().len(), 1, "{ctx}");
    assert_eq!(
        fetched.lock().unwrap().drain(..).collect::<Vec<_>>(),
        ["loop-a", "loop-b"]
    );

    // A parent claiming evil.test's id is refused; the child stays, unlinked.
    let ctx = context_of(&format!("{base}/notes/child-of-forged")).await;
    assert!(ctx["ancestors"].as_array().unwrap().is_empty(), "{ctx}");
    let r = resolve_on(&c, &alpha.base, &dave, "http://evil.test/notes/1").await;
    assert!(r["statuses"].as_array().unwrap().is_empty(), "{r}");
    for n in nodes {
        n.stop().await;
    }
}

/// silent.test accepts connections and never answers. A fetch from it gives
/// up at the client's timeout (10 s) while the API keeps answering; a delivery
/// to it fails the same way and backs the host off, while the same post
/// reaches a live instance without waiting for it.
async fn a_remote_that_never_answers_costs_a_timeout_not_a_hang(b: Backend) {
    let (silent, port, extra) = fake_host("silent").await;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let nodes = cluster_with(b, &["alpha", "beta"], &extra).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;

    // A follower on silent.test (its actor cannot be fetched, so it is written
    // straight into alpha's database, as if it had followed earlier).
    let silent_base = format!("http://silent.test:{port}");
    let doc = fake_actor(&silent_base, "quiet", &public_key_pem());
    let now = chrono::Utc::now().naive_utc();
    let quiet =
        tsunagu::federation::actors::parse_actor(doc["id"].as_str().unwrap(), &doc, now).unwrap();
    let ctx = &alpha.state.ctx;
    let alice_id = c
        .get(
            &format!("{}/api/v1/accounts/verify_credentials", alpha.base),
            &alice,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    let mut conn = ctx.conn().await.unwrap();
    let quiet = tsunagu::db::federation::upsert_remote_account(&mut conn, &quiet)
        .await
        .unwrap();
    tsunagu::db::social::upsert_follow(
        &mut conn,
        &tsunagu::db::models::Follow {
            id: tsunagu::ids::next_id(),
            account_id: quiet.id,
            target_account_id: alice_id,
            show_reblogs: true,
            notify: false,
            pending: false,
            created_at: now,
            uri: Some(format!("{silent_base}/follows/1")),
        },
    )
    .await
    .unwrap();
    drop(conn);
    // bob@beta follows alice too.
    let alice_on_beta = c
        .get(
            &format!(
                "{}/api/v1/accounts/lookup?acct=alice@{}",
                beta.base,
                alpha.host()
            ),
            &bob,
        )
        .await;
    let alice_on_beta = alice_on_beta["id"].as_str().unwrap().to_owned();
    c.post(
        &format!("{}/api/v1/accounts/{alice_on_beta}/follow", beta.base),
        &bob,
        json!({}),
    )
    .await;
    c.await_following(&beta.base, &bob, &alice_on_beta).await;

    // A fetch: the search answers (empty) once the client gives up.
    let started = std::time::Instant::now();
    let search = {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/api/v2/search", alpha.base),
            &[
                ("q", format!("{silent_base}/users/someone").as_str()),
                ("resolve", "true"),
            ],
        )
        .unwrap();
        let (c2, token) = (Client::new(&nodes), alice.clone());
        tokio::spawn(async move { c2.get(url.as_str(), &token).await })
    };
    // Meanwhile the API answers, and a post fans out.
    let post = c
        .post(
            &format!("{}/api/v1/statuses", alpha.base),
            &alice,
            json!({"status": "posted while silent.test hangs"}),
        )
        .await;
    let uri = post["uri"].as_str().unwrap().to_owned();
    eventually("the post reaches bob", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", beta.base), &bob)
            .await;
        home.as_array()
            .unwrap()
            .iter()
            .any(|s| s["uri"] == uri.as_str())
            .then_some(())
    })
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(9),
        "beta's delivery did not wait for silent.test"
    );
    let r = search.await.unwrap();
    let waited = started.elapsed();
    assert!(r["accounts"].as_array().unwrap().is_empty(), "{r}");
    assert!(
        waited >= std::time::Duration::from_secs(9) && waited < std::time::Duration::from_secs(20),
        "the fetch gave up at the 10 s timeout, not sooner or much later: {waited:?}"
    );

    // The delivery to silent.test timed out and the host is backed off.
    let host = format!("silent.test:{port}");
    let state = eventually("silent.test is backed off", async || {
        let (hosts, _) = tsunagu::services::federation::status(ctx).await.unwrap();
        hosts.into_iter().find(|h| h.host == host && h.failures > 0)
    })
    .await;
    assert!(state.breaker_open_until.is_some());
    assert_eq!(state.queued, 1, "the post waits for silent.test's return");
    let err = state.last_error.unwrap_or_default();
    assert!(
        err.contains("timed out") || err.contains("timeout"),
        "{err}"
    );
    for n in nodes {
        n.stop().await;
    }
}

/// bob@beta asks a poll; alice@alpha (a follower) gets it as a Question with
/// its options, votes through the Mastodon API, the vote reaches beta as a
/// named Note, and beta's Update{Question} brings the tallies back to alpha.
async fn polls_and_votes_travel_as_questions(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    c.follow_and_wait(alpha, &alice, &format!("bob@{}", beta.host()))
        .await;
    let asked = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "Which city for the 2027 reunion?",
                   "poll": {"options": ["Tokyo", "Osaka", "Fukuoka"], "expires_in": 86400}}),
        )
        .await;
    let uri = asked["uri"].as_str().unwrap().to_owned();
    let on_alpha = eventually("the poll reaches alice", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", alpha.base), &alice)
            .await;
        home.as_array()
            .unwrap()
            .iter()
            .find(|s| s["uri"] == uri.as_str())
            .cloned()
    })
    .await;
    let poll = &on_alpha["poll"];
    let titles: Vec<&str> = poll["options"]
        .as_array()
        .unwrap_or_else(|| panic!("a poll on alpha: {on_alpha}"))
        .iter()
        .map(|o| o["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Tokyo", "Osaka", "Fukuoka"]);
    assert_eq!(poll["multiple"], false);
    assert_eq!(poll["votes_count"], 0);
    let poll_id = poll["id"].as_str().unwrap().to_owned();
    let voted = c
        .post(
            &format!("{}/api/v1/polls/{poll_id}/votes", alpha.base),
            &alice,
            json!({"choices": ["1"]}),
        )
        .await;
    assert_eq!(voted["voted"], true);
    assert_eq!(voted["own_votes"], json!([1]));

    // beta counts alice's vote...
    let beta_poll = asked["poll"]["id"].as_str().unwrap().to_owned();
    eventually("beta counts alice's vote", async || {
        let p = c
            .get(&format!("{}/api/v1/polls/{beta_poll}", beta.base), &bob)
            .await;
        (p["votes_count"] == 1 && p["options"][1]["votes_count"] == 1).then_some(())
    })
    .await;
    // ...and tells alpha the new tallies (a poll update, not an edit).
    let seen = eventually("alpha shows beta's tallies", async || {
        let p = c
            .get(&format!("{}/api/v1/polls/{poll_id}", alpha.base), &alice)
            .await;
        (p["votes_count"] == 1 && p["voters_count"] == 1).then_some(p)
    })
    .await;
    assert_eq!(seen["options"][1]["votes_count"], 1, "{seen}");
    assert_eq!(seen["own_votes"], json!([1]));
    let st = c
        .get(
            &format!(
                "{}/api/v1/statuses/{}",
                alpha.base,
                on_alpha["id"].as_str().unwrap()
            ),
            &alice,
        )
        .await;
    assert!(
        st["edited_at"].is_null(),
        "new tallies are not an edit: {st}"
    );
    // A second vote on a single-choice poll is refused here already.
    let (status, _) = c
        .call(
            reqwest::Method::POST,
            &format!("{}/api/v1/polls/{poll_id}/votes", alpha.base),
            &alice,
            Some(json!({"choices": ["0"]})),
        )
        .await;
    assert_eq!(status, 422);
    for n in nodes {
        n.stop().await;
    }
}

/// bob@beta posts a described image; alice@alpha sees it as an attachment
/// linked to beta's file, with its description, size, focus and blurhash.
async fn attachments_travel_as_documents(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    c.follow_and_wait(alpha, &alice, &format!("bob@{}", beta.host()))
        .await;

    let png = {
        let img = image::RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    };
    let bob_user = accounts::find_local_by_username(&beta.state.ctx, "bob")
        .await
        .unwrap();
    let media = tsunagu::services::media::upload(
        &beta.state.ctx,
        &bob_user,
        tsunagu::services::media::NewAttachment {
            bytes: png,
            description: Some("The team at the 2019 offsite".into()),
            focus: Some("0.5,-0.25".into()),
        },
    )
    .await
    .unwrap();
    let media_id = media.id.to_string();
    eventually("the upload is processed", async || {
        let m = c
            .get(&format!("{}/api/v1/media/{media_id}", beta.base), &bob)
            .await;
        m["url"].is_string().then_some(())
    })
    .await;
    let post = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "Throwback", "media_ids": [media_id]}),
        )
        .await;
    let on_beta = &post["media_attachments"][0];
    let uri = post["uri"].as_str().unwrap().to_owned();
    let on_alpha = eventually("the post reaches alice", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", alpha.base), &alice)
            .await;
        home.as_array()
            .unwrap()
            .iter()
            .find(|s| s["uri"] == uri.as_str())
            .cloned()
    })
    .await;
    let m = &on_alpha["media_attachments"][0];
    assert_eq!(m["type"], "image", "{on_alpha}");
    assert_eq!(m["remote_url"], on_beta["url"], "linked to beta's file");
    assert_eq!(m["url"], on_beta["url"]);
    assert_eq!(m["description"], "The team at the 2019 offsite");
    assert_eq!(m["blurhash"], on_beta["blurhash"]);
    assert_eq!(m["meta"]["original"]["width"], 64);
    assert_eq!(m["meta"]["focus"]["x"], 0.5);
    assert_eq!(m["meta"]["focus"]["y"], -0.25);
    // The file itself is served by beta, as an image.
    let r = c.http.get(m["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    for n in nodes {
        n.stop().await;
    }
}

/// bob@beta moves to bob2 on newhome.test (a fake server whose actor names
/// bob in `alsoKnownAs`). alice@alpha, who followed bob, now follows bob2,
/// and bob's profile on alpha says where he went. A Move to an account that
/// does not name bob (liar) changes nothing.
async fn a_moved_account_takes_its_followers_along(b: Backend) {
    use axum::http::StatusCode;
    let (home, port, extra) = fake_host("newhome").await;
    let nodes = cluster_with(b, &["alpha", "beta"], &extra).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    beta.token("bob").await;
    let bob_uri = format!("{}/users/bob", beta.base);
    let base = format!("http://newhome.test:{port}");
    let public_pem = public_key_pem();
    let actor = |name: &str, aliases: Vec<String>| {
        let mut doc = fake_actor(&base, name, &public_pem);
        doc["alsoKnownAs"] = json!(aliases);
        doc.to_string()
    };
    let (bob2, liar) = (actor("bob2", vec![bob_uri.clone()]), actor("liar", vec![]));
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, Value)>::new()));
    let rec = received.clone();
    let app = axum::Router::new()
        .route(
            "/users/bob2",
            axum::routing::get(move || {
                let d = bob2.clone();
                async move { d }
            }),
        )
        .route(
            "/users/liar",
            axum::routing::get(move || {
                let d = liar.clone();
                async move { d }
            }),
        )
        .route(
            "/users/{name}/inbox",
            axum::routing::post(
                move |axum::extract::Path(name): axum::extract::Path<String>, body: String| {
                    let rec = rec.clone();
                    async move {
                        rec.lock()
                            .unwrap()
                            .push((name, serde_json::from_str(&body).unwrap_or_default()));
                        StatusCode::ACCEPTED
                    }
                },
            ),
        );
    tokio::spawn(async move { axum::serve(home, app).await.unwrap() });

    let bob_on_alpha = c
        .follow_and_wait(alpha, &alice, &format!("bob@{}", beta.host()))
        .await;

    for (n, target) in [(1, "liar"), (2, "bob2")] {
        let mv = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{bob_uri}#moves/{n}"), "type": "Move",
            "actor": bob_uri, "object": bob_uri, "target": format!("{base}/users/{target}"),
        });
        assert_eq!(deliver_as(&c, beta, "bob", alpha, &mv).await, 202);
    }
    let follow = eventually("alice's Follow reaches bob2", async || {
        received
            .lock()
            .unwrap()
            .iter()
            .find(|(_, a)| a["type"] == "Follow")
            .cloned()
    })
    .await;
    assert_eq!(follow.0, "bob2");
    assert_eq!(follow.1["actor"], format!("{}/users/alice", alpha.base));
    assert!(
        !received.lock().unwrap().iter().any(|(to, _)| to == "liar"),
        "the unverified Move was ignored"
    );
    let old = c
        .get(
            &format!("{}/api/v1/accounts/{bob_on_alpha}", alpha.base),
            &alice,
        )
        .await;
    assert_eq!(
        old["moved"]["acct"],
        format!("bob2@newhome.test:{port}"),
        "{old}"
    );
    let bob2_id = old["moved"]["id"].as_str().unwrap().to_owned();
    let rel = c
        .get(
            &format!(
                "{}/api/v1/accounts/relationships?id[]={bob_on_alpha}&id[]={bob2_id}",
                alpha.base
            ),
            &alice,
        )
        .await;
    assert_eq!(rel[0]["following"], false, "{rel}");
    assert_eq!(rel[1]["requested"], true, "{rel}");
    for n in nodes {
        n.stop().await;
    }
}

/// An org is a Group actor: bob@beta finds acme@alpha through WebFinger,
/// sees a group account, and follows it (accepted at once: not locked).
async fn a_remote_person_follows_an_org(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let office = accounts::create_from_shell(
        &alpha.state.ctx,
        "office",
        "office@alpha.example",
        "correct horse battery",
        true,
    )
    .await
    .unwrap();
    tsunagu::services::orgs::create(
        &alpha.state.ctx,
        &office,
        tsunagu::services::orgs::NewOrg {
            username: "acme".into(),
            display_name: Some("ACME Alumni".into()),
            note: None,
            kind: None,
            parent_id: None,
            locked: None,
        },
    )
    .await
    .unwrap();
    let bob = beta.token("bob").await;
    let acme = c
        .follow_and_wait(beta, &bob, &format!("acme@{}", alpha.host()))
        .await;
    let seen = c
        .get(&format!("{}/api/v1/accounts/{acme}", beta.base), &bob)
        .await;
    assert_eq!(seen["group"], true, "{seen}");
    assert_eq!(seen["display_name"], "ACME Alumni");
    let on_alpha = c
        .get(
            &format!("{}/api/v1/orgs", alpha.base),
            &alpha.token("reader").await,
        )
        .await;
    assert_eq!(on_alpha[0]["account"]["followers_count"], 1, "{on_alpha}");
    // The office renames the org: the follower's server hears (Update{Group}).
    let org_id: i64 = on_alpha[0]["id"].as_str().unwrap().parse().unwrap();
    tsunagu::services::orgs::update(
        &alpha.state.ctx,
        &office,
        org_id,
        tsunagu::services::orgs::OrgUpdate {
            display_name: Some("ACME Alumni Network".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    eventually("beta shows the new name", async || {
        let seen = c
            .get(&format!("{}/api/v1/accounts/{acme}", beta.base), &bob)
            .await;
        (seen["display_name"] == "ACME Alumni Network").then_some(())
    })
    .await;
    for n in nodes {
        n.stop().await;
    }
}

/// Makes `office` (a local person on `node`) an administrator and creates
/// the official org `name` as them (its founder, so its office).
async fn official_org(node: &Instance, office: &str, name: &str) {
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

/// GET `url` signed by `signer`'s key (`keyId`), as an authorized fetch.
async fn signed_get(c: &Client, url: &str, key_pem: &str, key_id: &str) -> u16 {
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
    r.send().await.unwrap().status().as_u16()
}

async fn private_key_of(node: &Instance, name: &str) -> String {
    let mut conn = node.state.ctx.conn().await.unwrap();
    let (a, _) = tsunagu::db::accounts::find_by_acct_key(&mut conn, name)
        .await
        .unwrap()
        .unwrap();
    a.private_key_pem.unwrap()
}

dual!(remote_members_get_members_only_posts_and_followers_get_announcements);

async fn remote_members_get_members_only_posts_and_followers_get_announcements(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta", "gamma"]).await;
    let (alpha, beta, gamma) = (&nodes[0], &nodes[1], &nodes[2]);
    let c = Client::new(&nodes);
    let office = alpha.token("office").await;
    official_org(alpha, "office", "acme").await;
    let orgs = c.get(&format!("{}/api/v1/orgs", alpha.base), &office).await;
    let acme_on_alpha = orgs[0]["id"].as_str().unwrap().to_owned();
    let hanako = alpha.token("hanako").await;
    let invite = c
        .post(
            &format!("{}/api/v1/orgs/{acme_on_alpha}/invites", alpha.base),
            &office,
            json!({}),
        )
        .await;
    let joined = c
        .post(
            &format!(
                "{}/api/v1/orgs/{acme_on_alpha}/membership_requests",
                alpha.base
            ),
            &hanako,
            json!({"invite_code": invite["code"]}),
        )
        .await;
    assert_eq!(joined["state"], "verified");

    // bob on beta asks to join acme@alpha; the office approves on alpha.
    let bob = beta.token("bob").await;
    let acme_acct = format!("acme@{}", alpha.host());
    let acme_on_beta = c
        .get(
            &format!("{}/api/v1/accounts/lookup?acct={acme_acct}", beta.base),
            &bob,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let asked = c
        .post(
            &format!(
                "{}/api/v1/orgs/{acme_on_beta}/membership_requests",
                beta.base
            ),
            &bob,
            json!({"tenure_from": "2010", "tenure_to": "2019-06", "divisions": ["R&D"],
                   "message": "Bob from R&D", "consents": {"directory": true}}),
        )
        .await;
    assert_eq!(asked["state"], "pending", "{asked}");
    let request = eventually("alpha's office sees bob's request", async || {
        let q = c
            .get(
                &format!(
                    "{}/api/v1/orgs/{acme_on_alpha}/membership_requests",
                    alpha.base
                ),
                &office,
            )
            .await;
        q.as_array().unwrap().first().cloned()
    })
    .await;
    assert_eq!(request["tenure_to"], "2019-06");
    assert_eq!(request["divisions"], json!(["R&D"]));
    assert_eq!(request["message"], "Bob from R&D");
    c.post(
        &format!(
            "{}/api/v1/orgs/{acme_on_alpha}/membership_requests/{}/approve",
            alpha.base,
            request["id"].as_str().unwrap()
        ),
        &office,
        json!({}),
    )
    .await;
    eventually("beta learns bob is a member", async || {
        let m = c
            .get(
                &format!("{}/api/v1/orgs/{acme_on_beta}/membership", beta.base),
                &bob,
            )
            .await;
        (m["state"] == "verified").then_some(())
    })
    .await;

    // carol on gamma follows the org and hanako, and is no member.
    let carol = gamma.token("carol").await;
    c.follow_and_wait(gamma, &carol, &acme_acct).await;
    c.follow_and_wait(gamma, &carol, &format!("hanako@{}", alpha.host()))
        .await;

    // hanako posts members-only, then a public post into the org.
    let secret = c
        .post(
            &format!("{}/api/v1/statuses", alpha.base),
            &hanako,
            json!({"status": "Members only: the reunion is on Friday", "visibility": "private", "audience": acme_on_alpha}),
        )
        .await;
    let secret_uri = secret["uri"].as_str().unwrap().to_owned();
    let news = c
        .post(
            &format!("{}/api/v1/statuses", alpha.base),
            &hanako,
            json!({"status": "Public news: ACME opens an Osaka office", "audience": acme_on_alpha}),
        )
        .await;
    let news_uri = news["uri"].as_str().unwrap().to_owned();

    // The remote member sees the members-only post, as private with the org named.
    let seen = eventually("bob's home has the members-only post", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", beta.base), &bob)
            .await;
        home.as_array()
            .unwrap()
            .iter()
            .find(|s| s["uri"] == secret_uri.as_str())
            .cloned()
    })
    .await;
    assert_eq!(seen["visibility"], "private");
    assert_eq!(seen["tsunagu"]["members_only"], true);
    assert_eq!(
        seen["tsunagu"]["audience"]["acct"],
        acme_acct.to_lowercase()
    );
    let org_timeline = c
        .get(
            &format!("{}/api/v1/orgs/{acme_on_beta}/timeline", beta.base),
            &bob,
        )
        .await;
    assert!(
        org_timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["uri"] == secret_uri.as_str())
    );

    // The follower gets the org's announcement of the public post, once,
    // although it came both as Announce{Note} and Announce{Create{Note}}.
    eventually("carol sees acme's announcement", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", gamma.base), &carol)
            .await;
        home.as_array()
            .unwrap()
            .iter()
            .any(|s| {
                s["reblog"]["uri"] == news_uri.as_str()
                    && s["account"]["acct"] == acme_acct.to_lowercase()
            })
            .then_some(())
    })
    .await;
    // The office's own announcement (posted as the org) reaches the follower too.
    let notice = c
        .post(
            &format!("{}/api/v1/orgs/{acme_on_alpha}/statuses", alpha.base),
            &office,
            json!({"status": "ACME alumni homecoming: 5 December", "pinned": true}),
        )
        .await;
    let notice_uri = notice["uri"].as_str().unwrap().to_owned();
    eventually("carol sees the org's own announcement", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", gamma.base), &carol)
            .await;
        home.as_array()
            .unwrap()
            .iter()
            .any(|s| s["uri"] == notice_uri.as_str())
            .then_some(())
    })
    .await;
    // Both forms arrived and were processed.
    let acme_uri = format!("{}/users/acme", alpha.base);
    let forms = eventually("both announce forms processed on gamma", async || {
        let mut conn = gamma.state.ctx.conn().await.unwrap();
        let got = tsunagu::db::federation::received_from(&mut conn, &acme_uri)
            .await
            .unwrap();
        let announces: Vec<_> = got
            .into_iter()
            .filter(|(_, k, done)| k == "Announce" && *done)
            .collect();
        (announces.len() == 2).then_some(announces)
    })
    .await;
    assert!(
        forms.iter().any(|(id, _, _)| id.ends_with("#create")),
        "{forms:?}"
    );
    let reblogs_of_news = |home: &Value| {
        home.as_array()
            .unwrap()
            .iter()
            .filter(|s| s["reblog"]["uri"] == news_uri.as_str())
            .count()
    };
    let home = c
        .get(&format!("{}/api/v1/timelines/home", gamma.base), &carol)
        .await;
    assert_eq!(reblogs_of_news(&home), 1, "one entry for two forms: {home}");
    // ...and never the members-only post, anywhere.
    for path in [
        "/api/v1/timelines/home".to_owned(),
        "/api/v1/timelines/public".to_owned(),
        format!("/api/v2/search?q={}&resolve=true", urlencode(&secret_uri)),
    ] {
        let v = c.get(&format!("{}{path}", gamma.base), &carol).await;
        assert!(!v.to_string().contains(&secret_uri), "{path}: {v}");
    }

    // Fetching the post: unsigned 404; a non-member's server 404; the
    // member's own key 200; the member's instance actor 404 (it would vouch
    // for anyone on its server: tests/federation/security.rs).
    let anon = c
        .http
        .get(&secret_uri)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(anon, 404);
    let instance_key = async |node: &Instance| {
        let mut conn = node.state.ctx.conn().await.unwrap();
        tsunagu::db::federation::instance_keys(&mut conn)
            .await
            .unwrap()
            .unwrap()
            .0
    };
    let gamma_key = instance_key(gamma).await;
    let beta_key = instance_key(beta).await;
    assert_eq!(
        signed_get(
            &c,
            &secret_uri,
            &gamma_key,
            &format!("{}/actor#main-key", gamma.base)
        )
        .await,
        404
    );
    assert_eq!(
        signed_get(
            &c,
            &secret_uri,
            &private_key_of(gamma, "carol").await,
            &format!("{}/users/carol#main-key", gamma.base)
        )
        .await,
        404
    );
    assert_eq!(
        signed_get(
            &c,
            &secret_uri,
            &beta_key,
            &format!("{}/actor#main-key", beta.base)
        )
        .await,
        404
    );
    let bob_key = private_key_of(beta, "bob").await;
    let bob_key_id = format!("{}/users/bob#main-key", beta.base);
    assert_eq!(
        signed_get(&c, &secret_uri, &bob_key, &bob_key_id).await,
        200
    );
    let public_status = c
        .http
        .get(&news_uri)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(public_status, 200, "public posts need no signature");

    // A remote member posts into the org from his own server: the org
    // announces it to its followers (carol on gamma).
    let from_bob = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "R&D alumni meetup next week", "audience": acme_on_beta}),
        )
        .await;
    assert_eq!(
        from_bob["tsunagu"]["audience"]["acct"],
        acme_acct.to_lowercase()
    );
    let from_bob_uri = from_bob["uri"].as_str().unwrap().to_owned();
    eventually("carol sees acme announce bob's post", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", gamma.base), &carol)
            .await;
        home.as_array()
            .unwrap()
            .iter()
            .any(|s| {
                s["reblog"]["uri"] == from_bob_uri.as_str()
                    && s["account"]["acct"] == acme_acct.to_lowercase()
            })
            .then_some(())
    })
    .await;

    // From a plain Mastodon app: bob's private post mentioning the org
    // becomes members-only on alpha, seen by members there and nobody else.
    let question = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": format!("@{acme_acct} is the reunion budget approved?"), "visibility": "private"}),
        )
        .await;
    let question_uri = question["uri"].as_str().unwrap().to_owned();
    let seen = eventually("hanako sees bob's members-only question", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", alpha.base), &hanako)
            .await;
        home.as_array()
            .unwrap()
            .iter()
            .find(|s| s["uri"] == question_uri.as_str())
            .cloned()
    })
    .await;
    assert_eq!(seen["tsunagu"]["members_only"], true, "{seen}");
    assert_eq!(seen["tsunagu"]["audience"]["acct"], "acme");
    let outsider = alpha.token("outsider").await;
    let r = c
        .call(
            reqwest::Method::GET,
            &format!(
                "{}/api/v1/statuses/{}",
                alpha.base,
                seen["id"].as_str().unwrap()
            ),
            &outsider,
            None,
        )
        .await;
    assert_eq!(r.0, 404, "a non-member on alpha: {}", r.1);

    // bob leaves (one action): beta hides the post at once, alpha refuses his fetch.
    let (status, left) = c
        .call(
            reqwest::Method::DELETE,
            &format!("{}/api/v1/orgs/{acme_on_beta}/membership", beta.base),
            &bob,
            None,
        )
        .await;
    assert_eq!(
        (status, left["state"].as_str()),
        (200, Some("left")),
        "{left}"
    );
    let home = c
        .get(&format!("{}/api/v1/timelines/home", beta.base), &bob)
        .await;
    assert!(!home.to_string().contains(&secret_uri), "{home}");
    eventually("alpha hears bob left", async || {
        (signed_get(&c, &secret_uri, &bob_key, &bob_key_id).await == 404).then_some(())
    })
    .await;
    let members = c
        .get(
            &format!("{}/api/v1/orgs/{acme_on_alpha}/members", alpha.base),
            &office,
        )
        .await;
    assert!(!members.to_string().contains("bob"), "{members}");
    for n in nodes {
        n.stop().await;
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

dual!(club_recognition_is_verified_from_another_server);

async fn club_recognition_is_verified_from_another_server(b: Backend) {
    // A fake server whose club claims a recognition acme never gave.
    let (fake, port, extra) = fake_host("clubs").await;
    // Checked afresh on every request here, so the withdrawal shows at once
    // (checks are kept for an hour by default).
    let nodes = cluster_tweaked(b, &["alpha", "beta"], &extra, |_, c| {
        c.federation.recognition_cache_secs = 0
    })
    .await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let office = alpha.token("office").await;
    let taro = alpha.token("taro").await;
    let acme_uri = format!("{}/users/acme", alpha.base);
    official_org(alpha, "office", "acme").await;
    let acme = c.get(&format!("{}/api/v1/orgs", alpha.base), &office).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tennis = c
        .post(
            &format!("{}/api/v1/orgs", alpha.base),
            &taro,
            json!({"username": "acme_tennis", "kind": "club"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.post(
        &format!("{}/api/v1/orgs/{acme}/recognitions/{tennis}", alpha.base),
        &office,
        json!({}),
    )
    .await;

    let fake_base = format!("http://clubs.test:{port}");
    let mut liar = fake_actor(&fake_base, "fakeclub", &public_key_pem());
    liar["type"] = json!("Group");
    liar["tsunaguRecognizedBy"] = json!([acme_uri]);
    let liar = liar.to_string();
    let jrd = json!({
        "subject": format!("acct:fakeclub@clubs.test:{port}"),
        "links": [{"rel": "self", "type": "application/activity+json",
                   "href": format!("{fake_base}/users/fakeclub")}],
    })
    .to_string();
    let app = axum::Router::new()
        .route(
            "/users/fakeclub",
            axum::routing::get(move || {
                let d = liar.clone();
                async move { d }
            }),
        )
        .route(
            "/.well-known/webfinger",
            axum::routing::get(move || {
                let d = jrd.clone();
                async move { d }
            }),
        );
    tokio::spawn(async move { axum::serve(fake, app).await.unwrap() });

    // On beta: the real club is confirmed by acme's own collection; the liar is not.
    let bob = beta.token("bob").await;
    let lookup = async |acct: String| {
        c.get(
            &format!("{}/api/v1/accounts/lookup?acct={acct}", beta.base),
            &bob,
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let tennis_on_beta = lookup(format!("acme_tennis@{}", alpha.host())).await;
    let liar_on_beta = lookup(format!("fakeclub@clubs.test:{port}")).await;
    let recognitions = async |id: &str| {
        c.get(
            &format!("{}/api/v1/orgs/{id}/recognitions", beta.base),
            &bob,
        )
        .await
    };
    let r = recognitions(&tennis_on_beta).await;
    assert_eq!(r["recognized_by"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(
        r["recognized_by"][0]["acct"],
        format!("acme@{}", alpha.host()),
        "{r}"
    );
    let r = recognitions(&liar_on_beta).await;
    assert_eq!(r["recognized_by"], json!([]), "an unbacked claim: {r}");

    // Withdrawn on alpha: beta no longer confirms it.
    let (status, _) = c
        .call(
            reqwest::Method::DELETE,
            &format!("{}/api/v1/orgs/{acme}/recognitions/{tennis}", alpha.base),
            &office,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let r = recognitions(&tennis_on_beta).await;
    assert_eq!(r["recognized_by"], json!([]), "{r}");
    for n in nodes {
        n.stop().await;
    }
}

/// `person` on `home` asks to join the org `acme` on `alpha` and the office
/// approves; returns the org's account id on `home`.
async fn remote_member(
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
struct Collected {
    text: std::sync::Arc<std::sync::Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Collected {
    async fn open(c: &Client, url: &str, token: Option<&str>) -> Collected {
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

    fn close(self) -> String {
        self.task.abort();
        self.text.lock().unwrap().clone()
    }
}

dual!(who_sees_what_by_viewer_visibility_and_path);

/// The done-when table of the orgs issue: hanako (a member of acme@alpha)
/// posts once in each visibility, mentioning taro (alpha) and carol (gamma),
/// who follow her and are no members; every viewer × path says which of the
/// five posts it shows. Letters: p public, u unlisted, f followers-only,
/// m members-only, d direct.
async fn who_sees_what_by_viewer_visibility_and_path(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta", "gamma"]).await;
    let (alpha, beta, gamma) = (&nodes[0], &nodes[1], &nodes[2]);
    let c = Client::new(&nodes);
    let office = alpha.token("office").await;
    official_org(alpha, "office", "acme").await;
    let orgs = c.get(&format!("{}/api/v1/orgs", alpha.base), &office).await;
    let acme = orgs[0]["id"].as_str().unwrap().to_owned();
    let (hanako, shiro, taro) = (
        alpha.token("hanako").await,
        alpha.token("shiro").await,
        alpha.token("taro").await,
    );
    let invite = c
        .post(
            &format!("{}/api/v1/orgs/{acme}/invites", alpha.base),
            &office,
            json!({"max_uses": 2}),
        )
        .await;
    for t in [&hanako, &shiro] {
        let m = c
            .post(
                &format!("{}/api/v1/orgs/{acme}/membership_requests", alpha.base),
                t,
                json!({"invite_code": invite["code"]}),
            )
            .await;
        assert_eq!(m["state"], "verified", "{m}");
    }
    let hanako_id = c
        .get(
            &format!("{}/api/v1/accounts/lookup?acct=hanako", alpha.base),
            &taro,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.post(
        &format!("{}/api/v1/accounts/{hanako_id}/follow", alpha.base),
        &taro,
        json!({}),
    )
    .await;
    let bob = beta.token("bob").await;
    remote_member(&c, (alpha, &office, &acme), beta, &bob).await;
    let carol = gamma.token("carol").await;
    c.follow_and_wait(gamma, &carol, &format!("hanako@{}", alpha.host()))
        .await;

    // Streams open before anything is posted.
    let stream = |node: &Instance, which: &str| format!("{}/api/v1/streaming/{which}", node.base);
    let mut streams = vec![(
        "anonymous",
        Collected::open(&c, &stream(alpha, "public"), None).await,
    )];
    for (who, node, token) in [
        ("follower", alpha, &taro),
        ("member", alpha, &shiro),
        ("office", alpha, &office),
        ("author", alpha, &hanako),
        ("remote member", beta, &bob),
        ("remote non-member", gamma, &carol),
    ] {
        streams.push((
            who,
            Collected::open(&c, &stream(node, "user"), Some(token)).await,
        ));
    }

    // One post per visibility; `members` is `private` with an org audience.
    let mut posts = Vec::new();
    for (letter, visibility) in [
        ('p', "public"),
        ('u', "unlisted"),
        ('f', "private"),
        ('m', "members"),
        ('d', "direct"),
    ] {
        let mut body = json!({
            "status": format!("matrixword {visibility} #matrix @taro @carol@{}", gamma.host()),
            "visibility": if visibility == "members" { "private" } else { visibility },
        });
        if visibility == "members" {
            body["audience"] = json!(acme);
        }
        let s = c
            .post(&format!("{}/api/v1/statuses", alpha.base), &hanako, body)
            .await;
        let uri = s["uri"].as_str().unwrap().to_owned();
        posts.push((letter, s["id"].as_str().unwrap().to_owned(), uri));
    }
    let uri_of = |l: char| posts.iter().find(|p| p.0 == l).unwrap().2.clone();
    let home_of = async |node: &Instance, token: &str| {
        c.get(&format!("{}/api/v1/timelines/home", node.base), token)
            .await
            .to_string()
    };
    eventually("deliveries arrive", async || {
        let b = home_of(beta, &bob).await;
        let g = home_of(gamma, &carol).await;
        (b.contains(&uri_of('m')) && g.contains(&uri_of('d')) && g.contains(&uri_of('f')))
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // What each viewer × path shows, as the letters of the posts seen.
    let fetch = async |url: &str, token: Option<&str>, accept: Option<&str>| {
        let mut r = c.http.get(url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(a) = accept {
            r = r.header("Accept", a);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let letters = |seen: &dyn Fn(&(char, String, String)) -> bool| -> String {
        posts.iter().filter(|p| seen(p)).map(|p| p.0).collect()
    };
    let mut got: Vec<(String, String, String)> = Vec::new();
    let a = &alpha.base;
    let listings = [
        (
            "account",
            format!("{a}/api/v1/accounts/{hanako_id}/statuses"),
        ),
        ("home", format!("{a}/api/v1/timelines/home")),
        ("public", format!("{a}/api/v1/timelines/public")),
        ("tag", format!("{a}/api/v1/timelines/tag/matrix")),
        ("org", format!("{a}/api/v1/orgs/{acme}/timeline")),
        (
            "search",
            format!("{a}/api/v2/search?q=matrixword&type=statuses"),
        ),
        ("notifications", format!("{a}/api/v1/notifications")),
    ];
    for (who, token) in [
        ("anonymous", None),
        ("follower", Some(taro.as_str())),
        ("member", Some(shiro.as_str())),
        ("office", Some(office.as_str())),
        ("author", Some(hanako.as_str())),
    ] {
        for (path, suffix) in [("status", ""), ("context", "/context")] {
            let mut seen = String::new();
            for (l, id, _) in &posts {
                let url = format!("{a}/api/v1/statuses/{id}{suffix}");
                if fetch(&url, token, None).await.0 == 200 {
                    seen.push(*l);
                }
            }
            got.push((who.into(), path.into(), seen));
        }
        for (path, url) in &listings {
            if token.is_none() && matches!(*path, "home" | "notifications") {
                let (status, _) = fetch(url, None, None).await;
                assert_eq!(status, 401, "{path} needs a token");
                continue;
            }
            let (status, text) = fetch(url, token, None).await;
            assert_eq!(status, 200, "{who} {path}: {text}");
            got.push((
                who.into(),
                path.to_string(),
                letters(&|p| text.contains(&p.2)),
            ));
        }
    }
    // The post's own address, anonymously: as ActivityPub and as a browser asks.
    for (path, accept) in [
        ("activitypub", "application/activity+json"),
        ("browser", "text/html"),
    ] {
        let mut seen = String::new();
        for (l, _, uri) in &posts {
            let (status, text) = fetch(uri, None, Some(accept)).await;
            if status == 200 && text.contains("matrixword") {
                seen.push(*l);
            }
        }
        got.push(("anonymous".into(), path.into(), seen));
    }
    let (status, page) = fetch(&format!("{a}/@hanako"), None, Some("text/html")).await;
    assert_eq!(status, 200, "{page}");
    got.push((
        "anonymous".into(),
        "web profile".into(),
        letters(&|p| page.contains(&format!("{}\"", p.1))),
    ));
    // Remote viewers, on their own servers and fetching with their own keys.
    for (who, node, token, name) in [
        ("remote member", beta, &bob, "bob"),
        ("remote non-member", gamma, &carol, "carol"),
    ] {
        let home = home_of(node, token).await;
        got.push((who.into(), "home".into(), letters(&|p| home.contains(&p.2))));
        let notes = c
            .get(&format!("{}/api/v1/notifications", node.base), token)
            .await
            .to_string();
        got.push((
            who.into(),
            "notifications".into(),
            letters(&|p| notes.contains(&p.2)),
        ));
        let mut resolved = String::new();
        let mut fetched = String::new();
        let key = private_key_of(node, name).await;
        let key_id = format!("{}/users/{name}#main-key", node.base);
        for (l, _, uri) in &posts {
            if resolve_on(&c, &node.base, token, uri).await["statuses"]
                .to_string()
                .contains(uri.as_str())
            {
                resolved.push(*l);
            }
            if signed_get(&c, uri, &key, &key_id).await == 200 {
                fetched.push(*l);
            }
        }
        got.push((who.into(), "resolve".into(), resolved));
        got.push((who.into(), "activitypub".into(), fetched));
    }
    for (who, s) in streams {
        let text = s.close();
        got.push((
            who.into(),
            "stream".into(),
            letters(&|p| text.contains(&p.2)),
        ));
    }

    let expected: &[(&str, &[(&str, &str)])] = &[
        (
            "anonymous",
            &[
                ("status", "pu"),
                ("context", "pu"),
                ("account", "pu"),
                ("public", "p"),
                ("tag", "p"),
                ("org", ""),
                ("search", "p"),
                ("activitypub", "pu"),
                ("browser", "pu"),
                ("web profile", "pu"),
                ("stream", "p"),
            ],
        ),
        (
            "follower",
            &[
                ("status", "pufd"),
                ("context", "pufd"),
                ("account", "pufd"),
                ("home", "pufd"),
                ("public", "p"),
                ("tag", "p"),
                ("org", ""),
                ("search", "pufd"),
                ("notifications", "pufd"),
                ("stream", "pufd"),
            ],
        ),
        (
            "member",
            &[
                ("status", "pum"),
                ("context", "pum"),
                ("account", "pum"),
                ("home", "m"),
                ("public", "p"),
                ("tag", "p"),
                ("org", "m"),
                ("search", "pm"),
                ("notifications", ""),
                ("stream", "m"),
            ],
        ),
        (
            "office",
            &[
                ("status", "pum"),
                ("context", "pum"),
                ("account", "pum"),
                ("home", "m"),
                ("public", "p"),
                ("tag", "p"),
                ("org", "m"),
                ("search", "pm"),
                ("notifications", ""),
                ("stream", "m"),
            ],
        ),
        (
            "author",
            &[
                ("status", "pufmd"),
                ("context", "pufmd"),
                ("account", "pufmd"),
                ("home", "pufmd"),
                ("public", "p"),
                ("tag", "p"),
                ("org", "m"),
                ("search", "pufmd"),
                ("notifications", ""),
                ("stream", "pufmd"),
            ],
        ),
        (
            "remote member",
            &[
                ("home", "m"),
                ("notifications", ""),
                ("resolve", "pum"),
                ("activitypub", "pum"),
                ("stream", "m"),
            ],
        ),
        (
            "remote non-member",
            &[
                ("home", "pufd"),
                ("notifications", "pufd"),
                ("resolve", "pufd"),
                ("activitypub", "pufd"),
                ("stream", "pufd"),
            ],
        ),
    ];
    let mut wrong = Vec::new();
    let mut expected_count = 0;
    for (who, paths) in expected {
        for (path, want) in *paths {
            expected_count += 1;
            let have = got
                .iter()
                .find(|(w, p, _)| w == who && p == path)
                .map(|g| g.2.as_str());
            if have != Some(*want) {
                wrong.push(format!("{who} / {path}: want {want:?}, got {have:?}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "viewer × path mismatches:\n{}",
        wrong.join("\n")
    );
    assert_eq!(
        got.len(),
        expected_count,
        "every measured cell is in the table"
    );

    // Counted in the outbox: public and unlisted only.
    let (_, outbox) = fetch(
        &format!("{a}/users/hanako/outbox"),
        None,
        Some("application/activity+json"),
    )
    .await;
    let outbox: Value = serde_json::from_str(&outbox).unwrap();
    assert_eq!(outbox["totalItems"], 2, "{outbox}");
    for n in nodes {
        n.stop().await;
    }
}

dual!(the_org_passes_members_posts_on_to_members_on_other_servers);

/// bob (beta) and carol (gamma) are members of acme@alpha; dave (gamma) is
/// not. bob's members-only posts (our API's audience, and a plain Mastodon
/// app's private mention of the org) reach carol through the org, which
/// passes them on as Announce with the Note inside; dave never sees them.
async fn the_org_passes_members_posts_on_to_members_on_other_servers(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta", "gamma"]).await;
    let (alpha, beta, gamma) = (&nodes[0], &nodes[1], &nodes[2]);
    let c = Client::new(&nodes);
    let office = alpha.token("office").await;
    official_org(alpha, "office", "acme").await;
    let orgs = c.get(&format!("{}/api/v1/orgs", alpha.base), &office).await;
    let acme = orgs[0]["id"].as_str().unwrap().to_owned();
    let (bob, carol, dave) = (
        beta.token("bob").await,
        gamma.token("carol").await,
        gamma.token("dave").await,
    );
    let acme_on_beta = remote_member(&c, (alpha, &office, &acme), beta, &bob).await;
    let acme_on_gamma = remote_member(&c, (alpha, &office, &acme), gamma, &carol).await;
    // dave follows bob: followers-only posts reach him, members-only ones must not.
    c.follow_and_wait(gamma, &dave, &format!("bob@{}", beta.host()))
        .await;

    let explicit = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "Members: R&D reunion budget is approved", "visibility": "private", "audience": acme_on_beta}),
        )
        .await;
    assert_eq!(explicit["tsunagu"]["members_only"], true, "{explicit}");
    // dave stops following bob before the Friendica-style post, which bob
    // also addresses to his followers (those who have it as followers-only
    // keep it so).
    let bob_on_gamma = c
        .get(
            &format!(
                "{}/api/v1/accounts/lookup?acct=bob@{}",
                gamma.base,
                beta.host()
            ),
            &dave,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.post(
        &format!("{}/api/v1/accounts/{bob_on_gamma}/unfollow", gamma.base),
        &dave,
        json!({}),
    )
    .await;
    eventually("beta hears dave unfollowed", async || {
        let me = c
            .get(
                &format!("{}/api/v1/accounts/verify_credentials", beta.base),
                &bob,
            )
            .await;
        (me["followers_count"] == 0).then_some(())
    })
    .await;
    let friendica = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": format!("@acme@{} who brings the cake to the reunion?", alpha.host()), "visibility": "private"}),
        )
        .await;
    let uris = [
        explicit["uri"].as_str().unwrap().to_owned(),
        friendica["uri"].as_str().unwrap().to_owned(),
    ];
    let home_of = async |node: &Instance, token: &str| {
        c.get(&format!("{}/api/v1/timelines/home", node.base), token)
            .await
    };
    let seen = eventually("carol gets both posts through the org", async || {
        let home = home_of(gamma, &carol).await;
        let found: Vec<Value> = uris
            .iter()
            .filter_map(|u| {
                home.as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["uri"] == u.as_str())
                    .cloned()
            })
            .collect();
        (found.len() == 2).then_some(found)
    })
    .await;
    for s in &seen {
        assert_eq!(s["visibility"], "private", "{s}");
        assert_eq!(s["tsunagu"]["members_only"], true, "{s}");
        assert_eq!(s["account"]["acct"], format!("bob@{}", beta.host()));
        assert_eq!(s["tsunagu"]["audience"]["id"], acme_on_gamma.as_str());
    }
    // The org's own members on alpha see them too.
    let on_alpha = c
        .get(
            &format!("{}/api/v1/orgs/{acme}/timeline", alpha.base),
            &office,
        )
        .await
        .to_string();
    assert!(
        uris.iter().all(|u| on_alpha.contains(u.as_str())),
        "{on_alpha}"
    );
    // dave, on the same server as carol and a follower of bob, sees neither.
    for path in [
        "/api/v1/timelines/home".to_owned(),
        "/api/v2/search?q=reunion&type=statuses".to_owned(),
        format!("/api/v1/statuses/{}", seen[0]["id"].as_str().unwrap()),
        format!("/api/v1/statuses/{}", seen[1]["id"].as_str().unwrap()),
    ] {
        let (_, v) = c
            .call(
                reqwest::Method::GET,
                &format!("{}{path}", gamma.base),
                &dave,
                None,
            )
            .await;
        let text = v.to_string();
        assert!(
            uris.iter().all(|u| !text.contains(u.as_str())),
            "{path}: {text}"
        );
    }
    // Only alpha (the group) passed them on: one Announce each, signed by acme.
    let acme_uri = format!("{}/users/acme", alpha.base);
    let mut conn = gamma.state.ctx.conn().await.unwrap();
    let from_acme = tsunagu::db::federation::received_from(&mut conn, &acme_uri)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(
        from_acme.iter().filter(|(_, k, _)| k == "Announce").count(),
        2,
        "{from_acme:?}"
    );

    for n in nodes {
        n.stop().await;
    }
}

dual!(role_changes_graduation_and_answers_by_id_reach_the_members_server);

/// The office changes a remote member's role and graduates him: his server
/// hears each change (Accept{Join} again, with the role and leaving date).
/// Answers that name the Join by id only (as other servers send them) work.
async fn role_changes_graduation_and_answers_by_id_reach_the_members_server(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let office = alpha.token("office").await;
    official_org(alpha, "office", "acme").await;
    let orgs = c.get(&format!("{}/api/v1/orgs", alpha.base), &office).await;
    let acme = orgs[0]["id"].as_str().unwrap().to_owned();
    let bob = beta.token("bob").await;
    let acme_on_beta = remote_member(&c, (alpha, &office, &acme), beta, &bob).await;
    let bob_on_alpha = c
        .get(
            &format!(
                "{}/api/v1/accounts/lookup?acct=bob@{}",
                alpha.base,
                beta.host()
            ),
            &office,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let membership_on_beta = async |token: &str| {
        c.get(
            &format!("{}/api/v1/orgs/{acme_on_beta}/membership", beta.base),
            token,
        )
        .await
    };

    let m = c
        .post(
            &format!(
                "{}/api/v1/orgs/{acme}/members/{bob_on_alpha}/role",
                alpha.base
            ),
            &office,
            json!({"role": "employee"}),
        )
        .await;
    assert_eq!(m["role"], "employee", "{m}");
    eventually("beta hears bob is an employee", async || {
        (membership_on_beta(&bob).await["role"] == "employee").then_some(())
    })
    .await;
    let m = c
        .post(
            &format!(
                "{}/api/v1/orgs/{acme}/members/{bob_on_alpha}/graduate",
                alpha.base
            ),
            &office,
            json!({"left_on": "2026-10-31"}),
        )
        .await;
    assert_eq!(
        (m["role"].as_str(), m["left_on"].as_str()),
        (Some("alumnus"), Some("2026-10-31")),
        "{m}"
    );
    let seen = eventually("beta hears bob graduated", async || {
        let m = membership_on_beta(&bob).await;
        (m["role"] == "alumnus").then_some(m)
    })
    .await;
    assert_eq!(seen["left_on"], "2026-10-31", "{seen}");
    assert_eq!(seen["state"], "verified", "{seen}");

    // bob's consents travel to alpha: listed in the directory for members
    // there while he agrees, gone from it once he withdraws on beta.
    let hanako = alpha.token("hanako").await;
    let invite = c
        .post(
            &format!("{}/api/v1/orgs/{acme}/invites", alpha.base),
            &office,
            json!({}),
        )
        .await;
    c.post(
        &format!("{}/api/v1/orgs/{acme}/membership_requests", alpha.base),
        &hanako,
        json!({"invite_code": invite["code"]}),
    )
    .await;
    let directory = async || {
        c.get(
            &format!("{}/api/v1/orgs/{acme}/members", alpha.base),
            &hanako,
        )
        .await
        .to_string()
    };
    let bob_acct = format!("bob@{}", beta.host());
    assert!(
        directory().await.contains(&bob_acct),
        "{}",
        directory().await
    );
    let m = c
        .post(
            &format!(
                "{}/api/v1/orgs/{acme_on_beta}/membership/consents",
                beta.base
            ),
            &bob,
            json!({"consents": {"directory": false}}),
        )
        .await;
    assert_eq!(m["consents"]["directory"], false, "{m}");
    eventually("alpha hears bob withdrew", async || {
        (!directory().await.contains(&bob_acct)).then_some(())
    })
    .await;
    assert_eq!(
        membership_on_beta(&bob).await["role"],
        "alumnus",
        "the re-sent Join changed nothing else"
    );

    // Two more ask; the group answers each naming only the Join's id.
    let join_id = async |name: &str| {
        let mut conn = beta.state.ctx.conn().await.unwrap();
        let find = async |conn: &mut tsunagu::db::DbConn<'_>, key: &str| {
            tsunagu::db::accounts::find_by_acct_key(conn, key)
                .await
                .unwrap()
                .unwrap()
                .0
                .id
        };
        let person = find(&mut conn, name).await;
        let org = find(&mut conn, &format!("acme@{}", alpha.host())).await;
        tsunagu::db::memberships::find(&mut conn, org, person)
            .await
            .unwrap()
            .unwrap()
            .join_ap_id
            .unwrap()
    };
    let acme_uri = format!("{}/users/acme", alpha.base);
    for (name, kind, state) in [
        ("eve", "Reject", "rejected"),
        ("frank", "Accept", "verified"),
    ] {
        let token = beta.token(name).await;
        let asked = c
            .post(
                &format!(
                    "{}/api/v1/orgs/{acme_on_beta}/membership_requests",
                    beta.base
                ),
                &token,
                json!({}),
            )
            .await;
        assert_eq!(asked["state"], "pending", "{asked}");
        let join = join_id(name).await;
        assert!(join.contains(&format!("/users/{name}#join/")), "{join}");
        let answer = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{acme_uri}#answers/{name}"),
            "type": kind,
            "actor": acme_uri,
            "object": join,
            "tsunaguMembership": {"role": "employee"},
        });
        assert_eq!(deliver_as(&c, alpha, "acme", beta, &answer).await, 202);
        let m = eventually("beta takes the answer by id", async || {
            let m = membership_on_beta(&token).await;
            (m["state"] == state).then_some(m)
        })
        .await;
        if state == "verified" {
            assert_eq!(m["role"], "employee", "{m}");
        }
    }
    for n in nodes {
        n.stop().await;
    }
}

dual!(a_lemmy_community_announce_of_a_page_is_one_post);

/// A real Lemmy `Announce{Create{Page}}` (tests/fixtures/federation/lemmy),
/// replayed from a fake Lemmy server: the Page is fetched from its origin
/// (the embedded copy is not trusted), its title kept, and the community's
/// announce is one boost, also when the same post comes again as
/// Mastodon-style `Announce{Page}` and when the same activity repeats.
async fn a_lemmy_community_announce_of_a_page_is_one_post(b: Backend) {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let (lemmy, port, extra) = fake_host("lemmy").await;
    let nodes = cluster_with(b, &["alpha"], &extra).await;
    let alpha = &nodes[0];
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let base = format!("http://lemmy.test:{port}");
    let real = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/federation/lemmy/announce_create_page.json"),
    )
    .unwrap()
    .replace("http://enterprise.lemmy.ml", &base);
    let announce: Value = serde_json::from_str(&real).unwrap();
    let page = {
        let mut p = announce["object"]["object"].clone();
        p["@context"] = json!("https://www.w3.org/ns/activitystreams");
        p
    };
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let private_pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public_pem = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let community = {
        let id = format!("{base}/c/main");
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": id, "type": "Group", "preferredUsername": "main", "name": "Main",
            "inbox": format!("{id}/inbox"), "followers": format!("{id}/followers"),
            "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": public_pem },
        })
    };
    let person = {
        let mut p = fake_actor(&base, "lemmy_beta", &public_key_pem());
        let id = format!("{base}/u/lemmy_beta");
        p["id"] = json!(id);
        p["inbox"] = json!(format!("{id}/inbox"));
        p["publicKey"]["id"] = json!(format!("{id}#main-key"));
        p["publicKey"]["owner"] = json!(id);
        p
    };
    let serve = |doc: Value| {
        axum::routing::get(move || {
            let d = doc.clone();
            async move { d.to_string() }
        })
    };
    let app = axum::Router::new()
        .route("/c/main", serve(community))
        .route("/u/lemmy_beta", serve(person))
        .route("/post/7", serve(page));
    tokio::spawn(async move { axum::serve(lemmy, app).await.unwrap() });

    let signing_key = tsunagu::federation::signatures::PrivateKey::from_pem(&private_pem).unwrap();
    let key_id = format!("{base}/c/main#main-key");
    let deliver =
        async |activity: &Value| deliver_signed(&c, &signing_key, &key_id, alpha, activity).await;
    let post_uri = format!("{base}/post/7");
    let mastodon_style = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/activities/announce/plain-form"),
        "type": "Announce",
        "actor": format!("{base}/c/main"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [format!("{base}/c/main/followers")],
        "object": post_uri,
    });
    for activity in [&announce, &mastodon_style, &announce] {
        assert_eq!(deliver(activity).await, 202);
    }
    let community_id = eventually("alpha knows the community", async || {
        let (status, v) = c
            .call(
                reqwest::Method::GET,
                &format!(
                    "{}/api/v1/accounts/lookup?acct=main@lemmy.test:{port}",
                    alpha.base
                ),
                &alice,
                None,
            )
            .await;
        (status == 200).then(|| v["id"].as_str().unwrap().to_owned())
    })
    .await;
    let boosts = eventually("both forms processed", async || {
        let mut conn = alpha.state.ctx.conn().await.unwrap();
        let got = tsunagu::db::federation::received_from(&mut conn, &format!("{base}/c/main"))
            .await
            .unwrap();
        drop(conn);
        if got.len() != 2 || got.iter().any(|(_, _, done)| !done) {
            return None;
        }
        let list = c
            .get(
                &format!("{}/api/v1/accounts/{community_id}/statuses", alpha.base),
                &alice,
            )
            .await;
        Some(list)
    })
    .await;
    let boosts = boosts.as_array().unwrap();
    assert_eq!(
        boosts.len(),
        1,
        "one boost for two forms and a repeat: {boosts:?}"
    );
    let original = &boosts[0]["reblog"];
    assert_eq!(original["uri"], post_uri.as_str());
    assert_eq!(original["visibility"], "public");
    assert_eq!(
        original["account"]["acct"],
        format!("lemmy_beta@lemmy.test:{port}")
    );
    assert!(
        original["content"]
            .as_str()
            .unwrap()
            .contains("<strong>post 4</strong>"),
        "the Page's title is kept: {original}"
    );
    assert_eq!(boosts[0]["account"]["group"], true);
    for n in nodes {
        n.stop().await;
    }
}

/// A flood at six times what beta will hold unprocessed (its backlog limit
/// is 20 and its workers are off, so nothing drains meanwhile): beta's
/// client API keeps answering, the excess is refused with 503 and
/// Retry-After, and every accepted activity becomes a post once a worker
/// node runs. A refused sender that retries later gets through.
async fn an_inbound_flood_is_refused_politely_and_loses_nothing(b: Backend) {
    const BACKLOG: usize = 20;
    const FLOOD: usize = 120;
    let mut nodes = cluster_tweaked(b, &["alpha", "beta"], &BTreeMap::new(), |name, cfg| {
        if name == "beta" {
            cfg.federation.workers = false;
            cfg.federation.inbox_backlog = BACKLOG as u64;
        }
    })
    .await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let mut conn = alpha.state.ctx.conn().await.unwrap();
    let (alice, _) = tsunagu::db::accounts::find_by_acct_key(&mut conn, "alice")
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    let key = std::sync::Arc::new(
        tsunagu::federation::signatures::PrivateKey::from_pem(
            alice.private_key_pem.as_deref().unwrap(),
        )
        .unwrap(),
    );
    let alice_uri = format!("{}/users/alice", alpha.base);
    let create = |n: usize| {
        let id = format!("{alice_uri}/statuses/flood{n}");
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{id}/activity"), "type": "Create", "actor": alice_uri,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": id, "type": "Note", "attributedTo": alice_uri,
                "content": format!("<p>flood {n}</p>"),
                "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [],
            },
        })
    };

    // The flood, 24 at a time, while bob uses beta's client API.
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(false);
    let api = {
        let (http, base, bob) = (c.http.clone(), beta.base.clone(), bob.clone());
        tokio::spawn(async move {
            let mut answered = 0;
            loop {
                for path in [
                    "/api/v1/accounts/verify_credentials",
                    "/api/v1/timelines/home",
                ] {
                    let r = http
                        .get(format!("{base}{path}"))
                        .bearer_auth(&bob)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 200, "{path} during the flood");
                    answered += 1;
                }
                if *done_rx.borrow_and_update() {
                    return answered;
                }
            }
        })
    };
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(24));
    let mut sends = Vec::new();
    for n in 0..FLOOD {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let (http, key, key_id) = (c.http.clone(), key.clone(), format!("{alice_uri}#main-key"));
        let (host, base, activity) = (beta.host(), beta.base.clone(), create(n));
        sends.push(tokio::spawn(async move {
            let r = deliver_signed_response(&http, &key, &key_id, &host, &base, &activity).await;
            drop(permit);
            let retry_after = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            (n, r.status().as_u16(), retry_after)
        }));
    }
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for s in sends {
        match s.await.unwrap() {
            (n, 202, _) => accepted.push(n),
            (n, 503, Some(secs)) if secs > 0 => refused.push(n),
            other => panic!("a flooded inbox answered {other:?}"),
        }
    }
    done_tx.send(true).unwrap();
    let answered = api.await.unwrap();
    assert!(answered >= 2, "the client API was used during the flood");
    // The limit is checked before each store, so a few in flight may pass it.
    assert!(
        (BACKLOG..BACKLOG + 24).contains(&accepted.len()),
        "{} accepted",
        accepted.len()
    );
    assert_eq!(accepted.len() + refused.len(), FLOOD);

    // A worker node on beta's database processes everything accepted.
    let mut worker_cfg = nodes[1].config.clone();
    worker_cfg.federation.workers = true;
    worker_cfg.federation.idle_poll_secs = 1;
    let worker_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (worker, worker_stop, worker_done) = serve(worker_listener, worker_cfg).await;
    let status_of = async |n: usize| {
        let mut conn = worker.ctx.conn().await.unwrap();
        tsunagu::db::statuses::find_by_uri(&mut conn, &format!("{alice_uri}/statuses/flood{n}"))
            .await
            .unwrap()
    };
    eventually("every accepted activity is processed", async || {
        let mut conn = worker.ctx.conn().await.unwrap();
        (tsunagu::db::federation::inbound_pending(&mut conn)
            .await
            .unwrap()
            == 0)
            .then_some(())
    })
    .await;
    for &n in &accepted {
        assert!(status_of(n).await.is_some(), "accepted flood{n} was lost");
    }
    for &n in &refused {
        assert!(status_of(n).await.is_none(), "refused flood{n} was stored");
    }

    // The sender retries after the backlog drained: taken.
    let retried = refused[0];
    eventually("a retried delivery is accepted", async || {
        let r = deliver_signed_response(
            &c.http,
            &key,
            &format!("{alice_uri}#main-key"),
            &nodes[1].host(),
            &nodes[1].base,
            &create(retried),
        )
        .await;
        (r.status().as_u16() == 202).then_some(())
    })
    .await;
    eventually("the retried activity becomes a post", async || {
        status_of(retried).await.map(|_| ())
    })
    .await;

    let _ = worker_stop.send(());
    let _ = worker_done.await;
    for n in nodes.drain(..) {
        n.stop().await;
    }
}
