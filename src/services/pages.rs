//! What the public web pages of people and orgs show: anyone's view (no
//! sign-in), so only public and unlisted posts, by local accounts.
use super::views::{AccountView, StatusView};
use super::{Ctx, ServiceError, ServiceResult, accounts, statuses, timelines};
use crate::db::statuses::Page;
use crate::db::timelines::AccountFilter;

/// A local account's page: the account and its latest posts (no replies).
pub async fn profile(ctx: &Ctx, username: &str) -> ServiceResult<(AccountView, Vec<StatusView>)> {
    if username.contains('@') {
        return Err(ServiceError::not_found());
    }
    let view = accounts::lookup(ctx, username, false).await?;
    if !view.account.local {
        return Err(ServiceError::not_found());
    }
    let posts = timelines::account(
        ctx,
        None,
        view.account.id,
        AccountFilter {
            exclude_replies: true,
            ..Default::default()
        },
        Page {
            limit: 20,
            ..Default::default()
        },
    )
    .await?;
    Ok((view, posts))
}

/// One post of a local account, as anyone may see it (a boost is no page).
pub async fn post(ctx: &Ctx, username: &str, id: i64) -> ServiceResult<StatusView> {
    let view = statuses::get(ctx, None, id).await?;
    let author = &view.account.account;
    if !author.local
        || !author.username.eq_ignore_ascii_case(username)
        || view.status.reblog_of_id.is_some()
    {
        return Err(ServiceError::not_found());
    }
    Ok(view)
}
