use std::io::Cursor;

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::dual;
use crate::media::multipart;

dual!(
    verify_credentials_shape,
    update_credentials_formats,
    update_credentials_images,
    update_credentials_rejects,
    lookups_and_preferences,
    scopes_are_enforced
);

async fn verify_credentials_shape(b: Backend) {
    let app = TestApp::start(b).await;
    let (me, token) = app.user("taro", "read").await;
    let r = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["id"], me.account.id.to_string());
    assert_eq!(v["username"], "taro");
    assert_eq!(v["acct"], "taro");
    assert_eq!(v["url"], "https://alumni.test/@taro");
    assert_eq!(v["avatar"], "https://alumni.test/static/avatar-missing.png");
    assert_eq!(v["source"]["privacy"], "public");
    assert!(v["source"]["language"].is_null());
    assert_eq!(v["source"]["fields"], json!([]));
    assert_eq!(v["role"]["name"], "");
    assert_eq!(v["group"], false);
    // Every key strict clients decode is present; nullable ones as null.
    for key in [
        "display_name",
        "note",
        "avatar_static",
        "header",
        "header_static",
        "locked",
        "fields",
        "emojis",
        "bot",
        "discoverable",
        "created_at",
        "last_status_at",
        "statuses_count",
        "followers_count",
        "following_count",
        "moved",
        "noindex",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert!(v["last_status_at"].is_null());
    let created = v["created_at"].as_str().unwrap();
    assert!(
        created.ends_with("T00:00:00.000Z") && created.len() == 24,
        "{created}"
    );
    // Public view of the same account has no source.
    let public = app
        .get(&format!("/api/v1/accounts/{}", me.account.id), None)
        .await
        .json();
    assert!(public.get("source").is_none());
    assert_eq!(public["username"], "taro");
    app.finish().await;
}

