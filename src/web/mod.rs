//! Server-rendered HTML: the OAuth sign-in and consent page, the
//! out-of-band code page, the first-run setup page, e-mail confirmation and
//! the start page. Forms carry a CSRF token matched against a cookie.
pub mod account;
pub mod admin;
pub mod alumni;
pub mod charts;
pub mod i18n;
pub mod member;
pub mod office;
pub mod session;

use crate::domain::Visibility;
use std::sync::Arc;

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header::{
    ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use minijinja::value::Kwargs;
use minijinja::{Environment, State as TplState, Value as TplValue, context};
use serde::Deserialize;

use crate::api::ratelimit::client_ip;
use crate::app::AppState;
use crate::crypto;
use crate::services::oauth::{self, AuthorizeRequest, ValidAuthorization};
use crate::services::views::StatusView;
use crate::services::{ServiceError, accounts, pages, sessions};
use i18n::I18n;

const CSRF_COOKIE: &str = "tsunagu_csrf";

pub struct Web {
    env: Environment<'static>,
    pub i18n: Arc<I18n>,
}

impl Web {
    pub fn new() -> anyhow::Result<Web> {
        let i18n = Arc::new(I18n::new()?);
        let mut env = Environment::new();
        for (name, src) in [
            ("layout.html", include_str!("templates/layout.html")),
            ("authorize.html", include_str!("templates/authorize.html")),
            ("oob.html", include_str!("templates/oob.html")),
            ("message.html", include_str!("templates/message.html")),
            ("setup.html", include_str!("templates/setup.html")),
            ("home.html", include_str!("templates/home.html")),
            ("post.html", include_str!("templates/post.html")),
            ("profile.html", include_str!("templates/profile.html")),
            ("status.html", include_str!("templates/status.html")),
            ("sign_in.html", include_str!("templates/sign_in.html")),
            ("two_factor.html", include_str!("templates/two_factor.html")),
            ("join.html", include_str!("templates/join.html")),
            ("security.html", include_str!("templates/security.html")),
            ("timeline.html", include_str!("templates/timeline.html")),
            (
                "notifications.html",
                include_str!("templates/notifications.html"),
            ),
            ("settings.html", include_str!("templates/settings.html")),
            ("password.html", include_str!("templates/password.html")),
            ("thread.html", include_str!("templates/thread.html")),
            (
                "confirm_link.html",
                include_str!("templates/confirm_link.html"),
            ),
            ("reset.html", include_str!("templates/reset.html")),
            ("search.html", include_str!("templates/search.html")),
            ("sign_up.html", include_str!("templates/sign_up.html")),
            ("office_nav.html", include_str!("templates/office_nav.html")),
            (
                "office_index.html",
                include_str!("templates/office_index.html"),
            ),
            ("office.html", include_str!("templates/office.html")),
            (
                "office_requests.html",
                include_str!("templates/office_requests.html"),
            ),
            (
                "office_members.html",
                include_str!("templates/office_members.html"),
            ),
            (
                "office_roster.html",
                include_str!("templates/office_roster.html"),
            ),
            (
                "office_announcements.html",
                include_str!("templates/office_announcements.html"),
            ),
            ("admin_nav.html", include_str!("templates/admin_nav.html")),
            (
                "office_invitations.html",
                include_str!("templates/office_invitations.html"),
            ),
            (
                "profile_fields.html",
                include_str!("templates/profile_fields.html"),
            ),
            (
                "office_clubs.html",
                include_str!("templates/office_clubs.html"),
            ),
            (
                "office_blocks.html",
                include_str!("templates/office_blocks.html"),
            ),
            (
                "office_profile.html",
                include_str!("templates/office_profile.html"),
            ),
            (
                "alumni_profile.html",
                include_str!("templates/alumni_profile.html"),
            ),
            ("directory.html", include_str!("templates/directory.html")),
            (
                "admin_reports.html",
                include_str!("templates/admin_reports.html"),
            ),
            (
                "admin_report.html",
                include_str!("templates/admin_report.html"),
            ),
            (
                "admin_accounts.html",
                include_str!("templates/admin_accounts.html"),
            ),
            (
                "admin_domains.html",
                include_str!("templates/admin_domains.html"),
            ),
            (
                "admin_federation.html",
                include_str!("templates/admin_federation.html"),
            ),
            (
                "admin_settings.html",
                include_str!("templates/admin_settings.html"),
            ),
        ] {
            env.add_template(name, src)?;
        }
        let tr = i18n.clone();
        // `t("id", name=value)` in templates, in the page's language.
        env.add_function(
            "t",
            move |state: &TplState, id: &str, kwargs: Kwargs| -> Result<String, minijinja::Error> {
                let lang = state
                    .lookup("lang")
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| i18n::DEFAULT.into());
                let mut args = Vec::new();
                for key in kwargs.args() {
                    let v: TplValue = kwargs.get(key)?;
                    args.push((key, v.to_string()));
                }
                Ok(tr.t(&lang, id, &args))
            },
        );
        Ok(Web { env, i18n })
    }

    fn render(
        &self,
        s: &AppState,
        status: StatusCode,
        name: &str,
        lang: &str,
        page: TplValue,
    ) -> Response {
        let langs: Vec<(&str, String)> = i18n::LOCALES
            .iter()
            .map(|(c, _)| (*c, self.i18n.t(c, "lang-name", &[])))
            .collect();
        let ctx = context! {
            lang => lang,
            languages => langs,
            instance_title => s.ctx.settings().title.clone(),
            ..page
        };
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => (status, security_headers(), Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, template = name, "template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
            }
        }
    }

    fn message(
        &self,
        s: &AppState,
        status: StatusCode,
        lang: &str,
        heading: String,
        message: String,
    ) -> Response {
        let is_error = status.is_client_error() || status.is_server_error();
        self.render(
            s,
            status,
            "message.html",
            lang,
            context! { heading, message, is_error },
        )
    }
}

