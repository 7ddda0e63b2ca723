//! The instance admin's pages: reports (with the reported posts; resolve,
//! silence or suspend), accounts waiting for approval, domain blocks and the
//! allow-list, the federation queue, and the instance settings. Each page
//! calls the same service as the admin API and the CLI.
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value as TplValue, context};
use serde::Deserialize;

use super::member::member_or_redirect;
use super::session::Visit;
use super::{date_text, post_context};
use crate::app::AppState;
use crate::db::models::LocalUser;
use crate::domain::{AccountAction, DomainBlockSeverity, FederationAccess, RegistrationMode};
use crate::services::moderation::{self, Moderated, NewDomainBlock, SettingsChange};
use crate::services::{ServiceError, accounts, instance};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(reports))
        .route("/admin/reports/{id}", get(report))
        .route("/admin/reports/{id}/{action}", post(report_action))
        .route("/admin/accounts", get(pending))
        .route("/admin/accounts/{id}/{decision}", post(decide))
        .route("/admin/domains", get(domains).post(block))
        .route("/admin/domains/{id}/unblock", post(unblock))
        .route("/admin/allows", post(allow))
        .route("/admin/allows/{id}/remove", post(disallow))
        .route("/admin/federation", get(federation))
        .route("/admin/settings", get(settings).post(save_settings))
}

fn failed(s: &AppState, v: &Visit, e: ServiceError) -> Response {
    super::refused_page(s, v, e, "admin-forbidden")
}

/// The signed-in administrator, or the page to show instead.
async fn admin<'v>(s: &AppState, v: &'v Visit) -> Result<&'v LocalUser, Response> {
    let me = member_or_redirect(s, v).await?;
    if me.user.is_admin {
        Ok(me)
    } else {
        Err(failed(s, v, ServiceError::Forbidden(String::new())))
    }
}

/// The administrator behind a submitted form whose CSRF token matches.
async fn admin_form<'v>(
    s: &AppState,
    v: &'v Visit,
    token: &str,
) -> Result<&'v LocalUser, Response> {
    let me = admin(s, v).await?;
    if v.csrf_ok(token) {
        Ok(me)
    } else {
        let msg = s.web.i18n.t(v.lang, "error-csrf", &[]);
        Err(v.message(s, StatusCode::FORBIDDEN, "page-error", msg))
    }
}

fn when(lang: &str, t: &chrono::NaiveDateTime) -> String {
    date_text(lang, t.and_utc())
}

fn person(m: &Moderated) -> TplValue {
    let a = &m.view.account;
    context! {
        id => a.id.to_string(),
        name => a.shown_name(),
        acct => match &a.domain {
            Some(d) => format!("@{}@{d}", a.username),
            None => format!("@{}", a.username),
        },
        local => a.local,
        suspended => a.suspended,
        silenced => m.silenced,
    }
}

#[derive(Deserialize, Default)]
pub struct ReportsQuery {
    #[serde(default)]
    resolved: Option<String>,
}

async fn reports(State(s): State<AppState>, v: Visit, Query(q): Query<ReportsQuery>) -> Response {
    let me = match admin(&s, &v).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let resolved = q.resolved.as_deref() == Some("1");
    let list = match moderation::admin_reports(&s.ctx, me, resolved).await {
        Ok(l) => l,
        Err(e) => return failed(&s, &v, e),
    };
    let reports: Vec<TplValue> = list
        .iter()
        .map(|r| {
            context! {
                id => r.detail.report.id.to_string(),
                target => person(&r.target),
                reporter => person(&r.reporter),
                category => r.detail.report.category.as_str(),
                comment => r.detail.report.comment.clone(),
                posts => r.statuses.len(),
                created => when(v.lang, &r.detail.report.created_at),
            }
        })
        .collect();
    v.render(
        &s,
        StatusCode::OK,
        "admin_reports.html",
        context! { nav => "admin", tab => "reports", reports, resolved },
    )
}

async fn report(State(s): State<AppState>, v: Visit, Path(id): Path<i64>) -> Response {
    let me = match admin(&s, &v).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let r = match moderation::admin_report(&s.ctx, me, id).await {
        Ok(r) => r,
        Err(e) => return failed(&s, &v, e),
    };
    let rep = &r.detail.report;
    let rules: Vec<String> = serde_json::from_str::<Vec<String>>(&rep.rule_ids)
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.parse::<usize>().ok())
        .filter_map(|i| s.ctx.settings().rules.get(i.wrapping_sub(1)).cloned())
        .collect();
    let posts: Vec<TplValue> = r
        .statuses
        .iter()
        .map(|p| post_context(&s, v.lang, p))
        .collect();
    let report = context! {
        id => rep.id.to_string(),
        target => person(&r.target),
        reporter => person(&r.reporter),
        category => rep.category.as_str(),
        comment => rep.comment.clone(),
        forwarded => rep.forwarded,
        remote => rep.uri.is_some(),
        rules,
        created => when(v.lang, &rep.created_at),
        resolved => rep.action_taken_at.as_ref().map(|t| when(v.lang, t)),
        resolved_by => r.action_taken_by.as_ref().map(person),
    };
    v.render(
        &s,
        StatusCode::OK,
        "admin_report.html",
        context! { nav => "admin", tab => "reports", report, posts },
    )
}

