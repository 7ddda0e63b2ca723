use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use sha2::Digest;

use crate::common::{Backend, Resp, TestApp, csrf_cookie, form_value};
use crate::dual;

const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
const PASSWORD: &str = "correct horse battery";

dual!(
    oob_code_flow,
    custom_scheme_state_and_deny,
    pkce_s256,
    authorize_rejects_bad_requests,
    consent_page_is_bilingual_and_guarded,
    other_grants,
    refresh_and_revoke,
    expired_tokens,
    login_rate_limit,
);

fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn get_form(app: &TestApp, q: &str, lang: Option<&str>) -> (Resp, String) {
    let mut b = Request::builder().uri(format!("/oauth/authorize?{q}"));
    if let Some(l) = lang {
        b = b.header("accept-language", l);
    }
    let r = app.send(b.body(Body::empty()).unwrap()).await;
    let cookie = csrf_cookie(&r).unwrap_or_default();
    (r, cookie)
}

/// Posts the sign-in form back with the hidden fields the page rendered.
async fn submit(
    app: &TestApp,
    page: &Resp,
    cookie: &str,
    username: &str,
    password: &str,
    decision: &str,
) -> Resp {
    let html = page.text();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for name in [
        "authenticity_token",
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "lang",
    ] {
        if let Some(v) = form_value(&html, name) {
            pairs.push((name.into(), v));
        }
    }
    pairs.push(("username".into(), username.into()));
    pairs.push(("password".into(), password.into()));
    pairs.push(("decision".into(), decision.into()));
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/oauth/authorize")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("tsunagu_csrf={cookie}"))
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

fn oob_code(r: &Resp) -> String {
    let html = r.text();
    let start = html
        .find("id=\"authorization-code\">")
        .expect("code on the page")
        + "id=\"authorization-code\">".len();
    html[start..start + html[start..].find('<').unwrap()]
        .trim()
        .to_owned()
}

async fn exchange(app: &TestApp, pairs: &[(&str, &str)]) -> Resp {
    app.form(Method::POST, "/oauth/token", None, pairs).await
}

async fn oob_code_flow(b: Backend) {
    let app = TestApp::start(b).await;
    app.user("taro", "read").await;
    let (cid, secret) = app.app("read write follow", OOB).await;
    let (page, cookie) = get_form(
        &app,
        &query(&[
            ("client_id", &cid),
            ("redirect_uri", OOB),
            ("response_type", "code"),
            ("scope", "read write"),
        ]),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("name=\"username\"") && html.contains("name=\"password\""));
    assert!(html.contains("Test client"));
    assert!(!cookie.is_empty());
    assert_eq!(page.header("x-frame-options"), Some("DENY"));

    // Wrong password: the page again, with an error, and no code.
    let bad = submit(&app, &page, &cookie, "taro", "wrong password", "authorize").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.text().contains("e-mail or password."), "{}", bad.text());

    // The e-mail address works as the username too.
    let ok = submit(
        &app,
        &page,
        &cookie,
        "TARO@example.com",
        PASSWORD,
        "authorize",
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let code = oob_code(&ok);
    let t = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("redirect_uri", OOB),
        ],
    )
    .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text());
    let tv = t.json();
    assert_eq!(tv["token_type"], "Bearer");
    assert_eq!(tv["scope"], "read write");
    assert!(tv["created_at"].is_i64());
    let token = tv["access_token"].as_str().unwrap();
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(token))
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["username"], "taro");

    // A code works once.
    let again = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("redirect_uri", OOB),
        ],
    )
    .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.json()["error"], "invalid_grant");

    // Wrong secret: invalid_client, 401.
    let ok = submit(&app, &page, &cookie, "taro", PASSWORD, "authorize").await;
    let code = oob_code(&ok);
    let t = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &cid),
            ("client_secret", "nope"),
        ],
    )
    .await;
    assert_eq!(t.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.json()["error"], "invalid_client");
    // HTTP Basic client authentication (client_secret_basic) works.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{cid}:{secret}"));
    let req = Request::builder()
        .method(Method::POST)
        .uri("/oauth/token")
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/json")
        .body(Body::from(serde_json::json!({"grant_type": "authorization_code", "code": code, "redirect_uri": OOB}).to_string()))
        .unwrap();
    let t = app.send(req).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text());
    app.finish().await;
}

