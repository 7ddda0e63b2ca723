//! Regression tests for the findings of the security review (issue 14) that
//! need other servers: real instances on loopback and a hostile fake server
//! that records every request made to it. Each test is named after its
//! finding and fails on the code before the fix.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};
use tsunagu::federation::signatures::PrivateKey;

use super::common::Backend;
use super::{
    Client, Instance, OrgOn, cluster_with, deliver_signed, eventually, fake_host, private_key_of,
    remote_member, signed_get,
};
use crate::dual;

/// A hostile server on loopback: serves the actors and objects it is given,
/// answers 404 to anything else, and records every request (path and
/// headers) so a test can see what our servers asked of it. Paths under
/// `/slow/` answer nothing for a minute; paths under `/flaky/` answer 503
/// while `flaky` counts down.
struct Hostile {
    base: String,
    host: String,
    key: PrivateKey,
    public_pem: String,
    seen: Arc<Mutex<Vec<(String, HeaderMap)>>>,
    docs: Arc<Mutex<std::collections::HashMap<String, Value>>>,
    /// Requests under `/slow/` open now, and the most ever open at once.
    slow: Arc<(AtomicUsize, AtomicUsize)>,
    /// How many more requests under `/flaky/` get a 503.
    flaky: Arc<AtomicUsize>,
}

/// Counts an open slow request until it is answered or dropped.
struct SlowGuard(Arc<(AtomicUsize, AtomicUsize)>);

impl SlowGuard {
    fn enter(slow: Arc<(AtomicUsize, AtomicUsize)>) -> SlowGuard {
        let now = slow.0.fetch_add(1, Ordering::SeqCst) + 1;
        slow.1.fetch_max(now, Ordering::SeqCst);
        SlowGuard(slow)
    }
}

impl Drop for SlowGuard {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Hostile {
    async fn start(name: &str) -> (Hostile, std::collections::BTreeMap<String, String>) {
        let (listener, port, extra) = fake_host(name).await;
        let (private_pem, public_pem) = keypair();
        let base = format!("http://{name}.test:{port}");
        let seen: Arc<Mutex<Vec<(String, HeaderMap)>>> = Arc::default();
        let docs: Arc<Mutex<std::collections::HashMap<String, Value>>> = Arc::default();
        let mallory = super::fake_actor(&base, "mallory", &public_pem);
        let mut club = super::fake_actor(&base, "club", &public_pem);
        club["type"] = json!("Group");
        docs.lock()
            .unwrap()
            .insert("/users/mallory".into(), mallory);
        docs.lock().unwrap().insert("/users/club".into(), club);
        let slow: Arc<(AtomicUsize, AtomicUsize)> = Arc::default();
        let flaky: Arc<AtomicUsize> = Arc::default();
        let (seen2, docs2, slow2, flaky2) =
            (seen.clone(), docs.clone(), slow.clone(), flaky.clone());
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let (seen, docs, slow, flaky) =
                (seen2.clone(), docs2.clone(), slow2.clone(), flaky2.clone());
            async move {
                let path = uri.path().to_owned();
                seen.lock().unwrap().push((path.clone(), headers));
                if path.starts_with("/slow/") {
                    let _open = SlowGuard::enter(slow);
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                }
                if path.starts_with("/flaky/")
                    && flaky
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                {
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [("content-type", "text/plain")],
                        "down for a moment".to_owned(),
                    );
                }
                match docs.lock().unwrap().get(&path) {
                    Some(doc) => (
                        StatusCode::OK,
                        [("content-type", "application/activity+json")],
                        doc.to_string(),
                    ),
                    None => (
                        StatusCode::NOT_FOUND,
                        [("content-type", "text/plain")],
                        "not here".to_owned(),
                    ),
                }
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let hostile = Hostile {
            host: format!("{name}.test:{port}"),
            base,
            key: PrivateKey::from_pem(&private_pem).unwrap(),
            public_pem,
            seen,
            docs,
            slow,
            flaky,
        };
        (hostile, extra)
    }

    fn actor(&self) -> String {
        format!("{}/users/mallory", self.base)
    }

    fn key_id(&self) -> String {
        format!("{}#main-key", self.actor())
    }

    fn serve(&self, path: &str, doc: Value) {
        self.docs.lock().unwrap().insert(path.to_owned(), doc);
    }

