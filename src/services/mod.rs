//! Business logic. Services take plain data and return plain data or a
//! [`ServiceError`]; they know nothing of HTTP, so the CLI, the client API and
//! the web pages share them.
pub mod accounts;
pub mod alumni;
pub mod background;
pub mod credentials;
pub mod groups;
pub mod instance;
pub mod mail;
pub mod media;
pub mod memberships;
pub mod moderation;
pub mod notifications;
pub mod oauth;
pub mod oidc;
pub mod organize;
pub mod orgs;
pub mod pages;
pub mod polls;
pub mod remote;
pub mod reports;
pub mod roster;
pub mod scopes;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod social;
pub mod stats;
pub mod statuses;
pub mod streaming;
pub mod text;
pub mod timelines;
pub mod two_factor;
pub mod views;

use std::sync::Arc;

use crate::config::Config;
use crate::db::{DbConn, DbError, DbPool};

/// What every service call needs: the database, the configuration, the mailer.
#[derive(Clone)]
pub struct Ctx {
    pub db: DbPool,
    pub config: Arc<Config>,
    pub mailer: mail::Mailer,
    pub hub: streaming::Hub,
    /// The protocol side (implemented by `federation/`, see [`remote`]).
    pub fed: Arc<dyn remote::Federation>,
    /// The single sign-on provider, as last discovered.
    pub oidc: Arc<oidc::Provider>,
    /// Who used the server today (sign-in days for network activity).
    pub seen: Arc<stats::Seen>,
    /// The instance's settings and domain rules as they are now.
    pub live: Arc<settings::Live>,
}

impl From<crate::db::AcquireError> for ServiceError {
    fn from(e: crate::db::AcquireError) -> ServiceError {
        match e {
            crate::db::AcquireError::Busy => ServiceError::Unavailable,
            crate::db::AcquireError::Failed(e) => ServiceError::Internal(e),
        }
    }
}

impl Ctx {
    /// Connects the database (running migrations); `fed` speaks for us to
    /// other servers.
    pub async fn new(
        config: Arc<Config>,
        fed: Arc<dyn remote::Federation>,
        live: Arc<settings::Live>,
    ) -> anyhow::Result<(Ctx, Vec<String>)> {
        let (db, applied) = DbPool::connect(
            &config.database.url,
            config.database.max_connections,
            std::time::Duration::from_millis(config.database.acquire_timeout_ms),
        )
        .await?;
        let mailer = mail::Mailer::from_config(&config)?;
        live.reload(&db).await?;
        Ok((
            Ctx {
                db,
                config,
                mailer,
                hub: streaming::Hub::new(),
                fed,
                oidc: Arc::new(oidc::Provider::new()?),
                seen: Default::default(),
                live,
            },
            applied,
        ))
    }

    pub async fn conn(&self) -> Result<DbConn<'static>, ServiceError> {
        Ok(self.db.get().await?)
    }

    /// The instance's settings and domain rules as they are now.
    pub fn settings(&self) -> Arc<settings::Settings> {
        self.live.get()
    }

    pub fn base_url(&self) -> String {
        self.config.base_url()
    }
}

/// One validation problem on one field, in Mastodon's `details` vocabulary
/// (`ERR_TAKEN`, `ERR_INVALID`, `ERR_BLANK`, `ERR_TOO_LONG`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// 422: the request was understood but its content is not acceptable.
    #[error("Validation failed: {}", describe(.0))]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("Too many requests")]
    RateLimited,
    /// Every database connection stayed busy: answered 503 with Retry-After.
    #[error("The server is busy; try again in a moment")]
    Unavailable,
    /// RFC 6749 error codes (`invalid_grant`, ...) with a description.
    #[error("{description}")]
    OAuth {
        code: &'static str,
        description: String,
    },
    /// A remote server could not be reached or gave no usable answer. The
    /// detail (addresses, ports, transport errors) is for logs only: shown
    /// to a client it would map the network behind the server.
    #[error("The remote server did not give a usable answer")]
    Remote(remote::FederationError),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

fn describe(errs: &[FieldError]) -> String {
    errs.iter()
        .map(|e| {
            let mut f = e.field.replace('_', " ");
            if let Some(first) = f.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            format!("{f} {}", e.description)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl ServiceError {
    /// What happened, with the detail kept from clients (for logs and the
    /// operator's own records).
    pub fn detail(&self) -> String {
        match self {
            ServiceError::Remote(f) => format!("remote: {f}"),
            ServiceError::Internal(e) => format!("{e:#}"),
            other => other.to_string(),
        }
    }

    /// Mastodon's answer for anything missing or not visible to the asker
    /// (the same words either way, so a 404 reveals nothing).
    pub fn not_found() -> Self {
        ServiceError::NotFound("Record not found".into())
    }

    /// Whether the same work may succeed later: a busy database, a remote
    /// that timed out or answered 5xx/429, an internal failure (a bug or a
    /// lost connection). The inbox worker retries these.
    pub fn retryable(&self) -> bool {
        match self {
            ServiceError::Remote(f) => f.retryable,
            ServiceError::Unavailable | ServiceError::Internal(_) => true,
            ServiceError::NotFound(_)
            | ServiceError::BadRequest(_)
            | ServiceError::Validation(_)
            | ServiceError::Unauthorized(_)
            | ServiceError::Forbidden(_)
            | ServiceError::RateLimited
            | ServiceError::OAuth { .. } => false,
        }
    }

    /// A client's text that must be one of a closed set (a 422 naming the
    /// allowed values).
    pub fn choice<T>(field: &'static str, text: &str) -> ServiceResult<T>
    where
        T: std::str::FromStr<Err = crate::domain::UnknownValue>,
    {
        text.parse().map_err(|e: crate::domain::UnknownValue| {
            ServiceError::invalid(field, "ERR_INCLUSION", e.to_string())
        })
    }

    pub fn invalid(
        field: &'static str,
        code: &'static str,
        description: impl Into<String>,
    ) -> Self {
        ServiceError::Validation(vec![FieldError {
            field,
            code,
            description: description.into(),
        }])
    }
    pub fn oauth(code: &'static str, description: impl Into<String>) -> Self {
        ServiceError::OAuth {
            code,
            description: description.into(),
        }
    }
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => ServiceError::not_found(),
            other => ServiceError::Internal(other.into()),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Longest `expires_in` or `duration` accepted (ten years): beyond it the
/// date would leave the range clients can parse, and nobody means it.
pub const MAX_EXPIRY_SECS: i64 = 10 * 366 * 24 * 3600;

/// `now + secs` for a client-chosen lifetime; 0 or less means "never".
pub fn expiry_after(
    field: &'static str,
    secs: i64,
) -> ServiceResult<Option<chrono::NaiveDateTime>> {
    if secs > MAX_EXPIRY_SECS {
        return Err(ServiceError::invalid(
            field,
            "ERR_INVALID",
            format!("must be at most {MAX_EXPIRY_SECS} seconds"),
        ));
    }
    Ok((secs > 0).then(|| crate::ids::now() + chrono::Duration::seconds(secs)))
}
