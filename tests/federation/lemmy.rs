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

/// A Lemmy fixture with Lemmy's test hosts pointed at the fake servers (both
/// schemes: Lemmy's captures name the community by https in `audience`).
fn fixture(name: &str, hosts: &[(&str, &str)]) -> Value {
    let mut text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/federation/lemmy")
            .join(name),
    )
    .unwrap();
    for (lemmy, ours) in hosts {
        text = text
            .replace(&format!("https://{lemmy}"), ours)
            .replace(&format!("http://{lemmy}"), ours);
    }
    serde_json::from_str(&text).unwrap()
}

fn person(base: &str, path: &str, name: &str) -> Value {
    let id = format!("{base}{path}");
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id, "type": "Person", "preferredUsername": name,
        "inbox": format!("{id}/inbox"),
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": public_key_pem() },
    })
}

/// The community on enterprise announces what lemmy_alpha on ds9 does (so
/// each inner activity is checked at ds9), and lemmy_beta's dislike from its
/// own server (vouched for by the community's origin).
async fn lemmy_community_announces_change_our_copy(b: Backend) {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let (ds9_listener, ds9_port, mut extra) = fake_host("ds9").await;
    let (ent_listener, ent_port, more) = fake_host("enterprise").await;
    extra.extend(more);
    let nodes = cluster_with(b, &["alpha"], &extra).await;
    let alpha = &nodes[0];
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let ds9 = format!("http://ds9.test:{ds9_port}");
    let ent = format!("http://enterprise.test:{ent_port}");
    let hosts = [
        ("ds9.lemmy.ml", ds9.as_str()),
        ("enterprise.lemmy.ml", ent.as_str()),
    ];

    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let private_pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public_pem = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let community = format!("{ent}/c/main");
    let update = fixture("update_page.json", &hosts);
    let create_comment = fixture("create_note.json", &hosts);
    let like = fixture("like_note.json", &hosts);
    let undo_like = fixture("undo_like_note.json", &hosts);
    let dislike = fixture("dislike_page.json", &hosts);
    let delete = fixture("delete_page.json", &hosts);
    let path = |v: &Value| {
        url::Url::parse(v.as_str().unwrap())
            .unwrap()
            .path()
            .to_owned()
    };

    // ds9 serves its person, the post as first published, the comment and
    // lemmy_alpha's activities (as Lemmy does, at their ids).
    let mut first = update["object"].clone();
    first["content"] = json!("<p>first version</p>");
    let ds9_docs: Served = Arc::default();
    {
        let mut d = ds9_docs.lock().unwrap();
        d.insert(
            "/u/lemmy_alpha".into(),
            person(&ds9, "/u/lemmy_alpha", "lemmy_alpha"),
        );
        d.insert("/post/1".into(), first);
        d.insert("/comment/1".into(), create_comment["object"].clone());
        for a in [&update, &create_comment, &like, &undo_like] {
            d.insert(path(&a["id"]), a.clone());
        }
    }
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
                "publicKey": { "id": format!("{community}#main-key"), "owner": community, "publicKeyPem": public_pem },
            }),
        );
        d.insert(
            "/u/lemmy_beta".into(),
            person(&ent, "/u/lemmy_beta", "lemmy_beta"),
        );
    }
    serve_documents(ent_listener, ent_docs.clone()).await;

    let signing_key = tsunagu::federation::signatures::PrivateKey::from_pem(&private_pem).unwrap();
    let key_id = format!("{community}#main-key");
    let mut sent = 0;
    // The community announces `inner`; waits until alpha has processed it.
    let mut announce = async |inner: &Value| {
        sent += 1;
        let activity = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{ent}/activities/announce/{sent}"),
            "type": "Announce",
            "actor": community,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [format!("{community}/followers")],
            "object": inner,
        });
        assert_eq!(
            deliver_signed(&c, &signing_key, &key_id, alpha, &activity).await,
            202
        );
        let want = sent;
        eventually("alpha processed the announce", async || {
            let mut conn = alpha.state.ctx.conn().await.unwrap();
            let got = tsunagu::db::federation::received_from(&mut conn, &community)
                .await
                .unwrap();
            (got.len() == want && got.iter().all(|(_, _, done)| *done)).then_some(())
        })
        .await;
    };
    let get = async |url: String| c.call(reqwest::Method::GET, &url, &alice, None).await;

    // The post arrives as the community's boost (Mastodon's form).
    announce(&json!(format!("{ds9}/post/1"))).await;
    let community_id = get(format!(
        "{}/api/v1/accounts/lookup?acct=main@enterprise.test:{ent_port}",
        alpha.base
    ))
    .await
    .1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let boosts = get(format!(
        "{}/api/v1/accounts/{community_id}/statuses",
        alpha.base
    ))
    .await
    .1;
    let post_id = boosts[0]["reblog"]["id"].as_str().unwrap().to_owned();
    let post_url = format!("{}/api/v1/statuses/{post_id}", alpha.base);

    // Announce{Create{Note}}: a comment, stored as a reply (not boosted).
    announce(&create_comment).await;
    let thread = get(format!("{post_url}/context")).await.1;
    let comment = &thread["descendants"][0];
    assert_eq!(comment["uri"], format!("{ds9}/comment/1"), "{thread}");
    assert!(
        comment["content"].as_str().unwrap().contains("hello"),
        "{comment}"
    );
    let comment_url = format!(
        "{}/api/v1/statuses/{}",
        alpha.base,
        comment["id"].as_str().unwrap()
    );
    let boosts = get(format!(
        "{}/api/v1/accounts/{community_id}/statuses",
        alpha.base
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
    announce(&forged_create).await;
    let thread = get(format!("{post_url}/context")).await.1;
    assert_eq!(
        thread["descendants"].as_array().unwrap().len(),
        1,
        "{thread}"
    );

    // Announce{Like}, checked at ds9 (which serves it at its id), then its Undo.
    announce(&like).await;
    assert_eq!(get(comment_url.clone()).await.1["favourites_count"], 1);
    announce(&undo_like).await;
    assert_eq!(get(comment_url.clone()).await.1["favourites_count"], 0);
    // A forged Like (ds9 serves no such activity) counts nothing.
    let mut forged_like = like.clone();
    forged_like["id"] = json!(format!("{ds9}/activities/like/forged"));
    announce(&forged_like).await;
    assert_eq!(get(comment_url.clone()).await.1["favourites_count"], 0);

    // Announce{Dislike} by a person on the community's own server: kept as
    // a negative vote, which is no favourite.
    announce(&dislike).await;
    let mut conn = alpha.state.ctx.conn().await.unwrap();
    let post_row: i64 = post_id.parse().unwrap();
    let votes = tsunagu::db::social::dislike::counts(&mut conn, &[post_row])
        .await
        .unwrap();
    drop(conn);
    assert_eq!(votes, vec![(post_row, 1)]);
    assert_eq!(get(post_url.clone()).await.1["favourites_count"], 0);

    // A forged Update (ds9 still serves the first version) changes nothing;
    // the real one (ds9 serves the new text) is applied.
    let mut forged_update = update.clone();
    forged_update["id"] = json!(format!("{ds9}/activities/update/forged"));
    forged_update["object"]["content"] = json!("<p>forged</p>");
    announce(&forged_update).await;
    let seen = get(post_url.clone()).await.1;
    assert!(
        seen["content"].as_str().unwrap().contains("first version"),
        "{seen}"
    );
    assert!(seen["edited_at"].is_null(), "{seen}");
    ds9_docs
        .lock()
        .unwrap()
        .insert("/post/1".into(), update["object"].clone());
    announce(&update).await;
    let seen = get(post_url.clone()).await.1;
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
    announce(&replayed).await;
    let seen = get(post_url.clone()).await.1;
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
    announce(&early_delete).await;
    assert_eq!(get(post_url.clone()).await.0, 200);
    ds9_docs.lock().unwrap().remove("/post/1");
    announce(&delete).await;
    assert_eq!(get(post_url.clone()).await.0, 404);
    for n in nodes {
        n.stop().await;
    }
}
