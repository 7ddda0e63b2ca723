//! Orgs as groups across servers: remote members and followers, members-only posts, club
//! recognition, who sees what, posts passed on, role changes and graduation.
use super::*;
use crate::dual;
use tsunagu::services::accounts;

dual!(
    a_remote_person_follows_an_org,
    remote_members_get_members_only_posts_and_followers_get_announcements,
    club_recognition_is_verified_from_another_server,
    who_sees_what_by_viewer_visibility_and_path,
    the_org_passes_members_posts_on_to_members_on_other_servers,
    role_changes_graduation_and_answers_by_id_reach_the_members_server,
    an_org_carries_its_threads_to_every_follower,
    each_follower_server_gets_the_announce_form_it_takes,
);

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

async fn remote_members_get_members_only_posts_and_followers_get_announcements(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta", "gamma"]).await;
    let (alpha, beta, gamma) = (&nodes[0], &nodes[1], &nodes[2]);
    let c = Client::new(&nodes);
    let OrgOn {
        office,
        id: acme_on_alpha,
    } = OrgOn::official(&c, alpha, "acme").await;
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

/// The done-when table of the orgs issue: hanako (a member of acme@alpha)
/// posts once in each visibility, mentioning taro (alpha) and carol (gamma),
/// who follow her and are no members; every viewer × path says which of the
/// five posts it shows. Letters: p public, u unlisted, f followers-only,
/// m members-only, d direct.
async fn who_sees_what_by_viewer_visibility_and_path(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta", "gamma"]).await;
    let (alpha, beta, gamma) = (&nodes[0], &nodes[1], &nodes[2]);
    let c = Client::new(&nodes);
    let org = OrgOn::official(&c, alpha, "acme").await;
    let (office, acme) = (org.office.clone(), org.id.clone());
    let (hanako, shiro, taro) = (
        alpha.token("hanako").await,
        alpha.token("shiro").await,
        alpha.token("taro").await,
    );
    org.join_by_invite(&c, alpha, &[&hanako, &shiro]).await;
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

/// bob (beta) and carol (gamma) are members of acme@alpha; dave (gamma) is
/// not. bob's members-only posts (our API's audience, and a plain Mastodon
/// app's private mention of the org) reach carol through the org, which
/// passes them on as Announce with the Note inside; dave never sees them.
async fn the_org_passes_members_posts_on_to_members_on_other_servers(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta", "gamma"]).await;
    let (alpha, beta, gamma) = (&nodes[0], &nodes[1], &nodes[2]);
    let c = Client::new(&nodes);
    let OrgOn { office, id: acme } = OrgOn::official(&c, alpha, "acme").await;
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

/// The office changes a remote member's role and graduates him: his server
/// hears each change (Accept{Join} again, with the role and leaving date).
/// Answers that name the Join by id only (as other servers send them) work.
async fn role_changes_graduation_and_answers_by_id_reach_the_members_server(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let OrgOn { office, id: acme } = OrgOn::official(&c, alpha, "acme").await;
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
        tsunagu::db::memberships::find(
            &mut conn,
            tsunagu::domain::OrgId(org),
            tsunagu::domain::AccountId(person),
        )
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

/// The org as a FEP-1b12 group, on three servers: a post into acme@alpha is
/// followed from beta and gamma. A reply from beta reaches gamma through
/// the org; a like from gamma is announced to beta; a reply by an account
/// the org blocks is not passed on; the author's edit and deletion on alpha
/// reach both (none of them follows the author).
async fn an_org_carries_its_threads_to_every_follower(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta", "gamma"]).await;
    let (alpha, beta, gamma) = (&nodes[0], &nodes[1], &nodes[2]);
    let c = Client::new(&nodes);
    let acme = OrgOn::official(&c, alpha, "acme").await;
    let hanako = alpha.token("hanako").await;
    acme.join_by_invite(&c, alpha, &[&hanako]).await;
    let acct = format!("acme@{}", alpha.host());
    let bob = c.follower(beta, "bob", &acct).await.token;
    let carol = c.follower(gamma, "carol", &acct).await.token;
    let post = c
        .post(
            &format!("{}/api/v1/statuses", alpha.base),
            &hanako,
            json!({"status": "Who is coming to the Osaka reunion?", "audience": acme.id}),
        )
        .await;
    let uri = post["uri"].as_str().unwrap().to_owned();
    // Each follower's server has the post, as the org's boost.
    let boosted = async |node: &Instance, token: &str| -> String {
        eventually("the org's boost arrives", async || {
            let home = c
                .get(&format!("{}/api/v1/timelines/home", node.base), token)
                .await;
            home.as_array()
                .unwrap()
                .iter()
                .find(|s| s["reblog"]["uri"] == uri.as_str())
                .map(|s| s["reblog"]["id"].as_str().unwrap().to_owned())
        })
        .await
    };
    let on_beta = boosted(beta, &bob).await;
    let on_gamma = boosted(gamma, &carol).await;

    // bob (no member) replies on beta: gamma gets it through the org.
    let reply = c
        .post(
            &format!("{}/api/v1/statuses", beta.base),
            &bob,
            json!({"status": "Count me in!", "in_reply_to_id": on_beta}),
        )
        .await;
    let reply_uri = reply["uri"].as_str().unwrap().to_owned();
    let thread = |node: &Instance, token: &str, id: &str| {
        let url = format!("{}/api/v1/statuses/{id}/context", node.base);
        let token = token.to_owned();
        let c = &c;
        async move { c.get(&url, &token).await }
    };
    eventually("gamma has bob's reply in the thread", async || {
        let t = thread(gamma, &carol, &on_gamma).await;
        (t["descendants"][0]["uri"] == reply_uri.as_str()).then_some(())
    })
    .await;
    let on_alpha = thread(alpha, &hanako, post["id"].as_str().unwrap()).await;
    assert_eq!(on_alpha["descendants"][0]["uri"], reply_uri.as_str());

    // carol likes the post on gamma: alpha counts it, and beta hears it from the org.
    c.post(
        &format!("{}/api/v1/statuses/{on_gamma}/favourite", gamma.base),
        &carol,
        json!({}),
    )
    .await;
    let status_on = |node: &Instance, token: &str, id: &str| {
        let url = format!("{}/api/v1/statuses/{id}", node.base);
        let token = token.to_owned();
        let c = &c;
        async move { c.call(reqwest::Method::GET, &url, &token, None).await }
    };
    eventually("beta counts carol's like", async || {
        let (_, s) = status_on(beta, &bob, &on_beta).await;
        (s["favourites_count"] == 1).then_some(())
    })
    .await;
    let (_, s) = status_on(alpha, &hanako, post["id"].as_str().unwrap()).await;
    assert_eq!(s["favourites_count"], 1, "{s}");

    // What an account the org blocks does is not passed on: dave@gamma's
    // reply stays with alpha, while hanako's later reply reaches beta (the
    // org's deliveries to beta, and beta's processing of them, go in order).
    let dave = gamma.token("dave").await;
    let dave_on_alpha = c
        .get(
            &format!(
                "{}/api/v1/accounts/lookup?acct=dave@{}",
                alpha.base,
                gamma.host()
            ),
            &acme.office,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.post(
        &format!("{}/api/v1/orgs/{}/blocks", alpha.base, acme.id),
        &acme.office,
        json!({"account_id": dave_on_alpha}),
    )
    .await;
    let blocked = c
        .post(
            &format!("{}/api/v1/statuses", gamma.base),
            &dave,
            json!({"status": "Me too", "in_reply_to_id": on_gamma}),
        )
        .await;
    let blocked_uri = blocked["uri"].as_str().unwrap().to_owned();
    eventually("alpha has dave's reply", async || {
        let t = thread(alpha, &hanako, post["id"].as_str().unwrap()).await;
        t["descendants"]
            .as_array()?
            .iter()
            .any(|d| d["uri"] == blocked_uri.as_str())
            .then_some(())
    })
    .await;
    let later = c
        .post(
            &format!("{}/api/v1/statuses", alpha.base),
            &hanako,
            json!({"status": "See you there", "in_reply_to_id": post["id"]}),
        )
        .await;
    let t = eventually("beta has hanako's reply", async || {
        let t = thread(beta, &bob, &on_beta).await;
        t["descendants"]
            .as_array()?
            .iter()
            .any(|d| d["uri"] == later["uri"])
            .then_some(t)
    })
    .await;
    assert!(
        !t["descendants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["uri"] == blocked_uri.as_str()),
        "a blocked account's reply was passed on: {t}"
    );

    // hanako edits: both followers' servers show the new text.
    let (st, _) = c
        .call(
            reqwest::Method::PUT,
            &format!(
                "{}/api/v1/statuses/{}",
                alpha.base,
                post["id"].as_str().unwrap()
            ),
            &hanako,
            Some(json!({"status": "Osaka reunion: twelve are coming"})),
        )
        .await;
    assert_eq!(st, 200);
    for (node, token, id) in [(beta, &bob, &on_beta), (gamma, &carol, &on_gamma)] {
        eventually("the edit reaches the org's followers", async || {
            let (_, s) = status_on(node, token, id).await;
            (s["content"].as_str()?.contains("twelve are coming") && s["edited_at"].is_string())
                .then_some(())
        })
        .await;
    }

    // hanako deletes: gone on both.
    let (st, _) = c
        .call(
            reqwest::Method::DELETE,
            &format!(
                "{}/api/v1/statuses/{}",
                alpha.base,
                post["id"].as_str().unwrap()
            ),
            &hanako,
            None,
        )
        .await;
    assert_eq!(st, 200);
    for (node, token, id) in [(beta, &bob, &on_beta), (gamma, &carol, &on_gamma)] {
        eventually("the deletion reaches the org's followers", async || {
            let (st, _) = status_on(node, token, id).await;
            (st == 404).then_some(())
        })
        .await;
    }
    for n in nodes {
        n.stop().await;
    }
}

/// A server that follows acme: serves its NodeInfo (`software`), a person
/// and an inbox that keeps what arrives. Returns the person's URI, its key
/// and the inbox's log.
async fn follower_server(
    name: &str,
    software: &'static str,
) -> (
    String,
    tsunagu::federation::signatures::PrivateKey,
    std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    BTreeMap<String, String>,
) {
    let (listener, port, extra) = fake_host(name).await;
    let base = format!("http://{name}.test:{port}");
    let (key, pem) = key_pair();
    let actor = fake_actor(&base, "x", &pem);
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let got = log.clone();
    let links = json!({"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                                   "href": format!("{base}/nodeinfo/2.1")}]});
    let info = json!({"version": "2.1", "software": {"name": software, "version": "1.0"},
                      "protocols": ["activitypub"], "openRegistrations": false,
                      "usage": {"users": {}}, "services": {"inbound": [], "outbound": []}, "metadata": {}});
    let doc = |v: Value| axum::routing::get(move || async move { v.to_string() });
    let app = axum::Router::new()
        .route("/.well-known/nodeinfo", doc(links))
        .route("/nodeinfo/2.1", doc(info))
        .route("/users/x", doc(actor.clone()))
        .route(
            "/users/x/inbox",
            axum::routing::post(move |body: axum::body::Bytes| {
                let got = got.clone();
                async move {
                    got.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap());
                    axum::http::StatusCode::ACCEPTED
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (actor["id"].as_str().unwrap().to_owned(), key, log, extra)
}

/// Lemmy answers 400 to an Announce of a Note, and microblogs read only
/// that form: the org learns what each follower's server runs (NodeInfo)
/// and sends each the form it takes.
async fn each_follower_server_gets_the_announce_form_it_takes(b: Backend) {
    let (lemmy, lemmy_key, lemmy_log, mut extra) = follower_server("lemmyish", "lemmy").await;
    let (masto, masto_key, masto_log, more) = follower_server("mastoish", "mastodon").await;
    extra.extend(more);
    let nodes = cluster_with(b, &["alpha"], &extra).await;
    let alpha = &nodes[0];
    let c = Client::new(&nodes);
    let acme = OrgOn::official(&c, alpha, "acme").await;
    let hanako = alpha.token("hanako").await;
    acme.join_by_invite(&c, alpha, &[&hanako]).await;
    let acme_uri = format!("{}/users/acme", alpha.base);
    for (actor, key, log) in [
        (&lemmy, &lemmy_key, &lemmy_log),
        (&masto, &masto_key, &masto_log),
    ] {
        let follow = json!({"@context": "https://www.w3.org/ns/activitystreams",
                            "id": format!("{actor}#follow"), "type": "Follow",
                            "actor": actor, "object": acme_uri});
        assert_eq!(
            deliver_signed(&c, key, &format!("{actor}#main-key"), alpha, &follow).await,
            202
        );
        eventually("the follow is accepted", async || {
            log.lock()
                .unwrap()
                .iter()
                .any(|a| a["type"] == "Accept")
                .then_some(())
        })
        .await;
    }
    let post = c
        .post(
            &format!("{}/api/v1/statuses", alpha.base),
            &hanako,
            json!({"status": "Homecoming on Saturday", "audience": acme.id}),
        )
        .await;
    // The object of each Announce: a Note's id (plain) or a Create (wrapped).
    let announced = |log: &std::sync::Arc<std::sync::Mutex<Vec<Value>>>| -> Vec<String> {
        log.lock()
            .unwrap()
            .iter()
            .filter(|a| a["type"] == "Announce")
            .map(|a| match &a["object"] {
                Value::String(_) => "Note".to_owned(),
                o => o["type"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    };
    // Deletion follows the post through the org; each host's deliveries go
    // in order, so once it is there, every form of the post is too.
    c.call(
        reqwest::Method::DELETE,
        &format!(
            "{}/api/v1/statuses/{}",
            alpha.base,
            post["id"].as_str().unwrap()
        ),
        &hanako,
        None,
    )
    .await;
    eventually("both servers got the deletion", async || {
        (announced(&lemmy_log).contains(&"Delete".to_owned())
            && announced(&masto_log).contains(&"Delete".to_owned()))
        .then_some(())
    })
    .await;
    assert_eq!(announced(&lemmy_log), ["Create", "Delete"]);
    assert_eq!(announced(&masto_log), ["Note", "Delete"]);
    for n in nodes {
        n.stop().await;
    }
}
