//! Configuration: `config.example.toml` documents every key; environment
//! variables `TSUNAGU_SECTION__KEY` override the file. Defaults make
//! `tsunagu serve` work with no file at all.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub registrations: RegistrationsConfig,
    pub federation: FederationConfig,
    pub instance: InstanceConfig,
    pub oauth: OAuthConfig,
    pub media: MediaConfig,
    pub mail: MailConfig,
    pub limits: LimitsConfig,
    pub log: LogConfig,
    pub oidc: OidcConfig,
    pub alumni: AlumniConfig,
}

/// The sections a `TSUNAGU_` variable may address; other `TSUNAGU_*` variables
/// (e.g. `TSUNAGU_TEST_POSTGRES_URL`) are not configuration.
const SECTIONS: &[&str] = &[
    "server",
    "database",
    "registrations",
    "federation",
    "instance",
    "oauth",
    "media",
    "mail",
    "limits",
    "log",
    "oidc",
    "alumni",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Socket address to bind.
    pub listen: String,
    /// Public authority: host, plus `:port` when not the default.
    pub domain: String,
    /// "http" or "https"; empty means https, except for localhost/loopback
    /// domains and the development federation mode.
    pub scheme: String,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            domain: "localhost:8080".into(),
            scheme: String::new(),
            trust_forwarded_for: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    /// Connections in the pool.
    pub max_connections: usize,
    /// How long a request waits for a pooled connection (or for a new one to
    /// be made) before it is answered 503 with Retry-After.
    pub acquire_timeout_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://data/tsunagu.db".into(),
            max_connections: 8,
            acquire_timeout_ms: 5000,
        }
    }
}

pub use crate::domain::RegistrationMode;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationsConfig {
    pub mode: RegistrationMode,
    pub min_password_length: usize,
    /// Administrators and org offices must sign in on the web with a
    /// one-time code as well: until they set it up, the web asks for it first.
    pub require_two_factor_for_staff: bool,
}

