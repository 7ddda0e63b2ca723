//! `POST /api/v1/reports`.
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Auth;
use super::entities;
use super::error::{ApiError, ApiResult};
use super::params::{Params, de};
use crate::app::AppState;
use crate::services::reports::{self, NewReport};

#[derive(Deserialize)]
pub struct ReportParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    account_id: Option<String>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    status_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::string_opt")]
    comment: Option<String>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    forward: Option<bool>,
    #[serde(default, deserialize_with = "de::string_opt")]
    category: Option<String>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    rule_ids: Option<Vec<String>>,
}

pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<ReportParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:reports")?;
    let account_id = p
        .account_id
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid_param("account_id", "is required"))?
        .parse::<i64>()
        .map_err(|_| ApiError::not_found())?;
    let status_ids = p
        .status_ids
        .unwrap_or_default()
        .iter()
        .filter(|i| !i.is_empty())
        .map(|i| {
            i.parse::<i64>()
                .map_err(|_| ApiError::invalid_param("status_ids", "not a status id"))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let view = reports::create(
        &s.ctx,
        me,
        NewReport {
            account_id,
            status_ids,
            comment: p.comment.unwrap_or_default(),
            forward: p.forward.unwrap_or(false),
            category: p.category,
            rule_ids: p.rule_ids.unwrap_or_default(),
        },
    )
    .await?;
    Ok(Json(entities::report(&s.ctx, &view)))
}
