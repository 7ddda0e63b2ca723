//! The database pool under pressure: a request never holds a connection
//! while it takes another or waits on the network, and a busy pool answers
//! 503 with Retry-After instead of hanging.
use std::time::Duration;

use serde_json::{Value, json};

use super::common::Backend;
use super::{Client, cluster_tweaked, fake_host};
use crate::dual;

dual!(sixteen_posts_with_media_and_unknown_mentions_on_a_pool_of_two);

/// A server on `slow.test` that answers every request after 3 seconds (404).
async fn slow_remote() -> (u16, std::collections::BTreeMap<String, String>) {
    let (listener, port, extra) = fake_host("slow").await;
    let app = axum::Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        (axum::http::StatusCode::NOT_FOUND, "not here")
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, extra)
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(32, 24, |x, y| {
        image::Rgb([(x * 8) as u8, (y * 9) as u8, 70])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Posting used to hold a pooled connection while it took a second one (the
/// media lookup) and while it asked an unknown mention's server (WebFinger),
/// and the pool had no wait timeout: with a small pool, simultaneous posts
/// waited for each other forever.
async fn sixteen_posts_with_media_and_unknown_mentions_on_a_pool_of_two(b: Backend) {
    let (slow_port, extra) = slow_remote().await;
    let nodes = cluster_tweaked(b, &["alpha"], &extra, |_, c| {
        c.database.max_connections = 2;
    })
    .await;
    let alpha = &nodes[0];
    let c = Client::new(&nodes);
    let token = alpha.token("hanako").await;
    let post = async |i: usize| -> (u16, u16) {
        let mut body = b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; \
            filename=\"photo.png\"\r\nContent-Type: image/png\r\n\r\n"
            .to_vec();
        body.extend_from_slice(&png());
        body.extend_from_slice(b"\r\n--b0undary--\r\n");
        let upload = c
            .http
            .post(format!("{}/api/v2/media", alpha.base))
            .bearer_auth(&token)
            .header("Content-Type", "multipart/form-data; boundary=b0undary")
            .body(body)
            .send()
            .await
            .unwrap();
        let upload_status = upload.status().as_u16();
        let media: Value = upload.json().await.unwrap_or_default();
        let Some(id) = media["id"].as_str() else {
            return (upload_status, 0);
        };
        let (status, _) = c
            .call(
                reqwest::Method::POST,
                &format!("{}/api/v1/statuses", alpha.base),
                &token,
                Some(json!({
                    "status": format!("photo {i} for @ghost{i}@slow.test:{slow_port}"),
                    "media_ids": [id],
                })),
            )
            .await;
        (upload_status, status)
    };
    let all = futures_util::future::join_all((0..16).map(post));
    let outcomes = tokio::time::timeout(Duration::from_secs(90), all)
        .await
        .expect("posting hung");
    for (upload, status) in &outcomes {
        assert!(
            matches!(upload, 200 | 202 | 503) && matches!(status, 0 | 200 | 503),
            "{outcomes:?}"
        );
    }
    let posted = outcomes.iter().filter(|(_, s)| *s == 200).count();
    assert!(posted > 0, "{outcomes:?}");
    eprintln!("pool of two: {posted} of 16 posted, the rest told to retry: {outcomes:?}");
    for n in nodes {
        n.stop().await;
    }
}
