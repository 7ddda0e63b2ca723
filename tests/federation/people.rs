//! Accounts across servers: moves, reports as Flags, and an inbound flood.
use super::*;
use crate::dual;

dual!(
    reports_reach_the_reported_accounts_server_as_flags,
    a_moved_account_takes_its_followers_along,
    an_inbound_flood_is_refused_politely_and_loses_nothing,
);

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
        tsunagu::services::moderation::reports(&alpha.state.ctx, false)
            .await
            .unwrap()
            .len(),
        2
    );

    let on_beta = eventually("the Flag is stored as a report on beta", async || {
        let open = tsunagu::services::moderation::reports(&beta.state.ctx, false)
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
