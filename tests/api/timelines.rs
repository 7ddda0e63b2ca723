use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(
    pagination_with_link_headers,
    tag_timelines,
    home_reblogs_and_replies
);

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Parses `<url>; rel="next", <url>; rel="prev"` into (next path+query, prev path+query).
fn links(h: &str) -> (String, String) {
    let mut next = String::new();
    let mut prev = String::new();
    for part in h.split(", ") {
        let (url, rel) = part.split_once("; ").unwrap();
        let url = url
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim_start_matches("https://alumni.test")
            .to_owned();
        if rel.contains("next") {
            next = url;
        } else {
            prev = url;
        }
    }
    (next, prev)
}

async fn pagination_with_link_headers(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, t) = app.user("pager", "read write").await;
    let mut posted = Vec::new();
    for i in 0..7 {
        let s = app
            .json(
                Method::POST,
                "/api/v1/statuses",
                Some(&t),
                &json!({"status": format!("post {i}")}),
            )
            .await
            .json();
        posted.push(s["id"].as_str().unwrap().to_owned());
    }
    posted.reverse(); // newest first
    let first = app.get("/api/v1/timelines/home?limit=3", Some(&t)).await;
    assert_eq!(ids(&first.json()), posted[0..3]);
    let link = first.header("link").unwrap().to_owned();
    assert!(
        link.find("rel=\"next\"").unwrap() < link.find("rel=\"prev\"").unwrap(),
        "next comes first: {link}"
    );
    let (next, prev) = links(&link);
    assert!(
        next.starts_with("/api/v1/timelines/home?limit=3&max_id="),
        "{next}"
    );
    let second = app.get(&next, Some(&t)).await;
    assert_eq!(ids(&second.json()), posted[3..6]);
    let (next2, _) = links(second.header("link").unwrap());
    let third = app.get(&next2, Some(&t)).await;
    assert_eq!(ids(&third.json()), posted[6..7]);
    let (next3, _) = links(third.header("link").unwrap());
    let end = app.get(&next3, Some(&t)).await;
    assert_eq!(end.json(), json!([]));
    assert!(end.header("link").is_none(), "no links past the end");
    // Nothing newer than the newest.
    assert_eq!(app.get(&prev, Some(&t)).await.json(), json!([]));
    // min_id returns the page right after it, newest first; since_id the newest above it.
    let after = app
        .get(
            &format!("/api/v1/timelines/home?min_id={}&limit=2", posted[5]),
            Some(&t),
        )
        .await
        .json();
    assert_eq!(ids(&after), vec![posted[3].clone(), posted[4].clone()]);
    let since = app
        .get(
            &format!("/api/v1/timelines/home?since_id={}&limit=2", posted[5]),
            Some(&t),
        )
        .await
        .json();
    assert_eq!(ids(&since), vec![posted[0].clone(), posted[1].clone()]);
    // Limits are clamped; bad ids are a clear error.
    assert_eq!(
        ids(&app
            .get("/api/v1/timelines/home?limit=0", Some(&t))
            .await
            .json())
        .len(),
        1
    );
    assert_eq!(
        ids(&app
            .get("/api/v1/timelines/home?limit=1000", Some(&t))
            .await
            .json())
        .len(),
        7
    );
    app.get("/api/v1/timelines/home?max_id=abc", Some(&t))
        .await
        .assert_error(
            StatusCode::BAD_REQUEST,
            "Invalid parameter max_id: not an ID",
        );
    // Favourites are paged by the favourite, not the status.
    for s in [&posted[6], &posted[0]] {
        app.form(
            Method::POST,
            &format!("/api/v1/statuses/{s}/favourite"),
            Some(&t),
            &[],
        )
        .await;
    }
    let favs = app.get("/api/v1/favourites?limit=1", Some(&t)).await;
    assert_eq!(
        ids(&favs.json()),
        vec![posted[0].clone()],
        "most recently favourited first"
    );
    let (next, _) = links(favs.header("link").unwrap());
    assert_eq!(
        ids(&app.get(&next, Some(&t)).await.json()),
        vec![posted[6].clone()]
    );
    app.finish().await;
}

async fn tag_timelines(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, t) = app.user("tagger", "read write").await;
    let post = async |text: &str, vis: &str| -> String {
        app.json(
            Method::POST,
            "/api/v1/statuses",
            Some(&t),
            &json!({"status": text, "visibility": vis}),
        )
        .await
        .json()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let a = post("#Osaka meetup", "public").await;
    let b2 = post("#osaka #kobe trip", "public").await;
    let c = post("#kobe only", "public").await;
    let _hidden = post("#osaka unlisted", "unlisted").await;
    assert_eq!(
        ids(&app.get("/api/v1/timelines/tag/osaka", None).await.json()),
        vec![b2.clone(), a.clone()]
    );
    assert_eq!(
        ids(&app
            .get("/api/v1/timelines/tag/OSAKA?any[]=kobe", None)
            .await
            .json()),
        vec![c.clone(), b2.clone(), a.clone()]
    );
    assert_eq!(
        ids(&app
            .get("/api/v1/timelines/tag/osaka?all[]=kobe", None)
            .await
            .json()),
        vec![b2.clone()]
    );
    assert_eq!(
        ids(&app
            .get("/api/v1/timelines/tag/osaka?none[]=kobe", None)
            .await
            .json()),
        vec![a.clone()]
    );
    assert_eq!(
        app.get("/api/v1/timelines/tag/nothing", None).await.json(),
        json!([])
    );
    app.finish().await;
}

async fn home_reblogs_and_replies(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, me) = app.user("reader", "read write follow").await;
    let (_, friend) = app.user("friend", "read write follow").await;
    let (_, stranger) = app.user("stranger", "read write follow").await;
    let fid = app
        .get("/api/v1/accounts/lookup?acct=friend", None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{fid}/follow"),
        Some(&me),
        &[],
    )
    .await;
    let s_post = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&stranger),
            &json!({"status": "stranger's news"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let boost = app
        .form(
            Method::POST,
            &format!("/api/v1/statuses/{s_post}/reblog"),
            Some(&friend),
            &[],
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&friend),
            &json!({"status": "@stranger nice", "in_reply_to_id": s_post}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let home = app.get("/api/v1/timelines/home", Some(&me)).await.json();
    // The boost is there (wrapping the original); the reply to a stranger is not.
    assert_eq!(ids(&home), vec![boost.clone()]);
    assert_eq!(home[0]["reblog"]["id"], s_post);
    assert!(!ids(&home).contains(&reply));
    // Turning reblogs off hides them.
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{fid}/follow"),
        Some(&me),
        &[("reblogs", "false")],
    )
    .await;
    assert_eq!(
        app.get("/api/v1/timelines/home", Some(&me)).await.json(),
        json!([])
    );
    // exclude_reblogs on the account's list.
    let all = ids(&app
        .get(&format!("/api/v1/accounts/{fid}/statuses"), None)
        .await
        .json());
    assert_eq!(all, vec![reply.clone(), boost.clone()]);
    let no_boosts = ids(&app
        .get(
            &format!("/api/v1/accounts/{fid}/statuses?exclude_reblogs=true"),
            None,
        )
        .await
        .json());
    assert_eq!(no_boosts, vec![reply]);
    app.finish().await;
}
