//! The member web through the real router, as a browser uses it: cookies,
//! CSRF tokens, redirects. Signing in and out, sessions, two-factor sign-in
//! (also on the OAuth consent page), sign-up through an org's invitation
//! link, and members-only posts from the compose form.
use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, Resp, TestApp, html_unescape};
use crate::dual;

const PASSWORD: &str = "correct horse battery";

/// A browser: keeps cookies, sends the CSRF token with every form.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    cookies: BTreeMap<String, String>,
    lang: &'static str,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp, lang: &'static str) -> Self {
        Browser {
            app,
            cookies: BTreeMap::new(),
            lang,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: axum::http::request::Builder, body: Body) -> Resp {
        let req = req
            .header("cookie", self.cookie_header())
            .header("accept-language", self.lang)
            .header("user-agent", "TestBrowser/1.0")
            .body(body)
            .unwrap();
        let r = self.app.send(req).await;
        for c in r.headers.get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (kv, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        r
    }

    pub(crate) async fn get(&mut self, path: &str) -> Resp {
        self.send(Request::builder().uri(path), Body::empty()).await
    }

    /// Posts a form with this browser's CSRF token (unless one is given).
    pub(crate) async fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        let mut body = form_urlencoded::Serializer::new(String::new());
        if !pairs.iter().any(|(k, _)| *k == "authenticity_token") {
            let token = self
                .cookies
                .get("tsunagu_csrf")
                .cloned()
                .unwrap_or_default();
            body.append_pair("authenticity_token", &token);
        }
        body.extend_pairs(pairs);
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(path)
                .header("content-type", "application/x-www-form-urlencoded"),
            Body::from(body.finish()),
        )
        .await
    }

    /// Posts a multipart form, with an optional image as the named field.
    pub(crate) async fn post_multipart(
        &mut self,
        path: &str,
        pairs: &[(&str, &str)],
        image: Option<(&str, &[u8])>,
    ) -> Resp {
        let file = image.map(|(field, bytes)| (field, "a.png", "image/png", bytes));
        self.post_parts(path, pairs, file).await
    }

    /// Uploads a file (with this browser's CSRF token) as a form would.
    pub(crate) async fn post_file(
        &mut self,
        path: &str,
        field: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Resp {
        self.post_parts(path, &[], Some((field, file_name, "text/csv", bytes)))
            .await
    }

    async fn post_parts(
        &mut self,
        path: &str,
        pairs: &[(&str, &str)],
        file: Option<(&str, &str, &str, &[u8])>,
    ) -> Resp {
        let boundary = "tsunagu-test-boundary";
        let mut body: Vec<u8> = Vec::new();
        let token = self
            .cookies
            .get("tsunagu_csrf")
            .cloned()
            .unwrap_or_default();
        let mut fields: Vec<(&str, &str)> = vec![("authenticity_token", token.as_str())];
        fields.extend_from_slice(pairs);
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        if let Some((field, file_name, ctype, bytes)) = file {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: {ctype}\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.send(
            Request::builder().method(Method::POST).uri(path).header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            ),
            Body::from(body),
        )
        .await
    }

    pub(crate) async fn sign_in(&mut self, login: &str, password: &str) -> Resp {
        self.get("/auth/sign_in").await;
        self.post("/auth/sign_in", &[("login", login), ("password", password)])
            .await
    }

    fn session(&self) -> Option<String> {
        self.cookies.get("tsunagu_session").cloned()
    }
}

fn location(r: &Resp) -> &str {
    r.header("location").unwrap_or_default()
}

fn set_cookie<'r>(r: &'r Resp, name: &str) -> Option<&'r str> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// The text between `start` and the next `end` in a page.
fn between<'h>(html: &'h str, start: &str, end: &str) -> Option<&'h str> {
    let i = html.find(start)? + start.len();
    let j = html[i..].find(end)? + i;
    Some(&html[i..j])
}

