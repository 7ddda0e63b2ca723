//! `/api/v1/instance`, `/api/v2/instance` and friends.
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::entities;
use super::error::ApiResult;
use crate::app::AppState;
use crate::services::{instance, scopes};

pub async fn v1(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let facts = instance::facts(&s.ctx).await?;
    Ok(Json(entities::instance_v1(&s.ctx, &facts)))
}

pub async fn v2(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let facts = instance::facts(&s.ctx).await?;
    Ok(Json(entities::instance_v2(&s.ctx, &facts)))
}

pub async fn rules(State(s): State<AppState>) -> Json<Value> {
    Json(entities::instance_rules(&s.ctx))
}

pub async fn custom_emojis() -> Json<Value> {
    Json(json!([]))
}

/// RFC 8414 metadata; clients discover endpoints and scopes here.
pub async fn oauth_metadata(State(s): State<AppState>) -> Json<Value> {
    let base = s.ctx.base_url();
    let mut grants = vec!["authorization_code", "client_credentials", "refresh_token"];
    if s.ctx.config.oauth.password_grant {
        grants.push("password");
    }
    Json(json!({
        "issuer": format!("{base}/"),
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "userinfo_endpoint": format!("{base}/oauth/userinfo"),
        "app_registration_endpoint": format!("{base}/api/v1/apps"),
        "scopes_supported": scopes::TOP.iter().chain(scopes::GRANULAR).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": grants,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
}

pub async fn health(State(s): State<AppState>) -> (axum::http::StatusCode, Json<Value>) {
    match instance::health(&s.ctx).await {
        Ok(()) => (
            axum::http::StatusCode::OK,
            Json(json!({ "status": "ok", "database": s.ctx.db.backend().name() })),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "error", "database": "unreachable" })),
            )
        }
    }
}

pub async fn peers(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(instance::peers(&s.ctx).await?)))
}

/// Counts are strings, as in Mastodon.
pub async fn activity(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let weeks = instance::activity(&s.ctx).await?;
    Ok(Json(Value::Array(
        weeks
            .iter()
            .map(|w| {
                json!({
                    "week": w.week_start.to_string(),
                    "statuses": w.statuses.to_string(),
                    "logins": w.logins.to_string(),
                    "registrations": w.registrations.to_string(),
                })
            })
            .collect(),
    )))
}
