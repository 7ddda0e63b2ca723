//! The inbox: verify → dedupe → store → 202 ([`admission`]), then process
//! in a worker ([`worker`]), which dispatches each activity to the handlers
//! of its family: [`follows`], [`notes`], [`groups`], [`moderation`].
mod admission;
mod alumni;
mod follows;
mod groups;
mod moderation;
mod notes;
mod worker;

pub use admission::*;
use follows::*;
use groups::*;
pub use moderation::*;
pub use notes::*;
pub use worker::*;

use crate::domain::{ConsentPurpose, MembershipState, Role, Via, Visibility};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use super::actors::{self, id_of, same_origin};
use super::objects::{self, PUBLIC};
use super::signatures::{self, SignatureError, SignedRequest};
use super::vocab::{ActivityKind, Addressing, ObjectKind, RemoteActivity, RemoteActor, RemoteNote};
use crate::db::models::{Account, Follow, InboxActivity, Notification, Status};
use crate::db::{self, DbConn};
use crate::ids;
use crate::services::{Ctx, ServiceError, ServiceResult, streaming};

fn bad(why: impl Into<String>) -> ServiceError {
    ServiceError::BadRequest(why.into())
}

async fn process(ctx: &Ctx, a: &InboxActivity) -> ServiceResult<()> {
    let Some(kind) = ActivityKind::parse(&a.kind) else {
        tracing::info!(kind = %a.kind, actor = %a.actor_uri, "activity type not handled; dropped");
        return Ok(());
    };
    // Received before its server was blocked: dropped now.
    if admission::refused_origin(ctx, &a.actor_uri) {
        tracing::info!(actor = %a.actor_uri, "activity from a blocked server; dropped");
        return Ok(());
    }
    let raw: Value = serde_json::from_str(&a.body).map_err(|e| bad(e.to_string()))?;
    let activity = RemoteActivity::read(&raw);
    let actor = actors::resolve(ctx, &a.actor_uri, false).await?;
    if actor.suspended {
        tracing::info!(actor = %a.actor_uri, "activity from a suspended account; dropped");
        return Ok(());
    }
    let object = &activity.object;
    let object_kind = ObjectKind::of(object);
    handle(ctx, kind, object_kind, &actor, &activity, &raw).await
}

/// [`process`], after which a profile released to an org's people leaves
/// no copy in the stored activity (it lives in its own tables, where
/// withdrawing it takes it away) — unless it is to be tried again.
async fn process_and_scrub(ctx: &Ctx, a: &InboxActivity) -> ServiceResult<()> {
    let result = process(ctx, a).await;
    // (As `worker::record` decides: a temporary failure, not the last try.)
    let retried = matches!(&result, Err(e) if e.retryable()) && a.attempts < 5;
    let object = serde_json::from_str::<Value>(&a.body)
        .ok()
        .and_then(|v| v.get("object").cloned());
    if let Some(object) = object
        && ObjectKind::of(&object) == Some(ObjectKind::AlumniProfile)
        && !retried
    {
        let stub = serde_json::json!({
            "id": a.ap_id,
            "type": a.kind,
            "actor": a.actor_uri,
            "object": {"type": "AlumniProfile", "id": id_of(&object)},
        });
        let mut conn = ctx.conn().await?;
        db::federation::scrub_inbound(&mut conn, a.id, &stub.to_string()).await?;
    }
    result
}

