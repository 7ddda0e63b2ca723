use axum::http::{Method, StatusCode};
use serde_json::json;
use tsunagu::config::{MailTransport, RegistrationMode};

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(
    open_registration,
    registration_errors,
    closed_and_invite_modes,
    approval_mode,
    email_confirmation,
    registration_rate_limit
);

async fn app_token(app: &TestApp) -> String {
    let (cid, secret) = app
        .app("read write follow", "urn:ietf:wg:oauth:2.0:oob")
        .await;
    app.app_token(&cid, &secret, "read write").await
}

fn signup(username: &str) -> serde_json::Value {
    json!({"username": username, "email": format!("{username}@example.com"), "password": "correct horse battery", "agreement": true, "locale": "ja"})
}

async fn open_registration(b: Backend) {
    let app = TestApp::start(b).await;
    let token = app_token(&app).await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/accounts",
            Some(&token),
            &signup("sakura"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["scope"], "read write follow");
    let user_token = v["access_token"].as_str().unwrap();
    // Without a mail transport the account signs in at once.
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(user_token))
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    assert_eq!(me.json()["acct"], "sakura");
    // Form data with "1" as the agreement works the same.
    let r = app
        .form(
            Method::POST,
            "/api/v1/accounts",
            Some(&token),
            &[
                ("username", "ume"),
                ("email", "ume@example.com"),
                ("password", "correct horse battery"),
                ("agreement", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    app.finish().await;
}

async fn registration_errors(b: Backend) {
    // Every attempt counts against the sign-up budget; this test makes many.
    let app = TestApp::start_with(b, |c| c.limits.registrations_per_30min = 100).await;
    let token = app_token(&app).await;
    app.json(
        Method::POST,
        "/api/v1/accounts",
        Some(&token),
        &signup("Sakura"),
    )
    .await;
    let cases = [
        (signup("sakura"), "username", "ERR_TAKEN"),
        (
            json!({"username": "other", "email": "SAKURA@example.com", "password": "correct horse battery", "agreement": true}),
            "email",
            "ERR_TAKEN",
        ),
        (signup("bad-name"), "username", "ERR_INVALID"),
        (signup("admin"), "username", "ERR_RESERVED"),
        (
            json!({"username": "x1", "email": "not-an-address", "password": "correct horse battery", "agreement": true}),
            "email",
            "ERR_INVALID",
        ),
        (
            json!({"username": "x2", "email": "x2@example.com", "password": "short", "agreement": true}),
            "password",
            "ERR_TOO_SHORT",
        ),
        (
            json!({"username": "x3", "email": "x3@example.com", "password": "correct horse battery", "agreement": false}),
            "agreement",
            "ERR_ACCEPTED",
        ),
        (
            json!({"username": "", "email": "x4@example.com", "password": "correct horse battery", "agreement": true}),
            "username",
            "ERR_BLANK",
        ),
        (
            json!({"username": "x5", "email": "x5@example.com", "password": "correct horse battery", "agreement": true, "locale": "xx-toolong-1"}),
            "locale",
            "ERR_INVALID",
        ),
    ];
    for (body, field, code) in cases {
        let r = app
            .json(Method::POST, "/api/v1/accounts", Some(&token), &body)
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        let v = r.json();
        assert_eq!(v["details"][field][0]["error"], code, "{body}: {v}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .starts_with("Validation failed")
        );
    }
    let taken = app
        .json(
            Method::POST,
            "/api/v1/accounts",
            Some(&token),
            &signup("SAKURA"),
        )
        .await
        .json();
    assert_eq!(
        taken["error"],
        "Validation failed: Username has already been taken, Email has already been taken"
    );

    // Tokens: none, or one without write:accounts.
    app.json(Method::POST, "/api/v1/accounts", None, &signup("nobody"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "The access token is invalid");
    let (cid, secret) = app.app("read", "urn:ietf:wg:oauth:2.0:oob").await;
    let read_only = app.app_token(&cid, &secret, "read").await;
    app.json(
        Method::POST,
        "/api/v1/accounts",
        Some(&read_only),
        &signup("nobody"),
    )
    .await
    .assert_error(
        StatusCode::FORBIDDEN,
        "This action is outside the authorized scopes",
    );
    app.finish().await;
}

async fn closed_and_invite_modes(b: Backend) {
    let app = TestApp::start_with(b, |c| c.registrations.mode = RegistrationMode::Closed).await;
    let token = app_token(&app).await;
    app.json(
        Method::POST,
        "/api/v1/accounts",
        Some(&token),
        &signup("kaito"),
    )
    .await
    .assert_error(
        StatusCode::FORBIDDEN,
        "Registrations are closed on this server",
    );
    assert_eq!(
        app.get("/api/v1/instance", None).await.json()["registrations"],
        false
    );
    app.finish().await;

    let app = TestApp::start_with(b, |c| c.registrations.mode = RegistrationMode::Invite).await;
    let token = app_token(&app).await;
    app.json(
        Method::POST,
        "/api/v1/accounts",
        Some(&token),
        &signup("kaito"),
    )
    .await
    .assert_error(
        StatusCode::FORBIDDEN,
        "An invitation is required to sign up on this server",
    );
    let invite = tsunagu::services::accounts::create_invite(&app.state.ctx, None, Some(1), None)
        .await
        .unwrap();
    let mut body = signup("kaito");
    body["invite_code"] = json!(invite.code);
    let r = app
        .json(Method::POST, "/api/v1/accounts", Some(&token), &body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Single use: the second person is refused, and nothing is created for them.
    let mut body = signup("kaede");
    body["invite_code"] = json!(invite.code);
    let r = app
        .json(Method::POST, "/api/v1/accounts", Some(&token), &body)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["details"]["invite_code"][0]["error"],
        "ERR_INVALID"
    );
    app.get("/api/v1/accounts/lookup?acct=kaede", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.finish().await;
}

async fn approval_mode(b: Backend) {
    let app = TestApp::start_with(b, |c| c.registrations.mode = RegistrationMode::Approval).await;
    let (_, admin_token) = app
        .user_with("office", "read write admin:read admin:write", true)
        .await;
    let token = app_token(&app).await;
    let mut body = signup("riku");
    body["reason"] = json!("I worked in the Osaka office 2015-2020");
    let r = app
        .json(Method::POST, "/api/v1/accounts", Some(&token), &body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let user_token = r.json()["access_token"].as_str().unwrap().to_owned();
    app.get("/api/v1/accounts/verify_credentials", Some(&user_token))
        .await
        .assert_error(
            StatusCode::FORBIDDEN,
            "Your login is currently pending approval",
        );
    // Not visible to others while pending.
    app.get("/api/v1/accounts/lookup?acct=riku", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");

    let n = app
        .get(
            "/api/v1/notifications?types[]=admin.sign_up",
            Some(&admin_token),
        )
        .await
        .json();
    assert_eq!(n[0]["type"], "admin.sign_up");
    assert_eq!(n[0]["account"]["username"], "riku");
    let pending = app
        .get("/api/v1/admin/accounts?status=pending", Some(&admin_token))
        .await;
    assert_eq!(pending.status, StatusCode::OK, "{}", pending.text());
    let list = pending.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        list[0]["invite_request"],
        "I worked in the Osaka office 2015-2020"
    );
    let id = list[0]["id"].as_str().unwrap().to_owned();
    // Only admins approve.
    let (_, plain_token) = app.user("member", "read write admin:write").await;
    app.form(
        Method::POST,
        &format!("/api/v1/admin/accounts/{id}/approve"),
        Some(&plain_token),
        &[],
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "This action is not allowed");
    let r = app
        .form(
            Method::POST,
            &format!("/api/v1/admin/accounts/{id}/approve"),
            Some(&admin_token),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["approved"], true);
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&user_token))
            .await
            .status,
        StatusCode::OK
    );
    app.form(
        Method::POST,
        "/api/v1/admin/accounts/999/approve",
        Some(&admin_token),
        &[],
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.finish().await;
}

async fn email_confirmation(b: Backend) {
    let app = TestApp::start_with(b, |c| c.mail.transport = MailTransport::File).await;
    let token = app_token(&app).await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/accounts",
            Some(&token),
            &signup("nanami"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let user_token = r.json()["access_token"].as_str().unwrap().to_owned();
    app.get("/api/v1/accounts/verify_credentials", Some(&user_token))
        .await
        .assert_error(
            StatusCode::FORBIDDEN,
            "Your login is missing a confirmed e-mail address",
        );

    // The message went through the real (file) transport, in the person's language.
    let dir = app.db.dir.path().join("mail");
    let mail = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .expect("a mail");
    let raw = std::fs::read_to_string(mail.path()).unwrap();
    assert!(raw.contains("To: nanami@example.com"), "{raw}");
    let raw = decode_body(&raw);
    assert!(
        raw.contains("メールアドレスを確認"),
        "the mail is in Japanese: {raw}"
    );
    let start = raw
        .find("https://alumni.test/auth/confirm?token=")
        .expect("confirmation link");
    let link: String = raw[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let path = link.trim_start_matches("https://alumni.test");
    // Fetching the link (as a mail scanner does) confirms nothing.
    assert_eq!(app.get(path, None).await.status, StatusCode::OK);
    app.get("/api/v1/accounts/verify_credentials", Some(&user_token))
        .await
        .assert_error(
            StatusCode::FORBIDDEN,
            "Your login is missing a confirmed e-mail address",
        );
    let page = confirm_by_link(&app, path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("@nanami"));
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&user_token))
            .await
            .status,
        StatusCode::OK
    );
    // The link works once.
    assert_eq!(
        confirm_by_link(&app, path).await.status,
        StatusCode::NOT_FOUND
    );
    app.finish().await;
}

async fn registration_rate_limit(b: Backend) {
    let app = TestApp::start_with(b, |c| c.limits.registrations_per_30min = 2).await;
    let token = app_token(&app).await;
    for name in ["r1", "r2"] {
        assert_eq!(
            app.json(
                Method::POST,
                "/api/v1/accounts",
                Some(&token),
                &signup(name)
            )
            .await
            .status,
            StatusCode::OK
        );
    }
    app.json(
        Method::POST,
        "/api/v1/accounts",
        Some(&token),
        &signup("r3"),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    app.finish().await;
}

/// The text of a single-part message, whatever transfer encoding lettre chose.
/// Opens the confirmation link as a person does: the page, then its button.
pub async fn confirm_by_link(app: &TestApp, path: &str) -> crate::common::Resp {
    let page = app.get(path, None).await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.text());
    let csrf = crate::common::csrf_cookie(&page).expect("a CSRF cookie");
    let token = path
        .split_once("token=")
        .map(|(_, t)| t)
        .unwrap_or_default();
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("authenticity_token", &csrf)
        .append_pair("token", token)
        .finish();
    app.send(
        axum::http::Request::builder()
            .method(axum::http::Method::POST)
            .uri("/auth/confirm")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("tsunagu_csrf={csrf}"))
            .body(axum::body::Body::from(body))
            .unwrap(),
    )
    .await
}

pub fn decode_body(raw: &str) -> String {
    use base64::Engine;
    let (head, body) = raw.split_once("\r\n\r\n").expect("headers and body");
    if head.contains("Content-Transfer-Encoding: base64") {
        let compact: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap(),
        )
        .unwrap()
    } else if head.contains("Content-Transfer-Encoding: quoted-printable") {
        let joined = body.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    } else {
        body.to_owned()
    }
}
