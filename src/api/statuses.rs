//! `/api/v1/statuses/*`.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Auth;
use super::entities;
use super::error::{ApiError, ApiResult};
use super::pagination::Pager;
use super::params::{Params, de};
use crate::app::AppState;
use crate::services::statuses::{self, NewStatus, StatusUpdate};

pub fn parse_id(id: &str) -> ApiResult<i64> {
    id.parse().map_err(|_| ApiError::not_found())
}

#[derive(Deserialize)]
pub struct StatusParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    status: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    spoiler_text: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    visibility: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    language: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    in_reply_to_id: Option<String>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    sensitive: Option<bool>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    media_ids: Option<Vec<String>>,
    #[serde(default)]
    poll: Option<PollParams>,
    /// Org posts only: pin into the org's featured collection (an announcement).
    #[serde(default, deserialize_with = "de::bool_opt")]
    pinned: Option<bool>,
    /// Our extension: the org (id) the post is addressed to.
    #[serde(default, deserialize_with = "de::string_opt")]
    audience: Option<String>,
}

#[derive(Deserialize)]
pub struct PollParams {
    #[serde(default, deserialize_with = "de::seq_opt")]
    options: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::string_opt")]
    expires_in: Option<String>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    multiple: Option<bool>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    hide_totals: Option<bool>,
}

fn new_poll(p: Option<PollParams>) -> ApiResult<Option<crate::services::polls::NewPoll>> {
    let Some(p) = p else { return Ok(None) };
    let expires_in = p
        .expires_in
        .as_deref()
        .unwrap_or("86400")
        .parse::<i64>()
        .map_err(|_| ApiError::invalid_param("poll[expires_in]", "not a number of seconds"))?;
    Ok(Some(crate::services::polls::NewPoll {
        options: p.options.unwrap_or_default(),
        expires_in,
        multiple: p.multiple.unwrap_or(false),
        hide_totals: p.hide_totals.unwrap_or(false),
    }))
}

fn reply_id(p: &StatusParams) -> ApiResult<Option<i64>> {
    match p.in_reply_to_id.as_deref().filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| ApiError::not_found()),
    }
}

fn media_ids(p: &StatusParams) -> ApiResult<Option<Vec<i64>>> {
    p.media_ids
        .as_ref()
        .map(|ids| {
            ids.iter()
                .filter(|i| !i.is_empty())
                .map(|i| {
                    i.parse::<i64>()
                        .map_err(|_| ApiError::unprocessable(format!("Invalid media id {i:?}")))
                })
                .collect()
        })
        .transpose()
}

/// The status a request describes (shared by posting as oneself and as an org).
fn new_status(caller_app: i64, headers: &HeaderMap, p: StatusParams) -> ApiResult<NewStatus> {
    let media = media_ids(&p)?;
    Ok(NewStatus {
        in_reply_to_id: reply_id(&p)?,
        text: p.status.unwrap_or_default(),
        spoiler_text: p.spoiler_text,
        visibility: p.visibility,
        language: p.language,
        sensitive: p.sensitive,
        idempotency_key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        application_id: Some(caller_app),
        media_ids: media.unwrap_or_default(),
        poll: new_poll(p.poll)?,
        audience_id: match p.audience.as_deref().filter(|a| !a.is_empty()) {
            None => None,
            Some(a) => Some(
                a.parse()
                    .map_err(|_| ApiError::invalid_param("audience", "is not an org id"))?,
            ),
        },
    })
}

pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Params { value: p, .. }: Params<StatusParams>,
) -> ApiResult<Json<Value>> {
    let (caller, me) = auth.user("write:statuses")?;
    let new = new_status(caller.app.id, &headers, p)?;
    let view = statuses::create(&s.ctx, me, new).await?;
    Ok(Json(entities::status(&s.ctx, &view)))
}

/// `POST /api/v1/orgs/:id/statuses`: the office posts as the org.
pub async fn create_as_org(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<StatusParams>,
) -> ApiResult<Json<Value>> {
    let (caller, me) = auth.user("write:statuses")?;
    let pinned = p.pinned.unwrap_or(false);
    let new = new_status(caller.app.id, &headers, p)?;
    let view = crate::services::orgs::post(&s.ctx, me, parse_id(&id)?, new, pinned).await?;
    Ok(Json(entities::status(&s.ctx, &view)))
}

pub async fn show(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let view = statuses::get(&s.ctx, auth.viewer("read:statuses")?, parse_id(&id)?).await?;
    Ok(Json(entities::status(&s.ctx, &view)))
}

#[derive(Deserialize)]
pub struct DeleteParams {
    /// Mastodon 4.4: remove the attachments at once instead of keeping
    /// them a day for a redraft.
    #[serde(default, deserialize_with = "de::bool_or_false")]
    delete_media: bool,
}

pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<DeleteParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:statuses")?;
    let view = statuses::delete(&s.ctx, me, parse_id(&id)?, p.delete_media).await?;
    Ok(Json(entities::status_with_source(&s.ctx, &view)))
}

