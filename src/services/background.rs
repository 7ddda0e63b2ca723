//! Work the server does on its own clock, beside requests.
use std::time::Duration;

use super::{Ctx, polls};

/// Longest sleep between looks for ended polls: another node may have
/// created a poll that ends sooner than the one this node knows about.
const POLL_CHECK_EVERY: Duration = Duration::from_secs(30);

/// Starts the background loops; they stop when the returned handles drop.
/// A web-only node (`federation.workers = false`) runs only the single
/// sign-on refresh: it queues work that the nodes with workers pick up.
pub fn spawn(ctx: Ctx) -> Background {
    // Every node applies the settings and domain rules changed on another.
    let mut tasks = vec![tokio::spawn(super::settings::keep_fresh(ctx.clone()))];
    // Every node answers sign-ins, so every node keeps the provider's keys.
    if ctx.config.oidc.enabled() {
        tasks.push(tokio::spawn(super::oidc::keep_discovered(ctx.clone())));
    }
    if !ctx.config.federation.workers {
        return Background { tasks };
    }
    tasks.extend(ctx.fed.start_workers(ctx.clone()));
    tasks.push(tokio::spawn(poll_endings(ctx.clone())));
    tasks.push(tokio::spawn(unattached_media(ctx.clone())));
    tasks.push(tokio::spawn(stale_sessions(ctx.clone())));
    tasks.push(tokio::spawn(super::alumni::reminders::keep_reminding(
        ctx.clone(),
    )));
    tasks.push(tokio::spawn(super::stats::keep_folded(ctx)));
    Background { tasks }
}

pub struct Background {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Background {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn poll_endings(ctx: Ctx) {
    loop {
        if let Err(e) = polls::close_ended(&ctx, crate::ids::now()).await {
            tracing::warn!(error = %e, "announcing ended polls failed; will retry");
        }
        let wait = match polls::until_next_end(&ctx).await {
            Ok(Some(d)) => d.min(POLL_CHECK_EVERY),
            _ => POLL_CHECK_EVERY,
        };
        // A poll ending "now" is announced on the next pass, not in a busy loop.
        tokio::time::sleep(wait.max(Duration::from_millis(200))).await;
    }
}

/// Removes uploads left unattached for a day (never posted, or their post
/// deleted and not redrafted), every few minutes.
async fn unattached_media(ctx: Ctx) {
    loop {
        let before = crate::ids::now() - super::media::UNATTACHED_FOR;
        match super::media::remove_unattached(&ctx, before).await {
            // A full batch: more may be waiting.
            Ok(n) if n >= 200 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.detail(), "removing unattached media failed"),
        }
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
}

/// Forgets web sessions idle past their life and abandoned half sign-ins,
/// hourly (a stale session already signs nobody in; this keeps the table small).
async fn stale_sessions(ctx: Ctx) {
    loop {
        if let Err(e) = super::sessions::forget_stale(&ctx).await {
            tracing::warn!(error = %e.detail(), "forgetting stale sessions failed");
        }
        if let Err(e) = super::oidc::forget_stale(&ctx).await {
            tracing::warn!(error = %e.detail(), "forgetting unfinished single sign-ons failed");
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
