//! Following (with requests for locked accounts) and relationships.
use super::views::{self, AccountView};
use super::{Ctx, ServiceError, ServiceResult, accounts};
use crate::db::models::{Follow, LocalUser, Notification};
use crate::db::statuses::Page;
use crate::db::{self};
use crate::domain::NotificationKind;
use crate::ids;
use crate::services::remote::Outgoing;

/// How `viewer` and another account relate (Mastodon's Relationship).
#[derive(Debug, Clone, Default)]
pub struct Relationship {
    pub id: i64,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub followed_by: bool,
    pub requested: bool,
    pub requested_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
}

pub async fn relationships(
    ctx: &Ctx,
    viewer: i64,
    ids: &[i64],
) -> ServiceResult<Vec<Relationship>> {
    let mut conn = ctx.conn().await?;
    let follows = db::social::follows_between(&mut conn, viewer, ids).await?;
    let blocks = db::social::blocking::blocks_between(&mut conn, viewer, ids).await?;
    let mutes = db::social::blocking::mutes_of(&mut conn, viewer, ids).await?;
    Ok(ids
        .iter()
        .map(|&id| {
            let out = follows
                .iter()
                .find(|f| f.account_id == viewer && f.target_account_id == id);
            let inc = follows
                .iter()
                .find(|f| f.account_id == id && f.target_account_id == viewer);
            Relationship {
                id,
                following: out.is_some_and(|f| !f.pending),
                showing_reblogs: out.is_some_and(|f| !f.pending && f.show_reblogs),
                notifying: out.is_some_and(|f| !f.pending && f.notify),
                requested: out.is_some_and(|f| f.pending),
                followed_by: inc.is_some_and(|f| !f.pending),
                requested_by: inc.is_some_and(|f| f.pending),
                blocking: blocks.contains(&(viewer, id)),
                blocked_by: blocks.contains(&(id, viewer)),
                muting: mutes.iter().any(|(t, _)| *t == id),
                muting_notifications: mutes.iter().any(|(t, n)| *t == id && *n),
            }
        })
        .collect())
}

async fn relationship(ctx: &Ctx, viewer: i64, id: i64) -> ServiceResult<Relationship> {
    Ok(relationships(ctx, viewer, &[id]).await?.remove(0))
}

fn notification(recipient: i64, from: i64, kind: NotificationKind) -> Notification {
    Notification {
        id: ids::next_id(),
        account_id: recipient,
        from_account_id: from,
        kind,
        status_id: None,
        created_at: ids::now(),
    }
}

