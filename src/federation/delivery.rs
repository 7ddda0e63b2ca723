//! Durable outbound delivery.
//!
//! An activity is written to `outbound_activities` (once) and
//! `outbound_targets` (per remote host) in the transaction of the change it
//! announces. Per host, one worker at a time (a lease, so several app nodes
//! share the work) sends the activities after the host's `done_upto` cursor in
//! order, several requests in flight, and moves the cursor past what
//! succeeded. A failure backs the host off exponentially (the circuit breaker:
//! the worker ends and holds nothing until the host is due again); an activity
//! still failing after [`GIVE_UP_AFTER`] is dropped for that host.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use url::Url;

use super::Runtime;
use super::http::{FetchError, Signer};
use super::signatures::PrivateKey;
use crate::db::models::{Account, OutboundActivity};
use crate::db::{self, DbPool};
use crate::ids;

/// Activities older than this that still fail are dropped for that host.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(4 * 24 * 3600);
/// Longest backoff between attempts at a failing host.
pub const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);
const FIRST_BACKOFF: Duration = Duration::from_secs(10);
const BATCH: i64 = 64;
/// Requests in flight to one host (GoToSocial on 2 CPUs takes 16 at once).
const IN_FLIGHT_PER_HOST: usize = 16;
const MAX_HOST_WORKERS: usize = 256;
const LEASE: Duration = Duration::from_secs(30);

pub fn backoff(failures: i32) -> Duration {
    let exp = failures.clamp(0, 20) as u32;
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(exp))
        .min(MAX_BACKOFF)
}

/// Builds the targets of an activity from inbox URLs: grouped by host,
/// deduplicated; local inboxes are skipped (handled in the same change).
pub fn targets(
    base_url: &str,
    inboxes: impl IntoIterator<Item = String>,
) -> Vec<(String, Vec<String>)> {
    let own = Url::parse(base_url).ok().map(|u| authority(&u));
    let mut by_host: HashMap<String, Vec<String>> = HashMap::new();
    for inbox in inboxes {
        let Ok(u) = Url::parse(&inbox) else { continue };
        let host = authority(&u);
        if Some(&host) == own.as_ref() {
            continue;
        }
        let list = by_host.entry(host).or_default();
        if !list.contains(&inbox) {
            list.push(inbox);
        }
    }
    let mut out: Vec<_> = by_host.into_iter().collect();
    out.sort();
    out
}

