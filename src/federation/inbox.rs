//! The inbox: verify → dedupe → store → 202, then process in a worker.
use crate::domain::Visibility;
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

/// Why an inbound request was refused (each maps to an HTTP status).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
    /// Over capacity: try again after this many seconds.
    #[error("the inbox is over capacity; retry later")]
    Busy(u64),
    #[error(transparent)]
    Internal(#[from] ServiceError),
}

/// How long a delivery may wait for its turn before it is refused.
const ADMISSION_WAIT: Duration = Duration::from_secs(2);

/// Admission to the inbox, so that a flood neither starves the client API
/// (of database connections and CPU) nor grows the backlog without bound:
/// at most a few deliveries are verified and stored at once (the others wait
/// up to [`ADMISSION_WAIT`]), and none is taken while `federation.inbox_backlog`
/// activities wait for the worker. A refused sender gets 503 with
/// Retry-After and delivers again later, as every ActivityPub server does.
pub struct Admission {
    gate: tokio::sync::Semaphore,
    backlog_limit: i64,
    /// Unprocessed activities: counted in the database at most once a
    /// second (every node's workers drain it), plus those stored here since.
    backlog: AtomicI64,
    counted_at: tokio::sync::Mutex<Option<Instant>>,
}

impl Admission {
    pub fn new(config: &crate::config::Config) -> Admission {
        // Leave pooled connections for the client API and the workers.
        let in_flight = config.database.max_connections.saturating_sub(2).max(1);
        Admission {
            gate: tokio::sync::Semaphore::new(in_flight),
            backlog_limit: i64::try_from(config.federation.inbox_backlog).unwrap_or(i64::MAX),
            backlog: AtomicI64::new(0),
            counted_at: tokio::sync::Mutex::new(None),
        }
    }

    async fn enter(&self) -> Result<tokio::sync::SemaphorePermit<'_>, Refusal> {
        match tokio::time::timeout(ADMISSION_WAIT, self.gate.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Refusal::Busy(ADMISSION_WAIT.as_secs().max(1))),
        }
    }

    /// Refuses while the backlog is at its limit.
    async fn check_backlog(&self, ctx: &Ctx) -> Result<(), Refusal> {
        if let Ok(mut counted) = self.counted_at.try_lock()
            && counted.is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            let mut conn = ctx.conn().await?;
            let n = db::federation::inbound_pending(&mut conn)
                .await
                .map_err(ServiceError::from)?;
            self.backlog.store(n, Ordering::Relaxed);
            *counted = Some(Instant::now());
        }
        if self.backlog.load(Ordering::Relaxed) >= self.backlog_limit {
            return Err(Refusal::Busy(30));
        }
        Ok(())
    }
}

pub struct Inbound<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub body: &'a [u8],
}

/// Verifies and stores one delivery. Ok(true): stored; Ok(false): a duplicate.
pub async fn receive(ctx: &Ctx, req: Inbound<'_>) -> Result<bool, Refusal> {
    let _turn = ctx.fed.admission.enter().await?;
    ctx.fed.admission.check_backlog(ctx).await?;
    let sig_header = (req.header)("signature").ok_or(SignatureError::Missing)?;
    let sig = signatures::parse_signature_header(&sig_header)?;
    let signed = SignedRequest {
        method: req.method,
        path_and_query: req.path_and_query,
        authority: &ctx.config.server.domain,
        header: req.header,
        body: Some(req.body),
    };
    signatures::precheck(&signed, &sig, SystemTime::now())?;
    let activity: Value = serde_json::from_slice(req.body)
        .map_err(|e| Refusal::BadRequest(format!("the body is not JSON: {e}")))?;
    let id = activity["id"]
        .as_str()
        .ok_or_else(|| Refusal::BadRequest("activity without id".into()))?;
    let kind = activity["type"]
        .as_str()
        .ok_or_else(|| Refusal::BadRequest("activity without type".into()))?;
    let actor_uri = id_of(&activity["actor"])
        .ok_or_else(|| Refusal::BadRequest("activity without actor".into()))?;
    // The key, the actor and the activity share one origin (FEP-fe34).
    if !same_origin(&sig.key_id, actor_uri) {
        return Err(Refusal::Unauthorized(
            "the signing key is not on the actor's origin".into(),
        ));
    }
    if !same_origin(id, actor_uri) {
        return Err(Refusal::Unauthorized(
            "the activity id is not on the actor's origin".into(),
        ));
    }
    // A Delete of an actor that is already gone cannot be verified: refused.
    let actor = actors::resolve(ctx, actor_uri, false)
        .await
        .map_err(|e| actor_unusable(actor_uri, &e))?;
    let verified = check_with(ctx, &signed, &sig, &actor);
    if verified.is_err() {
        // The key may have rotated: fetch the actor once more.
        let fresh = actors::resolve(ctx, actor_uri, true)
            .await
            .map_err(|e| actor_unusable(actor_uri, &e))?;
        check_with(ctx, &signed, &sig, &fresh)?;
    }
    let row = InboxActivity {
        id: ids::next_id(),
        ap_id: id.to_owned(),
        actor_uri: actor_uri.to_owned(),
        kind: kind.to_owned(),
        body: String::from_utf8_lossy(req.body).into_owned(),
        received_at: ids::now(),
        processed_at: None,
        attempts: 0,
        last_error: None,
        lease_until: None,
    };
    let mut conn = ctx.conn().await?;
    let stored = db::federation::store_inbound(&mut conn, &row)
        .await
        .map_err(ServiceError::from)?;
    if stored {
        ctx.fed.admission.backlog.fetch_add(1, Ordering::Relaxed);
        ctx.fed.wake_inbox.notify_one();
    }
    Ok(stored)
}

/// The refusal when the signing actor cannot be fetched or used: the sender
/// hears only that; what went wrong (which may describe the network behind
/// this server: ports open or closed, addresses) goes to the log.
fn actor_unusable(actor_uri: &str, e: &ServiceError) -> Refusal {
    tracing::info!(actor = actor_uri, error = %e.detail(), "inbox: the signing actor is unusable");
    Refusal::Unauthorized("the signing actor could not be fetched or is not usable".into())
}