    /// The requests made of this server so far, whose path starts with `prefix`.
    fn requests(&self, prefix: &str) -> Vec<(String, HeaderMap)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Delivers `activity` to `to`'s shared inbox, signed as mallory.
    async fn deliver(&self, c: &Client, to: &Instance, activity: &Value) -> u16 {
        deliver_signed(c, &self.key, &self.key_id(), to, activity).await
    }
}

fn keypair() -> (String, String) {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let k = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    (
        k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        k.to_public_key().to_public_key_pem(LineEnding::LF).unwrap(),
    )
}

/// A GET sent as raw HTTP/1.1 to `node`'s address with whatever `Host` and
/// other headers the caller chooses (a replay needs the captured ones).
async fn raw_get(node: &Instance, path: &str, headers: &[(&str, String)]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = node.host().rsplit_once(':').unwrap().1.to_owned();
    let mut s = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// An org `acme` on `alpha` with its office and hanako (local, verified via an
/// invite) and `bob` on `beta` (remote, approved by the office). Returns the
/// tokens of the office, hanako and bob, and the org's id on alpha.
struct Org {
    office: String,
    hanako: String,
    bob: String,
    acme_on_alpha: String,
}

async fn org_with_members(c: &Client, alpha: &Instance, beta: &Instance) -> Org {
    let org = OrgOn::official(c, alpha, "acme").await;
    let hanako = alpha.token("hanako").await;
    org.join_by_invite(c, alpha, &[&hanako]).await;
    let OrgOn {
        office,
        id: acme_on_alpha,
    } = org;
    let bob = beta.token("bob").await;
    remote_member(c, (alpha, &office, &acme_on_alpha), beta, &bob).await;
    Org {
        office,
        hanako,
        bob,
        acme_on_alpha,
    }
}

/// hanako's members-only post into acme; returns its URI.
async fn members_only_post(c: &Client, alpha: &Instance, org: &Org, text: &str) -> String {
    let secret = c
        .post(
            &format!("{}/api/v1/statuses", alpha.base),
            &org.hanako,
            json!({"status": text, "visibility": "private", "audience": org.acme_on_alpha}),
        )
        .await;
    assert_eq!(secret["tsunagu"]["members_only"], true, "{secret}");
    secret["uri"].as_str().unwrap().to_owned()
}

dual!(a_signed_get_captured_by_a_hostile_server_cannot_be_replayed_to_read_members_only_posts);

/// Finding 2: mallory makes beta (where a member of acme lives) fetch a URL
/// on mallory's own server with the path of a members-only post on alpha,
/// captures beta's instance-actor signature, and replays it to alpha with
/// the captured `Host`. alpha used to answer 200 with the post: it never
/// compared the signed host with its own, and any instance actor on a
/// member's domain was trusted.
async fn a_signed_get_captured_by_a_hostile_server_cannot_be_replayed_to_read_members_only_posts(
    b: Backend,
) {
    let (evil, extra) = Hostile::start("evil").await;
    let nodes = cluster_with(b, &["alpha", "beta"], &extra).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let org = org_with_members(&c, alpha, beta).await;
    let secret_uri = members_only_post(&c, alpha, &org, "Members only: salaries").await;
    let path = secret_uri.strip_prefix(&alpha.base).unwrap().to_owned();

    // 1. A delivery to beta whose actor is mallory's server at the post's path.
    let bait_actor = format!("{}{path}", evil.base);
    let bait = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#follow-bait", evil.actor()),
        "type": "Follow",
        "actor": bait_actor,
        "object": format!("{}/users/bob", beta.base),
    });
    let key_id = format!("{bait_actor}#main-key");
    let status = deliver_signed(&c, &evil.key, &key_id, beta, &bait).await;
    assert_eq!(status, 401, "beta cannot use the bait actor");
    let captured = evil.requests(&path);
    assert_eq!(
        captured.len(),
        1,
        "beta fetched the bait (as any server would)"
    );
    let headers = &captured[0].1;
    let header = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
    assert!(header("signature").contains(&format!("{}/actor#main-key", beta.base)));

    // 2. The replay: beta's signature, beta's date, mallory's host, alpha's address.
    let (status, body) = raw_get(
        alpha,
        &path,
        &[
            ("Host", evil.host.clone()),
            ("Accept", "application/activity+json".into()),
            ("Date", header("date")),
            ("Signature", header("signature")),
        ],
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("salaries"), "{body}");

