//! Following and relationships: `/api/v1/accounts/:id/{follow,unfollow,...}`,
//! followers/following lists, relationships, follow requests.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Auth;
use super::entities;
use super::error::{ApiError, ApiResult};
use super::pagination::{Pager, accounts_page};
use super::params::{Params, de};
use super::statuses::parse_id;
use crate::app::AppState;
use crate::services::social;

#[derive(Deserialize)]
pub struct FollowParams {
    #[serde(default, deserialize_with = "de::bool_opt")]
    reblogs: Option<bool>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    notify: Option<bool>,
}

pub async fn follow(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<FollowParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:follows")?;
    let r = social::follow(&s.ctx, me, parse_id(&id)?, p.reblogs, p.notify).await?;
    Ok(Json(entities::relationship(&r)))
}

pub async fn unfollow(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:follows")?;
    let r = social::unfollow(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(entities::relationship(&r)))
}

pub async fn remove_from_followers(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:follows")?;
    let r = social::remove_from_followers(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(entities::relationship(&r)))
}

pub async fn relationships(
    State(s): State<AppState>,
    auth: Auth,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:follows")?;
    let ids: Vec<i64> = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "id[]" || k == "id")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let list = social::relationships(&s.ctx, me.account.id, &ids).await?;
    Ok(Json(Value::Array(
        list.iter().map(entities::relationship).collect(),
    )))
}

pub async fn followers(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rows = social::follow_list(
        &s.ctx,
        auth.viewer("read:accounts")?,
        parse_id(&id)?,
        true,
        paging.page,
    )
    .await?;
    Ok(accounts_page(&s.ctx, &paging, &rows))
}

pub async fn following(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rows = social::follow_list(
        &s.ctx,
        auth.viewer("read:accounts")?,
        parse_id(&id)?,
        false,
        paging.page,
    )
    .await?;
    Ok(accounts_page(&s.ctx, &paging, &rows))
}

pub async fn follow_requests(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
) -> ApiResult<Response> {
    let (_, me) = auth.user("read:follows")?;
    let rows = social::follow_requests(&s.ctx, me, paging.page).await?;
    Ok(accounts_page(&s.ctx, &paging, &rows))
}

pub async fn answer_request(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, answer)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:follows")?;
    let accept = match answer.as_str() {
        "authorize" => true,
        "reject" => false,
        _ => return Err(ApiError::not_found()),
    };
    let r = social::answer_request(&s.ctx, me, parse_id(&id)?, accept).await?;
    Ok(Json(entities::relationship(&r)))
}
