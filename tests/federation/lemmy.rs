//! A Lemmy community on another server, replayed from Lemmy's own captured
//! activities (tests/fixtures/federation/lemmy, provenance in its README):
//! what a community announces changes our copy as it should, and a forged
//! announce (an inner activity its own origin does not confirm) changes
//! nothing.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::*;
use crate::dual;

dual!(lemmy_community_announces_change_our_copy);
dual!(lemmy_moderators_lock_ban_feature_and_remove);

/// Documents a fake server serves, by path; changed while the test runs.
type Served = Arc<Mutex<HashMap<String, Value>>>;

async fn serve_documents(listener: tokio::net::TcpListener, docs: Served) {
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let doc = docs.lock().unwrap().get(uri.path()).cloned();
        async move {
            match doc {
                Some(d) => (axum::http::StatusCode::OK, d.to_string()),
                None => (axum::http::StatusCode::NOT_FOUND, String::new()),
            }
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

fn person(base: &str, path: &str, name: &str, pem: &str) -> Value {
    let id = format!("{base}{path}");
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id, "type": "Person", "preferredUsername": name,
        "inbox": format!("{id}/inbox"),
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": pem },
    })
}

/// One tsunagu (alpha, with alice) and two fake Lemmy servers: ds9, where
/// lemmy_alpha posts, and enterprise, with the community `main` and
/// lemmy_beta (whose key the test holds, to send as a moderator would).
struct Lemmy {
    nodes: Vec<Instance>,
    c: Client,
    alice: String,
    ds9: String,
    ent: String,
    ent_port: u16,
    community: String,
    ds9_docs: Served,
    ent_docs: Served,
    group_key: tsunagu::federation::signatures::PrivateKey,
    beta_key: tsunagu::federation::signatures::PrivateKey,
    sent: usize,
}

impl Lemmy {
    async fn start(b: Backend) -> Lemmy {
        let (ds9_listener, ds9_port, mut extra) = fake_host("ds9").await;
        let (ent_listener, ent_port, more) = fake_host("enterprise").await;
        extra.extend(more);
        let nodes = cluster_with(b, &["alpha"], &extra).await;
        let c = Client::new(&nodes);
        let alice = nodes[0].token("alice").await;
        let ds9 = format!("http://ds9.test:{ds9_port}");
        let ent = format!("http://enterprise.test:{ent_port}");
        let community = format!("{ent}/c/main");
        let (group_key, group_pem) = key_pair();
        let (beta_key, beta_pem) = key_pair();
        let ds9_docs: Served = Arc::default();
        ds9_docs.lock().unwrap().insert(
            "/u/lemmy_alpha".into(),
            person(&ds9, "/u/lemmy_alpha", "lemmy_alpha", &public_key_pem()),
        );
        serve_documents(ds9_listener, ds9_docs.clone()).await;
        let ent_docs: Served = Arc::default();
        {
            let mut d = ent_docs.lock().unwrap();
            d.insert(
                "/c/main".into(),
                json!({
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": community, "type": "Group", "preferredUsername": "main", "name": "Main",
                    "inbox": format!("{community}/inbox"), "followers": format!("{community}/followers"),
                    "attributedTo": format!("{community}/moderators"),
                    "publicKey": { "id": format!("{community}#main-key"), "owner": community, "publicKeyPem": group_pem },
                }),
            );
            d.insert(
                "/u/lemmy_beta".into(),
                person(&ent, "/u/lemmy_beta", "lemmy_beta", &beta_pem),
            );
        }
        serve_documents(ent_listener, ent_docs.clone()).await;
        Lemmy {
            nodes,
            c,
            alice,
            ds9,
            ent,
            ent_port,
            community,
            ds9_docs,
            ent_docs,
            group_key,
            beta_key,
            sent: 0,
        }
    }

