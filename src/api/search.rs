//! `GET /api/v2/search` and `GET /api/v1/accounts/search`.
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Auth;
use super::entities;
use super::error::{ApiError, ApiResult};
use super::params::Params;
use crate::app::AppState;
use crate::services::search::{self, SearchQuery};

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    following: Option<String>,
    account_id: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    resolve: Option<String>,
}

fn number(name: &str, v: Option<&str>, default: i64, max: i64) -> ApiResult<i64> {
    match v.filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .map(|n| n.clamp(0, max))
            .map_err(|_| ApiError::bad_request(format!("Invalid parameter {name}: not a number"))),
    }
}

fn query(p: &SearchParams, kind: Option<String>) -> ApiResult<SearchQuery> {
    Ok(SearchQuery {
        q: p.q.clone(),
        kind,
        following: matches!(p.following.as_deref(), Some("true" | "1")),
        account_id: match p.account_id.as_deref().filter(|v| !v.is_empty()) {
            Some(a) => Some(
                a.parse()
                    .map_err(|_| ApiError::bad_request("Invalid parameter account_id"))?,
            ),
            None => None,
        },
        limit: number("limit", p.limit.as_deref(), 20, 40)?.max(1),
        offset: number("offset", p.offset.as_deref(), 0, 10_000)?,
        resolve: matches!(p.resolve.as_deref(), Some("true" | "1")),
    })
}

pub async fn v2(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<SearchParams>,
) -> ApiResult<Json<Value>> {
    let q = query(&p, p.kind.clone().filter(|k| !k.is_empty()))?;
    let r = search::search(&s.ctx, auth.viewer("read:search")?, q).await?;
    let base = s.ctx.base_url();
    Ok(Json(json!({
        "accounts": r.accounts.iter().map(|a| entities::account(&s.ctx, a)).collect::<Vec<_>>(),
        "statuses": r.statuses.iter().map(|v| entities::status(&s.ctx, v)).collect::<Vec<_>>(),
        "hashtags": r.hashtags.iter().map(|t| json!({ "name": t, "url": crate::services::text::tag_url(&base, t), "history": [] })).collect::<Vec<_>>(),
    })))
}

pub async fn accounts(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<SearchParams>,
) -> ApiResult<Json<Vec<entities::AccountEntity>>> {
    let q = query(&p, Some("accounts".into()))?;
    let r = search::search(&s.ctx, auth.viewer("read:search")?, q).await?;
    Ok(Json(
        r.accounts
            .iter()
            .map(|a| entities::account(&s.ctx, a))
            .collect(),
    ))
}
