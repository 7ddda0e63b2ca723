//! `/api/v1/orgs`: our client-API extension for organisations (docs/api.md).
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;

use super::auth::Auth;
use super::entities;
use super::error::{ApiError, ApiResult};
use super::pagination::{Pager, paged};
use super::params::{Params, de};
use super::statuses::parse_id;
use crate::app::AppState;
use crate::services::accounts::Upload;
use crate::services::memberships::{self, JoinRequest, NewInvite};
use crate::services::orgs::{self, NewOrg, OrgUpdate};
use crate::services::stats;
use axum::response::Response;

#[derive(Deserialize)]
pub struct OrgParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    username: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    note: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    parent_id: Option<String>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    archived: Option<bool>,
    /// Profile fields, as in `update_credentials`.
    #[serde(default, deserialize_with = "de::seq_opt")]
    fields_attributes: Option<Vec<super::accounts::FieldParam>>,
}

/// An org id parameter: empty means none.
fn org_id(field: &str, v: Option<&str>) -> ApiResult<Option<i64>> {
    match v.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid_param(field, "is not an org id")),
    }
}

pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<OrgParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let username = p
        .username
        .clone()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::invalid_param("username", "is required"))?;
    let view = orgs::create(
        &s.ctx,
        me,
        NewOrg {
            username,
            display_name: p.display_name,
            note: p.note,
            kind: p.kind,
            parent_id: org_id("parent_id", p.parent_id.as_deref())?,
            locked: p.locked,
        },
    )
    .await?;
    Ok(Json(entities::org(&s.ctx, &view)))
}

pub async fn show(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let view = orgs::get(&s.ctx, parse_id(&id)?).await?;
    Ok(Json(entities::org(&s.ctx, &view)))
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default, deserialize_with = "de::string_opt")]
    parent_id: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    _auth: Auth,
    Params { value: q, .. }: Params<ListQuery>,
) -> ApiResult<Json<Value>> {
    let list = orgs::list(&s.ctx, org_id("parent_id", q.parent_id.as_deref())?).await?;
    Ok(Json(Value::Array(
        list.iter().map(|v| entities::org(&s.ctx, v)).collect(),
    )))
}

pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    mut params: Params<OrgParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let avatar = params.take_upload("avatar").map(|bytes| Upload { bytes });
    let header = params.take_upload("header").map(|bytes| Upload { bytes });
    let p = params.value;
    let parent_id = match &p.parent_id {
        None => None,
        Some(v) => Some(org_id("parent_id", Some(v))?),
    };
    let view = orgs::update(
        &s.ctx,
        me,
        parse_id(&id)?,
        OrgUpdate {
            display_name: p.display_name,
            note: p.note,
            locked: p.locked,
            parent_id,
            archived: p.archived,
            avatar,
            header,
            fields: p.fields_attributes.map(|fs| {
                fs.into_iter()
                    .map(|f| (f.name.unwrap_or_default(), f.value.unwrap_or_default()))
                    .collect()
            }),
        },
    )
    .await?;
    Ok(Json(entities::org(&s.ctx, &view)))
}

// Membership (services::memberships).

/// Consent choices: `{"directory": true, ...}` in JSON, or
/// `consents[directory]=true` in a form.
fn consent_choices(v: Option<serde_json::Map<String, Value>>) -> ApiResult<Vec<(String, bool)>> {
    let mut out = Vec::new();
    for (purpose, granted) in v.unwrap_or_default() {
        let granted = match &granted {
            Value::Bool(b) => *b,
            Value::String(s) if matches!(s.as_str(), "true" | "1" | "on") => true,
            Value::String(s) if matches!(s.as_str(), "false" | "0" | "off") => false,
            _ => {
                return Err(ApiError::invalid_param(
                    "consents",
                    "each purpose takes true or false",
                ));
            }
        };
        out.push((purpose, granted));
    }
    Ok(out)
}

#[derive(Deserialize)]
pub struct JoinParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    role: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    tenure_from: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    tenure_to: Option<String>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    divisions: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::string_opt")]
    message: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    invite_code: Option<String>,
    #[serde(default)]
    consents: Option<serde_json::Map<String, Value>>,
    #[serde(default, deserialize_with = "de::string_opt")]
    consent_wording_version: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    left_on: Option<String>,
}

/// `POST /api/v1/orgs/:id/membership_requests`: ask to join (or join at once
/// with an invite code, or by a roster match).
pub async fn request_membership(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<JoinParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let view = memberships::request(
        &s.ctx,
        me,
        parse_id(&id)?,
        JoinRequest {
            role: p.role,
            tenure_from: p.tenure_from,
            tenure_to: p.tenure_to,
            divisions: p.divisions.unwrap_or_default(),
            message: p.message,
            invite_code: p.invite_code,
            consents: consent_choices(p.consents)?,
            wording_version: p.consent_wording_version,
        },
    )
    .await?;
    Ok(Json(entities::membership(&s.ctx, &view)))
}