#[derive(Deserialize, Default)]
pub struct TokenForm {
    #[serde(default)]
    authenticity_token: String,
}

/// resolve, reopen, or silence / suspend the reported account (which resolves it).
async fn report_action(
    State(s): State<AppState>,
    v: Visit,
    Path((id, action)): Path<(i64, String)>,
    Form(f): Form<TokenForm>,
) -> Response {
    let me = match admin_form(&s, &v, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let result = match action.as_str() {
        "resolve" => moderation::resolve_report(&s.ctx, Some(me), id).await,
        "reopen" => moderation::reopen_report(&s.ctx, Some(me), id).await,
        other => match AccountAction::parse(other).filter(|a| *a != AccountAction::None) {
            Some(action) => match moderation::report(&s.ctx, id).await {
                Ok(r) => moderation::act(&s.ctx, Some(me), r.target.id, action, Some(id)).await,
                Err(e) => Err(e),
            },
            None => Err(ServiceError::not_found()),
        },
    };
    let done = match action.as_str() {
        "reopen" => "reopened",
        "silence" => "silenced",
        "suspend" => "suspended",
        _ => "resolved",
    };
    match result {
        Ok(()) => v.redirect(&format!("/admin/reports/{id}?done={done}")),
        Err(e) => failed(&s, &v, e),
    }
}

async fn pending(State(s): State<AppState>, v: Visit) -> Response {
    if let Err(r) = admin(&s, &v).await {
        return r;
    }
    let list = match accounts::pending_for_admin(&s.ctx).await {
        Ok(l) => l,
        Err(e) => return failed(&s, &v, e),
    };
    let people: Vec<TplValue> = list
        .iter()
        .map(|p| {
            context! {
                id => p.me.account.id.to_string(),
                username => p.me.account.username.clone(),
                email => p.me.user.email.clone(),
                reason => p.me.user.registration_reason.clone(),
                created => when(v.lang, &p.me.account.created_at),
            }
        })
        .collect();
    v.render(
        &s,
        StatusCode::OK,
        "admin_accounts.html",
        context! {
            nav => "admin",
            tab => "accounts",
            people,
            mode => s.ctx.settings().registration_mode.as_str(),
        },
    )
}

async fn decide(
    State(s): State<AppState>,
    v: Visit,
    Path((id, decision)): Path<(i64, String)>,
    Form(f): Form<TokenForm>,
) -> Response {
    if let Err(r) = admin_form(&s, &v, &f.authenticity_token).await {
        return r;
    }
    let result = match decision.as_str() {
        "approve" => accounts::approve(&s.ctx, id).await.map(drop),
        "reject" => accounts::reject_pending(&s.ctx, id).await,
        _ => Err(ServiceError::not_found()),
    };
    let done = if decision == "approve" {
        "account-approved"
    } else {
        "account-rejected"
    };
    match result {
        Ok(()) => v.redirect(&format!("/admin/accounts?done={done}")),
        Err(e) => failed(&s, &v, e),
    }
}

async fn domains(State(s): State<AppState>, v: Visit) -> Response {
    if let Err(r) = admin(&s, &v).await {
        return r;
    }
    let (blocks, allows) = match moderation::domain_lists(&s.ctx).await {
        Ok(found) => found,
        Err(e) => return failed(&s, &v, e),
    };
    let blocks: Vec<TplValue> = blocks
        .iter()
        .map(|b| {
            context! {
                id => b.id.to_string(),
                domain => b.domain.clone(),
                severity => b.severity.as_str(),
                public_comment => b.public_comment.clone(),
                private_comment => b.private_comment.clone(),
                created => when(v.lang, &b.created_at),
            }
        })
        .collect();
    let allows: Vec<TplValue> = allows
        .iter()
        .map(|a| context! { id => a.id.to_string(), domain => a.domain.clone() })
        .collect();
    let access = s.ctx.settings().domains.access.as_str();
    v.render(
        &s,
        StatusCode::OK,
        "admin_domains.html",
        context! { nav => "admin", tab => "domains", blocks, allows, access },
    )
}

#[derive(Deserialize, Default)]
pub struct BlockForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    public_comment: String,
    #[serde(default)]
    private_comment: String,
}