async fn custom_scheme_state_and_deny(b: Backend) {
    let app = TestApp::start(b).await;
    app.user("hanako", "read").await;
    let (cid, secret) = app
        .app("read", "tusky://oauth https://app.example/cb")
        .await;
    let q = query(&[
        ("client_id", &cid),
        ("redirect_uri", "tusky://oauth"),
        ("response_type", "code"),
        ("state", "xyz 1"),
    ]);
    let (page, cookie) = get_form(&app, &q, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let r = submit(&app, &page, &cookie, "hanako", PASSWORD, "authorize").await;
    assert_eq!(r.status, StatusCode::FOUND);
    let loc = url::Url::parse(r.header("location").unwrap()).unwrap();
    assert_eq!(loc.scheme(), "tusky");
    let params: std::collections::HashMap<_, _> = loc.query_pairs().into_owned().collect();
    assert_eq!(params["state"], "xyz 1");
    let t = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &params["code"]),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("redirect_uri", "tusky://oauth"),
        ],
    )
    .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text());

    // A redirect_uri other than the one the code was issued for is refused.
    let q2 = query(&[
        ("client_id", &cid),
        ("redirect_uri", "https://app.example/cb"),
        ("response_type", "code"),
    ]);
    let (page, cookie) = get_form(&app, &q2, None).await;
    let r = submit(&app, &page, &cookie, "hanako", PASSWORD, "authorize").await;
    let loc = url::Url::parse(r.header("location").unwrap()).unwrap();
    assert_eq!(loc.host_str(), Some("app.example"));
    let code: String = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let t = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("redirect_uri", "tusky://oauth"),
        ],
    )
    .await;
    assert_eq!(t.json()["error"], "invalid_grant");

    // Deny sends the person back with access_denied.
    let (page, cookie) = get_form(&app, &q, None).await;
    let r = submit(&app, &page, &cookie, "", "", "deny").await;
    assert_eq!(r.status, StatusCode::FOUND);
    let loc = r.header("location").unwrap();
    assert!(
        loc.starts_with("tusky://oauth?error=access_denied"),
        "{loc}"
    );
    assert!(loc.contains("state=xyz"), "{loc}");
    app.finish().await;
}

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

async fn pkce_s256(b: Backend) {
    let app = TestApp::start(b).await;
    app.user("jiro", "read").await;
    let (cid, secret) = app.app("read", "https://app.example/cb").await;
    let verifier = "a".repeat(20) + &"b".repeat(30);
    let q = query(&[
        ("client_id", &cid),
        ("redirect_uri", "https://app.example/cb"),
        ("response_type", "code"),
        ("code_challenge", &challenge(&verifier)),
        ("code_challenge_method", "S256"),
    ]);
    let code_for = async |app: &TestApp| {
        let (page, cookie) = get_form(app, &q, None).await;
        let r = submit(app, &page, &cookie, "jiro", PASSWORD, "authorize").await;
        let loc = url::Url::parse(r.header("location").unwrap()).unwrap();
        loc.query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned()
    };
    // Wrong verifier.
    let code = code_for(&app).await;
    let t = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &cid),
            ("client_secret", &secret),
            (
                "code_verifier",
                "wrong-wrong-wrong-wrong-wrong-wrong-wrong-wrong",
            ),
        ],
    )
    .await;
    assert_eq!(t.json()["error"], "invalid_grant");
    // Missing verifier for a code bound to a challenge.
    let code = code_for(&app).await;
    let t = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &cid),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(t.json()["error"], "invalid_grant");
    // A public client (no secret) with the right verifier.
    let code = code_for(&app).await;
    let t = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &cid),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text());
    // Only S256 is accepted.
    let plain = query(&[
        ("client_id", &cid),
        ("response_type", "code"),
        ("code_challenge", &verifier),
        ("code_challenge_method", "plain"),
    ]);
    let (page, _) = get_form(&app, &plain, None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.text().contains("S256"));
    app.finish().await;
}