impl Default for RegistrationsConfig {
    fn default() -> Self {
        Self {
            mode: RegistrationMode::Approval,
            min_password_length: 8,
            require_two_factor_for_staff: false,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum FederationMode {
    #[default]
    Production,
    Development,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FederationConfig {
    pub mode: FederationMode,
    /// Host name -> loopback socket address; development and tests only.
    pub resolve: BTreeMap<String, String>,
    /// Run the delivery and inbox workers in this process (false on web-only nodes).
    pub workers: bool,
    /// How often idle workers look for work nobody signalled (another node's on SQLite;
    /// a safety net on PostgreSQL, where LISTEN/NOTIFY wakes them at once).
    pub idle_poll_secs: u64,
    /// Unprocessed inbound activities at which the inbox answers 503 (Retry-After)
    /// until the workers catch up.
    pub inbox_backlog: u64,
    /// How long a remote club's recognitions, once checked, are taken as
    /// checked (0: check on every request).
    pub recognition_cache_secs: u64,
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self {
            mode: FederationMode::default(),
            resolve: BTreeMap::new(),
            workers: true,
            idle_poll_secs: 5,
            inbox_backlog: 50_000,
            recognition_cache_secs: 3600,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceConfig {
    pub title: String,
    pub description: String,
    pub contact_email: String,
    pub languages: Vec<String>,
    /// Server rules shown at sign-up.
    pub rules: Vec<String>,
    /// Where this server's source code is published (AGPL); shown in `/api/v2/instance`.
    pub source_url: String,
}

impl Default for InstanceConfig {
    fn default() -> Self {
        Self {
            title: "tsunagu".into(),
            description: "An alumni network on the fediverse".into(),
            contact_email: String::new(),
            languages: vec!["ja".into(), "en".into()],
            rules: Vec::new(),
            source_url: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthConfig {
    /// Allow `grant_type=password` (some CLI clients use it; off by default).
    pub password_grant: bool,
    /// Access-token lifetime; 0 means tokens do not expire (Mastodon's default).
    pub access_token_ttl_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Directory for uploaded files, served under `/media/`.
    pub path: PathBuf,
    pub max_image_bytes: usize,
    /// How long an upload request waits for processing before answering 202.
    pub processing_wait_ms: u64,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            path: "data/media".into(),
            max_image_bytes: 16 * 1024 * 1024,
            processing_wait_ms: 2000,
        }
    }
}

/// Single sign-on through the company's OpenID Connect provider (off while
/// `issuer` is empty). Someone signing in this way for the first time is
/// linked to the account whose confirmed e-mail the provider vouches for, or
/// gets a new account; with `org` set, they also become a verified member of
/// that org in `role` (the provider vouches that they work there).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL, e.g. `https://login.example.co.jp/realms/acme`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The sign-in button's words, e.g. "ACME ID".
    pub label: String,
    /// Make an account for someone the provider knows and we do not.
    pub create_accounts: bool,
    /// Only addresses in these domains sign in this way (empty: any the
    /// provider verified).
    pub email_domains: Vec<String>,
    /// Link a first sign-in to an existing account with the same confirmed,
    /// provider-verified e-mail address.
    pub link_by_email: bool,
    /// An org (its username) everyone signing in this way belongs to.
    pub org: String,
    /// Their role there: "employee" or "alumnus" (the office role is given by the office).
    pub role: crate::domain::Role,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            label: "Single sign-on".into(),
            create_accounts: false,
            email_domains: Vec::new(),
            link_by_email: true,
            org: String::new(),
            role: crate::domain::Role::Employee,
        }
    }
}

impl OidcConfig {
    pub fn enabled(&self) -> bool {
        !self.issuer.is_empty()
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    #[default]
    None,
    Smtp,
    File,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    pub transport: MailTransport,
    /// e.g. `smtps://user:pass@smtp.example.com` or `smtp://host:587?tls=required`.
    pub smtp_url: String,
    /// Directory for `.eml` files with the "file" transport.
    pub file_dir: PathBuf,
    pub from: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: MailTransport::None,
            smtp_url: String::new(),
            file_dir: "data/mail".into(),
            from: "tsunagu <noreply@localhost>".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Sign-in attempts per client address per 5 minutes.
    pub login_attempts_per_5min: u32,
    /// Registrations per client address per 30 minutes.
    pub registrations_per_30min: u32,
    /// Client-API requests per token (or address) per 5 minutes.
    pub api_requests_per_5min: u32,
    /// Requests for stored files (`/media/...`) per client address per 5
    /// minutes (a timeline page shows dozens of images).
    pub media_requests_per_5min: u32,
    /// Largest request body accepted, except uploads.
    pub max_body_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            login_attempts_per_5min: 25,
            registrations_per_30min: 5,
            api_requests_per_5min: 300,
            media_requests_per_5min: 3000,
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// Alumni profiles.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlumniConfig {
    /// Months without a profile update before a member is reminded (a
    /// notification, and a mail if they chose to get those); 0: never.
    pub reminder_months: u32,
}

impl Default for AlumniConfig {
    fn default() -> Self {
        Self { reminder_months: 6 }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter, e.g. "info" or "tsunagu=debug,tower_http=info"; RUST_LOG wins.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Pretty,
            level: "info".into(),
        }
    }
}

/// A configuration problem, phrased for the operator: which key, what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Defaults, then the TOML file (if given; it must exist), then `TSUNAGU_*` variables.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(p) = path {
            if !p.is_file() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    p.display()
                )));
            }
            fig = fig.merge(Toml::file_exact(p));
        }
        Self::from_figment(fig.merge(Self::env()))
    }

    /// Defaults and a TOML string (tests), then validation.
    pub fn from_toml(toml: &str) -> Result<Config, ConfigError> {
        Self::from_figment(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(toml)),
        )
    }

    fn env() -> Env {
        Env::prefixed("TSUNAGU_").split("__").filter(|k| {
            // Keys arrive here already split: `server.listen`.
            let first = k.as_str().split(['.', '_']).next().unwrap_or_default();
            SECTIONS.iter().any(|s| first.eq_ignore_ascii_case(s))
        })
    }

    fn from_figment(fig: Figment) -> Result<Config, ConfigError> {
        let cfg: Config = fig.extract().map_err(|e| {
            // figment names the key ("for key `default.server.listen`"); drop its profile prefix.
            let msgs: Vec<String> = e
                .into_iter()
                .map(|e| e.to_string().replace("default.", ""))
                .collect();
            ConfigError(msgs.join("; "))
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, msg: String| Err(ConfigError(format!("{key}: {msg}")));
        if self.server.listen.parse::<SocketAddr>().is_err() {
            return bad(
                "server.listen",
                format!(
                    "{:?} is not a socket address like 127.0.0.1:8080",
                    self.server.listen
                ),
            );
        }
        if let Err(e) = validate_authority(&self.server.domain) {
            return bad("server.domain", e);
        }
        if !matches!(self.server.scheme.as_str(), "" | "http" | "https") {
            return bad(
                "server.scheme",
                format!("{:?} must be \"http\" or \"https\"", self.server.scheme),
            );
        }
        if let Err(e) = crate::db::backend_of(&self.database.url) {
            return bad("database.url", format!("{:?} {e}", self.database.url));
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections", "must be at least 1".into());
        }
        if !(100..=60_000).contains(&self.database.acquire_timeout_ms) {
            return bad(
                "database.acquire_timeout_ms",
                "must be from 100 to 60000".into(),
            );
        }
        for (host, addr) in &self.federation.resolve {
            let key = format!("federation.resolve.\"{host}\"");
            if self.federation.mode != FederationMode::Development {
                return bad(
                    &key,
                    "host overrides need federation.mode = \"development\"".into(),
                );
            }
            match addr.parse::<SocketAddr>() {
                Ok(a) if a.ip().is_loopback() => {}
                Ok(_) => return bad(&key, format!("{addr} is not a loopback address")),
                Err(_) => {
                    return bad(
                        &key,
                        format!("{addr:?} is not a socket address like 127.0.0.1:8102"),
                    );
                }
            }
        }
        if self.federation.inbox_backlog == 0 {
            return bad("federation.inbox_backlog", "must be at least 1".into());
        }
        if !(1..=3600).contains(&self.federation.idle_poll_secs) {
            return bad(
                "federation.idle_poll_secs",
                "must be between 1 and 3600 seconds".into(),
            );
        }
        if self.registrations.min_password_length < 8 {
            return bad(
                "registrations.min_password_length",
                "must be at least 8".into(),
            );
        }
        if self.mail.transport == MailTransport::Smtp && self.mail.smtp_url.is_empty() {
            return bad(
                "mail.smtp_url",
                "is required when mail.transport = \"smtp\"".into(),
            );
        }
        if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return bad(
                "mail.from",
                format!(
                    "{:?} is not an address like \"Alumni <noreply@example.com>\"",
                    self.mail.from
                ),
            );
        }
        if self.limits.login_attempts_per_5min == 0
            || self.limits.registrations_per_30min == 0
            || self.limits.api_requests_per_5min == 0
            || self.limits.media_requests_per_5min == 0
        {
            return bad("limits", "rate limits must be at least 1".into());
        }
        if self.limits.max_body_bytes < 1024 {
            return bad("limits.max_body_bytes", "must be at least 1024".into());
        }
        if self.oidc.enabled() {
            let https_only = self.scheme() == "https";
            match url::Url::parse(&self.oidc.issuer) {
                Ok(u) if u.scheme() == "https" || (u.scheme() == "http" && !https_only) => {}
                _ => {
                    return bad(
                        "oidc.issuer",
                        format!("{:?} is not an https URL", self.oidc.issuer),
                    );
                }
            }
            if self.oidc.client_id.is_empty() {
                return bad("oidc.client_id", "is required with oidc.issuer".into());
            }
            if self.oidc.role == crate::domain::Role::Office {
                return bad(
                    "oidc.role",
                    "must be \"employee\" or \"alumnus\" (the office role is given by the office)"
                        .into(),
                );
            }
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return bad(
                "log.level",
                format!(
                    "{:?} is not a tracing filter such as \"info\"",
                    self.log.level
                ),
            );
        }
        Ok(())
    }

    pub fn scheme(&self) -> &str {
        if !self.server.scheme.is_empty() {
            return &self.server.scheme;
        }
        let host = self
            .server
            .domain
            .rsplit_once(':')
            .map_or(self.server.domain.as_str(), |(h, _)| h);
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback || self.federation.mode == FederationMode::Development {
            "http"
        } else {
            "https"
        }
    }

    /// `https://alumni.example` — the base of every public URL.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme(), self.server.domain)
    }

    pub fn mail_enabled(&self) -> bool {
        self.mail.transport != MailTransport::None
    }
}