#[derive(Deserialize)]
pub struct MembersQuery {
    #[serde(default, deserialize_with = "de::string_opt")]
    role: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    state: Option<String>,
}

fn memberships_page(
    s: &AppState,
    paging: &super::pagination::Paging,
    list: &[memberships::MembershipView],
) -> Response {
    let keys: Vec<i64> = list.iter().map(|v| v.membership.id).collect();
    let items: Vec<Value> = list
        .iter()
        .map(|v| entities::membership(&s.ctx, v))
        .collect();
    paged(paging, &keys, items)
}

/// `GET /api/v1/orgs/:id/members`: the directory (members), any state (office).
pub async fn members(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Pager(paging): Pager,
    Params { value: q, .. }: Params<MembersQuery>,
) -> ApiResult<Response> {
    let me = auth.optional_user("read:accounts")?;
    let list = memberships::list(
        &s.ctx,
        me,
        parse_id(&id)?,
        q.state.as_deref(),
        q.role.as_deref().filter(|r| !r.is_empty()),
        paging.page,
    )
    .await?;
    Ok(memberships_page(&s, &paging, &list))
}

/// `GET /api/v1/orgs/:id/membership_requests` (office).
pub async fn membership_requests(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Pager(paging): Pager,
) -> ApiResult<Response> {
    let (_, me) = auth.user("read:accounts")?;
    let list = memberships::requests(&s.ctx, me, parse_id(&id)?, paging.page).await?;
    Ok(memberships_page(&s, &paging, &list))
}

async fn decide(
    s: &AppState,
    auth: &Auth,
    id: &str,
    request_id: &str,
    approve: bool,
    reason: Option<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let (org, request) = (parse_id(id)?, parse_id(request_id)?);
    let view = memberships::decide(&s.ctx, me, org, request, approve, reason).await?;
    Ok(Json(entities::membership(&s.ctx, &view)))
}

pub async fn approve(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, request_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    decide(&s, &auth, &id, &request_id, true, None).await
}

#[derive(Deserialize)]
pub struct RejectParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    reason: Option<String>,
}

/// `POST .../membership_requests/:id/reject`, with an optional `reason`
/// (e-mailed to a person here with a confirmed address).
pub async fn reject(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, request_id)): Path<(String, String)>,
    Params { value: p, .. }: Params<RejectParams>,
) -> ApiResult<Json<Value>> {
    decide(&s, &auth, &id, &request_id, false, p.reason).await
}

#[derive(Deserialize)]
pub struct RoleParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    role: Option<String>,
}

/// `POST /api/v1/orgs/:id/members/:account_id/role` (office).
pub async fn set_role(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, account_id)): Path<(String, String)>,
    Params { value: p, .. }: Params<RoleParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let role = p
        .role
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::invalid_param("role", "is required"))?;
    let view =
        memberships::set_role(&s.ctx, me, parse_id(&id)?, parse_id(&account_id)?, &role).await?;
    Ok(Json(entities::membership(&s.ctx, &view)))
}

/// `POST /api/v1/orgs/:id/members/:account_id/graduate`: by the office, or
/// asked by the person (then the office confirms with the same call).
pub async fn graduate(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, account_id)): Path<(String, String)>,
    Params { value: p, .. }: Params<JoinParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let view = memberships::graduate(
        &s.ctx,
        me,
        parse_id(&id)?,
        parse_id(&account_id)?,
        p.left_on,
        consent_choices(p.consents)?,
        p.consent_wording_version,
    )
    .await?;
    Ok(Json(entities::membership(&s.ctx, &view)))
}

/// `DELETE /api/v1/orgs/:id/members/:account_id` (office removes a member).
pub async fn remove_member(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, account_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let view = memberships::remove(&s.ctx, me, parse_id(&id)?, parse_id(&account_id)?).await?;
    Ok(Json(entities::membership(&s.ctx, &view)))
}

/// `GET /api/v1/orgs/:id/membership`: my own membership.
pub async fn my_membership(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:accounts")?;
    let view = memberships::mine(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(entities::membership(&s.ctx, &view)))
}

/// `DELETE /api/v1/orgs/:id/membership`: leave (one action).
pub async fn leave(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let view = memberships::leave(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(entities::membership(&s.ctx, &view)))
}

/// `GET /api/v1/orgs/:id/membership/consents`: every choice with its time and
/// wording version; `POST` records new choices (grant or withdraw).
pub async fn consents(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:accounts")?;
    let rows = memberships::consent_history(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(Value::Array(
        rows.iter().map(entities::consent).collect(),
    )))
}

