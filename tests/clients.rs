//! Acceptance tests with real Mastodon clients from PyPI (Mastodon.py, toot)
//! against a tsunagu served on a loopback port, on both databases. The
//! Python environment is created on first use (tests/run.sh also prepares it).
mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use common::{Backend, TestDb, test_config, workspace};
use tsunagu::app::{self, AppState};
use tsunagu::config::{Config, RegistrationMode};
use tsunagu::services::accounts;

static VENV: Mutex<Option<PathBuf>> = Mutex::new(None);

/// A virtualenv with the pinned client libraries (tests/clients/requirements.txt).
fn venv() -> PathBuf {
    let mut guard = VENV.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = guard.as_ref() {
        return p.clone();
    }
    let dir = std::env::var_os("TSUNAGU_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/test-venv"));
    let python = dir.join("bin/python");
    let requirements = workspace().join("tests/clients/requirements.txt");
    let stamp = dir.join(".requirements");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "python3 -m venv failed: the client acceptance tests need Python 3 with venv (apt-get install python3-venv)"
        );
        let ok = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "pip could not install {}", requirements.display());
        std::fs::write(&stamp, wanted).expect("stamp");
    }
    *guard = Some(dir.clone());
    dir
}

/// Serves the application on 127.0.0.1:<free port>; returns the base URL and a stopper.
async fn serve(
    db: &TestDb,
    tweak: impl FnOnce(&mut Config),
) -> (String, tokio::sync::oneshot::Sender<()>, AppState) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_on(listener, db, tweak).await
}

