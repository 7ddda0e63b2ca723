use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

use crate::common::{Backend, TestApp, csrf_cookie, form_value};
use crate::dual;

dual!(first_run_setup_page);

async fn first_run_setup_page(b: Backend) {
    let app = TestApp::start(b).await;
    let ctx = &app.state.ctx;
    let link = tsunagu::services::accounts::setup_link(ctx)
        .await
        .unwrap()
        .expect("no admin yet");
    assert!(link.starts_with("https://alumni.test/setup?code="));
    // The same link until it is used.
    assert_eq!(
        tsunagu::services::accounts::setup_link(ctx)
            .await
            .unwrap()
            .as_deref(),
        Some(link.as_str())
    );
    let path = link.trim_start_matches("https://alumni.test");
    let page = app
        .send(
            Request::builder()
                .uri(path)
                .header("accept-language", "ja")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("最初の管理者を作成"));
    let cookie = csrf_cookie(&page).unwrap();
    let html = page.text();
    let post = |username: &str, password: &str, csrf: &str| {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("authenticity_token", csrf),
                ("code", &form_value(&html, "code").unwrap()),
                ("username", username),
                ("email", "office@acme.example"),
                ("password", password),
            ])
            .finish();
        Request::builder()
            .method(Method::POST)
            .uri("/setup")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("tsunagu_csrf={cookie}"))
            .body(Body::from(body))
            .unwrap()
    };
    let csrf = form_value(&html, "authenticity_token").unwrap();
    let r = app
        .send(post("office", "correct horse battery", "forged"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.send(post("office", "short", &csrf)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("password"));
    let r = app
        .send(post("office", "correct horse battery", &csrf))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("@office"));
    // Used: the link is dead and no new one is offered.
    let r = app
        .send(post("office2", "correct horse battery", &csrf))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(path, None).await.status, StatusCode::FORBIDDEN);
    assert!(
        tsunagu::services::accounts::setup_link(ctx)
            .await
            .unwrap()
            .is_none()
    );
    // The administrator is the instance's contact.
    let v = app.get("/api/v1/instance", None).await.json();
    assert_eq!(v["contact_account"]["username"], "office");
    app.get("/setup?code=nonsense", None).await;
    assert_eq!(
        app.get("/setup?code=nonsense", None).await.status,
        StatusCode::FORBIDDEN
    );
    app.finish().await;
}
