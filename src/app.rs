//! Wiring: the shared state, the router with its layers, and the server
//! loop with graceful shutdown.
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderValue;
use axum::http::header::X_CONTENT_TYPE_OPTIONS;
use axum::routing::get;
use tower::Layer;
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::api::{self, ratelimit::RateLimits};
use crate::config::Config;
use crate::services::{Ctx, accounts};
use crate::web::{self, Web};

/// Everything a request handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub ctx: Ctx,
    pub web: Arc<Web>,
    pub limits: Arc<RateLimits>,
}

impl AppState {
    /// Connects the database (running migrations) and prepares templates.
    pub async fn new(config: Config) -> anyhow::Result<AppState> {
        let limits = RateLimits::new(&config.limits);
        let (ctx, applied) = crate::context(config).await?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "database migrated");
        }
        Ok(AppState {
            ctx,
            web: Arc::new(Web::new()?),
            limits,
        })
    }
}

/// The whole application as one router (before trailing-slash normalisation).
pub fn router(state: AppState) -> Router {
    // Stored files, under unguessable names, at a bounded rate per address.
    let media = Router::new()
        .nest_service("/media", ServeDir::new(&state.ctx.config.media.path))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::ratelimit::media_limit,
        ));
    Router::new()
        .merge(api::router(&state))
        .merge(api::oauth_router())
        .merge(api::activitypub_router())
        .merge(web::router(
            state.ctx.config.media.max_image_bytes * 2 + 64 * 1024,
        ))
        .route("/health", get(api::instance::health))
        .merge(media)
        .fallback(web::not_found)
        .layer(DefaultBodyLimit::max(
            state.ctx.config.limits.max_body_bytes,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Clients call `/api/v1/instance/` as often as `/api/v1/instance`: trailing
/// slashes are trimmed before routing.
pub fn service(state: AppState) -> NormalizePath<Router> {
    NormalizePathLayer::trim_trailing_slash().layer(router(state))
}

/// Binds, prints the first-run link if there is no admin yet, and serves
/// until SIGTERM or SIGINT, letting requests in flight finish.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listen: SocketAddr = config.server.listen.parse()?;
    let state = AppState::new(config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} (server.listen): {e}"))?;
    tracing::info!(%listen, base_url = %state.ctx.base_url(), database = state.ctx.db.backend().name(), "tsunagu is listening");
    if let Some(link) = accounts::setup_link(&state.ctx).await? {
        // Printed plainly as well as logged: the operator needs to click it.
        println!(
            "\nNo administrator exists yet. Create one here (one-time link):\n\n    {link}\n\nor run: tsunagu admin create-user --username NAME --email EMAIL --admin\n"
        );
        tracing::info!(%link, "first-run setup link");
    }
    run(listener, state, shutdown_signal()).await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Serves on a bound listener until `shutdown` completes (tests pass their own).
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Background loops live exactly as long as the server.
    let _background = crate::services::background::spawn(state.ctx.clone());
    let make = axum::ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(
        service(state),
    );
    axum::serve(listener, make)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
