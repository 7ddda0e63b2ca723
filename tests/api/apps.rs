use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(
    register_apps_in_every_body_format,
    reject_bad_apps,
    app_verify_credentials
);

async fn register_apps_in_every_body_format(b: Backend) {
    let app = TestApp::start(b).await;
    // JSON, with a list of redirect URIs including a custom scheme.
    let r = app
        .json(
            Method::POST,
            "/api/v1/apps",
            None,
            &json!({"client_name": "Tusky", "redirect_uris": ["tusky://oauth", "urn:ietf:wg:oauth:2.0:oob"], "scopes": "read write follow push", "website": "https://tusky.app"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["name"], "Tusky");
    assert_eq!(v["website"], "https://tusky.app");
    assert_eq!(
        v["redirect_uris"],
        json!(["tusky://oauth", "urn:ietf:wg:oauth:2.0:oob"])
    );
    assert_eq!(
        v["redirect_uri"],
        "tusky://oauth\nurn:ietf:wg:oauth:2.0:oob"
    );
    assert_eq!(v["scopes"], json!(["read", "write", "follow", "push"]));
    assert!(v["client_id"].as_str().unwrap().len() >= 32);
    assert!(v["client_secret"].as_str().unwrap().len() >= 32);
    assert!(v["id"].is_string());
    assert_eq!(v["vapid_key"], "");

    // Form data, newline-separated URIs, no scopes (defaults to read).
    let r = app
        .form(
            Method::POST,
            "/api/v1/apps/",
            None,
            &[
                ("client_name", "Ivory"),
                ("redirect_uris", "ivory://a\nhttps://ivory.example/cb"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(
        v["redirect_uris"],
        json!(["ivory://a", "https://ivory.example/cb"])
    );
    assert_eq!(v["scopes"], json!(["read"]));
    assert!(v["website"].is_null());

    // Multipart, as some libraries send it.
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"client_name\"\r\n\r\nElk\r\n--XyZ\r\nContent-Disposition: form-data; name=\"redirect_uris\"\r\n\r\nhttps://elk.zone/oauth\r\n--XyZ\r\nContent-Disposition: form-data; name=\"scopes\"\r\n\r\nread write\r\n--XyZ--\r\n";
    let r = app
        .raw(
            Method::POST,
            "/api/v1/apps",
            None,
            "multipart/form-data; boundary=XyZ",
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["scopes"], json!(["read", "write"]));
    app.finish().await;
}

async fn reject_bad_apps(b: Backend) {
    let app = TestApp::start(b).await;
    let cases: &[(serde_json::Value, &str, &str)] = &[
        (
            json!({"redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}),
            "client_name",
            "ERR_BLANK",
        ),
        (json!({"client_name": "x"}), "redirect_uris", "ERR_BLANK"),
        (
            json!({"client_name": "x", "redirect_uris": "javascript:alert(1)"}),
            "redirect_uris",
            "ERR_INVALID",
        ),
        (
            json!({"client_name": "x", "redirect_uris": "/relative"}),
            "redirect_uris",
            "ERR_INVALID",
        ),
        (
            json!({"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read fly"}),
            "scopes",
            "ERR_INVALID",
        ),
        (
            json!({"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "website": "ftp://x"}),
            "website",
            "ERR_INVALID",
        ),
        (
            json!({"client_name": "x".repeat(61), "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}),
            "client_name",
            "ERR_TOO_LONG",
        ),
    ];
    for (body, field, code) in cases {
        let r = app.json(Method::POST, "/api/v1/apps", None, body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        let v = r.json();
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .starts_with("Validation failed: "),
            "{v}"
        );
        assert_eq!(v["details"][field][0]["error"], *code, "{body}: {v}");
    }
    app.finish().await;
}

async fn app_verify_credentials(b: Backend) {
    let app = TestApp::start(b).await;
    let (id, secret) = app.app("read write", "urn:ietf:wg:oauth:2.0:oob").await;
    let token = app.app_token(&id, &secret, "read").await;
    let r = app
        .get("/api/v1/apps/verify_credentials", Some(&token))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["name"], "Test client");
    assert!(
        v.get("client_secret").is_none(),
        "the secret is shown only once"
    );
    app.get("/api/v1/apps/verify_credentials", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "The access token is invalid");
    app.get("/api/v1/apps/verify_credentials", Some("not-a-token"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "The access token is invalid");
    app.finish().await;
}