/// Pages must not be framed (the consent button!) nor load foreign resources.
fn security_headers() -> [(axum::http::HeaderName, HeaderValue); 4] {
    [
        (
            axum::http::header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ),
        (
            axum::http::header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
            ),
        ),
        (
            axum::http::header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ]
}

/// The pages; `upload_limit` bounds the forms that carry an image.
pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route(
            "/oauth/authorize",
            get(authorize_form).post(authorize_submit),
        )
        .route("/setup", get(setup_form).post(setup_submit))
        .route("/auth/confirm", get(confirm_email_form).post(confirm_email))
        .route("/static/{file}", get(static_file))
        .route("/@{name}", get(profile_page))
        .route("/@{name}/{id}", get(post_page))
        .route("/@{name}/follow", get(follow_from_elsewhere))
        .merge(account::routes())
        .merge(member::routes(upload_limit))
        .merge(alumni::routes())
        .merge(office::routes(upload_limit))
        .merge(admin::routes())
}

fn lang_of(
    headers: &HeaderMap,
    explicit: Option<&str>,
    account_locale: Option<&str>,
) -> &'static str {
    let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let remembered = cookie(headers, session::LANG_COOKIE);
    i18n::negotiate(explicit.or(remembered.as_deref()), accept, account_locale)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The CSRF token for a form: the cookie's, or a new one set with the page.