    // 3. Even a signature beta's instance actor made for alpha itself opens
    //    nothing: an instance actor vouches for no one.
    let beta_instance_key = {
        let mut conn = beta.state.ctx.conn().await.unwrap();
        tsunagu::db::federation::instance_keys(&mut conn)
            .await
            .unwrap()
            .unwrap()
            .0
    };
    // alpha knows beta's instance actor (it signed the fetches of bob's Join).
    let beta_actor = format!("{}/actor", beta.base);
    let _ = c
        .http
        .get(format!(
            "{}/api/v2/search?q={}&resolve=true",
            alpha.base,
            super::urlencode(&beta_actor)
        ))
        .bearer_auth(&org.office)
        .send()
        .await
        .unwrap();
    assert_eq!(
        signed_get(
            &c,
            &secret_uri,
            &beta_instance_key,
            &format!("{beta_actor}#main-key")
        )
        .await,
        404
    );
    // The member herself still reads it with her own key.
    assert_eq!(
        signed_get(
            &c,
            &secret_uri,
            &private_key_of(beta, "bob").await,
            &format!("{}/users/bob#main-key", beta.base)
        )
        .await,
        200
    );

    // 4. A signed GET naming an unknown key makes alpha fetch nothing.
    let before = evil.seen.lock().unwrap().len();
    let (private_pem, _) = keypair();
    assert_eq!(
        signed_get(
            &c,
            &secret_uri,
            &private_pem,
            &format!("{}/users/stranger#main-key", evil.base)
        )
        .await,
        404
    );
    assert_eq!(
        evil.seen.lock().unwrap().len(),
        before,
        "no fetch for a GET"
    );

    // 5. An inbox delivery whose key is not on its actor's origin is refused
    //    before anything is fetched.
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#follow-1", evil.actor()),
        "type": "Follow",
        "actor": evil.actor(),
        "object": format!("{}/users/hanako", alpha.base),
    });
    let before = evil.seen.lock().unwrap().len();
    let status = deliver_signed(
        &c,
        &evil.key,
        &format!("{}/users/hanako#main-key", alpha.base),
        alpha,
        &follow,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(evil.seen.lock().unwrap().len(), before);
    let _ = org.bob;
    for n in nodes {
        n.stop().await;
    }
}

dual!(javascript_urls_from_remote_documents_never_reach_links);

/// Finding 7: a remote actor's (or Note's) `url` was stored without a scheme
/// check; a local mention of that actor rendered `<a href="javascript:...">`
/// in `content`, which apps trust, and the API handed the URL out as is.
async fn javascript_urls_from_remote_documents_never_reach_links(b: Backend) {
    let (evil, extra) = Hostile::start("evil").await;
    let nodes = cluster_with(b, &["alpha"], &extra).await;
    let alpha = &nodes[0];
    let c = Client::new(&nodes);
    let hanako = alpha.token("hanako").await;
    let mut actor = evil.docs.lock().unwrap()["/users/mallory"].clone();
    actor["url"] = json!("javascript:alert(document.cookie)");
    actor["icon"] = json!({"type": "Image", "url": "javascript:alert(2)"});
    evil.serve("/users/mallory", actor);
    let note_id = format!("{}/notes/1", evil.base);
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{note_id}/activity"),
        "type": "Create",
        "actor": evil.actor(),
        "object": {
            "id": note_id, "type": "Note", "attributedTo": evil.actor(),
            "url": [{"type": "Link", "href": "javascript:alert(3)"}, "vbscript:x"],
            "content": "<p>hello <a href=\"javascript:alert(4)\">click</a></p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "tag": [{"type": "Mention", "href": format!("{}/users/hanako", alpha.base)}],
        },
    });
    assert_eq!(evil.deliver(&c, alpha, &create).await, 202);
    let note = eventually("mallory's note is stored", async || {
        let n = c
            .get(&format!("{}/api/v1/notifications", alpha.base), &hanako)
            .await;
        n.as_array()
            .unwrap()
            .iter()
            .find(|n| n["type"] == "mention")
            .cloned()
    })
    .await;
    assert!(!note.to_string().contains("javascript:"), "{note}");
    assert!(!note.to_string().contains("vbscript:"), "{note}");
    assert_eq!(
        note["status"]["url"], note_id,
        "the id stands in for a bad url"
    );
    assert_eq!(note["account"]["url"], evil.actor());
    // A local mention of mallory links to the actor, never to the script.
    let acct = format!("mallory@{}", evil.host);
    let post = c
        .post(
            &format!("{}/api/v1/statuses", alpha.base),
            &hanako,
            json!({"status": format!("hi @{acct}")}),
        )
        .await;
    let content = post["content"].as_str().unwrap();
    assert!(!content.contains("javascript:"), "{content}");
    assert!(
        content.contains(&format!("href=\"{}\"", evil.actor())),
        "{content}"
    );
    let account = c
        .get(
            &format!("{}/api/v1/accounts/lookup?acct={acct}", alpha.base),
            &hanako,
        )
        .await;
    assert!(!account.to_string().contains("javascript:"), "{account}");
    for n in nodes {
        n.stop().await;
    }
}

