//! Pages for one's account: signing in (with a one-time code when two-factor
//! sign-in is on) and out, signing up through an org's invitation link, and
//! the security settings (two-factor sign-in, sessions).
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value as TplValue, context};
use serde::Deserialize;

use super::session::{SESSION_COOKIE, Visit};
use super::{cookie, oauth_error_page};
use crate::app::AppState;
use crate::config::RegistrationMode;
use crate::domain::ConsentPurpose;
use crate::services::memberships::{self, JoinRequest};
use crate::services::oidc::{self, Refusal, SsoError};
use crate::services::sessions::{self, SignIn};
use crate::services::{FieldError, ServiceError, accounts, credentials, two_factor};

/// Holds the single sign-on under way until the provider sends the browser back.
const OIDC_COOKIE: &str = "tsunagu_oidc";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/sign_in", get(sign_in_form).post(sign_in_submit))
        .route(
            "/auth/two_factor",
            get(two_factor_form).post(two_factor_submit),
        )
        .route("/auth/sign_out", post(sign_out))
        .route("/auth/sign_up", get(sign_up_form).post(sign_up_submit))
        .route("/auth/oidc", post(oidc_begin))
        .route("/auth/oidc/callback", get(oidc_callback))
        .route("/join/{code}", get(join_form).post(join_submit))
        .route("/orgs/{id}/join", get(request_form).post(request_submit))
        .route("/settings/security", get(security))
        .route("/settings/two_factor/begin", post(two_factor_begin))
        .route("/settings/two_factor/enable", post(two_factor_enable))
        .route("/settings/two_factor/disable", post(two_factor_disable))
        .route("/settings/sessions/{id}/revoke", post(revoke_session))
        .route("/settings/apps/{id}/revoke", post(revoke_app))
        .route("/settings/email", post(change_email))
        .route("/auth/password", get(forgot_form).post(forgot_submit))
        .route("/auth/reset", get(reset_form).post(reset_submit))
        .route(
            "/auth/confirm_email_change",
            get(confirm_email_change_form).post(confirm_email_change),
        )
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize, Default)]
pub struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    authenticity_token: String,
}

#[derive(Deserialize, Default)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    authenticity_token: String,
}

#[derive(Deserialize, Default)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    authenticity_token: String,
}

#[derive(Deserialize, Default)]
pub struct TokenForm {
    #[serde(default)]
    authenticity_token: String,
}

fn next_or_home(next: &str) -> String {
    if next.is_empty() {
        "/home".into()
    } else {
        super::session::local_path(next)
    }
}

/// A form's token did not match: the error at the top of its page.
fn csrf_error(s: &AppState, lang: &str) -> FieldError {
    FieldError {
        field: "form",
        code: "ERR_CSRF",
        description: s.web.i18n.t(lang, "error-csrf", &[]),
    }
}

/// A field's errors in the page's language: the words for known codes,
/// else the service's description.
fn field_errors(s: &AppState, lang: &str, errs: &[FieldError]) -> Vec<TplValue> {
    errs.iter()
        .map(|e| context! { field => e.field, text => super::field_error_text(s, lang, e) })
        .collect()
}

fn sign_in_page(
    s: &AppState,
    v: &Visit,
    status: StatusCode,
    login: &str,
    next: &str,
    error: Option<String>,
) -> Response {
    v.render(
        s,
        status,
        "sign_in.html",
        context! {
            nav => "sign_in", login => login, next => next, error => error,
            oidc_label => s.ctx.config.oidc.enabled().then_some(s.ctx.config.oidc.label.as_str()),
            sign_up => s.ctx.settings().registration_mode != RegistrationMode::Closed,
        },
    )
}

async fn sign_in_form(State(s): State<AppState>, v: Visit, Query(q): Query<NextQuery>) -> Response {
    if v.me.is_some() {
        return v.redirect(&next_or_home(&q.next));
    }
    sign_in_page(&s, &v, StatusCode::OK, "", &q.next, None)
}

fn rate_limited(s: &AppState, v: &Visit) -> bool {
    !s.limits.login.check(&v.device.ip).allowed
}

/// The new session's cookie, then `next` (or the one-time code's page first).
fn session_started(s: &AppState, v: &mut Visit, sign_in: SignIn, next: &str) -> Response {
    match sign_in {
        SignIn::Done { token } => {
            v.signed_in(s, &token);
            v.redirect(&next_or_home(next))
        }
        SignIn::SecondFactor { token } => {
            v.signed_in(s, &token);
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("next", next);
            v.redirect(&format!("/auth/two_factor?{}", q.finish()))
        }
    }
}

/// The sign-in page again when a sign-in form's token is wrong or the
/// address tried too often (it counts as an attempt).
fn sign_in_refused(s: &AppState, v: &Visit, f: &SignInForm, login: &str) -> Option<Response> {
    let (status, id) = if !v.csrf_ok(&f.authenticity_token) {
        (StatusCode::FORBIDDEN, "error-csrf")
    } else if rate_limited(s, v) {
        (StatusCode::TOO_MANY_REQUESTS, "error-rate-limited")
    } else {
        return None;
    };
    let msg = s.web.i18n.t(v.lang, id, &[]);
    Some(sign_in_page(s, v, status, login, &f.next, Some(msg)))
}