/// Dispatches an activity to the handlers of its family.
async fn handle(
    ctx: &Ctx,
    kind: ActivityKind,
    object_kind: Option<ObjectKind>,
    actor: &Account,
    activity: &RemoteActivity,
    raw: &Value,
) -> ServiceResult<()> {
    let object = &activity.object;
    match kind {
        ActivityKind::Follow => follow(ctx, actor, activity).await,
        ActivityKind::Accept | ActivityKind::Reject => {
            let accept = kind == ActivityKind::Accept;
            if is_join_answer(ctx, activity) {
                join_answered(ctx, actor, activity, accept).await
            } else {
                answer(ctx, actor, activity, accept).await
            }
        }
        ActivityKind::Join => join(ctx, actor, activity).await,
        ActivityKind::Leave => leave(ctx, actor, object).await,
        ActivityKind::Remove => removed(ctx, actor, activity).await,
        ActivityKind::Undo => {
            // Only the actor's own activities can be undone (FEP-fe34).
            let undone = activity.embedded();
            if undone.actor.0.as_deref().is_some_and(|a| a != a_uri(actor)) {
                return Err(bad("Undo of another actor's activity"));
            }
            match undone.kind.as_deref().and_then(ActivityKind::parse) {
                Some(ActivityKind::Follow) => unfollow(ctx, actor, &undone).await,
                Some(ActivityKind::Like) => {
                    let s = like(ctx, actor, &undone.object, false).await?;
                    relay(ctx, actor, raw, s).await
                }
                Some(ActivityKind::Dislike) => {
                    let s = dislike(ctx, actor, &undone.object, false).await?;
                    relay(ctx, actor, raw, s).await
                }
                Some(ActivityKind::Announce) => undo_announce(ctx, actor, object).await,
                Some(ActivityKind::Block) => block(ctx, actor, &undone, false).await,
                Some(
                    ActivityKind::Create
                    | ActivityKind::Update
                    | ActivityKind::Delete
                    | ActivityKind::Accept
                    | ActivityKind::Reject
                    | ActivityKind::Undo
                    | ActivityKind::Flag
                    | ActivityKind::Move
                    | ActivityKind::Join
                    | ActivityKind::Leave
                    | ActivityKind::Add
                    | ActivityKind::Remove
                    | ActivityKind::Lock,
                )
                | None => {
                    tracing::info!(kind = ?undone.kind, "Undo of this type is not handled");
                    Ok(())
                }
            }
        }
        ActivityKind::Like => {
            let s = like(ctx, actor, object, true).await?;
            relay(ctx, actor, raw, s).await
        }
        ActivityKind::Dislike => {
            let s = dislike(ctx, actor, object, true).await?;
            relay(ctx, actor, raw, s).await
        }
        ActivityKind::Block => block(ctx, actor, activity, true).await,
        ActivityKind::Announce => announce(ctx, actor, activity).await,
        ActivityKind::Update => match object_kind {
            Some(ObjectKind::AlumniProfile) => alumni::alumni_profile(ctx, actor, object).await,
            Some(k) if k.is_post() => {
                let s = update_note(ctx, actor, object).await?;
                relay(ctx, actor, raw, s).await
            }
            Some(_) => update_actor(ctx, actor, object).await,
            None => {
                tracing::info!(kind = ?activity.object_kind(), "Update of this type is dropped");
                Ok(())
            }
        },
        ActivityKind::Create => match object_kind {
            Some(k) if k.is_post() => create_note(ctx, actor, activity, raw).await,
            Some(_) | None => {
                tracing::info!(kind = ?activity.object_kind(), "Create of this type is dropped");
                Ok(())
            }
        },
        ActivityKind::Delete => {
            let s = delete(ctx, actor, object).await?;
            relay(ctx, actor, raw, s).await
        }
        ActivityKind::Flag => flag(ctx, actor, activity).await,
        ActivityKind::Move => move_account(ctx, actor, activity).await,
        // Featured collections (Mastodon's pins) are not mirrored yet; a
        // Lock is taken only as its community announces it.
        ActivityKind::Add | ActivityKind::Lock => {
            tracing::info!(
                actor = a_uri(actor),
                kind = kind.as_str(),
                "not handled unannounced; dropped"
            );
            Ok(())
        }
    }
}

/// What someone elsewhere did on a post in one of our orgs is passed on by
/// the org (FEP-1b12).
async fn relay(ctx: &Ctx, actor: &Account, raw: &Value, s: Option<Status>) -> ServiceResult<()> {
    match s {
        Some(s) => org_relays(ctx, actor, raw, &s).await,
        None => Ok(()),
    }
}

/// The local account an actor URI of ours names.
async fn local_by_uri(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    uri: &str,
) -> ServiceResult<Option<Account>> {
    let base = ctx.base_url();
    let Some(name) = uri.strip_prefix(&format!("{base}/users/")) else {
        return Ok(None);
    };
    if name.contains('/') {
        return Ok(None);
    }
    Ok(db::accounts::find_by_acct_key(conn, &name.to_lowercase())
        .await?
        .map(|(a, _)| a)
        .filter(|a| a.local))
}

fn a_uri(a: &Account) -> &str {
    a.ap_id.as_deref().unwrap_or_default()
}