async fn authorize_rejects_bad_requests(b: Backend) {
    let app = TestApp::start(b).await;
    let (cid, _) = app
        .app("read", "https://app.example/cb https://app.example/other")
        .await;
    let cases = [
        (
            query(&[("client_id", "unknown"), ("response_type", "code")]),
            "unknown client",
        ),
        (
            query(&[
                ("client_id", &cid),
                ("response_type", "code"),
                ("redirect_uri", "https://evil.example/"),
            ]),
            "redirect uri included is not valid",
        ),
        (
            query(&[("client_id", &cid), ("response_type", "code")]),
            "missing the redirect_uri",
        ),
        (
            query(&[
                ("client_id", &cid),
                ("response_type", "token"),
                ("redirect_uri", "https://app.example/cb"),
            ]),
            "does not support this response type",
        ),
        (
            query(&[
                ("client_id", &cid),
                ("response_type", "code"),
                ("redirect_uri", "https://app.example/cb"),
                ("scope", "read write"),
            ]),
            "scope is invalid",
        ),
    ];
    for (q, expect) in cases {
        let (page, _) = get_form(&app, &q, None).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{q}");
        assert!(page.text().contains(expect), "{q}: {}", page.text());
    }
    app.finish().await;
}

async fn consent_page_is_bilingual_and_guarded(b: Backend) {
    let app = TestApp::start(b).await;
    app.user("yuki", "read").await;
    let (cid, _) = app.app("read write", OOB).await;
    let q = query(&[
        ("client_id", &cid),
        ("redirect_uri", OOB),
        ("response_type", "code"),
        ("scope", "read"),
    ]);
    let (ja, _) = get_form(&app, &q, Some("ja-JP,ja;q=0.9,en;q=0.5")).await;
    assert!(ja.text().contains("ログインして承認"), "{}", ja.text());
    assert!(ja.text().contains("lang=\"ja\""));
    let (en, cookie) = get_form(&app, &q, Some("en-US")).await;
    assert!(en.text().contains("Sign in and authorize"));
    let (forced, _) = get_form(&app, &format!("{q}&lang=ja"), Some("en")).await;
    assert!(forced.text().contains("ログインして承認"));

    // No CSRF cookie, or a different one: refused.
    let r = submit(&app, &en, "", "yuki", PASSWORD, "authorize").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.text().contains("authorization-code"));
    let r = submit(
        &app,
        &en,
        &format!("{cookie}x"),
        "yuki",
        PASSWORD,
        "authorize",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    app.finish().await;
}

async fn other_grants(b: Backend) {
    let app = TestApp::start(b).await;
    app.user("ken", "read").await;
    let (cid, secret) = app.app("read write", OOB).await;
    // client_credentials: an app token, read by default.
    let t = exchange(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(t.status, StatusCode::OK);
    assert_eq!(t.json()["scope"], "read");
    assert!(t.json().get("refresh_token").is_none());
    let t = exchange(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("scope", "admin:write"),
        ],
    )
    .await;
    assert_eq!(t.json()["error"], "invalid_scope");
    // Password grant is off by default.
    let t = exchange(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("username", "ken"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(t.status, StatusCode::BAD_REQUEST);
    assert_eq!(t.json()["error"], "unsupported_grant_type");
    let t = exchange(&app, &[("grant_type", "implicit"), ("client_id", &cid)]).await;
    assert_eq!(t.json()["error"], "unsupported_grant_type");
    let t = exchange(&app, &[("client_id", &cid)]).await;
    assert_eq!(t.json()["error"], "invalid_request");
    app.finish().await;

    let app = TestApp::start_with(b, |c| c.oauth.password_grant = true).await;
    app.user("ken", "read").await;
    let (cid, secret) = app.app("read write", OOB).await;
    let t = exchange(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("username", "ken@example.com"),
            ("password", PASSWORD),
            ("scope", "read write"),
        ],
    )
    .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text());
    assert_eq!(t.json()["scope"], "read write");
    let t = exchange(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("username", "ken"),
            ("password", "nope"),
        ],
    )
    .await;
    assert_eq!(t.status, StatusCode::BAD_REQUEST);
    assert_eq!(t.json()["error"], "invalid_grant");
    let meta = app
        .get("/.well-known/oauth-authorization-server", None)
        .await
        .json();
    assert!(
        meta["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&"password".into())
    );
    app.finish().await;
}