/// `host` or `host:port`, lower-case: the key of a remote instance.
pub fn authority(u: &Url) -> String {
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// Writes an activity for delivery (inside the caller's transaction).
pub async fn enqueue(
    conn: &mut crate::db::DbConn<'_>,
    base_url: &str,
    actor: &Account,
    ap_id: &str,
    body: &serde_json::Value,
    inboxes: impl IntoIterator<Item = String>,
) -> crate::db::DbResult<()> {
    enqueue_row(conn, base_url, actor.id, false, ap_id, body, inboxes).await
}

/// Like [`enqueue`], signed by the instance actor (a Flag: the person who
/// reported stays anonymous); `on_behalf_of` ties the row to their account.
pub async fn enqueue_signed_by_instance(
    conn: &mut crate::db::DbConn<'_>,
    base_url: &str,
    on_behalf_of: i64,
    ap_id: &str,
    body: &serde_json::Value,
    inboxes: impl IntoIterator<Item = String>,
) -> crate::db::DbResult<()> {
    enqueue_row(conn, base_url, on_behalf_of, true, ap_id, body, inboxes).await
}

async fn enqueue_row(
    conn: &mut crate::db::DbConn<'_>,
    base_url: &str,
    actor_id: i64,
    signed_by_instance: bool,
    ap_id: &str,
    body: &serde_json::Value,
    inboxes: impl IntoIterator<Item = String>,
) -> crate::db::DbResult<()> {
    let targets = targets(base_url, inboxes);
    if targets.is_empty() {
        return Ok(());
    }
    let row = OutboundActivity {
        id: ids::next_id(),
        ap_id: ap_id.to_owned(),
        actor_id,
        body: body.to_string(),
        created_at: ids::now(),
        signed_by_instance,
    };
    db::federation::enqueue(conn, &row, &targets).await
}

/// Runs the dispatcher until the runtime is dropped.
pub async fn run(rt: Arc<Runtime>, db: DbPool, base_url: String, idle: Duration) {
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let keys: Arc<Mutex<HashMap<i64, Arc<Signer>>>> = Arc::default();
    loop {
        let wait = match dispatch(&rt, &db, &base_url, &running, &keys, idle).await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "delivery dispatcher failed; retrying");
                Duration::from_secs(2)
            }
        };
        tokio::select! {
            _ = rt.wake_delivery.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

async fn dispatch(
    rt: &Arc<Runtime>,
    db: &DbPool,
    base_url: &str,
    running: &Arc<Mutex<HashSet<String>>>,
    keys: &Arc<Mutex<HashMap<i64, Arc<Signer>>>>,
    idle: Duration,
) -> anyhow::Result<Duration> {
    let mut conn = db.get().await?;
    let now = ids::now();
    let free = MAX_HOST_WORKERS.saturating_sub(running.lock().unwrap().len());
    let hosts = db::federation::due_hosts(&mut conn, now, free as i64).await?;
    let next = db::federation::next_due(&mut conn).await?;
    drop(conn);
    for host in hosts {
        if !running.lock().unwrap().insert(host.clone()) {
            continue;
        }
        let (rt2, db2, running2, keys2, base) = (
            rt.clone(),
            db.clone(),
            running.clone(),
            keys.clone(),
            base_url.to_owned(),
        );
        tokio::spawn(async move {
            if let Err(e) = host_worker(&rt2, &db2, &base, &host, &keys2).await {
                tracing::warn!(%host, error = %e, "delivery worker failed");
            }
            running2.lock().unwrap().remove(&host);
            // Work may have arrived while this worker was finishing.
            rt2.wake_delivery.notify_one();
        });
    }
    let wait = next
        .map(|at| (at - ids::now()).to_std().unwrap_or_default())
        .unwrap_or(idle)
        .clamp(Duration::from_millis(50), idle);
    Ok(wait)
}

/// Where the instance actor's signer sits in the signer cache (no account has this id).
const INSTANCE_SIGNER: i64 = -1;

/// The signer of an actor's deliveries; the key is parsed and the account
/// read once per actor, not once per delivery.
async fn signer(
    db: &DbPool,
    base_url: &str,
    keys: &Mutex<HashMap<i64, Arc<Signer>>>,
    activity: &OutboundActivity,
) -> anyhow::Result<Arc<Signer>> {
    let actor_id = if activity.signed_by_instance {
        INSTANCE_SIGNER
    } else {
        activity.actor_id
    };
    if let Some(s) = keys.lock().unwrap().get(&actor_id) {
        return Ok(s.clone());
    }
    let mut conn = db.get().await?;
    if actor_id == INSTANCE_SIGNER {
        let (pem, _) = db::federation::instance_keys(&mut conn)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the instance actor has no key yet"))?;
        let signer = Arc::new(Signer {
            key_id: format!("{base_url}/actor#main-key"),
            key: Arc::new(PrivateKey::from_pem(&pem)?),
        });
        keys.lock().unwrap().insert(actor_id, signer.clone());
        return Ok(signer);
    }
    let (account, _) = db::accounts::find(&mut conn, actor_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("actor {actor_id} is gone"))?;
    drop(conn);
    let pem = account
        .private_key_pem
        .ok_or_else(|| anyhow::anyhow!("actor {actor_id} has no private key"))?;
    let signer = Arc::new(Signer {
        key_id: super::objects::Urls { base: base_url }.key_id(&account.username),
        key: Arc::new(PrivateKey::from_pem(&pem)?),
    });
    keys.lock().unwrap().insert(actor_id, signer.clone());
    Ok(signer)
}

enum Outcome {
    Delivered,
    /// Permanently refused (4xx other than 408/429): counted as handled.
    Refused(String),
    Retry(String),
}

/// Sends one activity with its signer (read beforehand: nothing here
/// touches the database, so sends can be polled side by side).
async fn send_one(
    rt: &Runtime,
    signer: &Result<Arc<Signer>, String>,
    activity: &OutboundActivity,
    inboxes: &str,
) -> Outcome {
    let signer = match signer {
        Ok(s) => s.clone(),
        Err(e) => return Outcome::Refused(e.clone()),
    };
    let inboxes: Vec<String> = serde_json::from_str(inboxes).unwrap_or_default();
    for inbox in inboxes {
        let Ok(url) = Url::parse(&inbox) else {
            continue;
        };
        match rt
            .client
            .post_activity(&url, activity.body.as_bytes(), &signer)
            .await
        {
            Ok(()) => {}
            Err(e) if e.retryable() => return Outcome::Retry(e.to_string()),
            Err(e @ FetchError::Refused(..)) => return Outcome::Refused(e.to_string()),
            Err(e) => return Outcome::Refused(e.to_string()),
        }
    }
    Outcome::Delivered
}

async fn host_worker(
    rt: &Runtime,
    db: &DbPool,
    base_url: &str,
    host: &str,
    keys: &Mutex<HashMap<i64, Arc<Signer>>>,
) -> anyhow::Result<()> {
    if !renew_lease(&mut db.get().await?, rt, host).await? {
        return Ok(());
    }
    let result = drain_host(rt, db, base_url, host, keys).await;
    let mut conn = db.get().await?;
    db::federation::release_host(&mut conn, host, &rt.node).await?;
    result
}

/// Takes or renews this node's lease on a host for [`LEASE`]; false when
/// another node holds it.
async fn renew_lease(
    conn: &mut crate::db::DbConn<'_>,
    rt: &Runtime,
    host: &str,
) -> anyhow::Result<bool> {
    let now = ids::now();
    let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    Ok(db::federation::lease_host(conn, host, &rt.node, now, until).await?)
}

/// Sends a leased host's backlog batch by batch until it is empty, the
/// host fails (backed off) or the lease is lost. No pooled connection is
/// held while requests are in flight: slow hosts must not starve the pool.
async fn drain_host(
    rt: &Runtime,
    db: &DbPool,
    base_url: &str,
    host: &str,
    keys: &Mutex<HashMap<i64, Arc<Signer>>>,
) -> anyhow::Result<()> {
    loop {
        let (state, batch) = {
            let mut conn = db.get().await?;
            let state = db::federation::host(&mut conn, host)
                .await?
                .ok_or_else(|| anyhow::anyhow!("host row vanished"))?;
            let batch = db::federation::batch_for(&mut conn, host, state.done_upto, BATCH).await?;
            (state, batch)
        };
        if batch.is_empty() {
            return Ok(());
        }
        let outcomes = send_batch(rt, db, base_url, keys, &batch).await;
        let now = ids::now();
        let mut done_upto = state.done_upto;
        let mut delivered = 0;
        let mut failure: Option<String> = None;
        for ((a, _), outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Some(Outcome::Delivered) => delivered += 1,
                Some(Outcome::Refused(why)) => {
                    tracing::info!(%host, activity = %a.ap_id, %why, "delivery refused; not retried");
                }
                Some(Outcome::Retry(why)) => {
                    let age = (now - a.created_at).to_std().unwrap_or_default();
                    if age > GIVE_UP_AFTER {
                        tracing::warn!(%host, activity = %a.ap_id, %why, "giving up on an old activity");
                    } else {
                        failure = Some(why);
                        break;
                    }
                }
                None => {
                    failure =
                        Some("held back behind a failed activity about the same object".into());
                    break;
                }
            }
            done_upto = a.id;
        }
        let mut conn = db.get().await?;
        match failure {
            None => {
                db::federation::advance(&mut conn, host, done_upto, delivered, now).await?;
                if !renew_lease(&mut conn, rt, host).await? {
                    return Ok(());
                }
            }
            Some(why) => {
                let retry_at =
                    now + chrono::Duration::from_std(backoff(state.failures)).unwrap_or_default();
                db::federation::failed(&mut conn, host, done_upto, delivered, retry_at, &why)
                    .await?;
                tracing::info!(%host, error = %why, ?retry_at, "delivery failed; host backed off");
                return Ok(());
            }
        }
    }
}

