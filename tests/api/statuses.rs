use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, Resp, TestApp};
use crate::dual;

dual!(
    post_read_edit_delete,
    visibility_rules,
    threads_and_context,
    favourites_reblogs_bookmarks_pins,
    bad_statuses
);

async fn post(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app
        .json(Method::POST, "/api/v1/statuses", Some(token), &body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn post_read_edit_delete(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, taro) = app.user("taro", "read write").await;
    let (_, hanako) = app.user("hanako", "read write").await;
    let s = post(&app, &taro, json!({"status": "Hello @hanako! Alumni meetup at https://example.com/meetup #Osaka #alumni", "language": "ja", "spoiler_text": ""})).await;
    assert_eq!(s["visibility"], "public");
    assert_eq!(s["language"], "ja");
    assert_eq!(s["account"]["username"], "taro");
    assert_eq!(s["account"]["statuses_count"], 1);
    assert!(
        s["content"]
            .as_str()
            .unwrap()
            .contains("class=\"u-url mention\""),
        "{}",
        s["content"]
    );
    assert!(
        s["content"]
            .as_str()
            .unwrap()
            .contains("https://alumni.test/tags/osaka")
    );
    assert_eq!(s["mentions"][0]["acct"], "hanako");
    let tags: Vec<&str> = s["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tags, vec!["osaka", "alumni"]);
    assert!(s["text"].is_null());
    assert!(s["edited_at"].is_null());
    assert_eq!(s["application"], Value::Null);
    assert!(s["created_at"].as_str().unwrap().ends_with('Z'));
    for key in [
        "uri",
        "url",
        "reblog",
        "poll",
        "card",
        "media_attachments",
        "emojis",
        "favourited",
        "reblogged",
        "muted",
        "bookmarked",
        "pinned",
        "filtered",
        "in_reply_to_id",
        "in_reply_to_account_id",
    ] {
        assert!(s.get(key).is_some(), "missing {key}");
    }
    let sid = id(&s);
    // hanako was notified of the mention.
    let n = app.get("/api/v1/notifications", Some(&hanako)).await.json();
    assert_eq!(n[0]["type"], "mention");
    assert_eq!(n[0]["status"]["id"], sid);
    // Anyone may read a public status.
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{sid}"), None)
            .await
            .json()["id"],
        sid
    );

    // Edit with history and source.
    let r = app
        .json(
            Method::PUT,
            &format!("/api/v1/statuses/{sid}"),
            Some(&taro),
            &json!({"status": "Hello again #Kobe", "spoiler_text": "meetup"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let e = r.json();
    assert!(e["edited_at"].is_string());
    assert_eq!(e["spoiler_text"], "meetup");
    assert_eq!(e["tags"][0]["name"], "kobe");
    let h = app
        .get(&format!("/api/v1/statuses/{sid}/history"), Some(&taro))
        .await
        .json();
    assert_eq!(h.as_array().unwrap().len(), 2);
    assert!(h[0]["content"].as_str().unwrap().contains("Hello"));
    assert!(h[1]["content"].as_str().unwrap().contains("again"));
    let src = app
        .get(&format!("/api/v1/statuses/{sid}/source"), Some(&taro))
        .await
        .json();
    assert_eq!(src["text"], "Hello again #Kobe");
    assert_eq!(src["spoiler_text"], "meetup");
    // Others cannot edit, delete or see the source.
    app.json(
        Method::PUT,
        &format!("/api/v1/statuses/{sid}"),
        Some(&hanako),
        &json!({"status": "mine now"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.get(&format!("/api/v1/statuses/{sid}/source"), Some(&hanako))
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");

    // Delete returns the source for redraft; then it is gone.
    let d = app
        .send(
            Request::builder()
                .method(Method::DELETE)
                .uri(format!("/api/v1/statuses/{sid}"))
                .header("authorization", format!("Bearer {taro}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    assert_eq!(d.json()["text"], "Hello again #Kobe");
    app.get(&format!("/api/v1/statuses/{sid}"), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    // Its mention notification went with it.
    assert_eq!(
        app.get("/api/v1/notifications", Some(&hanako)).await.json(),
        json!([])
    );

    // Idempotency-Key: a retried POST returns the same status.
    let req = |key: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/statuses")
            .header("authorization", format!("Bearer {taro}"))
            .header("idempotency-key", key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("status=once"))
            .unwrap()
    };
    let a = app.send(req("k1")).await.json();
    let b2 = app.send(req("k1")).await.json();
    assert_eq!(a["id"], b2["id"]);
    let c = app.send(req("k2")).await.json();
    assert_ne!(a["id"], c["id"]);
    app.finish().await;
}

async fn get_status(app: &TestApp, sid: &str, token: Option<&str>) -> StatusCode {
    app.get(&format!("/api/v1/statuses/{sid}"), token)
        .await
        .status
}

async fn visibility_rules(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, author) = app.user("author", "read write follow").await;
    let (_, follower) = app.user("follower", "read write follow").await;
    let (_, stranger) = app.user("stranger", "read write follow").await;
    let (_, friend) = app.user("friend", "read write follow").await;
    let author_id = app
        .get("/api/v1/accounts/lookup?acct=author", None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.form(
            Method::POST,
            &format!("/api/v1/accounts/{author_id}/follow"),
            Some(&follower),
            &[]
        )
        .await
        .json()["following"],
        true
    );

    let public = id(&post(
        &app,
        &author,
        json!({"status": "public", "visibility": "public"}),
    )
    .await);
    let unlisted = id(&post(
        &app,
        &author,
        json!({"status": "unlisted", "visibility": "unlisted"}),
    )
    .await);
    let private = id(&post(
        &app,
        &author,
        json!({"status": "followers only", "visibility": "private"}),
    )
    .await);
    let direct = id(&post(
        &app,
        &author,
        json!({"status": "@friend just you", "visibility": "direct"}),
    )
    .await);

    let who: [(&str, Option<&str>); 5] = [
        ("anonymous", None),
        ("stranger", Some(&stranger)),
        ("follower", Some(&follower)),
        ("friend", Some(&friend)),
        ("author", Some(&author)),
    ];
    let expect = |viewer: &str, sid: &str| -> bool {
        if sid == public || sid == unlisted {
            return true;
        }
        if sid == private {
            return matches!(viewer, "follower" | "author");
        }
        matches!(viewer, "friend" | "author")
    };
    for (name, token) in who {
        for sid in [&public, &unlisted, &private, &direct] {
            let visible = get_status(&app, sid, token).await == StatusCode::OK;
            assert_eq!(visible, expect(name, sid), "{name} seeing {sid}");
            let ctx = app
                .get(&format!("/api/v1/statuses/{sid}/context"), token)
                .await
                .status;
            assert_eq!(
                ctx == StatusCode::OK,
                expect(name, sid),
                "{name} context of {sid}"
            );
            let favs = app
                .get(&format!("/api/v1/statuses/{sid}/favourited_by"), token)
                .await
                .status;
            assert_eq!(
                favs == StatusCode::OK,
                expect(name, sid),
                "{name} favourited_by of {sid}"
            );
        }
        // The account's statuses show exactly the visible ones.
        let listed: Vec<String> = app
            .get(&format!("/api/v1/accounts/{author_id}/statuses"), token)
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(id)
            .collect();
        for sid in [&public, &unlisted, &private, &direct] {
            assert_eq!(
                listed.contains(sid),
                expect(name, sid),
                "{name} listing {sid}"
            );
        }
        // Strangers cannot act on what they cannot see.
        if let Some(t) = token {
            for sid in [&private, &direct] {
                let r = app
                    .form(
                        Method::POST,
                        &format!("/api/v1/statuses/{sid}/favourite"),
                        Some(t),
                        &[],
                    )
                    .await;
                assert_eq!(
                    r.status == StatusCode::OK,
                    expect(name, sid),
                    "{name} favouriting {sid}"
                );
            }
        }
    }
    // Home timelines: the follower sees public, unlisted, private; the stranger none of them.
    let home: Vec<String> = app
        .get("/api/v1/timelines/home", Some(&follower))
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    assert_eq!(
        home,
        vec![private.clone(), unlisted.clone(), public.clone()]
    );
    assert_eq!(
        app.get("/api/v1/timelines/home", Some(&stranger))
            .await
            .json(),
        json!([])
    );
    // Public timelines: only public.
    let pubs: Vec<String> = app
        .get("/api/v1/timelines/public", None)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    assert_eq!(pubs, vec![public.clone()]);
    assert_eq!(
        app.get("/api/v1/timelines/public?local=true", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get("/api/v1/timelines/public?remote=true", None)
            .await
            .json(),
        json!([])
    );
    app.get("/api/v1/timelines/home", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "The access token is invalid");
    app.finish().await;
}

async fn threads_and_context(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, a) = app.user("alice", "read write").await;
    let (_, bob) = app.user("bob", "read write").await;
    let root = id(&post(&app, &a, json!({"status": "root"})).await);
    let r1 = post(
        &app,
        &bob,
        json!({"status": "@alice reply 1", "in_reply_to_id": root}),
    )
    .await;
    assert_eq!(r1["in_reply_to_id"], root);
    assert_eq!(
        r1["in_reply_to_account_id"],
        app.get("/api/v1/accounts/lookup?acct=alice", None)
            .await
            .json()["id"]
    );
    let r1 = id(&r1);
    let r2 = id(&post(&app, &a, json!({"status": "reply 2", "in_reply_to_id": r1})).await);
    let r3 = id(&post(
        &app,
        &bob,
        json!({"status": "reply 3", "in_reply_to_id": root}),
    )
    .await);
    let hidden = id(&post(
        &app,
        &a,
        json!({"status": "private reply", "in_reply_to_id": root, "visibility": "private"}),
    )
    .await);

    let ctx = app
        .get(&format!("/api/v1/statuses/{r2}/context"), None)
        .await
        .json();
    let ids = |v: &Value| v.as_array().unwrap().iter().map(id).collect::<Vec<_>>();
    assert_eq!(ids(&ctx["ancestors"]), vec![root.clone(), r1.clone()]);
    assert_eq!(ids(&ctx["descendants"]), Vec::<String>::new());
    let ctx = app
        .get(&format!("/api/v1/statuses/{root}/context"), None)
        .await
        .json();
    assert_eq!(
        ids(&ctx["descendants"]),
        vec![r1.clone(), r2.clone(), r3.clone()],
        "depth-first, private hidden"
    );
    let ctx = app
        .get(&format!("/api/v1/statuses/{root}/context"), Some(&a))
        .await
        .json();
    assert!(ids(&ctx["descendants"]).contains(&hidden));
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{root}"), None)
            .await
            .json()["replies_count"],
        3
    );
    // exclude_replies keeps the author's own thread.
    let alice_id = app
        .get("/api/v1/accounts/lookup?acct=alice", None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own: Vec<String> = ids(&app
        .get(
            &format!("/api/v1/accounts/{alice_id}/statuses?exclude_replies=true"),
            None,
        )
        .await
        .json());
    assert_eq!(own, vec![root.clone()]);
    app.finish().await;
}

async fn favourites_reblogs_bookmarks_pins(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, a) = app.user("aiko", "read write follow").await;
    let (_, bob) = app.user("bunta", "read write follow").await;
    let s = id(&post(
        &app,
        &a,
        json!({"status": "Please share: comeback hiring in Osaka"}),
    )
    .await);
    let act = async |t: &str, action: &str| -> Resp {
        app.form(
            Method::POST,
            &format!("/api/v1/statuses/{s}/{action}"),
            Some(t),
            &[],
        )
        .await
    };

    let f = act(&bob, "favourite").await.json();
    assert_eq!(f["favourited"], true);
    assert_eq!(f["favourites_count"], 1);
    assert_eq!(
        act(&bob, "favourite").await.json()["favourites_count"],
        1,
        "idempotent"
    );
    let by = app
        .get(&format!("/api/v1/statuses/{s}/favourited_by"), None)
        .await
        .json();
    assert_eq!(by[0]["username"], "bunta");
    let favs = app.get("/api/v1/favourites", Some(&bob)).await;
    assert_eq!(favs.json()[0]["id"], s);
    assert!(favs.header("link").unwrap().contains("rel=\"next\""));

    let r = act(&bob, "reblog").await.json();
    assert_eq!(r["reblog"]["id"], s);
    assert_eq!(r["reblog"]["reblogged"], true);
    assert_eq!(r["reblog"]["reblogs_count"], 1);
    assert_eq!(
        act(&bob, "reblog").await.json()["id"],
        r["id"],
        "one reblog per person"
    );
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{s}/reblogged_by"), None)
            .await
            .json()[0]["username"],
        "bunta"
    );
    // aiko's notifications: reblog and favourite.
    let kinds: Vec<String> = app
        .get("/api/v1/notifications", Some(&a))
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, vec!["reblog", "favourite"]);
    let only_fav = app
        .get("/api/v1/notifications?types[]=favourite", Some(&a))
        .await
        .json();
    assert_eq!(only_fav.as_array().unwrap().len(), 1);
    assert_eq!(only_fav[0]["type"], "favourite");
    let no_fav = app
        .get("/api/v1/notifications?exclude_types[]=favourite", Some(&a))
        .await
        .json();
    assert!(
        no_fav
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["type"] != "favourite")
    );
    assert_eq!(
        app.get("/api/v1/notifications?types[]=unknown_kind", Some(&a))
            .await
            .json(),
        json!([])
    );

    let u = act(&bob, "unreblog").await.json();
    assert_eq!(u["id"], s);
    assert_eq!(u["reblogged"], false);
    assert_eq!(act(&bob, "unfavourite").await.json()["favourited"], false);
    let kinds = app.get("/api/v1/notifications", Some(&a)).await.json();
    assert_eq!(
        kinds,
        json!([]),
        "undone actions take their notifications along"
    );

    assert_eq!(act(&bob, "bookmark").await.json()["bookmarked"], true);
    assert_eq!(
        app.get("/api/v1/bookmarks", Some(&bob)).await.json()[0]["id"],
        s
    );
    assert_eq!(act(&bob, "unbookmark").await.json()["bookmarked"], false);
    assert_eq!(
        app.get("/api/v1/bookmarks", Some(&bob)).await.json(),
        json!([])
    );

    // Pins: only one's own, at most five.
    act(&bob, "pin")
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    assert_eq!(act(&a, "pin").await.json()["pinned"], true);
    let aiko = app
        .get("/api/v1/accounts/lookup?acct=aiko", None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pinned = app
        .get(
            &format!("/api/v1/accounts/{aiko}/statuses?pinned=true"),
            None,
        )
        .await
        .json();
    assert_eq!(pinned.as_array().unwrap().len(), 1);
    for i in 0..4 {
        let other = id(&post(&app, &a, json!({"status": format!("pin {i}")})).await);
        assert_eq!(
            app.form(
                Method::POST,
                &format!("/api/v1/statuses/{other}/pin"),
                Some(&a),
                &[]
            )
            .await
            .status,
            StatusCode::OK
        );
    }
    let sixth = id(&post(&app, &a, json!({"status": "one too many"})).await);
    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/statuses/{sixth}/pin"),
            Some(&a),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(act(&a, "unpin").await.json()["pinned"], false);

    // Private statuses cannot be boosted by others.
    let private = id(&post(
        &app,
        &a,
        json!({"status": "followers only", "visibility": "private"}),
    )
    .await);
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{aiko}/follow"),
        Some(&bob),
        &[],
    )
    .await;
    app.form(
        Method::POST,
        &format!("/api/v1/statuses/{private}/reblog"),
        Some(&bob),
        &[],
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "This action is not allowed");
    app.form(
        Method::POST,
        &format!("/api/v1/statuses/{s}/dance"),
        Some(&bob),
        &[],
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.finish().await;
}

async fn bad_statuses(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, t) = app.user("kenta", "read write").await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&t),
            &json!({"status": "x".repeat(501)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["details"]["text"][0]["error"], "ERR_TOO_LONG");
    let r = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&t),
            &json!({"status": "   "}),
        )
        .await;
    assert_eq!(r.json()["details"]["text"][0]["error"], "ERR_BLANK");
    let r = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&t),
            &json!({"status": "x", "visibility": "everyone"}),
        )
        .await;
    assert_eq!(
        r.json()["details"]["visibility"][0]["error"],
        "ERR_INCLUSION"
    );
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&t),
        &json!({"status": "x", "in_reply_to_id": "12345"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&t),
        &json!({"status": "x", "media_ids": ["1", "2", "3", "4", "5"]}),
    )
    .await
    .assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Validation failed: Media ids can attach at most 4 files",
    );
    app.get("/api/v1/statuses/999999", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.get("/api/v1/statuses/abc", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    let (_, read_only) = app.user("reader", "read").await;
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&read_only),
        &json!({"status": "x"}),
    )
    .await
    .assert_error(
        StatusCode::FORBIDDEN,
        "This action is outside the authorized scopes",
    );
    app.json(
        Method::POST,
        "/api/v1/statuses",
        None,
        &json!({"status": "x"}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "The access token is invalid");
    app.finish().await;
}
