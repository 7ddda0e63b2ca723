//! Timelines, favourites, bookmarks, and an account's statuses.
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

use super::auth::Auth;
use super::error::ApiResult;
use super::pagination::{Pager, statuses_page, timeline_page};
use super::statuses::parse_id;
use crate::app::AppState;
use crate::db::timelines::AccountFilter;
use crate::services::timelines::{self, TagQuery};
use crate::services::views::StatusView;

fn page_of(s: &AppState, paging: &super::pagination::Paging, views: &[StatusView]) -> Response {
    timeline_page(&s.ctx, paging, views)
}

/// Query values, Rails-style lists (`any[]=a&any[]=b`) included.
fn query_values(uri: &Uri, name: &str) -> Vec<String> {
    let list = format!("{name}[]");
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == name || *k == list)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

fn query_flag(uri: &Uri, name: &str) -> bool {
    query_values(uri, name)
        .iter()
        .any(|v| matches!(v.as_str(), "true" | "1" | "on"))
}

fn local_filter(uri: &Uri) -> Option<bool> {
    if query_flag(uri, "local") {
        Some(true)
    } else if query_flag(uri, "remote") {
        Some(false)
    } else {
        None
    }
}

pub async fn home(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
) -> ApiResult<Response> {
    let (_, me) = auth.user("read:statuses")?;
    let views = timelines::home(&s.ctx, me.account.id, paging.page).await?;
    Ok(page_of(&s, &paging, &views))
}

pub async fn public(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
    uri: Uri,
) -> ApiResult<Response> {
    let views = timelines::public(
        &s.ctx,
        auth.viewer("read:statuses")?,
        local_filter(&uri),
        query_flag(&uri, "only_media"),
        paging.page,
    )
    .await?;
    Ok(page_of(&s, &paging, &views))
}

pub async fn tag(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
    uri: Uri,
    Path(tag): Path<String>,
) -> ApiResult<Response> {
    let mut any = vec![tag];
    any.extend(query_values(&uri, "any"));
    let q = TagQuery {
        any,
        all: query_values(&uri, "all"),
        none: query_values(&uri, "none"),
        local: local_filter(&uri),
        only_media: query_flag(&uri, "only_media"),
    };
    let views = timelines::tag(&s.ctx, auth.viewer("read:statuses")?, q, paging.page).await?;
    Ok(page_of(&s, &paging, &views))
}

pub async fn account_statuses(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
    uri: Uri,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let filter = AccountFilter {
        only_media: query_flag(&uri, "only_media"),
        exclude_replies: query_flag(&uri, "exclude_replies"),
        exclude_reblogs: query_flag(&uri, "exclude_reblogs"),
        pinned: query_flag(&uri, "pinned"),
        tagged: query_values(&uri, "tagged")
            .pop()
            .map(|t| t.trim_start_matches('#').to_lowercase()),
    };
    let views = timelines::account(
        &s.ctx,
        auth.viewer("read:statuses")?,
        parse_id(&id)?,
        filter,
        paging.page,
    )
    .await?;
    Ok(page_of(&s, &paging, &views))
}

async fn marked(
    s: AppState,
    auth: Auth,
    paging: super::pagination::Paging,
    bookmarks: bool,
) -> ApiResult<Response> {
    let (_, me) = auth.user(if bookmarks {
        "read:bookmarks"
    } else {
        "read:favourites"
    })?;
    let rows = timelines::marked(&s.ctx, me.account.id, bookmarks, paging.page).await?;
    let rows: Vec<(i64, &StatusView)> = rows.iter().map(|(k, v)| (*k, v)).collect();
    Ok(statuses_page(&s.ctx, &paging, &rows))
}

pub async fn favourites(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
) -> ApiResult<Response> {
    marked(s, auth, paging, false).await
}

pub async fn bookmarks(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
) -> ApiResult<Response> {
    marked(s, auth, paging, true).await
}

/// `GET /api/v1/orgs/:id/timeline`.
pub async fn org(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = super::statuses::parse_id(&id)?;
    let views = timelines::org(&s.ctx, auth.viewer("read:statuses")?, id, paging.page).await?;
    Ok(page_of(&s, &paging, &views))
}
