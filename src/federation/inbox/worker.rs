//! The worker: claims stored activities in concurrent lanes (per origin, per actor) and records the outcome.
use super::*;

/// Activities processed at once by one node's worker.
pub(super) const IN_FLIGHT: usize = 16;

/// Of those, at most this many from one remote origin: one host (slow, or
/// hostile and slow on purpose) cannot hold the queue others need.
pub(super) const PER_ORIGIN: usize = 2;

/// Of those, this many may work at once (the others wait on the network, or
/// for a slot: see `federation::slots`).
pub(super) fn work_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).clamp(1, 4))
}

/// How long one activity may take (its fetches included) before it is put
/// back for a later try; below the lease, so no other node takes it meanwhile.
pub(super) const PROCESS_BUDGET: Duration = Duration::from_secs(45);

pub(super) const LEASE: chrono::Duration = chrono::Duration::seconds(60);

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
            _ = crate::federation::rt(&ctx).wake_inbox.notified() => {}
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
pub(super) async fn claim(
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
pub(super) fn origin_of(uri: &str) -> String {
    url::Url::parse(uri)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| uri.to_owned())
}

/// Processes one activity within [`PROCESS_BUDGET`], working only while it
/// holds a slot, and records the outcome; returns its actor's origin (for
/// the share).
pub(super) async fn lane(
    ctx: Ctx,
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    a: InboxActivity,
) -> String {
    let work = crate::federation::slots::with_slot(slots, process_and_scrub(&ctx, &a));
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

pub(super) async fn record(
    ctx: &Ctx,
    a: &InboxActivity,
    result: ServiceResult<()>,
) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    match result {
        Ok(()) => db::federation::finish_inbound(&mut conn, a.id, ids::now(), None).await?,
        // Temporary failures (a remote that timed out or answered 5xx, a
        // busy database) are tried again: 10 s, 20 s, 40 s, 80 s, 160 s.
        Err(e) if e.retryable() && a.attempts < 5 => {
            let at = ids::now() + chrono::Duration::seconds(10 << a.attempts);
            db::federation::retry_inbound(&mut conn, a.id, at, &e.detail()).await?;
        }
        Err(e) => {
            tracing::info!(activity = %a.ap_id, kind = %a.kind, error = %e.detail(), "inbound activity dropped");
            db::federation::finish_inbound(&mut conn, a.id, ids::now(), Some(&e.detail())).await?;
        }
    }
    Ok(())
}