/// Sends one batch to a host: activities about the same object one after
/// another, in order (a Delete never overtakes its Create); different
/// objects side by side, [`IN_FLIGHT_PER_HOST`] at a time. An outcome is
/// None when an earlier activity about its object failed, so it was held.
async fn send_batch(
    rt: &Runtime,
    db: &DbPool,
    base_url: &str,
    keys: &Mutex<HashMap<i64, Arc<Signer>>>,
    batch: &[(OutboundActivity, String)],
) -> Vec<Option<Outcome>> {
    use futures_util::StreamExt;
    // The signers' keys are read one at a time before the concurrent sends:
    // sends polled together in this task must not each take a pooled
    // connection at once (a one-connection pool would starve). A key that
    // cannot be read is reported by its send.
    let mut signers = Vec::with_capacity(batch.len());
    for (a, _) in batch {
        signers.push(
            signer(db, base_url, keys, a)
                .await
                .map_err(|e| e.to_string()),
        );
    }
    let signers = &signers;
    let mut lanes: Vec<Vec<usize>> = Vec::new();
    let mut lane_of: HashMap<String, usize> = HashMap::new();
    for (i, (a, _)) in batch.iter().enumerate() {
        let lane = *lane_of.entry(subject(&a.body)).or_insert_with(|| {
            lanes.push(Vec::new());
            lanes.len() - 1
        });
        lanes[lane].push(i);
    }
    let sent: Vec<Vec<(usize, Outcome)>> = futures_util::stream::iter(lanes)
        .map(|lane| async move {
            let mut out = Vec::with_capacity(lane.len());
            for i in lane {
                let (a, inboxes) = &batch[i];
                let outcome = send_one(rt, &signers[i], a, inboxes).await;
                let held = matches!(outcome, Outcome::Retry(_));
                out.push((i, outcome));
                if held {
                    break;
                }
            }
            out
        })
        .buffer_unordered(IN_FLIGHT_PER_HOST)
        .collect()
        .await;
    let mut outcomes: Vec<Option<Outcome>> = batch.iter().map(|_| None).collect();
    for (i, outcome) in sent.into_iter().flatten() {
        outcomes[i] = Some(outcome);
    }
    outcomes
}

