//! Follows and the accounts behind them: Follow, Accept/Reject of follows, Undo Follow, actor Update, Move.
use super::*;

pub(super) async fn follow(
    ctx: &Ctx,
    actor: &Account,
    activity: &RemoteActivity,
) -> ServiceResult<()> {
    let follow_id = activity.id.clone().unwrap_or_default();
    let target_uri = activity
        .object_id()
        .ok_or_else(|| bad("Follow without object"))?;
    let mut conn = ctx.conn().await?;
    let Some(target) = local_by_uri(ctx, &mut conn, target_uri).await? else {
        return Err(bad("Follow of an unknown local actor"));
    };
    let blocked = !db::social::blocking::blocks_between(&mut conn, target.id, &[actor.id])
        .await?
        .is_empty()
        || (target.actor_type == crate::domain::ActorType::Group
            && db::memberships::blocked(&mut conn, target.id, actor).await?);
    let existing = db::social::find_follow(&mut conn, actor.id, target.id).await?;
    let pending = !blocked && existing.as_ref().map_or(target.locked, |f| f.pending);
    let row = Follow {
        id: existing.as_ref().map_or_else(ids::next_id, |f| f.id),
        account_id: actor.id,
        target_account_id: target.id,
        show_reblogs: true,
        notify: false,
        pending,
        created_at: existing.as_ref().map_or_else(ids::now, |f| f.created_at),
        uri: Some(follow_id.clone()),
    };
    let note = Notification {
        id: ids::next_id(),
        account_id: target.id,
        from_account_id: actor.id,
        kind: if pending {
            crate::domain::NotificationKind::FollowRequest
        } else {
            crate::domain::NotificationKind::Follow
        },
        status_id: None,
        created_at: ids::now(),
    };
    let is_new = existing.is_none();
    let notified = conn
        .transaction(async |tx| {
            let notify = !blocked && is_new;
            if !blocked {
                db::social::upsert_follow(tx, &row).await?;
            }
            if notify {
                db::notifications::insert(tx, &note).await?;
            }
            // A locked account answers later, from the follow requests list;
            // a blocked follower is refused at once.
            if blocked || !pending {
                crate::federation::outbox::follow_answered(
                    ctx,
                    tx,
                    &target,
                    actor,
                    Some(follow_id.clone()),
                    !blocked,
                )
                .await?;
            }
            Ok::<_, ServiceError>(notify)
        })
        .await?;
    drop(conn);
    if notified {
        streaming::notifications(ctx, std::slice::from_ref(&note));
    }
    crate::federation::rt(ctx).wake_delivery.notify_one();
    // An org's posts go to each follower's server in the form it takes.
    if target.actor_type == crate::domain::ActorType::Group
        && !blocked
        && let Err(e) = crate::federation::peers::learn(ctx, a_uri(actor)).await
    {
        tracing::warn!(error = %e, "could not record a peer's software");
    }
    Ok(())
}

/// Accept/Reject of a follow we sent (the object is our Follow, embedded or by id).
pub(super) async fn answer(
    ctx: &Ctx,
    actor: &Account,
    activity: &RemoteActivity,
    accept: bool,
) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    // Our follower is named inside the embedded Follow; by id alone, find it by uri.
    let follower = match activity.embedded().actor.0.as_deref() {
        Some(uri) => local_by_uri(ctx, &mut conn, uri).await?,
        None => None,
    };
    let follow = match follower {
        Some(f) => db::social::find_follow(&mut conn, f.id, actor.id).await?,
        None => match activity.object_id() {
            Some(uri) => db::social::find_follow_by_uri(&mut conn, uri).await?,
            None => None,
        },
    };
    let Some(follow) = follow.filter(|f| f.target_account_id == actor.id) else {
        return Err(bad("Accept/Reject of no follow we know"));
    };
    if accept {
        db::social::accept_follow(&mut conn, follow.account_id, actor.id).await?;
    } else {
        db::social::delete_follow(&mut conn, follow.account_id, actor.id).await?;
    }
    Ok(())
}

pub(super) async fn unfollow(
    ctx: &Ctx,
    actor: &Account,
    follow: &RemoteActivity,
) -> ServiceResult<()> {
    if follow
        .actor
        .0
        .as_deref()
        .is_some_and(|a| Some(a) != actor.ap_id.as_deref())
    {
        return Err(bad("Undo of another actor's Follow"));
    }
    let target_uri = follow
        .object_id()
        .ok_or_else(|| bad("Follow without object"))?;
    let mut conn = ctx.conn().await?;
    let Some(target) = local_by_uri(ctx, &mut conn, target_uri).await? else {
        return Ok(());
    };
    conn.transaction(async |tx| {
        if db::social::delete_follow(tx, actor.id, target.id).await? > 0 {
            db::notifications::retract(
                tx,
                target.id,
                actor.id,
                crate::domain::NotificationKind::Follow,
                None,
            )
            .await?;
            db::notifications::retract(
                tx,
                target.id,
                actor.id,
                crate::domain::NotificationKind::FollowRequest,
                None,
            )
            .await?;
        }
        Ok::<_, ServiceError>(())
    })
    .await
}

/// A profile update: only the actor itself, embedded on its own id.
pub(super) async fn update_actor(ctx: &Ctx, actor: &Account, object: &Value) -> ServiceResult<()> {
    let uri = a_uri(actor);
    if RemoteActor::read(object).id.as_deref() != Some(uri) {
        return Err(bad("Update of another actor"));
    }
    let row = actors::parse_actor(uri, object, ids::now())?;
    let mut conn = ctx.conn().await?;
    actors::store(ctx, &mut conn, row).await?;
    Ok(())
}

/// An account moved (Mastodon's account migration): the new account must name
/// the old one in `alsoKnownAs` (fetched fresh, never taken from the
/// activity). Our people who followed the old account follow the new one.
pub(super) async fn move_account(
    ctx: &Ctx,
    actor: &Account,
    activity: &RemoteActivity,
) -> ServiceResult<()> {
    let old_uri = a_uri(actor);
    if activity.object_id() != Some(old_uri) {
        return Err(bad("Move of another actor"));
    }
    let target_uri = activity
        .target
        .0
        .as_deref()
        .ok_or_else(|| bad("Move without target"))?;
    if target_uri == old_uri {
        return Err(bad("Move to itself"));
    }
    let url = url::Url::parse(target_uri).map_err(|_| bad("target is not a URL"))?;
    let doc = actors::fetch_signed(ctx, &url).await?;
    if !RemoteActor::read(&doc).also_known_as.contains(old_uri) {
        return Err(bad(
            "the target does not name the old account in alsoKnownAs",
        ));
    }
    let row = actors::parse_actor(target_uri, &doc, ids::now())?;
    let mut conn = ctx.conn().await?;
    let target = actors::store(ctx, &mut conn, row).await?;
    db::federation::set_moved(&mut conn, actor.id, target.id).await?;
    let mut people = Vec::new();
    for id in db::federation::local_followers(&mut conn, actor.id).await? {
        people.push(crate::services::accounts::reload(&mut conn, id).await?);
    }
    drop(conn);
    for me in people {
        if let Err(e) = crate::services::social::follow(ctx, &me, target.id, None, None).await {
            tracing::info!(error = %e, "following the moved account failed");
            continue;
        }
        crate::services::social::unfollow(ctx, &me, actor.id).await?;
    }
    Ok(())
}
