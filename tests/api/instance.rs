use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(
    instance_documents,
    cors_and_rate_limit_headers,
    health_and_fallbacks,
    bad_bodies
);

async fn instance_documents(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, _) = app.user_with("office", "read", true).await;
    for path in ["/api/v1/instance", "/api/v1/instance/"] {
        let r = app.get(path, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-type"), Some("application/json"));
        let v = r.json();
        assert_eq!(v["uri"], "alumni.test");
        assert!(
            v["version"]
                .as_str()
                .unwrap()
                .starts_with("4.2.0 (compatible; tsunagu ")
        );
        assert_eq!(v["urls"]["streaming_api"], "wss://alumni.test");
        assert_eq!(v["stats"]["user_count"], 1);
        assert_eq!(v["registrations"], true);
        assert_eq!(v["approval_required"], false);
        assert_eq!(v["contact_account"]["username"], "office");
        for key in [
            "title",
            "short_description",
            "description",
            "email",
            "thumbnail",
            "languages",
            "configuration",
            "rules",
            "invites_enabled",
        ] {
            assert!(v.get(key).is_some(), "v1 lacks {key}");
        }
        assert!(
            v["configuration"]["statuses"]["max_characters"]
                .as_i64()
                .unwrap()
                > 0
        );
    }
    let v = app.get("/api/v2/instance", None).await.json();
    assert_eq!(v["domain"], "alumni.test");
    assert!(v["version"].as_str().unwrap().starts_with("4.2.0"));
    for key in [
        "title",
        "source_url",
        "description",
        "usage",
        "thumbnail",
        "languages",
        "configuration",
        "registrations",
        "contact",
        "rules",
        "api_versions",
    ] {
        assert!(v.get(key).is_some(), "v2 lacks {key}");
    }
    assert!(v["source_url"].is_null(), "no source URL is configured");
    assert_eq!(
        v["thumbnail"]["url"],
        "https://alumni.test/static/thumbnail.png"
    );
    assert_eq!(v["configuration"]["urls"]["streaming"], "wss://alumni.test");
    assert_eq!(v["registrations"]["enabled"], true);
    assert_eq!(v["contact"]["account"]["acct"], "office");
    assert_eq!(
        app.get("/api/v1/custom_emojis", None).await.json(),
        Value::Array(vec![])
    );
    assert_eq!(
        app.get("/api/v1/instance/rules", None).await.json(),
        Value::Array(vec![])
    );
    let thumb = app.get("/static/thumbnail.png", None).await;
    assert_eq!(thumb.header("content-type"), Some("image/png"));
    assert!(thumb.body.starts_with(b"\x89PNG"));

    let meta = app
        .get("/.well-known/oauth-authorization-server", None)
        .await
        .json();
    assert_eq!(
        meta["authorization_endpoint"],
        "https://alumni.test/oauth/authorize"
    );
    assert_eq!(meta["token_endpoint"], "https://alumni.test/oauth/token");
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert!(
        !meta["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&"password".into())
    );
    // The root answers ActivityPub requests with the instance actor (Lemmy
    // looks for the site there) and browsers with the page.
    for accept in [
        "application/activity+json",
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
    ] {
        let r = app
            .send(
                Request::builder()
                    .uri("/")
                    .header("accept", accept)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let actor = r.json();
        assert_eq!(actor["id"], "https://alumni.test/actor", "{actor}");
        assert_eq!(actor["type"], "Application");
        assert!(
            actor["publicKey"]["publicKeyPem"]
                .as_str()
                .unwrap()
                .contains("PUBLIC KEY")
        );
    }
    let page = app.get("/", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    app.finish().await;

    // Approval mode shows up in both documents.
    let app = TestApp::start_with(b, |c| {
        c.registrations.mode = tsunagu::config::RegistrationMode::Approval
    })
    .await;
    assert_eq!(
        app.get("/api/v1/instance", None).await.json()["approval_required"],
        true
    );
    assert_eq!(
        app.get("/api/v2/instance", None).await.json()["registrations"]["approval_required"],
        true
    );
    app.finish().await;
}

async fn cors_and_rate_limit_headers(b: Backend) {
    let app = TestApp::start_with(b, |c| c.limits.api_requests_per_5min = 3).await;
    let pre = app
        .send(
            Request::builder()
                .method(Method::OPTIONS)
                .uri("/api/v1/instance")
                .header("origin", "https://elk.example")
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "authorization")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(pre.status.is_success(), "{}", pre.status);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));

    let r = app
        .send(
            Request::builder()
                .uri("/api/v1/instance")
                .header("origin", "https://elk.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "link",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(exposed.contains(h), "{h} not exposed: {exposed}");
    }
    assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
    let remaining: u32 = r.header("x-ratelimit-remaining").unwrap().parse().unwrap();
    assert!(remaining < 3);
    let reset = r.header("x-ratelimit-reset").unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(reset).is_ok(),
        "{reset}"
    );

    // OAuth and discovery endpoints are CORS-enabled too.
    let t = app
        .send(
            Request::builder()
                .uri("/.well-known/oauth-authorization-server")
                .header("origin", "https://x.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(t.header("access-control-allow-origin"), Some("*"));

    // The budget runs out: 429 with the Mastodon error body and headers.
    let mut last = app.get("/api/v1/instance", None).await;
    for _ in 0..3 {
        last = app.get("/api/v1/instance", None).await;
    }
    last.assert_error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    assert_eq!(last.header("x-ratelimit-remaining"), Some("0"));
    app.finish().await;
}

async fn health_and_fallbacks(b: Backend) {
    let app = TestApp::start(b).await;
    let h = app.get("/health", None).await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["status"], "ok");
    app.get("/api/v1/no_such_thing", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    let page = app.get("/no/such/page", None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let home = app.get("/", None).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains("alumni.test"));
    assert_eq!(home.header("x-frame-options"), Some("DENY"));
    app.finish().await;
}

async fn bad_bodies(b: Backend) {
    let app = TestApp::start_with(b, |c| c.limits.max_body_bytes = 4096).await;
    let r = app
        .raw(
            Method::POST,
            "/api/v1/apps",
            None,
            "application/json",
            "{\"client_name\": ",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("Malformed JSON"),
        "{}",
        r.text()
    );
    let r = app
        .raw(
            Method::POST,
            "/api/v1/apps",
            None,
            "application/json",
            "[1,2]",
        )
        .await;
    r.assert_error(
        StatusCode::BAD_REQUEST,
        "The request body must be a JSON object",
    );
    let r = app
        .raw(Method::POST, "/api/v1/apps", None, "text/xml", "<app/>")
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("Unsupported content type")
    );
    let big = format!("{{\"client_name\": \"{}\"}}", "x".repeat(10_000));
    let r = app
        .raw(Method::POST, "/api/v1/apps", None, "application/json", big)
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    // A multipart body that ends early, and a form whose value has the wrong type.
    let r = app
        .raw(
            Method::POST,
            "/api/v1/apps",
            None,
            "multipart/form-data; boundary=B",
            "--B\r\nContent-Disposition: form-data; name=\"client_name\"\r\n\r\nunfinished",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("Malformed multipart body"),
        "{}",
        r.text()
    );
    let (_, token) = app.user("formtest", "read write").await;
    let r = app
        .form(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            &[("bot", "perhaps")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["error"],
        "Invalid parameter bot: \"perhaps\" is not a boolean"
    );
    // A parameter of the wrong shape names the parameter.
    let r = app.json(Method::POST, "/api/v1/apps", None, &serde_json::json!({"client_name": {"a": 1}, "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.json()["error"].as_str().unwrap().contains("client_name"),
        "{}",
        r.text()
    );
    app.finish().await;
}