/// The verified signer of a signed GET (authorized fetch), if any: the
/// account whose key signed the request for this server. Only accounts we
/// already store can sign here: whoever may see a non-public object (a
/// member, a follower, someone mentioned) is stored already, and a GET
/// anyone can send must never make this server fetch (a made-up keyId would
/// point it anywhere).
pub async fn signer(ctx: &Ctx, req: SignedRequest<'_>) -> Option<Account> {
    let sig = signatures::parse_signature_header(&(req.header)("signature")?).ok()?;
    signatures::precheck(&req, &sig, SystemTime::now()).ok()?;
    let owner = sig.key_id.split('#').next()?;
    let mut conn = ctx.conn().await.ok()?;
    let actor = db::federation::account_by_ap_id(&mut conn, owner)
        .await
        .ok()??;
    drop(conn);
    check_with(ctx, &req, &sig, &actor).ok().map(|_| actor)
}

fn check_with(
    ctx: &Ctx,
    signed: &SignedRequest<'_>,
    sig: &signatures::SignatureHeader,
    actor: &Account,
) -> Result<(), SignatureError> {
    let key = ctx.fed.keys.get(&actor.public_key_pem)?;
    signatures::verify(signed, sig, &key)
}

/// Activities processed at once by one node's worker.
const IN_FLIGHT: usize = 16;
/// Of those, at most this many from one remote origin: one host (slow, or
/// hostile and slow on purpose) cannot hold the queue others need.
const PER_ORIGIN: usize = 2;
/// Of those, this many may work at once (the others wait on the network, or
/// for a slot: see `federation::slots`).
fn work_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).clamp(1, 4))
}
/// How long one activity may take (its fetches included) before it is put
/// back for a later try; below the lease, so no other node takes it meanwhile.
const PROCESS_BUDGET: Duration = Duration::from_secs(45);
const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// Processes stored activities until the runtime stops: up to [`IN_FLIGHT`]
/// at once, [`PER_ORIGIN`] per remote origin, one at a time per actor (in
/// the order received, across nodes too: an actor with an activity in
/// flight or waiting for a retry is not picked again until it is done).
/// A finished activity frees its place at once; nothing waits for a batch.
pub async fn run(ctx: Ctx, idle: Duration) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(work_slots()));
    let mut lanes = tokio::task::JoinSet::new();
    let mut per_origin: std::collections::HashMap<String, usize> = Default::default();
    loop {
        // Refilled once half the places are free: a claim costs about as much
        // as processing an activity, so not one per finished activity.
        if lanes.len() <= IN_FLIGHT / 2 {
            match claim(&ctx, &per_origin, IN_FLIGHT - lanes.len()).await {
                Ok(batch) if !batch.is_empty() => {
                    for a in batch {
                        *per_origin.entry(origin_of(&a.actor_uri)).or_default() += 1;
                        lanes.spawn(lane(ctx.clone(), slots.clone(), a));
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.detail(), "inbox worker failed; retrying"),
            }
        }
        tokio::select! {
            Some(done) = lanes.join_next(), if !lanes.is_empty() => {
                if let Ok(origin) = done
                    && let Some(n) = per_origin.get_mut(&origin)
                {
                    *n -= 1;
                    if *n == 0 {
                        per_origin.remove(&origin);
                    }
                }
            }
            _ = ctx.fed.wake_inbox.notified() => {}
            _ = tokio::time::sleep(idle) => {}
        }
    }
}

/// Claims what can be processed now, by the rules of [`run`]; returns how
/// many activities were handled. (One round, for tests and the fuzzer.)
pub async fn process_batch(ctx: &Ctx) -> ServiceResult<usize> {
    let batch = claim(ctx, &Default::default(), IN_FLIGHT).await?;
    let n = batch.len();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(work_slots()));
    let lanes: Vec<_> = batch
        .into_iter()
        .map(|a| lane(ctx.clone(), slots.clone(), a))
        .collect();
    futures_util::future::join_all(lanes).await;
    Ok(n)
}

/// Picks and leases up to `room` activities: oldest first, one per actor,
/// and no origin beyond its share (counting those already in flight).
async fn claim(
    ctx: &Ctx,
    in_flight: &std::collections::HashMap<String, usize>,
    room: usize,
) -> ServiceResult<Vec<InboxActivity>> {
    let now = ids::now();
    let full: Vec<String> = in_flight
        .iter()
        .filter(|(_, n)| **n >= PER_ORIGIN)
        .map(|(o, _)| o.clone())
        .collect();
    let mut conn = ctx.conn().await?;
    let candidates = db::federation::inbound_candidates(&mut conn, now, &full, 256).await?;
    let mut counts = in_flight.clone();
    let mut actors = std::collections::HashSet::new();
    let mut picked = Vec::new();
    for (id, actor) in candidates {
        let n = counts.entry(origin_of(&actor)).or_default();
        if *n >= PER_ORIGIN || !actors.insert(actor) {
            continue;
        }
        *n += 1;
        picked.push(id);
        if picked.len() >= room {
            break;
        }
    }
    Ok(db::federation::lease_inbound(&mut conn, &picked, now, now + LEASE).await?)
}

/// `scheme://host:port` of an actor URI (the share is per origin).
fn origin_of(uri: &str) -> String {
    url::Url::parse(uri)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| uri.to_owned())
}

/// Processes one activity within [`PROCESS_BUDGET`], working only while it
/// holds a slot, and records the outcome; returns its actor's origin (for
/// the share).
async fn lane(ctx: Ctx, slots: std::sync::Arc<tokio::sync::Semaphore>, a: InboxActivity) -> String {
    let work = super::slots::with_slot(slots, process(&ctx, &a));
    let result = match tokio::time::timeout(PROCESS_BUDGET, work).await {
        Ok(r) => r,
        Err(_) => Err(ServiceError::Internal(anyhow::anyhow!(
            "processing took longer than {} s",
            PROCESS_BUDGET.as_secs()
        ))),
    };
    if let Err(e) = record(&ctx, &a, result).await {
        tracing::warn!(activity = %a.ap_id, error = %e.detail(), "could not record an inbound activity");
    }
    origin_of(&a.actor_uri)
}

async fn record(ctx: &Ctx, a: &InboxActivity, result: ServiceResult<()>) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    match result {
        Ok(()) => db::federation::finish_inbound(&mut conn, a.id, ids::now(), None).await?,
        Err(ServiceError::Internal(e)) if a.attempts < 5 => {
            let at = ids::now() + chrono::Duration::seconds(10 << a.attempts);
            db::federation::retry_inbound(&mut conn, a.id, at, &format!("{e:#}")).await?;
        }
        Err(e) => {
            tracing::info!(activity = %a.ap_id, kind = %a.kind, error = %e.detail(), "inbound activity dropped");
            db::federation::finish_inbound(&mut conn, a.id, ids::now(), Some(&e.detail())).await?;
        }
    }
    Ok(())
}

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