async fn update_credentials_formats(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, token) = app.user("hanako", "read write").await;
    // JSON with fields as a list.
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            &json!({
                "display_name": "山田 花子",
                "note": "Alumna of the Osaka office.\nNow at https://example.com/startup <b>hi</b>",
                "locked": true,
                "fields_attributes": [{"name": "Company", "value": "ACME 2015–2022"}, {"name": "Site", "value": "https://hanako.example"}],
                "source": {"privacy": "unlisted", "language": "ja", "sensitive": true}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["display_name"], "山田 花子");
    assert_eq!(v["locked"], true);
    assert_eq!(
        v["note"],
        "<p>Alumna of the Osaka office.<br>Now at <a href=\"https://example.com/startup\" target=\"_blank\" rel=\"nofollow noopener noreferrer\">example.com/startup</a> &lt;b&gt;hi&lt;/b&gt;</p>"
    );
    assert_eq!(
        v["source"]["note"],
        "Alumna of the Osaka office.\nNow at https://example.com/startup <b>hi</b>"
    );
    assert_eq!(v["fields"][0]["name"], "Company");
    assert!(
        v["fields"][1]["value"]
            .as_str()
            .unwrap()
            .starts_with("<a href=\"https://hanako.example\"")
    );
    assert_eq!(v["source"]["fields"][1]["value"], "https://hanako.example");
    assert_eq!(v["source"]["privacy"], "unlisted");
    assert_eq!(v["source"]["language"], "ja");
    assert_eq!(v["source"]["sensitive"], true);
    let prefs = app.get("/api/v1/preferences", Some(&token)).await.json();
    assert_eq!(prefs["posting:default:visibility"], "unlisted");
    assert_eq!(prefs["posting:default:language"], "ja");

    // Rails-style form: brackets, "0"/"1" booleans; untouched values stay.
    let r = app
        .form(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            &[
                ("locked", "0"),
                ("bot", "1"),
                ("discoverable", "true"),
                ("fields_attributes[0][name]", "Division"),
                ("fields_attributes[0][value]", "R&D"),
                ("fields_attributes[1][name]", ""),
                ("fields_attributes[1][value]", ""),
                ("source[privacy]", "private"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["locked"], false);
    assert_eq!(v["bot"], true);
    assert_eq!(v["discoverable"], true);
    assert_eq!(v["display_name"], "山田 花子");
    assert_eq!(
        v["fields"].as_array().unwrap().len(),
        1,
        "blank rows are dropped"
    );
    assert_eq!(v["fields"][0]["value"], "R&amp;D");
    assert_eq!(v["source"]["privacy"], "private");
    assert_eq!(v["source"]["language"], "ja");

    // The JSON object form of fields_attributes ({"0": {...}}) too.
    let r = app
        .json(Method::PATCH, "/api/v1/accounts/update_credentials/", Some(&token), &json!({"fields_attributes": {"1": {"name": "B", "value": "2"}, "0": {"name": "A", "value": "1"}}}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["fields"][0]["name"], "A");
    // Persisted: a fresh read agrees.
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .json();
    assert_eq!(me["fields"][1]["name"], "B");
    app.finish().await;
}

fn photo_with_exif() -> Vec<u8> {
    let img = image::RgbImage::from_fn(900, 600, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut jpeg = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let jpeg = jpeg.into_inner();
    // An APP1 Exif segment right after SOI, carrying a fake GPS marker.
    let payload = b"Exif\0\0MM\0*\0\0\0\x08GPS-35.6812N-139.7671E";
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

async fn update_credentials_images(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, token) = app.user("jiro", "read write").await;
    let photo = photo_with_exif();
    let mut header_png = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
        3000,
        900,
        image::Rgba([10, 20, 30, 128]),
    ))
    .write_to(&mut header_png, image::ImageFormat::Png)
    .unwrap();
    let (ctype, body) = multipart(&[
        ("display_name", None, "Jiro".as_bytes()),
        ("fields_attributes[0][name]", None, b"Tenure"),
        ("fields_attributes[0][value]", None, b"2010-2019"),
        ("avatar", Some("me.png"), &photo),
        ("header", Some("header.jpg"), header_png.get_ref()),
    ]);
    let r = app
        .raw(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            &ctype,
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["display_name"], "Jiro");
    assert_eq!(v["fields"][0]["value"], "2010-2019");
    let avatar = v["avatar"].as_str().unwrap();
    // The declared name and type were ignored: a JPEG stays a JPEG.
    assert!(
        avatar.starts_with("https://alumni.test/media/accounts/avatar/")
            && avatar.ends_with(".jpg"),
        "{avatar}"
    );
    let header = v["header"].as_str().unwrap();
    assert!(header.ends_with(".png"), "{header}");

    let served = app
        .get(avatar.trim_start_matches("https://alumni.test"), None)
        .await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("content-type"), Some("image/jpeg"));
    assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    let bytes = served.body.to_vec();
    assert!(!bytes.windows(4).any(|w| w == b"Exif"), "EXIF survived");
    assert!(
        !bytes.windows(3).any(|w| w == b"GPS"),
        "GPS marker survived"
    );
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (400, 400));
    let served = app
        .get(header.trim_start_matches("https://alumni.test"), None)
        .await;
    assert_eq!(served.header("content-type"), Some("image/png"));
    let img = image::load_from_memory(&served.body).unwrap();
    assert_eq!((img.width(), img.height()), (1500, 500));

    // Replacing the avatar removes the old file.
    let old_path = app
        .db
        .dir
        .path()
        .join("media")
        .join(avatar.trim_start_matches("https://alumni.test/media/"));
    assert!(old_path.exists());
    let (ctype, body) = multipart(&[("avatar", Some("again.jpg"), &photo)]);
    let r = app
        .raw(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            &ctype,
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(r.json()["avatar"], avatar);
    assert!(!old_path.exists());
    app.finish().await;
}

async fn update_credentials_rejects(b: Backend) {
    let app = TestApp::start_with(b, |c| c.media.max_image_bytes = 100_000).await;
    let (_, token) = app.user("saburo", "read write").await;
    let before = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .json();
    let cases = [
        (
            json!({"display_name": "x".repeat(31)}),
            "display_name",
            "ERR_TOO_LONG",
        ),
        (json!({"note": "x".repeat(501)}), "note", "ERR_TOO_LONG"),
        (
            json!({"fields_attributes": [{"name": "1", "value": "1"}, {"name": "2", "value": "2"}, {"name": "3", "value": "3"}, {"name": "4", "value": "4"}, {"name": "5", "value": "5"}]}),
            "fields",
            "ERR_TOO_LONG",
        ),
        (
            json!({"source": {"privacy": "direct"}}),
            "source_privacy",
            "ERR_INCLUSION",
        ),
        (
            json!({"source": {"language": "Japanese"}}),
            "source_language",
            "ERR_INVALID",
        ),
    ];
    for (body, field, code) in cases {
        let r = app
            .json(
                Method::PATCH,
                "/api/v1/accounts/update_credentials",
                Some(&token),
                &body,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.json()["details"][field][0]["error"], code, "{body}");
    }
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            &json!({"locked": "maybe"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.json()["error"].as_str().unwrap().contains("locked"),
        "{}",
        r.text()
    );

    // Not an image, whatever its name says.
    let (ctype, body) =
        multipart(&[("avatar", Some("cat.png"), b"#!/bin/sh\necho not an image\n")]);
    let r = app
        .raw(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            &ctype,
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["details"]["avatar"][0]["error"], "ERR_INVALID");
    // Too large.
    let big = vec![0u8; 150_000];
    let (ctype, body) = multipart(&[("header", Some("big.png"), &big)]);
    let r = app
        .raw(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            &ctype,
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["details"]["header"][0]["error"], "ERR_TOO_LARGE");

    // Nothing was changed by any refused request.
    let after = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .json();
    assert_eq!(before, after);
    app.finish().await;
}

async fn lookups_and_preferences(b: Backend) {
    let app = TestApp::start(b).await;
    let (me, token) = app.user("Kenji", "read").await;
    for acct in ["Kenji", "kenji", "@kenji", "kenji@alumni.test"] {
        let r = app
            .get(
                &format!("/api/v1/accounts/lookup?acct={}", urlencode(acct)),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{acct}");
        assert_eq!(r.json()["id"], me.account.id.to_string());
    }
    app.get("/api/v1/accounts/lookup?acct=nobody", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.get("/api/v1/accounts/lookup", None)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "Missing parameter: acct");
    app.get("/api/v1/accounts/424242", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.get("/api/v1/accounts/not-a-number", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    let prefs = app.get("/api/v1/preferences", Some(&token)).await;
    assert_eq!(prefs.status, StatusCode::OK);
    let p = prefs.json();
    assert_eq!(p["posting:default:visibility"], "public");
    assert_eq!(p["posting:default:sensitive"], false);
    assert!(p["posting:default:language"].is_null());
    assert_eq!(p["reading:expand:media"], "default");
    // A token that is present must be valid, even on public endpoints.
    app.get(
        &format!("/api/v1/accounts/{}", me.account.id),
        Some("bogus"),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "The access token is invalid");
    app.finish().await;
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn scopes_are_enforced(b: Backend) {
    let app = TestApp::start(b).await;
    let (me, read_token) = app.user("scope_test", "read").await;
    app.json(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&read_token),
        &json!({"display_name": "x"}),
    )
    .await
    .assert_error(
        StatusCode::FORBIDDEN,
        "This action is outside the authorized scopes",
    );
    // Granular scopes.
    let granular = app.token_for(&me, "read:accounts write:accounts").await;
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&granular))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.json(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&granular),
            &json!({"display_name": "y"})
        )
        .await
        .status,
        StatusCode::OK
    );
    let statuses_only = app.token_for(&me, "read:statuses").await;
    app.get("/api/v1/accounts/verify_credentials", Some(&statuses_only))
        .await
        .assert_error(
            StatusCode::FORBIDDEN,
            "This action is outside the authorized scopes",
        );
    // `profile` allows verify_credentials and userinfo only.
    let profile = app.token_for(&me, "profile").await;
    let info = app.get("/oauth/userinfo", Some(&profile)).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.text());
    assert_eq!(info.json()["preferred_username"], "scope_test");
    assert_eq!(info.json()["sub"], "https://alumni.test/users/scope_test");
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&profile))
            .await
            .status,
        StatusCode::OK
    );
    app.get("/api/v1/preferences", Some(&profile))
        .await
        .assert_error(
            StatusCode::FORBIDDEN,
            "This action is outside the authorized scopes",
        );
    // App tokens cannot act as a person.
    let (cid, secret) = app.app("read write", "urn:ietf:wg:oauth:2.0:oob").await;
    let app_token = app.app_token(&cid, &secret, "read").await;
    app.get("/api/v1/accounts/verify_credentials", Some(&app_token))
        .await
        .assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "This method requires an authenticated user",
        );
    // Admin scopes need an admin.
    let not_admin = app.token_for(&me, "admin:read").await;
    app.get("/api/v1/admin/accounts?status=pending", Some(&not_admin))
        .await
        .assert_error(StatusCode::FORBIDDEN, "This action is not allowed");
    app.finish().await;
}