async fn refresh_and_revoke(b: Backend) {
    let app = TestApp::start_with(b, |c| c.oauth.password_grant = true).await;
    app.user("emi", "read").await;
    let (cid, secret) = app.app("read write", OOB).await;
    let t = exchange(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("username", "emi"),
            ("password", PASSWORD),
            ("scope", "read write"),
        ],
    )
    .await
    .json();
    let (access, refresh) = (
        t["access_token"].as_str().unwrap().to_owned(),
        t["refresh_token"].as_str().unwrap().to_owned(),
    );

    // Narrowing is allowed, widening is not.
    let wide = exchange(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("scope", "read write follow"),
        ],
    )
    .await;
    assert_eq!(wide.json()["error"], "invalid_scope");
    let n = exchange(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("scope", "read"),
        ],
    )
    .await;
    assert_eq!(n.status, StatusCode::OK, "{}", n.text());
    let n = n.json();
    assert_eq!(n["scope"], "read");
    let new_access = n["access_token"].as_str().unwrap();
    // Rotation: the old pair no longer works.
    app.get("/api/v1/accounts/verify_credentials", Some(&access))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "The access token was revoked");
    let reuse = exchange(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &cid),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(reuse.json()["error"], "invalid_grant");
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(new_access))
            .await
            .status,
        StatusCode::OK
    );

    // Revocation needs the right client; unknown tokens are fine (RFC 7009).
    let r = app
        .form(
            Method::POST,
            "/oauth/revoke",
            None,
            &[
                ("client_id", &cid),
                ("client_secret", "wrong"),
                ("token", new_access),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"], "unauthorized_client");
    let r = app
        .form(
            Method::POST,
            "/oauth/revoke",
            None,
            &[
                ("client_id", &cid),
                ("client_secret", &secret),
                ("token", "unknown"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "{}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = app
        .form(
            Method::POST,
            "/oauth/revoke",
            None,
            &[
                ("client_id", &cid),
                ("client_secret", &secret),
                ("token", new_access),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.get("/api/v1/accounts/verify_credentials", Some(new_access))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "The access token was revoked");
    let r = app
        .form(
            Method::POST,
            "/oauth/revoke",
            None,
            &[("client_id", &cid), ("client_secret", &secret)],
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_request");
    app.finish().await;
}

async fn expired_tokens(b: Backend) {
    let app = TestApp::start_with(b, |c| {
        c.oauth.password_grant = true;
        c.oauth.access_token_ttl_seconds = 1;
    })
    .await;
    app.user("aki", "read").await;
    let (cid, secret) = app.app("read", OOB).await;
    let t = exchange(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("username", "aki"),
            ("password", PASSWORD),
        ],
    )
    .await
    .json();
    assert_eq!(t["expires_in"], 1);
    let access = t["access_token"].as_str().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.get("/api/v1/accounts/verify_credentials", Some(access))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "The access token expired");
    // The refresh token still gets a new one.
    let n = exchange(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ("client_id", &cid),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(n.status, StatusCode::OK);
    assert_eq!(
        app.get(
            "/api/v1/accounts/verify_credentials",
            n.json()["access_token"].as_str()
        )
        .await
        .status,
        StatusCode::OK
    );
    app.finish().await;
}

async fn login_rate_limit(b: Backend) {
    let app = TestApp::start_with(b, |c| {
        c.limits.login_attempts_per_5min = 3;
        c.oauth.password_grant = true;
    })
    .await;
    app.user("mio", "read").await;
    let (cid, secret) = app.app("read", OOB).await;
    let q = query(&[
        ("client_id", &cid),
        ("redirect_uri", OOB),
        ("response_type", "code"),
    ]);
    let (page, cookie) = get_form(&app, &q, None).await;
    for _ in 0..3 {
        let r = submit(&app, &page, &cookie, "mio", "guess", "authorize").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = submit(&app, &page, &cookie, "mio", PASSWORD, "authorize").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().contains("Too many sign-in attempts"));
    // The password grant shares the budget.
    let t = exchange(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("username", "mio"),
            ("password", PASSWORD),
        ],
    )
    .await;
    t.assert_error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    app.finish().await;
}
