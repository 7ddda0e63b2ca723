//! Regression tests for the findings of the security review (issue 14), one
//! per finding, each named after it. Those that need other servers live in
//! tests/federation/security.rs.
use axum::http::{Method, StatusCode};

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(
    one_deeply_nested_parameter_does_not_crash_the_server,
    made_up_credentials_do_not_buy_a_fresh_rate_limit,
    the_setup_link_dies_once_an_administrator_exists,
);

/// Finding 1: `a[x][x]...=1` with 10,000 brackets recursed once per bracket
/// and overflowed the stack, taking the whole process down.
async fn one_deeply_nested_parameter_does_not_crash_the_server(b: Backend) {
    let app = TestApp::start(b).await;
    let deep = format!("a{}=1", "[x]".repeat(10_000));
    let r = app
        .raw(
            Method::POST,
            "/api/v1/apps",
            None,
            "application/x-www-form-urlencoded",
            deep.clone(),
        )
        .await;
    r.assert_error(
        StatusCode::BAD_REQUEST,
        "A parameter name nests more than 8 brackets",
    );
    let r = app.get(&format!("/api/v2/search?q=x&{deep}"), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    // Too many parameters, too.
    let many: Vec<String> = (0..1001).map(|i| format!("k{i}=v")).collect();
    let r = app
        .raw(
            Method::POST,
            "/api/v1/apps",
            None,
            "application/x-www-form-urlencoded",
            many.join("&"),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "More than 1000 parameters");
    // Rails-style names within the bound still work.
    let r = app
        .form(
            Method::POST,
            "/api/v1/apps",
            None,
            &[
                ("client_name", "Nested"),
                ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
                ("x[a][b][c][d][e][f][g][h]", "ok"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    app.finish().await;
}

/// Finding 11: the client-API limiter keyed on any Authorization header, so a
/// random `Basic` (or a made-up bearer token) per request was never limited.
async fn made_up_credentials_do_not_buy_a_fresh_rate_limit(b: Backend) {
    let app = TestApp::start_with(b, |c| c.limits.api_requests_per_5min = 3).await;
    let (_, token) = app.user("hana", "read").await;
    let with = |auth: String| {
        axum::http::Request::builder()
            .uri("/api/v1/instance")
            .header("authorization", auth)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let mut statuses = Vec::new();
    for i in 0..6 {
        let auth = if i % 2 == 0 {
            format!("Basic {}", crate::common::random_text(12))
        } else {
            format!("Bearer {}", crate::common::random_text(40))
        };
        statuses.push(app.send(with(auth)).await.status);
    }
    // Invalid credentials count against the address: the 4th request on is refused.
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    assert!(
        statuses[4..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS)
    );
    // A real token has its own budget, and the same one for every request.
    for _ in 0..3 {
        let r = app
            .get("/api/v1/accounts/verify_credentials", Some(&token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    app.get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    app.finish().await;
}

/// Finding 5: the first-run `/setup` link kept working after an
/// administrator was made from the shell, creating a second owner.
async fn the_setup_link_dies_once_an_administrator_exists(b: Backend) {
    let app = TestApp::start(b).await;
    let ctx = &app.state.ctx;
    let link = tsunagu::services::accounts::setup_link(ctx)
        .await
        .unwrap()
        .expect("no admin yet");
    let path = link.trim_start_matches("https://alumni.test").to_owned();
    let code = path.split("code=").nth(1).unwrap().to_owned();
    let page = app.get(&path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let cookie = crate::common::csrf_cookie(&page).unwrap();
    let csrf = crate::common::form_value(&page.text(), "authenticity_token").unwrap();
    // `tsunagu admin create-user --admin` meanwhile.
    tsunagu::services::accounts::create_from_shell(
        ctx,
        "owner",
        "owner@acme.example",
        "correct horse battery",
        true,
    )
    .await
    .unwrap();
    assert_eq!(app.get(&path, None).await.status, StatusCode::FORBIDDEN);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("authenticity_token", csrf.as_str()),
            ("code", code.as_str()),
            ("username", "intruder"),
            ("email", "intruder@evil.example"),
            ("password", "correct horse battery"),
        ])
        .finish();
    let r = app
        .send(
            axum::http::Request::builder()
                .method(Method::POST)
                .uri("/setup")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("tsunagu_csrf={cookie}"))
                .body(axum::body::Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    // No second account, no second administrator, and no new link.
    let r = app.get("/api/v1/accounts/lookup?acct=intruder", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let mut conn = ctx.conn().await.unwrap();
    assert_eq!(
        tsunagu::db::accounts::count_local_admins(&mut conn)
            .await
            .unwrap(),
        1
    );
    drop(conn);
    assert!(
        tsunagu::services::accounts::setup_link(ctx)
            .await
            .unwrap()
            .is_none()
    );
    // Even the service, called directly with the old code, refuses.
    let direct = tsunagu::services::accounts::complete_setup(
        ctx,
        &code,
        "intruder2",
        "i2@evil.example",
        "correct horse battery",
    )
    .await;
    assert!(direct.is_err());
    app.finish().await;
}
