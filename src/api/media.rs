//! `POST /api/v2/media`, `GET|PUT /api/v1/media/:id`.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Auth;
use super::entities;
use super::error::{ApiError, ApiResult};
use super::params::{Params, de};
use super::statuses::parse_id;
use crate::app::AppState;
use crate::services::media::{self, NewAttachment};

#[derive(Deserialize)]
pub struct MediaParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    description: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    focus: Option<String>,
}

/// 200 with the processed attachment, or 202 while it is still processing.
pub async fn upload(
    State(s): State<AppState>,
    auth: Auth,
    mut params: Params<MediaParams>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (_, me) = auth.user("write:media")?;
    let bytes = params
        .take_upload("file")
        .ok_or_else(|| ApiError::unprocessable("Validation failed: File can't be blank"))?;
    let p = params.value;
    let a = media::upload(
        &s.ctx,
        me,
        NewAttachment {
            bytes,
            description: p.description,
            focus: p.focus,
        },
    )
    .await?;
    let status = if a.state == crate::domain::MediaState::Processing {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    failed_or(a, status, &s)
}

fn failed_or(
    a: crate::db::models::MediaAttachment,
    ok: StatusCode,
    s: &AppState,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if a.state == crate::domain::MediaState::Failed {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: File {}",
            a.error.unwrap_or_default()
        )));
    }
    Ok((ok, Json(entities::media(&s.ctx, &a))))
}

/// 206 while processing, 200 when ready (as Mastodon).
pub async fn show(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (_, me) = auth.user("write:media")?;
    let a = media::get_own(&s.ctx, me, parse_id(&id)?).await?;
    let status = if a.state == crate::domain::MediaState::Processing {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    failed_or(a, status, &s)
}

pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<MediaParams>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (_, me) = auth.user("write:media")?;
    let a = media::describe(&s.ctx, me, parse_id(&id)?, p.description, p.focus).await?;
    failed_or(a, StatusCode::OK, &s)
}
