//! Test harness: a real application (real SQLite file or a fresh PostgreSQL
//! database) driven through its router, or served on a loopback port.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use tsunagu::app::{self, AppState};
use tsunagu::config::{Config, RegistrationMode};
use tsunagu::db::models::LocalUser;
use tsunagu::services::{accounts, oauth, scopes::Scopes};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares `mod NAME { sqlite(), postgres() }` running `NAME(backend)` on each backend.
#[macro_export]
macro_rules! dual {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await
            }
        }
    )*};
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// The PostgreSQL server tests create their databases on. Never skipped: a
/// missing server fails the test with instructions.
pub fn pg_admin_url() -> String {
    std::env::var("TSUNAGU_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TestDb {
    pub url: String,
    pg: Option<(String, String)>,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => TestDb {
                url: format!("sqlite://{}", dir.path().join("tsunagu.db").display()),
                pg: None,
                dir,
            },
            Backend::Postgres => {
                let admin = pg_admin_url();
                let name = format!(
                    "tsunagu_test_{}_{}_{}",
                    std::process::id(),
                    SEQ.fetch_add(1, Ordering::SeqCst),
                    rand_suffix()
                );
                let mut c = AsyncPgConnection::establish(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL tests need a server at {admin} ({e}). Set TSUNAGU_TEST_POSTGRES_URL, \
                         or run tests/run.sh, which starts a throwaway cluster."
                    )
                });
                c.batch_execute(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                let (base, _) = admin.rsplit_once('/').expect("admin url has a database");
                TestDb {
                    url: format!("{base}/{name}"),
                    pg: Some((admin, name)),
                    dir,
                }
            }
        }
    }

    pub async fn drop_db(&self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(mut c) = AsyncPgConnection::establish(admin).await
        {
            let _ = c
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

/// Random letters and digits (made-up credentials, names).
pub fn random_text(len: usize) -> String {
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// The configuration tests start from: open registrations, a test domain,
/// media and mail under the test's temporary directory.
pub fn test_config(db: &TestDb) -> Config {
    let mut c = Config::default();
    c.server.domain = "alumni.test".into();
    c.database.url = db.url.clone();
    // CI also runs the whole suite with one connection per pool
    // (TSUNAGU_TEST_MAX_CONNECTIONS=1): nothing may hold a connection while
    // it takes another or waits on the network.
    c.database.max_connections = std::env::var("TSUNAGU_TEST_MAX_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    c.registrations.mode = RegistrationMode::Open;
    c.media.path = db.dir.path().join("media");
    c.mail.file_dir = db.dir.path().join("mail");
    c.log.level = "warn".into();
    c
}

pub struct TestApp {
    pub state: AppState,
    pub db: TestDb,
    pub backend: Backend,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// Asserts status and `{"error": ...}` body.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, error: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(self.json()["error"], error, "body: {}", self.text());
        assert!(
            self.header("content-type")
                .unwrap_or_default()
                .starts_with("application/json")
        );
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let db = TestDb::new(backend).await;
        let mut cfg = test_config(&db);
        tweak(&mut cfg);
        let state = AppState::new(cfg).await.expect("app starts");
        TestApp { state, db, backend }
    }

    pub async fn finish(self) {
        self.db.drop_db().await;
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = app::service(self.state.clone())
            .oneshot(req)
            .await
            .expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    fn builder(method: Method, uri: &str, token: Option<&str>) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        b
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> Resp {
        self.send(
            Self::builder(Method::GET, uri, token)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn json(&self, method: Method, uri: &str, token: Option<&str>, body: &Value) -> Resp {
        let req = Self::builder(method, uri, token)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    pub async fn form(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        pairs: &[(&str, &str)],
    ) -> Resp {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let req = Self::builder(method, uri, token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    pub async fn raw(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<Body>,
    ) -> Resp {
        let req = Self::builder(method, uri, token)
            .header("content-type", content_type)
            .body(body.into())
            .unwrap();
        self.send(req).await
    }

    /// A local person created as the shell would, with a user token of `scopes`.
    pub async fn user(&self, username: &str, scopes: &str) -> (LocalUser, String) {
        self.user_with(username, scopes, false).await
    }

    pub async fn user_with(
        &self,
        username: &str,
        scopes: &str,
        admin: bool,
    ) -> (LocalUser, String) {
        let ctx = &self.state.ctx;
        let me = accounts::create_from_shell(
            ctx,
            username,
            &format!("{username}@example.com"),
            "correct horse battery",
            admin,
        )
        .await
        .expect("create user");
        let token = self.token_for(&me, scopes).await;
        (me, token)
    }

    pub async fn token_for(&self, me: &LocalUser, scopes: &str) -> String {
        let ctx = &self.state.ctx;
        let app = oauth::create_app(
            ctx,
            oauth::NewApp {
                name: "test app".into(),
                redirect_uris: vec![oauth::OOB.into()],
                scopes: Some(scopes.into()),
                website: None,
            },
        )
        .await
        .expect("create app");
        oauth::issue_for_registration(ctx, app.app.id, me, Scopes::parse(scopes).unwrap())
            .await
            .expect("issue token")
            .access_token
    }

    /// Registers an app over HTTP; returns (client_id, client_secret).
    pub async fn app(&self, scopes: &str, redirect_uris: &str) -> (String, String) {
        let r = self
            .form(
                Method::POST,
                "/api/v1/apps",
                None,
                &[
                    ("client_name", "Test client"),
                    ("redirect_uris", redirect_uris),
                    ("scopes", scopes),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        (
            v["client_id"].as_str().unwrap().to_owned(),
            v["client_secret"].as_str().unwrap().to_owned(),
        )
    }

    /// An app token (client_credentials) with `scope`.
    pub async fn app_token(&self, client_id: &str, secret: &str, scope: &str) -> String {
        let r = self
            .form(
                Method::POST,
                "/oauth/token",
                None,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", secret),
                    ("scope", scope),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["access_token"].as_str().unwrap().to_owned()
    }
}

/// Reads a hidden input's value out of a server-rendered form.
pub fn form_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')? + start;
    Some(html_unescape(&html[start..end]))
}

pub fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2f;", "/")
}

/// The `tsunagu_csrf` cookie set by a page.
pub fn csrf_cookie(r: &Resp) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("tsunagu_csrf="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