fn csrf_token(s: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(t) = cookie(headers, CSRF_COOKIE).filter(|t| t.len() >= 32) {
        return (t, None);
    }
    let t = crypto::random_token();
    let secure = if s.ctx.config.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let header = HeaderValue::from_str(&format!(
        "{CSRF_COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok();
    (t, header)
}

fn csrf_ok(headers: &HeaderMap, submitted: &str) -> bool {
    cookie(headers, CSRF_COOKIE)
        .is_some_and(|c| !submitted.is_empty() && crypto::secrets_equal(&c, submitted))
}

fn with_cookie(mut resp: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        resp.headers_mut().append(SET_COOKIE, c);
    }
    resp
}

#[derive(Deserialize, Default)]
pub struct LangQuery {
    lang: Option<String>,
}

async fn home(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    // ActivityPub clients look for the instance's actor at the root (Lemmy
    // reads its site there); browsers get the page.
    if crate::api::activitypub::wants_activity_json(&headers) {
        return crate::api::activitypub::instance_actor(State(s))
            .await
            .into_response();
    }
    let lang = lang_of(&headers, q.lang.as_deref(), None);
    let base = s.ctx.base_url();
    let orgs: Vec<TplValue> = match pages::landing(&s.ctx).await {
        Ok(orgs) => orgs
            .iter()
            .map(|o| {
                let a = &o.account.account;
                context! {
                    name => a.shown_name(),
                    acct => format!("{}@{}", a.username, s.ctx.config.server.domain),
                    url => format!("{base}/@{}", a.username),
                    about => excerpt(&a.note, 140),
                    followers => o.account.stats.followers,
                }
            })
            .collect(),
        Err(e) => return page_not_found(&s, lang, e),
    };
    s.web.render(
        &s,
        StatusCode::OK,
        "home.html",
        lang,
        context! {
            orgs => orgs,
            description => s.ctx.settings().description.clone(),
            domain => s.ctx.config.server.domain.clone(),
            version => env!("CARGO_PKG_VERSION"),
            sign_up => s.ctx.settings().registration_mode != crate::config::RegistrationMode::Closed,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct AuthorizeParams {
    #[serde(default)]
    client_id: String,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    lang: Option<String>,
    // Only on the POST.
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    otp: String,
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    decision: String,
}

impl AuthorizeParams {
    fn request(&self) -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            response_type: self.response_type.clone(),
            scope: self.scope.clone(),
            state: self.state.clone(),
            code_challenge: self.code_challenge.clone(),
            code_challenge_method: self.code_challenge_method.clone(),
        }
    }
}

fn scope_descriptions(s: &AppState, lang: &str, v: &ValidAuthorization) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in v.scopes.iter() {
        let id = match scope.split(':').next().unwrap_or(scope) {
            "read" => "scope-read",
            "write" => "scope-write",
            "follow" => "scope-follow",
            "push" => "scope-push",
            "profile" => "scope-profile",
            "admin" => "scope-admin",
            _ => "scope-other",
        };
        let mut text = s.web.i18n.t(lang, id, &[("scope", scope.to_owned())]);
        if scope.contains(':') && id != "scope-other" {
            text = format!("{text} ({scope})");
        }
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

fn authorize_page(
    s: &AppState,
    status: StatusCode,
    lang: &str,
    v: &ValidAuthorization,
    csrf: &str,
    username: &str,
    error: Option<String>,
) -> Response {
    // The language links must keep the authorisation request.
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", &v.app.client_id)
        .append_pair("redirect_uri", &v.redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", &v.scopes.to_string());
    if let Some(st) = &v.state {
        q.append_pair("state", st);
    }
    if let Some(c) = &v.code_challenge {
        q.append_pair("code_challenge", c)
            .append_pair("code_challenge_method", "S256");
    }
    let lang_query = format!("{}&", q.finish());
    s.web.render(
        s,
        status,
        "authorize.html",
        lang,
        context! {
            app_name => v.app.name.clone(),
            app_website => v.app.website.clone(),
            domain => s.ctx.config.server.domain.clone(),
            scope_descriptions => scope_descriptions(s, lang, v),
            client_id => v.app.client_id.clone(),
            redirect_uri => v.redirect_uri.clone(),
            scope => v.scopes.to_string(),
            state => v.state.clone(),
            code_challenge => v.code_challenge.clone(),
            csrf => csrf,
            username => username,
            error => error,
            lang_query => lang_query,
        },
    )
}

fn oauth_error_page(s: &AppState, lang: &str, e: ServiceError) -> Response {
    let heading = s.web.i18n.t(lang, "page-error", &[]);
    match e {
        ServiceError::Internal(err) => {
            tracing::error!(error = ?err, "authorize failed");
            s.web.message(
                s,
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                heading,
                "Internal server error".into(),
            )
        }
        ServiceError::Unavailable => {
            let mut page = s.web.message(
                s,
                StatusCode::SERVICE_UNAVAILABLE,
                lang,
                heading,
                ServiceError::Unavailable.to_string(),
            );
            page.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("2"),
            );
            page
        }
        other => s
            .web
            .message(s, StatusCode::BAD_REQUEST, lang, heading, other.to_string()),
    }
}

async fn authorize_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuthorizeParams>,
) -> Response {
    let lang = lang_of(&headers, q.lang.as_deref(), None);
    let v = match oauth::check_authorize(&s.ctx, &q.request()).await {
        Ok(v) => v,
        Err(e) => return oauth_error_page(&s, lang, e),
    };
    let (csrf, set) = csrf_token(&s, &headers);
    with_cookie(
        authorize_page(&s, StatusCode::OK, lang, &v, &csrf, "", None),
        set,
    )
}

fn redirect(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(loc) => (StatusCode::FOUND, [(LOCATION, loc)]).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "invalid redirect URI").into_response(),
    }
}

