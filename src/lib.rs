//! tsunagu (つなぐ): a federated ActivityPub server for corporate alumni
//! communities. See docs/architecture.md for the layers.
pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod federation;
pub mod ids;
pub mod services;
pub mod web;

/// The services' context with everything wired: the one place that hands
/// services the federation side they use through a trait.
pub async fn context(config: config::Config) -> anyhow::Result<(services::Ctx, Vec<String>)> {
    let config = std::sync::Arc::new(config);
    let live = std::sync::Arc::new(services::settings::Live::new(config.clone()));
    let fed = std::sync::Arc::new(federation::Runtime::new(&config, live.clone())?);
    services::Ctx::new(config, fed, live).await
}