/// Serves on a port the caller bound already (its address known beforehand).
async fn serve_on(
    listener: tokio::net::TcpListener,
    db: &TestDb,
    tweak: impl FnOnce(&mut Config),
) -> (String, tokio::sync::oneshot::Sender<()>, AppState) {
    let addr = listener.local_addr().unwrap();
    let mut cfg = test_config(db);
    cfg.server.domain = format!("127.0.0.1:{}", addr.port());
    tweak(&mut cfg);
    let state = AppState::new(cfg).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let s = state.clone();
    tokio::spawn(async move {
        app::run(listener, s, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (format!("http://{addr}"), tx, state)
}

async fn python(script: &str, args: &[&str], env: &[(&str, &std::path::Path)]) {
    let venv = tokio::task::spawn_blocking(venv).await.unwrap();
    let mut cmd = tokio::process::Command::new(venv.join("bin/python"));
    cmd.arg(workspace().join("tests/clients").join(script))
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("run python");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "{script} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("acceptance: OK"),
        "{script} did not finish: {stdout}"
    );
}

dual!(
    mastodon_py_registers_and_logs_in,
    toot_logs_in,
    browser_setup_and_consent,
    browser_member_web_in_japanese_and_english,
    browser_oidc_sign_in_in_japanese_and_english,
    browser_office_in_japanese_and_english,
    browser_alumni_in_japanese_and_english,
    browser_admin_in_japanese_and_english,
    mastodon_py_posts_and_reads,
    masto_js_streams,
    schemathesis_finds_nothing,
    schemathesis_checks_the_served_orgs_description,
    rfc9421_signatures_from_an_independent_implementation,
);

/// Deliveries and signed GETs signed with RFC 9421 by Python's
/// `http-message-signatures` (as Mastodon 4.5 and Fedify sign): accepted when
/// valid, refused when altered (tests/clients/rfc9421_signatures.py).
async fn rfc9421_signatures_from_an_independent_implementation(b: Backend) {
    let db = TestDb::new(b).await;
    // The script's remote actor lives on loopback: the development mode.
    let (base, stop, state) = serve(&db, |c| {
        c.federation.mode = tsunagu::config::FederationMode::Development
    })
    .await;
    let alice = local_token(&state, "alice", "read write").await;
    python("rfc9421_signatures.py", &[&base, &alice], &[]).await;
    let _ = stop.send(());
    db.drop_db().await;
}

async fn mastodon_py_registers_and_logs_in(b: Backend) {
    let db = TestDb::new(b).await;
    let (base, stop, _) = serve(&db, |c| c.registrations.mode = RegistrationMode::Open).await;
    python("mastodon_py_login.py", &[&base], &[]).await;
    let _ = stop.send(());
    db.drop_db().await;
}

async fn toot_logs_in(b: Backend) {
    let db = TestDb::new(b).await;
    let (base, stop, state) = serve(&db, |_| {}).await;
    accounts::create_from_shell(
        &state.ctx,
        "tomo",
        "tomo@example.com",
        "correct horse battery staple",
        false,
    )
    .await
    .unwrap();
    let home = db.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let toot = tokio::task::spawn_blocking(venv)
        .await
        .unwrap()
        .join("bin/toot");
    python(
        "toot_login.py",
        &[&base, toot.to_str().unwrap()],
        &[("XDG_CONFIG_HOME", &home), ("HOME", &home)],
    )
    .await;
    let _ = stop.send(());
    db.drop_db().await;
}

async fn browser_setup_and_consent(b: Backend) {
    let db = TestDb::new(b).await;
    let (base, stop, state) = serve(&db, |_| {}).await;
    let link = accounts::setup_link(&state.ctx)
        .await
        .unwrap()
        .expect("no admin yet");
    let shots = db.dir.path().join("screenshots");
    python(
        "browser_pages.py",
        &[&base, &link, shots.to_str().unwrap()],
        &[],
    )
    .await;
    assert!(shots.join("code.png").is_file());
    let _ = stop.send(());
    db.drop_db().await;
}

/// The member web in Chromium, in Japanese and in English: sign-up from an
/// invitation into a membership, two-factor sign-in, a members-only post seen
/// by a member and not by a follower, and an org page showing a shared post
/// in full; every page checked with axe-core, nothing loaded from elsewhere
/// (tests/clients/browser_member_web.py). Screenshots at phone and desktop
/// widths: target/screenshots/member-web-<backend>/<lang>/.
async fn browser_member_web_in_japanese_and_english(b: Backend) {
    let db = TestDb::new(b).await;
    // Six people sign up from one address within a minute.
    let (base, stop, state) = serve(&db, |c| c.limits.registrations_per_30min = 100).await;
    let admin = local_token_with(&state, "office", "read write", true).await;
    browser_script(
        "browser_member_web.py",
        "member-web",
        b,
        &base,
        &admin,
        &["ja/join-phone.png", "en/org-desktop.png"],
    )
    .await;
    let _ = stop.send(());
    db.drop_db().await;
}

/// The alumni office's pages in Chromium, in Japanese and in English: the
/// dashboard's charts, approving a request, a Shift_JIS roster with a bad row
/// and its report, a role change and a graduation, a pinned announcement a
/// member then sees; axe-core on every page (tests/clients/browser_office.py).
/// Screenshots: target/screenshots/office-<backend>/<lang>/.
async fn browser_office_in_japanese_and_english(b: Backend) {
    let db = TestDb::new(b).await;
    let (base, stop, state) = serve(&db, |c| {
        c.registrations.mode = RegistrationMode::Open;
        c.limits.registrations_per_30min = 100;
    })
    .await;
    let admin = local_token_with(&state, "admin", "read write", true).await;
    browser_script(
        "browser_office.py",
        "office",
        b,
        &base,
        &admin,
        &["ja/dashboard-phone.png", "en/roster-done-desktop.png"],
    )
    .await;
    let _ = stop.send(());
    db.drop_db().await;
}

/// The alumni profile editor and an org's directory in Chromium, in
/// Japanese and in English: per-field audiences chosen and kept, a refused
/// period, the "now" line, and a member's directory showing only what was
/// released to members (facet counts, a facet narrowing, a filter on a hidden
/// field finding nobody); axe-core on every page
/// (tests/clients/browser_alumni.py). Screenshots:
/// target/screenshots/alumni-<backend>/<lang>/.
async fn browser_alumni_in_japanese_and_english(b: Backend) {
    let db = TestDb::new(b).await;
    let (base, stop, state) = serve(&db, |c| c.limits.registrations_per_30min = 100).await;
    let admin = local_token_with(&state, "admin", "read write", true).await;
    browser_script(
        "browser_alumni.py",
        "alumni",
        b,
        &base,
        &admin,
        &["ja/directory-phone.png", "en/alumni-profile-desktop.png"],
    )
    .await;
    let _ = stop.send(());
    db.drop_db().await;
}

/// Runs a browser acceptance script (`BASE ADMIN SCREENSHOTS AXE`) and
/// checks that it wrote the `expected` screenshots, found under
/// target/screenshots/<name>-<backend>/.
async fn browser_script(
    script: &str,
    name: &str,
    b: Backend,
    base: &str,
    admin: &str,
    expected: &[&str],
) {
    tokio::task::spawn_blocking(node_modules).await.unwrap();
    let shots = workspace()
        .join("target/screenshots")
        .join(format!("{name}-{b:?}").to_lowercase());
    let axe = workspace().join("tests/clients/node_modules/axe-core/axe.min.js");
    python(
        script,
        &[base, admin, shots.to_str().unwrap(), axe.to_str().unwrap()],
        &[],
    )
    .await;
    for shot in expected {
        assert!(shots.join(shot).is_file(), "{shot}");
    }
}

/// A fake remote server on loopback answering for every `*.remote.test`
/// name: `/users/NAME` is a Person whose key signs the deliveries below.
async fn fake_remote(
    listener: tokio::net::TcpListener,
    public_pem: String,
) -> tokio::task::JoinHandle<()> {
    use axum::extract::{Path, State};
    use axum::http::HeaderMap;
    let app = axum::Router::new()
        .route(
            "/users/{name}",
            axum::routing::get(
                async |State(pem): State<String>, Path(name): Path<String>, h: HeaderMap| {
                    let host = h["host"].to_str().unwrap().to_owned();
                    let id = format!("http://{host}/users/{name}");
                    (
                        [("content-type", "application/activity+json")],
                        serde_json::json!({
                            "@context": "https://www.w3.org/ns/activitystreams",
                            "id": id, "type": "Person", "preferredUsername": name,
                            "inbox": format!("{id}/inbox"),
                            "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": pem},
                        })
                        .to_string(),
                    )
                },
            ),
        )
        .with_state(public_pem);
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    })
}

