//! The public web pages of people, orgs and posts (`/@name`, `/@name/id`).
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::common::{Backend, Resp, TestApp};
use crate::dual;

/// GET `path` as a browser in `lang` would (asking for HTML, or not).
async fn get_page(app: &TestApp, path: String, lang: &str, html: bool) -> Resp {
    let mut req = Request::builder().uri(path).header("accept-language", lang);
    if html {
        req = req.header("accept", "text/html");
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

dual!(
    public_pages_show_what_anyone_may_see,
    the_landing_and_org_pages_show_orgs_members_and_shared_posts_in_full
);

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
    let page = |path: String, lang: &'static str| get_page(&app, path, lang, true);

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

/// A new visitor finds the instance's orgs on the landing page, and an
/// org's page shows its members' count and the posts it shared in full
/// (it used to show a boost as an empty entry with the org's name), with
/// Open Graph tags for link previews; in English and in Japanese.
async fn the_landing_and_org_pages_show_orgs_members_and_shared_posts_in_full(b: Backend) {
    let app = TestApp::start(b).await;
    let page = async |path: &str, lang: &'static str| {
        let r = get_page(&app, path.to_owned(), lang, true).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        r.text()
    };
    let empty = page("/", "en").await;
    assert!(
        empty.contains("No organisation has been set up here yet."),
        "{empty}"
    );

    let (_, office) = app.user_with("office", "read write", true).await;
    let (_, hanako) = app.user("hanako", "read write").await;
    let (_, taro) = app.user("taro", "read write").await;
    let acme = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(&office),
            &json!({"username": "acme", "display_name": "ACME Alumni", "note": "The ACME alumni network"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{acme}/invites"),
            Some(&office),
            &json!({}),
        )
        .await
        .json()["code"]
        .clone();
    for token in [&hanako, &taro] {
        let r = app
            .json(
                Method::POST,
                &format!("/api/v1/orgs/{acme}/membership_requests"),
                Some(token),
                &json!({"invite_code": code}),
            )
            .await;
        assert_eq!(r.json()["state"], "verified", "{}", r.text());
    }
    let r = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&hanako),
            &json!({"status": "Reunion in Osaka on <b>Saturday</b>", "audience": acme}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let home = page("/", "en").await;
    assert!(
        home.contains("ACME Alumni") && home.contains("@acme@alumni.test"),
        "{home}"
    );
    assert!(home.contains("The ACME alumni network"), "{home}");
    assert!(home.contains("href=\"http"), "{home}");
    assert!(home.contains("<meta property=\"og:title\""), "{home}");
    let home_ja = page("/", "ja").await;
    assert!(home_ja.contains("この拠点の組織"), "{home_ja}");

    let org = page("/@acme", "en").await;
    assert!(
        org.contains("3 members"),
        "the office and two alumni: {org}"
    );
    assert!(org.contains("3 members"), "{org}");
    assert!(org.contains("Shared by ACME Alumni"), "{org}");
    assert!(
        org.contains("Reunion in Osaka on &lt;b&gt;Saturday&lt;/b&gt;"),
        "the shared post in full: {org}"
    );
    assert!(org.contains("@hanako@alumni.test"), "its author: {org}");
    assert!(
        org.contains("<meta property=\"og:type\" content=\"profile\">"),
        "{org}"
    );
    let org_ja = page("/@acme", "ja").await;
    assert!(
        org_ja.contains("メンバー 3") && org_ja.contains("ACME Alumni がシェア"),
        "{org_ja}"
    );
    // "Follow from your server": the visitor's own server is asked (nothing
    // fetched here); a malformed address is explained; nobody here is 404.
    assert!(
        org.contains("action=\"https:&#x2f;&#x2f;alumni.test&#x2f;@acme/follow\""),
        "{org}"
    );
    let go = |path: &str| get_page(&app, path.to_owned(), "ja", false);
    let r = go("/@acme/follow?acct=%40kenji%40Social.Example").await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(
            "https://social.example/authorize_interaction?uri=https%3A%2F%2Falumni.test%2Fusers%2Facme"
        )
    );
    for bad in [
        "kenji",
        "kenji@",
        "kenji@evil.example/path",
        "@social.example",
        "a@b@c",
    ] {
        let r = go(&format!(
            "/@acme/follow?acct={}",
            bad.replace('@', "%40").replace('/', "%2F")
        ))
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.text().contains("名前@サーバー"), "{bad}");
    }
    assert_eq!(
        go("/@nobody/follow?acct=kenji%40social.example")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A club acme recognises: listed on acme's page, and acme on the club's.
    let tennis = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(&taro),
            &json!({"username": "acme_tennis", "display_name": "ACME Tennis", "kind": "club"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{acme}/recognitions/{tennis}"),
            Some(&office),
            &json!({}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let org = page("/@acme", "en").await;
    assert!(
        org.contains("Recognised clubs") && org.contains("ACME Tennis"),
        "{org}"
    );
    let club = page("/@acme_tennis", "ja").await;
    assert!(
        club.contains("公認元") && club.contains("ACME Alumni"),
        "{club}"
    );
    // A person's page has no members' count.
    let person = page("/@hanako", "en").await;
    assert!(!person.contains(" members"), "{person}");
    app.finish().await;
}
