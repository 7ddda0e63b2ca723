//! Delivery between instances: following and posting across servers, signatures, restarts and
//! killed senders, discovery, search, and nodes that share one database.
use super::*;
use crate::common::{TestDb, test_config};
use crate::dual;
use tsunagu::app::AppState;
use tsunagu::config::FederationMode;

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
    a_peer_that_takes_only_rfc9421_gets_a_second_knock,
    a_web_only_node_and_a_worker_node_share_one_database,
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
    let (status, _) = tsunagu::services::instance::federation_status(&ctx)
        .await
        .unwrap();
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
    tsunagu::services::accounts::delete_local_account(&beta.state.ctx, "bob")
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
                    scheme: "http",
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

/// A peer that takes only RFC 9421 signatures (as a server may once
/// draft-cavage is retired): our draft-cavage delivery gets 401, we knock
/// again with RFC 9421 and are let in, and the next delivery to that host
/// is signed with RFC 9421 at once.
async fn a_peer_that_takes_only_rfc9421_gets_a_second_knock(b: Backend) {
    use axum::http::{HeaderMap, StatusCode};
    let (modern, port, extra) = fake_host("modern").await;
    let nodes = cluster_with(b, &["alpha"], &extra).await;
    let alpha = &nodes[0];
    let c = Client::new(&nodes);
    let dave = alpha.token("dave").await;
    let dave_doc: Value = c
        .http
        .get(format!("{}/users/dave", alpha.base))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dave_key = tsunagu::federation::signatures::PublicKey::from_pem(
        dave_doc["publicKey"]["publicKeyPem"].as_str().unwrap(),
    )
    .unwrap();
    let base = format!("http://modern.test:{port}");
    let host = format!("modern.test:{port}");
    let doc = fake_actor(&base, "m", &public_key_pem());
    // (cavage knocks refused, activity types let in)
    let log = std::sync::Arc::new(std::sync::Mutex::new((0, Vec::<String>::new())));
    let log2 = log.clone();
    let inbox = axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
        let (log, dave_key, host) = (log2.clone(), dave_key.clone(), host.clone());
        async move {
            let lookup = |n: &str| {
                headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            if lookup("signature-input").is_none() {
                log.lock().unwrap().0 += 1;
                return StatusCode::UNAUTHORIZED;
            }
            let req = tsunagu::federation::signatures::SignedRequest {
                method: "POST",
                path_and_query: "/users/m/inbox",
                scheme: "http",
                authority: &host,
                header: &lookup,
                body: Some(&body),
            };
            let verified =
                tsunagu::federation::signatures::parse_request(&lookup).and_then(|sig| {
                    tsunagu::federation::signatures::precheck(
                        &req,
                        &sig,
                        std::time::SystemTime::now(),
                    )?;
                    tsunagu::federation::signatures::verify(&req, &sig, &dave_key)
                });
            if verified.is_err() {
                return StatusCode::UNAUTHORIZED;
            }
            let activity: Value = serde_json::from_slice(&body).unwrap();
            log.lock()
                .unwrap()
                .1
                .push(activity["type"].as_str().unwrap().to_owned());
            StatusCode::ACCEPTED
        }
    });
    let app = axum::Router::new()
        .route(
            "/users/m",
            axum::routing::get(move || {
                let d = doc.clone();
                async move { d.to_string() }
            }),
        )
        .route("/users/m/inbox", inbox);
    tokio::spawn(async move { axum::serve(modern, app).await.unwrap() });

    let found = resolve_on(&c, &alpha.base, &dave, &format!("{base}/users/m")).await;
    let m = found["accounts"][0]["id"].as_str().unwrap().to_owned();
    c.post(
        &format!("{}/api/v1/accounts/{m}/follow", alpha.base),
        &dave,
        json!({}),
    )
    .await;
    eventually("the Follow is let in at the second knock", async || {
        (log.lock().unwrap().1 == ["Follow"]).then_some(())
    })
    .await;
    c.post(
        &format!("{}/api/v1/accounts/{m}/unfollow", alpha.base),
        &dave,
        json!({}),
    )
    .await;
    eventually("the Undo is let in", async || {
        (log.lock().unwrap().1 == ["Follow", "Undo"]).then_some(())
    })
    .await;
    assert_eq!(
        log.lock().unwrap().0,
        1,
        "only the first delivery knocked with draft-cavage"
    );
    for n in nodes {
        n.stop().await;
    }
}
