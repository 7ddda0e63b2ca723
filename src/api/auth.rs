//! Bearer tokens and scopes. Every handler states the scope it needs:
//! `auth.user("read:accounts")?`.
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::app::AppState;
use crate::db::models::LocalUser;
use crate::services::oauth::{self, Caller};

/// The caller, if the request carried a token. A token that is present but
/// invalid, expired or revoked is rejected here with 401.
pub struct Auth(pub Option<Caller>);

/// The token from `Authorization: Bearer ...` or, as Doorkeeper allows, `?access_token=`.
pub fn bearer_token(parts: &Parts) -> Option<String> {
    bearer_of(&parts.headers, &parts.uri)
}

pub fn bearer_of(headers: &axum::http::HeaderMap, uri: &axum::http::Uri) -> Option<String> {
    if let Some(h) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = h.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned())
            .filter(|t| !t.is_empty());
    }
    let q = uri.query()?;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned())
        .filter(|t| !t.is_empty())
}

/// The caller the rate limiter already authenticated (it keys on the token),
/// so the handler's extractor does not look the token up twice.
#[derive(Clone)]
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(Authenticated(caller)) = parts.extensions.remove::<Authenticated>() {
            return Ok(Auth(Some(caller)));
        }
        match bearer_token(parts) {
            None => Ok(Auth(None)),
            Some(t) => Ok(Auth(Some(oauth::authenticate(&state.ctx, &t).await?))),
        }
    }
}

fn scope_error() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "This action is outside the authorized scopes",
    )
}

impl Auth {
    /// A token of any kind (app or user) holding one of `scopes`.
    pub fn token(&self, scopes: &[&str]) -> Result<&Caller, ApiError> {
        let caller = self.0.as_ref().ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "The access token is invalid")
        })?;
        if !caller.scopes.allows_any(scopes) {
            return Err(scope_error());
        }
        Ok(caller)
    }

    /// A user token holding `scope`.
    pub fn user(&self, scope: &str) -> Result<(&Caller, &LocalUser), ApiError> {
        self.user_any(&[scope])
    }

    pub fn user_any(&self, scopes: &[&str]) -> Result<(&Caller, &LocalUser), ApiError> {
        let caller = self.token(scopes)?;
        let account = caller
            .account
            .as_ref()
            .ok_or_else(|| ApiError::unprocessable("This method requires an authenticated user"))?;
        Ok((caller, account))
    }

    /// For endpoints anyone may call: the signed-in person's account id, or None
    /// without a token (a token that is present must hold `scope`).
    pub fn viewer(&self, scope: &str) -> Result<Option<i64>, ApiError> {
        match &self.0 {
            None => Ok(None),
            Some(_) => Ok(Some(self.user(scope)?.1.account.id)),
        }
    }

    /// Like `viewer`, with the signed-in person's account and user rows.
    pub fn optional_user(&self, scope: &str) -> Result<Option<&LocalUser>, ApiError> {
        match &self.0 {
            None => Ok(None),
            Some(_) => Ok(Some(self.user(scope)?.1)),
        }
    }

    /// A local admin's user token holding `scope`.
    pub fn admin(&self, scope: &str) -> Result<(&Caller, &LocalUser), ApiError> {
        let (c, a) = self.user(scope)?;
        if !a.user.is_admin {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "This action is not allowed",
            ));
        }
        Ok((c, a))
    }
}
