use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(
    follow_unfollow_relationships,
    locked_accounts_and_requests,
    notifications_endpoints,
    counters_follow_every_change
);

async fn account_id(app: &TestApp, acct: &str) -> String {
    app.get(&format!("/api/v1/accounts/lookup?acct={acct}"), None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn follow_unfollow_relationships(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, a) = app.user("ayumi", "read write follow").await;
    let (_, b_tok) = app.user("bunzo", "read write follow").await;
    let (aid, bid) = (
        account_id(&app, "ayumi").await,
        account_id(&app, "bunzo").await,
    );
    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/accounts/{bid}/follow"),
            Some(&a),
            &[("reblogs", "false"), ("notify", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rel = r.json();
    assert_eq!(rel["following"], true);
    assert_eq!(rel["showing_reblogs"], false);
    assert_eq!(rel["notifying"], true);
    assert_eq!(rel["requested"], false);
    for key in [
        "blocking",
        "blocked_by",
        "muting",
        "muting_notifications",
        "domain_blocking",
        "endorsed",
        "note",
        "followed_by",
        "requested_by",
        "languages",
    ] {
        assert!(rel.get(key).is_some(), "missing {key}");
    }
    // Relationships from both sides; several ids at once.
    let rels = app
        .get(
            &format!("/api/v1/accounts/relationships?id[]={bid}&id[]={aid}"),
            Some(&a),
        )
        .await
        .json();
    assert_eq!(rels[0]["following"], true);
    assert_eq!(rels[1]["following"], false);
    let back = app
        .get(
            &format!("/api/v1/accounts/relationships?id[]={aid}"),
            Some(&b_tok),
        )
        .await
        .json();
    assert_eq!(back[0]["followed_by"], true);
    // Counts and lists.
    let bunzo = app
        .get(&format!("/api/v1/accounts/{bid}"), None)
        .await
        .json();
    assert_eq!(bunzo["followers_count"], 1);
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{aid}"), None)
            .await
            .json()["following_count"],
        1
    );
    let followers = app
        .get(&format!("/api/v1/accounts/{bid}/followers"), None)
        .await;
    assert_eq!(followers.json()[0]["username"], "ayumi");
    assert!(followers.header("link").is_some());
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{aid}/following"), None)
            .await
            .json()[0]["username"],
        "bunzo"
    );
    // bunzo was told; with notify on, ayumi hears of bunzo's posts.
    let n = app.get("/api/v1/notifications", Some(&b_tok)).await.json();
    assert_eq!(n[0]["type"], "follow");
    assert_eq!(n[0]["account"]["username"], "ayumi");
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&b_tok),
        &json!({"status": "new post"}),
    )
    .await;
    let n = app
        .get("/api/v1/notifications?types[]=status", Some(&a))
        .await
        .json();
    assert_eq!(n[0]["status"]["content"], "<p>new post</p>");

    // Unfollow, and following oneself is refused.
    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/accounts/{bid}/unfollow"),
            Some(&a),
            &[],
        )
        .await
        .json();
    assert_eq!(r["following"], false);
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{bid}"), None)
            .await
            .json()["followers_count"],
        0
    );
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{aid}/follow"),
        Some(&a),
        &[],
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "You cannot follow yourself");
    app.form(Method::POST, "/api/v1/accounts/4242/follow", Some(&a), &[])
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    // remove_from_followers.
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{aid}/follow"),
        Some(&b_tok),
        &[],
    )
    .await;
    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/accounts/{bid}/remove_from_followers"),
            Some(&a),
            &[],
        )
        .await
        .json();
    assert_eq!(r["followed_by"], false);
    // Scopes: read-only tokens cannot follow.
    let (_, ro) = app.user("readonly", "read").await;
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{bid}/follow"),
        Some(&ro),
        &[],
    )
    .await
    .assert_error(
        StatusCode::FORBIDDEN,
        "This action is outside the authorized scopes",
    );
    app.finish().await;
}

async fn locked_accounts_and_requests(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, office) = app.user("office", "read write follow").await;
    let (_, fan) = app.user("fan", "read write follow").await;
    let (_, other) = app.user("other", "read write follow").await;
    app.json(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&office),
        &json!({"locked": true}),
    )
    .await;
    let (oid, fid, xid) = (
        account_id(&app, "office").await,
        account_id(&app, "fan").await,
        account_id(&app, "other").await,
    );
    let secret = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&office),
            &json!({"status": "members only", "visibility": "private"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/accounts/{oid}/follow"),
            Some(&fan),
            &[],
        )
        .await
        .json();
    assert_eq!(r["requested"], true);
    assert_eq!(r["following"], false);
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{oid}/follow"),
        Some(&other),
        &[],
    )
    .await;
    // A pending request grants nothing yet.
    app.get(&format!("/api/v1/statuses/{secret}"), Some(&fan))
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    let reqs = app
        .get("/api/v1/follow_requests", Some(&office))
        .await
        .json();
    assert_eq!(reqs.as_array().unwrap().len(), 2);
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&office))
            .await
            .json()["source"]["follow_requests_count"],
        2
    );
    let n = app.get("/api/v1/notifications", Some(&office)).await.json();
    assert!(
        n.as_array()
            .unwrap()
            .iter()
            .all(|n| n["type"] == "follow_request")
    );

    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/follow_requests/{fid}/authorize"),
            Some(&office),
            &[],
        )
        .await
        .json();
    assert_eq!(r["followed_by"], true);
    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/follow_requests/{xid}/reject"),
            Some(&office),
            &[],
        )
        .await
        .json();
    assert_eq!(r["requested_by"], false);
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{secret}"), Some(&fan))
            .await
            .status,
        StatusCode::OK
    );
    app.get(&format!("/api/v1/statuses/{secret}"), Some(&other))
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    assert_eq!(
        app.get("/api/v1/follow_requests", Some(&office))
            .await
            .json(),
        json!([])
    );
    app.form(
        Method::POST,
        &format!("/api/v1/follow_requests/{xid}/authorize"),
        Some(&office),
        &[],
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "Record not found");
    let kinds: Vec<Value> = app
        .get("/api/v1/notifications", Some(&office))
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec![json!("follow")],
        "the request became a follow; the rejected one is gone"
    );
    app.finish().await;
}