/// A Follow of `admin` from `someone@host`, signed with `key`: the status.
async fn delivery_from(
    key: &tsunagu::federation::signatures::PrivateKey,
    host: &str,
    base: &str,
) -> u16 {
    let to_host = base.trim_start_matches("http://");
    let actor = format!("http://{host}/users/someone");
    let body = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/follows/{}", tsunagu::crypto::random_token()),
        "type": "Follow", "actor": actor,
        "object": format!("{base}/users/admin"),
    })
    .to_string();
    let headers = tsunagu::federation::signatures::sign_request(
        key,
        &format!("{actor}#main-key"),
        "POST",
        "/inbox",
        to_host,
        Some(body.as_bytes()),
        std::time::SystemTime::now(),
    );
    let mut r = reqwest::Client::new()
        .post(format!("{base}/inbox"))
        .header("content-type", "application/activity+json")
        .body(body);
    for (k, v) in headers {
        r = r.header(k, v);
    }
    r.send().await.unwrap().status().as_u16()
}

/// The instance admin's pages in Chromium, in Japanese and in English: a
/// report with its post resolved by suspending the account, and a server
/// blocked; axe-core on every page (tests/clients/browser_admin.py). The
/// blocked servers are real (a fake remote on loopback): their signed
/// deliveries were taken before and are refused after.
/// Screenshots: target/screenshots/admin-<backend>/<lang>/.
async fn browser_admin_in_japanese_and_english(b: Backend) {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let db = TestDb::new(b).await;
    let remote = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let remote_addr = remote.local_addr().unwrap();
    let hosts = ["ja.remote.test", "en.remote.test"];
    let rsa_key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let key = tsunagu::federation::signatures::PrivateKey::from_pem(
        &rsa_key.to_pkcs8_pem(LineEnding::LF).unwrap(),
    )
    .unwrap();
    let public_pem = rsa_key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let fake = fake_remote(remote, public_pem).await;
    let (base, stop, state) = serve(&db, |c| {
        c.registrations.mode = RegistrationMode::Open;
        c.limits.registrations_per_30min = 100;
        c.federation.mode = tsunagu::config::FederationMode::Development;
        for h in hosts {
            c.federation
                .resolve
                .insert(h.into(), remote_addr.to_string());
        }
    })
    .await;
    let admin = local_token_with(&state, "admin", "read write", true).await;
    for h in hosts {
        let host = format!("{h}:{}", remote_addr.port());
        assert_eq!(
            delivery_from(&key, &host, &base).await,
            202,
            "{host} before"
        );
    }
    browser_script(
        "browser_admin.py",
        "admin",
        b,
        &base,
        &admin,
        &["ja/report-phone.png", "en/domains-desktop.png"],
    )
    .await;
    for h in hosts {
        let host = format!("{h}:{}", remote_addr.port());
        assert_eq!(
            delivery_from(&key, &host, &base).await,
            403,
            "{host} blocked from the admin page"
        );
    }
    fake.abort();
    let _ = stop.send(());
    db.drop_db().await;
}