async fn authorize_submit(
    State(s): State<AppState>,
    peer: crate::api::ratelimit::PeerAddr,
    headers: HeaderMap,
    Form(f): Form<AuthorizeParams>,
) -> Response {
    let lang = lang_of(&headers, f.lang.as_deref(), None);
    let v = match oauth::check_authorize(&s.ctx, &f.request()).await {
        Ok(v) => v,
        Err(e) => return oauth_error_page(&s, lang, e),
    };
    let (csrf, set) = csrf_token(&s, &headers);
    if !csrf_ok(&headers, &f.authenticity_token) {
        let msg = s.web.i18n.t(lang, "error-csrf", &[]);
        return with_cookie(
            authorize_page(
                &s,
                StatusCode::FORBIDDEN,
                lang,
                &v,
                &csrf,
                &f.username,
                Some(msg),
            ),
            set,
        );
    }
    if f.decision == "deny" {
        return match oauth::redirect_target(&v, &[("error", "access_denied")]) {
            Some(url) => redirect(&url),
            None => {
                let heading = s.web.i18n.t(lang, "page-error", &[]);
                s.web.message(
                    &s,
                    StatusCode::OK,
                    lang,
                    heading,
                    s.web.i18n.t(lang, "authorize-denied", &[]),
                )
            }
        };
    }
    let ip = client_ip(&headers, peer.0, s.ctx.config.server.trust_forwarded_for);
    if !s.limits.login.check(&ip).allowed {
        let msg = s.web.i18n.t(lang, "error-rate-limited", &[]);
        return authorize_page(
            &s,
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            &v,
            &csrf,
            &f.username,
            Some(msg),
        );
    }
    let account = match sessions::check_credentials(&s.ctx, &f.username, &f.password, &f.otp).await
    {
        Ok(sessions::Credentials::Valid(a)) => *a,
        Ok(sessions::Credentials::CodeNeeded) => {
            let msg = s.web.i18n.t(lang, "authorize-code-needed", &[]);
            return authorize_page(
                &s,
                StatusCode::UNAUTHORIZED,
                lang,
                &v,
                &csrf,
                &f.username,
                Some(msg),
            );
        }
        Err(ServiceError::Unauthorized(_)) => {
            let id = if f.otp.trim().is_empty() {
                "error-credentials"
            } else {
                "error-credentials-or-code"
            };
            let msg = s.web.i18n.t(lang, id, &[]);
            return authorize_page(
                &s,
                StatusCode::UNAUTHORIZED,
                lang,
                &v,
                &csrf,
                &f.username,
                Some(msg),
            );
        }
        Err(ServiceError::Forbidden(why)) => {
            return authorize_page(
                &s,
                StatusCode::FORBIDDEN,
                lang,
                &v,
                &csrf,
                &f.username,
                Some(why),
            );
        }
        Err(ServiceError::RateLimited) => {
            let msg = s.web.i18n.t(lang, "error-code-locked", &[]);
            return authorize_page(
                &s,
                StatusCode::TOO_MANY_REQUESTS,
                lang,
                &v,
                &csrf,
                &f.username,
                Some(msg),
            );
        }
        Err(e) => return oauth_error_page(&s, lang, e),
    };
    let code = match oauth::grant_code(&s.ctx, &v, &account).await {
        Ok(c) => c,
        Err(e) => return oauth_error_page(&s, lang, e),
    };
    match oauth::redirect_target(&v, &[("code", &code)]) {
        Some(url) => redirect(&url),
        None => {
            let lang = lang_of(&headers, f.lang.as_deref(), account.user.locale.as_deref());
            s.web.render(
                &s,
                StatusCode::OK,
                "oob.html",
                lang,
                context! { app_name => v.app.name.clone(), code => code },
            )
        }
    }
}

#[derive(Deserialize, Default)]
pub struct SetupParams {
    #[serde(default)]
    code: String,
    lang: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    authenticity_token: String,
}

