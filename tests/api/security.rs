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
    an_image_declaring_a_huge_canvas_is_refused_before_decoding,
    photos_of_deleted_or_private_posts_cannot_be_found_by_address,
    a_direct_message_that_mentions_an_org_stays_direct,
    a_reblog_never_widens_the_audience_of_its_original,
    deletions_of_private_posts_reach_only_streams_that_could_see_them,
    an_unproven_email_never_matches_the_roster,
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

/// A PNG that declares `w`×`h` 8-bit grey pixels but carries only a few
/// bytes of image data: all a decompression bomb needs is its header.
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib: one stored block of 64 zero bytes, then its Adler-32.
    let mut idat = vec![0x78, 0x01, 0x01, 64, 0, !64u8, 0xFF];
    idat.extend_from_slice(&[0; 64]);
    idat.extend_from_slice(&(64u32 << 16 | 1).to_be_bytes());
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Finding 6: a 1 MB PNG declaring 16384×16384 was decoded (2.2 GB each;
/// three at once took the process to 6.6 GB). Now the declared size is
/// checked from the header, before any decoding, for posts and profiles.
async fn an_image_declaring_a_huge_canvas_is_refused_before_decoding(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, token) = app.user("bomber", "read write").await;
    let bomb = png_declaring(16384, 16384);
    assert!(bomb.len() < 1024);
    let (ctype, body) = crate::media::multipart(&[("file", Some("bomb.png"), &bomb)]);
    let r = app
        .raw(Method::POST, "/api/v2/media", Some(&token), &ctype, body)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("is too large: 16384×16384 pixels"),
        "{}",
        r.text()
    );
    let (ctype, body) = crate::media::multipart(&[("avatar", Some("bomb.png"), &bomb)]);
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
    assert!(r.text().contains("too large"), "{}", r.text());
    // At the limit's edge, a real picture is still taken.
    let (ctype, body) =
        crate::media::multipart(&[("file", Some("ok.png"), &crate::media::png(64, 48))]);
    let r = app
        .raw(Method::POST, "/api/v2/media", Some(&token), &ctype, body)
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    app.finish().await;
}