/// Single sign-on against a real OpenID provider (npm's certified
/// `oidc-provider`, started here on loopback) in Chromium, in Japanese and
/// in English: new accounts as verified employees, linking by confirmed
/// address, no take-over of an unconfirmed one, cancelling; and the
/// provider's answer replayed, forged or taken to another browser
/// (tests/clients/browser_oidc.py).
async fn browser_oidc_sign_in_in_japanese_and_english(b: Backend) {
    use tokio::io::AsyncBufReadExt;
    let db = TestDb::new(b).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = format!(
        "http://{}/auth/oidc/callback",
        listener.local_addr().unwrap()
    );
    tokio::task::spawn_blocking(node_modules).await.unwrap();
    let mut provider = tokio::process::Command::new("node")
        .arg(workspace().join("tests/clients/oidc_provider.mjs"))
        .args([redirect.as_str(), "a client secret for tests"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let mut lines = tokio::io::BufReader::new(provider.stdout.take().unwrap()).lines();
    let issuer = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the provider stopped");
        if let Some(issuer) = line.strip_prefix("READY ") {
            break issuer.to_owned();
        }
    };
    let (base, stop, state) = serve_on(listener, &db, |c| {
        c.oidc.issuer = issuer;
        c.oidc.client_id = "tsunagu".into();
        c.oidc.client_secret = "a client secret for tests".into();
        c.oidc.label = "ACME ID".into();
        c.oidc.org = "acme".into();
        c.oidc.create_accounts = true;
        c.oidc.email_domains = vec!["example.com".into()];
        c.limits.registrations_per_30min = 100;
        c.limits.login_attempts_per_5min = 1000;
    })
    .await;
    let admin = local_token_with(&state, "office", "read write", true).await;
    for lang in ["ja", "en"] {
        // Known here with a confirmed address: single sign-on links to them.
        let name = format!("taro_{lang}");
        let email = format!("{name}@example.com");
        accounts::create_from_shell(&state.ctx, &name, &email, "correct horse battery", false)
            .await
            .unwrap();
    }
    for _ in 0..100 {
        if state.ctx.oidc.ready() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        state.ctx.oidc.ready(),
        "the provider's metadata was not read"
    );
    let shots = workspace()
        .join("target/screenshots")
        .join(format!("oidc-{b:?}").to_lowercase());
    let axe = workspace().join("tests/clients/node_modules/axe-core/axe.min.js");
    python(
        "browser_oidc.py",
        &[
            &base,
            &admin,
            shots.to_str().unwrap(),
            axe.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    for shot in ["ja/home-sso-phone.png", "en/sso-unconfirmed-desktop.png"] {
        assert!(shots.join(shot).is_file(), "{shot}");
    }
    let _ = stop.send(());
    let _ = provider.kill().await;
    db.drop_db().await;
}

async fn mastodon_py_posts_and_reads(b: Backend) {
    let db = TestDb::new(b).await;
    let (base, stop, state) = serve(&db, |_| {}).await;
    let alice = local_token(&state, "alice", "read write follow").await;
    let bob = local_token(&state, "bob", "read write follow").await;
    python("mastodon_py_posting.py", &[&base, &alice, &bob], &[]).await;
    let _ = stop.send(());
    db.drop_db().await;
}

/// A local account and an access token for it with `scopes`.
async fn local_token(state: &AppState, name: &str, scopes: &str) -> String {
    local_token_with(state, name, scopes, false).await
}

async fn local_token_with(state: &AppState, name: &str, scopes: &str, admin: bool) -> String {
    let me = accounts::create_from_shell(
        &state.ctx,
        name,
        &format!("{name}@example.com"),
        "correct horse battery",
        admin,
    )
    .await
    .unwrap();
    let app = tsunagu::services::oauth::create_app(
        &state.ctx,
        tsunagu::services::oauth::NewApp {
            name: "acceptance".into(),
            redirect_uris: vec![tsunagu::services::oauth::OOB.into()],
            scopes: Some(scopes.into()),
            website: None,
        },
    )
    .await
    .unwrap();
    let scopes = tsunagu::services::scopes::Scopes::parse(scopes).unwrap();
    tsunagu::services::oauth::issue_for_registration(&state.ctx, app.app.id, &me, scopes)
        .await
        .unwrap()
        .access_token
}

/// Schemathesis, positive mode, over every implemented operation of the
/// Mastodon OpenAPI schema: no server error, no response outside the schema
/// (deviations patched and documented in docs/api-compatibility.md).
async fn schemathesis_finds_nothing(b: Backend) {
    let db = TestDb::new(b).await;
    let (base, stop, state) = serve(&db, |c| {
        // Generated requests arrive far faster than any person types.
        c.limits.api_requests_per_5min = 1_000_000;
        c.limits.registrations_per_30min = 1_000_000;
        c.limits.login_attempts_per_5min = 1_000_000;
    })
    .await;
    let token = local_token(&state, "fuzz", "read write follow push").await;
    // A copy of shared/mastodon-openapi/schema.json, so a clean clone has it.
    let schema = workspace().join("tests/clients/openapi/mastodon.json");
    let out = workspace().join(format!("target/schemathesis-{b:?}"));
    python(
        "schemathesis_run.py",
        &[
            &base,
            &token,
            schema.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    let _ = stop.send(());
    db.drop_db().await;
}

/// Schemathesis over the OpenAPI description the server itself serves for our
/// extensions (orgs, membership): no server error, every response as described.
async fn schemathesis_checks_the_served_orgs_description(b: Backend) {
    let db = TestDb::new(b).await;
    let (base, stop, state) = serve(&db, |c| {
        c.limits.api_requests_per_5min = 1_000_000;
    })
    .await;
    let office = accounts::create_from_shell(
        &state.ctx,
        "office",
        "office@example.com",
        "correct horse battery",
        true,
    )
    .await
    .unwrap();
    // An org to act on, besides the ids schemathesis makes up.
    tsunagu::services::orgs::create(
        &state.ctx,
        &office,
        tsunagu::services::orgs::NewOrg {
            username: "acme".into(),
            display_name: None,
            note: None,
            kind: None,
            parent_id: None,
            locked: None,
        },
    )
    .await
    .unwrap();
    let app = tsunagu::services::oauth::create_app(
        &state.ctx,
        tsunagu::services::oauth::NewApp {
            name: "acceptance".into(),
            redirect_uris: vec![tsunagu::services::oauth::OOB.into()],
            scopes: Some("read write".into()),
            website: None,
        },
    )
    .await
    .unwrap();
    let token = tsunagu::services::oauth::issue_for_registration(
        &state.ctx,
        app.app.id,
        &office,
        tsunagu::services::scopes::Scopes::parse("read write").unwrap(),
    )
    .await
    .unwrap()
    .access_token;
    let out = workspace().join(format!("target/schemathesis-orgs-{b:?}"));
    python(
        "schemathesis_orgs.py",
        &[&base, &token, out.to_str().unwrap()],
        &[],
    )
    .await;
    let _ = stop.send(());
    db.drop_db().await;
}

static NODE_MODULES: Mutex<bool> = Mutex::new(false);

/// masto.js, axe-core and oidc-provider from the npm registry, pinned by tests/clients/package-lock.json.
fn node_modules() {
    let mut ready = NODE_MODULES.lock().unwrap_or_else(|e| e.into_inner());
    if *ready {
        return;
    }
    let dir = workspace().join("tests/clients");
    let installed = ["masto", "axe-core", "oidc-provider"].iter().all(|p| {
        dir.join("node_modules")
            .join(p)
            .join("package.json")
            .is_file()
    });
    if !installed {
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "npm ci failed in {}: the masto.js test needs Node.js and npm",
            dir.display()
        );
    }
    *ready = true;
}

async fn masto_js_streams(b: Backend) {
    let db = TestDb::new(b).await;
    let (base, stop, state) = serve(&db, |_| {}).await;
    accounts::create_from_shell(
        &state.ctx,
        "streamer",
        "streamer@example.com",
        "correct horse battery",
        false,
    )
    .await
    .unwrap();
    tokio::task::spawn_blocking(node_modules).await.unwrap();
    let out = tokio::process::Command::new("node")
        .arg(workspace().join("tests/clients/masto_stream.mjs"))
        .args([base.as_str(), "streamer", "correct horse battery"])
        .output()
        .await
        .expect("run node");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "masto.js failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("masto.js acceptance: OK"), "{stdout}");
    let _ = stop.send(());
    db.drop_db().await;
}