pub async fn edit(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<StatusParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:statuses")?;
    let media = media_ids(&p)?;
    let up = StatusUpdate {
        text: p.status.unwrap_or_default(),
        spoiler_text: p.spoiler_text,
        sensitive: p.sensitive,
        language: p.language,
        media_ids: media,
    };
    let view = statuses::edit(&s.ctx, me, parse_id(&id)?, up).await?;
    Ok(Json(entities::status(&s.ctx, &view)))
}

pub async fn history(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (view, edits) =
        statuses::history(&s.ctx, auth.viewer("read:statuses")?, parse_id(&id)?).await?;
    let list: Vec<Value> = if edits.is_empty() {
        let current = crate::db::models::StatusEdit {
            id: view.status.id,
            status_id: view.status.id,
            text: view.status.text.clone(),
            content: view.status.content.clone(),
            spoiler_text: view.status.spoiler_text.clone(),
            sensitive: view.status.sensitive,
            created_at: view.status.created_at,
        };
        vec![entities::status_edit(&s.ctx, &view, &current)]
    } else {
        edits
            .iter()
            .map(|e| entities::status_edit(&s.ctx, &view, e))
            .collect()
    };
    Ok(Json(Value::Array(list)))
}

pub async fn source(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:statuses")?;
    let st = statuses::source(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(
        serde_json::json!({ "id": st.id.to_string(), "text": st.text, "spoiler_text": st.spoiler_text }),
    ))
}

pub async fn context(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (ancestors, descendants) =
        statuses::context(&s.ctx, auth.viewer("read:statuses")?, parse_id(&id)?).await?;
    Ok(Json(serde_json::json!({
        "ancestors": ancestors.iter().map(|v| entities::status(&s.ctx, v)).collect::<Vec<_>>(),
        "descendants": descendants.iter().map(|v| entities::status(&s.ctx, v)).collect::<Vec<_>>(),
    })))
}

/// favourite, unfavourite, bookmark, unbookmark, pin, unpin, reblog, unreblog.
pub async fn action(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, action)): Path<(String, String)>,
    Params { value: p, .. }: Params<ReblogParams>,
) -> ApiResult<Json<Value>> {
    let scope = match action.as_str() {
        "favourite" | "unfavourite" => "write:favourites",
        "bookmark" | "unbookmark" => "write:bookmarks",
        "pin" | "unpin" | "reblog" | "unreblog" => "write:statuses",
        _ => return Err(ApiError::not_found()),
    };
    let (_, me) = auth.user(scope)?;
    let id = parse_id(&id)?;
    let view = match action.as_str() {
        "favourite" => statuses::favourite(&s.ctx, me, id, true).await?,
        "unfavourite" => statuses::favourite(&s.ctx, me, id, false).await?,
        "bookmark" => statuses::bookmark(&s.ctx, me, id, true).await?,
        "unbookmark" => statuses::bookmark(&s.ctx, me, id, false).await?,
        "pin" => statuses::pin(&s.ctx, me, id, true).await?,
        "unpin" => statuses::pin(&s.ctx, me, id, false).await?,
        "reblog" => statuses::reblog(&s.ctx, me, id, p.visibility).await?,
        _ => statuses::unreblog(&s.ctx, me, id).await?,
    };
    Ok(Json(entities::status(&s.ctx, &view)))
}

#[derive(Deserialize)]
pub struct ReblogParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    visibility: Option<String>,
}

pub async fn favourited_by(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rows = statuses::favourited_by(
        &s.ctx,
        auth.viewer("read:statuses")?,
        parse_id(&id)?,
        paging.page,
    )
    .await?;
    Ok(super::pagination::accounts_page(&s.ctx, &paging, &rows))
}

pub async fn reblogged_by(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rows = statuses::reblogged_by(
        &s.ctx,
        auth.viewer("read:statuses")?,
        parse_id(&id)?,
        paging.page,
    )
    .await?;
    Ok(super::pagination::accounts_page(&s.ctx, &paging, &rows))
}

/// `GET /api/v1/polls/:id`.
pub async fn poll(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let v =
        crate::services::polls::get(&s.ctx, auth.viewer("read:statuses")?, parse_id(&id)?).await?;
    Ok(Json(entities::poll(&v, auth.0.is_some())))
}

#[derive(Deserialize)]
pub struct VoteParams {
    /// Indices, as numbers (JSON) or strings (forms).
    #[serde(default, deserialize_with = "de::seq_opt")]
    choices: Option<Vec<Value>>,
}

/// `POST /api/v1/polls/:id/votes`.
pub async fn vote(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<VoteParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:statuses")?;
    let choices = p
        .choices
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let n = match c {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse::<i64>().ok(),
                _ => None,
            };
            n.and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| ApiError::unprocessable(format!("Invalid choice {c}")))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let v = crate::services::polls::vote(&s.ctx, me, parse_id(&id)?, choices).await?;
    Ok(Json(entities::poll(&v, true)))
}
