//! Mastodon's admin API for moderation: reports, account actions, domain
//! blocks and allows (`/api/v1/admin/...`). Admins only, by OAuth scope.
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Auth;
use super::entities::{self, datetime};
use super::error::{ApiError, ApiResult};
use super::params::{Params, de};
use super::statuses::parse_id;
use crate::app::AppState;
use crate::db::models::{DomainAllow, DomainBlock};
use crate::domain::{AccountAction, DomainBlockSeverity};
use crate::services::moderation::{self, AdminReport, Moderated, NewDomainBlock};

fn admin_report(s: &AppState, r: &AdminReport) -> Value {
    let d = &r.detail;
    let rep = &d.report;
    let person = |m: &Moderated| moderated(m, s);
    json!({
        "id": rep.id.to_string(),
        "action_taken": rep.action_taken_at.is_some(),
        "action_taken_at": rep.action_taken_at.as_ref().map(datetime),
        "category": rep.category,
        "comment": rep.comment,
        "forwarded": rep.forwarded,
        "created_at": datetime(&rep.created_at),
        "updated_at": datetime(rep.action_taken_at.as_ref().unwrap_or(&rep.created_at)),
        "account": person(&r.reporter),
        "target_account": person(&r.target),
        "assigned_account": null,
        "action_taken_by_account": r.action_taken_by.as_ref().map(person),
        "statuses": r.statuses.iter().map(|v| entities::status(&s.ctx, v)).collect::<Vec<_>>(),
        "rules": [],
    })
}

#[derive(Deserialize)]
pub struct ReportsQuery {
    #[serde(default, deserialize_with = "de::bool_opt")]
    resolved: Option<bool>,
}

/// `GET /api/v1/admin/reports`: open ones unless `resolved=true`.
pub async fn reports(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<ReportsQuery>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:read:reports")?;
    let list = moderation::admin_reports(&s.ctx, me, q.resolved.unwrap_or(false)).await?;
    Ok(Json(Value::Array(
        list.iter().map(|r| admin_report(&s, r)).collect(),
    )))
}

pub async fn report(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:read:reports")?;
    let r = moderation::admin_report(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(admin_report(&s, &r)))
}

pub async fn resolve_report(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:write:reports")?;
    let id = parse_id(&id)?;
    moderation::resolve_report(&s.ctx, Some(me), id).await?;
    let r = moderation::admin_report(&s.ctx, me, id).await?;
    Ok(Json(admin_report(&s, &r)))
}

pub async fn reopen_report(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:write:reports")?;
    let id = parse_id(&id)?;
    moderation::reopen_report(&s.ctx, Some(me), id).await?;
    let r = moderation::admin_report(&s.ctx, me, id).await?;
    Ok(Json(admin_report(&s, &r)))
}

#[derive(Deserialize)]
pub struct ActionParams {
    #[serde(default, rename = "type", deserialize_with = "de::string_opt")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    report_id: Option<String>,
}

/// `POST /api/v1/admin/accounts/:id/action` (type none, silence or suspend).
pub async fn account_action(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ActionParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:write:accounts")?;
    let action: AccountAction = p
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::invalid_param("type", "is required"))?
        .parse()
        .map_err(|e: crate::domain::UnknownValue| ApiError::invalid_param("type", e))?;
    let report_id = match p.report_id.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(parse_id(r)?),
        None => None,
    };
    moderation::act(&s.ctx, Some(me), parse_id(&id)?, action, report_id).await?;
    Ok(Json(json!({})))
}

/// An account as the admin API shows it (remote ones have no sign-in data).
fn moderated(m: &Moderated, s: &AppState) -> Value {
    let a = &m.view.account;
    json!({
        "id": a.id.to_string(),
        "username": a.username,
        "domain": a.domain,
        "created_at": datetime(&a.created_at),
        "suspended": a.suspended,
        "silenced": m.silenced,
        "account": entities::account(&s.ctx, &m.view),
    })
}

pub async fn unsuspend(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:write:accounts")?;
    let v = moderation::unsuspend(&s.ctx, Some(me), parse_id(&id)?).await?;
    Ok(Json(moderated(&v, &s)))
}