pub async fn set_consents(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<JoinParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let view = memberships::set_consents(
        &s.ctx,
        me,
        parse_id(&id)?,
        consent_choices(p.consents)?,
        p.consent_wording_version,
    )
    .await?;
    Ok(Json(entities::membership(&s.ctx, &view)))
}

#[derive(Deserialize)]
pub struct InviteParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    role: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    max_uses: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    expires_in: Option<String>,
}

fn number<T: std::str::FromStr>(field: &str, v: Option<String>) -> ApiResult<Option<T>> {
    match v.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid_param(field, "is not a number")),
    }
}

/// `POST /api/v1/orgs/:id/invites` (office).
pub async fn create_invite(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<InviteParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let invite = memberships::create_invite(
        &s.ctx,
        me,
        parse_id(&id)?,
        NewInvite {
            role: p.role,
            max_uses: number("max_uses", p.max_uses)?,
            expires_in: number("expires_in", p.expires_in)?,
        },
    )
    .await?;
    Ok(Json(entities::org_invite(&invite)))
}

pub async fn invites(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:accounts")?;
    let list = memberships::invites(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(Value::Array(
        list.iter().map(entities::org_invite).collect(),
    )))
}

pub async fn revoke_invite(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, invite_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    memberships::revoke_invite(&s.ctx, me, parse_id(&id)?, parse_id(&invite_id)?).await?;
    Ok(Json(serde_json::json!({})))
}

/// `POST /api/v1/orgs/:id/recognitions/:club_id` (recognise) and `DELETE`
/// (withdraw), by an official org's office.
pub async fn recognise(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, club_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    recognition(&s, &auth, &id, &club_id, true).await
}

pub async fn withdraw_recognition(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, club_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    recognition(&s, &auth, &id, &club_id, false).await
}

async fn recognition(
    s: &AppState,
    auth: &Auth,
    id: &str,
    club_id: &str,
    on: bool,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    memberships::recognise(&s.ctx, me, parse_id(id)?, parse_id(club_id)?, on).await?;
    recognitions_json(s, parse_id(id)?, true).await
}

/// `GET /api/v1/orgs/:id/recognitions`: who recognises this org (a club) and
/// which clubs it recognises.
pub async fn recognitions(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let signed_in = auth.0.as_ref().is_some_and(|c| c.account.is_some());
    recognitions_json(&s, parse_id(&id)?, signed_in).await
}

async fn recognitions_json(s: &AppState, id: i64, signed_in: bool) -> ApiResult<Json<Value>> {
    let (by, clubs) = memberships::recognitions(&s.ctx, id, signed_in).await?;
    let by = crate::services::views::accounts(&s.ctx, by).await?;
    let clubs = crate::services::views::accounts(&s.ctx, clubs).await?;
    let list = |l: &[crate::services::views::AccountView]| -> Value {
        Value::Array(
            l.iter()
                .map(|a| serde_json::to_value(entities::account(&s.ctx, a)).unwrap_or_default())
                .collect(),
        )
    };
    Ok(Json(serde_json::json!({
        "recognized_by": list(&by),
        "recognizes": list(&clubs),
    })))
}

/// `GET /api/tsunagu/openapi.json`: the OpenAPI 3.1 description of our
/// client-API extensions (kept beside this file; checked by schemathesis in
/// tests/clients.rs).
pub async fn openapi() -> Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct BlockParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    account_id: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    domain: Option<String>,
}

/// `GET/POST /api/v1/orgs/:id/blocks`, `DELETE .../blocks/:block_id` (office).
pub async fn blocks(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:blocks")?;
    let list = memberships::blocks(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(Value::Array(
        list.iter().map(entities::org_block).collect(),
    )))
}

pub async fn block(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<BlockParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:blocks")?;
    let account_id = match p.account_id.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse()
                .map_err(|_| ApiError::invalid_param("account_id", "is not an account id"))?,
        ),
    };
    let b = memberships::block(&s.ctx, me, parse_id(&id)?, account_id, p.domain).await?;
    Ok(Json(entities::org_block(&b)))
}

pub async fn unblock(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, block_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:blocks")?;
    memberships::unblock(&s.ctx, me, parse_id(&id)?, parse_id(&block_id)?).await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Deserialize)]
pub struct ActivityQuery {
    #[serde(default, deserialize_with = "de::string_opt")]
    period: Option<String>,
}

/// `GET /api/v1/orgs/:id/activity?period=7|30|90|365`: the office's network
/// activity figures (aggregates; small groups as "<5").
pub async fn activity(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: q, .. }: Params<ActivityQuery>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:accounts")?;
    let period = match q.period.as_deref() {
        None => stats::Period::Month,
        Some(p) => stats::Period::parse(p).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "period must be one of {}",
                stats::Period::allowed()
            ))
        })?,
    };
    let a = stats::network_activity(&s.ctx, me, parse_id(&id)?, period).await?;
    Ok(Json(serde_json::to_value(a).unwrap_or_default()))
}