/// Follows (or updates `reblogs`/`notify` of an existing follow). A locked
/// account gets a request instead.
pub async fn follow(
    ctx: &Ctx,
    me: &LocalUser,
    target_id: i64,
    reblogs: Option<bool>,
    notify: Option<bool>,
) -> ServiceResult<Relationship> {
    let me_id = me.account.id;
    if target_id == me_id {
        return Err(ServiceError::Forbidden("You cannot follow yourself".into()));
    }
    let target = accounts::get(ctx, target_id).await?;
    let mut conn = ctx.conn().await?;
    let org_blocked = target.actor_type == crate::domain::ActorType::Group
        && target.local
        && db::memberships::blocked(&mut conn, target_id, &me.account).await?;
    if org_blocked
        || !db::social::blocking::blocks_between(&mut conn, me_id, &[target_id])
            .await?
            .is_empty()
    {
        return Err(ServiceError::Forbidden("This action is not allowed".into()));
    }
    let existing = db::social::find_follow(&mut conn, me_id, target_id).await?;
    let row = Follow {
        id: existing.as_ref().map_or_else(ids::next_id, |f| f.id),
        account_id: me_id,
        target_account_id: target_id,
        show_reblogs: reblogs.unwrap_or(existing.as_ref().is_none_or(|f| f.show_reblogs)),
        notify: notify.unwrap_or(existing.as_ref().is_some_and(|f| f.notify)),
        // A remote account answers with Accept; until then the follow is a request.
        pending: existing
            .as_ref()
            .map_or(target.locked || !target.local, |f| f.pending),
        created_at: existing.as_ref().map_or_else(ids::now, |f| f.created_at),
        uri: existing.as_ref().and_then(|f| f.uri.clone()),
    };
    let is_new = existing.is_none();
    let kind = if row.pending {
        NotificationKind::FollowRequest
    } else {
        NotificationKind::Follow
    };
    let notify_target = target.local;
    let note = notification(target_id, me_id, kind);
    let mut row = row;
    conn.transaction(async |tx| {
        if is_new && !target.local {
            row.uri = ctx
                .federate(
                    tx,
                    Outgoing::FollowRequested {
                        follower: &me.account,
                        target: &target,
                        follow_id: row.id,
                    },
                )
                .await?;
        }
        db::social::upsert_follow(tx, &row).await?;
        if is_new && notify_target {
            db::notifications::insert(tx, &note).await?;
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    if is_new && !target.local {
        ctx.wake_delivery();
    }
    if is_new && notify_target {
        super::streaming::notifications(ctx, std::slice::from_ref(&note));
    }
    relationship(ctx, me_id, target_id).await
}

pub async fn unfollow(ctx: &Ctx, me: &LocalUser, target_id: i64) -> ServiceResult<Relationship> {
    let target = accounts::get(ctx, target_id).await?;
    let me_id = me.account.id;
    let mut conn = ctx.conn().await?;
    let existing = db::social::find_follow(&mut conn, me_id, target_id).await?;
    conn.transaction(async |tx| {
        if let Some(f) = &existing
            && !target.local
        {
            ctx.federate(
                tx,
                Outgoing::FollowUndone {
                    follower: &me.account,
                    target: &target,
                    follow_uri: f.uri.clone(),
                },
            )
            .await?;
        }
        if db::social::delete_follow(tx, me_id, target_id).await? > 0 {
            db::notifications::retract(
                tx,
                target_id,
                me_id,
                crate::domain::NotificationKind::Follow,
                None,
            )
            .await?;
            db::notifications::retract(
                tx,
                target_id,
                me_id,
                crate::domain::NotificationKind::FollowRequest,
                None,
            )
            .await?;
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    if existing.is_some() && !target.local {
        ctx.wake_delivery();
    }
    relationship(ctx, me_id, target_id).await
}

/// Makes `follower_id` stop following me.
pub async fn remove_from_followers(
    ctx: &Ctx,
    me: &LocalUser,
    follower_id: i64,
) -> ServiceResult<Relationship> {
    accounts::get(ctx, follower_id).await?;
    let mut conn = ctx.conn().await?;
    db::social::delete_follow(&mut conn, follower_id, me.account.id).await?;
    drop(conn);
    relationship(ctx, me.account.id, follower_id).await
}

/// Answers a follow request to me.
pub async fn answer_request(
    ctx: &Ctx,
    me: &LocalUser,
    requester: i64,
    accept: bool,
) -> ServiceResult<Relationship> {
    let me_id = me.account.id;
    let mut conn = ctx.conn().await?;
    let request = match db::social::find_follow(&mut conn, requester, me_id).await? {
        Some(f) if f.pending => f,
        _ => return Err(ServiceError::not_found()),
    };
    let remote = db::accounts::find(&mut conn, requester)
        .await?
        .map(|(a, _)| a)
        .filter(|a| !a.local);
    conn.transaction(async |tx| {
        if let Some(r) = &remote {
            ctx.federate(
                tx,
                Outgoing::FollowAnswered {
                    followed: &me.account,
                    requester: r,
                    follow_uri: request.uri.clone(),
                    accepted: accept,
                },
            )
            .await?;
        }
        if accept {
            db::social::accept_follow(tx, requester, me_id).await?;
            db::notifications::retract(
                tx,
                me_id,
                requester,
                crate::domain::NotificationKind::FollowRequest,
                None,
            )
            .await?;
            db::notifications::insert(
                tx,
                &notification(me_id, requester, NotificationKind::Follow),
            )
            .await?;
        } else {
            db::social::delete_follow(tx, requester, me_id).await?;
            db::notifications::retract(
                tx,
                me_id,
                requester,
                crate::domain::NotificationKind::FollowRequest,
                None,
            )
            .await?;
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    if remote.is_some() {
        ctx.wake_delivery();
    }
    relationship(ctx, me_id, requester).await
}

/// Followers or followed accounts (`incoming`); hidden collections show only to their owner.
pub async fn follow_list(
    ctx: &Ctx,
    viewer: Option<i64>,
    account_id: i64,
    incoming: bool,
    page: Page,
) -> ServiceResult<Vec<(i64, AccountView)>> {
    let owner = accounts::get(ctx, account_id).await?;
    if owner.hide_collections && viewer != Some(account_id) {
        return Ok(vec![]);
    }
    list_views(ctx, account_id, incoming, false, page).await
}

pub async fn follow_requests(
    ctx: &Ctx,
    me: &LocalUser,
    page: Page,
) -> ServiceResult<Vec<(i64, AccountView)>> {
    list_views(ctx, me.account.id, true, true, page).await
}

async fn list_views(
    ctx: &Ctx,
    account_id: i64,
    incoming: bool,
    pending: bool,
    page: Page,
) -> ServiceResult<Vec<(i64, AccountView)>> {
    let mut conn = ctx.conn().await?;
    let rows = db::social::follow_list(&mut conn, account_id, incoming, pending, page).await?;
    drop(conn);
    with_views(ctx, rows).await
}

/// Attaches account views to (paging id, account) rows, keeping order.
pub async fn with_views(
    ctx: &Ctx,
    rows: Vec<(i64, crate::db::models::Account)>,
) -> ServiceResult<Vec<(i64, AccountView)>> {
    let (keys, accounts): (Vec<i64>, Vec<_>) = rows.into_iter().unzip();
    let views = views::accounts(ctx, accounts).await?;
    Ok(keys.into_iter().zip(views).collect())
}
