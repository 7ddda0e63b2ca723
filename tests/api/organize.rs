use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(
    lists_crud_and_timeline,
    filters_warn_and_hide,
    markers_roundtrip,
    blocks_and_mutes,
    featured_tags_and_trends,
    conversations_and_announcements
);

async fn id_of(app: &TestApp, acct: &str) -> String {
    app.get(&format!("/api/v1/accounts/lookup?acct={acct}"), None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn delete(app: &TestApp, uri: &str, token: &str) -> crate::common::Resp {
    app.send(
        Request::builder()
            .method(Method::DELETE)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn lists_crud_and_timeline(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, me) = app.user("lister", "read write follow").await;
    let (_, osaka) = app.user("osaka_friend", "read write").await;
    let (_, other) = app.user("not_followed", "read write").await;
    let (oid, xid) = (
        id_of(&app, "osaka_friend").await,
        id_of(&app, "not_followed").await,
    );
    let l = app
        .json(
            Method::POST,
            "/api/v1/lists",
            Some(&me),
            &json!({"title": "Osaka alumni", "replies_policy": "list"}),
        )
        .await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.text());
    let lid = l.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(l.json()["exclusive"], false);
    assert_eq!(
        app.get("/api/v1/lists", Some(&me)).await.json()[0]["title"],
        "Osaka alumni"
    );
    let r = app
        .json(
            Method::POST,
            "/api/v1/lists",
            Some(&me),
            &json!({"title": ""}),
        )
        .await;
    assert_eq!(r.json()["details"]["title"][0]["error"], "ERR_BLANK");
    // Only followed accounts can be added.
    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/lists/{lid}/accounts"),
            Some(&me),
            &[("account_ids[]", &oid)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{oid}/follow"),
        Some(&me),
        &[],
    )
    .await;
    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/lists/{lid}/accounts"),
            Some(&me),
            &[("account_ids[]", &oid)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        app.get(&format!("/api/v1/lists/{lid}/accounts"), Some(&me))
            .await
            .json()[0]["id"],
        oid
    );
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{oid}/lists"), Some(&me))
            .await
            .json()[0]["id"],
        lid
    );
    let s1 = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&osaka),
            &json!({"status": "from osaka"}),
        )
        .await
        .json();
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&other),
        &json!({"status": "elsewhere"}),
    )
    .await;
    let tl = app
        .get(&format!("/api/v1/timelines/list/{lid}"), Some(&me))
        .await
        .json();
    assert_eq!(ids(&tl), vec![s1["id"].as_str().unwrap().to_owned()]);
    let r = app
        .json(
            Method::PUT,
            &format!("/api/v1/lists/{lid}"),
            Some(&me),
            &json!({"title": "大阪の仲間", "exclusive": true}),
        )
        .await
        .json();
    assert_eq!(r["title"], "大阪の仲間");
    assert_eq!(r["exclusive"], true);
    // Other people's lists do not exist for me.
    let (_, stranger) = app.user("stranger", "read write").await;
    app.get(&format!("/api/v1/lists/{lid}"), Some(&stranger))
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    let r = app
        .send(
            Request::builder()
                .method(Method::DELETE)
                .uri(format!("/api/v1/lists/{lid}/accounts?account_ids[]={oid}"))
                .header("authorization", format!("Bearer {me}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/v1/lists/{lid}/accounts"), Some(&me))
            .await
            .json(),
        json!([])
    );
    assert_eq!(
        delete(&app, &format!("/api/v1/lists/{lid}"), &me)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.get("/api/v1/lists", Some(&me)).await.json(), json!([]));
    let _ = xid;
    app.finish().await;
}