async fn block(State(s): State<AppState>, v: Visit, Form(f): Form<BlockForm>) -> Response {
    let me = match admin_form(&s, &v, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let Some(severity) = DomainBlockSeverity::parse(&f.severity) else {
        return failed(
            &s,
            &v,
            ServiceError::invalid("severity", "ERR_INVALID", "is not a severity"),
        );
    };
    let new = NewDomainBlock {
        update: false,
        domain: f.domain,
        severity,
        public_comment: f.public_comment,
        private_comment: f.private_comment,
    };
    match moderation::block_domain(&s.ctx, Some(me), new).await {
        Ok(_) => v.redirect("/admin/domains?done=blocked"),
        Err(e) => failed(&s, &v, e),
    }
}

async fn unblock(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Form(f): Form<TokenForm>,
) -> Response {
    let me = match admin_form(&s, &v, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    match moderation::unblock_domain(&s.ctx, Some(me), id).await {
        Ok(_) => v.redirect("/admin/domains?done=unblocked"),
        Err(e) => failed(&s, &v, e),
    }
}

#[derive(Deserialize, Default)]
pub struct AllowForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    domain: String,
}

async fn allow(State(s): State<AppState>, v: Visit, Form(f): Form<AllowForm>) -> Response {
    let me = match admin_form(&s, &v, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    match moderation::allow_domain(&s.ctx, Some(me), &f.domain).await {
        Ok(_) => v.redirect("/admin/domains?done=allowed"),
        Err(e) => failed(&s, &v, e),
    }
}

async fn disallow(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Form(f): Form<TokenForm>,
) -> Response {
    let me = match admin_form(&s, &v, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    match moderation::disallow_domain(&s.ctx, Some(me), id).await {
        Ok(()) => v.redirect("/admin/domains?done=disallowed"),
        Err(e) => failed(&s, &v, e),
    }
}

async fn federation(State(s): State<AppState>, v: Visit) -> Response {
    if let Err(r) = admin(&s, &v).await {
        return r;
    }
    let (hosts, inbound) = match instance::federation_status(&s.ctx).await {
        Ok(found) => found,
        Err(e) => return failed(&s, &v, e),
    };
    let rules = s.ctx.settings();
    let hosts: Vec<TplValue> = hosts
        .iter()
        .map(|h| {
            context! {
                host => h.host.clone(),
                queued => h.queued,
                lag => h.lag_seconds,
                delivered => h.delivered,
                failures => h.failures,
                paused_until => h.breaker_open_until.as_ref().map(|t| when(v.lang, t)),
                last_error => h.last_error.clone(),
                last_success => h.last_success_at.as_ref().map(|t| when(v.lang, t)),
                refused => rules.domains.refuses(&h.host),
            }
        })
        .collect();
    v.render(
        &s,
        StatusCode::OK,
        "admin_federation.html",
        context! { nav => "admin", tab => "federation", hosts, inbound },
    )
}

async fn settings(State(s): State<AppState>, v: Visit) -> Response {
    if let Err(r) = admin(&s, &v).await {
        return r;
    }
    let now = s.ctx.settings();
    let form = context! {
        title => now.title.clone(),
        description => now.description.clone(),
        contact_email => now.contact_email.clone(),
        rules => now.rules.join("\n"),
        registration_mode => now.registration_mode.as_str(),
        federation_access => now.domains.access.as_str(),
    };
    let modes: Vec<&str> = RegistrationMode::ALL.iter().map(|m| m.as_str()).collect();
    let accesses: Vec<&str> = FederationAccess::ALL.iter().map(|m| m.as_str()).collect();
    v.render(
        &s,
        StatusCode::OK,
        "admin_settings.html",
        context! { nav => "admin", tab => "settings", form, modes, accesses },
    )
}

#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    contact_email: String,
    /// One rule per line.
    #[serde(default)]
    rules: String,
    #[serde(default)]
    registration_mode: String,
    #[serde(default)]
    federation_access: String,
}

async fn save_settings(
    State(s): State<AppState>,
    v: Visit,
    Form(f): Form<SettingsForm>,
) -> Response {
    let me = match admin_form(&s, &v, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let (Some(registration_mode), Some(federation_access)) = (
        RegistrationMode::parse(&f.registration_mode),
        FederationAccess::parse(&f.federation_access),
    ) else {
        return failed(
            &s,
            &v,
            ServiceError::invalid("registration_mode", "ERR_INVALID", "is not a choice"),
        );
    };
    let change = SettingsChange {
        title: f.title,
        description: f.description,
        contact_email: f.contact_email,
        rules: f.rules.lines().map(str::to_owned).collect(),
        registration_mode,
        federation_access,
    };
    match moderation::update_settings(&s.ctx, Some(me), change).await {
        Ok(()) => v.redirect("/admin/settings?done=saved"),
        Err(e) => failed(&s, &v, e),
    }
}
