//! The one way a post comes to exist here, whoever wrote it:
//!
//! 1. *prepare* — each origin applies its own rules and builds a [`NewPost`]:
//!    a local post is validated and rendered (`create.rs`), a remote Note is
//!    checked and read (`federation/inbox/notes.rs`);
//! 2. [`persist`] — one transaction writes the row with its mentions, tags,
//!    media and poll, and everything the post causes: notifications
//!    (mentions, and subscribers' bells), direct conversations, and for a
//!    local post what other servers must hear and the share by the org it
//!    was made into;
//! 3. [`surface`] — after the commit, the streams.
//!
//! So a remote post and a local one notify, converse and stream alike
//! (compare GoToSocial's `surface*.go`).
use super::*;
use crate::db::models::{MediaAttachment, Poll};
use crate::services::remote::Outgoing;

/// A post's media: our person's uploads (attached by id), or a remote post's
/// attachments (linked rows, built by its reader).
pub enum PostMedia {
    Uploaded(Vec<i64>),
    Linked(Vec<MediaAttachment>),
}

/// A post ready to be stored.
pub struct NewPost<'a> {
    pub author: &'a Account,
    pub status: Status,
    /// Every account the post mentions that is known here.
    pub mentions: &'a [Account],
    pub tags: Vec<String>,
    pub media: PostMedia,
    pub poll: Option<Poll>,
    /// The org the post was made into, when that org is to share it (a
    /// local post into an org; see [`crate::services::groups::org_shares`]).
    pub shared_into: Option<&'a Account>,
    /// The client's `Idempotency-Key`, remembered with the post.
    pub idempotency_key: Option<String>,
}

/// What [`persist`] wrote, for [`surface`].
pub struct Posted {
    pub status: Status,
    notifications: Vec<Notification>,
    /// Local people mentioned (not the author).
    local_mentioned: Vec<i64>,
    tags: Vec<String>,
    /// A direct post's thread and the local people in it.
    conversation: Option<(i64, Vec<i64>)>,
    /// The org's reblog, when it shared the post.
    shared: Option<Status>,
}

/// Writes `post` and what it causes in one transaction on `conn`.
pub async fn persist(ctx: &Ctx, conn: &mut DbConn<'_>, post: NewPost<'_>) -> ServiceResult<Posted> {
    let author = post.author;
    let mention_ids: Vec<i64> = post.mentions.iter().map(|a| a.id).collect();
    let local_mentioned: Vec<i64> = post
        .mentions
        .iter()
        .filter(|a| a.local && a.id != author.id)
        .map(|a| a.id)
        .collect();
    let visibility = post.status.visibility;
    let now = post.status.updated_at;
    conn.transaction(async |tx| {
        let s = db::statuses::insert(tx, &post.status).await?;
        db::statuses::set_mentions(tx, s.id, &mention_ids).await?;
        db::statuses::set_tags(tx, s.id, &post.tags, now).await?;
        match &post.media {
            PostMedia::Uploaded(ids) => db::media::attach(tx, s.id, ids).await?,
            PostMedia::Linked(rows) => {
                for row in rows {
                    db::media::insert(tx, row).await?;
                }
            }
        }
        if let Some(p) = &post.poll {
            db::polls::insert(tx, p).await?;
        }
        let mut notifications: Vec<Notification> = local_mentioned
            .iter()
            .map(|r| notification(*r, author.id, NotificationKind::Mention, Some(s.id)))
            .collect();
        if !matches!(visibility, Visibility::Direct | Visibility::Members) {
            for follower in db::social::notify_followers(tx, author.id).await? {
                if !local_mentioned.contains(&follower) {
                    notifications.push(notification(
                        follower,
                        author.id,
                        NotificationKind::Status,
                        Some(s.id),
                    ));
                }
            }
        }
        for n in &notifications {
            db::notifications::insert(tx, n).await?;
        }
        let conversation = if visibility == Visibility::Direct {
            // Each local participant's conversation, keyed by the thread's first direct status.
            let root = match s.in_reply_to_id {
                Some(p) => db::lists::conversation_root_of(tx, p).await?.unwrap_or(p),
                None => s.id,
            };
            let mut people = local_mentioned.clone();
            if author.local {
                people.push(author.id);
            }
            for person in &people {
                let row = crate::db::models::Conversation {
                    id: ids::next_id(),
                    account_id: *person,
                    root_status_id: root,
                    last_status_id: s.id,
                    unread: *person != author.id,
                    updated_at: now,
                };
                db::lists::upsert_conversation(tx, &row).await?;
            }
            Some((root, people))
        } else {
            None
        };
        if let Some(k) = &post.idempotency_key {
            db::statuses::remember_idempotency(tx, author.id, k, s.id, now).await?;
        }
        let mut shared = None;
        if author.local {
            ctx.federate(
                tx,
                Outgoing::StatusPublished {
                    author,
                    status: &s,
                    edited: false,
                },
            )
            .await?;
            if let Some(org) = post.shared_into.filter(|o| o.id != author.id) {
                shared = crate::services::groups::org_shares(ctx, tx, org, author, &s).await?;
            }
        }
        Ok::<_, ServiceError>(Posted {
            status: s,
            notifications,
            local_mentioned: local_mentioned.clone(),
            tags: post.tags.clone(),
            conversation,
            shared,
        })
    })
    .await
}

/// Tells whoever is listening, after the commit: the post's streams, the
/// org's share, the notifications and the direct conversation.
pub async fn surface(ctx: &Ctx, posted: &Posted) -> ServiceResult<()> {
    ctx.wake_delivery();
    let s = &posted.status;
    let streams = streaming::status_streams(ctx, s, &posted.local_mentioned, &posted.tags).await?;
    ctx.hub.publish(streams, streaming::Payload::Status(s.id));
    if let Some(r) = &posted.shared {
        let streams = streaming::status_streams(ctx, r, &[], &[]).await?;
        ctx.hub.publish(streams, streaming::Payload::Status(r.id));
    }
    streaming::notifications(ctx, &posted.notifications);
    if let Some((root, people)) = &posted.conversation {
        ctx.hub.publish(
            people
                .iter()
                .copied()
                .map(streaming::Stream::Direct)
                .collect(),
            streaming::Payload::Conversation(*root),
        );
    }
    Ok(())
}
