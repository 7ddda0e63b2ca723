//! Errors as Mastodon clients expect them: `{"error": "..."}` with the right
//! status (plus `details` for validation, `error_description` for OAuth).
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::services::ServiceError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, msg: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({ "error": msg.into() }),
        }
    }
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, msg)
    }
    /// 422 without a particular field (`details` is still present: clients
    /// and the OpenAPI schema expect it on every 422).
    pub fn unprocessable(msg: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "error": msg.into(), "details": {} }),
        }
    }
    /// 422 for one request parameter, named in `details` as Rails names it.
    pub fn invalid_param(field: &str, why: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({
                "error": format!("Invalid parameter {field}: {why}"),
                "details": { field: [{ "error": "ERR_INVALID", "description": why.to_string() }] },
            }),
        }
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Record not found")
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            ServiceError::BadRequest(m) => ApiError::bad_request(m),
            ServiceError::Validation(ref errs) => {
                let mut details: Map<String, Value> = Map::new();
                for f in errs {
                    let entry = details
                        .entry(f.field)
                        .or_insert_with(|| Value::Array(vec![]));
                    if let Value::Array(list) = entry {
                        list.push(json!({ "error": f.code, "description": f.description }));
                    }
                }
                ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    body: json!({ "error": e.to_string(), "details": details }),
                }
            }
            ServiceError::Unauthorized(m) => ApiError::new(StatusCode::UNAUTHORIZED, m),
            ServiceError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, m),
            ServiceError::Unavailable => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            ServiceError::RateLimited => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
            }
            ServiceError::OAuth { code, description } => {
                let status = match code {
                    "invalid_client" => StatusCode::UNAUTHORIZED,
                    "unauthorized_client" => StatusCode::FORBIDDEN,
                    _ => StatusCode::BAD_REQUEST,
                };
                ApiError {
                    status,
                    body: json!({ "error": code, "error_description": description }),
                }
            }
            ServiceError::Remote(ref detail) => {
                tracing::info!(%detail, "a remote fetch failed");
                ApiError::bad_request(e.to_string())
            }
            ServiceError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        }
    }
}

/// How long a client told 503 should wait (the pool is busy for moments).
const RETRY_AFTER_SECS: &str = "2";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            return (
                self.status,
                [(axum::http::header::RETRY_AFTER, RETRY_AFTER_SECS)],
                Json(self.body),
            )
                .into_response();
        }
        (self.status, Json(self.body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
