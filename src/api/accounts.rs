//! `/api/v1/accounts/*` for this issue: registration, own credentials,
//! profile updates, lookups; plus `/api/v1/preferences`.
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Auth;
use super::entities::{self, AccountEntity};
use super::error::{ApiError, ApiResult};
use super::params::{self, Params, de};
use super::ratelimit::client_ip;
use crate::app::AppState;
use crate::services::accounts::{self, ProfileUpdate, Registration, Upload};
use crate::services::{ServiceError, oauth, views};

#[derive(Deserialize)]
pub struct RegisterParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    username: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    email: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    password: Option<String>,
    #[serde(default, deserialize_with = "de::bool_or_false")]
    agreement: bool,
    #[serde(default, deserialize_with = "de::string_opt")]
    locale: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    reason: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    invite_code: Option<String>,
}

pub async fn register(
    State(s): State<AppState>,
    auth: Auth,
    peer: crate::api::ratelimit::PeerAddr,
    headers: HeaderMap,
    Params { value: p, .. }: Params<RegisterParams>,
) -> ApiResult<Json<Value>> {
    let caller = auth.token(&["write:accounts"])?;
    let ip = client_ip(&headers, peer.0, s.ctx.config.server.trust_forwarded_for);
    if !s.limits.registration.check(&ip).allowed {
        return Err(ServiceError::RateLimited.into());
    }
    let reg = Registration {
        username: p.username.unwrap_or_default(),
        email: p.email.unwrap_or_default(),
        password: p.password.unwrap_or_default(),
        agreement: p.agreement,
        locale: p.locale.filter(|l| !l.is_empty()),
        reason: p.reason,
        invite_code: p.invite_code,
    };
    let created = accounts::register(&s.ctx, reg).await?;
    let issued = oauth::issue_for_registration(
        &s.ctx,
        caller.app.id,
        &created,
        oauth::app_scopes(&caller.app),
    )
    .await?;
    Ok(Json(entities::token(&issued)))
}

pub async fn verify_credentials(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<AccountEntity>> {
    let (_, me) = auth.user_any(&["read:accounts", "profile"])?;
    let view = views::credentials(&s.ctx, me.clone()).await?;
    Ok(Json(entities::credential_account(&s.ctx, &view)))
}

#[derive(Deserialize)]
pub struct FieldParam {
    #[serde(default, deserialize_with = "de::string_opt")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub value: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct SourceParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    privacy: Option<String>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    sensitive: Option<bool>,
    #[serde(default, deserialize_with = "de::string_opt")]
    language: Option<String>,
}

#[derive(Deserialize)]
pub struct UpdateParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    note: Option<String>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    bot: Option<bool>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    discoverable: Option<bool>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    indexable: Option<bool>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    hide_collections: Option<bool>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    fields_attributes: Option<Vec<FieldParam>>,
    #[serde(default)]
    source: Option<SourceParams>,
}

pub async fn update_credentials(
    State(s): State<AppState>,
    auth: Auth,
    mut params: Params<UpdateParams>,
) -> ApiResult<Json<AccountEntity>> {
    let (_, me) = auth.user("write:accounts")?;
    let avatar = params.take_upload("avatar").map(|bytes| Upload { bytes });
    let header = params.take_upload("header").map(|bytes| Upload { bytes });
    let p = params.value;
    let source = p.source.unwrap_or_default();
    let update = ProfileUpdate {
        display_name: p.display_name,
        note: p.note,
        locked: p.locked,
        bot: p.bot,
        discoverable: p.discoverable,
        indexable: p.indexable,
        hide_collections: p.hide_collections,
        fields: p.fields_attributes.map(|fs| {
            fs.into_iter()
                .map(|f| (f.name.unwrap_or_default(), f.value.unwrap_or_default()))
                .collect()
        }),
        privacy: source.privacy,
        sensitive: source.sensitive,
        language: source.language,
        locale: None,
        avatar,
        header,
    };
    let updated = accounts::update_profile(&s.ctx, me, update).await?;
    Ok(Json(entities::credential_account(&s.ctx, &updated)))
}

