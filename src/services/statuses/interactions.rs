//! What others do with a post: favourites, bookmarks, pins, reblogs, and who did them.
use super::*;
use crate::services::remote::Outgoing;

/// The row of a reblog (boost) of `of` by `account_id`; `uri` is the remote
/// Announce's id (None for ours).
pub fn reblog_row(account_id: i64, of: i64, visibility: Visibility, uri: Option<String>) -> Status {
    let now = ids::now();
    Status {
        id: ids::next_id(),
        account_id,
        local: uri.is_none(),
        uri,
        url: None,
        text: String::new(),
        content: String::new(),
        spoiler_text: String::new(),
        visibility,
        sensitive: false,
        language: None,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        reblog_of_id: Some(of),
        application_id: None,
        created_at: now,
        updated_at: now,
        edited_at: None,
        audience_id: None,
    }
}

/// The status to act on: visible to the actor, and the original when given a reblog.
pub(super) async fn target(
    conn: &mut DbConn<'_>,
    me: &LocalUser,
    id: i64,
) -> ServiceResult<Status> {
    let s = db::statuses::find_visible(conn, id, Some(me.account.id))
        .await?
        .ok_or_else(ServiceError::not_found)?;
    match s.reblog_of_id {
        Some(orig) => db::statuses::find_visible(conn, orig, Some(me.account.id))
            .await?
            .ok_or_else(ServiceError::not_found),
        None => Ok(s),
    }
}

pub async fn favourite(ctx: &Ctx, me: &LocalUser, id: i64, on: bool) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = target(&mut conn, me, id).await?;
    let (actor, author, sid) = (me.account.id, s.account_id, s.id);
    let note = notification(author, actor, NotificationKind::Favourite, Some(sid));
    let notified = conn
        .transaction(async |tx| {
            if on {
                let fav = Favourite {
                    id: ids::next_id(),
                    account_id: actor,
                    status_id: sid,
                    created_at: ids::now(),
                };
                if db::social::favourite::add(tx, &fav).await? {
                    ctx.federate(
                        tx,
                        Outgoing::Favourited {
                            by: &me.account,
                            status: &s,
                            on: true,
                        },
                    )
                    .await?;
                    if author != actor && is_local(tx, author).await? {
                        db::notifications::insert(tx, &note).await?;
                        return Ok::<_, ServiceError>(true);
                    }
                }
            } else if db::social::favourite::remove(tx, actor, sid).await? > 0 {
                ctx.federate(
                    tx,
                    Outgoing::Favourited {
                        by: &me.account,
                        status: &s,
                        on: false,
                    },
                )
                .await?;
                db::notifications::retract(
                    tx,
                    author,
                    actor,
                    crate::domain::NotificationKind::Favourite,
                    Some(sid),
                )
                .await?;
            }
            Ok(false)
        })
        .await?;
    ctx.wake_delivery();
    if notified {
        streaming::notifications(ctx, std::slice::from_ref(&note));
    }
    drop(conn);
    views::status(ctx, Some(actor), s).await
}

pub(super) async fn is_local(conn: &mut DbConn<'_>, account_id: i64) -> ServiceResult<bool> {
    Ok(db::accounts::find(conn, account_id)
        .await?
        .is_some_and(|(a, _)| a.local))
}

pub async fn bookmark(ctx: &Ctx, me: &LocalUser, id: i64, on: bool) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = target(&mut conn, me, id).await?;
    if on {
        let b = Bookmark {
            id: ids::next_id(),
            account_id: me.account.id,
            status_id: s.id,
            created_at: ids::now(),
        };
        db::social::bookmark::add(&mut conn, &b).await?;
    } else {
        db::social::bookmark::remove(&mut conn, me.account.id, s.id).await?;
    }
    drop(conn);
    views::status(ctx, Some(me.account.id), s).await
}

pub async fn pin(ctx: &Ctx, me: &LocalUser, id: i64, on: bool) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = own(&mut conn, me, id).await?;
    if on {
        if s.visibility == Visibility::Direct {
            return Err(ServiceError::invalid(
                "status",
                "ERR_INVALID",
                "direct posts cannot be pinned",
            ));
        }
        let pinned = db::timelines::pinned(
            &mut conn,
            Some(me.account.id),
            me.account.id,
            MAX_PINS as i64 + 1,
        )
        .await?;
        if pinned.len() >= MAX_PINS && !pinned.iter().any(|p| p.id == s.id) {
            return Err(ServiceError::invalid(
                "status",
                "ERR_LIMIT_REACHED",
                "You have already pinned the maximum number of posts",
            ));
        }
        let p = StatusPin {
            id: ids::next_id(),
            account_id: me.account.id,
            status_id: s.id,
            created_at: ids::now(),
        };
        db::social::pin::add(&mut conn, &p).await?;
    } else {
        db::social::pin::remove(&mut conn, me.account.id, s.id).await?;
    }
    drop(conn);
    views::status(ctx, Some(me.account.id), s).await
}

