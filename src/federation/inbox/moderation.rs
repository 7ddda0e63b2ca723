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
/// and the block keeps our person's posts from them as it does locally.
pub(super) async fn block(
    ctx: &Ctx,
    actor: &Account,
    object: &Value,
    on: bool,
) -> ServiceResult<()> {
    let target_uri = id_of(object).ok_or_else(|| bad("Block without object"))?;
    let mut conn = ctx.conn().await?;
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