async fn filters_warn_and_hide(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, me) = app.user("filterer", "read write follow").await;
    let (_, poster) = app.user("poster", "read write").await;
    let pid = id_of(&app, "poster").await;
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{pid}/follow"),
        Some(&me),
        &[],
    )
    .await;
    for text in [
        "Recruiting now!",
        "Weekend hiking",
        "SPOILER: the ending",
        "Spoilers ahead",
    ] {
        app.json(
            Method::POST,
            "/api/v1/statuses",
            Some(&poster),
            &json!({"status": text}),
        )
        .await;
    }
    let r = app
        .form(
            Method::POST,
            "/api/v2/filters",
            Some(&me),
            &[
                ("title", "Spoilers"),
                ("context[]", "home"),
                ("context[]", "public"),
                ("filter_action", "warn"),
                ("keywords_attributes[0][keyword]", "spoiler"),
                ("keywords_attributes[0][whole_word]", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let f = r.json();
    assert_eq!(f["context"], json!(["home", "public"]));
    assert_eq!(f["keywords"][0]["keyword"], "spoiler");
    let fid = f["id"].as_str().unwrap().to_owned();
    let home = app.get("/api/v1/timelines/home", Some(&me)).await.json();
    let warned: Vec<&Value> = home
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["filtered"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(
        warned.len(),
        1,
        "whole word: 'Spoilers' does not match 'spoiler'"
    );
    assert_eq!(
        warned[0]["filtered"][0]["keyword_matches"],
        json!(["spoiler"])
    );
    assert_eq!(warned[0]["filtered"][0]["filter"]["title"], "Spoilers");
    // A second filter that hides.
    let r = app
        .json(Method::POST, "/api/v2/filters", Some(&me), &json!({"title": "No recruiting", "context": ["home"], "filter_action": "hide", "keywords_attributes": [{"keyword": "recruit", "whole_word": false}]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let home = app.get("/api/v1/timelines/home", Some(&me)).await.json();
    assert_eq!(home.as_array().unwrap().len(), 3);
    assert!(
        home.as_array()
            .unwrap()
            .iter()
            .all(|s| !s["content"].as_str().unwrap().contains("Recruiting"))
    );
    // v1 view lists every keyword.
    let v1 = app.get("/api/v1/filters", Some(&me)).await.json();
    assert_eq!(v1.as_array().unwrap().len(), 2);
    assert_eq!(v1[1]["irreversible"], true);
    // Keywords: add, update, delete; bad context refused.
    let k = app
        .form(
            Method::POST,
            &format!("/api/v2/filters/{fid}/keywords"),
            Some(&me),
            &[("keyword", "ending"), ("whole_word", "0")],
        )
        .await
        .json();
    let kid = k["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(&format!("/api/v2/filters/{fid}/keywords"), Some(&me))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let k = app
        .json(
            Method::PUT,
            &format!("/api/v2/filters/keywords/{kid}"),
            Some(&me),
            &json!({"keyword": "ending2"}),
        )
        .await
        .json();
    assert_eq!(k["keyword"], "ending2");
    assert_eq!(
        delete(&app, &format!("/api/v2/filters/keywords/{kid}"), &me)
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .json(
            Method::POST,
            "/api/v2/filters",
            Some(&me),
            &json!({"title": "x", "context": ["everywhere"]}),
        )
        .await;
    assert_eq!(r.json()["details"]["context"][0]["error"], "ERR_INCLUSION");
    let r = app
        .json(
            Method::PUT,
            &format!("/api/v2/filters/{fid}"),
            Some(&me),
            &json!({"title": "Renamed", "expires_in": 3600}),
        )
        .await
        .json();
    assert_eq!(r["title"], "Renamed");
    assert!(r["expires_at"].is_string());
    // Lifetimes past year 9999 (found by schemathesis) and NUL characters
    // (PostgreSQL text cannot hold them) are refused, the filter unchanged.
    for (body, field) in [
        (json!({"expires_in": 36547288367416128_i64}), "expires_in"),
        (json!({"title": "a\u{0}b"}), "title"),
        (json!({"context": ["home", "x\u{0}"]}), "context[]"),
    ] {
        let r = app
            .json(
                Method::PUT,
                &format!("/api/v2/filters/{fid}"),
                Some(&me),
                &body,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(r.json()["details"][field].is_array(), "{}", r.text());
    }
    let kept = app
        .get(&format!("/api/v2/filters/{fid}"), Some(&me))
        .await
        .json();
    assert_eq!(kept["title"], "Renamed");
    assert_eq!(
        delete(&app, &format!("/api/v2/filters/{fid}"), &me)
            .await
            .status,
        StatusCode::OK
    );
    app.get(&format!("/api/v2/filters/{fid}"), Some(&me))
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.finish().await;
}

async fn markers_roundtrip(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, me) = app.user("marker", "read write").await;
    assert_eq!(
        app.get("/api/v1/markers?timeline[]=home", Some(&me))
            .await
            .json(),
        json!({})
    );
    let r = app
        .form(
            Method::POST,
            "/api/v1/markers",
            Some(&me),
            &[
                ("home[last_read_id]", "1234"),
                ("notifications[last_read_id]", "99"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m = r.json();
    assert_eq!(m["home"]["last_read_id"], "1234");
    assert_eq!(m["home"]["version"], 0);
    app.json(
        Method::POST,
        "/api/v1/markers",
        Some(&me),
        &json!({"home": {"last_read_id": "1300"}}),
    )
    .await;
    let m = app
        .get(
            "/api/v1/markers?timeline[]=home&timeline[]=notifications",
            Some(&me),
        )
        .await
        .json();
    assert_eq!(m["home"]["last_read_id"], "1300");
    assert_eq!(m["home"]["version"], 1);
    assert_eq!(m["notifications"]["last_read_id"], "99");
    app.json(Method::POST, "/api/v1/markers", Some(&me), &json!({}))
        .await
        .assert_error(
            StatusCode::BAD_REQUEST,
            "Missing parameter: home[last_read_id] or notifications[last_read_id]",
        );
    app.finish().await;
}

async fn blocks_and_mutes(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, me) = app.user("blocker", "read write follow").await;
    let (_, troll) = app.user("troll", "read write follow").await;
    let (_, noisy) = app.user("noisy", "read write follow").await;
    let (tid, nid) = (id_of(&app, "troll").await, id_of(&app, "noisy").await);
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{tid}/follow"),
        Some(&me),
        &[],
    )
    .await;
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{nid}/follow"),
        Some(&me),
        &[],
    )
    .await;
    let t_post = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&troll),
            &json!({"status": "troll post"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&noisy),
        &json!({"status": "noisy post"}),
    )
    .await;
    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/accounts/{tid}/block"),
            Some(&me),
            &[],
        )
        .await
        .json();
    assert_eq!(r["blocking"], true);
    assert_eq!(r["following"], false, "a block ends the follow");
    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/accounts/{nid}/mute"),
            Some(&me),
            &[("notifications", "true")],
        )
        .await
        .json();
    assert_eq!(r["muting"], true);
    assert_eq!(r["muting_notifications"], true);
    // The blocked account sees it, cannot follow back, and neither sees the other's posts.
    let back = app
        .get(
            &format!(
                "/api/v1/accounts/relationships?id[]={}",
                id_of(&app, "blocker").await
            ),
            Some(&troll),
        )
        .await
        .json();
    assert_eq!(back[0]["blocked_by"], true);
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{}/follow", id_of(&app, "blocker").await),
        Some(&troll),
        &[],
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "This action is not allowed");
    app.get(&format!("/api/v1/statuses/{t_post}"), Some(&me))
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    assert_eq!(
        app.get("/api/v1/timelines/home", Some(&me)).await.json(),
        json!([]),
        "muted and blocked both gone"
    );
    assert!(
        app.get("/api/v1/timelines/public", Some(&me))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.get("/api/v1/timelines/public", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Mentions from them do not notify.
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&noisy),
        &json!({"status": "@blocker hey"}),
    )
    .await;
    assert_eq!(
        app.get("/api/v1/notifications", Some(&me)).await.json(),
        json!([])
    );
    assert_eq!(
        ids(&app.get("/api/v1/blocks", Some(&me)).await.json()),
        vec![tid.clone()]
    );
    assert_eq!(
        ids(&app.get("/api/v1/mutes", Some(&me)).await.json()),
        vec![nid.clone()]
    );
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{tid}/unblock"),
        Some(&me),
        &[],
    )
    .await;
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{nid}/unmute"),
        Some(&me),
        &[],
    )
    .await;
    assert_eq!(app.get("/api/v1/blocks", Some(&me)).await.json(), json!([]));
    assert_eq!(
        app.get(&format!("/api/v1/statuses/{t_post}"), Some(&me))
            .await
            .status,
        StatusCode::OK
    );
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{tid}/block"),
        Some(&troll),
        &[],
    )
    .await;
    app.finish().await;
}

async fn featured_tags_and_trends(b: Backend) {
    let app = TestApp::start(b).await;
    let (me_user, me) = app.user("featurer", "read write").await;
    let r = app
        .form(
            Method::POST,
            "/api/v1/featured_tags",
            Some(&me),
            &[("name", "#Alumni")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["name"], "alumni");
    let fid = r.json()["id"].as_str().unwrap().to_owned();
    let r = app
        .form(
            Method::POST,
            "/api/v1/featured_tags",
            Some(&me),
            &[("name", "not a tag!")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A non-ASCII tag gets an ASCII (percent-encoded) URL (schemathesis found
    // a raw 粨 in a `format: uri` field).
    let r = app
        .form(
            Method::POST,
            "/api/v1/featured_tags",
            Some(&me),
            &[("name", "同窓会")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.json()["url"]
            .as_str()
            .unwrap()
            .ends_with("/tags/%E5%90%8C%E7%AA%93%E4%BC%9A"),
        "{}",
        r.text()
    );
    let kaigi = r.json()["id"].as_str().unwrap().to_owned();
    let r = delete(&app, &format!("/api/v1/featured_tags/{kaigi}"), &me).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        app.get(
            &format!("/api/v1/accounts/{}/featured_tags", me_user.account.id),
            None
        )
        .await
        .json()[0]["name"],
        "alumni"
    );
    assert_eq!(
        app.get("/api/v1/featured_tags", Some(&me))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        delete(&app, &format!("/api/v1/featured_tags/{fid}"), &me)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/featured_tags", Some(&me)).await.json(),
        json!([])
    );
    for path in [
        "/api/v1/trends",
        "/api/v1/trends/tags",
        "/api/v1/trends/statuses",
        "/api/v1/trends/links",
    ] {
        assert_eq!(app.get(path, None).await.json(), json!([]), "{path}");
    }
    app.finish().await;
}

async fn conversations_and_announcements(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, a) = app.user("dm_a", "read write").await;
    let (_, bee) = app.user("dm_b", "read write").await;
    let first = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&a),
            &json!({"status": "@dm_b private question", "visibility": "direct"}),
        )
        .await
        .json();
    let convs = app.get("/api/v1/conversations", Some(&bee)).await.json();
    assert_eq!(convs.as_array().unwrap().len(), 1);
    assert_eq!(convs[0]["unread"], true);
    assert_eq!(convs[0]["accounts"][0]["username"], "dm_a");
    assert_eq!(convs[0]["last_status"]["id"], first["id"]);
    let reply = app.json(Method::POST, "/api/v1/statuses", Some(&bee), &json!({"status": "@dm_a answer", "visibility": "direct", "in_reply_to_id": first["id"]})).await.json();
    let convs = app.get("/api/v1/conversations", Some(&a)).await.json();
    assert_eq!(
        convs.as_array().unwrap().len(),
        1,
        "same thread, same conversation"
    );
    assert_eq!(convs[0]["last_status"]["id"], reply["id"]);
    let cid = convs[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.form(
            Method::POST,
            &format!("/api/v1/conversations/{cid}/read"),
            Some(&a),
            &[]
        )
        .await
        .json()["unread"],
        false
    );
    assert_eq!(
        delete(&app, &format!("/api/v1/conversations/{cid}"), &a)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/conversations", Some(&a)).await.json(),
        json!([])
    );
    assert_eq!(
        app.get("/api/v1/conversations", Some(&bee))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(
        app.get("/api/v1/announcements", Some(&a)).await.json(),
        json!([])
    );
    let ann = tsunagu::services::organize::announce(
        &app.state.ctx,
        "Maintenance on Sunday 2:00-3:00 JST",
        Some(48),
    )
    .await
    .unwrap();
    let list = app.get("/api/v1/announcements", Some(&a)).await.json();
    assert_eq!(
        list[0]["content"],
        "<p>Maintenance on Sunday 2:00-3:00 JST</p>"
    );
    assert_eq!(list[0]["read"], false);
    assert!(list[0]["ends_at"].is_string());
    assert_eq!(
        app.form(
            Method::POST,
            &format!("/api/v1/announcements/{}/dismiss", ann.id),
            Some(&a),
            &[]
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/announcements", Some(&a)).await.json()[0]["read"],
        true
    );
    app.form(
        Method::POST,
        "/api/v1/announcements/1/dismiss",
        Some(&a),
        &[],
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.finish().await;
}
