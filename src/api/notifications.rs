//! `/api/v1/notifications`.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde_json::{Value, json};

use super::auth::Auth;
use super::entities;
use super::error::ApiResult;
use super::pagination::{Pager, paged};
use super::statuses::parse_id;
use crate::app::AppState;
use crate::services::notifications;

fn list_param(uri: &Uri, name: &str) -> Vec<String> {
    let list = format!("{name}[]");
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(k, _)| *k == list || k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
    uri: Uri,
) -> ApiResult<Response> {
    let (_, me) = auth.user("read:notifications")?;
    let mut include = list_param(&uri, "types");
    // Never return a type the client did not ask for: unknown names match nothing,
    // and asking only for unknown types yields an empty list.
    let asked_for_types = !include.is_empty();
    include.retain(|t| crate::domain::NotificationKind::parse(t).is_some());
    if asked_for_types && include.is_empty() {
        return Ok(paged(&paging, &[], Vec::<Value>::new()));
    }
    let exclude = list_param(&uri, "exclude_types");
    let views = notifications::list(&s.ctx, me, include, exclude, paging.page).await?;
    let keys: Vec<i64> = views.iter().map(|n| n.notification.id).collect();
    let list: Vec<_> = views
        .iter()
        .map(|n| entities::notification(&s.ctx, n))
        .collect();
    Ok(paged(&paging, &keys, list))
}

pub async fn show(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:notifications")?;
    let n = notifications::get(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(entities::notification(&s.ctx, &n)))
}

pub async fn dismiss(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:notifications")?;
    notifications::dismiss(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

pub async fn clear(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:notifications")?;
    notifications::clear(&s.ctx, me).await?;
    Ok(Json(json!({})))
}
