//! ActivityPub: actors, objects, signatures, the inbox and durable delivery.
//! Everything that speaks the protocol lives here; services call in with
//! domain values and never see JSON-LD.
pub mod actors;
pub mod delivery;
pub mod http;
pub mod inbox;
pub mod objects;
pub mod proofs;
pub mod signatures;
pub mod slots;
pub mod vocab;

use tokio::sync::Notify;

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
    pub fn new(config: &Config) -> anyhow::Result<Runtime> {
        Ok(Runtime {
            client: http::FedClient::new(config)?,
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

/// A failure talking to another server, and whether trying again later may
/// help (a timeout, a 5xx, a 429) or not (a 404, a refused URL, a document
/// that is not what it claims). The detail names addresses and transport
/// errors: it is for logs, never for clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederationError {
    pub detail: String,
    pub retryable: bool,
}

impl FederationError {
    /// A failure that will not go away by waiting.
    pub fn permanent(detail: impl Into<String>) -> FederationError {
        FederationError {
            detail: detail.into(),
            retryable: false,
        }
    }
}

impl std::fmt::Display for FederationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl From<http::FetchError> for FederationError {
    fn from(e: http::FetchError) -> FederationError {
        FederationError {
            retryable: e.retryable(),
            detail: e.to_string(),
        }
    }
}