fn setup_page(
    s: &AppState,
    status: StatusCode,
    lang: &str,
    p: &SetupParams,
    csrf: &str,
    errors: Vec<String>,
) -> Response {
    s.web.render(
        s,
        status,
        "setup.html",
        lang,
        context! {
            domain => s.ctx.config.server.domain.clone(),
            code => p.code.clone(),
            csrf => csrf,
            username => p.username.clone(),
            email => p.email.clone(),
            min_password => s.ctx.config.registrations.min_password_length,
            errors => errors,
        },
    )
}

fn setup_invalid(s: &AppState, lang: &str) -> Response {
    let heading = s.web.i18n.t(lang, "setup-title", &[]);
    s.web.message(
        s,
        StatusCode::FORBIDDEN,
        lang,
        heading,
        s.web.i18n.t(lang, "setup-invalid", &[]),
    )
}

async fn setup_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<SetupParams>,
) -> Response {
    let lang = lang_of(&headers, p.lang.as_deref(), None);
    match accounts::setup_code_valid(&s.ctx, &p.code).await {
        Ok(true) => {
            let (csrf, set) = csrf_token(&s, &headers);
            with_cookie(setup_page(&s, StatusCode::OK, lang, &p, &csrf, vec![]), set)
        }
        Ok(false) => setup_invalid(&s, lang),
        Err(e) => oauth_error_page(&s, lang, e),
    }
}

async fn setup_submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(p): Form<SetupParams>,
) -> Response {
    let lang = lang_of(&headers, p.lang.as_deref(), None);
    let (csrf, set) = csrf_token(&s, &headers);
    if !csrf_ok(&headers, &p.authenticity_token) {
        let msg = s.web.i18n.t(lang, "error-csrf", &[]);
        return with_cookie(
            setup_page(&s, StatusCode::FORBIDDEN, lang, &p, &csrf, vec![msg]),
            set,
        );
    }
    match accounts::complete_setup(&s.ctx, &p.code, &p.username, &p.email, &p.password).await {
        Ok(a) => {
            let heading = s.web.i18n.t(lang, "setup-done-title", &[]);
            let msg = s.web.i18n.t(
                lang,
                "setup-done",
                &[
                    ("username", a.account.username.clone()),
                    ("domain", s.ctx.config.server.domain.clone()),
                ],
            );
            s.web.message(&s, StatusCode::OK, lang, heading, msg)
        }
        Err(ServiceError::Validation(errs)) => {
            let list = errs
                .iter()
                .map(|e| format!("{}: {}", e.field, e.description))
                .collect();
            setup_page(&s, StatusCode::UNPROCESSABLE_ENTITY, lang, &p, &csrf, list)
        }
        Err(ServiceError::Forbidden(_)) => setup_invalid(&s, lang),
        Err(e) => oauth_error_page(&s, lang, e),
    }
}

#[derive(Deserialize)]
pub struct ConfirmQuery {
    #[serde(default)]
    token: String,
}