dual!(anonymous_requests_never_make_the_server_fetch);

/// Finding 9: one anonymous `GET /api/v1/orgs/:remote_club/recognitions` made
/// 61 outbound fetches (a club naming 20 official orgs), and an anonymous
/// lookup of an unknown `user@host` made the server ask that host.
async fn anonymous_requests_never_make_the_server_fetch(b: Backend) {
    let (evil, extra) = Hostile::start("evil").await;
    let nodes = cluster_with(b, &["alpha"], &extra).await;
    let alpha = &nodes[0];
    let c = Client::new(&nodes);
    let hanako = alpha.token("hanako").await;
    // A club on the hostile server claiming 20 official orgs, each of which
    // (being the same server) happily confirms it.
    let pem = evil.public_pem.clone();
    let club_uri = format!("{}/users/club", evil.base);
    let mut club = super::fake_actor(&evil.base, "club", &pem);
    club["type"] = json!("Group");
    let officials: Vec<String> = (0..20)
        .map(|i| format!("{}/users/o{i}", evil.base))
        .collect();
    club["tsunaguRecognizedBy"] = json!(officials);
    evil.serve("/users/club", club);
    for i in 0..20 {
        let mut o = super::fake_actor(&evil.base, &format!("o{i}"), &pem);
        o["type"] = json!("Group");
        o["tsunaguRecognized"] = json!(format!("{}/users/o{i}/recognized", evil.base));
        evil.serve(&format!("/users/o{i}"), o);
        evil.serve(
            &format!("/users/o{i}/recognized"),
            json!({"type": "OrderedCollection", "orderedItems": [club_uri]}),
        );
    }
    evil.serve(
        "/.well-known/webfinger",
        json!({"subject": format!("acct:club@{}", evil.host),
               "links": [{"rel": "self", "type": "application/activity+json", "href": club_uri}]}),
    );
    let fetched = || evil.seen.lock().unwrap().len();
    let lookup = format!(
        "{}/api/v1/accounts/lookup?acct=club@{}",
        alpha.base, evil.host
    );

    // Anonymous: an unknown remote account is not looked for.
    let r = c.http.get(&lookup).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(fetched(), 0, "an anonymous lookup fetched");
    // Signed in: it is (WebFinger, then the actor).
    let club_on_alpha = c.get(&lookup, &hanako).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = fetched();
    assert!(before >= 2);

    // Anonymous recognitions of a remote club: refused, nothing fetched.
    let url = format!("{}/api/v1/orgs/{club_on_alpha}/recognitions", alpha.base);
    let r = c.http.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(fetched(), before, "an anonymous request fetched");
    // Signed in: a bounded number of fetches, however many claims.
    let r = c.get(&url, &hanako).await;
    let confirmed = r["recognized_by"].as_array().unwrap().len();
    let spent = fetched() - before;
    // The club, then each official org and its collection: three confirmed.
    assert_eq!(spent, 7, "fetches for one request");
    assert_eq!(confirmed, 3, "{r}");
    // And kept: asking again fetches nothing.
    let again = c.get(&url, &hanako).await;
    assert_eq!(again["recognized_by"], r["recognized_by"]);
    assert_eq!(fetched() - before, spent, "the answer was fetched again");
    for n in nodes {
        n.stop().await;
    }
}

dual!(a_remote_group_cannot_put_words_in_the_mouth_of_people_elsewhere);

