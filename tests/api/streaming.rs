use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(
    server_sent_events_respect_visibility,
    streaming_requires_the_right_token,
    members_only_posts_stream_to_members_only
);

/// An open SSE stream, read frame by frame.
pub struct Sse(axum::body::Body);

impl Sse {
    pub async fn open(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, Sse) {
        let mut b = Request::builder().uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let resp = tsunagu::app::service(app.state.clone())
            .oneshot(b.body(Body::empty()).unwrap())
            .await
            .unwrap();
        (resp.status(), Sse(resp.into_body()))
    }

    /// The next event (name, data), skipping keep-alive comments; None after `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<(String, String)> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut buf = String::new();
        loop {
            let frame = tokio::time::timeout_at(deadline, self.0.frame())
                .await
                .ok()??
                .ok()?;
            if let Ok(data) = frame.into_data() {
                buf.push_str(&String::from_utf8_lossy(&data));
            }
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let mut event = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(e) = line.strip_prefix("event: ") {
                        event = Some(e.to_owned());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push_str(d);
                    }
                }
                if let Some(e) = event {
                    return Some((e, data));
                }
            }
        }
    }
}

pub const WAIT: Duration = Duration::from_secs(3);
pub const QUIET: Duration = Duration::from_millis(400);

async fn server_sent_events_respect_visibility(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, author) = app.user("speaker", "read write follow").await;
    let (_, fan) = app.user("listener", "read write follow").await;
    let (_, outsider) = app.user("outsider", "read write follow").await;
    let sid = app
        .get("/api/v1/accounts/lookup?acct=speaker", None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{sid}/follow"),
        Some(&fan),
        &[],
    )
    .await;

    let (status, mut fan_home) = Sse::open(&app, "/api/v1/streaming/user", Some(&fan)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, mut public_local) = Sse::open(&app, "/api/v1/streaming/public/local", None).await;
    let (_, mut outsider_home) = Sse::open(&app, "/api/v1/streaming/user", Some(&outsider)).await;
    let (_, mut tag) = Sse::open(&app, "/api/v1/streaming/hashtag?tag=Alumni", None).await;
    let (_, mut notes) = Sse::open(&app, "/api/v1/streaming/user/notification", Some(&fan)).await;

    // A public post with a hashtag: home of a follower, public, hashtag.
    let post = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&author),
            &json!({"status": "news #alumni"}),
        )
        .await
        .json();
    let (ev, data) = fan_home
        .next(WAIT)
        .await
        .expect("update on the follower's home");
    assert_eq!(ev, "update");
    let v: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(v["id"], post["id"]);
    assert_eq!(public_local.next(WAIT).await.unwrap().0, "update");
    assert_eq!(tag.next(WAIT).await.unwrap().0, "update");
    assert!(
        outsider_home.next(QUIET).await.is_none(),
        "not a follower: nothing on the home stream"
    );

    // A followers-only post reaches the follower but never the public stream.
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&author),
        &json!({"status": "followers only", "visibility": "private"}),
    )
    .await;
    let (_, data) = fan_home.next(WAIT).await.unwrap();
    assert!(data.contains("followers only"));
    assert!(
        public_local.next(QUIET).await.is_none(),
        "private posts stay off public streams"
    );

    // Notifications: a mention arrives on user:notification.
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&author),
        &json!({"status": "@listener hello", "visibility": "direct"}),
    )
    .await;
    let (ev, data) = notes.next(WAIT).await.expect("notification event");
    assert_eq!(ev, "notification");
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap()["type"],
        "mention"
    );

    // Deletion reaches everyone.
    let pid = post["id"].as_str().unwrap();
    let r = app
        .send(
            Request::builder()
                .method(Method::DELETE)
                .uri(format!("/api/v1/statuses/{pid}"))
                .header("authorization", format!("Bearer {author}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut saw_delete = false;
    for _ in 0..4 {
        match public_local.next(WAIT).await {
            Some((ev, data)) if ev == "delete" => {
                assert_eq!(data, pid);
                saw_delete = true;
                break;
            }
            Some(_) => continue,
            None => break,
        }
    }
    assert!(saw_delete, "delete event on the public stream");
    assert_eq!(app.get("/api/v1/streaming/health", None).await.text(), "OK");
    app.finish().await;
}

async fn streaming_requires_the_right_token(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, t) = app.user("owner", "read write").await;
    let (status, _) = Sse::open(&app, "/api/v1/streaming/user", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = Sse::open(&app, "/api/v1/streaming/user", Some("bogus")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = Sse::open(&app, "/api/v1/streaming/nonsense", Some(&t)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = Sse::open(&app, "/api/v1/streaming/hashtag", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = Sse::open(&app, "/api/v1/streaming/list?list=12345", Some(&t)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.finish().await;
}

async fn members_only_posts_stream_to_members_only(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, office) = app.user_with("office", "read write follow", true).await;
    let (_, author) = app.user("speaker", "read write follow").await;
    let (_, member) = app.user("member", "read write follow").await;
    let (_, fan) = app.user("fan", "read write follow").await;
    let call = async |path: &str, token: &str, body: Value| {
        app.json(Method::POST, path, Some(token), &body)
            .await
            .json()
    };
    let acme = call("/api/v1/orgs", &office, json!({"username": "acme"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let code =
        call(&format!("/api/v1/orgs/{acme}/invites"), &office, json!({})).await["code"].clone();
    for token in [&author, &member] {
        let m = call(
            &format!("/api/v1/orgs/{acme}/membership_requests"),
            token,
            json!({"invite_code": code}),
        )
        .await;
        assert_eq!(m["state"], "verified");
    }
    let sid = app
        .get("/api/v1/accounts/lookup?acct=speaker", None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    call(&format!("/api/v1/accounts/{sid}/follow"), &fan, json!({})).await;

    let (_, mut member_home) = Sse::open(&app, "/api/v1/streaming/user", Some(&member)).await;
    let (_, mut fan_home) = Sse::open(&app, "/api/v1/streaming/user", Some(&fan)).await;
    let (_, mut public) = Sse::open(&app, "/api/v1/streaming/public", None).await;
    let (_, mut tag) = Sse::open(&app, "/api/v1/streaming/hashtag?tag=reunion", Some(&fan)).await;
    let post = call(
        "/api/v1/statuses",
        &author,
        json!({"status": "members: #reunion on Friday", "visibility": "private", "audience": acme}),
    )
    .await;
    let (ev, data) = member_home
        .next(WAIT)
        .await
        .expect("the member's home stream");
    assert_eq!(ev, "update");
    let v: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(v["id"], post["id"]);
    assert_eq!(v["visibility"], "private");
    assert_eq!(v["tsunagu"]["members_only"], true);
    assert!(
        fan_home.next(QUIET).await.is_none(),
        "a follower who is no member"
    );
    assert!(
        public.next(QUIET).await.is_none(),
        "never on public streams"
    );
    assert!(tag.next(QUIET).await.is_none(), "never on hashtag streams");

    // After leaving, nothing more arrives.
    app.json(
        Method::DELETE,
        &format!("/api/v1/orgs/{acme}/membership"),
        Some(&member),
        &json!({}),
    )
    .await;
    call(
        "/api/v1/statuses",
        &author,
        json!({"status": "members: second note", "visibility": "private", "audience": acme}),
    )
    .await;
    assert!(
        member_home.next(QUIET).await.is_none(),
        "left: no longer streamed"
    );
    app.finish().await;
}