/// The link in the confirmation mail opens a page with a button: a link
/// scanner fetching the link (as mail gateways do) confirms nothing.
async fn confirm_email_form(
    State(s): State<AppState>,
    v: session::Visit,
    Query(q): Query<ConfirmQuery>,
) -> Response {
    v.render(
        &s,
        StatusCode::OK,
        "confirm_link.html",
        context! {
            heading => s.web.i18n.t(v.lang, "confirm-title-ask", &[]),
            text => s.web.i18n.t(v.lang, "confirm-ask", &[]),
            button => s.web.i18n.t(v.lang, "confirm-button", &[]),
            action => "/auth/confirm",
            token => q.token,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct ConfirmForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    authenticity_token: String,
}

async fn confirm_email(
    State(s): State<AppState>,
    v: session::Visit,
    Form(f): Form<ConfirmForm>,
) -> Response {
    if !v.csrf_ok(&f.authenticity_token) {
        let msg = s.web.i18n.t(v.lang, "error-csrf", &[]);
        return v.message(&s, StatusCode::FORBIDDEN, "page-error", msg);
    }
    match accounts::confirm_email(&s.ctx, &f.token).await {
        Ok(a) => {
            let msg = s
                .web
                .i18n
                .t(v.lang, "confirm-done", &[("username", a.account.username)]);
            v.message(&s, StatusCode::OK, "confirm-title", msg)
        }
        Err(ServiceError::NotFound(_)) => {
            let msg = s.web.i18n.t(v.lang, "confirm-invalid", &[]);
            v.message(&s, StatusCode::NOT_FOUND, "page-error", msg)
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let png = "image/png";
    let (bytes, kind): (&'static [u8], &'static str) = match file.as_str() {
        "avatar-missing.png" => (include_bytes!("static/avatar-missing.png"), png),
        "header-missing.png" => (include_bytes!("static/header-missing.png"), png),
        "thumbnail.png" => (include_bytes!("static/thumbnail.png"), png),
        "tsunagu.js" => (
            include_bytes!("static/tsunagu.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A form's validation errors in words, in the page's language: the words
/// for known error codes with the field's label, else the service's text.
/// A service's refusal on an office or admin page, with the right status;
/// `forbidden` names the message for those who may not see the page.
fn refused_page(
    s: &AppState,
    v: &session::Visit,
    e: crate::services::ServiceError,
    forbidden: &str,
) -> axum::response::Response {
    use crate::services::ServiceError;
    use axum::http::StatusCode;
    match e {
        ServiceError::NotFound(_) => page_not_found(s, v.lang, e),
        ServiceError::Forbidden(_) => {
            let msg = s.web.i18n.t(v.lang, forbidden, &[]);
            v.message(s, StatusCode::FORBIDDEN, "page-error", msg)
        }
        ServiceError::Validation(errs) => {
            let msg = validation_text(s, v.lang, &errs);
            v.message(s, StatusCode::UNPROCESSABLE_ENTITY, "page-error", msg)
        }
        ServiceError::BadRequest(why) => v.message(s, StatusCode::BAD_REQUEST, "page-error", why),
        other => oauth_error_page(s, v.lang, other),
    }
}

fn validation_text(s: &AppState, lang: &str, errs: &[crate::services::FieldError]) -> String {
    errs.iter()
        .map(|e| field_error_text(s, lang, e))
        .collect::<Vec<_>>()
        .join(" ")
}

fn field_error_text(s: &AppState, lang: &str, e: &crate::services::FieldError) -> String {
    let label = s.web.i18n.t(lang, &format!("field-{}", e.field), &[]);
    field_error_named(s, lang, e, label)
}

/// A field's error with the field named by `label`.
fn field_error_named(
    s: &AppState,
    lang: &str,
    e: &crate::services::FieldError,
    label: String,
) -> String {
    let id = format!("field-error-{}", e.code);
    let text = s.web.i18n.t(lang, &id, &[("field", label.clone())]);
    if text == id {
        format!("{label}: {}", e.description)
    } else {
        text
    }
}

/// 404 for everything unrouted: JSON under the API prefixes, HTML elsewhere.
pub async fn not_found(
    State(s): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let p = uri.path();
    if p.starts_with("/api/") || p.starts_with("/oauth/") || p.starts_with("/.well-known/") {
        return crate::api::error::ApiError::not_found().into_response();
    }
    let lang = lang_of(&headers, None, None);
    let heading = s.web.i18n.t(lang, "page-error", &[]);
    s.web.message(
        &s,
        StatusCode::NOT_FOUND,
        lang,
        heading,
        s.web.i18n.t(lang, "not-found", &[]),
    )
}

/// The first of some remote addresses that is a web link (http or https;
/// anything else from another server never becomes a link).
fn web_link<const N: usize>(candidates: [&Option<String>; N]) -> String {
    candidates
        .into_iter()
        .flatten()
        .find(|u| u.starts_with("https://") || u.starts_with("http://"))
        .cloned()
        .unwrap_or_default()
}

/// An account as a link on a page: its name, address and page (ours, or
/// its own server's).
fn account_link(s: &AppState, a: &crate::db::models::Account) -> TplValue {
    let (acct, url) = if a.local {
        (
            format!("{}@{}", a.username, s.ctx.config.server.domain),
            format!("{}/@{}", s.ctx.base_url(), a.username),
        )
    } else {
        (
            format!("{}@{}", a.username, a.domain.clone().unwrap_or_default()),
            web_link([&a.profile_url, &a.ap_id]),
        )
    };
    context! { name => a.shown_name(), acct => acct, url => url }
}

/// The first `n` characters of some HTML's text.
fn excerpt(html: &str, n: usize) -> String {
    crate::services::text::strip_html(html)
        .chars()
        .take(n)
        .collect()
}

/// A local account's avatar (a remote one is never loaded: pages make no
/// request off this server), and the initial shown instead.
fn avatar(s: &AppState, a: &crate::db::models::Account) -> (Option<String>, String) {
    let url = a
        .avatar_file
        .as_deref()
        .map(|f| crate::services::media::url(&s.ctx, f));
    let initial = a
        .shown_name()
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    (url, initial)
}

/// Who may see a post, in words (shown beside every post that is not public).
fn audience_label(s: &AppState, lang: &str, v: &StatusView) -> Option<String> {
    let org = v.audience.as_ref().map(|a| a.shown_name());
    let (id, args) = match (v.status.visibility, org) {
        (Visibility::Members, Some(org)) => ("audience-members", vec![("org", org.to_owned())]),
        (Visibility::Members, None) => ("audience-members-any", vec![]),
        (Visibility::Private, _) => ("audience-followers", vec![]),
        (Visibility::Direct, _) => ("audience-direct", vec![]),
        (_, Some(org)) => ("audience-org", vec![("org", org.to_owned())]),
        _ => return None,
    };
    Some(s.web.i18n.t(lang, id, &args))
}

/// What a post shows on a page (its HTML was sanitised when stored). A
/// boost shows the boosted post in full, under who shared it.
fn post_context(s: &AppState, lang: &str, v: &StatusView) -> TplValue {
    let (v, boosted_by) = match &v.reblog {
        Some(original) => (original.as_ref(), Some(v.account.account.shown_name())),
        None => (v, None),
    };
    let a = &v.account.account;
    let base = s.ctx.base_url();
    let created = v.status.created_at.and_utc();
    // Someone elsewhere: their own server's addresses.
    let (acct, profile_url, url) = if a.local {
        (
            format!("{}@{}", a.username, s.ctx.config.server.domain),
            format!("{base}/@{}", a.username),
            format!("{base}/@{}/{}", a.username, v.status.id),
        )
    } else {
        (
            format!("{}@{}", a.username, a.domain.clone().unwrap_or_default()),
            web_link([&a.profile_url, &a.ap_id]),
            web_link([&v.status.url, &v.status.uri]),
        )
    };
    let media: Vec<TplValue> = v
        .media
        .iter()
        .filter_map(|m| {
            let (url, local) = match m.file.as_deref() {
                Some(f) => (crate::services::media::url(&s.ctx, f), true),
                None => (web_link([&m.remote_url]), false),
            };
            (!url.is_empty()).then(|| context! { url => url, local => local, kind => m.kind.clone(), description => m.description.clone() })
        })
        .collect();
    let (avatar, initial) = avatar(s, a);
    context! {
        id => v.status.id.to_string(),
        key => format!("{}{}", v.status.id, boosted_by.as_ref().map(|_| "b").unwrap_or("")),
        author => a.shown_name(),
        avatar => avatar,
        initial => initial,
        acct => acct,
        profile_url => profile_url,
        url => url,
        boosted_by => boosted_by,
        audience_label => audience_label(s, lang, v),
        boostable => v.status.visibility.is_open(),
        content => TplValue::from_safe_string(v.status.content.clone()),
        spoiler => v.status.spoiler_text.clone(),
        excerpt => excerpt(&v.status.content, 60),
        media => media,
        unlisted => v.status.visibility == Visibility::Unlisted,
        created_at => created.to_rfc3339(),
        created_at_text => date_text(lang, created),
        replies => v.replies_count,
        boosts => v.reblogs_count,
        favourites => v.favourites_count,
        favourited => v.favourited,
        reblogged => v.reblogged,
        bookmarked => v.bookmarked,
    }
}

/// A date as each language writes it (DESIGN.md): 2026年12月12日(土) 18:30 or
/// Sat 12 Dec 2026, 18:30, in UTC and saying so.
fn date_text(lang: &str, t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Datelike;
    if lang == "ja" {
        const DAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];
        let wd = DAYS[t.weekday().num_days_from_monday() as usize];
        format!(
            "{}({wd}) {} UTC",
            t.format("%Y年%-m月%-d日"),
            t.format("%H:%M")
        )
    } else {
        t.format("%a %-d %b %Y, %H:%M UTC").to_string()
    }
}

fn page_not_found(s: &AppState, lang: &str, e: ServiceError) -> Response {
    match e {
        ServiceError::NotFound(_) => {
            let heading = s.web.i18n.t(lang, "page-error", &[]);
            let message = s.web.i18n.t(lang, "not-found", &[]);
            s.web
                .message(s, StatusCode::NOT_FOUND, lang, heading, message)
        }
        other => oauth_error_page(s, lang, other),
    }
}

/// `/@name`: a local person's or org's public page; for someone signed in,
/// with follow and membership buttons.
async fn profile_page(
    State(s): State<AppState>,
    v: session::Visit,
    Path(name): Path<String>,
) -> Response {
    let lang = v.lang;
    let viewer = v.me.as_ref().map(|c| c.me.account.id);
    let pages::ProfilePage {
        view,
        posts,
        members,
        clubs,
        recognised_by,
        relationship,
        member,
    } = match pages::profile(&s.ctx, &name, viewer).await {
        Ok(found) => found,
        Err(e) => return page_not_found(&s, lang, e),
    };
    let a = &view.account;
    let fields: Vec<TplValue> = accounts::profile_fields(a)
        .into_iter()
        .map(|f| {
            context! {
                name => f.name,
                // Stored as text; links made as the client API makes them.
                value => TplValue::from_safe_string(accounts::field_value_html(
                    &crate::services::text::strip_html(&f.value),
                )),
            }
        })
        .collect();
    let posts: Vec<TplValue> = posts.iter().map(|p| post_context(&s, lang, p)).collect();
    let (avatar, initial) = avatar(&s, a);
    let is_org = a.actor_type == crate::domain::ActorType::Group;
    v.render(
        &s,
        StatusCode::OK,
        "profile.html",
        context! {
            id => a.id.to_string(),
            name => a.shown_name(),
            avatar => avatar,
            initial => initial,
            header => a.header_file.as_deref().map(|f| crate::services::media::url(&s.ctx, f)),
            acct => format!("{}@{}", a.username, s.ctx.config.server.domain),
            url => format!("{}/@{}", s.ctx.base_url(), a.username),
            about => excerpt(&a.note, 200),
            members => members,
            clubs => clubs.iter().map(|c| account_link(&s, c)).collect::<Vec<_>>(),
            recognised_by => recognised_by.iter().map(|c| account_link(&s, c)).collect::<Vec<_>>(),
            is_org => is_org,
            note => TplValue::from_safe_string(a.note.clone()),
            fields => fields,
            posts_count => view.stats.statuses,
            following => view.stats.following,
            followers => view.stats.followers,
            posts => posts,
            relationship => relationship.map(|r| context! {
                following => r.following,
                requested => r.requested,
            }),
            member => member,
            sign_in_url => format!(
                "/auth/sign_in?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", &v.here)
                    .finish()
            ),
        },
    )
}

/// `/@name/id`: one public or unlisted post.
async fn post_page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = lang_of(&headers, q.lang.as_deref(), None);
    let Ok(id) = id.parse::<i64>() else {
        return page_not_found(&s, lang, ServiceError::NotFound(String::new()));
    };
    match pages::post(&s.ctx, &name, id).await {
        Ok(v) => s.web.render(
            &s,
            StatusCode::OK,
            "status.html",
            lang,
            context! { post => post_context(&s, lang, &v) },
        ),
        Err(e) => page_not_found(&s, lang, e),
    }
}

#[derive(Deserialize, Default)]
pub struct FollowQuery {
    #[serde(default)]
    acct: String,
    lang: Option<String>,
}

/// `/@name/follow?acct=me@server`: sends a visitor to their own server to
/// follow `name` there.
async fn follow_from_elsewhere(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<FollowQuery>,
) -> Response {
    let lang = lang_of(&headers, q.lang.as_deref(), None);
    match pages::follow_from_elsewhere(&s.ctx, &q.acct, &name).await {
        Ok(url) => redirect(&url),
        Err(ServiceError::BadRequest(_)) => {
            let heading = s.web.i18n.t(lang, "page-error", &[]);
            let message = s.web.i18n.t(lang, "follow-elsewhere-invalid", &[]);
            s.web
                .message(&s, StatusCode::BAD_REQUEST, lang, heading, message)
        }
        Err(e) => page_not_found(&s, lang, e),
    }
}