/// Finding 4: a Group on a hostile server that someone here joined announced
/// an embedded members-only Note attributed to dave@beta, with an id on
/// beta's origin, and we stored it as dave's post. A group vouches only for
/// objects on its own origin.
async fn a_remote_group_cannot_put_words_in_the_mouth_of_people_elsewhere(b: Backend) {
    let (evil, extra) = Hostile::start("evil").await;
    let nodes = cluster_with(b, &["alpha", "beta"], &extra).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let hanako = alpha.token("hanako").await;
    beta.token("dave").await;
    // hanako is a verified member of the hostile club.
    let club_uri = format!("{}/users/club", evil.base);
    evil.serve(
        "/.well-known/webfinger",
        json!({"subject": format!("acct:club@{}", evil.host),
               "links": [{"rel": "self", "type": "application/activity+json", "href": club_uri}]}),
    );
    let club_on_alpha: i64 = c
        .get(
            &format!(
                "{}/api/v1/accounts/lookup?acct=club@{}",
                alpha.base, evil.host
            ),
            &hanako,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let ctx = &alpha.state.ctx;
    let mut conn = ctx.conn().await.unwrap();
    let (hanako_account, _) = tsunagu::db::accounts::find_by_acct_key(&mut conn, "hanako")
        .await
        .unwrap()
        .unwrap();
    tsunagu::db::memberships::save(
        &mut conn,
        &tsunagu::services::memberships::new_membership(
            club_on_alpha,
            hanako_account.id,
            tsunagu::domain::Role::Alumnus,
            tsunagu::domain::MembershipState::Verified,
            tsunagu::domain::Via::Remote,
        ),
    )
    .await
    .unwrap();
    drop(conn);
    let members = format!("{club_uri}/members");
    let announce = |n: u32, note: Value| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{club_uri}#announce/{n}"),
            "type": "Announce",
            "actor": club_uri,
            "to": [members],
            "object": note,
        })
    };
    let dave = format!("{}/users/dave", beta.base);
    let forged_uri = format!("{dave}/statuses/999");
    let forged = json!({
        "id": forged_uri, "type": "Note", "attributedTo": dave,
        "content": "<p>I, dave, endorse the club's fund. Send money.</p>",
        "audience": club_uri, "to": [members],
    });
    // Plain, and with a "proof" made with the club's own key in dave's name.
    let mut with_proof = forged.clone();
    with_proof["id"] = json!(format!("{dave}/statuses/998"));
    tsunagu::federation::proofs::attach(
        &mut with_proof,
        &evil.key,
        &format!("{dave}#main-key"),
        "2026-12-02T00:00:00Z",
    );
    let key_id = format!("{club_uri}#main-key");
    for (n, note) in [(1, forged), (2, with_proof.clone())] {
        let status = deliver_signed(&c, &evil.key, &key_id, alpha, &announce(n, note)).await;
        assert_eq!(status, 202);
    }
    // A control the club may vouch for: a Note on its own origin.
    let own_uri = format!("{}/users/mallory/statuses/1", evil.base);
    let own = json!({
        "id": own_uri, "type": "Note", "attributedTo": evil.actor(),
        "content": "<p>club news</p>", "audience": club_uri, "to": [members],
    });
    assert_eq!(
        deliver_signed(&c, &evil.key, &key_id, alpha, &announce(3, own)).await,
        202
    );
    let stored = async |uri: &str| {
        let mut conn = ctx.conn().await.unwrap();
        tsunagu::db::statuses::find_by_uri(&mut conn, uri)
            .await
            .unwrap()
    };
    let kept = eventually("the club's own post is taken", async || {
        stored(&own_uri).await
    })
    .await;
    assert_eq!(kept.visibility, tsunagu::domain::Visibility::Members);
    // Processed before it (one actor's activities keep their order): dropped.
    assert!(
        stored(&forged_uri).await.is_none(),
        "dave's words were forged"
    );
    assert!(
        stored(with_proof["id"].as_str().unwrap()).await.is_none(),
        "a proof by the wrong key was taken"
    );
    for n in nodes {
        n.stop().await;
    }
}

dual!(inbox_refusals_do_not_describe_the_network_behind_the_server);

/// Finding 15: the inbox's 401 repeated the fetch error ("connection
/// refused", the address and port), so a sender could map which ports are
/// open behind the server. Now every failure reads the same.
async fn inbox_refusals_do_not_describe_the_network_behind_the_server(b: Backend) {
    let (evil, mut extra) = Hostile::start("evil").await;
    // A port nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    extra.insert("dead.test".into(), format!("127.0.0.1:{closed}"));
    let nodes = cluster_with(b, &["alpha"], &extra).await;
    let alpha = &nodes[0];
    let c = Client::new(&nodes);
    alpha.token("hanako").await;
    let probe = async |actor: String| {
        let follow = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{actor}#follow"),
            "type": "Follow",
            "actor": actor,
            "object": format!("{}/users/hanako", alpha.base),
        });
        let r = super::deliver_signed_response(
            &c.http,
            &evil.key,
            &format!("{actor}#main-key"),
            &alpha.host(),
            &alpha.base,
            &follow,
        )
        .await;
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let (closed_status, closed_body) = probe(format!("http://dead.test:{closed}/users/x")).await;
    let (open_status, open_body) = probe(format!("{}/users/nobody", evil.base)).await;
    assert_eq!((closed_status, open_status), (401, 401));
    assert_eq!(closed_body, open_body, "open and closed ports look alike");
    for leak in [
        "refused",
        "dead.test",
        &closed.to_string(),
        "127.0.0.1",
        "404",
        "connect",
        "sending",
    ] {
        assert!(!closed_body.contains(leak), "{leak} in {closed_body}");
    }
    for n in nodes {
        n.stop().await;
    }
}

