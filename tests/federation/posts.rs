//! Posts that travel: reply chains and boosts fetched within bounds, polls, attachments, slow
//! remotes, and a Lemmy community's Announce.
use super::*;
use crate::dual;
use tsunagu::services::accounts;

dual!(
    reply_parents_and_boosted_posts_are_fetched,
    reply_chains_are_fetched_within_a_bound,
    a_remote_that_never_answers_costs_a_timeout_not_a_hang,
    polls_and_votes_travel_as_questions,
    attachments_travel_as_documents,
    a_lemmy_community_announce_of_a_page_is_one_post,
    a_remote_post_rings_the_bell_and_a_remote_dm_is_a_conversation,
    each_visibility_reaches_exactly_its_audience_elsewhere,
    an_event_arrives_as_a_post_with_its_title,
);

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
        let (hosts, _) = tsunagu::services::instance::federation_status(ctx)
            .await
            .unwrap();
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

/// A post from another server goes through the same pipeline as a local
/// one: alice@alpha rang the bell for bob@beta, so his post notifies her;
/// his direct message to her opens a conversation in her app, unread.
async fn a_remote_post_rings_the_bell_and_a_remote_dm_is_a_conversation(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let bob_id = c
        .follow_and_wait(alpha, &alice, &format!("bob@{}", beta.host()))
        .await;
    let bell = c
        .post(
            &format!("{}/api/v1/accounts/{bob_id}/follow", alpha.base),
            &alice,
            json!({"notify": true}),
        )
        .await;
    assert_eq!(bell["notifying"], true, "{bell}");

    let post = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "We are hiring again"}),
        )
        .await;
    let uri = post["uri"].as_str().unwrap().to_owned();
    let rang = eventually("alice is told of bob's post", async || {
        let list = c
            .get(
                &format!("{}/api/v1/notifications?types[]=status", alpha.base),
                &alice,
            )
            .await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|n| n["status"]["uri"] == uri.as_str())
            .cloned()
    })
    .await;
    assert_eq!(rang["account"]["id"], bob_id.as_str());

    let dm = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": format!("@alice@{} lunch on Friday?", alpha.host()), "visibility": "direct"}),
        )
        .await;
    let dm_uri = dm["uri"].as_str().unwrap().to_owned();
    let conversation = eventually("alice has a conversation with bob", async || {
        let list = c
            .get(&format!("{}/api/v1/conversations", alpha.base), &alice)
            .await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|v| v["last_status"]["uri"] == dm_uri.as_str())
            .cloned()
    })
    .await;
    assert_eq!(conversation["unread"], true, "{conversation}");
    assert_eq!(conversation["accounts"][0]["id"], bob_id.as_str());
    for n in nodes {
        n.stop().await;
    }
}

/// bob@beta posts once per visibility. On alpha, his follower alice reads
/// the public, unlisted and followers-only posts in her home and the direct
/// one (it names her) in her conversations; carol, who does not follow him,
/// reads only what is public (by link: public and unlisted), and the public
/// timeline shows the public one alone.
async fn each_visibility_reaches_exactly_its_audience_elsewhere(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let bob = beta.token("bob").await;
    let alice = c
        .follower(alpha, "alice", &format!("bob@{}", beta.host()))
        .await;
    let carol = alpha.token("carol").await;
    let posts = c
        .post_each_visibility(beta, &bob, &format!("alice@{}", alpha.host()))
        .await;
    let uri = |v: &str| posts[v]["uri"].as_str().unwrap().to_owned();

    let home = eventually("the followers' posts reach alice's home", async || {
        let home = c
            .get(
                &format!("{}/api/v1/timelines/home", alpha.base),
                &alice.token,
            )
            .await;
        let list = home.as_array().unwrap().clone();
        let has = |v: &str| list.iter().any(|s| s["uri"] == uri(v).as_str());
        (has("public") && has("unlisted") && has("private")).then_some(list)
    })
    .await;
    let id = |v: &str| {
        home.iter().find(|s| s["uri"] == uri(v).as_str()).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for v in ["public", "unlisted", "private"] {
        let seen = home.iter().find(|s| s["uri"] == uri(v).as_str()).unwrap();
        assert_eq!(seen["visibility"], v, "{seen}");
    }
    let dm = eventually(
        "the direct post reaches alice's conversations",
        async || {
            let list = c
                .get(
                    &format!("{}/api/v1/conversations", alpha.base),
                    &alice.token,
                )
                .await;
            list.as_array()
                .unwrap()
                .iter()
                .find(|v| v["last_status"]["uri"] == uri("direct").as_str())
                .cloned()
        },
    )
    .await;
    assert_eq!(dm["last_status"]["visibility"], "direct");
    let dm_id = dm["last_status"]["id"].as_str().unwrap().to_owned();

    let status = |id: String| format!("{}/api/v1/statuses/{id}", alpha.base);
    assert_eq!(c.status_of(&status(id("public")), &carol).await, 200);
    assert_eq!(c.status_of(&status(id("unlisted")), &carol).await, 200);
    assert_eq!(c.status_of(&status(id("private")), &carol).await, 404);
    assert_eq!(c.status_of(&status(dm_id.clone()), &carol).await, 404);
    assert_eq!(c.status_of(&status(dm_id), &alice.token).await, 200);
    let public = c
        .get(&format!("{}/api/v1/timelines/public", alpha.base), &carol)
        .await;
    let on_public: Vec<&Value> = public
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["account"]["id"] == alice.followed_id.as_str())
        .collect();
    assert_eq!(on_public.len(), 1, "{public}");
    assert_eq!(on_public[0]["uri"], uri("public").as_str());
    for n in nodes {
        n.stop().await;
    }
}

/// An `Event` (as Mobilizon sends it, tests/fixtures/federation/mobilizon)
/// by carol@alpha reaches bob@beta, who follows her, as a post whose first
/// line is the event's name.
async fn an_event_arrives_as_a_post_with_its_title(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let _carol = alpha.token("carol").await;
    let bob = c
        .follower(beta, "bob", &format!("carol@{}", alpha.host()))
        .await;
    let carol_uri = format!("{}/users/carol", alpha.base);
    let event_uri = format!("{}/events/reunion-2027", alpha.base);
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{event_uri}/activity"),
        "type": "Create",
        "actor": carol_uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": event_uri,
            "type": "Event",
            "attributedTo": carol_uri,
            "name": "Alumni reunion <2027>",
            "content": "<p>Bring your old badge.</p>",
            "startTime": "2027-03-01T18:00:00Z",
            "location": {"type": "Place", "name": "Tokyo office"},
            "url": event_uri,
            "inReplyTo": null,
            "published": "2026-12-01T09:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    });
    assert_eq!(deliver_as(&c, alpha, "carol", beta, &create).await, 202);
    let post = eventually("the event reaches bob's home", async || {
        let home = c
            .get(&format!("{}/api/v1/timelines/home", beta.base), &bob.token)
            .await;
        home.as_array()
            .unwrap()
            .iter()
            .find(|s| s["uri"] == event_uri.as_str())
            .cloned()
    })
    .await;
    assert_eq!(
        post["content"],
        "<p><strong>Alumni reunion &lt;2027&gt;</strong></p><p>Bring your old badge.</p>",
        "{post}"
    );
    assert_eq!(post["url"], event_uri.as_str());
    for n in nodes {
        n.stop().await;
    }
}
