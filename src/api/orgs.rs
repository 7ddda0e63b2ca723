//! `/api/v1/orgs`: our client-API extension for organisations (docs/api.md).
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;

use super::auth::Auth;
use super::entities;
use super::error::{ApiError, ApiResult};
use super::params::{Params, de};
use super::statuses::parse_id;
use crate::app::AppState;
use crate::services::orgs::{self, NewOrg, OrgUpdate};

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
    Params { value: p, .. }: Params<OrgParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
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
        },
    )
    .await?;
    Ok(Json(entities::org(&s.ctx, &view)))
}
