//! `POST /api/v1/apps`, `GET /api/v1/apps/verify_credentials`.
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Auth;
use super::entities;
use super::error::ApiResult;
use super::params::{Params, de};
use crate::app::AppState;
use crate::services::oauth::{self, NewApp};
use crate::services::scopes;

#[derive(Deserialize)]
pub struct CreateApp {
    #[serde(default, deserialize_with = "de::string_opt")]
    client_name: Option<String>,
    #[serde(default, deserialize_with = "de::uri_list")]
    redirect_uris: Vec<String>,
    #[serde(default, deserialize_with = "de::scope_string")]
    scopes: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    website: Option<String>,
}

pub async fn create(
    State(s): State<AppState>,
    Params { value: p, .. }: Params<CreateApp>,
) -> ApiResult<Json<Value>> {
    let new = NewApp {
        name: p.client_name.unwrap_or_default(),
        redirect_uris: p.redirect_uris,
        scopes: p.scopes,
        website: p.website,
    };
    let created = oauth::create_app(&s.ctx, new).await?;
    Ok(Json(entities::application(
        &created.app,
        Some(&created.client_secret),
    )))
}

pub async fn verify_credentials(auth: Auth) -> ApiResult<Json<Value>> {
    // Any valid token of the app will do, as on Mastodon.
    let caller = auth.token(scopes::TOP)?;
    Ok(Json(entities::application(&caller.app, None)))
}
