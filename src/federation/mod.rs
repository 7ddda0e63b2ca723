//! ActivityPub: actors, objects, signatures, the inbox and durable delivery.
//! Everything that speaks the protocol lives here. Services never name this
//! module: they report [`Outgoing`] events and ask for look-ups through the
//! [`Federation`] trait, which [`Runtime`] implements.
pub mod actors;
pub mod alumni;
pub mod delivery;
pub mod http;
pub mod inbox;
pub mod message_signatures;
pub mod objects;
pub mod outbox;
pub mod peers;
pub mod proofs;
pub mod serve;
pub mod signatures;
pub mod slots;
pub mod vocab;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::Notify;

use crate::db::DbConn;
use crate::db::models::Account;
use crate::services::remote::{Federation, Outgoing, Resolved};
use crate::services::{Ctx, ServiceResult};

use crate::config::Config;

/// Process-wide federation state: the guarded client and the wake-up signals
/// of the workers (in-process; several nodes also poll every few seconds).
pub struct Runtime {
    pub client: http::FedClient,
    /// Names this process in delivery leases.
    pub node: String,
    pub wake_delivery: Notify,
    pub wake_inbox: Notify,
    /// The instance actor's key, loaded (or created) on first use.
    pub instance_key: tokio::sync::OnceCell<std::sync::Arc<InstanceKey>>,
    /// Remote actors' keys, parsed once.
    pub keys: signatures::KeyCache,
    /// Admission to the inbox (see [`inbox::Admission`]).
    pub admission: inbox::Admission,
    /// Recognitions of remote clubs, as last verified.
    pub recognitions: RecognitionCache,
}

/// Remote clubs' verified recognitions (official org account ids), kept for
/// an hour so that looking at a club does not refetch its claims each time.
pub struct RecognitionCache {
    entries: std::sync::Mutex<lru::LruCache<i64, (std::time::Instant, Vec<i64>)>>,
    keep: std::time::Duration,
}

impl RecognitionCache {
    fn new(keep: std::time::Duration) -> RecognitionCache {
        let cap = std::num::NonZeroUsize::new(1000).unwrap_or(std::num::NonZeroUsize::MIN);
        RecognitionCache {
            entries: std::sync::Mutex::new(lru::LruCache::new(cap)),
            keep,
        }
    }

    pub fn get(&self, club: i64) -> Option<Vec<i64>> {
        let mut cache = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match cache.get(&club) {
            Some((at, ids)) if at.elapsed() < self.keep => Some(ids.clone()),
            _ => None,
        }
    }

    pub fn put(&self, club: i64, ids: Vec<i64>) {
        let mut cache = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        cache.put(club, (std::time::Instant::now(), ids));
    }
}

pub struct InstanceKey {
    pub private: std::sync::Arc<signatures::PrivateKey>,
    pub public_pem: String,
}

impl Runtime {
    pub fn new(
        config: &Config,
        domains: Arc<crate::services::settings::Live>,
    ) -> anyhow::Result<Runtime> {
        Ok(Runtime {
            client: http::FedClient::new(config, domains)?,
            node: format!(
                "{}-{}",
                std::process::id(),
                crate::crypto::random_token().get(..8).unwrap_or("node")
            ),
            wake_delivery: Notify::new(),
            wake_inbox: Notify::new(),
            instance_key: tokio::sync::OnceCell::new(),
            keys: signatures::KeyCache::new(10_000),
            admission: inbox::Admission::new(config),
            recognitions: RecognitionCache::new(std::time::Duration::from_secs(
                config.federation.recognition_cache_secs,
            )),
        })
    }
}

pub use crate::services::remote::FederationError;

impl From<http::FetchError> for FederationError {
    fn from(e: http::FetchError) -> FederationError {
        FederationError {
            retryable: e.retryable(),
            detail: e.to_string(),
        }
    }
}

/// This process's federation state, behind the services' [`Federation`].
pub fn rt(ctx: &Ctx) -> &Runtime {
    let any: &dyn std::any::Any = ctx.fed.as_ref();
    // `crate::context` is the only maker of a Ctx outside tests of services.
    any.downcast_ref::<Runtime>()
        .expect("the services' federation is this module's Runtime")
}

impl Federation for Runtime {
    fn queue<'a>(
        &'a self,
        ctx: &'a Ctx,
        tx: &'a mut DbConn<'_>,
        event: Outgoing<'a>,
    ) -> BoxFuture<'a, ServiceResult<Option<String>>> {
        Box::pin(outbox::queue(ctx, tx, event))
    }

    fn wake(&self) {
        self.wake_delivery.notify_one();
    }

    fn account_by_acct<'a>(
        &'a self,
        ctx: &'a Ctx,
        user: &'a str,
        host: &'a str,
    ) -> BoxFuture<'a, ServiceResult<Account>> {
        Box::pin(actors::webfinger(ctx, user, host))
    }

    fn resolve<'a>(
        &'a self,
        ctx: &'a Ctx,
        url: &'a str,
    ) -> BoxFuture<'a, ServiceResult<Option<Resolved>>> {
        Box::pin(actors::resolve_url(ctx, url))
    }

    fn recognitions<'a>(
        &'a self,
        ctx: &'a Ctx,
        club: &'a Account,
    ) -> BoxFuture<'a, ServiceResult<Vec<Account>>> {
        Box::pin(actors::verified_recognitions(ctx, club))
    }

    fn prepare_instance_key<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, ServiceResult<()>> {
        Box::pin(async move { actors::instance_key(ctx).await.map(drop) })
    }

    fn start_workers(&self, ctx: Ctx) -> Vec<tokio::task::JoinHandle<()>> {
        let any: Arc<dyn std::any::Any + Send + Sync> = ctx.fed.clone();
        let Ok(rt) = any.downcast::<Runtime>() else {
            return vec![];
        };
        let idle = std::time::Duration::from_secs(ctx.config.federation.idle_poll_secs);
        let mut tasks = vec![
            tokio::spawn(delivery::run(
                rt.clone(),
                ctx.db.clone(),
                ctx.base_url(),
                idle,
            )),
            tokio::spawn(inbox::run(ctx.clone(), idle)),
        ];
        tasks.extend(crate::db::listen(
            &ctx.config.database.url,
            &[
                crate::db::federation::DELIVERY_CHANNEL,
                crate::db::federation::INBOX_CHANNEL,
            ],
            move |channel| {
                if channel == crate::db::federation::INBOX_CHANNEL {
                    rt.wake_inbox.notify_one();
                } else {
                    rt.wake_delivery.notify_one();
                }
            },
        ));
        tasks
    }
}
