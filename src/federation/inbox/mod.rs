//! The inbox: verify → dedupe → store → 202 ([`admission`]), then process
//! in a worker ([`worker`]), which dispatches each activity to the handlers
//! of its family: [`follows`], [`notes`], [`groups`], [`moderation`].
mod admission;
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

use serde_json::{Value, json};

use super::actors::{self, id_of, same_origin};
use super::objects::{self, PUBLIC};
use super::signatures::{self, SignatureError, SignedRequest};
use crate::db::models::{Account, Follow, InboxActivity, Notification, Status};
use crate::db::{self, DbConn};
use crate::ids;
use crate::services::{Ctx, ServiceError, ServiceResult, streaming};

fn bad(why: impl Into<String>) -> ServiceError {
    ServiceError::BadRequest(why.into())
}

async fn process(ctx: &Ctx, a: &InboxActivity) -> ServiceResult<()> {
    let activity: Value = serde_json::from_str(&a.body).map_err(|e| bad(e.to_string()))?;
    let actor = actors::resolve(ctx, &a.actor_uri, false).await?;
    let object = &activity["object"];
    match a.kind.as_str() {
        "Follow" => follow(ctx, &actor, &activity).await,
        "Accept" | "Reject" if is_join_answer(ctx, object) => {
            join_answered(ctx, &actor, &activity, a.kind == "Accept").await
        }
        "Accept" | "Reject" => answer(ctx, &actor, object, a.kind == "Accept").await,
        "Join" => join(ctx, &actor, &activity).await,
        "Leave" => leave(ctx, &actor, object).await,
        "Remove" => removed(ctx, &actor, &activity).await,
        "Undo" => {
            // Only the actor's own activities can be undone (FEP-fe34).
            if id_of(&object["actor"]).is_some_and(|a| a != a_uri(&actor)) {
                return Err(bad("Undo of another actor's activity"));
            }
            match object["type"].as_str() {
                Some("Follow") => unfollow(ctx, &actor, object).await,
                Some("Like") => like(ctx, &actor, &object["object"], false).await,
                Some("Announce") => undo_announce(ctx, &actor, object).await,
                Some("Block") => block(ctx, &actor, &object["object"], false).await,
                other => {
                    tracing::info!(kind = ?other, "Undo of this type is not handled yet");
                    Ok(())
                }
            }
        }
        "Like" => like(ctx, &actor, object, true).await,
        "Block" => block(ctx, &actor, object, true).await,
        "Announce" => announce(ctx, &actor, &activity).await,
        "Update" => match object["type"].as_str() {
            Some("Note" | "Question" | "Article" | "Page") => {
                update_note(ctx, &actor, object).await
            }
            Some(t)
                if ["Person", "Service", "Application", "Group", "Organization"].contains(&t) =>
            {
                update_actor(ctx, &actor, object).await
            }
            other => {
                tracing::info!(kind = ?other, "Update of this type is dropped");
                Ok(())
            }
        },
        "Create" => match object["type"].as_str() {
            Some("Note" | "Question" | "Article" | "Page") => {
                create_note(ctx, &actor, &activity).await
            }
            other => {
                tracing::info!(kind = ?other, "Create of this type is dropped");
                Ok(())
            }
        },
        "Delete" => delete(ctx, &actor, object).await,
        "Flag" => flag(ctx, &actor, &activity).await,
        "Move" => move_account(ctx, &actor, &activity).await,
        other => {
            tracing::info!(kind = other, actor = %a.actor_uri, "activity type not handled; dropped");
            Ok(())
        }
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