async fn sign_in_submit(
    State(s): State<AppState>,
    mut v: Visit,
    Form(f): Form<SignInForm>,
) -> Response {
    let t = |id: &str| s.web.i18n.t(v.lang, id, &[]);
    if let Some(refused) = sign_in_refused(&s, &v, &f, &f.login) {
        return refused;
    }
    // A new sign-in replaces whatever session this browser had.
    if let Some(old) = cookie(&v.headers, SESSION_COOKIE)
        && let Err(e) = sessions::sign_out(&s.ctx, &old).await
    {
        return oauth_error_page(&s, v.lang, e);
    }
    match sessions::sign_in(&s.ctx, &f.login, &f.password, &v.device).await {
        Ok(sign_in) => session_started(&s, &mut v, sign_in, &f.next),
        Err(ServiceError::Unauthorized(_)) => {
            let msg = t("error-credentials");
            sign_in_page(
                &s,
                &v,
                StatusCode::UNAUTHORIZED,
                &f.login,
                &f.next,
                Some(msg),
            )
        }
        Err(ServiceError::Forbidden(why)) => {
            sign_in_page(&s, &v, StatusCode::FORBIDDEN, &f.login, &f.next, Some(why))
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

/// Sends the browser to the single sign-on provider.
async fn oidc_begin(
    State(s): State<AppState>,
    mut v: Visit,
    Form(f): Form<SignInForm>,
) -> Response {
    if let Some(refused) = sign_in_refused(&s, &v, &f, "") {
        return refused;
    }
    match oidc::begin(&s.ctx, &f.next).await {
        Ok(started) => {
            let age = oidc::LOGIN_MINUTES * 60;
            v.set_cookie(&s, OIDC_COOKIE, &started.token, Some(age));
            v.redirect_away(&started.url)
        }
        Err(e) => oidc_refused(&s, &v, &f.next, e),
    }
}

#[derive(Deserialize, Default)]
pub struct OidcReturn {
    #[serde(default)]
    state: String,
    code: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

/// The provider sends the browser back here with a code (or an error).
async fn oidc_callback(
    State(s): State<AppState>,
    mut v: Visit,
    Query(q): Query<OidcReturn>,
) -> Response {
    let token = cookie(&v.headers, OIDC_COOKIE).unwrap_or_default();
    v.set_cookie(&s, OIDC_COOKIE, "", Some(0));
    if rate_limited(&s, &v) {
        let msg = s.web.i18n.t(v.lang, "error-rate-limited", &[]);
        return sign_in_page(&s, &v, StatusCode::TOO_MANY_REQUESTS, "", "", Some(msg));
    }
    let back = oidc::Returned {
        state: q.state,
        code: q.code,
        error: q.error,
        iss: q.iss,
    };
    let finished = match oidc::finish(&s.ctx, &token, back, &v.device).await {
        Ok(f) => f,
        Err(e) => return oidc_refused(&s, &v, "", e),
    };
    // A new sign-in replaces whatever session this browser had.
    if let Some(old) = cookie(&v.headers, SESSION_COOKIE)
        && let Err(e) = sessions::sign_out(&s.ctx, &old).await
    {
        return oauth_error_page(&s, v.lang, e);
    }
    session_started(&s, &mut v, finished.sign_in, &finished.next)
}

/// The sign-in page again, saying why single sign-on did not sign anyone in.
fn oidc_refused(s: &AppState, v: &Visit, next: &str, e: SsoError) -> Response {
    let (status, id) = match e {
        SsoError::Refused(r) => match r {
            Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "oidc-unavailable"),
            Refusal::Expired => (StatusCode::BAD_REQUEST, "oidc-expired"),
            Refusal::Cancelled => (StatusCode::UNAUTHORIZED, "oidc-cancelled"),
            Refusal::Failed => (StatusCode::BAD_GATEWAY, "oidc-failed"),
            Refusal::NoVerifiedEmail => (StatusCode::FORBIDDEN, "oidc-no-email"),
            Refusal::UnconfirmedAccount => (StatusCode::CONFLICT, "oidc-unconfirmed"),
            Refusal::CannotLink => (StatusCode::CONFLICT, "oidc-cannot-link"),
            Refusal::NoAccount => (StatusCode::FORBIDDEN, "oidc-no-account"),
        },
        SsoError::Service(ServiceError::Forbidden(why)) => {
            return sign_in_page(s, v, StatusCode::FORBIDDEN, "", next, Some(why));
        }
        SsoError::Service(e) => return oauth_error_page(s, v.lang, e),
    };
    let msg = s.web.i18n.t(v.lang, id, &[]);
    sign_in_page(s, v, status, "", next, Some(msg))
}

#[derive(Deserialize, Default)]
pub struct SignUpForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    invite_code: String,
    #[serde(default)]
    agreement: Option<String>,
    #[serde(default)]
    authenticity_token: String,
}

/// The sign-up page as `registrations.mode` has it: closed (only a word on
/// how to join), by invitation (a code), with approval (a reason), or open.
fn sign_up_page(
    s: &AppState,
    v: &Visit,
    status: StatusCode,
    f: &SignUpForm,
    errors: Vec<TplValue>,
) -> Response {
    let cfg = &s.ctx.config;
    v.render(
        s,
        status,
        "sign_up.html",
        context! {
            nav => "sign_in",
            mode => s.ctx.settings().registration_mode.as_str(),
            rules => s.ctx.settings().rules.clone(),
            min_password => cfg.registrations.min_password_length,
            oidc_label => cfg.oidc.enabled().then_some(cfg.oidc.label.as_str()),
            form => context! {
                username => f.username.clone(),
                email => f.email.clone(),
                reason => f.reason.clone(),
                invite_code => f.invite_code.clone(),
                agreement => f.agreement.is_some(),
            },
            errors => errors,
        },
    )
}

async fn sign_up_form(State(s): State<AppState>, v: Visit) -> Response {
    if v.me.is_some() {
        return v.redirect("/home");
    }
    sign_up_page(&s, &v, StatusCode::OK, &SignUpForm::default(), vec![])
}

async fn sign_up_submit(
    State(s): State<AppState>,
    mut v: Visit,
    Form(f): Form<SignUpForm>,
) -> Response {
    let refused = |v: &Visit, status, errs: &[FieldError]| {
        let errors = field_errors(&s, v.lang, errs);
        sign_up_page(&s, v, status, &f, errors)
    };
    if !v.csrf_ok(&f.authenticity_token) {
        let e = csrf_error(&s, v.lang);
        return refused(&v, StatusCode::FORBIDDEN, &[e]);
    }
    if !s.limits.registration.check(&v.device.ip).allowed {
        let msg = s.web.i18n.t(v.lang, "error-rate-limited", &[]);
        return v.message(&s, StatusCode::TOO_MANY_REQUESTS, "page-error", msg);
    }
    let some = |t: &str| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
    let reg = accounts::Registration {
        username: f.username.trim().to_owned(),
        email: f.email.trim().to_owned(),
        password: f.password.clone(),
        agreement: f.agreement.is_some(),
        locale: Some(v.lang.to_owned()),
        reason: some(&f.reason),
        invite_code: some(&f.invite_code),
    };
    let me = match accounts::register(&s.ctx, reg).await {
        Ok(me) => me,
        Err(ServiceError::Validation(errs)) => {
            return refused(&v, StatusCode::UNPROCESSABLE_ENTITY, &errs);
        }
        Err(ServiceError::Forbidden(why)) => {
            let e = FieldError {
                field: "form",
                code: "ERR_CLOSED",
                description: why,
            };
            return refused(&v, StatusCode::FORBIDDEN, &[e]);
        }
        Err(e) => return oauth_error_page(&s, v.lang, e),
    };
    let t = |id: &str, args: &[(&str, String)]| s.web.i18n.t(v.lang, id, args);
    if !me.user.approved {
        let msg = t("sign-up-pending", &[("email", me.user.email.clone())]);
        return v.message(&s, StatusCode::OK, "join-done-title", msg);
    }
    if accounts::login_refusal(&s.ctx, &me).is_some() {
        let msg = t("join-confirm-mail", &[("email", me.user.email.clone())]);
        return v.message(&s, StatusCode::OK, "join-done-title", msg);
    }
    match sessions::open(&s.ctx, &me, &v.device).await {
        Ok(token) => {
            v.signed_in(&s, &token);
            v.redirect("/home")
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

fn two_factor_page(
    s: &AppState,
    v: &Visit,
    status: StatusCode,
    next: &str,
    error: Option<String>,
) -> Response {
    v.render(
        s,
        status,
        "two_factor.html",
        context! { nav => "sign_in", next => next, error => error },
    )
}

async fn two_factor_form(
    State(s): State<AppState>,
    v: Visit,
    Query(q): Query<NextQuery>,
) -> Response {
    let token = cookie(&v.headers, SESSION_COOKIE).unwrap_or_default();
    match sessions::awaits_code(&s.ctx, &token).await {
        Ok(true) => two_factor_page(&s, &v, StatusCode::OK, &q.next, None),
        Ok(false) => v.redirect("/auth/sign_in"),
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

async fn two_factor_submit(
    State(s): State<AppState>,
    mut v: Visit,
    Form(f): Form<CodeForm>,
) -> Response {
    let t = |id: &str| s.web.i18n.t(v.lang, id, &[]);
    if !v.csrf_ok(&f.authenticity_token) {
        let msg = t("error-csrf");
        return two_factor_page(&s, &v, StatusCode::FORBIDDEN, &f.next, Some(msg));
    }
    if rate_limited(&s, &v) {
        let msg = t("error-rate-limited");
        return two_factor_page(&s, &v, StatusCode::TOO_MANY_REQUESTS, &f.next, Some(msg));
    }
    let token = cookie(&v.headers, SESSION_COOKIE).unwrap_or_default();
    match sessions::second_factor(&s.ctx, &token, &f.code, &v.device).await {
        Ok((token, _)) => {
            v.signed_in(&s, &token);
            v.redirect(&next_or_home(&f.next))
        }
        Err(ServiceError::RateLimited) => {
            let msg = s.web.i18n.t(v.lang, "error-code-locked", &[]);
            v.signed_out(&s);
            v.message(&s, StatusCode::TOO_MANY_REQUESTS, "page-error", msg)
        }
        Err(ServiceError::Unauthorized(_))
            if !matches!(sessions::awaits_code(&s.ctx, &token).await, Ok(true)) =>
        {
            v.redirect("/auth/sign_in")
        }
        Err(ServiceError::Unauthorized(_)) => {
            let msg = t("error-code");
            two_factor_page(&s, &v, StatusCode::UNAUTHORIZED, &f.next, Some(msg))
        }
        Err(ServiceError::Forbidden(why)) => {
            two_factor_page(&s, &v, StatusCode::FORBIDDEN, &f.next, Some(why))
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

async fn sign_out(State(s): State<AppState>, mut v: Visit, Form(f): Form<TokenForm>) -> Response {
    if !v.csrf_ok(&f.authenticity_token) {
        let msg = s.web.i18n.t(v.lang, "error-csrf", &[]);
        return v.message(&s, StatusCode::FORBIDDEN, "page-error", msg);
    }
    if let Some(token) = cookie(&v.headers, SESSION_COOKIE)
        && let Err(e) = sessions::sign_out(&s.ctx, &token).await
    {
        return oauth_error_page(&s, v.lang, e);
    }
    v.signed_out(&s);
    v.redirect("/")
}

// ---- Sign-up through an org's invitation -----------------------------------

#[derive(Deserialize, Default)]
pub struct JoinForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    /// Claimed when asking without an invitation (an invitation sets it).
    #[serde(default)]
    role: String,
    #[serde(default)]
    tenure_from: String,
    #[serde(default)]
    tenure_to: String,
    #[serde(default)]
    division: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    agreement: Option<String>,
    #[serde(default)]
    consent_directory: Option<String>,
    #[serde(default)]
    consent_share_profile: Option<String>,
    #[serde(default)]
    consent_comeback_contact: Option<String>,
    #[serde(default)]
    consent_newsletters: Option<String>,
    #[serde(default)]
    authenticity_token: String,
}

impl JoinForm {
    fn consents(&self) -> Vec<(String, bool)> {
        [
            (ConsentPurpose::Directory, &self.consent_directory),
            (ConsentPurpose::ShareProfile, &self.consent_share_profile),
            (
                ConsentPurpose::ComebackContact,
                &self.consent_comeback_contact,
            ),
            (ConsentPurpose::Newsletters, &self.consent_newsletters),
        ]
        .into_iter()
        .map(|(p, v)| (p.as_str().to_owned(), v.is_some()))
        .collect()
    }

    /// The membership claim; `code` is the invitation's, if any.
    fn request(&self, code: &str) -> JoinRequest {
        let some = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        JoinRequest {
            role: some(&self.role).filter(|_| code.is_empty()),
            tenure_from: some(&self.tenure_from),
            tenure_to: some(&self.tenure_to),
            divisions: some(&self.division).into_iter().collect(),
            message: some(&self.message),
            invite_code: some(code),
            consents: self.consents(),
            wording_version: None,
        }
    }
}

/// What a join form is for: an invitation (its code and role), or a
/// request from the org's page (the person claims a role).
enum Joining<'a> {
    Invited(&'a memberships::InvitePreview, &'a str),
    Asking(&'a crate::db::models::Account),
}

fn join_page(
    s: &AppState,
    v: &Visit,
    status: StatusCode,
    joining: Joining<'_>,
    f: &JoinForm,
    errors: Vec<TplValue>,
) -> Response {
    let (org, action, role) = match joining {
        Joining::Invited(p, code) => (&p.org, format!("/join/{code}"), Some(p.role)),
        Joining::Asking(org) => (org, format!("/orgs/{}/join", org.id), None),
    };
    let (avatar, initial) = super::avatar(s, org);
    let role_text =
        |r: crate::domain::Role| s.web.i18n.t(v.lang, &format!("role-{}", r.as_str()), &[]);
    let roles: Vec<TplValue> = [crate::domain::Role::Alumnus, crate::domain::Role::Employee]
        .iter()
        .map(|r| {
            context! {
                value => r.as_str(),
                label => s.web.i18n.t(v.lang, &format!("role-choice-{}", r.as_str()), &[]),
                selected => f.role == r.as_str(),
            }
        })
        .collect();
    v.render(
        s,
        status,
        "join.html",
        context! {
            org => context! {
                name => org.shown_name(),
                acct => format!(
                    "{}@{}",
                    org.username,
                    org.domain.as_deref().unwrap_or(&s.ctx.config.server.domain)
                ),
                about => super::excerpt(&org.note, 300),
                avatar => avatar,
                initial => initial,
            },
            role => role.map(role_text),
            roles => roles,
            action => action,
            min_password => s.ctx.config.registrations.min_password_length,
            form => context! {
                username => f.username.clone(),
                email => f.email.clone(),
                tenure_from => f.tenure_from.clone(),
                tenure_to => f.tenure_to.clone(),
                division => f.division.clone(),
                message => f.message.clone(),
                agreement => f.agreement.is_some(),
                consent_directory => f.consent_directory.is_some(),
                consent_share_profile => f.consent_share_profile.is_some(),
                consent_comeback_contact => f.consent_comeback_contact.is_some(),
                consent_newsletters => f.consent_newsletters.is_some(),
            },
            errors => errors,
        },
    )
}

fn invite_gone(s: &AppState, v: &Visit, e: ServiceError) -> Response {
    match e {
        ServiceError::NotFound(_) => {
            let msg = s.web.i18n.t(v.lang, "join-invalid", &[]);
            v.message(s, StatusCode::NOT_FOUND, "page-error", msg)
        }
        other => oauth_error_page(s, v.lang, other),
    }
}

async fn join_form(State(s): State<AppState>, v: Visit, Path(code): Path<String>) -> Response {
    match memberships::invite_preview(&s.ctx, &code).await {
        Ok(p) => join_page(
            &s,
            &v,
            StatusCode::OK,
            Joining::Invited(&p, &code),
            &JoinForm::default(),
            vec![],
        ),
        Err(e) => invite_gone(&s, &v, e),
    }
}

/// Asking to join an org from its page, with the same claim as an
/// invitation's form (role, years, division, message, consents).
async fn request_form(State(s): State<AppState>, v: Visit, Path(id): Path<i64>) -> Response {
    if let Err(r) = super::member::member_or_redirect(&s, &v).await {
        return r;
    }
    match memberships::joinable(&s.ctx, id).await {
        Ok(org) => join_page(
            &s,
            &v,
            StatusCode::OK,
            Joining::Asking(&org),
            &JoinForm::default(),
            vec![],
        ),
        Err(e) => super::page_not_found(&s, v.lang, e),
    }
}

async fn request_submit(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Form(f): Form<JoinForm>,
) -> Response {
    let me = match super::member::member_or_redirect(&s, &v).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let org = match memberships::joinable(&s.ctx, id).await {
        Ok(org) => org,
        Err(e) => return super::page_not_found(&s, v.lang, e),
    };
    let refused = |status, errs: &[FieldError]| {
        let errors = field_errors(&s, v.lang, errs);
        join_page(&s, &v, status, Joining::Asking(&org), &f, errors)
    };
    if !v.csrf_ok(&f.authenticity_token) {
        let e = csrf_error(&s, v.lang);
        return refused(StatusCode::FORBIDDEN, &[e]);
    }
    match memberships::request(&s.ctx, me, id, f.request("")).await {
        Ok(_) => v.redirect(&format!("/@{}?done=requested", org_path(&s, &org))),
        Err(ServiceError::Validation(errs)) => refused(StatusCode::UNPROCESSABLE_ENTITY, &errs),
        Err(ServiceError::Forbidden(why)) => {
            v.message(&s, StatusCode::FORBIDDEN, "page-error", why)
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

/// The org's page name: `name` here, `name@server` for one elsewhere.
fn org_path(s: &AppState, org: &crate::db::models::Account) -> String {
    match org.domain.as_deref() {
        Some(d) if d != s.ctx.config.server.domain => format!("{}@{d}", org.username),
        _ => org.username.clone(),
    }
}

async fn join_submit(
    State(s): State<AppState>,
    mut v: Visit,
    Path(code): Path<String>,
    Form(f): Form<JoinForm>,
) -> Response {
    let preview = match memberships::invite_preview(&s.ctx, &code).await {
        Ok(p) => p,
        Err(e) => return invite_gone(&s, &v, e),
    };
    if !v.csrf_ok(&f.authenticity_token) {
        let e = csrf_error(&s, v.lang);
        let errors = field_errors(&s, v.lang, &[e]);
        return join_page(
            &s,
            &v,
            StatusCode::FORBIDDEN,
            Joining::Invited(&preview, &code),
            &f,
            errors,
        );
    }
    // Signed in already: only the membership request.
    if let Some(current) = &v.me {
        return match memberships::request(&s.ctx, &current.me, preview.org.id, f.request(&code))
            .await
        {
            Ok(_) => v.redirect("/home?joined=1"),
            Err(ServiceError::Validation(errs)) => {
                let errors = field_errors(&s, v.lang, &errs);
                join_page(
                    &s,
                    &v,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Joining::Invited(&preview, &code),
                    &f,
                    errors,
                )
            }
            Err(e) => oauth_error_page(&s, v.lang, e),
        };
    }
    if !s.limits.registration.check(&v.device.ip).allowed {
        let msg = s.web.i18n.t(v.lang, "error-rate-limited", &[]);
        return v.message(&s, StatusCode::TOO_MANY_REQUESTS, "page-error", msg);
    }
    let reg = accounts::Registration {
        username: f.username.trim().to_owned(),
        email: f.email.trim().to_owned(),
        password: f.password.clone(),
        agreement: f.agreement.is_some(),
        locale: Some(v.lang.to_owned()),
        reason: None,
        invite_code: None,
    };
    match memberships::sign_up_with_invite(&s.ctx, reg, f.request(&code)).await {
        Ok((me, _)) => {
            // Where the address must be proven first, the mail says what to do.
            if accounts::login_refusal(&s.ctx, &me).is_some() {
                let msg = s.web.i18n.t(
                    v.lang,
                    "join-confirm-mail",
                    &[("email", me.user.email.clone())],
                );
                return v.message(&s, StatusCode::OK, "join-done-title", msg);
            }
            match sessions::open(&s.ctx, &me, &v.device).await {
                Ok(token) => {
                    v.signed_in(&s, &token);
                    v.redirect("/home?joined=1")
                }
                Err(e) => oauth_error_page(&s, v.lang, e),
            }
        }
        Err(ServiceError::Validation(errs)) => {
            let errors = field_errors(&s, v.lang, &errs);
            join_page(
                &s,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                Joining::Invited(&preview, &code),
                &f,
                errors,
            )
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

// ---- Security settings ------------------------------------------------------

fn device_rows(v: &Visit, list: &[crate::db::models::WebSession]) -> Vec<TplValue> {
    let current = v.me.as_ref().map(|c| c.session.id);
    list.iter()
        .map(|w| {
            context! {
                id => w.id.to_string(),
                user_agent => w.user_agent.clone(),
                ip => w.ip.clone(),
                created => super::date_text(v.lang, w.created_at.and_utc()),
                last_used => super::date_text(v.lang, w.last_used_at.and_utc()),
                current => Some(w.id) == current,
            }
        })
        .collect()
}

async fn security_page(
    s: &AppState,
    v: &Visit,
    status: StatusCode,
    recovery_codes: Vec<String>,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let current = match v.member() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let me = &current.me;
    let loaded = async {
        let state = two_factor::status(&s.ctx, me).await?;
        let setup = if state.enabled {
            None
        } else {
            two_factor::pending(&s.ctx, me).await?
        };
        let required = two_factor::required(&s.ctx, me).await?;
        let list = sessions::list(&s.ctx, me).await?;
        let apps = credentials::authorised_apps(&s.ctx, me).await?;
        let linked = oidc::identities(&s.ctx, me).await?;
        Ok::<_, ServiceError>((state, setup, required, list, apps, linked))
    }
    .await;
    let (state, setup, required, list, apps, linked) = match loaded {
        Ok(x) => x,
        Err(e) => return oauth_error_page(s, v.lang, e),
    };
    v.render(
        s,
        status,
        "security.html",
        context! {
            nav => "settings",
            enabled => state.enabled,
            recovery_left => state.recovery_codes_left,
            required => required,
            setup => setup.map(|x| context! {
                secret => x.secret,
                uri => x.uri,
                qr => TplValue::from_safe_string(x.qr_svg),
            }),
            recovery_codes => recovery_codes.iter().map(|c| two_factor::shown(c)).collect::<Vec<_>>(),
            sessions => device_rows(v, &list),
            email => me.user.email.clone(),
            apps => apps.iter().map(|(t, a)| context! {
                id => t.id.to_string(),
                name => a.name.clone(),
                scopes => t.scopes.clone(),
                created => super::date_text(v.lang, t.created_at.and_utc()),
                last_used => t.last_used_at.map(|u| super::date_text(v.lang, u.and_utc())),
            }).collect::<Vec<_>>(),
            linked => linked.iter().map(|i| context! {
                email => i.email.clone(),
                last_used => super::date_text(v.lang, i.last_used_at.and_utc()),
            }).collect::<Vec<_>>(),
            error => error,
            notice => notice,
        },
    )
}

async fn security(State(s): State<AppState>, v: Visit) -> Response {
    security_page(&s, &v, StatusCode::OK, vec![], None, None).await
}

/// The signed-in person after a checked form, or the page to show instead.
async fn checked<'v>(
    s: &AppState,
    v: &'v Visit,
    token: &str,
) -> Result<&'v sessions::Current, Response> {
    let current = v.member()?;
    if !v.csrf_ok(token) {
        let msg = s.web.i18n.t(v.lang, "error-csrf", &[]);
        return Err(security_page(s, v, StatusCode::FORBIDDEN, vec![], Some(msg), None).await);
    }
    Ok(current)
}

async fn two_factor_begin(
    State(s): State<AppState>,
    v: Visit,
    Form(f): Form<PasswordForm>,
) -> Response {
    let current = match checked(&s, &v, &f.authenticity_token).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match two_factor::begin(&s.ctx, &current.me, &f.password).await {
        Ok(_) => v.redirect("/settings/security#two-factor"),
        Err(ServiceError::Validation(_)) => v.redirect("/settings/security"),
        Err(ServiceError::Unauthorized(_)) => {
            let msg = s.web.i18n.t(v.lang, "error-password", &[]);
            security_page(&s, &v, StatusCode::UNAUTHORIZED, vec![], Some(msg), None).await
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

async fn two_factor_enable(
    State(s): State<AppState>,
    v: Visit,
    Form(f): Form<CodeForm>,
) -> Response {
    let current = match checked(&s, &v, &f.authenticity_token).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match two_factor::enable(&s.ctx, &current.me, f.code.trim()).await {
        Ok(codes) => {
            // A stolen session must not outlive the change.
            if let Err(e) = sessions::revoke_others(&s.ctx, current).await {
                return oauth_error_page(&s, v.lang, e);
            }
            let notice = s.web.i18n.t(v.lang, "two-factor-enabled", &[]);
            security_page(&s, &v, StatusCode::OK, codes, None, Some(notice)).await
        }
        Err(ServiceError::Validation(_)) => {
            let msg = s.web.i18n.t(v.lang, "error-code", &[]);
            security_page(
                &s,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![],
                Some(msg),
                None,
            )
            .await
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

async fn two_factor_disable(
    State(s): State<AppState>,
    v: Visit,
    Form(f): Form<CodeForm>,
) -> Response {
    let current = match checked(&s, &v, &f.authenticity_token).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match two_factor::disable(&s.ctx, &current.me, &f.code).await {
        Ok(()) => {
            let notice = s.web.i18n.t(v.lang, "two-factor-disabled", &[]);
            security_page(&s, &v, StatusCode::OK, vec![], None, Some(notice)).await
        }
        Err(ServiceError::RateLimited) => {
            let msg = s.web.i18n.t(v.lang, "error-code-locked", &[]);
            security_page(
                &s,
                &v,
                StatusCode::TOO_MANY_REQUESTS,
                vec![],
                Some(msg),
                None,
            )
            .await
        }
        Err(ServiceError::Validation(_)) => {
            let msg = s.web.i18n.t(v.lang, "error-code", &[]);
            security_page(
                &s,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![],
                Some(msg),
                None,
            )
            .await
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

async fn revoke_session(
    State(s): State<AppState>,
    mut v: Visit,
    Path(id): Path<i64>,
    Form(f): Form<TokenForm>,
) -> Response {
    let current = match checked(&s, &v, &f.authenticity_token).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let own = id == current.session.id;
    match sessions::revoke(&s.ctx, &current.me, id).await {
        Ok(()) if own => {
            v.signed_out(&s);
            v.redirect("/")
        }
        Ok(()) => {
            let notice = s.web.i18n.t(v.lang, "session-revoked", &[]);
            security_page(&s, &v, StatusCode::OK, vec![], None, Some(notice)).await
        }
        Err(e) => super::page_not_found(&s, v.lang, e),
    }
}

async fn revoke_app(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Form(f): Form<TokenForm>,
) -> Response {
    let current = match checked(&s, &v, &f.authenticity_token).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match credentials::revoke_app(&s.ctx, &current.me, id).await {
        Ok(()) => {
            let notice = s.web.i18n.t(v.lang, "app-revoked", &[]);
            security_page(&s, &v, StatusCode::OK, vec![], None, Some(notice)).await
        }
        Err(e) => super::page_not_found(&s, v.lang, e),
    }
}

#[derive(Deserialize, Default)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    authenticity_token: String,
}

async fn change_email(State(s): State<AppState>, v: Visit, Form(f): Form<EmailForm>) -> Response {
    let current = match checked(&s, &v, &f.authenticity_token).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if rate_limited(&s, &v) {
        let msg = s.web.i18n.t(v.lang, "error-rate-limited", &[]);
        return security_page(
            &s,
            &v,
            StatusCode::TOO_MANY_REQUESTS,
            vec![],
            Some(msg),
            None,
        )
        .await;
    }
    let t = |id: &str, args: &[(&str, String)]| s.web.i18n.t(v.lang, id, args);
    let (status, error, notice) =
        match credentials::request_email_change(&s.ctx, &current.me, &f.email, &f.password).await {
            Ok(()) => (
                StatusCode::OK,
                None,
                Some(t(
                    "email-change-sent",
                    &[("email", f.email.trim().to_owned())],
                )),
            ),
            Err(ServiceError::Unauthorized(_)) => (
                StatusCode::UNAUTHORIZED,
                Some(t("error-password", &[])),
                None,
            ),
            Err(ServiceError::Validation(errs)) => {
                let text = super::validation_text(&s, v.lang, &errs);
                (StatusCode::UNPROCESSABLE_ENTITY, Some(text), None)
            }
            Err(ServiceError::Forbidden(why)) => (StatusCode::FORBIDDEN, Some(why), None),
            Err(e) => return oauth_error_page(&s, v.lang, e),
        };
    security_page(&s, &v, status, vec![], error, notice).await
}

#[derive(Deserialize, Default)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    authenticity_token: String,
}

async fn forgot_form(State(s): State<AppState>, v: Visit) -> Response {
    v.render(
        &s,
        StatusCode::OK,
        "password.html",
        context! { nav => "sign_in" },
    )
}

/// The same answer whether or not the address has an account.
async fn forgot_submit(State(s): State<AppState>, v: Visit, Form(f): Form<ForgotForm>) -> Response {
    if !v.csrf_ok(&f.authenticity_token) {
        let msg = s.web.i18n.t(v.lang, "error-csrf", &[]);
        return v.message(&s, StatusCode::FORBIDDEN, "page-error", msg);
    }
    if rate_limited(&s, &v) {
        let msg = s.web.i18n.t(v.lang, "error-rate-limited", &[]);
        return v.message(&s, StatusCode::TOO_MANY_REQUESTS, "page-error", msg);
    }
    match credentials::request_password_reset(&s.ctx, &f.email).await {
        Ok(()) => {
            let msg = s.web.i18n.t(v.lang, "password-reset-sent", &[]);
            v.message(&s, StatusCode::OK, "password-title", msg)
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

#[derive(Deserialize, Default)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    authenticity_token: String,
}

fn link_invalid(s: &AppState, v: &Visit) -> Response {
    let msg = s.web.i18n.t(v.lang, "link-invalid", &[]);
    v.message(s, StatusCode::NOT_FOUND, "page-error", msg)
}

fn reset_page(
    s: &AppState,
    v: &Visit,
    status: StatusCode,
    token: &str,
    error: Option<String>,
) -> Response {
    v.render(
        s,
        status,
        "reset.html",
        context! {
            nav => "sign_in",
            token => token,
            error => error,
            min_password => s.ctx.config.registrations.min_password_length,
        },
    )
}

async fn reset_form(State(s): State<AppState>, v: Visit, Query(f): Query<ResetForm>) -> Response {
    match credentials::reset_link_valid(&s.ctx, &f.token).await {
        Ok(true) => reset_page(&s, &v, StatusCode::OK, &f.token, None),
        Ok(false) => link_invalid(&s, &v),
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

async fn reset_submit(
    State(s): State<AppState>,
    mut v: Visit,
    Form(f): Form<ResetForm>,
) -> Response {
    if !v.csrf_ok(&f.authenticity_token) {
        let msg = s.web.i18n.t(v.lang, "error-csrf", &[]);
        return reset_page(&s, &v, StatusCode::FORBIDDEN, &f.token, Some(msg));
    }
    if rate_limited(&s, &v) {
        let msg = s.web.i18n.t(v.lang, "error-rate-limited", &[]);
        return reset_page(&s, &v, StatusCode::TOO_MANY_REQUESTS, &f.token, Some(msg));
    }
    match credentials::reset_password(&s.ctx, &f.token, &f.password).await {
        Ok(_) => {
            v.signed_out(&s);
            let msg = s.web.i18n.t(v.lang, "password-reset-done", &[]);
            v.message(&s, StatusCode::OK, "password-title", msg)
        }
        Err(ServiceError::Validation(errs)) => {
            let text = super::validation_text(&s, v.lang, &errs);
            reset_page(
                &s,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                &f.token,
                Some(text),
            )
        }
        Err(ServiceError::NotFound(_)) => link_invalid(&s, &v),
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

#[derive(Deserialize, Default)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    authenticity_token: String,
}

fn link_refused(s: &AppState, v: &Visit, e: ServiceError) -> Response {
    match e {
        ServiceError::NotFound(_) => link_invalid(s, v),
        ServiceError::Forbidden(_) => {
            let msg = s.web.i18n.t(v.lang, "error-not-your-link", &[]);
            v.message(s, StatusCode::FORBIDDEN, "page-error", msg)
        }
        ServiceError::Validation(_) => {
            let msg = s.web.i18n.t(v.lang, "email-taken", &[]);
            v.message(s, StatusCode::CONFLICT, "page-error", msg)
        }
        e => oauth_error_page(s, v.lang, e),
    }
}

/// The link in the mail to the new address: signed in as the account that
/// asked, a page with a button (a scanner fetching the link changes nothing).
async fn confirm_email_change_form(
    State(s): State<AppState>,
    v: Visit,
    Query(q): Query<LinkQuery>,
) -> Response {
    let current = match v.member() {
        Ok(c) => c,
        Err(r) => return r,
    };
    match credentials::email_change_of(&s.ctx, &current.me, &q.token).await {
        Ok(email) => {
            let text = s.web.i18n.t(
                v.lang,
                "email-confirm-ask",
                &[
                    ("username", current.me.account.username.clone()),
                    ("email", email),
                ],
            );
            v.render(
                &s,
                StatusCode::OK,
                "confirm_link.html",
                context! {
                    heading => s.web.i18n.t(v.lang, "email-title", &[]),
                    text => text,
                    button => s.web.i18n.t(v.lang, "email-confirm-button", &[]),
                    action => "/auth/confirm_email_change",
                    token => q.token,
                },
            )
        }
        Err(e) => link_refused(&s, &v, e),
    }
}

async fn confirm_email_change(
    State(s): State<AppState>,
    v: Visit,
    Form(f): Form<LinkQuery>,
) -> Response {
    let current = match checked(&s, &v, &f.authenticity_token).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match credentials::confirm_email_change(&s.ctx, &current.me, &f.token).await {
        Ok(me) => {
            let msg = s
                .web
                .i18n
                .t(v.lang, "email-changed", &[("email", me.user.email.clone())]);
            v.message(&s, StatusCode::OK, "email-title", msg)
        }
        Err(e) => link_refused(&s, &v, e),
    }
}