fn parse_id(id: &str) -> ApiResult<i64> {
    id.parse().map_err(|_| ApiError::not_found())
}

pub async fn show(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountEntity>> {
    // Public, but a token that is present must be valid (the extractor checks).
    let view = accounts::show(&s.ctx, parse_id(&id)?).await?;
    Ok(Json(entities::account(&s.ctx, &view)))
}

#[derive(Deserialize)]
pub struct DirectoryQuery {
    #[serde(default, deserialize_with = "de::string_opt")]
    order: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    offset: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    limit: Option<String>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    local: Option<bool>,
}

/// `GET /api/v1/directory`: Mastodon's profile directory.
pub async fn directory(
    State(s): State<AppState>,
    _auth: Auth,
    Params { value: q, .. }: Params<DirectoryQuery>,
) -> ApiResult<Json<Vec<AccountEntity>>> {
    let list = accounts::directory(
        &s.ctx,
        q.order.as_deref(),
        q.local.unwrap_or(false),
        params::number("offset", q.offset)?.unwrap_or(0),
        params::number("limit", q.limit)?.unwrap_or(40),
    )
    .await?;
    Ok(Json(
        list.iter().map(|v| entities::account(&s.ctx, v)).collect(),
    ))
}

#[derive(Deserialize)]
pub struct LookupQuery {
    acct: Option<String>,
}

pub async fn lookup(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: q, .. }: Params<LookupQuery>,
) -> ApiResult<Json<AccountEntity>> {
    let acct = q
        .acct
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("Missing parameter: acct"))?;
    let signed_in = auth.0.as_ref().is_some_and(|c| c.account.is_some());
    let view = accounts::lookup(&s.ctx, &acct, signed_in).await?;
    Ok(Json(entities::account(&s.ctx, &view)))
}

pub async fn preferences(auth: Auth) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:accounts")?;
    Ok(Json(entities::preferences(&me.user)))
}

/// `POST /api/v1/admin/accounts/:id/approve`.
pub async fn admin_approve(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    auth.admin("admin:write:accounts")?;
    let view = accounts::approve_for_admin(&s.ctx, parse_id(&id)?).await?;
    Ok(Json(admin_account(&s, &view)))
}

/// `GET /api/v1/admin/accounts?status=pending` (v1 filter subset: pending or all local).
#[derive(Deserialize)]
pub struct AdminListQuery {
    pending: Option<String>,
    status: Option<String>,
}

pub async fn admin_list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<AdminListQuery>,
) -> ApiResult<Json<Value>> {
    auth.admin("admin:read:accounts")?;
    let pending_only = q
        .pending
        .as_deref()
        .is_some_and(|v| v == "true" || v == "1")
        || q.status.as_deref() == Some("pending");
    if !pending_only {
        return Err(ApiError::bad_request(
            "Only the pending filter is supported so far: use ?status=pending",
        ));
    }
    let list = accounts::pending_for_admin(&s.ctx).await?;
    Ok(Json(Value::Array(
        list.iter().map(|me| admin_account(&s, me)).collect(),
    )))
}

fn admin_account(s: &AppState, v: &accounts::AdminView) -> Value {
    let (a, u) = (&v.me.account, &v.me.user);
    serde_json::json!({
        "id": a.id.to_string(),
        "username": a.username,
        "domain": a.domain,
        "created_at": entities::datetime(&a.created_at),
        "email": u.email,
        "ip": null,
        "ips": [],
        "role": entities::role(u),
        "confirmed": u.email_confirmed_at.is_some(),
        "approved": u.approved,
        "disabled": u.disabled,
        "silenced": v.silenced,
        "suspended": a.suspended,
        "locale": u.locale,
        "invite_request": u.registration_reason,
        "account": entities::account(&s.ctx, &v.view),
    })
}