/// `host` or `host:port`, lower-case, no scheme or path.
fn validate_authority(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("must not be empty".into());
    }
    if domain.contains("://") || domain.contains('/') {
        return Err(format!(
            "{domain:?} must be a bare host (and port), without scheme or path"
        ));
    }
    let parsed = url::Url::parse(&format!("http://{domain}/"))
        .map_err(|e| format!("{domain:?} is not a host name: {e}"))?;
    if parsed.host_str().is_none() || parsed.username() != "" {
        return Err(format!("{domain:?} is not a host name"));
    }
    if domain != domain.to_ascii_lowercase() {
        return Err(format!("{domain:?} must be lower-case"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_work_without_a_file() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:8080");
        assert_eq!(c.server.domain, "localhost:8080");
        assert_eq!(c.database.url, "sqlite://data/tsunagu.db");
        assert_eq!(c.registrations.mode, RegistrationMode::Approval);
        assert_eq!(c.federation.mode, FederationMode::Production);
        assert_eq!(c.base_url(), "http://localhost:8080");
    }

    #[test]
    fn production_domain_is_https() {
        let c = Config::from_toml("[server]\ndomain = \"alumni.example.co.jp\"").unwrap();
        assert_eq!(c.base_url(), "https://alumni.example.co.jp");
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases = [
            ("[server]\nlisten = \"nonsense\"", "server.listen"),
            ("[server]\ndomain = \"https://x.example/\"", "server.domain"),
            ("[database]\nurl = \"mysql://x\"", "database.url"),
            (
                "[registrations]\nmode = \"sometimes\"",
                "registrations.mode",
            ),
            ("[federation]\nmode = \"chaos\"", "federation.mode"),
            ("[server]\nlisten = 5", "server.listen"),
            ("[server]\nlsten = \"x\"", "lsten"),
            (
                "[federation.resolve]\n\"beta.test\" = \"127.0.0.1:8102\"",
                "federation.resolve",
            ),
            ("[mail]\ntransport = \"smtp\"", "mail.smtp_url"),
        ];
        for (toml, key) in cases {
            let err = Config::from_toml(toml).unwrap_err().to_string();
            assert!(
                err.contains(key),
                "{toml:?} gave {err:?}, which does not name {key}"
            );
        }
    }

    #[test]
    fn resolve_map_keeps_dotted_host_names() {
        let c = Config::from_toml(
            "[federation]\nmode = \"development\"\n[federation.resolve]\n\"beta.test\" = \"127.0.0.1:8102\"",
        )
        .unwrap();
        assert_eq!(
            c.federation.resolve.get("beta.test").map(String::as_str),
            Some("127.0.0.1:8102")
        );
        assert_eq!(c.scheme(), "http");
    }
}