/// What an activity is about, for ordering: the innermost `object`
/// (an Undo of a Like is about the liked post, a Create about its Note).
fn subject(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    super::vocab::subject_of(&v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoff_grows_and_covers_three_days_before_giving_up() {
        assert_eq!(backoff(0), Duration::from_secs(10));
        assert_eq!(backoff(1), Duration::from_secs(20));
        assert_eq!(backoff(30), MAX_BACKOFF);
        let mut total = Duration::ZERO;
        let mut tries = 0;
        while total < Duration::from_secs(3 * 24 * 3600) {
            total += backoff(tries);
            tries += 1;
        }
        assert!(
            total < GIVE_UP_AFTER,
            "retries span 3 days before an activity is dropped"
        );
    }

    #[test]
    fn activities_are_ordered_by_the_object_they_are_about() {
        let note = "https://a.example/statuses/1";
        for body in [
            json!({"type": "Create", "id": "https://a.example/c", "object": {"id": note, "type": "Note"}}),
            json!({"type": "Delete", "id": "https://a.example/d", "object": {"id": note, "type": "Tombstone"}}),
            json!({"type": "Like", "id": "https://a.example/l", "object": note}),
            json!({"type": "Undo", "id": "https://a.example/u", "object": {"type": "Like", "id": "https://a.example/l", "object": note}}),
        ] {
            assert_eq!(subject(&body.to_string()), note, "{body}");
        }
        assert_eq!(
            subject(&json!({"type": "Update", "id": "https://a.example/p#u", "object": {"id": "https://a.example/p", "type": "Person"}}).to_string()),
            "https://a.example/p"
        );
        assert_eq!(subject("not json"), "");
    }

    #[test]
    fn targets_group_by_host_skip_ourselves_and_dedupe() {
        let t = targets(
            "http://alpha.test:8101",
            [
                "http://beta.test:8102/inbox".to_owned(),
                "http://beta.test:8102/inbox".to_owned(),
                "http://alpha.test:8101/users/a/inbox".to_owned(),
                "https://Gamma.example/users/x/inbox".to_owned(),
                "not a url".to_owned(),
            ],
        );
        assert_eq!(
            t,
            vec![
                (
                    "beta.test:8102".to_owned(),
                    vec!["http://beta.test:8102/inbox".to_owned()]
                ),
                (
                    "gamma.example".to_owned(),
                    vec!["https://Gamma.example/users/x/inbox".to_owned()]
                ),
            ]
        );
    }
}
