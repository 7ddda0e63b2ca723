//! Mastodon pagination: `max_id`, `since_id`, `min_id`, `limit` in, a `Link`
//! header (`rel="next"` first, then `rel="prev"`) out. Works for lists paged
//! by status IDs and by internal IDs (favourites, follows) alike.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Uri};

use super::error::ApiError;
use crate::db::statuses::Page;

pub const DEFAULT_LIMIT: i64 = 20;

/// The page a request asks for, and where it was asked (to build the links).
pub struct Paging {
    pub page: Page,
    uri: Uri,
    base: String,
}

fn parse_id(name: &str, v: &str) -> Result<Option<i64>, ApiError> {
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<i64>()
        .map(Some)
        .map_err(|_| ApiError::bad_request(format!("Invalid parameter {name}: not an ID")))
}

impl Paging {
    pub fn from_uri(uri: &Uri, max: i64, base: String) -> Result<Paging, ApiError> {
        let mut page = Page {
            limit: DEFAULT_LIMIT.min(max),
            ..Default::default()
        };
        for (k, v) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "max_id" => page.max_id = parse_id("max_id", &v)?,
                "since_id" => page.since_id = parse_id("since_id", &v)?,
                "min_id" => page.min_id = parse_id("min_id", &v)?,
                "limit" if !v.is_empty() => {
                    let n: i64 = v.parse().map_err(|_| {
                        ApiError::bad_request("Invalid parameter limit: not a number")
                    })?;
                    page.limit = n.clamp(1, max);
                }
                _ => {}
            }
        }
        Ok(Paging {
            page,
            uri: uri.clone(),
            base,
        })
    }

    /// The `Link` header for a page whose items have these paging keys (in
    /// response order, newest first); none for an empty page.
    pub fn link(&self, keys: &[i64]) -> Option<HeaderValue> {
        let (newest, oldest) = (keys.first()?, keys.last()?);
        let other: Vec<(String, String)> =
            form_urlencoded::parse(self.uri.query().unwrap_or_default().as_bytes())
                .filter(|(k, _)| !matches!(k.as_ref(), "max_id" | "since_id" | "min_id"))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        let url = |key: &str, id: i64| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.extend_pairs(&other);
            q.append_pair(key, &id.to_string());
            format!("<{}{}?{}>", self.base, self.uri.path(), q.finish())
        };
        HeaderValue::from_str(&format!(
            "{}; rel=\"next\", {}; rel=\"prev\"",
            url("max_id", *oldest),
            url("min_id", *newest)
        ))
        .ok()
    }
}

/// Extracts paging with Mastodon's usual maximum of 40 per page.
pub struct Pager(pub Paging);

impl FromRequestParts<crate::app::AppState> for Pager {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::app::AppState,
    ) -> Result<Self, ApiError> {
        Ok(Pager(Paging::from_uri(
            &parts.uri,
            40,
            state.ctx.base_url(),
        )?))
    }
}

/// A JSON list with its `Link` header.
pub fn paged<T: serde::Serialize>(
    paging: &Paging,
    keys: &[i64],
    items: T,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut resp = axum::Json(items).into_response();
    if let Some(link) = paging.link(keys) {
        resp.headers_mut().insert(axum::http::header::LINK, link);
    }
    resp
}

/// A page of accounts keyed by their paging ids (follows, blocks, favourites...).
pub fn accounts_page(
    ctx: &crate::services::Ctx,
    paging: &Paging,
    rows: &[(i64, crate::services::views::AccountView)],
) -> axum::response::Response {
    let keys: Vec<i64> = rows.iter().map(|(k, _)| *k).collect();
    let list: Vec<_> = rows
        .iter()
        .map(|(_, v)| super::entities::account(ctx, v))
        .collect();
    paged(paging, &keys, list)
}

/// A page of statuses keyed by their paging ids (the status, or a favourite or bookmark).
pub fn statuses_page(
    ctx: &crate::services::Ctx,
    paging: &Paging,
    rows: &[(i64, &crate::services::views::StatusView)],
) -> axum::response::Response {
    let keys: Vec<i64> = rows.iter().map(|(k, _)| *k).collect();
    let list: Vec<_> = rows
        .iter()
        .map(|(_, v)| super::entities::status(ctx, v))
        .collect();
    paged(paging, &keys, list)
}

/// A timeline page: statuses keyed by their own ids.
pub fn timeline_page(
    ctx: &crate::services::Ctx,
    paging: &Paging,
    views: &[crate::services::views::StatusView],
) -> axum::response::Response {
    let rows: Vec<(i64, &crate::services::views::StatusView)> =
        views.iter().map(|v| (v.status.id, v)).collect();
    statuses_page(ctx, paging, &rows)
}