pub async fn unsilence(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:write:accounts")?;
    let v = moderation::unsilence(&s.ctx, Some(me), parse_id(&id)?).await?;
    Ok(Json(moderated(&v, &s)))
}

/// `POST /api/v1/admin/accounts/:id/reject`: an account waiting for approval.
pub async fn reject_account(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    auth.admin("admin:write:accounts")?;
    crate::services::accounts::reject_pending(&s.ctx, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

fn domain_block(b: &DomainBlock) -> Value {
    json!({
        "id": b.id.to_string(),
        "domain": b.domain,
        "digest": sha256_hex(&b.domain),
        "created_at": datetime(&b.created_at),
        "severity": b.severity,
        "reject_media": false,
        "reject_reports": false,
        "private_comment": b.private_comment,
        "public_comment": b.public_comment,
        "obfuscate": false,
    })
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(s.as_bytes()))
}

fn domain_allow(a: &DomainAllow) -> Value {
    json!({
        "id": a.id.to_string(),
        "domain": a.domain,
        "created_at": datetime(&a.created_at),
    })
}

pub async fn domain_blocks(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    auth.admin("admin:read:domain_blocks")?;
    let list = moderation::domain_blocks(&s.ctx).await?;
    Ok(Json(Value::Array(list.iter().map(domain_block).collect())))
}

pub async fn show_domain_block(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    auth.admin("admin:read:domain_blocks")?;
    let b = moderation::domain_block(&s.ctx, parse_id(&id)?).await?;
    Ok(Json(domain_block(&b)))
}

#[derive(Deserialize)]
pub struct DomainBlockParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    domain: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    severity: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    public_comment: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    private_comment: Option<String>,
}

fn severity(p: &DomainBlockParams, default: DomainBlockSeverity) -> ApiResult<DomainBlockSeverity> {
    match p.severity.as_deref().filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|e: crate::domain::UnknownValue| ApiError::invalid_param("severity", e)),
    }
}

/// `POST /api/v1/admin/domain_blocks` (severity defaults to silence, as on Mastodon).
pub async fn create_domain_block(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<DomainBlockParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:write:domain_blocks")?;
    let severity = severity(&p, DomainBlockSeverity::Silence)?;
    let b = moderation::block_domain(
        &s.ctx,
        Some(me),
        NewDomainBlock {
            update: false,
            domain: p.domain.unwrap_or_default(),
            severity,
            public_comment: p.public_comment.unwrap_or_default(),
            private_comment: p.private_comment.unwrap_or_default(),
        },
    )
    .await?;
    Ok(Json(domain_block(&b)))
}

/// `PUT /api/v1/admin/domain_blocks/:id`: changes severity or comments.
pub async fn update_domain_block(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<DomainBlockParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:write:domain_blocks")?;
    let before = moderation::domain_block(&s.ctx, parse_id(&id)?).await?;
    let severity = severity(&p, before.severity)?;
    let b = moderation::block_domain(
        &s.ctx,
        Some(me),
        NewDomainBlock {
            update: true,
            domain: before.domain,
            severity,
            public_comment: p.public_comment.unwrap_or(before.public_comment),
            private_comment: p.private_comment.unwrap_or(before.private_comment),
        },
    )
    .await?;
    Ok(Json(domain_block(&b)))
}

pub async fn delete_domain_block(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:write:domain_blocks")?;
    moderation::unblock_domain(&s.ctx, Some(me), parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

pub async fn domain_allows(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    auth.admin("admin:read:domain_allows")?;
    let list = moderation::domain_allows(&s.ctx).await?;
    Ok(Json(Value::Array(list.iter().map(domain_allow).collect())))
}

#[derive(Deserialize)]
pub struct DomainAllowParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    domain: Option<String>,
}

pub async fn create_domain_allow(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<DomainAllowParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:write:domain_allows")?;
    let a = moderation::allow_domain(&s.ctx, Some(me), &p.domain.unwrap_or_default()).await?;
    Ok(Json(domain_allow(&a)))
}

pub async fn delete_domain_allow(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.admin("admin:write:domain_allows")?;
    moderation::disallow_domain(&s.ctx, Some(me), parse_id(&id)?).await?;
    Ok(Json(json!({})))
}