dual!(one_slow_host_cannot_stall_the_inbox_for_everyone);

/// Finding 10: one worker processed activities one at a time, each allowed a
/// 20 s fetch budget, so three cheap deliveries from a hostile server (each
/// naming a reply parent that never answers) delayed an honest Follow by
/// 57 s. Now activities run side by side, a few per remote host.
async fn one_slow_host_cannot_stall_the_inbox_for_everyone(b: Backend) {
    let (evil, extra) = Hostile::start("evil").await;
    let nodes = cluster_with(b, &["alpha", "beta"], &extra).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let hanako = alpha.token("hanako").await;
    let bob = beta.token("bob").await;
    let actors: Vec<String> = (0..4)
        .map(|i| {
            let name = format!("m{i}");
            evil.serve(
                &format!("/users/{name}"),
                super::fake_actor(&evil.base, &name, &evil.public_pem),
            );
            format!("{}/users/{name}", evil.base)
        })
        .collect();
    for (i, actor) in actors.iter().enumerate() {
        let note = format!("{actor}/notes/{i}");
        let create = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{note}/activity"), "type": "Create", "actor": actor,
            "object": {
                "id": note, "type": "Note", "attributedTo": actor,
                "content": "<p>a reply to something slow</p>",
                "inReplyTo": format!("{}/slow/{i}", evil.base),
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
            },
        });
        let status =
            deliver_signed(&c, &evil.key, &format!("{actor}#main-key"), alpha, &create).await;
        assert_eq!(status, 202);
    }
    // alpha is now busy with the slow parents (10 s each)... and bob follows
    // hanako meanwhile.
    eventually("alpha fetches the slow parents", async || {
        (!evil.requests("/slow/").is_empty()).then_some(())
    })
    .await;
    c.follow_and_wait(beta, &bob, &format!("hanako@{}", alpha.host()))
        .await;
    let processed = async || {
        let mut conn = alpha.state.ctx.conn().await.unwrap();
        let mut n = 0;
        for actor in &actors {
            n += tsunagu::db::federation::received_from(&mut conn, actor)
                .await
                .unwrap()
                .iter()
                .filter(|(_, _, done)| *done)
                .count();
        }
        n
    };
    assert!(
        processed().await < actors.len(),
        "the honest Follow waited for every slow activity"
    );
    // Nothing is lost: the slow ones end too, stored without their parent.
    eventually("the slow activities are done", async || {
        (processed().await == actors.len()).then_some(())
    })
    .await;
    // Never more than the host's share fetching at once.
    assert_eq!(evil.requests("/slow/").len(), actors.len());
    assert_eq!(evil.slow.1.load(Ordering::SeqCst), 2, "the host's share");
    let _ = hanako;
    for n in nodes {
        n.stop().await;
    }
}

dual!(a_remote_that_is_down_for_a_moment_is_tried_again_later);