/// Finding 8: attachments lived at `/media/attachments/<snowflake>/original.png`
/// (guessable from a time), were served to anyone, and outlived their post.
async fn photos_of_deleted_or_private_posts_cannot_be_found_by_address(b: Backend) {
    let app = TestApp::start_with(b, |c| {
        c.media.processing_wait_ms = 10_000;
        c.limits.media_requests_per_5min = 6;
    })
    .await;
    let (_, token) = app.user("photog", "read write").await;
    let upload = async |name: &str| {
        let (ctype, body) =
            crate::media::multipart(&[("file", Some(name), &crate::media::png(40, 30))]);
        let r = app
            .raw(Method::POST, "/api/v2/media", Some(&token), &ctype, body)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    };
    let path_of = |m: &serde_json::Value| {
        m["url"]
            .as_str()
            .unwrap()
            .trim_start_matches("https://alumni.test")
            .to_owned()
    };
    let photo = upload("private.png").await;
    let id = photo["id"].as_str().unwrap().to_owned();
    let url = path_of(&photo);
    // The address says nothing of the id or the time: a random directory.
    assert!(!url.contains(&id), "{url}");
    let dir = url.split('/').nth(3).unwrap();
    assert!(dir.len() >= 24, "{url}");
    assert_eq!(app.get(&url, None).await.status, StatusCode::OK);
    let post = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&token),
            &serde_json::json!({"status": "family", "visibility": "private", "media_ids": [id]}),
        )
        .await;
    assert_eq!(post.status, StatusCode::OK, "{}", post.text());
    let status_id = post.json()["id"].as_str().unwrap().to_owned();
    // Deleted: the old address is dead at once.
    let r = app
        .send(
            axum::http::Request::builder()
                .method(Method::DELETE)
                .uri(format!("/api/v1/statuses/{status_id}"))
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.get(&url, None).await.status, StatusCode::NOT_FOUND);
    // ...while "delete and redraft" can still use the upload, at a new address.
    let redraft = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&token),
            &serde_json::json!({"status": "family (redraft)", "media_ids": [id]}),
        )
        .await;
    assert_eq!(redraft.status, StatusCode::OK, "{}", redraft.text());
    let new_url = path_of(&redraft.json()["media_attachments"][0]);
    assert_ne!(new_url, url);
    assert_eq!(app.get(&new_url, None).await.status, StatusCode::OK);
    // delete_media=true removes the files at once, rows and all.
    let redraft_id = redraft.json()["id"].as_str().unwrap().to_owned();
    let r = app
        .send(
            axum::http::Request::builder()
                .method(Method::DELETE)
                .uri(format!("/api/v1/statuses/{redraft_id}?delete_media=true"))
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let media_dir = app.db.dir.path().join("media");
    let files = |dir: &std::path::Path| -> usize { walk(dir) };
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let p = e.path();
                        if p.is_dir() { walk(&p) } else { 1 }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    assert_eq!(files(&media_dir.join("attachments")), 0);
    let r = app.get(&format!("/api/v1/media/{id}"), Some(&token)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // An upload never posted goes after a day.
    let orphan = upload("orphan.png").await;
    assert_eq!(files(&media_dir.join("attachments")), 2);
    let ctx = &app.state.ctx;
    let now = tsunagu::ids::now();
    assert_eq!(
        tsunagu::services::media::remove_unattached(ctx, now - chrono::Duration::hours(1))
            .await
            .unwrap(),
        0,
        "kept while young"
    );
    let day_later = now + tsunagu::services::media::UNATTACHED_FOR;
    assert_eq!(
        tsunagu::services::media::remove_unattached(ctx, day_later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(files(&media_dir.join("attachments")), 0);
    let r = app
        .get(
            &format!("/api/v1/media/{}", orphan["id"].as_str().unwrap()),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // /media is rate-limited per address (6 here; 3 asked above).
    let mut last = StatusCode::OK;
    for _ in 0..4 {
        last = app.get(&path_of(&orphan), None).await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    app.finish().await;
}

async fn post_status(app: &TestApp, token: &str, body: serde_json::Value) -> serde_json::Value {
    let r = app
        .json(Method::POST, "/api/v1/statuses", Some(token), &body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// An org `acme` run by `office`, with `members` verified through an invite.
async fn org_with(app: &TestApp, office: &str, members: &[&str]) -> String {
    let acme = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(office),
            &serde_json::json!({"username": "acme"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{acme}/invites"),
            Some(office),
            &serde_json::json!({}),
        )
        .await
        .json()["code"]
        .clone();
    for token in members {
        let r = app
            .json(
                Method::POST,
                &format!("/api/v1/orgs/{acme}/membership_requests"),
                Some(token),
                &serde_json::json!({"invite_code": code}),
            )
            .await;
        assert_eq!(r.json()["state"], "verified", "{}", r.text());
    }
    acme
}

/// Finding 12: a direct message that mentioned an org became members-only:
/// the whole org read it, and the person it was addressed to could not.
async fn a_direct_message_that_mentions_an_org_stays_direct(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, office) = app.user_with("office", "read write", true).await;
    let (_, hanako) = app.user("hanako", "read write").await;
    let (_, shiro) = app.user("shiro", "read write").await;
    let (_, taro) = app.user("taro", "read write").await;
    org_with(&app, &office, &[&hanako, &shiro]).await;
    let dm = post_status(
        &app,
        &hanako,
        serde_json::json!({"status": "@acme @taro a word between us", "visibility": "direct"}),
    )
    .await;
    assert_eq!(dm["visibility"], "direct", "{dm}");
    assert!(dm["tsunagu"]["members_only"] != true, "{dm}");
    let path = format!("/api/v1/statuses/{}", dm["id"].as_str().unwrap());
    assert_eq!(app.get(&path, Some(&taro)).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&path, Some(&shiro)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    // A followers-only post mentioning the org is still the members' post.
    let private = post_status(
        &app,
        &hanako,
        serde_json::json!({"status": "@acme members, the budget", "visibility": "private"}),
    )
    .await;
    assert_eq!(private["tsunagu"]["members_only"], true, "{private}");
    app.finish().await;
}

/// Finding 13: reblogging one's own followers-only post with
/// `visibility=public` showed it to everyone through the reblog.
async fn a_reblog_never_widens_the_audience_of_its_original(b: Backend) {
    let app = TestApp::start(b).await;
    let (hanako_me, hanako) = app.user("hanako", "read write").await;
    let (taro_me, taro) = app.user("taro", "read write").await;
    let secret = post_status(
        &app,
        &hanako,
        serde_json::json!({"status": "followers only", "visibility": "private"}),
    )
    .await;
    let sid = secret["id"].as_str().unwrap().to_owned();
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/statuses/{sid}/reblog"),
            Some(&hanako),
            &serde_json::json!({"visibility": "public"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let reblog = r.json();
    assert_eq!(reblog["visibility"], "private", "{reblog}");
    let rid = reblog["id"].as_str().unwrap().to_owned();
    let account_path = format!("/api/v1/accounts/{}/statuses", hanako_me.account.id);
    for (who, token) in [("anonymous", None), ("a stranger", Some(taro.as_str()))] {
        let listed = app.get(&account_path, token).await.text();
        assert!(!listed.contains("followers only"), "{who}: {listed}");
        let one = app.get(&format!("/api/v1/statuses/{rid}"), token).await;
        assert_eq!(one.status, StatusCode::NOT_FOUND, "{who}: {}", one.text());
    }
    // An unlisted post boosted "public" by someone else stays unlisted.
    let quiet = post_status(
        &app,
        &hanako,
        serde_json::json!({"status": "quiet news", "visibility": "unlisted"}),
    )
    .await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/statuses/{}/reblog", quiet["id"].as_str().unwrap()),
            Some(&taro),
            &serde_json::json!({"visibility": "public"}),
        )
        .await;
    assert_eq!(r.json()["visibility"], "unlisted", "{}", r.text());
    // A wide reblog row stored before the fix (here: by taro) is still
    // rendered only for those who may see the original.
    let ctx = &app.state.ctx;
    let old = tsunagu::services::statuses::reblog_row(
        taro_me.account.id,
        sid.parse().unwrap(),
        tsunagu::domain::Visibility::Public,
        None,
    );
    let mut conn = ctx.conn().await.unwrap();
    tsunagu::db::statuses::insert(&mut conn, &old)
        .await
        .unwrap();
    drop(conn);
    let taro_path = format!("/api/v1/accounts/{}/statuses", taro_me.account.id);
    let listed = app.get(&taro_path, None).await.text();
    assert!(!listed.contains("followers only"), "{listed}");
    let public = app.get("/api/v1/timelines/public", None).await.text();
    assert!(!public.contains("followers only"), "{public}");
    app.finish().await;
}

/// Finding 14: every deletion went to every streaming connection, so an
/// anonymous `/streaming/public` learned the ids of private posts deleted.
async fn deletions_of_private_posts_reach_only_streams_that_could_see_them(b: Backend) {
    use crate::streaming::{QUIET, Sse, WAIT};
    let app = TestApp::start(b).await;
    let (author_me, author) = app.user("author", "read write follow").await;
    let (_, fan) = app.user("fan", "read write follow").await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/accounts/{}/follow", author_me.account.id),
            Some(&fan),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let (_, mut public) = Sse::open(&app, "/api/v1/streaming/public", None).await;
    let (_, mut fan_home) = Sse::open(&app, "/api/v1/streaming/user", Some(&fan)).await;
    let secret = post_status(
        &app,
        &author,
        serde_json::json!({"status": "followers only", "visibility": "private"}),
    )
    .await;
    let sid = secret["id"].as_str().unwrap().to_owned();
    assert_eq!(fan_home.next(WAIT).await.unwrap().0, "update");
    let r = app
        .send(
            axum::http::Request::builder()
                .method(Method::DELETE)
                .uri(format!("/api/v1/statuses/{sid}"))
                .header("authorization", format!("Bearer {author}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        fan_home.next(WAIT).await,
        Some(("delete".to_owned(), sid.clone())),
        "the follower who had it hears of the deletion"
    );
    assert_eq!(
        public.next(QUIET).await,
        None,
        "the public stream hears nothing"
    );
    app.finish().await;
}

/// Signs up through the client API as an app would; returns the user token.
async fn sign_up(app: &TestApp, username: &str, email: &str) -> String {
    let (cid, secret) = app
        .app("read write follow", "urn:ietf:wg:oauth:2.0:oob")
        .await;
    let app_token = app.app_token(&cid, &secret, "read write").await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/accounts",
            Some(&app_token),
            &serde_json::json!({"username": username, "email": email,
                "password": "correct horse battery", "agreement": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["access_token"].as_str().unwrap().to_owned()
}

const ROSTER: &str = "email,name,tenure_from,tenure_to,divisions,role\n\
    taro@acme.example,Taro Yamada,2001,2019,R&D,employee\n\
    hana@acme.example,Hana Sato,2005,2020,Sales,employee\n";

/// Finding 3: without a mail transport (the default) a new account's
/// address counted as confirmed, and a roster entry with that unproven
/// address verified whoever typed it, with the roster's role.
async fn an_unproven_email_never_matches_the_roster(b: Backend) {
    use tsunagu::config::MailTransport;
    for transport in [MailTransport::None, MailTransport::File] {
        let app = TestApp::start_with(b, |c| c.mail.transport = transport).await;
        let (_, office) = app.user_with("office", "read write", true).await;
        let acme = org_with(&app, &office, &[]).await;
        let report = tsunagu::services::roster::import(
            &app.state.ctx,
            "acme",
            ROSTER.as_bytes(),
            &|_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(report.added, 2);
        // Someone who is not Taro signs up with Taro's address and asks to join.
        let mallory = sign_up(&app, "mallory", "taro@acme.example").await;
        let ask = async |token: &str| {
            app.json(
                Method::POST,
                &format!("/api/v1/orgs/{acme}/membership_requests"),
                Some(token),
                &serde_json::json!({"role": "alumnus"}),
            )
            .await
        };
        if transport == MailTransport::File {
            // With mail, the unconfirmed person cannot even use the API yet...
            let r = ask(&mallory).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
            // ...and Hana, who answers the mail sent to her address, is
            // verified at once with the roster's facts.
            let hana = sign_up(&app, "hana", "hana@acme.example").await;
            let dir = app.db.dir.path().join("mail");
            let raw = std::fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .find(|m| m.contains("To: hana@acme.example"))
                .expect("a mail to hana");
            let body = crate::registration::decode_body(&raw);
            let start = body.find("/auth/confirm?token=").expect("a link");
            let path: String = body[start..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            assert_eq!(
                crate::registration::confirm_by_link(&app, &path)
                    .await
                    .status,
                StatusCode::OK
            );
            let r = ask(&hana).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            assert_eq!(r.json()["state"], "verified", "{}", r.text());
            assert_eq!(r.json()["role"], "employee");
            // The roster's period starts her alumni profile, confirmed.
            let own = app.get("/api/v1/alumni/profile", Some(&hana)).await.json();
            let t = &own["tenures"][0];
            assert_eq!(
                (&t["from"], &t["to"], &t["division"], &t["verified"]),
                (
                    &serde_json::json!(2005),
                    &serde_json::json!(2020),
                    &serde_json::json!("Sales"),
                    &serde_json::json!(true)
                ),
                "{own}"
            );
            app.finish().await;
            continue;
        }
        let r = ask(&mallory).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["state"], "pending", "{}", r.text());
        assert_eq!(r.json()["role"], "alumnus");
        // Importing the roster again verifies no one either.
        let report = tsunagu::services::roster::import(
            &app.state.ctx,
            "acme",
            ROSTER.as_bytes(),
            &|_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(report.verified, 0);
        // The office sees the request with the match, marked unproven.
        let q = app
            .get(
                &format!("/api/v1/orgs/{acme}/membership_requests"),
                Some(&office),
            )
            .await
            .json();
        let request = &q[0];
        assert_eq!(request["account"]["acct"], "mallory", "{q}");
        assert_eq!(request["roster_match"]["name"], "Taro Yamada", "{q}");
        assert_eq!(request["roster_match"]["role"], "employee");
        assert_eq!(request["roster_match"]["email_proven"], false);
        let r = app
            .get(&format!("/api/v1/orgs/{acme}/membership"), Some(&mallory))
            .await;
        assert_eq!(r.json()["state"], "pending");
        // The office decides; approving takes the roster's facts.
        let r = app
            .json(
                Method::POST,
                &format!(
                    "/api/v1/orgs/{acme}/membership_requests/{}/approve",
                    request["id"].as_str().unwrap()
                ),
                Some(&office),
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["state"], "verified");
        assert_eq!(r.json()["role"], "employee");
        assert_eq!(r.json()["via"], "roster");
        app.finish().await;
    }
}