async fn follow(ctx: &Ctx, actor: &Account, activity: &Value) -> ServiceResult<()> {
    let follow_id = activity["id"].as_str().unwrap_or_default().to_owned();
    let target_uri = id_of(&activity["object"]).ok_or_else(|| bad("Follow without object"))?;
    let mut conn = ctx.conn().await?;
    let Some(target) = local_by_uri(ctx, &mut conn, target_uri).await? else {
        return Err(bad("Follow of an unknown local actor"));
    };
    let blocked = !db::social::blocking::blocks_between(&mut conn, target.id, &[actor.id])
        .await?
        .is_empty()
        || (target.actor_type == "Group"
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
        kind: if pending { "follow_request" } else { "follow" }.into(),
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
                crate::services::federation::follow_answered(
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
    ctx.fed.wake_delivery.notify_one();
    Ok(())
}

/// Whether an Accept/Reject answers a Join (embedded, or by the id of one we sent).
fn is_join_answer(ctx: &Ctx, object: &Value) -> bool {
    let base = ctx.base_url();
    object["type"] == "Join"
        || id_of(object)
            .is_some_and(|id| id.starts_with(&format!("{base}/users/")) && id.contains("#join/"))
}

/// A remote group's answer to our person's Join.
async fn join_answered(
    ctx: &Ctx,
    group: &Account,
    activity: &Value,
    accept: bool,
) -> ServiceResult<()> {
    let object = &activity["object"];
    let mut conn = ctx.conn().await?;
    let person = match id_of(&object["actor"]) {
        Some(uri) => local_by_uri(ctx, &mut conn, uri).await?,
        None => None,
    };
    // By id alone: our Join ids name the person (`/users/<name>#join/<id>`).
    let person = match person {
        Some(p) => Some(p),
        None => match id_of(object).and_then(|id| id.split("#join/").next()) {
            Some(actor) => local_by_uri(ctx, &mut conn, actor).await?,
            None => None,
        },
    };
    let Some(person) = person else {
        return Err(bad("Accept/Reject of a Join by nobody here"));
    };
    drop(conn);
    let claim = &activity["tsunaguMembership"];
    crate::services::memberships::remote_answer(
        ctx,
        group,
        person.id,
        if accept { "verified" } else { "rejected" },
        claim["role"].as_str(),
        claim["leftOn"].as_str().map(str::to_owned),
    )
    .await
}

/// A remote person asks to join one of our orgs (our membership protocol,
/// docs/federation.md).
async fn join(ctx: &Ctx, actor: &Account, activity: &Value) -> ServiceResult<()> {
    let target = id_of(&activity["object"]).ok_or_else(|| bad("Join without object"))?;
    let mut conn = ctx.conn().await?;
    let Some(org) = local_by_uri(ctx, &mut conn, target)
        .await?
        .filter(|a| a.actor_type == "Group")
    else {
        return Err(bad("Join of no org here"));
    };
    drop(conn);
    let claim = &activity["tsunaguMembership"];
    let text = |k: &str| claim[k].as_str().map(str::to_owned);
    let request = crate::services::memberships::JoinRequest {
        role: text("role").filter(|r| r != "office"),
        tenure_from: text("tenureFrom"),
        tenure_to: text("tenureTo"),
        divisions: claim["divisions"]
            .as_array()
            .map(|l| {
                l.iter()
                    .take(20)
                    .filter_map(|d| d.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        message: activity["content"]
            .as_str()
            .map(crate::services::text::strip_html),
        invite_code: text("inviteCode"),
        consents: claim["consents"]
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(p, _)| crate::services::memberships::PURPOSES.contains(&p.as_str()))
                    .filter_map(|(p, g)| g.as_bool().map(|g| (p.clone(), g)))
                    .collect()
            })
            .unwrap_or_default(),
        wording_version: text("consentWordingVersion").filter(|v| v.len() <= 32),
    };
    let join_id = activity["id"].as_str().map(str::to_owned);
    let result = crate::services::memberships::request_as(
        ctx,
        org.id,
        actor,
        None,
        join_id.clone(),
        request,
    )
    .await;
    match result {
        Ok(m) if m.state != "pending" => {
            // Answered at once (invite) or again (a repeated Join).
            let mut conn = ctx.conn().await?;
            conn.transaction(async |tx| {
                crate::services::groups::membership_changed(ctx, tx, &m).await
            })
            .await?;
            ctx.fed.wake_delivery.notify_one();
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e @ (ServiceError::Validation(_) | ServiceError::Forbidden(_))) => {
            // A claim we cannot accept (or a blocked person) is answered with
            // Reject, not silence.
            tracing::info!(actor = a_uri(actor), error = %e, "Join refused");
            let mut conn = ctx.conn().await?;
            let mut m = crate::services::memberships::new_membership(
                org.id, actor.id, "alumnus", "rejected", "remote",
            );
            m.join_ap_id = join_id;
            m.decided_at = Some(m.created_at);
            conn.transaction(async |tx| {
                m = db::memberships::save(tx, &m).await?;
                crate::services::groups::membership_changed(ctx, tx, &m).await
            })
            .await?;
            ctx.fed.wake_delivery.notify_one();
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// A remote member leaves one of our orgs.
async fn leave(ctx: &Ctx, actor: &Account, object: &Value) -> ServiceResult<()> {
    let target = id_of(object).ok_or_else(|| bad("Leave without object"))?;
    let mut conn = ctx.conn().await?;
    let Some(org) = local_by_uri(ctx, &mut conn, target).await? else {
        return Ok(());
    };
    drop(conn);
    crate::services::memberships::remote_left(ctx, org.id, actor.id).await
}

/// A remote group removes our person from its members.
async fn removed(ctx: &Ctx, group: &Account, activity: &Value) -> ServiceResult<()> {
    let members = crate::services::groups::members_collection(a_uri(group));
    if id_of(&activity["target"]) != Some(members.as_str()) {
        tracing::info!(
            actor = a_uri(group),
            "Remove from another collection; dropped"
        );
        return Ok(());
    }
    let Some(person_uri) = id_of(&activity["object"]) else {
        return Err(bad("Remove without object"));
    };
    let mut conn = ctx.conn().await?;
    let Some(person) = local_by_uri(ctx, &mut conn, person_uri).await? else {
        return Ok(());
    };
    drop(conn);
    crate::services::memberships::remote_answer(ctx, group, person.id, "left", None, None).await
}

/// Accept/Reject of a follow we sent (the object is our Follow, embedded or by id).
async fn answer(ctx: &Ctx, actor: &Account, object: &Value, accept: bool) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    // Our follower is named inside the embedded Follow; by id alone, find it by uri.
    let follower = match object["actor"].as_str() {
        Some(uri) => local_by_uri(ctx, &mut conn, uri).await?,
        None => None,
    };
    let follow = match follower {
        Some(f) => db::social::find_follow(&mut conn, f.id, actor.id).await?,
        None => match id_of(object) {
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

async fn unfollow(ctx: &Ctx, actor: &Account, object: &Value) -> ServiceResult<()> {
    if id_of(&object["actor"]).is_some_and(|a| Some(a) != actor.ap_id.as_deref()) {
        return Err(bad("Undo of another actor's Follow"));
    }
    let target_uri = id_of(&object["object"]).ok_or_else(|| bad("Follow without object"))?;
    let mut conn = ctx.conn().await?;
    let Some(target) = local_by_uri(ctx, &mut conn, target_uri).await? else {
        return Ok(());
    };
    conn.transaction(async |tx| {
        if db::social::delete_follow(tx, actor.id, target.id).await? > 0 {
            db::notifications::retract(tx, target.id, actor.id, "follow", None).await?;
            db::notifications::retract(tx, target.id, actor.id, "follow_request", None).await?;
        }
        Ok::<_, ServiceError>(())
    })
    .await
}

/// An embedded Note may be trusted only when its id is on the actor's origin
/// and it is attributed to the actor (FEP-fe34; Mastodon CVE-2024-23832).
pub fn note_owned_by(object: &Value, actor_uri: &str) -> bool {
    let Some(id) = object["id"].as_str() else {
        return false;
    };
    let attributed = match &object["attributedTo"] {
        Value::Array(list) => list.iter().filter_map(id_of).collect::<Vec<_>>(),
        v => id_of(v).into_iter().collect(),
    };
    same_origin(id, actor_uri) && attributed == [actor_uri]
}

/// Whether a Note is addressed to `group_uri`'s members collection.
fn addressed_to_members(object: &Value, group_uri: &str) -> bool {
    let members = crate::services::groups::members_collection(group_uri);
    let addressed = |k: &str| match &object[k] {
        Value::Array(l) => l.iter().any(|v| id_of(v) == Some(members.as_str())),
        v => id_of(v) == Some(members.as_str()),
    };
    addressed("to") || addressed("cc")
}

/// The group a Note is addressed to (`audience`), when known or fetchable.
/// A members-only Note (addressed to the group's members collection) is
/// taken from the group's own server, or from a verified member posting into
/// one of our orgs (which then passes it on); from anyone else it is
/// refused. (A group's passing on is `store_note_vouched`.) Sets
/// `visibility` to `members` for those.
async fn audience_of(
    ctx: &Ctx,
    actor: &Account,
    object: &Value,
    visibility: &mut Visibility,
) -> ServiceResult<Option<Account>> {
    let Some(group_uri) = id_of(&object["audience"]) else {
        return Ok(None);
    };
    let mut conn = ctx.conn().await?;
    let local = local_by_uri(ctx, &mut conn, group_uri).await?;
    if addressed_to_members(object, group_uri) {
        let allowed = same_origin(group_uri, a_uri(actor))
            || match &local {
                Some(org) => db::memberships::find(&mut conn, org.id, actor.id)
                    .await?
                    .is_some_and(|m| m.state == "verified"),
                None => false,
            };
        if !allowed {
            return Err(bad(
                "a members-only post from neither the group nor one of its members",
            ));
        }
        *visibility = Visibility::Members;
    }
    let known = match local {
        Some(a) => Some(a),
        None => db::federation::account_by_ap_id(&mut conn, group_uri).await?,
    };
    drop(conn);
    let group = match known {
        Some(a) => Some(a),
        None => actors::resolve(ctx, group_uri, false).await.ok(),
    };
    Ok(group.filter(|g| g.actor_type == "Group"))
}

/// Visibility from addressing, as Mastodon reads it.
pub fn visibility_of(object: &Value, followers: Option<&str>) -> Visibility {
    let list = |k: &str| -> Vec<String> {
        match &object[k] {
            Value::String(s) => vec![s.clone()],
            Value::Array(l) => l
                .iter()
                .filter_map(|v| id_of(v).map(str::to_owned))
                .collect(),
            _ => vec![],
        }
    };
    let (to, cc) = (list("to"), list("cc"));
    let public = |l: &[String]| {
        l.iter()
            .any(|x| x == PUBLIC || x == "as:Public" || x == "Public")
    };
    if public(&to) {
        Visibility::Public
    } else if public(&cc) {
        Visibility::Unlisted
    } else if followers.is_some_and(|f| to.iter().chain(cc.iter()).any(|x| x == f)) {
        Visibility::Private
    } else {
        Visibility::Direct
    }
}

/// A vote on one of our polls: a Note with a `name` (the option) and no
/// content, replying to the poll's status (Mastodon, Pleroma, Misskey). Returns
/// whether the object was such a vote (then it is not stored as a post).
async fn vote(ctx: &Ctx, actor: &Account, object: &Value) -> ServiceResult<bool> {
    let (Some(name), Some(parent)) = (object["name"].as_str(), id_of(&object["inReplyTo"])) else {
        return Ok(false);
    };
    if object["content"].as_str().is_some_and(|c| !c.is_empty())
        || !note_owned_by(object, a_uri(actor))
    {
        return Ok(false);
    }
    let mut conn = ctx.conn().await?;
    let Some(status) = db::statuses::find_by_uri_or_local(&mut conn, parent, &ctx.base_url())
        .await?
        .filter(|s| s.local)
    else {
        return Ok(false);
    };
    let Some(poll) = db::polls::of_statuses(&mut conn, &[status.id]).await?.pop() else {
        return Ok(false);
    };
    let options: Vec<String> = serde_json::from_str(&poll.options).unwrap_or_default();
    let Some(choice) = options.iter().position(|o| o == name) else {
        return Err(bad("a vote for an option the poll does not have"));
    };
    if poll.expires_at <= ids::now() {
        return Err(bad("a vote on an ended poll"));
    }
    let Some((author, _)) = db::accounts::find(&mut conn, status.account_id).await? else {
        return Ok(true);
    };
    if db::statuses::find_visible(&mut conn, status.id, Some(actor.id))
        .await?
        .is_none()
    {
        return Err(bad("a vote on a poll the actor may not see"));
    }
    conn.transaction(async |tx| {
        let votes = db::polls::votes(tx, &[poll.id]).await?;
        let mine: Vec<i32> = votes
            .iter()
            .filter(|(_, a, _)| *a == actor.id)
            .map(|(_, _, c)| *c)
            .collect();
        // One choice per voter unless the poll allows several; each once.
        if mine.contains(&(choice as i32)) || (!poll.multiple && !mine.is_empty()) {
            return Ok::<_, ServiceError>(());
        }
        db::polls::vote(tx, poll.id, actor.id, &[choice as i32], ids::now()).await?;
        crate::services::federation::status_published(ctx, tx, &author, &status, true).await?;
        Ok(())
    })
    .await?;
    drop(conn);
    crate::services::federation::wake(ctx);
    Ok(true)
}

/// `tag` entries: an array, or one object (GoToSocial sends a single tag so).
fn tag_entries(object: &Value) -> impl Iterator<Item = &Value> {
    match &object["tag"] {
        Value::Array(list) => list.iter().take(50).collect::<Vec<_>>(),
        one @ Value::Object(_) => vec![one],
        _ => vec![],
    }
    .into_iter()
}

/// The actors a Note mentions (`Mention` tags' `href`).
pub fn mentions(object: &Value) -> Vec<&str> {
    tag_entries(object)
        .filter(|t| t["type"] == "Mention")
        .filter_map(|t| t["href"].as_str())
        .collect()
}

/// A Note's hashtags, lower-case without `#`.
pub fn hashtags(object: &Value) -> Vec<String> {
    tag_entries(object)
        .filter(|t| t["type"] == "Hashtag")
        .filter_map(|t| t["name"].as_str())
        .map(|n| n.trim_start_matches('#').to_lowercase())
        .filter(|n| !n.is_empty() && n.len() <= 100)
        .take(30)
        .collect()
}

/// What a Flag names: the reported account and statuses, in any order (a
/// string or an array; at most 101 entries are looked at).
pub fn flag_objects(activity: &Value) -> Vec<&str> {
    match &activity["object"] {
        Value::Array(list) => list.iter().take(101).filter_map(id_of).collect(),
        v => id_of(v).into_iter().collect(),
    }
}

async fn create_note(ctx: &Ctx, actor: &Account, activity: &Value) -> ServiceResult<()> {
    if vote(ctx, actor, &activity["object"]).await? {
        return Ok(());
    }
    store_note(ctx, actor, &activity["object"], actors::Ancestry::start())
        .await
        .map(|_| ())
}

/// Stores a remote Note by `actor` (checked: on its origin, attributed to it);
/// returns the status, existing or new (None: a direct post for nobody here).
/// An unknown parent is fetched first, as far as `chain` allows.
pub async fn store_note(
    ctx: &Ctx,
    actor: &Account,
    object: &Value,
    chain: actors::Ancestry,
) -> ServiceResult<Option<Status>> {
    store_note_vouched(ctx, actor, object, chain, None).await
}

/// `store_note`, for a Note a group passed on (`vouched_by`, in its Announce).
async fn store_note_vouched(
    ctx: &Ctx,
    actor: &Account,
    object: &Value,
    chain: actors::Ancestry,
    vouched_by: Option<&Account>,
) -> ServiceResult<Option<Status>> {
    let Some(uri) = object["id"].as_str() else {
        // Only the id: fetching it is for the resolve path; nothing embedded to trust.
        return Err(bad("Create without an embedded object"));
    };
    if !note_owned_by(object, a_uri(actor)) {
        return Err(bad(
            "a Note must be by the actor that creates it, on its origin",
        ));
    }
    let mut conn = ctx.conn().await?;
    if let Some(known) = db::statuses::find_by_uri(&mut conn, uri).await? {
        return Ok(Some(known));
    }
    drop(conn);
    let mut visibility = visibility_of(object, actor.followers_url.as_deref());
    let mut audience = match vouched_by {
        // Passed on by its group to the group's members: members-only there.
        Some(group) => {
            visibility = Visibility::Members;
            Some(group.clone())
        }
        None => audience_of(ctx, actor, object, &mut visibility).await?,
    };
    let mut conn = ctx.conn().await?;
    let mut mentioned_local = Vec::new();
    let mut mentioned_accounts = Vec::new();
    for href in mentions(object) {
        if let Some(a) = local_by_uri(ctx, &mut conn, href).await? {
            mentioned_local.push(a.id);
            mentioned_accounts.push(a);
        }
    }
    // A private post by a verified member that mentions one of our orgs is
    // members-only in that org (the Friendica convention, so members on
    // plain Mastodon servers can post to the org's members); direct stays direct.
    if audience.is_none() && visibility == Visibility::Private {
        let (v, org) = crate::services::groups::audience_for(
            &mut conn,
            actor.id,
            None,
            visibility,
            &mentioned_accounts,
        )
        .await?;
        if org.is_some() && v == Visibility::Members {
            visibility = Visibility::Members;
            audience = org;
        }
    }
    let tags = hashtags(object);
    // A direct post reaches only those it names: drop it when it names nobody here.
    if visibility == Visibility::Direct && mentioned_local.is_empty() {
        return Ok(None);
    }
    if visibility == Visibility::Members && audience.is_none() {
        return Ok(None);
    }
    let mut parent = match id_of(&object["inReplyTo"]) {
        Some(p) => db::statuses::find_by_uri_or_local(&mut conn, p, &ctx.base_url()).await?,
        None => None,
    };
    if parent.is_none()
        && let Some(p) = id_of(&object["inReplyTo"])
        && let Some(next) = chain.step(uri, p)
    {
        drop(conn);
        parent = actors::fetch_note_within_budget(ctx, p, next).await;
        conn = ctx.conn().await?;
        // A loop in the chain may have stored this very post meanwhile.
        if let Some(known) = db::statuses::find_by_uri(&mut conn, uri).await? {
            return Ok(Some(known));
        }
    }
    let mut content =
        crate::services::text::sanitize(object["content"].as_str().unwrap_or_default());
    // Lemmy and Mbin posts (Page, Article) carry their title in `name`.
    if matches!(object["type"].as_str(), Some("Page" | "Article"))
        && let Some(title) = object["name"]
            .as_str()
            .map(crate::services::text::strip_html)
        && !title.trim().is_empty()
    {
        content = format!(
            "<p><strong>{}</strong></p>{content}",
            html_escape::encode_text(title.trim())
        );
    }
    let now = ids::now();
    let published = object["published"]
        .as_str()
        .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
        .map(|d| d.naive_utc())
        .filter(|d| *d <= now)
        .unwrap_or(now);
    let status = Status {
        id: ids::next_id(),
        account_id: actor.id,
        uri: Some(uri.to_owned()),
        url: actors::web_url(&object["url"]),
        text: String::new(),
        content,
        spoiler_text: crate::services::text::strip_html(
            object["summary"].as_str().unwrap_or_default(),
        ),
        visibility,
        sensitive: object["sensitive"].as_bool().unwrap_or(false),
        language: object["contentMap"]
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .filter(|l| l.len() <= 16),
        in_reply_to_id: parent.as_ref().map(|p| p.id),
        in_reply_to_account_id: parent.as_ref().map(|p| p.account_id),
        reblog_of_id: None,
        application_id: None,
        local: false,
        created_at: published,
        updated_at: now,
        edited_at: None,
        audience_id: audience.as_ref().map(|a| a.id),
    };
    let attachments = objects::parse_attachments(object);
    let question = (object["type"] == "Question")
        .then(|| objects::parse_question(object, now))
        .flatten();
    let author = actor.id;
    let notes = conn
        .transaction(async |tx| {
            let s = db::statuses::insert(tx, &status).await?;
            if let Some(q) = &question {
                db::polls::insert(tx, &remote_poll(s.id, q, now)).await?;
            }
            for (i, a) in attachments.iter().enumerate() {
                db::media::insert(tx, &remote_media(author, s.id, i as i32, a, now)).await?;
            }
            db::statuses::set_mentions(tx, s.id, &mentioned_local).await?;
            db::statuses::set_tags(tx, s.id, &tags, now).await?;
            let mut notes = Vec::new();
            for r in &mentioned_local {
                notes.push(Notification {
                    id: ids::next_id(),
                    account_id: *r,
                    from_account_id: author,
                    kind: "mention".into(),
                    status_id: Some(s.id),
                    created_at: now,
                });
            }
            for n in &notes {
                db::notifications::insert(tx, n).await?;
            }
            Ok::<_, ServiceError>((s, notes))
        })
        .await?;
    drop(conn);
    let (s, notes) = notes;
    streaming::notifications(ctx, &notes);
    let streams = streaming::status_streams(ctx, &s, &mentioned_local, &tags).await?;
    ctx.hub.publish(streams, streaming::Payload::Status(s.id));
    if let Some(org) = &audience
        && org.local
    {
        announce_member_post(ctx, org, actor, &s, object).await?;
    }
    Ok(Some(s))
}

/// A verified member elsewhere posted into one of our orgs: the org
/// announces it to its followers (FEP-1b12), or, members-only, passes it on
/// to its members' other servers.
async fn announce_member_post(
    ctx: &Ctx,
    org: &Account,
    author: &Account,
    s: &Status,
    object: &Value,
) -> ServiceResult<()> {
    if !crate::services::memberships::is_member(ctx, org.id, author.id).await? {
        tracing::info!(
            author = a_uri(author),
            "a post into an org by a non-member; not announced"
        );
        return Ok(());
    }
    let mut conn = ctx.conn().await?;
    if s.visibility == Visibility::Members {
        conn.transaction(async |tx| {
            crate::services::groups::pass_on_to_members(ctx, tx, org, author, s, object).await
        })
        .await?;
        ctx.fed.wake_delivery.notify_one();
        return Ok(());
    }
    let reblog = conn
        .transaction(async |tx| {
            crate::services::groups::announce_into(ctx, tx, org, author, s).await
        })
        .await?;
    drop(conn);
    ctx.fed.wake_delivery.notify_one();
    if let Some(r) = reblog {
        let streams = streaming::status_streams(ctx, &r, &[], &[]).await?;
        ctx.hub.publish(streams, streaming::Payload::Status(r.id));
    }
    Ok(())
}

async fn delete(ctx: &Ctx, actor: &Account, object: &Value) -> ServiceResult<()> {
    let uri = id_of(object).ok_or_else(|| bad("Delete without object"))?;
    let actor_uri = actor.ap_id.as_deref().unwrap_or_default();
    let mut conn = ctx.conn().await?;
    if uri == actor_uri {
        db::federation::delete_remote_account(&mut conn, actor.id).await?;
        return Ok(());
    }
    if !same_origin(uri, actor_uri) {
        return Err(bad("Delete of an object on another origin"));
    }
    if let Some(s) = db::statuses::find_by_uri(&mut conn, uri).await?
        && s.account_id == actor.id
    {
        drop(conn);
        let deletion = streaming::deletion(ctx, &s).await?;
        let mut conn = ctx.conn().await?;
        db::statuses::delete(&mut conn, s.id).await?;
        drop(conn);
        deletion.publish(ctx);
    }
    Ok(())
}

fn a_uri(a: &Account) -> &str {
    a.ap_id.as_deref().unwrap_or_default()
}

/// Like (or its Undo) of one of our statuses.
async fn like(ctx: &Ctx, actor: &Account, object: &Value, on: bool) -> ServiceResult<()> {
    let uri = id_of(object).ok_or_else(|| bad("Like without object"))?;
    let mut conn = ctx.conn().await?;
    let Some(s) = db::statuses::find_by_uri_or_local(&mut conn, uri, &ctx.base_url()).await? else {
        return Ok(());
    };
    if on
        && db::statuses::find_visible(&mut conn, s.id, Some(actor.id))
            .await?
            .is_none()
    {
        return Err(bad("Like of a status the actor may not see"));
    }
    let author_local = db::accounts::find(&mut conn, s.account_id)
        .await?
        .is_some_and(|(a, _)| a.local);
    let note = Notification {
        id: ids::next_id(),
        account_id: s.account_id,
        from_account_id: actor.id,
        kind: "favourite".into(),
        status_id: Some(s.id),
        created_at: ids::now(),
    };
    let notified = conn
        .transaction(async |tx| {
            if on {
                let fav = crate::db::models::Favourite {
                    id: ids::next_id(),
                    account_id: actor.id,
                    status_id: s.id,
                    created_at: ids::now(),
                };
                if db::social::favourite::add(tx, &fav).await? && author_local {
                    db::notifications::insert(tx, &note).await?;
                    return Ok::<_, ServiceError>(true);
                }
            } else if db::social::favourite::remove(tx, actor.id, s.id).await? > 0 {
                db::notifications::retract(tx, s.account_id, actor.id, "favourite", Some(s.id))
                    .await?;
            }
            Ok(false)
        })
        .await?;
    if notified {
        streaming::notifications(ctx, std::slice::from_ref(&note));
    }
    Ok(())
}

/// Announce of a status we have (ours, or a remote one we stored).
async fn announce(ctx: &Ctx, actor: &Account, activity: &Value) -> ServiceResult<()> {
    let id = activity["id"].as_str().unwrap_or_default();
    // Groups (Lemmy, Mbin, us) also announce the Create: the post is inside.
    let object = match activity["object"]["type"].as_str() {
        Some("Create") => &activity["object"]["object"],
        Some("Note" | "Question" | "Article" | "Page") | None => &activity["object"],
        Some(other) => {
            tracing::info!(
                kind = other,
                "Announce of an activity of this type; dropped"
            );
            return Ok(());
        }
    };
    let uri = id_of(object).ok_or_else(|| bad("Announce without object"))?;
    // A group passing a members-only post on: taken only when the Note is on
    // the group's own origin (a group vouches for nothing else) or carries
    // its author's proof. Anything else is fetched from its own origin below
    // like any boost, which a members-only post never survives.
    if actor.actor_type == "Group"
        && object.is_object()
        && addressed_to_members(activity, a_uri(actor))
        && names_group(object, a_uri(actor))
        && (same_origin(uri, a_uri(actor)) || proven_by_author(ctx, object).await)
    {
        return members_post_passed_on(ctx, actor, object).await;
    }
    let mut conn = ctx.conn().await?;
    if db::statuses::find_by_uri(&mut conn, id).await?.is_some() {
        return Ok(());
    }
    let known = db::statuses::find_by_uri_or_local(&mut conn, uri, &ctx.base_url()).await?;
    let original = match known {
        Some(s) => s,
        None => {
            // An embedded object is not trusted (it may be on another origin):
            // the post is fetched from its own server, by its id.
            drop(conn);
            let fetched =
                actors::fetch_note_within_budget(ctx, uri, actors::Ancestry::start()).await;
            conn = ctx.conn().await?;
            match fetched {
                Some(s) => s,
                None => {
                    tracing::info!(
                        object = uri,
                        "Announce of a post that cannot be fetched; dropped"
                    );
                    return Ok(());
                }
            }
        }
    };
    if !original.visibility.is_open() {
        return Err(bad("Announce of a non-public status"));
    }
    // Both forms of a group's announce (and any repeat) make one boost.
    if !db::statuses::reblogged_by(&mut conn, actor.id, &[original.id])
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let row = crate::services::statuses::reblog_row(
        actor.id,
        original.id,
        visibility_of(activity, actor.followers_url.as_deref()),
        Some(id.to_owned()),
    );
    let now = row.created_at;
    let author_local = db::accounts::find(&mut conn, original.account_id)
        .await?
        .is_some_and(|(a, _)| a.local);
    let note = Notification {
        id: ids::next_id(),
        account_id: original.account_id,
        from_account_id: actor.id,
        kind: "reblog".into(),
        status_id: Some(original.id),
        created_at: now,
    };
    let r = conn
        .transaction(async |tx| {
            let r = db::statuses::insert(tx, &row).await?;
            if author_local {
                db::notifications::insert(tx, &note).await?;
            }
            Ok::<_, ServiceError>(r)
        })
        .await?;
    drop(conn);
    if author_local {
        streaming::notifications(ctx, std::slice::from_ref(&note));
    }
    let streams = streaming::status_streams(ctx, &r, &[], &[]).await?;
    ctx.hub.publish(streams, streaming::Payload::Status(r.id));
    Ok(())
}

/// Whether a Note names the group among those it is for: its `audience`, or
/// the group in `to`/`cc` (a Friendica-style mention). A group may pass on
/// only what its author meant for it.
fn names_group(object: &Value, group_uri: &str) -> bool {
    let listed = |k: &str| match &object[k] {
        Value::Array(l) => l.iter().any(|v| id_of(v) == Some(group_uri)),
        v => id_of(v) == Some(group_uri),
    };
    listed("audience") || listed("to") || listed("cc")
}

/// Whether an embedded Note carries a valid proof by its author (checked
/// with the key the author's own server publishes; fetched again once, for
/// a rotated key).
async fn proven_by_author(ctx: &Ctx, object: &Value) -> bool {
    let Some(author_uri) = single_author(object) else {
        return false;
    };
    if !note_owned_by(object, author_uri) {
        return false;
    }
    let check = |a: &Account| {
        ctx.fed
            .keys
            .get(&a.public_key_pem)
            .is_ok_and(|key| super::proofs::verify(object, author_uri, &key))
    };
    match actors::resolve(ctx, author_uri, false).await {
        Ok(a) if check(&a) => true,
        Ok(_) => actors::resolve(ctx, author_uri, true)
            .await
            .is_ok_and(|a| check(&a)),
        Err(_) => false,
    }
}

fn single_author(object: &Value) -> Option<&str> {
    match &object["attributedTo"] {
        Value::Array(l) if l.len() == 1 => id_of(&l[0]),
        v => id_of(v),
    }
}

/// A members-only post passed on by its group (on the group's origin, or
/// proven by its author), stored as members-only in that group when someone
/// here is a verified member.
async fn members_post_passed_on(ctx: &Ctx, group: &Account, object: &Value) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    if !db::memberships::has_local_member(&mut conn, group.id).await? {
        tracing::info!(
            group = a_uri(group),
            "a members-only post from a group with no members here; dropped"
        );
        return Ok(());
    }
    drop(conn);
    let author_uri = single_author(object).ok_or_else(|| bad("a Note without one author"))?;
    let author = actors::resolve(ctx, author_uri, false).await?;
    store_note_vouched(ctx, &author, object, actors::Ancestry::start(), Some(group))
        .await
        .map(|_| ())
}

async fn undo_announce(ctx: &Ctx, actor: &Account, object: &Value) -> ServiceResult<()> {
    let Some(id) = id_of(object) else {
        return Ok(());
    };
    let mut conn = ctx.conn().await?;
    if let Some(r) = db::statuses::find_by_uri(&mut conn, id).await?
        && r.account_id == actor.id
        && r.reblog_of_id.is_some()
    {
        drop(conn);
        let deletion = streaming::deletion(ctx, &r).await?;
        let mut conn = ctx.conn().await?;
        db::statuses::delete(&mut conn, r.id).await?;
        drop(conn);
        deletion.publish(ctx);
    }
    Ok(())
}

/// The row of a remote post's attachment: linked, not copied.
fn remote_media(
    account_id: i64,
    status_id: i64,
    position: i32,
    a: &objects::Attachment,
    now: chrono::NaiveDateTime,
) -> crate::db::models::MediaAttachment {
    let meta = match a.size {
        Some((w, h)) => {
            json!({ "original": { "width": w, "height": h, "size": format!("{w}x{h}"), "aspect": w as f64 / h as f64 } })
        }
        None => json!({}),
    };
    crate::db::models::MediaAttachment {
        id: ids::next_id(),
        account_id,
        status_id: Some(status_id),
        kind: a.kind.clone(),
        file: None,
        preview_file: None,
        remote_url: Some(a.url.clone()),
        description: a.description.clone(),
        focus_x: a.focus.0,
        focus_y: a.focus.1,
        meta: meta.to_string(),
        blurhash: a.blurhash.clone(),
        state: "ready".into(),
        error: None,
        position,
        created_at: now,
        updated_at: now,
    }
}

/// The row of a remote poll: tallies as its server reports them.
fn remote_poll(
    status_id: i64,
    q: &objects::QuestionPoll,
    now: chrono::NaiveDateTime,
) -> crate::db::models::Poll {
    crate::db::models::Poll {
        id: ids::next_id(),
        status_id,
        options: serde_json::to_string(&q.options).unwrap_or_else(|_| "[]".into()),
        multiple: q.multiple,
        hide_totals: false,
        expires_at: q.end,
        created_at: now,
        // Their server announces the end; our voters get the notification
        // from our own loop, which this flag leaves armed.
        ended_notified: false,
        remote_counts: Some(serde_json::to_string(&q.counts).unwrap_or_else(|_| "[]".into())),
        remote_voters: q.voters,
    }
}

/// An edit of a remote status: the embedded Note must be the actor's, on its origin.
async fn update_note(ctx: &Ctx, actor: &Account, object: &Value) -> ServiceResult<()> {
    let uri = object["id"]
        .as_str()
        .ok_or_else(|| bad("Update without object id"))?;
    if !note_owned_by(object, a_uri(actor)) {
        return Err(bad("Update of another actor's object"));
    }
    let mut conn = ctx.conn().await?;
    let Some(old) = db::statuses::find_by_uri(&mut conn, uri).await? else {
        return Ok(());
    };
    if old.account_id != actor.id {
        return Err(bad("Update of another actor's status"));
    }
    let now = ids::now();
    if object["type"] == "Question"
        && let Some(q) = objects::parse_question(object, now)
        && let Some(poll) = db::polls::of_statuses(&mut conn, &[old.id]).await?.pop()
        && poll.remote_counts.is_some()
    {
        let counts = serde_json::to_string(&q.counts).unwrap_or_else(|_| "[]".into());
        db::polls::update_remote(&mut conn, poll.id, &counts, q.voters, q.end).await?;
    }
    let mut new = old.clone();
    new.content = crate::services::text::sanitize(object["content"].as_str().unwrap_or_default());
    new.spoiler_text =
        crate::services::text::strip_html(object["summary"].as_str().unwrap_or_default());
    new.sensitive = object["sensitive"].as_bool().unwrap_or(false);
    if (&new.content, &new.spoiler_text, new.sensitive)
        == (&old.content, &old.spoiler_text, old.sensitive)
    {
        // New tallies only (a Question's Update): not an edit.
        drop(conn);
        ctx.hub.publish(
            streaming::status_streams(ctx, &old, &[], &[]).await?,
            streaming::Payload::StatusUpdate(old.id),
        );
        return Ok(());
    }
    new.updated_at = now;
    new.edited_at = Some(now);
    let edit = crate::db::models::StatusEdit {
        id: ids::next_id(),
        status_id: old.id,
        text: old.text.clone(),
        content: old.content.clone(),
        spoiler_text: old.spoiler_text.clone(),
        sensitive: old.sensitive,
        created_at: old.edited_at.unwrap_or(old.created_at),
    };
    let updated = conn
        .transaction(async |tx| {
            db::statuses::insert_edit(tx, &edit).await?;
            Ok::<_, ServiceError>(db::statuses::update_content(tx, &new).await?)
        })
        .await?;
    drop(conn);
    let streams = streaming::status_streams(ctx, &updated, &[], &[]).await?;
    ctx.hub
        .publish(streams, streaming::Payload::StatusUpdate(updated.id));
    Ok(())
}

/// A profile update: only the actor itself, embedded on its own id.
async fn update_actor(ctx: &Ctx, actor: &Account, object: &Value) -> ServiceResult<()> {
    let uri = a_uri(actor);
    if object["id"].as_str() != Some(uri) {
        return Err(bad("Update of another actor"));
    }
    let row = actors::parse_actor(uri, object, ids::now())?;
    let mut conn = ctx.conn().await?;
    db::federation::upsert_remote_account(&mut conn, &row).await?;
    Ok(())
}

/// An account moved (Mastodon's account migration): the new account must name
/// the old one in `alsoKnownAs` (fetched fresh, never taken from the
/// activity). Our people who followed the old account follow the new one.
async fn move_account(ctx: &Ctx, actor: &Account, activity: &Value) -> ServiceResult<()> {
    let old_uri = a_uri(actor);
    if id_of(&activity["object"]) != Some(old_uri) {
        return Err(bad("Move of another actor"));
    }
    let target_uri = id_of(&activity["target"]).ok_or_else(|| bad("Move without target"))?;
    if target_uri == old_uri {
        return Err(bad("Move to itself"));
    }
    let url = url::Url::parse(target_uri).map_err(|_| bad("target is not a URL"))?;
    let doc = actors::fetch_signed(ctx, &url).await?;
    let aliases: Vec<&str> = match &doc["alsoKnownAs"] {
        Value::Array(l) => l.iter().filter_map(id_of).collect(),
        v => id_of(v).into_iter().collect(),
    };
    if !aliases.contains(&old_uri) {
        return Err(bad(
            "the target does not name the old account in alsoKnownAs",
        ));
    }
    let row = actors::parse_actor(target_uri, &doc, ids::now())?;
    let mut conn = ctx.conn().await?;
    let target = db::federation::upsert_remote_account(&mut conn, &row).await?;
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

/// A report from another server: `object` names one of our accounts and,
/// optionally, statuses of that account (Mastodon, GoToSocial, Misskey).
async fn flag(ctx: &Ctx, actor: &Account, activity: &Value) -> ServiceResult<()> {
    let id = activity["id"].as_str().unwrap_or_default();
    let objects = flag_objects(activity);
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
        crate::services::text::strip_html(activity["content"].as_str().unwrap_or_default());
    crate::services::reports::received(ctx, actor, &target, &status_ids, &comment, id).await?;
    Ok(())
}

/// A remote account blocks (or unblocks) one of ours: follows both ways end,
/// and the block keeps our person's posts from them as it does locally.
async fn block(ctx: &Ctx, actor: &Account, object: &Value, on: bool) -> ServiceResult<()> {
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