/// Reblogs (boosts) a status; returns the reblog, which wraps the original.
pub async fn reblog(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    visibility: Option<String>,
) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = target(&mut conn, me, id).await?;
    let actor = me.account.id;
    let own_private = s.visibility == Visibility::Private && s.account_id == actor;
    if !(s.visibility.is_open() || own_private) {
        return Err(ServiceError::Forbidden("This action is not allowed".into()));
    }
    if let Some(existing) = db::statuses::reblog_by(&mut conn, actor, s.id).await? {
        drop(conn);
        return views::status(ctx, Some(actor), existing).await;
    }
    let asked = match visibility.as_deref().filter(|v| !v.is_empty()) {
        None => Visibility::Public,
        Some(v) => match v.parse::<Visibility>() {
            Ok(v @ (Visibility::Public | Visibility::Unlisted | Visibility::Private)) => v,
            Ok(Visibility::Direct | Visibility::Members) | Err(_) => {
                return Err(ServiceError::invalid(
                    "visibility",
                    "ERR_INCLUSION",
                    "must be public, unlisted or private",
                ));
            }
        },
    };
    // A reblog is never wider than its original (an author boosting their own
    // followers-only post reaches the same followers, as on Mastodon).
    let visibility = asked.narrower(s.visibility);
    let row = reblog_row(actor, s.id, visibility, None);
    let author = s.account_id;
    let created = conn
        .transaction(async |tx| {
            let r = db::statuses::insert(tx, &row).await?;
            let mut notes = Vec::new();
            if author != actor && is_local(tx, author).await? {
                notes.push(notification(
                    author,
                    actor,
                    NotificationKind::Reblog,
                    Some(s.id),
                ));
                db::notifications::insert(tx, &notes[0]).await?;
            }
            if r.visibility != Visibility::Private {
                ctx.federate(
                    tx,
                    Outgoing::Reblogged {
                        by: &me.account,
                        reblog: &r,
                        original: &s,
                        on: true,
                    },
                )
                .await?;
            }
            Ok::<_, ServiceError>((r, notes))
        })
        .await?;
    drop(conn);
    ctx.wake_delivery();
    let (created, notes) = created;
    let streams = streaming::status_streams(ctx, &created, &[], &[]).await?;
    ctx.hub
        .publish(streams, streaming::Payload::Status(created.id));
    streaming::notifications(ctx, &notes);
    views::status(ctx, Some(actor), created).await
}

/// Undoes a reblog; returns the original.
pub async fn unreblog(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = target(&mut conn, me, id).await?;
    let actor = me.account.id;
    let reblog = db::statuses::reblog_by(&mut conn, actor, s.id).await?;
    drop(conn);
    if let Some(r) = reblog {
        let (rid, author, sid) = (r.id, s.account_id, s.id);
        let deletion = streaming::deletion(ctx, &r).await?;
        let mut conn = ctx.conn().await?;
        conn.transaction(async |tx| {
            if r.visibility != Visibility::Private {
                ctx.federate(
                    tx,
                    Outgoing::Reblogged {
                        by: &me.account,
                        reblog: &r,
                        original: &s,
                        on: false,
                    },
                )
                .await?;
            }
            db::statuses::delete(tx, rid).await?;
            db::notifications::retract(
                tx,
                author,
                actor,
                crate::domain::NotificationKind::Reblog,
                Some(sid),
            )
            .await?;
            Ok::<_, ServiceError>(())
        })
        .await?;
        ctx.wake_delivery();
        deletion.publish(ctx);
    }
    views::status(ctx, Some(actor), s).await
}

/// Who favourited or reblogged a status the viewer may see: (paging id, account).
pub async fn favourited_by(
    ctx: &Ctx,
    viewer: Option<i64>,
    id: i64,
    page: db::statuses::Page,
) -> ServiceResult<Vec<(i64, crate::services::views::AccountView)>> {
    let mut conn = ctx.conn().await?;
    db::statuses::find_visible(&mut conn, id, viewer)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    let rows = db::social::favourite::by_status(&mut conn, id, page).await?;
    drop(conn);
    crate::services::social::with_views(ctx, crate::services::timelines::in_order(rows, page)).await
}

pub async fn reblogged_by(
    ctx: &Ctx,
    viewer: Option<i64>,
    id: i64,
    page: db::statuses::Page,
) -> ServiceResult<Vec<(i64, crate::services::views::AccountView)>> {
    let mut conn = ctx.conn().await?;
    db::statuses::find_visible(&mut conn, id, viewer)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    let rows = db::statuses::rebloggers(&mut conn, id, page).await?;
    drop(conn);
    crate::services::social::with_views(ctx, crate::services::timelines::in_order(rows, page)).await
}
