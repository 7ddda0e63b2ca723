//! Notifications as their recipient reads them.
use std::collections::HashMap;

use super::views::{self, AccountView, StatusView};
use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::{LocalUser, Notification};
use crate::db::statuses::Page;
use crate::db::{self};

pub struct NotificationView {
    pub notification: Notification,
    pub account: AccountView,
    pub status: Option<StatusView>,
}

async fn views_of(
    ctx: &Ctx,
    viewer: i64,
    list: Vec<Notification>,
) -> ServiceResult<Vec<NotificationView>> {
    let mut conn = ctx.conn().await?;
    let account_ids: Vec<i64> = list.iter().map(|n| n.from_account_id).collect();
    let status_ids: Vec<i64> = list.iter().filter_map(|n| n.status_id).collect();
    let accounts = db::accounts::find_many(&mut conn, &account_ids).await?;
    let statuses = db::statuses::find_many(&mut conn, &status_ids).await?;
    let visible = db::statuses::filter_visible(&mut conn, &status_ids, Some(viewer)).await?;
    drop(conn);
    let accounts: HashMap<i64, AccountView> = views::accounts(ctx, accounts)
        .await?
        .into_iter()
        .map(|v| (v.account.id, v))
        .collect();
    let statuses: HashMap<i64, StatusView> = views::statuses(
        ctx,
        Some(viewer),
        statuses
            .into_iter()
            .filter(|s| visible.contains(&s.id))
            .collect(),
    )
    .await?
    .into_iter()
    .map(|v| (v.status.id, v))
    .collect();
    Ok(list
        .into_iter()
        .filter_map(|n| {
            let account = accounts.get(&n.from_account_id)?.clone();
            let status = match n.status_id {
                Some(sid) => Some(statuses.get(&sid)?.clone()),
                None => None,
            };
            Some(NotificationView {
                notification: n,
                account,
                status,
            })
        })
        .collect())
}

pub async fn list(
    ctx: &Ctx,
    me: &LocalUser,
    include: Vec<String>,
    exclude: Vec<String>,
    page: Page,
) -> ServiceResult<Vec<NotificationView>> {
    let mut conn = ctx.conn().await?;
    let rows = db::notifications::list(&mut conn, me.account.id, &include, &exclude, page).await?;
    drop(conn);
    views_of(ctx, me.account.id, super::timelines::in_order(rows, page)).await
}

pub async fn get(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<NotificationView> {
    let mut conn = ctx.conn().await?;
    let n = db::notifications::find(&mut conn, me.account.id, id)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    drop(conn);
    views_of(ctx, me.account.id, vec![n])
        .await?
        .pop()
        .ok_or_else(ServiceError::not_found)
}

pub async fn dismiss(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    if db::notifications::dismiss(&mut conn, me.account.id, id).await? == 0 {
        return Err(ServiceError::not_found());
    }
    Ok(())
}

pub async fn clear(ctx: &Ctx, me: &LocalUser) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    db::notifications::clear(&mut conn, me.account.id).await?;
    Ok(())
}
