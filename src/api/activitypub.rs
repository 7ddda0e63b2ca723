//! ActivityPub and discovery endpoints: WebFinger, NodeInfo, host-meta,
//! actors, objects, collections and inboxes. Thin: they call
//! `federation::serve` and render.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::federation::inbox::{Inbound, Refusal};
use crate::federation::serve as fed;
use crate::services::ServiceError;

pub const AP_JSON: &str = "application/activity+json";

/// Whether the client asked for ActivityPub JSON rather than HTML.
pub fn wants_activity_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.contains("application/activity+json")
                || (a.contains("application/ld+json") && a.contains("activitystreams"))
                || a.contains("application/ld+json")
        })
}

fn activity_json(doc: Value) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/activity+json; charset=utf-8",
        )],
        doc.to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct WebfingerQuery {
    resource: Option<String>,
}

pub async fn webfinger(
    State(s): State<AppState>,
    Query(q): Query<WebfingerQuery>,
) -> ApiResult<Response> {
    let resource = q
        .resource
        .ok_or_else(|| ApiError::bad_request("Missing parameter: resource"))?;
    let jrd = fed::webfinger(&s.ctx, &resource).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/jrd+json; charset=utf-8")],
        jrd.to_string(),
    )
        .into_response())
}

pub async fn host_meta(State(s): State<AppState>) -> Response {
    let base = s.ctx.base_url();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" template=\"{base}/.well-known/webfinger?resource={{uri}}\"/>\n</XRD>\n"
    );
    (
        [(header::CONTENT_TYPE, "application/xrd+xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

pub async fn nodeinfo_links(State(s): State<AppState>) -> Json<Value> {
    Json(fed::nodeinfo_links(&s.ctx))
}

pub async fn nodeinfo(
    State(s): State<AppState>,
    Path(version): Path<String>,
) -> ApiResult<Response> {
    let doc = fed::nodeinfo(&s.ctx, &version).await?;
    let profile = format!(
        "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{version}#\""
    );
    Ok(([(header::CONTENT_TYPE, profile)], doc.to_string()).into_response())
}

/// `/users/:name`: the actor document, or the profile page for browsers.
pub async fn actor(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    if !wants_activity_json(&headers) {
        return Ok(Redirect::to(&format!("/@{name}")).into_response());
    }
    Ok(activity_json(fed::actor_document(&s.ctx, &name).await?))
}

/// `/actor`: the instance actor (always JSON: there is no page for it).
pub async fn instance_actor(State(s): State<AppState>) -> ApiResult<Response> {
    Ok(activity_json(fed::instance_actor_document(&s.ctx).await?))
}

/// `/users/:name/statuses/:id`: the Note (members-only ones need a signed
/// fetch by a member; see `status_document`).
pub async fn status_object(
    State(s): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    if !wants_activity_json(&headers) {
        return Ok(Redirect::to(&format!("/@{name}/{id}")).into_response());
    }
    let id = id.parse().map_err(|_| ApiError::not_found())?;
    // Most fetches are of public posts: check a signature only when needed.
    match fed::status_document(&s.ctx, &name, id, None).await {
        Err(ServiceError::NotFound(_)) if headers.contains_key("signature") => {}
        other => return Ok(activity_json(other?)),
    }
    let signer = signed_by(&s, &method, &uri, &headers).await?;
    Ok(activity_json(
        fed::status_document(&s.ctx, &name, id, signer.as_ref()).await?,
    ))
}

/// The verified signer of a signed GET (none if unsigned; 401 if the
/// signature cannot be read).
async fn signed_by(
    s: &AppState,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> ApiResult<Option<crate::db::models::Account>> {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    crate::federation::inbox::signer(
        &s.ctx,
        crate::federation::signatures::SignedRequest {
            method: method.as_str(),
            path_and_query: path,
            scheme: s.ctx.config.scheme(),
            authority: &s.ctx.config.server.domain,
            header: &header,
            body: None,
        },
    )
    .await
    .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, format!("signature: {e}")))
}

/// `/users/:name/alumni/:org_id`: what a member releases to one org's
/// people, to a fetch signed by the org or one of its members (404 to
/// anyone else, signed or not).
pub async fn alumni_object(
    State(s): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path((name, org)): Path<(String, String)>,
) -> ApiResult<Response> {
    let org = org.parse().map_err(|_| ApiError::not_found())?;
    let signer = match headers.contains_key("signature") {
        true => signed_by(&s, &method, &uri, &headers).await?,
        false => None,
    };
    Ok(activity_json(
        crate::federation::alumni::serve(&s.ctx, &name, org, signer.as_ref()).await?,
    ))
}

/// `/ns`: the JSON-LD context of our extension terms.
pub async fn namespace() -> Response {
    (
        [(header::CONTENT_TYPE, "application/ld+json; charset=utf-8")],
        fed::namespace_document().to_string(),
    )
        .into_response()
}

/// `/users/:name/{outbox,followers,following}`: counts only (collections are
/// not enumerated: who follows whom is not published).
pub async fn collection(
    State(s): State<AppState>,
    Path((name, which)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(activity_json(fed::collection(&s.ctx, &name, &which).await?))
}

/// `/users/:name/collections/{featured,recognized}`: the pinned public posts;
/// the clubs an org recognises.
pub async fn named_collection(
    State(s): State<AppState>,
    Path((name, which)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(activity_json(
        fed::named_collection(&s.ctx, &name, &which).await?,
    ))
}

/// Both the shared inbox and per-actor inboxes.
pub async fn inbox(
    State(s): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lookup = |name: &str| -> Option<String> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    let inbound = Inbound {
        method: method.as_str(),
        path_and_query: &path,
        header: &lookup,
        body: &body,
    };
    match crate::federation::inbox::receive(&s.ctx, inbound).await {
        Ok(_) => StatusCode::ACCEPTED.into_response(),
        Err(Refusal::Signature(e)) => {
            ApiError::new(StatusCode::UNAUTHORIZED, e.to_string()).into_response()
        }
        Err(Refusal::Unauthorized(m)) => ApiError::new(StatusCode::UNAUTHORIZED, m).into_response(),
        Err(Refusal::Forbidden(m)) => ApiError::new(StatusCode::FORBIDDEN, m).into_response(),
        Err(Refusal::BadRequest(m)) => ApiError::bad_request(m).into_response(),
        Err(e @ Refusal::Busy(secs)) => (
            [(axum::http::header::RETRY_AFTER, secs.to_string())],
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        )
            .into_response(),
        Err(Refusal::Internal(e)) => ApiError::from(e).into_response(),
    }
}
