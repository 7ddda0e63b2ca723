//! The instance's settings as they are now: the configuration file's, with
//! what an admin changed on the web on top, and the servers this one blocks
//! or (in allow-list mode) allows. Read on every request and every remote
//! fetch, so kept in memory: reloaded at once on this node after a change and
//! every few seconds from the database (other nodes' changes).
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::{Ctx, ServiceResult};
use crate::config::Config;
use crate::db::{self, DbPool};
use crate::domain::{DomainBlockSeverity, FederationAccess, RegistrationMode};

/// How soon a change made on another node applies here.
pub const RELOAD_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Settings {
    pub title: String,
    pub description: String,
    pub contact_email: String,
    pub rules: Vec<String>,
    pub registration_mode: RegistrationMode,
    pub domains: DomainRules,
}

/// Which remote servers this one refuses or keeps quiet.
#[derive(Debug, Clone, Default)]
pub struct DomainRules {
    pub access: FederationAccess,
    blocks: Vec<(String, DomainBlockSeverity, i64)>,
    allows: Vec<String>,
}

/// `host`, `host:port` or `[v6]:port`, as a lower-case name without port.
fn bare_host(host: &str) -> String {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if h.starts_with('[') {
        return h.split(']').next().unwrap_or_default().to_owned() + "]";
    }
    match h.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name.to_owned(),
        _ => h,
    }
}

/// The rule's domain or one of its subdomains.
fn covers(rule: &str, host: &str) -> bool {
    host == rule
        || host
            .strip_suffix(rule)
            .is_some_and(|rest| rest.ends_with('.'))
}

impl DomainRules {
    fn block_of(&self, host: &str) -> Option<DomainBlockSeverity> {
        let host = bare_host(host);
        // The strictest rule that covers the host.
        self.blocks
            .iter()
            .filter(|(d, _, _)| covers(d, &host))
            .map(|(_, s, _)| *s)
            .max()
    }

    /// The block that silences this host, if that is the strictest covering it.
    pub fn silencing_block(&self, host: &str) -> Option<i64> {
        if !self.silences(host) {
            return None;
        }
        let host = bare_host(host);
        self.blocks
            .iter()
            .find(|(d, s, _)| *s == DomainBlockSeverity::Silence && covers(d, &host))
            .map(|(_, _, id)| *id)
    }

    /// Nothing is taken from or sent to this host: suspended, or not on
    /// the allow-list in allow-list mode.
    pub fn refuses(&self, host: &str) -> bool {
        if self.block_of(host) == Some(DomainBlockSeverity::Suspend) {
            return true;
        }
        match self.access {
            FederationAccess::Open => false,
            FederationAccess::AllowList => {
                let host = bare_host(host);
                !self.allows.iter().any(|d| covers(d, &host))
            }
        }
    }

    /// New accounts from this host arrive silenced.
    pub fn silences(&self, host: &str) -> bool {
        self.block_of(host) == Some(DomainBlockSeverity::Silence)
    }
}

/// The settings in memory, shared by the services and the federation client.
#[derive(Debug)]
pub struct Live {
    config: Arc<Config>,
    current: RwLock<Arc<Settings>>,
}

impl Live {
    /// The configuration file's settings, until [`Live::reload`] reads the database.
    pub fn new(config: Arc<Config>) -> Live {
        let current = RwLock::new(Arc::new(from_config(&config)));
        Live { config, current }
    }

    pub fn get(&self) -> Arc<Settings> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads the stored settings and domain rules.
    pub async fn reload(&self, db: &DbPool) -> ServiceResult<()> {
        let mut conn = db.get().await?;
        let stored = db::moderation::settings(&mut conn)
            .await?
            .unwrap_or_default();
        let blocks = db::moderation::domain_blocks(&mut conn).await?;
        let allows = db::moderation::domain_allows(&mut conn).await?;
        drop(conn);
        let mut s = from_config(&self.config);
        if let Some(v) = stored.title {
            s.title = v;
        }
        if let Some(v) = stored.description {
            s.description = v;
        }
        if let Some(v) = stored.contact_email {
            s.contact_email = v;
        }
        if let Some(v) = stored.rules.and_then(|r| serde_json::from_str(&r).ok()) {
            s.rules = v;
        }
        if let Some(v) = stored.registration_mode {
            s.registration_mode = v;
        }
        s.domains = DomainRules {
            access: stored.federation_access.unwrap_or_default(),
            blocks: blocks
                .into_iter()
                .map(|b| (b.domain, b.severity, b.id))
                .collect(),
            allows: allows.into_iter().map(|a| a.domain).collect(),
        };
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(s);
        Ok(())
    }
}

fn from_config(config: &Config) -> Settings {
    Settings {
        title: config.instance.title.clone(),
        description: config.instance.description.clone(),
        contact_email: config.instance.contact_email.clone(),
        rules: config.instance.rules.clone(),
        registration_mode: config.registrations.mode,
        domains: DomainRules::default(),
    }
}

/// Reloads every [`RELOAD_EVERY`] on every node (changes made elsewhere).
pub async fn keep_fresh(ctx: Ctx) {
    loop {
        tokio::time::sleep(RELOAD_EVERY).await;
        if let Err(e) = ctx.live.reload(&ctx.db).await {
            tracing::warn!(error = %e.detail(), "reloading the instance settings failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(access: FederationAccess) -> DomainRules {
        DomainRules {
            access,
            blocks: vec![
                ("bad.example".into(), DomainBlockSeverity::Suspend, 1),
                ("loud.example".into(), DomainBlockSeverity::Silence, 2),
            ],
            allows: vec!["friend.example".into()],
        }
    }

    #[test]
    fn blocks_cover_subdomains_and_ports_but_not_lookalikes() {
        let r = rules(FederationAccess::Open);
        assert!(r.refuses("bad.example"));
        assert!(r.refuses("BAD.example."));
        assert!(r.refuses("social.bad.example:8443"));
        assert!(!r.refuses("notbad.example"));
        assert!(!r.refuses("bad.example.org"));
        assert!(!r.refuses("loud.example"));
        assert!(r.silences("m.loud.example"));
        assert!(!r.silences("bad.example"));
        assert_eq!(r.silencing_block("m.loud.example:8443"), Some(2));
        assert_eq!(r.silencing_block("bad.example"), None);
    }

    #[test]
    fn allow_list_refuses_everyone_else_and_still_blocks() {
        let mut r = rules(FederationAccess::AllowList);
        assert!(!r.refuses("friend.example:3000"));
        assert!(r.refuses("stranger.example"));
        r.allows.push("bad.example".into());
        assert!(r.refuses("bad.example"), "a block wins over the allow-list");
    }
}
