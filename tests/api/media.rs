use std::io::Cursor;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, Resp, TestApp};
use crate::dual;

dual!(
    upload_describe_attach,
    processing_answers_202_then_ready,
    upload_rejects
);

pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7 % 256) as u8, (y * 5 % 256) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn jpeg_with_exif() -> Vec<u8> {
    let img = image::RgbImage::from_fn(1200, 800, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 60])
    });
    let mut jpeg = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let jpeg = jpeg.into_inner();
    let payload = b"Exif\0\0MM\0*\0\0\0\x08GPS-34.6937N-135.5023E";
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "mediaBoundary7";
    let mut body = Vec::new();
    for (name, filename, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes()),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(app: &TestApp, token: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Resp {
    let (ctype, body) = multipart(parts);
    app.raw(Method::POST, "/api/v2/media", Some(token), &ctype, body)
        .await
}

async fn upload_describe_attach(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, t) = app.user("photog", "read write").await;
    let (_, other) = app.user("other", "read write").await;
    let r = upload(
        &app,
        &t,
        &[
            ("file", Some("reunion.jpg"), &jpeg_with_exif()),
            ("description", None, "同窓会の集合写真".as_bytes()),
            ("focus", None, b"0.5,-0.25"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m = r.json();
    assert_eq!(m["type"], "image");
    assert_eq!(m["description"], "同窓会の集合写真");
    assert_eq!(m["meta"]["original"]["width"], 1200);
    assert_eq!(m["meta"]["original"]["size"], "1200x800");
    assert_eq!(m["meta"]["small"]["width"], 640);
    assert_eq!(m["meta"]["focus"], json!({"x": 0.5, "y": -0.25}));
    assert!(m["blurhash"].as_str().unwrap().len() >= 6);
    let url = m["url"].as_str().unwrap();
    assert!(url.ends_with(".jpg"), "{url}");
    let served = app
        .get(url.trim_start_matches("https://alumni.test"), None)
        .await;
    assert_eq!(served.header("content-type"), Some("image/jpeg"));
    assert!(
        !served.body.windows(4).any(|w| w == b"Exif"),
        "EXIF survived"
    );
    assert!(
        !served.body.windows(3).any(|w| w == b"GPS"),
        "location survived"
    );
    let preview = app
        .get(
            m["preview_url"]
                .as_str()
                .unwrap()
                .trim_start_matches("https://alumni.test"),
            None,
        )
        .await;
    assert_eq!(image::load_from_memory(&preview.body).unwrap().width(), 640);
    let id = m["id"].as_str().unwrap().to_owned();

    // Describe and refocus.
    let r = app
        .form(
            Method::PUT,
            &format!("/api/v1/media/{id}"),
            Some(&t),
            &[("description", "Osaka, 2024"), ("focus", "0,0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["description"], "Osaka, 2024");
    let r = app
        .form(
            Method::PUT,
            &format!("/api/v1/media/{id}"),
            Some(&t),
            &[("focus", "2,0")],
        )
        .await;
    assert_eq!(r.json()["details"]["focus"][0]["error"], "ERR_INVALID");
    app.get(&format!("/api/v1/media/{id}"), Some(&other))
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    assert_eq!(
        app.get(&format!("/api/v1/media/{id}"), Some(&t))
            .await
            .status,
        StatusCode::OK
    );

    // Someone else cannot attach it; its owner can, without text.
    let r = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&other),
            &json!({"status": "stolen", "media_ids": [id]}),
        )
        .await;
    assert_eq!(r.json()["details"]["media_ids"][0]["error"], "ERR_INVALID");
    let r = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&t),
            &json!({"media_ids": [id], "sensitive": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let st = r.json();
    assert_eq!(st["media_attachments"][0]["id"], id);
    assert_eq!(st["media_attachments"][0]["description"], "Osaka, 2024");
    let sid = st["id"].as_str().unwrap().to_owned();
    // Used once only.
    let r = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&t),
            &json!({"status": "again", "media_ids": [id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // only_media filters.
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&t),
        &json!({"status": "text only"}),
    )
    .await;
    let ids = |v: Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(app
            .get("/api/v1/timelines/public?only_media=true", None)
            .await
            .json()),
        vec![sid.clone()]
    );
    let acct = st["account"]["id"].as_str().unwrap();
    assert_eq!(
        ids(app
            .get(
                &format!("/api/v1/accounts/{acct}/statuses?only_media=true"),
                None
            )
            .await
            .json()),
        vec![sid.clone()]
    );
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{acct}/statuses"), None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Editing can drop the attachment (but then needs text).
    let r = app
        .json(
            Method::PUT,
            &format!("/api/v1/statuses/{sid}"),
            Some(&t),
            &json!({"status": "", "media_ids": []}),
        )
        .await;
    assert_eq!(r.json()["details"]["text"][0]["error"], "ERR_BLANK");
    let r = app
        .json(
            Method::PUT,
            &format!("/api/v1/statuses/{sid}"),
            Some(&t),
            &json!({"status": "now text", "media_ids": []}),
        )
        .await;
    assert_eq!(r.json()["media_attachments"], json!([]));
    app.finish().await;
}

async fn processing_answers_202_then_ready(b: Backend) {
    let app = TestApp::start_with(b, |c| c.media.processing_wait_ms = 0).await;
    let (_, t) = app.user("slow", "read write").await;
    let r = upload(&app, &t, &[("file", Some("big.png"), &png(2000, 1500))]).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let m = r.json();
    assert!(m["url"].is_null());
    let id = m["id"].as_str().unwrap().to_owned();
    // Not attachable until processed.
    let r = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&t),
            &json!({"status": "wait", "media_ids": [id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let started = Instant::now();
    loop {
        let r = app.get(&format!("/api/v1/media/{id}"), Some(&t)).await;
        if r.status == StatusCode::OK {
            assert!(r.json()["url"].as_str().unwrap().ends_with(".png"));
            break;
        }
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{}", r.text());
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never finished processing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.finish().await;
}

async fn upload_rejects(b: Backend) {
    let app = TestApp::start_with(b, |c| c.media.max_image_bytes = 200_000).await;
    let (_, t) = app.user("careless", "read write").await;
    let r = upload(
        &app,
        &t,
        &[("file", Some("photo.png"), b"#!/bin/sh\nrm -rf /\n")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["details"]["file"][0]["error"], "ERR_INVALID");
    let r = upload(
        &app,
        &t,
        &[("file", Some("huge.png"), &vec![0x89; 300_000])],
    )
    .await;
    assert_eq!(r.json()["details"]["file"][0]["error"], "ERR_TOO_LARGE");
    let r = upload(&app, &t, &[("description", None, b"no file")]).await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Validation failed: File can't be blank",
    );
    let r = upload(
        &app,
        &t,
        &[
            ("file", Some("a.png"), &png(10, 10)),
            ("description", None, "x".repeat(1501).as_bytes()),
        ],
    )
    .await;
    assert_eq!(
        r.json()["details"]["description"][0]["error"],
        "ERR_TOO_LONG"
    );
    // A truncated PNG is caught by processing.
    let mut broken = png(300, 300);
    broken.truncate(200);
    let r = upload(&app, &t, &[("file", Some("broken.png"), &broken)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let (_, ro) = app.user("ro", "read").await;
    upload(&app, &ro, &[("file", Some("a.png"), &png(10, 10))])
        .await
        .assert_error(
            StatusCode::FORBIDDEN,
            "This action is outside the authorized scopes",
        );
    app.finish().await;
}