async fn notifications_endpoints(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, a) = app.user("nao", "read write follow").await;
    let (_, b_tok) = app.user("mai", "read write follow").await;
    for i in 0..3 {
        app.json(
            Method::POST,
            "/api/v1/statuses",
            Some(&b_tok),
            &json!({"status": format!("@nao hello {i}")}),
        )
        .await;
    }
    let list = app.get("/api/v1/notifications?limit=2", Some(&a)).await;
    let items = list.json();
    assert_eq!(items.as_array().unwrap().len(), 2);
    let link = list.header("link").unwrap().to_owned();
    assert!(link.contains("limit=2"), "{link}");
    let nid = items[0]["id"].as_str().unwrap().to_owned();
    let one = app
        .get(&format!("/api/v1/notifications/{nid}"), Some(&a))
        .await
        .json();
    assert_eq!(one["type"], "mention");
    app.get(&format!("/api/v1/notifications/{nid}"), Some(&b_tok))
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    assert_eq!(
        app.form(
            Method::POST,
            &format!("/api/v1/notifications/{nid}/dismiss"),
            Some(&a),
            &[]
        )
        .await
        .text(),
        "{}"
    );
    assert_eq!(
        app.get("/api/v1/notifications", Some(&a))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    app.form(
        Method::POST,
        &format!("/api/v1/notifications/{nid}/dismiss"),
        Some(&a),
        &[],
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.form(Method::POST, "/api/v1/notifications/clear", Some(&a), &[])
        .await;
    assert_eq!(
        app.get("/api/v1/notifications", Some(&a)).await.json(),
        json!([])
    );
    let (_, ro) = app.user("ro", "read:accounts").await;
    app.get("/api/v1/notifications", Some(&ro))
        .await
        .assert_error(
            StatusCode::FORBIDDEN,
            "This action is outside the authorized scopes",
        );
    app.finish().await;
}

/// The counters shown with an account (kept by the database as rows change)
/// follow posts, deletions, requests, answers, unfollows and blocks.
async fn counters_follow_every_change(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, ayumi) = app.user("ayumi", "read write follow").await;
    let (_, office) = app.user("office", "read write follow").await;
    let (_, bunzo) = app.user("bunzo", "read write follow").await;
    app.json(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&office),
        &json!({"locked": true}),
    )
    .await;
    let (aid, oid, bid) = (
        account_id(&app, "ayumi").await,
        account_id(&app, "office").await,
        account_id(&app, "bunzo").await,
    );
    let counts = async |id: &str| {
        let a = app
            .get(&format!("/api/v1/accounts/{id}"), None)
            .await
            .json();
        (
            a["statuses_count"].as_i64().unwrap(),
            a["followers_count"].as_i64().unwrap(),
            a["following_count"].as_i64().unwrap(),
            a["last_status_at"].clone(),
        )
    };
    assert_eq!(counts(&aid).await, (0, 0, 0, Value::Null));

    let mut posted = Vec::new();
    for text in ["one", "two"] {
        let r = app
            .json(
                Method::POST,
                "/api/v1/statuses",
                Some(&ayumi),
                &json!({"status": text}),
            )
            .await
            .json();
        posted.push(r["id"].as_str().unwrap().to_owned());
    }
    let (n, _, _, last) = counts(&aid).await;
    assert_eq!(n, 2);
    assert!(last.is_string(), "{last}");
    app.form(
        Method::DELETE,
        &format!("/api/v1/statuses/{}", posted[0]),
        Some(&ayumi),
        &[],
    )
    .await;
    assert_eq!(counts(&aid).await.0, 1);

    // A request counts once answered.
    let follow = async |token: &str, id: &str, verb: &str| {
        let r = app
            .form(
                Method::POST,
                &format!("/api/v1/accounts/{id}/{verb}"),
                Some(token),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{verb}: {}", r.text());
    };
    follow(&ayumi, &oid, "follow").await;
    assert_eq!(counts(&oid).await.1, 0);
    assert_eq!(counts(&aid).await.2, 0);
    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/follow_requests/{aid}/authorize"),
            Some(&office),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(counts(&oid).await.1, 1);
    assert_eq!(counts(&aid).await.2, 1);
    follow(&ayumi, &oid, "unfollow").await;
    assert_eq!(counts(&oid).await.1, 0);
    assert_eq!(counts(&aid).await.2, 0);

    // A block ends the follow both ways.
    follow(&ayumi, &bid, "follow").await;
    follow(&bunzo, &aid, "follow").await;
    assert_eq!(counts(&bid).await.1, 1);
    assert_eq!(counts(&aid).await.1, 1);
    follow(&bunzo, &aid, "block").await;
    assert_eq!(counts(&bid).await, (0, 0, 0, Value::Null));
    let (n, followers, following, _) = counts(&aid).await;
    assert_eq!((n, followers, following), (1, 0, 0));
}
