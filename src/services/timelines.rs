//! Timelines as the viewer sees them.
use super::views::{self, StatusView};
use super::{Ctx, ServiceResult, accounts, organize};
use crate::db::statuses::Page;
use crate::db::timelines::AccountFilter;
use crate::db::{self};
use crate::domain::FilterContext;

pub async fn home(ctx: &Ctx, viewer: i64, page: Page) -> ServiceResult<Vec<StatusView>> {
    let mut conn = ctx.conn().await?;
    let rows = db::timelines::home(&mut conn, viewer, page).await?;
    drop(conn);
    let views = views::statuses(ctx, Some(viewer), in_order(rows, page)).await?;
    organize::apply_filters(ctx, viewer, FilterContext::Home, views).await
}

pub async fn public(
    ctx: &Ctx,
    viewer: Option<i64>,
    local: Option<bool>,
    only_media: bool,
    page: Page,
) -> ServiceResult<Vec<StatusView>> {
    let mut conn = ctx.conn().await?;
    let rows = db::timelines::public(&mut conn, viewer, local, only_media, page).await?;
    drop(conn);
    filtered(
        ctx,
        viewer,
        FilterContext::Public,
        views::statuses(ctx, viewer, in_order(rows, page)).await?,
    )
    .await
}

pub use crate::db::timelines::TagQuery;

pub async fn tag(
    ctx: &Ctx,
    viewer: Option<i64>,
    q: TagQuery,
    page: Page,
) -> ServiceResult<Vec<StatusView>> {
    let lower = |v: Vec<String>| {
        v.into_iter()
            .map(|t| t.trim_start_matches('#').to_lowercase())
            .collect::<Vec<_>>()
    };
    let tq = TagQuery {
        any: lower(q.any),
        all: lower(q.all),
        none: lower(q.none),
        ..q
    };
    let mut conn = ctx.conn().await?;
    let rows = db::timelines::tagged(&mut conn, viewer, &tq, page).await?;
    drop(conn);
    filtered(
        ctx,
        viewer,
        FilterContext::Public,
        views::statuses(ctx, viewer, in_order(rows, page)).await?,
    )
    .await
}

pub async fn account(
    ctx: &Ctx,
    viewer: Option<i64>,
    account_id: i64,
    filter: AccountFilter,
    page: Page,
) -> ServiceResult<Vec<StatusView>> {
    accounts::get(ctx, account_id).await?;
    let mut conn = ctx.conn().await?;
    let rows = db::timelines::account(&mut conn, viewer, account_id, &filter, page).await?;
    drop(conn);
    filtered(
        ctx,
        viewer,
        FilterContext::Account,
        views::statuses(ctx, viewer, in_order(rows, page)).await?,
    )
    .await
}

/// Favourites or bookmarks (`bookmarks`), paged by the mark's id: (mark id, view).
pub async fn marked(
    ctx: &Ctx,
    viewer: i64,
    bookmarks: bool,
    page: Page,
) -> ServiceResult<Vec<(i64, StatusView)>> {
    let mut conn = ctx.conn().await?;
    let rows = if bookmarks {
        db::timelines::bookmarks(&mut conn, viewer, page).await?
    } else {
        db::timelines::favourites(&mut conn, viewer, page).await?
    };
    drop(conn);
    let rows = in_order(rows, page);
    let keys: Vec<(i64, i64)> = rows.iter().map(|(k, s)| (*k, s.id)).collect();
    let views = views::statuses(
        ctx,
        Some(viewer),
        rows.into_iter().map(|(_, s)| s).collect(),
    )
    .await?;
    // A view may be missing (its account vanished): pair by status id.
    let mut by_id: std::collections::HashMap<i64, StatusView> =
        views.into_iter().map(|v| (v.status.id, v)).collect();
    Ok(keys
        .into_iter()
        .filter_map(|(k, id)| by_id.remove(&id).map(|v| (k, v)))
        .collect())
}

async fn filtered(
    ctx: &Ctx,
    viewer: Option<i64>,
    context: FilterContext,
    views: Vec<StatusView>,
) -> ServiceResult<Vec<StatusView>> {
    match viewer {
        Some(v) => organize::apply_filters(ctx, v, context, views).await,
        None => Ok(views),
    }
}

/// `min_id` pages come out oldest first; clients want newest first.
pub fn in_order<T>(mut rows: Vec<T>, page: Page) -> Vec<T> {
    if page.min_id.is_some() {
        rows.reverse();
    }
    rows
}

/// An org's timeline: its posts and posts into it, as the viewer may see them
/// (members-only posts for its verified members).
pub async fn org(
    ctx: &Ctx,
    viewer: Option<i64>,
    org_id: i64,
    page: Page,
) -> ServiceResult<Vec<StatusView>> {
    let mut conn = ctx.conn().await?;
    // Local orgs and remote groups alike (what reached this server).
    db::accounts::find(&mut conn, org_id)
        .await?
        .filter(|(a, _)| a.actor_type == crate::domain::ActorType::Group)
        .ok_or_else(super::ServiceError::not_found)?;
    let rows = db::timelines::org(&mut conn, viewer, org_id, page).await?;
    drop(conn);
    filtered(
        ctx,
        viewer,
        FilterContext::Public,
        views::statuses(ctx, viewer, in_order(rows, page)).await?,
    )
    .await
}

/// An account's pinned posts as `viewer` may see them (an org's: its
/// announcements).
pub async fn pinned(
    ctx: &Ctx,
    viewer: Option<i64>,
    account_id: i64,
) -> ServiceResult<Vec<StatusView>> {
    let filter = AccountFilter {
        pinned: true,
        ..Default::default()
    };
    let page = Page {
        limit: 20,
        ..Default::default()
    };
    account(ctx, viewer, account_id, filter, page).await
}

/// The pinned posts of the orgs here the viewer is a member of (the web's
/// home page shows them above the timeline), newest first.
pub async fn org_announcements(ctx: &Ctx, viewer: i64) -> ServiceResult<Vec<StatusView>> {
    let mut found: Vec<_> = super::orgs::announcements(ctx, viewer)
        .await?
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    found.sort_by_key(|s| std::cmp::Reverse(s.id));
    found.truncate(5);
    views::statuses(ctx, Some(viewer), found).await
}
