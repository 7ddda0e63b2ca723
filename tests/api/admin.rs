//! The instance admin: reports and account actions through Mastodon's admin
//! API, silence in timelines and notifications, domain blocks and allows,
//! and the admin's web pages (settings that apply at once).
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};
use crate::dual;
use crate::web::Browser;

dual!(
    reports_are_handled_with_the_reported_posts_and_account_actions,
    a_silenced_account_leaves_public_timelines_and_strangers_notifications,
    domain_blocks_and_allows_are_managed_through_the_admin_api,
    the_admin_pages_change_settings_and_block_servers,
);

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn account_id(app: &TestApp, name: &str) -> String {
    id(&app
        .get(&format!("/api/v1/accounts/lookup?acct={name}"), None)
        .await
        .json())
}

async fn post(app: &TestApp, token: &str, text: &str) -> Value {
    let r = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(token),
            &json!({"status": text, "visibility": "public"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn reports_are_handled_with_the_reported_posts_and_account_actions(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, admin) = app
        .user_with("admin", "read write admin:read admin:write", true)
        .await;
    let (me, reporter) = app.user("reporter", "read write").await;
    let (_, spammer) = app.user("spammer", "read write").await;
    let spammer_id = account_id(&app, "spammer").await;
    let spam = post(&app, &spammer, "buy cheap watches").await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/reports",
            Some(&reporter),
            &json!({"account_id": spammer_id, "status_ids": [spam["id"]], "comment": "spam", "category": "spam"}),
        )
        .await;
    let report_id = id(&r.json());

    // Only admins, and only with admin scopes.
    let not_admin = app.token_for(&me, "admin:read").await;
    assert_eq!(
        app.get("/api/v1/admin/reports", Some(&not_admin))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/admin/reports", Some(&reporter))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "no admin scope"
    );

    let open = app.get("/api/v1/admin/reports", Some(&admin)).await.json();
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    let one = &open[0];
    assert_eq!(one["id"], report_id.as_str());
    assert_eq!(one["target_account"]["username"], "spammer");
    assert_eq!(one["account"]["username"], "reporter");
    assert_eq!(one["category"], "spam");
    assert_eq!(one["statuses"][0]["id"], spam["id"], "the reported post");
    assert_eq!(one["action_taken"], false);

    // Suspending through the report resolves it and signs the spammer out.
    let bad = app
        .json(
            Method::POST,
            &format!("/api/v1/admin/accounts/{spammer_id}/action"),
            Some(&admin),
            &json!({"type": "delete-everything"}),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    assert!(bad.json()["error"].as_str().unwrap().contains("type"));
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/admin/accounts/{spammer_id}/action"),
            Some(&admin),
            &json!({"type": "suspend", "report_id": report_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&spammer))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "a suspended account's token stops working (as on Mastodon: 403, disabled)"
    );
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{spammer_id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let public = app.get("/api/v1/timelines/public", None).await.json();
    assert!(
        !public
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == spam["id"]),
        "a suspended account's posts leave the timelines: {public}"
    );
    assert!(
        app.get("/api/v1/admin/reports", Some(&admin))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let done = app
        .get(&format!("/api/v1/admin/reports/{report_id}"), Some(&admin))
        .await
        .json();
    assert_eq!(done["action_taken"], true);
    assert_eq!(done["action_taken_by_account"]["username"], "admin");
    assert_eq!(done["target_account"]["suspended"], true);
    let resolved = app
        .get("/api/v1/admin/reports?resolved=true", Some(&admin))
        .await
        .json();
    assert_eq!(resolved.as_array().unwrap().len(), 1);

    // Reopened, then resolved without action; the suspension is lifted.
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/admin/reports/{report_id}/reopen"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["action_taken"], false);
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/admin/reports/{report_id}/resolve"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["action_taken"], true);
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/admin/accounts/{spammer_id}/unsuspend"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["suspended"], false, "{}", r.text());
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&spammer))
            .await
            .status,
        StatusCode::OK
    );
    // An admin cannot suspend themselves or another admin; unknown accounts are 404.
    let (_, _) = app.user_with("second_admin", "read", true).await;
    let second = account_id(&app, "second_admin").await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/admin/accounts/{second}/action"),
            Some(&admin),
            &json!({"type": "silence"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let admin_id = account_id(&app, "admin").await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/admin/accounts/{admin_id}/action"),
            Some(&admin),
            &json!({"type": "suspend"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .json(
            Method::POST,
            "/api/v1/admin/accounts/999/action",
            Some(&admin),
            &json!({"type": "silence"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.finish().await;
}

async fn a_silenced_account_leaves_public_timelines_and_strangers_notifications(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, admin) = app
        .user_with("admin", "read write admin:read admin:write", true)
        .await;
    let (_, loud) = app.user("loud", "read write").await;
    let (_, fan) = app.user("fan", "read write follow").await;
    let (_, stranger) = app.user("stranger", "read write").await;
    let loud_id = account_id(&app, "loud").await;
    app.json(
        Method::POST,
        &format!("/api/v1/accounts/{loud_id}/follow"),
        Some(&fan),
        &json!({}),
    )
    .await;
    let shout = post(&app, &loud, "LOOK AT ME").await;
    // A club of theirs, whose timeline strangers can read.
    let r = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(&loud),
            &json!({"username": "loud_club", "kind": "club"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let club = r.json()["id"].as_str().unwrap().to_owned();
    let in_public = |tl: &Value| {
        tl.as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == shout["id"])
    };
    assert!(in_public(
        &app.get("/api/v1/timelines/public", None).await.json()
    ));

    let found = |token: &str| {
        let (app, token) = (&app, token.to_owned());
        async move {
            app.get("/api/v2/search?q=LOOK&type=statuses", Some(&token))
                .await
                .json()["statuses"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(found(&stranger).await, 1, "found before the silence");
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/admin/accounts/{loud_id}/action"),
            Some(&admin),
            &json!({"type": "silence"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    for (who, token) in [("anonymous", None), ("a stranger", Some(stranger.as_str()))] {
        let tl = app.get("/api/v1/timelines/public", token).await.json();
        assert!(!in_public(&tl), "{who} does not see a silenced account");
        let local = app
            .get("/api/v1/timelines/public?local=true", token)
            .await
            .json();
        assert!(
            !in_public(&local),
            "{who}: not in the local timeline either"
        );
    }
    let tl = app.get("/api/v1/timelines/public", Some(&fan)).await.json();
    assert!(in_public(&tl), "a follower still sees it");
    // Search and the timeline of an org they post into: the same.
    assert_eq!(found(&stranger).await, 0, "search hides it from strangers");
    assert_eq!(found(&fan).await, 1, "and finds it for a follower");
    let into_club = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&loud),
            &json!({"status": "CLUB NEWS", "audience": club}),
        )
        .await
        .json();
    let in_club = |token: Option<&str>| {
        let (app, token, club) = (&app, token.map(str::to_owned), club.clone());
        async move {
            app.get(&format!("/api/v1/orgs/{club}/timeline"), token.as_deref())
                .await
                .json()
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["content"].as_str().unwrap_or("").contains("CLUB NEWS"))
        }
    };
    assert!(into_club["id"].is_string(), "{into_club}");
    assert!(!in_club(None).await && !in_club(Some(&stranger)).await);
    assert!(in_club(Some(&fan)).await, "a follower sees it in the club");
    // Streams: the follower's home, not the public or hashtag streams.
    let (_, mut home) =
        crate::streaming::Sse::open(&app, "/api/v1/streaming/user", Some(&fan)).await;
    let (_, mut public) =
        crate::streaming::Sse::open(&app, "/api/v1/streaming/public/local", None).await;
    let (_, mut tag) =
        crate::streaming::Sse::open(&app, "/api/v1/streaming/hashtag?tag=loud", None).await;
    post(&app, &loud, "STILL HERE #loud").await;
    let (ev, data) = home
        .next(crate::streaming::WAIT)
        .await
        .expect("the follower's home");
    assert!(ev == "update" && data.contains("STILL HERE"), "{ev} {data}");
    assert!(
        public.next(crate::streaming::QUIET).await.is_none(),
        "not on the public stream"
    );
    assert!(
        tag.next(crate::streaming::QUIET).await.is_none(),
        "nor the hashtag's"
    );
    // The post itself stays reachable by its link.
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{}", id(&shout)), None)
            .await
            .status,
        StatusCode::OK
    );
    // Mentions reach followers, not strangers.
    post(&app, &loud, "@fan @stranger hello").await;
    let mentions = |token: &str| {
        let token = token.to_owned();
        let app = &app;
        async move {
            app.get("/api/v1/notifications?types[]=mention", Some(&token))
                .await
                .json()
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(mentions(&fan).await, 1);
    assert_eq!(mentions(&stranger).await, 0);
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/admin/accounts/{loud_id}/unsilence"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["silenced"], false);
    assert_eq!(
        mentions(&stranger).await,
        1,
        "unsilenced, the mention shows"
    );
    assert!(in_public(
        &app.get("/api/v1/timelines/public", None).await.json()
    ));
    assert_eq!(found(&stranger).await, 1, "unsilenced, found again");
    assert!(in_club(Some(&stranger)).await, "and shown in the club");
    app.finish().await;
}

async fn domain_blocks_and_allows_are_managed_through_the_admin_api(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, admin) = app
        .user_with("admin", "read write admin:read admin:write", true)
        .await;
    let call = |method: Method, path: &str, body: Value| {
        let app = &app;
        let admin = admin.clone();
        let path = path.to_owned();
        async move { app.json(method, &path, Some(&admin), &body).await }
    };
    for (bad, why) in [
        ("", "required"),
        ("*.evil.example", "not a domain"),
        (app.state.ctx.config.server.domain.as_str(), "this server"),
    ] {
        let r = call(
            Method::POST,
            "/api/v1/admin/domain_blocks",
            json!({"domain": bad, "severity": "suspend"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert!(r.text().contains(why), "{bad:?}: {}", r.text());
    }
    let r = call(
        Method::POST,
        "/api/v1/admin/domain_blocks",
        json!({"domain": "Evil.Example", "severity": "obliterate"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let r = call(
        Method::POST,
        "/api/v1/admin/domain_blocks",
        json!({"domain": "https://Evil.Example/@someone", "private_comment": "spam wave"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let block = r.json();
    assert_eq!(
        block["domain"], "evil.example",
        "normalised from a pasted URL"
    );
    assert_eq!(block["severity"], "silence", "Mastodon's default");
    let ctx = &app.state.ctx;
    assert!(ctx.settings().domains.silences("m.evil.example"));
    assert!(!ctx.settings().domains.refuses("evil.example"));

    let r = call(
        Method::PUT,
        &format!("/api/v1/admin/domain_blocks/{}", id(&block)),
        json!({"severity": "suspend"}),
    )
    .await;
    assert_eq!(r.json()["severity"], "suspend");
    assert_eq!(r.json()["private_comment"], "spam wave", "kept");
    assert!(ctx.settings().domains.refuses("evil.example:8443"));
    let list = app
        .get("/api/v1/admin/domain_blocks", Some(&admin))
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let r = call(
        Method::DELETE,
        &format!("/api/v1/admin/domain_blocks/{}", id(&block)),
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!ctx.settings().domains.refuses("evil.example"));
    assert_eq!(
        call(
            Method::DELETE,
            &format!("/api/v1/admin/domain_blocks/{}", id(&block)),
            json!({}),
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    let r = call(
        Method::POST,
        "/api/v1/admin/domain_allows",
        json!({"domain": "friend.example"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let allow = r.json();
    let list = app
        .get("/api/v1/admin/domain_allows", Some(&admin))
        .await
        .json();
    assert_eq!(list[0]["domain"], "friend.example");
    call(
        Method::DELETE,
        &format!("/api/v1/admin/domain_allows/{}", id(&allow)),
        json!({}),
    )
    .await;
    assert!(
        app.get("/api/v1/admin/domain_allows", Some(&admin))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.finish().await;
}

async fn the_admin_pages_change_settings_and_block_servers(b: Backend) {
    let app = TestApp::start(b).await;
    app.user_with("admin", "read", true).await;
    app.user("member", "read").await;
    let mut member = Browser::new(&app, "en");
    member.sign_in("member", "correct horse battery").await;
    assert_eq!(member.get("/admin").await.status, StatusCode::FORBIDDEN);
    assert!(!member.get("/home").await.text().contains("href=\"/admin\""));

    let mut admin = Browser::new(&app, "ja");
    admin.sign_in("admin", "correct horse battery").await;
    let home = admin.get("/home").await.text();
    assert!(
        home.contains("href=\"/admin\""),
        "the header links the admin pages"
    );
    for page in [
        "/admin",
        "/admin/accounts",
        "/admin/domains",
        "/admin/federation",
        "/admin/settings",
    ] {
        let r = admin.get(page).await;
        assert_eq!(r.status, StatusCode::OK, "{page}: {}", r.text());
        assert!(r.text().contains("サーバー管理"), "{page} in Japanese");
    }

    // Settings: a forged form is refused; a real one applies at once.
    let forged = admin
        .post(
            "/admin/settings",
            &[("authenticity_token", "forged"), ("title", "Hacked")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let r = admin
        .post(
            "/admin/settings",
            &[
                ("title", "Acme OB・OG会"),
                ("description", "Acme の卒業生ネットワーク"),
                ("contact_email", "office@acme.example"),
                ("rules", "Be kind\n\n No spam "),
                ("registration_mode", "closed"),
                ("federation_access", "open"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let instance = app.get("/api/v2/instance", None).await.json();
    assert_eq!(instance["title"], "Acme OB・OG会");
    assert_eq!(instance["contact"]["email"], "office@acme.example");
    assert_eq!(instance["registrations"]["enabled"], false);
    let rules: Vec<&str> = instance["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["Be kind", "No spam"]);
    // Closed: the API refuses sign-ups now.
    let (client_id, secret) = app.app("read write", "urn:ietf:wg:oauth:2.0:oob").await;
    let token = app.app_token(&client_id, &secret, "read write").await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/accounts",
            Some(&token),
            &json!({"username": "newbie", "email": "newbie@example.com", "password": "correct horse battery", "agreement": true, "locale": "en"}),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.text());
    let bad = admin
        .post(
            "/admin/settings",
            &[
                ("title", ""),
                ("registration_mode", "open"),
                ("federation_access", "open"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.state.ctx.settings().title, "Acme OB・OG会", "unchanged");

    // A server blocked from the page is refused by the federation client.
    let r = admin
        .post(
            "/admin/domains",
            &[
                ("domain", "spam.example"),
                ("severity", "suspend"),
                ("private_comment", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.state.ctx.settings().domains.refuses("spam.example"));
    let page = admin.get("/admin/domains?done=blocked").await.text();
    assert!(page.contains("spam.example"));
    assert!(page.contains("サーバーをブロックしました"));
    app.finish().await;
}
