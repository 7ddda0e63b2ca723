//! `POST /oauth/token` and `POST /oauth/revoke` (the HTML consent page lives in `web`).
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::entities;
use super::error::{ApiError, ApiResult};
use super::params::{Params, de};
use super::ratelimit::client_ip;
use crate::app::AppState;
use crate::services::ServiceError;
use crate::services::oauth::{self, TokenRequest};

#[derive(Deserialize, Default)]
pub struct TokenParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    grant_type: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    code: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    redirect_uri: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    client_secret: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    code_verifier: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "de::scope_string")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    username: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    password: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    token: Option<String>,
}

/// The client's id and secret: HTTP Basic (client_secret_basic) wins over the body.
fn client_credentials(
    headers: &HeaderMap,
    p: &mut TokenParams,
) -> (Option<String>, Option<String>) {
    match basic_credentials(headers) {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (p.client_id.take(), p.client_secret.take()),
    }
}

/// Client credentials from `Authorization: Basic`, if sent.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let h = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = h.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    let dec = |x: &str| {
        form_urlencoded::parse(format!("a={x}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((dec(id)?, dec(secret)?))
}

pub async fn token(
    State(s): State<AppState>,
    peer: crate::api::ratelimit::PeerAddr,
    headers: HeaderMap,
    Params { value: mut p, .. }: Params<TokenParams>,
) -> ApiResult<Json<Value>> {
    let (client_id, client_secret) = client_credentials(&headers, &mut p);
    let grant_type = p.grant_type.unwrap_or_default();
    if grant_type == "password" {
        // Guessing passwords through the token endpoint costs the same budget as the sign-in page.
        let ip = client_ip(&headers, peer.0, s.ctx.config.server.trust_forwarded_for);
        if !s.limits.login.check(&ip).allowed {
            return Err(ServiceError::RateLimited.into());
        }
    }
    let req = TokenRequest {
        grant_type,
        code: p.code,
        redirect_uri: p.redirect_uri,
        client_id,
        client_secret,
        code_verifier: p.code_verifier,
        refresh_token: p.refresh_token,
        scope: p.scope,
        username: p.username,
        password: p.password,
    };
    let issued = oauth::token(&s.ctx, req).await?;
    Ok(Json(entities::token(&issued)))
}

pub async fn revoke(
    State(s): State<AppState>,
    headers: HeaderMap,
    Params { value: mut p, .. }: Params<TokenParams>,
) -> ApiResult<Json<Value>> {
    let (client_id, client_secret) = client_credentials(&headers, &mut p);
    let token = p.token.filter(|t| !t.is_empty()).ok_or_else(|| {
        ApiError::from(ServiceError::oauth(
            "invalid_request",
            "The request is missing the token parameter.",
        ))
    })?;
    let client_id = client_id.unwrap_or_default();
    oauth::revoke(&s.ctx, &client_id, client_secret.as_deref(), &token).await?;
    Ok(Json(json!({})))
}

/// `GET /oauth/userinfo` (OpenID Connect style, as Mastodon 4.4): who the token belongs to.
pub async fn userinfo(
    State(s): State<AppState>,
    auth: super::auth::Auth,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user_any(&["profile", "read:accounts"])?;
    let view = crate::services::views::account(&s.ctx, me.account.clone()).await?;
    let e = entities::account(&s.ctx, &view);
    Ok(Json(json!({
        "iss": format!("{}/", s.ctx.base_url()),
        "sub": e.uri,
        "name": if e.display_name.is_empty() { e.username.clone() } else { e.display_name.clone() },
        "preferred_username": e.username,
        "profile": e.url,
        "picture": e.avatar,
    })))
}
