//! Changing what was posted: edits with their history, the source for editing, deletion.
use super::*;
use crate::services::remote::Outgoing;

/// Deletes one's own status; the returned view keeps the source text (delete and redraft).
pub async fn delete(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    delete_media: bool,
) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = own(&mut conn, me, id).await?;
    let attachments = db::media::of_statuses(&mut conn, &[id]).await?;
    drop(conn);
    let view = views::status(ctx, Some(me.account.id), s.clone()).await?;
    let deletion = streaming::deletion(ctx, &s).await?;
    let mut conn = ctx.conn().await?;
    conn.transaction(async |tx| {
        // The Delete names the same audience, so it is queued before the rows go.
        ctx.federate(
            tx,
            Outgoing::StatusDeleted {
                author: &me.account,
                status: &s,
            },
        )
        .await?;
        db::statuses::delete(tx, id).await?;
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    crate::services::media::status_deleted(ctx, attachments, delete_media).await;
    ctx.wake_delivery();
    deletion.publish(ctx);
    Ok(view)
}

#[derive(Debug, Clone, Default)]
pub struct StatusUpdate {
    pub text: String,
    pub spoiler_text: Option<String>,
    pub sensitive: Option<bool>,
    pub language: Option<String>,
    /// None keeps the attachments as they are.
    pub media_ids: Option<Vec<i64>>,
}

pub async fn edit(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    up: StatusUpdate,
) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let mut s = own(&mut conn, me, id).await?;
    let attached = db::media::of_statuses(&mut conn, &[s.id]).await?;
    drop(conn);
    let spoiler = up
        .spoiler_text
        .clone()
        .unwrap_or_else(|| s.spoiler_text.clone());
    let media_ids = match &up.media_ids {
        Some(ids) => Some(crate::services::media::for_status(ctx, me, ids, Some(s.id)).await?),
        None => None,
    };
    let keeps_media = match &media_ids {
        Some(ids) => !ids.is_empty(),
        None => !attached.is_empty(),
    };
    validate_text(&up.text, &spoiler, keeps_media)?;
    if let Some(l) = up.language.as_ref().filter(|l| !l.is_empty())
        && !crate::services::accounts::is_language_code(l)
    {
        return Err(ServiceError::invalid(
            "language",
            "ERR_INVALID",
            "is not a language code",
        ));
    }
    let (content, mentioned, tags) = render(ctx, &up.text).await?;
    let now = ids::now();
    let original = s.clone();
    s.text = up.text;
    s.content = content;
    s.spoiler_text = spoiler;
    s.sensitive = up.sensitive.unwrap_or(s.sensitive);
    if let Some(l) = up.language.filter(|l| !l.is_empty()) {
        s.language = Some(l);
    }
    s.updated_at = now;
    s.edited_at = Some(now);
    let mention_ids: Vec<i64> = mentioned.iter().map(|a| a.id).collect();
    let version = |st: &Status, at| StatusEdit {
        id: ids::next_id(),
        status_id: st.id,
        text: st.text.clone(),
        content: st.content.clone(),
        spoiler_text: st.spoiler_text.clone(),
        sensitive: st.sensitive,
        created_at: at,
    };
    let author_id = me.account.id;
    let mut conn = ctx.conn().await?;
    let updated = conn
        .transaction(async |tx| {
            if db::statuses::edits(tx, original.id).await?.is_empty() {
                db::statuses::insert_edit(tx, &version(&original, original.created_at)).await?;
            }
            let updated = db::statuses::update_content(tx, &s).await?;
            db::statuses::insert_edit(tx, &version(&updated, now)).await?;
            db::statuses::set_mentions(tx, updated.id, &mention_ids).await?;
            db::statuses::set_tags(tx, updated.id, &tags, now).await?;
            if let Some(ids) = &media_ids {
                db::media::attach(tx, updated.id, ids).await?;
            }
            // People who boosted it should know it changed.
            let mut notes = Vec::new();
            for booster in db::statuses::local_rebloggers(tx, updated.id).await? {
                if booster != author_id {
                    let n = notification(
                        booster,
                        author_id,
                        NotificationKind::Update,
                        Some(updated.id),
                    );
                    db::notifications::insert(tx, &n).await?;
                    notes.push(n);
                }
            }
            ctx.federate(
                tx,
                Outgoing::StatusPublished {
                    author: &me.account,
                    status: &updated,
                    edited: true,
                },
            )
            .await?;
            Ok::<_, ServiceError>((updated, notes))
        })
        .await?;
    drop(conn);
    ctx.wake_delivery();
    let (updated, notes) = updated;
    let local_mentioned: Vec<i64> = mentioned
        .iter()
        .filter(|a| a.local && a.id != author_id)
        .map(|a| a.id)
        .collect();
    let streams = streaming::status_streams(ctx, &updated, &local_mentioned, &tags).await?;
    ctx.hub
        .publish(streams, streaming::Payload::StatusUpdate(updated.id));
    streaming::notifications(ctx, &notes);
    views::status(ctx, Some(me.account.id), updated).await
}

/// Every version, oldest first (just the current one if never edited).
pub async fn history(
    ctx: &Ctx,
    viewer: Option<i64>,
    id: i64,
) -> ServiceResult<(StatusView, Vec<StatusEdit>)> {
    let view = get(ctx, viewer, id).await?;
    let mut conn = ctx.conn().await?;
    let edits = db::statuses::edits(&mut conn, id).await?;
    Ok((view, edits))
}

pub async fn source(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<Status> {
    let mut conn = ctx.conn().await?;
    own(&mut conn, me, id).await
}