    /// A Lemmy fixture with Lemmy's test hosts pointed at the fake servers
    /// (both schemes: Lemmy's captures name the community by https in
    /// `audience`; `lemmy-alpha:8541` is the community's server).
    fn fixture(&self, name: &str) -> Value {
        let mut text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/federation/lemmy")
                .join(name),
        )
        .unwrap();
        for (lemmy, ours) in [
            ("ds9.lemmy.ml", &self.ds9),
            ("enterprise.lemmy.ml", &self.ent),
            ("lemmy-alpha:8541", &self.ent),
        ] {
            text = text
                .replace(&format!("https://{lemmy}"), ours)
                .replace(&format!("http://{lemmy}"), ours);
        }
        serde_json::from_str(&text).unwrap()
    }

    fn alpha(&self) -> &Instance {
        &self.nodes[0]
    }

    /// `activity` delivered to alpha signed by `key` as `actor`; waits until
    /// alpha has processed everything from `actor`.
    async fn deliver(&self, key_of: &str, activity: &Value) {
        let key = match key_of {
            "group" => &self.group_key,
            _ => &self.beta_key,
        };
        let actor = activity["actor"].as_str().unwrap().to_owned();
        let key_id = format!("{actor}#main-key");
        assert_eq!(
            deliver_signed(&self.c, key, &key_id, self.alpha(), activity).await,
            202
        );
        eventually("alpha processed the delivery", async || {
            let mut conn = self.alpha().state.ctx.conn().await.unwrap();
            let got = tsunagu::db::federation::received_from(&mut conn, &actor)
                .await
                .unwrap();
            got.iter().all(|(_, _, done)| *done).then_some(())
        })
        .await;
    }

    /// The community announces `inner`; waits until alpha has processed it.
    async fn announce(&mut self, inner: &Value) {
        self.sent += 1;
        let activity = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/announce/{}", self.ent, self.sent),
            "type": "Announce",
            "actor": self.community,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [format!("{}/followers", self.community)],
            "object": inner,
        });
        self.deliver("group", &activity).await;
    }

    async fn get(&self, url: String) -> (u16, Value) {
        self.c
            .call(reqwest::Method::GET, &url, &self.alice, None)
            .await
    }

    /// The community's id on alpha.
    async fn community_id(&self) -> String {
        self.get(format!(
            "{}/api/v1/accounts/lookup?acct=main@enterprise.test:{}",
            self.alpha().base,
            self.ent_port
        ))
        .await
        .1["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The post lemmy_alpha made in the community, announced by it; its
    /// status URL on alpha.
    async fn announce_post(&mut self, post: Value) -> String {
        self.ds9_docs.lock().unwrap().insert("/post/1".into(), post);
        self.announce(&json!(format!("{}/post/1", self.ds9))).await;
        let boosts = self
            .get(format!(
                "{}/api/v1/accounts/{}/statuses",
                self.alpha().base,
                self.community_id().await
            ))
            .await
            .1;
        let post_id = boosts[0]["reblog"]["id"].as_str().unwrap().to_owned();
        format!("{}/api/v1/statuses/{post_id}", self.alpha().base)
    }

    async fn stop(self) {
        for n in self.nodes {
            n.stop().await;
        }
    }
}

/// The community on enterprise announces what lemmy_alpha on ds9 does (so
/// each inner activity is checked at ds9), and lemmy_beta's dislike from its
/// own server (vouched for by the community's origin).
async fn lemmy_community_announces_change_our_copy(b: Backend) {
    let mut l = Lemmy::start(b).await;
    let (ds9, ent) = (l.ds9.clone(), l.ent.clone());
    let update = l.fixture("update_page.json");
    let create_comment = l.fixture("create_note.json");
    let like = l.fixture("like_note.json");
    let undo_like = l.fixture("undo_like_note.json");
    let dislike = l.fixture("dislike_page.json");
    let delete = l.fixture("delete_page.json");
    let path = |v: &Value| {
        url::Url::parse(v.as_str().unwrap())
            .unwrap()
            .path()
            .to_owned()
    };

    // ds9 serves the post as first published, the comment and lemmy_alpha's
    // activities (as Lemmy does, at their ids).
    let mut first = update["object"].clone();
    first["content"] = json!("<p>first version</p>");
    {
        let mut d = l.ds9_docs.lock().unwrap();
        d.insert("/comment/1".into(), create_comment["object"].clone());
        for a in [&update, &create_comment, &like, &undo_like] {
            d.insert(path(&a["id"]), a.clone());
        }
    }
    let ds9_docs = l.ds9_docs.clone();
    let ent_docs = l.ent_docs.clone();

    // The post arrives as the community's boost (Mastodon's form).
    let post_url = l.announce_post(first).await;
    let post_id = post_url.rsplit('/').next().unwrap().to_owned();
    let community_id = l.community_id().await;
    let alpha_base = l.alpha().base.clone();

    // Announce{Create{Note}}: a comment, stored as a reply (not boosted).
    l.announce(&create_comment).await;
    let thread = l.get(format!("{post_url}/context")).await.1;
    let comment = &thread["descendants"][0];
    assert_eq!(comment["uri"], format!("{ds9}/comment/1"), "{thread}");
    assert!(
        comment["content"].as_str().unwrap().contains("hello"),
        "{comment}"
    );
    let comment_url = format!(
        "{}/api/v1/statuses/{}",
        alpha_base,
        comment["id"].as_str().unwrap()
    );
    let boosts = l
        .get(format!(
            "{}/api/v1/accounts/{community_id}/statuses",
            alpha_base
        ))
        .await
        .1;
    assert_eq!(boosts.as_array().unwrap().len(), 1, "{boosts}");

    // A Create by lemmy_alpha whose Note is elsewhere (here: on the
    // community's server, claiming to be ds9's) is refused before any fetch.
    let mut forged_create = create_comment.clone();
    forged_create["id"] = json!(format!("{ds9}/activities/create/forged"));
    forged_create["object"]["id"] = json!(format!("{ent}/comment/forged"));
    forged_create["object"]["content"] = json!("forged");
    ent_docs.lock().unwrap().insert("/comment/forged".into(), {
        let mut n = create_comment["object"].clone();
        n["id"] = json!(format!("{ds9}/comment/2"));
        n["content"] = json!("forged");
        n
    });
    l.announce(&forged_create).await;
    let thread = l.get(format!("{post_url}/context")).await.1;
    assert_eq!(
        thread["descendants"].as_array().unwrap().len(),
        1,
        "{thread}"
    );

    // Announce{Like}, checked at ds9 (which serves it at its id), then its Undo.
    l.announce(&like).await;
    assert_eq!(l.get(comment_url.clone()).await.1["favourites_count"], 1);
    l.announce(&undo_like).await;
    assert_eq!(l.get(comment_url.clone()).await.1["favourites_count"], 0);
    // A forged Like (ds9 serves no such activity) counts nothing.
    let mut forged_like = like.clone();
    forged_like["id"] = json!(format!("{ds9}/activities/like/forged"));
    l.announce(&forged_like).await;
    assert_eq!(l.get(comment_url.clone()).await.1["favourites_count"], 0);

    // Announce{Dislike} by a person on the community's own server: kept as
    // a negative vote, which is no favourite.
    l.announce(&dislike).await;
    let mut conn = l.alpha().state.ctx.conn().await.unwrap();
    let post_row: i64 = post_id.parse().unwrap();
    let votes = tsunagu::db::social::dislike::counts(&mut conn, &[post_row])
        .await
        .unwrap();
    drop(conn);
    assert_eq!(votes, vec![(post_row, 1)]);
    assert_eq!(l.get(post_url.clone()).await.1["favourites_count"], 0);

    // A forged Update (ds9 still serves the first version) changes nothing;
    // the real one (ds9 serves the new text) is applied.
    let mut forged_update = update.clone();
    forged_update["id"] = json!(format!("{ds9}/activities/update/forged"));
    forged_update["object"]["content"] = json!("<p>forged</p>");
    l.announce(&forged_update).await;
    let seen = l.get(post_url.clone()).await.1;
    assert!(
        seen["content"].as_str().unwrap().contains("first version"),
        "{seen}"
    );
    assert!(seen["edited_at"].is_null(), "{seen}");
    ds9_docs
        .lock()
        .unwrap()
        .insert("/post/1".into(), update["object"].clone());
    l.announce(&update).await;
    let seen = l.get(post_url.clone()).await.1;
    assert!(
        seen["content"].as_str().unwrap().contains("test body"),
        "{seen}"
    );
    assert!(
        seen["content"]
            .as_str()
            .unwrap()
            .starts_with("<p><strong>test post 1</strong></p>"),
        "the title stays first: {seen}"
    );
    assert!(seen["edited_at"].is_string(), "{seen}");

    // An older version (as a replayed copy would be) does not undo the edit.
    let mut older = update["object"].clone();
    older["content"] = json!("<p>an older text</p>");
    older["updated"] = json!("2021-10-29T15:11:00.000000Z");
    ds9_docs.lock().unwrap().insert("/post/1".into(), older);
    let mut replayed = update.clone();
    replayed["id"] = json!(format!("{ds9}/activities/update/replayed"));
    l.announce(&replayed).await;
    let seen = l.get(post_url.clone()).await.1;
    assert!(
        seen["content"].as_str().unwrap().contains("test body"),
        "an older version replaced a newer one: {seen}"
    );
    ds9_docs
        .lock()
        .unwrap()
        .insert("/post/1".into(), update["object"].clone());

    // A Delete while ds9 still serves the post changes nothing; once ds9
    // answers 404, the same Delete removes our copy.
    let mut early_delete = delete.clone();
    early_delete["id"] = json!(format!("{ds9}/activities/delete/early"));
    l.announce(&early_delete).await;
    assert_eq!(l.get(post_url.clone()).await.0, 200);
    ds9_docs.lock().unwrap().remove("/post/1");
    l.announce(&delete).await;
    assert_eq!(l.get(post_url.clone()).await.0, 404);
    l.stop().await;
}

/// A community's moderators act (Lemmy's Lock, Block in the community,
/// removal by Delete, and their Undo): a lock stops replies from here, a ban
/// stops alice posting into the community, a removal takes the post away
/// and its undoing brings it back as its origin serves it. The same from
/// someone who does not moderate the community changes nothing.
async fn lemmy_moderators_lock_ban_feature_and_remove(b: Backend) {
    let mut l = Lemmy::start(b).await;
    let post = l.fixture("update_page.json")["object"].clone();
    let post_uri = post["id"].as_str().unwrap().to_owned();
    let post_url = l.announce_post(post).await;
    let post_id = post_url.rsplit('/').next().unwrap().to_owned();
    let (ds9, ent, community) = (l.ds9.clone(), l.ent.clone(), l.community.clone());
    let alpha_base = l.alpha().base.clone();
    let beta = format!("{ent}/u/lemmy_beta");
    l.ent_docs.lock().unwrap().insert(
        "/c/main/moderators".into(),
        json!({"id": format!("{community}/moderators"), "type": "OrderedCollection",
               "orderedItems": [beta.clone()]}),
    );
    let post_status = async |l: &Lemmy, body: Value| {
        l.c.call(
            reqwest::Method::POST,
            &format!("{alpha_base}/api/v1/statuses"),
            &l.alice,
            Some(body),
        )
        .await
    };
    let reply = async |l: &Lemmy, to: &str| {
        post_status(l, json!({"status": "a reply", "in_reply_to_id": to})).await
    };
    let (status, first_reply) = reply(&l, &post_id).await;
    assert_eq!(status, 200, "{first_reply}");
    let first_reply = first_reply["id"].as_str().unwrap().to_owned();
    let undo = |id: &str, actor: &str, object: &Value| {
        json!({"id": id, "type": "Undo", "actor": actor, "object": object,
               "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [community.clone()]})
    };

    // A lock by someone elsewhere who is no moderator: dropped.
    let mut lock = l.fixture("lock_page.json");
    lock["object"] = json!(post_uri);
    let mut stranger_lock = lock.clone();
    stranger_lock["actor"] = json!(format!("{ds9}/u/lemmy_alpha"));
    stranger_lock["id"] = json!(format!("{ds9}/activities/lock/1"));
    l.announce(&stranger_lock).await;
    assert_eq!(reply(&l, &post_id).await.0, 200);

    // Lemmy's Lock (by a moderator on the community's server): no reply
    // from here, anywhere in the thread; its Undo opens it again.
    l.announce(&lock).await;
    let (status, body) = reply(&l, &post_id).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("locked"), "{body}");
    assert_eq!(reply(&l, &first_reply).await.0, 403);
    let mut undo_lock = l.fixture("undo_lock_page.json");
    undo_lock["object"]["object"] = json!(post_uri);
    l.announce(&undo_lock).await;
    assert_eq!(reply(&l, &first_reply).await.0, 200);

    // Featured by the community (Lemmy's Add to its featured collection):
    // its pins on its profile; Remove takes the post out again.
    let community_id = l.community_id().await;
    let pins = format!("{alpha_base}/api/v1/accounts/{community_id}/statuses?pinned=true");
    let mut feature = l.fixture("add_featured_post.json");
    feature["actor"] = json!(beta);
    feature["object"] = json!(post_uri);
    feature["target"] = json!(format!("{community}/featured"));
    // Another collection on the community's server is not its featured one.
    feature["target"] = json!(format!("{beta}/featured"));
    feature["id"] = json!(format!("{ent}/activities/add/0"));
    l.announce(&feature).await;
    assert_eq!(l.get(pins.clone()).await.1, json!([]));
    feature["target"] = json!(format!("{community}/featured"));
    feature["id"] = json!(format!("{ent}/activities/add/1"));
    l.announce(&feature).await;
    let pinned = l.get(pins.clone()).await.1;
    assert_eq!(pinned[0]["uri"], post_uri, "{pinned}");
    let mut unfeature = l.fixture("remove_featured_post.json");
    unfeature["actor"] = json!(beta);
    unfeature["object"] = json!(post_uri);
    unfeature["target"] = json!(format!("{community}/featured"));
    unfeature["id"] = json!(format!("{ent}/activities/remove/1"));
    l.announce(&unfeature).await;
    assert_eq!(l.get(pins.clone()).await.1, json!([]));

    // Lemmy's Block of alice in the community. The captured one ended in
    // 2021: no ban now. Without an end, alice may no longer post into it.
    let mut ban = l.fixture("block_user.json");
    ban["object"] = json!(format!("{alpha_base}/users/alice"));
    l.announce(&ban).await;
    assert_eq!(reply(&l, &post_id).await.0, 200);
    ban["id"] = json!(format!("{ent}/activities/block/2"));
    ban.as_object_mut().unwrap().remove("endTime");
    l.announce(&ban).await;
    let (status, body) = reply(&l, &post_id).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("spam post"),
        "the moderator's reason: {body}"
    );
    // A private reply (no community of its own) in the thread is refused too.
    let (status, body) = post_status(
        &l,
        json!({"status": "psst", "in_reply_to_id": post_id, "visibility": "private"}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post_status(
        &l,
        json!({"status": "into the community", "audience": community_id}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    // Lemmy's Undo, and the ban again, straight from the moderator.
    let mut undo_ban = l.fixture("undo_block_user.json");
    undo_ban["object"]["object"] = json!(format!("{alpha_base}/users/alice"));
    l.deliver("beta", &undo_ban).await;
    assert_eq!(reply(&l, &post_id).await.0, 200);
    ban["id"] = json!(format!("{ent}/activities/block/3"));
    l.deliver("beta", &ban).await;
    assert_eq!(reply(&l, &post_id).await.0, 403);

    // A moderator on another server counts once the community lists them.
    l.ent_docs.lock().unwrap().insert(
        "/c/main/moderators".into(),
        json!({"id": format!("{community}/moderators"), "type": "OrderedCollection",
               "orderedItems": [beta.clone(), format!("{ds9}/u/lemmy_alpha")]}),
    );
    stranger_lock["id"] = json!(format!("{ds9}/activities/lock/2"));
    l.announce(&stranger_lock).await;
    let mut conn = l.alpha().state.ctx.conn().await.unwrap();
    let post_row: i64 = post_id.parse().unwrap();
    assert!(
        tsunagu::db::communities::any_locked(&mut conn, &[post_row])
            .await
            .unwrap()
    );
    drop(conn);

    // A removal (Delete by someone else than the author) by no moderator
    // changes nothing; by a moderator it takes the post away, though its
    // origin still serves it; Undo{Delete} brings it back from there.
    let removal = |id: &str, actor: &str| {
        json!({"id": id, "type": "Delete", "actor": actor, "object": post_uri,
               "summary": "off topic", "audience": community.clone(),
               "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [community.clone()]})
    };
    l.announce(&removal(
        &format!("{ds9}/activities/delete/9"),
        &format!("{ds9}/u/rando"),
    ))
    .await;
    assert_eq!(l.get(post_url.clone()).await.0, 200);
    let removed = removal(&format!("{ent}/activities/delete/1"), &beta);
    l.announce(&removed).await;
    assert_eq!(l.get(post_url.clone()).await.0, 404);
    l.announce(&undo(&format!("{ent}/activities/undo/3"), &beta, &removed))
        .await;
    let mut conn = l.alpha().state.ctx.conn().await.unwrap();
    let back = tsunagu::db::statuses::find_by_uri(&mut conn, &post_uri)
        .await
        .unwrap()
        .expect("restored from its origin");
    drop(conn);
    assert!(back.content.contains("test body"), "{}", back.content);
    l.stop().await;
}
