//! Admission: a delivery is verified, deduplicated and stored (202), or refused.
use super::*;

/// Why an inbound request was refused (each maps to an HTTP status).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
    /// The sender's server is blocked here (or not on the allow-list).
    #[error("{0}")]
    Forbidden(String),
    /// Over capacity: try again after this many seconds.
    #[error("the inbox is over capacity; retry later")]
    Busy(u64),
    #[error(transparent)]
    Internal(#[from] ServiceError),
}

/// How long a delivery may wait for its turn before it is refused.
pub(super) const ADMISSION_WAIT: Duration = Duration::from_secs(2);

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
    let _turn = crate::federation::rt(ctx).admission.enter().await?;
    crate::federation::rt(ctx)
        .admission
        .check_backlog(ctx)
        .await?;
    let sig = signatures::parse_request(req.header)?;
    let signed = SignedRequest {
        method: req.method,
        path_and_query: req.path_and_query,
        scheme: ctx.config.scheme(),
        authority: &ctx.config.server.domain,
        header: req.header,
        body: Some(req.body),
    };
    signatures::precheck(&signed, &sig, SystemTime::now())?;
    let activity: RemoteActivity = serde_json::from_slice(req.body)
        .map_err(|e| Refusal::BadRequest(format!("the body is not a JSON activity: {e}")))?;
    let id = activity
        .id
        .as_deref()
        .ok_or_else(|| Refusal::BadRequest("activity without id".into()))?;
    let kind = activity
        .kind
        .as_deref()
        .ok_or_else(|| Refusal::BadRequest("activity without type".into()))?;
    let actor_uri = activity
        .actor
        .0
        .as_deref()
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
    // Before any fetch: a blocked server is not even asked for its actor.
    if refused_origin(ctx, actor_uri) {
        return Err(Refusal::Forbidden(
            "this server does not accept activities from your domain".into(),
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
        crate::federation::rt(ctx)
            .admission
            .backlog
            .fetch_add(1, Ordering::Relaxed);
        crate::federation::rt(ctx).wake_inbox.notify_one();
    }
    Ok(stored)
}

/// The URI's server is blocked here, or not on the allow-list in allow-list mode.
pub(crate) fn refused_origin(ctx: &Ctx, uri: &str) -> bool {
    url::Url::parse(uri)
        .ok()
        .and_then(|u| u.host_str().map(|h| ctx.settings().domains.refuses(h)))
        .unwrap_or(true)
}

/// The refusal when the signing actor cannot be fetched or used: the sender
/// hears only that; what went wrong (which may describe the network behind
/// this server: ports open or closed, addresses) goes to the log.
pub(super) fn actor_unusable(actor_uri: &str, e: &ServiceError) -> Refusal {
    tracing::info!(actor = actor_uri, error = %e.detail(), "inbox: the signing actor is unusable");
    Refusal::Unauthorized("the signing actor could not be fetched or is not usable".into())
}

/// The verified signer of a signed GET (authorized fetch), if any: the
/// account whose key signed the request for this server. Only accounts we
/// already store can sign here: whoever may see a non-public object (a
/// member, a follower, someone mentioned) is stored already, and a GET
/// anyone can send must never make this server fetch (a made-up keyId would
/// point it anywhere).
///
/// A signature that cannot be parsed (either scheme) is an error, answered
/// 401 with its reason: never read as "unsigned".
pub async fn signer(ctx: &Ctx, req: SignedRequest<'_>) -> Result<Option<Account>, SignatureError> {
    let sig = signatures::parse_request(req.header)?;
    Ok(async {
        signatures::precheck(&req, &sig, SystemTime::now()).ok()?;
        let owner = sig.key_id.split('#').next()?;
        // A blocked server reads only what anyone may.
        if refused_origin(ctx, owner) {
            return None;
        }
        let mut conn = ctx.conn().await.ok()?;
        let actor = db::federation::account_by_ap_id(&mut conn, owner)
            .await
            .ok()??;
        drop(conn);
        if actor.suspended {
            return None;
        }
        check_with(ctx, &req, &sig, &actor).ok().map(|_| actor)
    }
    .await)
}

pub(super) fn check_with(
    ctx: &Ctx,
    signed: &SignedRequest<'_>,
    sig: &signatures::SignatureHeader,
    actor: &Account,
) -> Result<(), SignatureError> {
    let key = crate::federation::rt(ctx).keys.get(&actor.public_key_pem)?;
    signatures::verify(signed, sig, &key)
}