/// The code an authenticator app shows for `secret` at `at` (Unix seconds).
fn totp_code(secret: &str, at: u64) -> String {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(at)
        .to_string()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

dual!(
    signing_in_sets_safe_cookies_and_sessions_can_be_ended,
    two_factor_sign_in_needs_a_code_that_works_once,
    an_invitation_link_signs_up_into_the_org,
    members_only_posts_from_the_web_reach_members_not_followers,
    staff_must_set_up_two_factor_sign_in_when_the_instance_says_so,
    password_reset_and_email_change_go_through_links_by_mail,
    settings_change_profile_fields_language_picture_and_consents,
    search_finds_people_hashtags_and_posts,
    sign_up_page_follows_the_registration_mode,
    notifications_come_by_mail_as_chosen
);

async fn signing_in_sets_safe_cookies_and_sessions_can_be_ended(b: Backend) {
    let app = TestApp::start(b).await;
    app.user("hanako", "read").await;
    let mut a = Browser::new(&app, "en");

    // Signed out, a member page asks to sign in and come back.
    let r = a.get("/home").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/auth/sign_in?next=%2Fhome");

    let form = a.get("/auth/sign_in").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text().contains("autocomplete=\"current-password\""));
    let csrf_before = a.cookies["tsunagu_csrf"].clone();

    // A form without this browser's token is refused; so are wrong passwords.
    let r = a
        .post(
            "/auth/sign_in",
            &[
                ("authenticity_token", "forged"),
                ("login", "hanako"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(a.session().is_none());
    let r = a
        .post(
            "/auth/sign_in",
            &[("login", "hanako"), ("password", "wrong")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("Invalid username"), "{}", r.text());
    assert!(a.session().is_none());

    // Signing in: a session cookie with safe flags, a new CSRF token, and a
    // `next` that leaves this server is ignored.
    let r = a
        .post(
            "/auth/sign_in",
            &[
                ("login", "hanako@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(location(&r), "/home");
    let cookie = set_cookie(&r, "tsunagu_session").expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(cookie.contains("; Secure"), "an https instance: {cookie}");
    assert_ne!(a.cookies["tsunagu_csrf"], csrf_before, "CSRF token rotated");
    let home = a.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains("action=\"/post\""));

    // A second browser; the first lists both and ends the second.
    let mut b2 = Browser::new(&app, "ja");
    assert_eq!(
        b2.sign_in("hanako", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(b2.get("/home").await.status, StatusCode::OK);
    let security = a.get("/settings/security").await.text();
    assert_eq!(
        security.matches("action=\"/settings/sessions/").count(),
        2,
        "{security}"
    );
    assert!(security.contains("this browser"));
    // The other browser's session is the one not marked as this one.
    let rows: Vec<&str> = security
        .split("<tr>")
        .filter(|r| r.contains("/settings/sessions/"))
        .collect();
    let other_row = rows.iter().find(|r| !r.contains("this browser")).unwrap();
    let other_id = between(other_row, "/settings/sessions/", "/revoke")
        .unwrap()
        .to_owned();
    let r = a
        .post(&format!("/settings/sessions/{other_id}/revoke"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = b2.get("/home").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "ended elsewhere");
    // Nobody ends someone else's session.
    app.user("taro", "read").await;
    let mut t = Browser::new(&app, "en");
    t.sign_in("taro", PASSWORD).await;
    let a_session_id = between(
        &a.get("/settings/security").await.text(),
        "/settings/sessions/",
        "/revoke",
    )
    .unwrap()
    .to_owned();
    let r = t
        .post(&format!("/settings/sessions/{a_session_id}/revoke"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(a.get("/home").await.status, StatusCode::OK);

    // Signing out ends the session on the server: the old cookie is worthless.
    let token = a.session().unwrap();
    let r = a
        .post("/auth/sign_out", &[("authenticity_token", "forged")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "sign-out needs the token too"
    );
    let r = a.post("/auth/sign_out", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        set_cookie(&r, "tsunagu_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    a.cookies.insert("tsunagu_session".into(), token);
    assert_eq!(a.get("/home").await.status, StatusCode::SEE_OTHER);
    app.finish().await;
}

async fn two_factor_sign_in_needs_a_code_that_works_once(b: Backend) {
    let app = TestApp::start(b).await;
    app.user("hanako", "read").await;
    let mut a = Browser::new(&app, "en");
    a.sign_in("hanako", PASSWORD).await;
    // Set-up: a secret and its QR code; a wrong code does not turn it on.
    let r = a
        .post("/settings/two_factor/begin", &[("password", "wrong")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a stolen session cannot set it up"
    );
    let r = a
        .post("/settings/two_factor/begin", &[("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = a.get("/settings/security").await.text();
    let secret = between(&page, "id=\"totp-secret\">", "<")
        .unwrap()
        .to_owned();
    assert!(page.contains("<svg"), "QR code inline");
    assert!(html_unescape(&page).contains("otpauth://totp/") || page.contains("role=\"img\""));
    let r = a
        .post("/settings/two_factor/enable", &[("code", "000000")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = totp_code(&secret, now());
    let r = a
        .post("/settings/two_factor/enable", &[("code", &code)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    let list = between(&page, "id=\"recovery-codes\">", "</ul>").unwrap();
    let recovery: Vec<String> = list
        .split("<li>")
        .skip(1)
        .map(|c| c.trim_end_matches("</li>").to_owned())
        .collect();
    assert_eq!(recovery.len(), 10, "{list}");
    // This browser stays signed in.
    assert_eq!(a.get("/home").await.status, StatusCode::OK);

    // Signing in now: the password opens only a half session.
    let mut b2 = Browser::new(&app, "en");
    let r = b2.sign_in("hanako", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/auth/two_factor"));
    let half = b2.session().unwrap();
    assert_eq!(
        b2.get("/home").await.status,
        StatusCode::SEE_OTHER,
        "no access yet"
    );
    assert_eq!(b2.get("/auth/two_factor").await.status, StatusCode::OK);
    // The code that turned it on was used: refused. A wrong one too.
    let r = b2.post("/auth/two_factor", &[("code", &code)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = b2.post("/auth/two_factor", &[("code", "123456")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The next step's code (the app a little ahead) works, once.
    let next = totp_code(&secret, now() + 30);
    let r = b2.post("/auth/two_factor", &[("code", &next)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(location(&r), "/home");
    assert_ne!(b2.session().unwrap(), half, "a new session after the code");
    assert_eq!(b2.get("/home").await.status, StatusCode::OK);
    let mut b3 = Browser::new(&app, "en");
    b3.sign_in("hanako", PASSWORD).await;
    let r = b3.post("/auth/two_factor", &[("code", &next)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a code works once");
    // A recovery code works once, with or without its dash.
    let r = b3
        .post(
            "/auth/two_factor",
            &[("code", &recovery[0].replace('-', ""))],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut b4 = Browser::new(&app, "en");
    b4.sign_in("hanako", PASSWORD).await;
    let r = b4.post("/auth/two_factor", &[("code", &recovery[0])]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        a.get("/settings/security")
            .await
            .text()
            .contains("You have 9 recovery codes left")
    );

    // The OAuth consent page asks for the code as well.
    let (client_id, _) = app.app("read", "urn:ietf:wg:oauth:2.0:oob").await;
    let authorize = format!(
        "/oauth/authorize?client_id={client_id}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&response_type=code&scope=read"
    );
    let mut c = Browser::new(&app, "en");
    c.get(&authorize).await;
    let fields = [
        ("client_id", client_id.as_str()),
        ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
        ("response_type", "code"),
        ("scope", "read"),
        ("username", "hanako"),
        ("password", PASSWORD),
        ("decision", "authorize"),
    ];
    let r = c.post("/oauth/authorize", &fields).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("two-factor sign-in"), "{}", r.text());
    let mut with_code = fields.to_vec();
    with_code.push(("otp", "111111"));
    let r = c.post("/oauth/authorize", &with_code).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let mut with_code = fields.to_vec();
    with_code.push(("otp", &recovery[1]));
    let r = c.post("/oauth/authorize", &with_code).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("id=\"authorization-code\""));

    // Turning it off needs a code; then the password alone signs in.
    let r = a
        .post("/settings/two_factor/disable", &[("code", "000000")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = a
        .post("/settings/two_factor/disable", &[("code", &recovery[2])])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut b5 = Browser::new(&app, "en");
    let r = b5.sign_in("hanako", PASSWORD).await;
    assert_eq!(location(&r), "/home");
    app.finish().await;
}

/// An admin and an org with an invitation link of role `role`; returns
/// (admin token, org id, invite code).
async fn org_with_invite(app: &TestApp, role: &str) -> (String, String, String) {
    let (_, office) = app.user_with("office", "read write", true).await;
    let org = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(&office),
            &json!({"username": "acme", "display_name": "ACME Alumni"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invites"),
            Some(&office),
            &json!({"role": role}),
        )
        .await
        .json()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    (office, org, code)
}

async fn members(app: &TestApp, office: &str, org: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/orgs/{org}/members"), Some(office))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json().as_array().unwrap().clone()
}

async fn an_invitation_link_signs_up_into_the_org(b: Backend) {
    // Registrations closed: an org's invitation still lets people in.
    let app = TestApp::start_with(b, |c| {
        c.registrations.mode = tsunagu::config::RegistrationMode::Closed;
    })
    .await;
    let (office, org, code) = org_with_invite(&app, "employee").await;
    let mut v = Browser::new(&app, "ja");
    let page = v.get(&format!("/join/{code}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("ACME Alumni に参加"), "{html}");
    assert!(html.contains("社員"), "the invite's role");
    assert!(html.contains("メンバー申請する"));

    // A bad claim: nothing is created, the errors are named in Japanese.
    let signup = |tenure: &'static str| {
        vec![
            ("username", "jiro"),
            ("email", "jiro@example.com"),
            ("password", PASSWORD),
            ("tenure_from", tenure),
            ("tenure_to", "2019-03"),
            ("division", "R&D 研究所"),
            ("consent_directory", "1"),
            ("consent_share_profile", "1"),
            ("agreement", "1"),
        ]
    };
    let r = v.post(&format!("/join/{code}"), &signup("20xx")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("href=\"#tenure_from\""), "{}", r.text());
    assert!(
        r.text()
            .contains("入社(年または年-月)の形式が正しくありません")
    );
    assert!(v.session().is_none());
    let r = app.get("/api/v1/accounts/lookup?acct=jiro", None).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "no account from a refused form"
    );

    // A good one: signed up, signed in, and a verified member with the claim.
    let r = v.post(&format!("/join/{code}"), &signup("2008-04")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(location(&r), "/home?joined=1");
    let home = v.get("/home?joined=1").await.text();
    assert!(home.contains("メンバー申請を送りました"));
    let list = members(&app, &office, &org).await;
    let jiro = list
        .iter()
        .find(|m| m["account"]["username"] == "jiro")
        .unwrap_or_else(|| panic!("{list:?}"));
    assert_eq!(jiro["role"], "employee");
    assert_eq!(jiro["state"], "verified");
    assert_eq!(jiro["via"], "invite");
    assert_eq!(jiro["tenure_from"], "2008-04");
    assert_eq!(jiro["tenure_to"], "2019-03");
    assert_eq!(jiro["divisions"], json!(["R&D 研究所"]));
    assert_eq!(jiro["consents"]["directory"], true);
    assert_eq!(jiro["consents"]["comeback_contact"], false);
    // The account's language is the page's.
    let me = tsunagu::services::accounts::find_local_by_username(&app.state.ctx, "jiro")
        .await
        .unwrap();
    assert_eq!(me.user.locale.as_deref(), Some("ja"));

    // The same name again: the error is next to the field.
    let mut w = Browser::new(&app, "en");
    w.get(&format!("/join/{code}")).await;
    let r = w.post(&format!("/join/{code}"), &signup("2010")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"username-error\""), "{}", r.text());

    // Unknown or revoked links explain themselves.
    let r = w.get("/join/not-a-code").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("invitation link is invalid"));
    app.finish().await;
}

async fn members_only_posts_from_the_web_reach_members_not_followers(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, _org, code) = org_with_invite(&app, "alumnus").await;
    let join = |name: &'static str| {
        vec![
            ("username", name),
            (
                "email",
                if name == "hanako" {
                    "hanako@example.com"
                } else {
                    "jiro@example.com"
                },
            ),
            ("password", PASSWORD),
            ("agreement", "1"),
        ]
    };
    let mut hanako = Browser::new(&app, "en");
    hanako.get(&format!("/join/{code}")).await;
    assert_eq!(
        hanako
            .post(&format!("/join/{code}"), &join("hanako"))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let mut jiro = Browser::new(&app, "en");
    jiro.get(&format!("/join/{code}")).await;
    assert_eq!(
        jiro.post(&format!("/join/{code}"), &join("jiro"))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // A follower of hanako who is not a member: follows from hanako's page.
    app.user("fumiko", "read").await;
    let mut fumiko = Browser::new(&app, "en");
    fumiko.sign_in("fumiko", PASSWORD).await;
    let page = fumiko.get("/@hanako").await.text();
    let follow = between(&page, "action=\"/accounts/", "\"")
        .unwrap_or_else(|| panic!("{page}"))
        .to_owned();
    assert!(follow.ends_with("/follow"), "{follow}");
    let r = fumiko
        .post(&format!("/accounts/{follow}"), &[("back", "/@hanako")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/@hanako?done=followed");
    let page = fumiko.get("/@hanako?done=followed").await.text();
    assert!(
        page.contains("Unfollow") && page.contains("role=\"status\""),
        "{page}"
    );
    // And asks to join the org from its page with a claim; the office decides.
    let page = fumiko.get("/@acme").await.text();
    let org_id = between(&page, "href=\"/orgs/", "/join\"")
        .unwrap_or_else(|| panic!("{page}"))
        .to_owned();
    let join = format!("/orgs/{org_id}/join");
    let form = fumiko.get(&join).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text().contains("name=\"role\""), "{}", form.text());
    let claim = [
        ("role", "employee"),
        ("tenure_from", "2021-04"),
        ("division", "Battery"),
        ("message", "Now in the battery division"),
        ("consent_directory", "1"),
    ];
    let r = fumiko
        .post(&join, &[("role", "office"), ("tenure_from", "2021-04")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the office role is not asked for"
    );
    let r = fumiko.post(&join, &[("tenure_from", "April")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"error-summary\""), "{}", r.text());
    let r = fumiko
        .post(
            &join,
            &[("authenticity_token", "forged"), ("role", "employee")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = fumiko.post(&join, &claim).await;
    assert_eq!(location(&r), "/@acme?done=requested");
    let (_, office) = app.user_with("office2", "read write", true).await;
    let pending = app
        .get(
            &format!("/api/v1/orgs/{org_id}/membership_requests"),
            Some(&office),
        )
        .await;
    let asked = pending.json();
    let asked = asked
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["account"]["username"] == "fumiko")
        .unwrap_or_else(|| panic!("{}", pending.text()));
    assert_eq!(asked["role"], "employee", "{asked}");
    assert_eq!(asked["tenure_from"], "2021-04");
    assert_eq!(asked["divisions"][0], "Battery");
    assert_eq!(asked["consents"]["directory"], true);
    assert_eq!(asked["state"], "pending");

    // The compose form offers the org; members-only needs one.
    let home = hanako.get("/home").await.text();
    let org_option =
        between(&home, "<option value=\"", "\">ACME Alumni").unwrap_or_else(|| panic!("{home}"));
    let org_id = org_option.rsplit('"').next().unwrap().to_owned();
    let r = hanako
        .post_multipart(
            "/post",
            &[
                ("text", "Reunion in Osaka, members only"),
                ("visibility", "members"),
                ("audience", ""),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let image = std::fs::read(crate::common::workspace().join("src/web/static/avatar-missing.png"))
        .unwrap();
    let r = hanako
        .post_multipart(
            "/post",
            &[
                ("text", "Reunion in Osaka, members only"),
                ("spoiler_text", "Reunion"),
                ("visibility", "members"),
                ("audience", &org_id),
                ("media_description", "A map to the restaurant"),
            ],
            Some(("media", &image)),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(location(&r), "/home?posted=1");
    let r = hanako
        .post_multipart(
            "/post",
            &[("text", "Hello everyone"), ("visibility", "public")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    let seen = jiro.get("/home").await.text();
    assert!(
        seen.contains("Reunion in Osaka"),
        "a member sees it: {seen}"
    );
    assert!(
        seen.contains("Members only · ACME Alumni"),
        "with its audience shown"
    );
    assert!(
        seen.contains("alt=\"A map to the restaurant\""),
        "the image with its description"
    );
    // The thread page: a reply keeps the post's audience.
    let reunion = between(&seen, "href=\"/posts/", "\"").unwrap().to_owned();
    let page = jiro.get(&format!("/posts/{reunion}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("name=\"in_reply_to_id\""));
    let r = jiro
        .post_multipart(
            "/post",
            &[
                ("text", "@hanako count me in"),
                ("in_reply_to_id", &reunion),
                ("visibility", "members"),
            ],
            None,
        )
        .await;
    assert_eq!(
        location(&r),
        format!("/posts/{reunion}?posted=1"),
        "{}",
        r.text()
    );
    let page = jiro.get(&format!("/posts/{reunion}")).await.text();
    assert!(page.contains("count me in"), "{page}");
    assert!(page.contains("Members only · ACME Alumni"), "the reply too");
    let seen = fumiko.get("/home").await.text();
    assert!(
        seen.contains("Hello everyone"),
        "the follower sees public posts: {seen}"
    );
    assert!(
        !seen.contains("Reunion in Osaka"),
        "but not the members-only one"
    );
    assert_eq!(
        fumiko.get(&format!("/posts/{reunion}")).await.status,
        StatusCode::NOT_FOUND,
        "nor its thread"
    );
    // The org's timeline: members see the members-only post, with the org
    // chosen in its compose form; others see only what is public.
    let org_timeline = format!("/orgs/{org_id}/timeline");
    let page = jiro.get(&org_timeline).await.text();
    assert!(page.contains("Reunion in Osaka"), "{page}");
    assert!(
        page.contains(&format!("<option value=\"{org_id}\" selected>")),
        "{page}"
    );
    assert!(
        jiro.get("/home")
            .await
            .text()
            .contains(&format!("href=\"{org_timeline}\""))
    );
    let page = fumiko.get(&org_timeline).await.text();
    assert!(!page.contains("Reunion in Osaka"), "{page}");
    assert!(
        !page.contains("action=\"/post\""),
        "no compose form for a non-member"
    );
    assert_eq!(
        fumiko.get("/orgs/999999/timeline").await.status,
        StatusCode::NOT_FOUND
    );

    // Favourite from the page, and back to it.
    let post_id = between(
        &jiro.get("/home").await.text(),
        "action=\"/posts/",
        "/favourite",
    )
    .unwrap()
    .to_owned();
    let r = jiro
        .post(&format!("/posts/{post_id}/favourite"), &[("back", "/home")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/home");
    let after = jiro.get("/home").await.text();
    assert!(
        after.contains(&format!("/posts/{post_id}/unfavourite")),
        "shown as favourited"
    );
    let r = jiro
        .post(
            &format!("/posts/{post_id}/favourite"),
            &[("back", "https://evil.example/")],
        )
        .await;
    assert_eq!(location(&r), "/home", "back stays on this server");
    let r = fumiko
        .post(&format!("/posts/{post_id}/favourite"), &[("back", "/home")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a follower cannot reach it"
    );
    app.finish().await;
}

async fn staff_must_set_up_two_factor_sign_in_when_the_instance_says_so(b: Backend) {
    let app = TestApp::start_with(b, |c| {
        c.registrations.require_two_factor_for_staff = true;
        c.oauth.password_grant = true;
    })
    .await;
    app.user_with("admin", "read", true).await;
    app.user("hanako", "read").await;
    let (client_id, secret) = app.app("read", "urn:ietf:wg:oauth:2.0:oob").await;
    let password_grant = |who: &'static str| {
        let (client_id, secret) = (client_id.clone(), secret.clone());
        let app = &app;
        async move {
            app.form(
                Method::POST,
                "/oauth/token",
                None,
                &[
                    ("grant_type", "password"),
                    ("client_id", &client_id),
                    ("client_secret", &secret),
                    ("username", who),
                    ("password", PASSWORD),
                    ("scope", "read"),
                ],
            )
            .await
        }
    };
    let mut a = Browser::new(&app, "en");
    a.sign_in("admin", PASSWORD).await;
    let r = a.get("/home").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/settings/security?required=1");
    let page = a.get("/settings/security").await.text();
    assert!(page.contains("requires two-factor sign-in"));
    // Neither the consent page nor the password grant lets the admin in meanwhile.
    let mut c = Browser::new(&app, "en");
    c.get(&format!("/oauth/authorize?client_id={client_id}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&response_type=code&scope=read")).await;
    let r = c
        .post(
            "/oauth/authorize",
            &[
                ("client_id", client_id.as_str()),
                ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
                ("response_type", "code"),
                ("scope", "read"),
                ("username", "admin"),
                ("password", PASSWORD),
                ("decision", "authorize"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = password_grant("admin").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["error"], "invalid_grant");
    // A member without a staff role is not held up.
    let mut h = Browser::new(&app, "en");
    h.sign_in("hanako", PASSWORD).await;
    assert_eq!(h.get("/home").await.status, StatusCode::OK);
    assert_eq!(password_grant("hanako").await.status, StatusCode::OK);
    // Set up, the admin gets in.
    a.post("/settings/two_factor/begin", &[("password", PASSWORD)])
        .await;
    let page = a.get("/settings/security").await.text();
    let secret = between(&page, "id=\"totp-secret\">", "<")
        .unwrap()
        .to_owned();
    let r = a
        .post(
            "/settings/two_factor/enable",
            &[("code", &totp_code(&secret, now()))],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(a.get("/home").await.status, StatusCode::OK);
    assert_eq!(
        password_grant("admin").await.status,
        StatusCode::BAD_REQUEST,
        "still no password grant"
    );

    // Guessing: five wrong codes lock code entry for every address, the
    // right code included, and end the half sign-in.
    let mut g = Browser::new(&app, "en");
    g.sign_in("admin", PASSWORD).await;
    for i in 0..4 {
        let r = g
            .post("/auth/two_factor", &[("code", &format!("00000{i}"))])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = g.post("/auth/two_factor", &[("code", "000009")]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(g.session().is_none(), "the half sign-in ended");
    let mut g2 = Browser::new(&app, "en");
    g2.sign_in("admin", PASSWORD).await;
    let r = g2
        .post(
            "/auth/two_factor",
            &[("code", &totp_code(&secret, now() + 30))],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "locked, whatever the code"
    );
    app.finish().await;
}

/// Every mail the file transport wrote to `to`, decoded, oldest first.
pub(crate) fn mails_to(app: &TestApp, to: &str) -> Vec<String> {
    let dir = app.db.dir.path().join("mail");
    let mut found: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| {
            let raw = std::fs::read_to_string(e.path()).unwrap();
            (e.metadata().unwrap().modified().unwrap(), raw)
        })
        .filter(|(_, raw)| raw.contains(&format!("To: {to}")))
        .map(|(t, raw)| (t, crate::registration::decode_body(&raw)))
        .collect();
    found.sort_by_key(|(t, _)| *t);
    found.into_iter().map(|(_, m)| m).collect()
}

/// The path of the first link to `prefix` in a mail.
fn link_in(mail: &str, prefix: &str) -> String {
    let start = mail
        .find(&format!("https://alumni.test{prefix}"))
        .unwrap_or_else(|| panic!("{mail}"));
    mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect::<String>()
        .trim_start_matches("https://alumni.test")
        .to_owned()
}

async fn password_reset_and_email_change_go_through_links_by_mail(b: Backend) {
    let app = TestApp::start_with(b, |c| {
        c.mail.transport = tsunagu::config::MailTransport::File;
    })
    .await;
    let (_, api_token) = app.user("hanako", "read").await;
    let mut other = Browser::new(&app, "en");
    other.sign_in("hanako", PASSWORD).await;
    assert_eq!(other.get("/home").await.status, StatusCode::OK);

    // Forgot the password: the same answer for any address.
    let mut a = Browser::new(&app, "en");
    assert_eq!(a.get("/auth/password").await.status, StatusCode::OK);
    let known = a
        .post("/auth/password", &[("email", "Hanako@Example.com")])
        .await;
    let unknown = a
        .post("/auth/password", &[("email", "nobody@example.com")])
        .await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(
        known.text(),
        unknown.text(),
        "no one learns who has an account"
    );
    assert!(mails_to(&app, "nobody@example.com").is_empty());
    let mail = mails_to(&app, "hanako@example.com")
        .pop()
        .expect("a reset mail");
    let link = link_in(&mail, "/auth/reset?token=");
    assert_eq!(a.get(&link).await.status, StatusCode::OK);
    let token = link.trim_start_matches("/auth/reset?token=").to_owned();
    let r = a
        .post("/auth/reset", &[("token", &token), ("password", "short")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = a
        .post(
            "/auth/reset",
            &[("token", &token), ("password", "a brand new password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The link worked once; the old password, sessions and app tokens are over.
    let r = a
        .post(
            "/auth/reset",
            &[("token", &token), ("password", "yet another password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(a.get(&link).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.get("/home").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&api_token))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        a.sign_in("hanako", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        a.sign_in("hanako", "a brand new password").await.status,
        StatusCode::SEE_OTHER
    );

    // Authorised apps: listed and revoked from the security page.
    let me = tsunagu::services::accounts::find_local_by_username(&app.state.ctx, "hanako")
        .await
        .unwrap();
    let app_token = app.token_for(&me, "read").await;
    let page = a.get("/settings/security").await.text();
    assert!(page.contains("test app"), "{page}");
    let token_id = between(&page, "/settings/apps/", "/revoke")
        .unwrap()
        .to_owned();
    app.user("taro", "read").await;
    let mut t = Browser::new(&app, "en");
    t.sign_in("taro", PASSWORD).await;
    let r = t
        .post(&format!("/settings/apps/{token_id}/revoke"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "not someone else's");
    let r = a
        .post(&format!("/settings/apps/{token_id}/revoke"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&app_token))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // A new address: the password, then the link sent to the new address.
    let r = a
        .post(
            "/settings/email",
            &[("email", "hanako@new.example"), ("password", "wrong")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = a
        .post(
            "/settings/email",
            &[
                ("email", "taro@example.com"),
                ("password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the same answer for an address in use"
    );
    assert!(
        mails_to(&app, "taro@example.com").is_empty(),
        "but no mail goes there"
    );
    let r = a
        .post(
            "/settings/email",
            &[
                ("email", "hanako@new.example"),
                ("password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("hanako@new.example"));
    let mail = mails_to(&app, "hanako@new.example")
        .pop()
        .expect("a link to the new address");
    let link = link_in(&mail, "/auth/confirm_email_change?token=");
    let token = link
        .trim_start_matches("/auth/confirm_email_change?token=")
        .to_owned();
    // Opened signed out (a mail scanner), or by another account: nothing moves.
    let r = Browser::new(&app, "en").get(&link).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "sign in first");
    let r = t.get(&link).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "not taro's link");
    let r = t
        .post("/auth/confirm_email_change", &[("token", &token)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = a.get(&link).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.text().contains("hanako@new.example"),
        "the page says where to"
    );
    let r = a
        .post("/auth/confirm_email_change", &[("token", &token)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = a
        .post("/auth/confirm_email_change", &[("token", &token)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "once");
    let notice = mails_to(&app, "hanako@example.com").pop().unwrap();
    assert!(
        notice.contains("hanako@new.example"),
        "the old address hears of it: {notice}"
    );
    assert_eq!(
        a.sign_in("hanako@new.example", "a brand new password")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    app.finish().await;
}

async fn settings_change_profile_fields_language_picture_and_consents(b: Backend) {
    let app = TestApp::start(b).await;
    let (office, org, code) = org_with_invite(&app, "alumnus").await;
    let mut a = Browser::new(&app, "en");
    a.get(&format!("/join/{code}")).await;
    let r = a
        .post(
            &format!("/join/{code}"),
            &[
                ("username", "hanako"),
                ("email", "hanako@example.com"),
                ("password", PASSWORD),
                ("agreement", "1"),
                ("consent_newsletters", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = a.get("/settings").await.text();
    assert!(
        page.contains(&format!("action=\"/settings/consents/{org}\"")),
        "{page}"
    );

    // Consents: what is checked is granted, the rest withdrawn.
    let r = a
        .post(
            &format!("/settings/consents/{org}"),
            &[("directory", "1"), ("share_profile", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let list = members(&app, &office, &org).await;
    let me = list
        .iter()
        .find(|m| m["account"]["username"] == "hanako")
        .unwrap();
    assert_eq!(me["consents"]["directory"], true);
    assert_eq!(me["consents"]["share_profile"], true);
    assert_eq!(me["consents"]["newsletters"], false, "{me}");
    let r = a
        .post(
            &format!("/settings/consents/{org}"),
            &[("authenticity_token", "forged")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Profile, picture and language; the account's language then wins over the browser's.
    let image = std::fs::read(crate::common::workspace().join("src/web/static/avatar-missing.png"))
        .unwrap();
    let r = a
        .post_multipart(
            "/settings",
            &[
                ("display_name", "山田 花子"),
                ("note", "Osaka office, 2008–2019"),
                ("locale", "ja"),
                ("privacy", "unlisted"),
                ("field_name_0", "Years at ACME"),
                ("field_value_0", "2008–2019"),
                ("field_name_2", "Website"),
                ("field_value_2", "https://hanako.example/"),
                // Past the four rows Mastodon allows: not read.
                ("field_name_9", "ignored"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("設定を保存しました"), "{}", r.text());
    assert!(
        html_unescape(&r.text())
            .contains("name=\"field_value_1\" value=\"https://hanako.example/\""),
        "blank rows close up, and the form shows what was saved: {}",
        r.text()
    );
    let profile = html_unescape(&a.get("/@hanako").await.text());
    assert!(
        profile.contains("Years at ACME") && profile.contains("href=\"https://hanako.example/\""),
        "{profile}"
    );
    assert!(!profile.contains("ignored"));
    let too_long = "x".repeat(256);
    let r = a
        .post_multipart(
            "/settings",
            &[("display_name", "山田 花子"), ("field_name_0", &too_long)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = a
        .post_multipart(
            "/settings",
            &[("display_name", "山田 花子"), ("locale", "ja")],
            Some(("avatar", &image)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = a
        .post_multipart(
            "/settings",
            &[("display_name", "山田 花子"), ("locale", "ja")],
            Some(("header", &image)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let profile = html_unescape(&a.get("/@hanako").await.text());
    assert!(
        profile.contains("class=\"profile-header\" src=\"https://alumni.test/media/"),
        "the header on the profile page: {profile}"
    );
    let home = a.get("/home").await.text();
    assert!(
        home.contains("<html lang=\"ja\">"),
        "the account's language"
    );
    let settings = html_unescape(&a.get("/settings").await.text());
    assert!(
        settings.contains("class=\"avatar\" src=\"https://alumni.test/media/"),
        "{settings}"
    );
    let me = tsunagu::services::accounts::find_local_by_username(&app.state.ctx, "hanako")
        .await
        .unwrap();
    assert_eq!(me.account.display_name, "山田 花子");
    assert_eq!(me.user.default_privacy.as_str(), "unlisted");
    assert!(me.account.avatar_file.is_some());
    app.finish().await;
}

/// The search page: people, hashtags and posts for a signed-in person; a
/// visitor is asked to sign in (a search may look someone up elsewhere).
async fn search_finds_people_hashtags_and_posts(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, token) = app.user_with("hanako", "read write", false).await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&token),
            &json!({"status": "Reunion dinner in Osaka #acmereunion"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    app.user_with("jiro", "read", false).await;
    let mut a = Browser::new(&app, "en");
    let r = a.get("/search?q=hanako").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        location(&r).starts_with("/auth/sign_in?next="),
        "{}",
        location(&r)
    );
    a.sign_in("jiro", PASSWORD).await;

    let page = html_unescape(&a.get("/search").await.text());
    assert!(page.contains("role=\"search\"") && !page.contains("id=\"people-heading\""));
    let page = html_unescape(&a.get("/search?q=hana").await.text());
    assert!(page.contains("@hanako@alumni.test"), "{page}");
    let page = html_unescape(&a.get("/search?q=%23acmereun").await.text());
    assert!(page.contains("#acmereunion"), "{page}");
    let page = html_unescape(&a.get("/search?q=Osaka").await.text());
    assert!(page.contains("Reunion dinner in Osaka"), "{page}");
    let page = html_unescape(&a.get("/search?q=nobody-by-this-name").await.text());
    assert_eq!(page.matches("Nothing found.").count(), 3, "{page}");
    // Markup in the query is shown as text.
    let page = a
        .get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await
        .text();
    assert!(!page.contains("<script>alert(1)"), "{page}");
    let long = "x".repeat(5000);
    let r = a.get(&format!("/search?q={long}")).await;
    assert_eq!(r.status, StatusCode::OK);
    // Pages run only the instance's own script, served from here.
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(
        !csp.contains("unsafe-eval") && csp.matches("unsafe-inline").count() == 1,
        "{csp}"
    );
    let js = a.get("/static/tsunagu.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(
        js.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        r.text()
            .contains("<script src=\"/static/tsunagu.js\" defer></script>")
    );
    app.finish().await;
}

/// `/auth/sign_up` as `registrations.mode` says: open signs in at once,
/// approval waits for an administrator, closed takes nobody.
async fn sign_up_page_follows_the_registration_mode(b: Backend) {
    use tsunagu::config::RegistrationMode;
    let fields = |name: &'static str| {
        [
            ("username", name),
            (
                "email",
                if name == "hanako" {
                    "hanako@example.com"
                } else {
                    "jiro@example.com"
                },
            ),
            ("password", PASSWORD),
            ("agreement", "1"),
            ("reason", "I worked in the Osaka office"),
        ]
    };
    // Open: an account and a session at once; bad input is answered beside the fields.
    let app = TestApp::start_with(b, |c| c.registrations.mode = RegistrationMode::Open).await;
    let mut a = Browser::new(&app, "en");
    assert!(a.get("/").await.text().contains("href=\"/auth/sign_up\""));
    let page = a.get("/auth/sign_up").await.text();
    assert!(page.contains("action=\"/auth/sign_up\"") && !page.contains("name=\"reason\""));
    let r = a
        .post(
            "/auth/sign_up",
            &[
                ("username", "hanako"),
                ("email", "nope"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"error-summary\""), "{}", r.text());
    assert!(a.session().is_none());
    let r = a
        .post(
            "/auth/sign_up",
            &[("authenticity_token", "forged"), ("username", "hanako")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = a.post("/auth/sign_up", &fields("hanako")).await;
    assert_eq!(location(&r), "/home", "{}", r.text());
    assert!(a.session().is_some());
    assert_eq!(a.get("/home").await.status, StatusCode::OK);
    let mut b2 = Browser::new(&app, "en");
    b2.get("/auth/sign_up").await;
    let r = b2.post("/auth/sign_up", &fields("hanako")).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the name is taken"
    );
    app.finish().await;

    // Approval: the reason is asked; the account waits and cannot sign in yet.
    let app = TestApp::start_with(b, |c| c.registrations.mode = RegistrationMode::Approval).await;
    let mut a = Browser::new(&app, "ja");
    assert!(
        a.get("/auth/sign_up")
            .await
            .text()
            .contains("name=\"reason\"")
    );
    let r = a.post("/auth/sign_up", &fields("jiro")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("承認待ち"), "{}", r.text());
    assert!(a.session().is_none());
    let me = tsunagu::services::accounts::find_local_by_username(&app.state.ctx, "jiro")
        .await
        .unwrap();
    assert!(!me.user.approved);
    assert_eq!(
        me.user.registration_reason.as_deref(),
        Some("I worked in the Osaka office")
    );
    let r = a.sign_in("jiro", PASSWORD).await;
    assert_ne!(r.status, StatusCode::SEE_OTHER, "not before approval");
    app.finish().await;

    // Closed: words on how to join, and no account.
    let app = TestApp::start_with(b, |c| c.registrations.mode = RegistrationMode::Closed).await;
    let mut a = Browser::new(&app, "en");
    assert!(!a.get("/").await.text().contains("href=\"/auth/sign_up\""));
    let page = a.get("/auth/sign_up").await.text();
    assert!(
        page.contains("invitation link") && !page.contains("name=\"password\""),
        "{page}"
    );
    let r = a.post("/auth/sign_up", &fields("hanako")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        tsunagu::services::accounts::find_local_by_username(&app.state.ctx, "hanako")
            .await
            .is_err()
    );
    app.finish().await;
}

/// Waits for the `n`th mail to `to` (notification mails go out beside the request).
async fn wait_for_mails(app: &TestApp, to: &str, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let found = mails_to(app, to);
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no mail number {n} to {to}: {:?}", mails_to(app, to));
}

/// Notifications by e-mail: mentions by default, then what the person
/// chooses in the settings; nothing else is mailed.
async fn notifications_come_by_mail_as_chosen(b: Backend) {
    let app = TestApp::start_with(b, |c| {
        c.mail.transport = tsunagu::config::MailTransport::File;
    })
    .await;
    let (_, hanako) = app.user("hanako", "read write").await;
    let (_, jiro) = app.user("jiro", "read write").await;
    let post = |token: String, body: Value| {
        let app = &app;
        async move {
            let r = app
                .json(Method::POST, "/api/v1/statuses", Some(&token), &body)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            r.json()["id"].as_str().unwrap().to_owned()
        }
    };
    let favourite = |id: String| {
        let (app, jiro) = (&app, jiro.clone());
        async move {
            let r = app
                .json(
                    Method::POST,
                    &format!("/api/v1/statuses/{id}/favourite"),
                    Some(&jiro),
                    &json!({}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        }
    };
    let lunch = post(hanako.clone(), json!({"status": "Lunch in Osaka?"})).await;
    favourite(lunch.clone()).await;
    post(
        jiro.clone(),
        json!({"status": "@hanako count me in", "in_reply_to_id": lunch}),
    )
    .await;
    let mails = wait_for_mails(&app, "hanako@example.com", 1).await;
    assert!(
        mails[0].contains("jiro (@jiro) mentioned you"),
        "{}",
        mails[0]
    );
    assert!(mails[0].contains("count me in"), "{}", mails[0]);
    assert!(
        mails[0].contains("https://alumni.test/posts/"),
        "{}",
        mails[0]
    );
    assert!(mails[0].contains("https://alumni.test/settings#email-notifications"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        mails_to(&app, "hanako@example.com").len(),
        1,
        "no mail for the favourite"
    );

    // Favourites by mail, mentions no more.
    let mut a = Browser::new(&app, "en");
    a.sign_in("hanako", PASSWORD).await;
    let page = a.get("/settings").await.text();
    assert!(
        page.contains("name=\"mention\" value=\"1\" checked"),
        "{page}"
    );
    assert!(
        !page.contains("name=\"admin.sign_up\""),
        "only for administrators"
    );
    let r = a
        .post(
            "/settings/email_notifications",
            &[("authenticity_token", "forged"), ("favourite", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = a
        .post("/settings/email_notifications", &[("favourite", "1")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("name=\"favourite\" value=\"1\" checked"));
    let dinner = post(hanako.clone(), json!({"status": "Dinner too?"})).await;
    post(
        jiro.clone(),
        json!({"status": "@hanako and dinner", "in_reply_to_id": dinner}),
    )
    .await;
    favourite(dinner).await;
    let mails = wait_for_mails(&app, "hanako@example.com", 2).await;
    assert!(
        mails[1].contains("jiro (@jiro) favourited your post"),
        "{}",
        mails[1]
    );
    assert!(mails[1].contains("Dinner too?"), "{}", mails[1]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        mails_to(&app, "hanako@example.com").len(),
        2,
        "no mail for the mention"
    );
    // Nothing from someone she muted with their notifications (the page
    // hides those too).
    let (saburo_me, saburo) = app.user("saburo", "read write").await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/accounts/{}/mute", saburo_me.account.id),
            Some(&hanako),
            &json!({"notifications": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let open_post = post(hanako.clone(), json!({"status": "Open to all"})).await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/statuses/{open_post}/favourite"),
            Some(&saburo),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        mails_to(&app, "hanako@example.com").len(),
        2,
        "no mail from a muted person"
    );
    app.finish().await;
}
