//! Posting and everything people do with statuses: edit, delete, threads,
//! favourites, reblogs, bookmarks and pins. Each change and the notifications
//! it causes are written in one transaction.
mod create;
mod edit;
mod interactions;
pub mod pipeline;
mod threads;

pub use create::*;
pub use edit::*;
pub use interactions::*;
pub use threads::*;

use crate::domain::{NotificationKind, Visibility};
use std::collections::HashMap;

use super::views::{self, StatusView};
use super::{Ctx, ServiceError, ServiceResult, streaming, text};
use crate::db::models::{
    Account, Bookmark, Favourite, LocalUser, Notification, Status, StatusEdit, StatusPin,
};
use crate::db::{self, DbConn};
use crate::ids;

pub const MAX_CHARS: usize = 500;

pub const MAX_PINS: usize = 5;

fn notification(
    recipient: i64,
    from: i64,
    kind: NotificationKind,
    status_id: Option<i64>,
) -> Notification {
    Notification {
        id: ids::next_id(),
        account_id: recipient,
        from_account_id: from,
        kind,
        status_id,
        created_at: ids::now(),
    }
}

/// A status the viewer may see.
pub async fn get(ctx: &Ctx, viewer: Option<i64>, id: i64) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = db::statuses::find_visible(&mut conn, id, viewer)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    drop(conn);
    views::status(ctx, viewer, s).await
}

async fn own(conn: &mut DbConn<'_>, me: &LocalUser, id: i64) -> ServiceResult<Status> {
    match db::statuses::find(conn, id).await? {
        Some(s) if s.account_id == me.account.id && s.reblog_of_id.is_none() => Ok(s),
        _ => Err(ServiceError::not_found()),
    }
}