/// Issue 15: a fetch that fails for now (503, timeout) puts the activity
/// back for a later try; one that cannot succeed (404) ends it at once.
/// The worker used to treat every failed fetch as final.
async fn a_remote_that_is_down_for_a_moment_is_tried_again_later(b: Backend) {
    let (evil, mut extra) = Hostile::start("evil").await;
    let (far, far_extra) = Hostile::start("far").await;
    extra.extend(far_extra);
    let nodes = cluster_with(b, &["alpha"], &extra).await;
    let alpha = &nodes[0];
    let c = Client::new(&nodes);
    let note = |path: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}{path}", evil.base),
            "type": "Note",
            "attributedTo": evil.actor(),
            "content": "<p>back soon</p>",
            "published": "2026-12-01T10:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        })
    };
    evil.serve("/flaky/notes/1", note("/flaky/notes/1"));
    evil.flaky.store(1, Ordering::SeqCst);
    let announce = |n: u32, path: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/announces/{n}", evil.base),
            "type": "Announce",
            "actor": evil.actor(),
            "object": format!("{}{path}", evil.base),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        })
    };
    assert_eq!(
        evil.deliver(&c, alpha, &announce(1, "/flaky/notes/1"))
            .await,
        202
    );
    assert_eq!(
        evil.deliver(&c, alpha, &announce(2, "/gone/notes/2")).await,
        202
    );
    let ctx = &alpha.state.ctx;
    let row = async |n: u32| {
        let mut conn = ctx.conn().await.unwrap();
        tsunagu::db::federation::inbound_by_ap_id(
            &mut conn,
            &format!("{}/announces/{n}", evil.base),
        )
        .await
        .unwrap()
        .unwrap()
    };
    // The 503 keeps the Announce for a retry, with why.
    let first = eventually("the first try of the flaky Announce", async || {
        Some(row(1).await).filter(|r| r.attempts == 1 && r.processed_at.is_none())
    })
    .await;
    assert!(
        first
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("503"),
        "{first:?}"
    );
    let mut conn = ctx.conn().await.unwrap();
    let stored =
        tsunagu::db::statuses::find_by_uri(&mut conn, &format!("{}/flaky/notes/1", evil.base))
            .await
            .unwrap();
    assert!(stored.is_none(), "fetched before the retry");
    drop(conn);
    // Ten seconds on, the server is back and the boost arrives; mallory's
    // next activity waited its turn (one at a time per actor) and its 404
    // ends it after one try.
    let done = eventually("the retried Announce", async || {
        Some(row(1).await).filter(|r| r.processed_at.is_some())
    })
    .await;
    assert!(done.last_error.is_none(), "{done:?}");
    let gone = eventually("the Announce of a missing post", async || {
        Some(row(2).await).filter(|r| r.processed_at.is_some())
    })
    .await;
    assert_eq!(gone.attempts, 1, "tried once: {gone:?}");

    // A post on a third server that is down for a moment is not worth
    // holding mallory's queue for (a hostile server could stall a relay's
    // stream with 503s): that Announce ends after one try.
    far.serve("/flaky/notes/3", note("/flaky/notes/3"));
    far.flaky.store(5, Ordering::SeqCst);
    let elsewhere = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/announces/3", evil.base),
        "type": "Announce",
        "actor": evil.actor(),
        "object": format!("{}/flaky/notes/3", far.base),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    });
    assert_eq!(evil.deliver(&c, alpha, &elsewhere).await, 202);
    let third = eventually("the Announce of a post on a third server", async || {
        Some(row(3).await).filter(|r| r.processed_at.is_some() || r.attempts > 0)
    })
    .await;
    assert!(
        third.processed_at.is_some(),
        "not held for a retry: {third:?}"
    );
    assert_eq!(third.attempts, 1, "{third:?}");
    let mut conn = ctx.conn().await.unwrap();
    let original =
        tsunagu::db::statuses::find_by_uri(&mut conn, &format!("{}/flaky/notes/1", evil.base))
            .await
            .unwrap()
            .expect("the post, fetched on the second try");
    let mallory = tsunagu::db::federation::account_by_ap_id(&mut conn, &evil.actor())
        .await
        .unwrap()
        .unwrap();
    let boosted = tsunagu::db::statuses::reblogged_by(&mut conn, mallory.id, &[original.id])
        .await
        .unwrap();
    assert_eq!(boosted.len(), 1, "one boost of the post");
    assert_eq!(
        evil.requests("/flaky/notes/1").len(),
        2,
        "one failed try, one good"
    );
}

dual!(a_hostile_member_server_cannot_forge_or_overfill_alumni_profiles);

