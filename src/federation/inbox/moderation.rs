//! Moderation: Flag (reports) and Block.
use super::*;

/// What a Flag names: the reported account and statuses, in any order (a
/// string or an array; at most 101 entries are looked at).
pub fn flag_objects(activity: &Value) -> Vec<String> {
    RemoteActivity::read(activity)
        .object_ids(101)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// A report from another server: `object` names one of our accounts and,
/// optionally, statuses of that account (Mastodon, GoToSocial, Misskey).
pub(super) async fn flag(
    ctx: &Ctx,
    actor: &Account,
    activity: &RemoteActivity,
) -> ServiceResult<()> {
    let id = activity.id.as_deref().unwrap_or_default();
    let objects = activity.object_ids(101);
    let base = ctx.base_url();
    let mut conn = ctx.conn().await?;
    let mut target = None;
    for o in &objects {
        if let Some(a) = local_by_uri(ctx, &mut conn, o).await? {
            target = Some(a);
            break;
        }
    }
    let Some(target) = target else {
        return Err(bad("Flag names no account of this server"));
    };
    let mut status_ids = Vec::new();
    for o in &objects {
        if let Some(s) = db::statuses::find_by_uri_or_local(&mut conn, o, &base).await?
            && s.account_id == target.id
        {
            status_ids.push(s.id);
        }
    }
    drop(conn);
    let comment =
        crate::services::text::strip_html(activity.content.as_deref().unwrap_or_default());
    crate::services::reports::received(ctx, actor, &target, &status_ids, &comment, id).await?;
    Ok(())
}

/// A remote account blocks (or unblocks) one of ours: follows both ways end,
/// and the block keeps our person's posts from them as it does locally. A
/// Block with a community as `target` is that community's ban, sent to the
/// banned person's server by a moderator (Lemmy).
pub(super) async fn block(
    ctx: &Ctx,
    actor: &Account,
    activity: &RemoteActivity,
    on: bool,
) -> ServiceResult<()> {
    let target_uri = activity
        .object_id()
        .ok_or_else(|| bad("Block without object"))?;
    let mut conn = ctx.conn().await?;
    if let Some(community) = activity.target.0.as_deref() {
        let group = db::federation::account_by_ap_id(&mut conn, community)
            .await?
            .filter(|g| !g.local && g.actor_type == crate::domain::ActorType::Group);
        drop(conn);
        return match group {
            Some(g) => moderated(ctx, &g, a_uri(actor), activity, on, false).await,
            None => {
                tracing::info!(community, "a ban in a community we do not know; dropped");
                Ok(())
            }
        };
    }
    let Some(target) = local_by_uri(ctx, &mut conn, target_uri).await? else {
        return Ok(());
    };
    if on {
        db::social::blocking::block(&mut conn, ids::next_id(), actor.id, target.id, ids::now())
            .await?;
    } else {
        db::social::blocking::unblock(&mut conn, actor.id, target.id).await?;
    }
    Ok(())
}

/// Whether `actor_uri` moderates the remote community `group`. What the
/// community itself announces, it vouches for when by its own server's
/// people (it announces only what its moderators did); anyone else, and
/// anyone sending straight to us, must be listed in the moderators
/// collection the community's server serves (Lemmy's `attributedTo`).
pub(super) async fn moderates(
    ctx: &Ctx,
    group: &Account,
    actor_uri: &str,
    announced: bool,
) -> bool {
    let group_uri = a_uri(group);
    if announced && same_origin(actor_uri, group_uri) {
        return true;
    }
    let fetch = async |uri: &str| match url::Url::parse(uri) {
        Ok(url) => actors::fetch_signed(ctx, &url).await.ok(),
        Err(_) => None,
    };
    let Some(doc) = fetch(group_uri).await else {
        return false;
    };
    let Some(mods) = doc
        .get("attributedTo")
        .and_then(Value::as_str)
        .filter(|m| same_origin(m, group_uri))
    else {
        return false;
    };
    let Some(list) = fetch(mods).await else {
        return false;
    };
    list.get("orderedItems")
        .or_else(|| list.get("items"))
        .and_then(Value::as_array)
        .is_some_and(|items| items.iter().take(200).any(|i| id_of(i) == Some(actor_uri)))
}

/// Whether an announced `Delete` is a moderator's removal: of a post we
/// hold by someone else than the one deleting.
pub(super) async fn is_removal(ctx: &Ctx, delete: &RemoteActivity) -> ServiceResult<bool> {
    let (Some(uri), Some(actor_uri)) = (delete.object_id(), delete.actor.0.as_deref()) else {
        return Ok(false);
    };
    let mut conn = ctx.conn().await?;
    let Some(s) = db::statuses::find_by_uri(&mut conn, uri).await? else {
        return Ok(false);
    };
    Ok(db::accounts::find(&mut conn, s.account_id)
        .await?
        .is_some_and(|(author, _)| author.ap_id.as_deref() != Some(actor_uri)))
}

/// A remote community's moderator acts in it (Lemmy): `Lock` of a post (no
/// more replies from here), removal of a post (`Delete` by someone not its
/// author), `Block` of one of our people with the community as `target` (a
/// ban from posting into it), `Add`/`Remove` of a post to its featured
/// collection (its pins); `on` is false for an `Undo` and for `Remove`. Taken only
/// from the community's moderators (`announced`: as the community passed it
/// on), and only for what is in that community.
pub(super) async fn moderated(
    ctx: &Ctx,
    group: &Account,
    actor_uri: &str,
    act: &RemoteActivity,
    on: bool,
    announced: bool,
) -> ServiceResult<()> {
    let object = act
        .object_id()
        .ok_or_else(|| bad("a moderator's activity without object"))?;
    let kind = act.kind.as_deref().and_then(ActivityKind::parse);
    let mut conn = ctx.conn().await?;
    let post = match kind {
        Some(ActivityKind::Block) => {
            if act.target.0.as_deref() != Some(a_uri(group)) {
                return Err(bad("a ban in another community"));
            }
            None
        }
        Some(ActivityKind::Add | ActivityKind::Remove)
            if act.target.0.as_deref() != Some(&format!("{}/featured", a_uri(group))) =>
        {
            tracing::info!(
                target = ?act.target.0,
                "Add/Remove of a community's collection other than its featured posts; dropped"
            );
            return Ok(());
        }
        Some(
            ActivityKind::Lock | ActivityKind::Delete | ActivityKind::Add | ActivityKind::Remove,
        ) => {
            let Some(s) = db::statuses::find_by_uri(&mut conn, object).await? else {
                return Ok(());
            };
            // The post's own community: a reply naming another community
            // does not put the thread under that one's moderators.
            if s.audience_id != Some(group.id) {
                return Err(bad("moderation of a post not in this community"));
            }
            Some(s)
        }
        other => {
            tracing::info!(kind = ?other, "a moderator's activity of this type; dropped");
            return Ok(());
        }
    };
    let person = match post {
        Some(_) => None,
        None => match local_by_uri(ctx, &mut conn, object).await? {
            Some(p) => Some(p),
            // A ban of someone elsewhere is for their server to mirror.
            None => return Ok(()),
        },
    };
    drop(conn);
    if !moderates(ctx, group, actor_uri, announced).await {
        tracing::info!(
            actor = actor_uri,
            group = a_uri(group),
            "moderation by someone who does not moderate the community; dropped"
        );
        return Ok(());
    }
    let mut conn = ctx.conn().await?;
    match (post, person) {
        (Some(s), _) if kind == Some(ActivityKind::Lock) => {
            db::communities::set_lock(&mut conn, s.id, on, ids::now()).await?;
        }
        // Featured by the community: shown as its pins.
        (Some(s), _) if kind == Some(ActivityKind::Add) => {
            let pin = crate::db::models::StatusPin {
                id: ids::next_id(),
                account_id: group.id,
                status_id: s.id,
                created_at: ids::now(),
            };
            db::social::pin::add(&mut conn, &pin).await?;
        }
        (Some(s), _) if kind == Some(ActivityKind::Remove) => {
            db::social::pin::remove(&mut conn, group.id, s.id).await?;
        }
        (Some(s), _) => {
            drop(conn);
            forget_status(ctx, &s).await?;
        }
        (None, Some(p)) if on => {
            let reason: String =
                crate::services::text::strip_html(act.summary.as_deref().unwrap_or_default())
                    .chars()
                    .take(500)
                    .collect();
            db::communities::ban(
                &mut conn,
                group.id,
                p.id,
                &reason,
                act.ends_at(),
                ids::now(),
            )
            .await?;
        }
        (None, Some(p)) => {
            db::communities::unban(&mut conn, group.id, p.id).await?;
        }
        (None, None) => {}
    }
    Ok(())
}

/// A post the community announces as restored (`Undo{Delete}`, by its
/// author or a moderator): taken again as its origin serves it now, if that
/// is a post of this community under the same id.
pub(super) async fn restored(ctx: &Ctx, group: &Account, uri: &str) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    if same_origin(uri, &ctx.base_url())
        || db::statuses::find_by_uri(&mut conn, uri).await?.is_some()
    {
        return Ok(());
    }
    drop(conn);
    let url = url::Url::parse(uri).map_err(|_| bad("not a URL"))?;
    let Ok(doc) = actors::fetch_signed(ctx, &url).await else {
        tracing::info!(
            object = uri,
            "a restored post its origin does not serve; dropped"
        );
        return Ok(());
    };
    let note = RemoteNote::read(&doc);
    let author_uri = note.attributed_to.single().unwrap_or_default().to_owned();
    if note.id.as_deref() != Some(uri)
        || !ObjectKind::of(&doc).is_some_and(ObjectKind::is_post)
        || note.addressing.audience.single() != Some(a_uri(group))
        || !note.owned_by(&author_uri)
    {
        return Err(bad("the restored post's origin serves something else"));
    }
    let author = actors::resolve(ctx, &author_uri, false).await?;
    store_note(ctx, &author, &doc, actors::Ancestry::start())
        .await
        .map(drop)
}
