//! The public web pages of people, orgs and posts (`/@name`, `/@name/id`).
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(public_pages_show_what_anyone_may_see);

async fn public_pages_show_what_anyone_may_see(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, token) = app.user("hanako", "read write").await;
    let (_, other) = app.user("taro", "read write").await;
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            &json!({
                "display_name": "<script>alert(1)</script>花子",
                "note": "Alumna <b>of</b> Osaka",
                "fields_attributes": [{"name": "Company", "value": "ACME <i>2015</i>"}],
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut ids = Vec::new();
    for (text, visibility) in [
        ("an open post <img src=x onerror=alert(2)>", "public"),
        ("a quiet post", "unlisted"),
        ("for followers", "private"),
    ] {
        let r = app
            .json(
                Method::POST,
                "/api/v1/statuses",
                Some(&token),
                &json!({"status": text, "visibility": visibility, "spoiler_text": if visibility == "unlisted" { "cw <u>x</u>" } else { "" }}),
            )
            .await;
        ids.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    let taros = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&other),
            &json!({"status": "taro's"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = |path: String, lang: &'static str| {
        let app = &app;
        async move {
            app.send(
                Request::builder()
                    .uri(path)
                    .header("accept", "text/html")
                    .header("accept-language", lang)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        }
    };

    let profile = page("/@hanako".into(), "en").await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(
        profile
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(profile.header("content-security-policy").is_some());
    let html = profile.text();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;花子"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<img src=x"), "user text is escaped: {html}");
    assert!(
        html.contains("Company") && html.contains("ACME 2015"),
        "{html}"
    );
    assert!(html.contains("an open post") && html.contains("a quiet post"));
    assert!(!html.contains("for followers"), "{html}");
    assert!(html.contains("unlisted"), "{html}");
    assert!(html.contains("@hanako@alumni.test"), "{html}");

    let post = page(format!("/@hanako/{}", ids[0]), "ja").await;
    assert_eq!(post.status, StatusCode::OK);
    let html = post.text();
    assert!(html.contains("an open post"), "{html}");
    assert!(html.contains("さんの他の投稿"), "in Japanese: {html}");
    let cw = page(format!("/@hanako/{}", ids[1]), "en").await.text();
    assert!(
        cw.contains("<details><summary>cw &lt;u&gt;x&lt;&#x2f;u&gt;</summary>"),
        "{cw}"
    );

    // Not for anyone's eyes, not this author's, not a post, not a person here.
    for path in [
        format!("/@hanako/{}", ids[2]),
        format!("/@hanako/{taros}"),
        "/@hanako/not-a-number".to_owned(),
        "/@nobody".to_owned(),
        "/@nobody@elsewhere.example".to_owned(),
    ] {
        let r = page(path.clone(), "en").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.text().contains("This page does not exist."), "{path}");
    }
    // The ActivityPub address sends browsers to the page.
    let r = page(format!("/users/hanako/statuses/{}", ids[0]), "en").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(format!("/@hanako/{}", ids[0]).as_str())
    );
    app.finish().await;
}
