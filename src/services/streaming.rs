//! Real-time events for the streaming API. Services publish what happened
//! (which status, which notification) and to which streams; each open
//! connection renders events for its own viewer, re-checking visibility, so
//! nothing leaks through a stream that the API would not show.
//!
//! The hub is an in-process broadcast channel. With several app nodes the
//! same `Event`s will travel through PostgreSQL LISTEN/NOTIFY into each
//! node's hub; publishers and connections do not change.
use crate::domain::Visibility;
use std::sync::Arc;

use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Stream {
    User(i64),
    UserNotification(i64),
    Public,
    PublicLocal,
    PublicRemote,
    Hashtag(String),
    HashtagLocal(String),
    List(i64),
    Direct(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Status(i64),
    StatusUpdate(i64),
    Delete(i64),
    Notification(i64),
    Conversation(i64),
}

#[derive(Debug, Clone)]
pub struct Event {
    pub streams: Vec<Stream>,
    pub payload: Payload,
}

#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        let (tx, _) = broadcast::channel(4096);
        Hub { tx }
    }

    /// Nobody listening is fine: events are not stored.
    pub fn publish(&self, streams: Vec<Stream>, payload: Payload) {
        if !streams.is_empty() {
            let _ = self.tx.send(Arc::new(Event { streams, payload }));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

use super::{Ctx, ServiceResult};
use crate::db::models::{Notification, Status};

/// The streams a status goes to: its author's and followers' home streams,
/// lists containing the author, mentioned people, and the public and hashtag
/// streams for public posts (direct posts: the participants' direct streams).
pub async fn status_streams(
    ctx: &Ctx,
    s: &Status,
    mentioned_local: &[i64],
    tags: &[String],
) -> ServiceResult<Vec<Stream>> {
    let mut out = vec![Stream::User(s.account_id)];
    let mut conn = ctx.conn().await?;
    if s.visibility == Visibility::Direct {
        out.push(Stream::Direct(s.account_id));
        for m in mentioned_local {
            out.push(Stream::User(*m));
            out.push(Stream::Direct(*m));
        }
        return Ok(out);
    }
    if s.visibility == Visibility::Members {
        // Members-only: the org's members here (each connection re-checks).
        if let Some(org) = s.audience_id {
            for m in crate::db::memberships::local_members(&mut conn, org).await? {
                out.push(Stream::User(m));
            }
        }
        out.dedup();
        return Ok(out);
    }
    let reblog = s.reblog_of_id.is_some();
    for f in crate::db::social::local_followers(&mut conn, s.account_id, reblog).await? {
        out.push(Stream::User(f));
    }
    out.extend(mentioned_local.iter().map(|m| Stream::User(*m)));
    for l in crate::db::lists::lists_containing(&mut conn, s.account_id).await? {
        out.push(Stream::List(l));
    }
    // A silenced author's posts stay off the public and hashtag streams (as
    // off those timelines); followers get them on their home stream above.
    let silenced = !crate::db::moderation::silenced(&mut conn, &[s.account_id])
        .await?
        .is_empty();
    if s.visibility == Visibility::Public && !reblog && !silenced {
        out.push(Stream::Public);
        out.push(if s.local {
            Stream::PublicLocal
        } else {
            Stream::PublicRemote
        });
        for t in tags {
            out.push(Stream::Hashtag(t.clone()));
            if s.local {
                out.push(Stream::HashtagLocal(t.clone()));
            }
        }
    }
    out.dedup();
    Ok(out)
}

/// Each notification to its recipient's user and notification streams, and
/// by e-mail where they chose so (the one place every notification passes).
pub fn notifications(ctx: &Ctx, list: &[Notification]) {
    super::notifications::mail_later(ctx, list);
    for n in list {
        ctx.hub.publish(
            vec![
                Stream::User(n.account_id),
                Stream::UserNotification(n.account_id),
            ],
            Payload::Notification(n.id),
        );
    }
}

/// Deletions to announce once a status is gone: to every stream the status
/// could have reached, and for each of its reblogs the reblog's streams (as
/// Mastodon does). Computed before the rows go; a deletion is never told to
/// anyone who could not have seen the post.
pub struct Deletion(Vec<(Vec<Stream>, i64)>);

pub async fn deletion(ctx: &Ctx, s: &Status) -> ServiceResult<Deletion> {
    let mut conn = ctx.conn().await?;
    let mentioned: Vec<i64> = crate::db::statuses::mentions_of(&mut conn, &[s.id])
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let tags: Vec<String> = crate::db::statuses::tags_of(&mut conn, &[s.id])
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let reblogs = if s.reblog_of_id.is_none() {
        crate::db::statuses::reblogs_of(&mut conn, s.id, 1000).await?
    } else {
        vec![]
    };
    drop(conn);
    let mut out = vec![(status_streams(ctx, s, &mentioned, &tags).await?, s.id)];
    for r in &reblogs {
        out.push((status_streams(ctx, r, &[], &[]).await?, r.id));
    }
    Ok(Deletion(out))
}

impl Deletion {
    pub fn publish(self, ctx: &Ctx) {
        for (streams, id) in self.0 {
            ctx.hub.publish(streams, Payload::Delete(id));
        }
    }
}