/// mallory's server, whose mallory is a verified member of acme on alpha,
/// sends `Update{AlumniProfile}` documents an honest server never would: a
/// profile before being a member, one attributed to bob (another member),
/// one whose id lives on another server, one for an org that is not
/// alpha's, too many periods, a title over the limit, periods naming orgs
/// alpha does not know. alpha stores only mallory's own well-formed
/// release, never fetches what a period names, and keeps bob's profile as
/// bob's server sent it.
async fn a_hostile_member_server_cannot_forge_or_overfill_alumni_profiles(b: Backend) {
    let (evil, extra) = Hostile::start("evil").await;
    let nodes = cluster_with(b, &["alpha", "beta"], &extra).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let org = org_with_members(&c, alpha, beta).await;
    let acme_uri = format!("{}/users/acme", alpha.base);
    let bob_uri = format!("{}/users/bob", beta.base);
    let mallory = evil.actor();
    let mut n = 0;
    let mut send = async |actor_doc: Value| -> tsunagu::db::models::InboxActivity {
        n += 1;
        let id = format!("{mallory}#alumni/{n}");
        let activity = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": id, "type": "Update", "actor": mallory, "to": [acme_uri],
            "object": actor_doc,
        });
        assert_eq!(evil.deliver(&c, alpha, &activity).await, 202);
        eventually("alpha processes the activity", async || {
            let mut conn = alpha.state.ctx.conn().await.unwrap();
            tsunagu::db::federation::inbound_by_ap_id(&mut conn, &id)
                .await
                .unwrap()
                .filter(|r| r.processed_at.is_some())
        })
        .await
    };
    let doc = |attributed: &str, title: &str| {
        json!({
            "id": format!("{attributed}/alumni/1"), "type": "AlumniProfile",
            "attributedTo": attributed, "audience": acme_uri,
            "tsunaguReleasedTo": {"members": ["title", "tenures", "salary"]},
            "jobTitle": title,
        })
    };
    let stored = async |uri: &str| {
        let mut conn = alpha.state.ctx.conn().await.unwrap();
        let a = tsunagu::db::federation::account_by_ap_id(&mut conn, uri)
            .await
            .unwrap()
            .unwrap();
        let p = tsunagu::db::alumni::profiles(&mut conn, &[a.id])
            .await
            .unwrap();
        let t = tsunagu::db::alumni::tenures(&mut conn, &[a.id])
            .await
            .unwrap();
        (p.first().map(|p| p.title.clone()), t)
    };

    // Not a member yet: dropped.
    send(doc(&mallory, "Early")).await;
    assert_eq!(stored(&mallory).await.0, None);

    // mallory joins and the office approves.
    let join = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{mallory}#join/1"), "type": "Join", "actor": mallory,
        "object": acme_uri, "tsunaguMembership": {"role": "alumnus"},
    });
    assert_eq!(evil.deliver(&c, alpha, &join).await, 202);
    let request = eventually("the office sees mallory's request", async || {
        let q = c
            .get(
                &format!(
                    "{}/api/v1/orgs/{}/membership_requests",
                    alpha.base, org.acme_on_alpha
                ),
                &org.office,
            )
            .await;
        q.as_array()
            .unwrap()
            .iter()
            .find(|r| r["account"]["username"] == "mallory")
            .cloned()
    })
    .await;
    c.post(
        &format!(
            "{}/api/v1/orgs/{}/membership_requests/{}/approve",
            alpha.base,
            org.acme_on_alpha,
            request["id"].as_str().unwrap()
        ),
        &org.office,
        json!({}),
    )
    .await;

    // bob's own server releases his title to acme's members.
    let (st, r) = c
        .call(
            reqwest::Method::PATCH,
            &format!("{}/api/v1/alumni/profile", beta.base),
            &org.bob,
            Some(json!({"title": "Honest", "audiences": {"title": ["my_orgs"]}})),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    eventually("bob's title reaches alpha", async || {
        (stored(&bob_uri).await.0.as_deref() == Some("Honest")).then_some(())
    })
    .await;

    // mallory's own release, with periods naming orgs alpha does not know
    // (one on mallory's server, one on beta), a person, and an org it knows.
    let mut own = doc(&mallory, "Member");
    own["tsunaguTenures"] = json!([
        {"org": format!("{}/groups/unknown", evil.base), "from": 2001},
        {"org": format!("{}/users/nobody", beta.base), "from": 2002},
        {"org": bob_uri, "from": 2002},
        {"org": acme_uri, "from": 2003, "to": 2004, "division": "R&D"},
    ]);
    let row = send(own).await;
    assert_eq!(row.last_error, None);
    let (title, tenures) = stored(&mallory).await;
    assert_eq!(title.as_deref(), Some("Member"));
    assert_eq!(tenures.len(), 1, "{tenures:?}");
    assert_eq!(
        (tenures[0].year_from, tenures[0].year_to),
        (2003, Some(2004))
    );
    assert!(
        evil.requests("/groups/").is_empty(),
        "a period made alpha fetch"
    );

    // Forgeries and overfills: each refused, nothing changed.
    let mut elsewhere = doc(&mallory, "Moved");
    elsewhere["id"] = json!(format!("{}/users/bob/alumni/1", beta.base));
    let mut other_org = doc(&mallory, "Other org");
    other_org["audience"] = json!(format!("{}/users/club", evil.base));
    let mut many = doc(&mallory, "Many");
    many["tsunaguTenures"] = json!(
        (0..31)
            .map(|i| json!({"org": acme_uri, "from": 1980 + i}))
            .collect::<Vec<_>>()
    );
    let mut forged = doc(&bob_uri, "Forged");
    forged["id"] = json!(format!("{mallory}/alumni/2"));
    for (what, forged) in [
        ("someone else's profile", forged),
        ("an id on another server", elsewhere),
        ("an org that is not alpha's", other_org),
        ("31 periods", many),
        ("a title over the limit", doc(&mallory, &"x".repeat(101))),
    ] {
        let row = send(forged).await;
        assert!(row.last_error.is_some(), "{what}: accepted");
    }
    assert_eq!(stored(&bob_uri).await.0.as_deref(), Some("Honest"));
    let (title, tenures) = stored(&mallory).await;
    assert_eq!(title.as_deref(), Some("Member"));
    assert_eq!(tenures.len(), 1);
}
