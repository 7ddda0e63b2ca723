//! Rate limits: every client-API response carries Mastodon's
//! `X-RateLimit-*` headers; sign-in and registration have their own, tighter
//! per-address budgets. Counters live in memory per process (governor).
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::error::ApiError;
use crate::app::AppState;
use crate::config::LimitsConfig;

pub struct Limiter {
    inner: RateLimiter<
        String,
        DefaultKeyedStateStore<String>,
        DefaultClock,
        StateInformationMiddleware,
    >,
    limit: u32,
    period: Duration,
}

/// Outcome of one check, with what the headers report.
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub reset_after: Duration,
}

impl Limiter {
    fn new(limit: u32, period: Duration) -> Limiter {
        let n = NonZeroU32::new(limit.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period / n.get())
            .unwrap_or_else(|| Quota::per_second(n))
            .allow_burst(n);
        Limiter {
            inner: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            limit: n.get(),
            period,
        }
    }

    pub fn check(&self, key: &str) -> Verdict {
        let per_cell = self.period / self.limit;
        match self.inner.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Verdict {
                    allowed: true,
                    limit: self.limit,
                    remaining,
                    reset_after: per_cell * (self.limit - remaining),
                }
            }
            Err(not_until) => Verdict {
                allowed: false,
                limit: self.limit,
                remaining: 0,
                reset_after: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .max(per_cell),
            },
        }
    }

    fn forget_idle(&self) {
        self.inner.retain_recent();
    }
}

pub struct RateLimits {
    pub api: Limiter,
    pub media: Limiter,
    pub login: Limiter,
    pub registration: Limiter,
}

impl RateLimits {
    pub fn new(cfg: &LimitsConfig) -> Arc<RateLimits> {
        let limits = Arc::new(RateLimits {
            api: Limiter::new(cfg.api_requests_per_5min, Duration::from_secs(300)),
            media: Limiter::new(cfg.media_requests_per_5min, Duration::from_secs(300)),
            login: Limiter::new(cfg.login_attempts_per_5min, Duration::from_secs(300)),
            registration: Limiter::new(cfg.registrations_per_30min, Duration::from_secs(1800)),
        });
        // Idle keys are dropped so memory does not grow with every address ever seen.
        let weak = Arc::downgrade(&limits);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    let Some(l) = weak.upgrade() else { break };
                    l.api.forget_idle();
                    l.media.forget_idle();
                    l.login.forget_idle();
                    l.registration.forget_idle();
                }
            });
        }
        limits
    }
}

/// The client's address: the peer, or the first `X-Forwarded-For` hop when configured.
pub fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>, trust_forwarded: bool) -> String {
    if trust_forwarded
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return ip.to_string();
    }
    peer.map(|p| p.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

pub fn peer_of(req: &Request) -> Option<SocketAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// The TCP peer, when the server was started with connect info (tests driving
/// the router directly have none).
pub struct PeerAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

pub fn set_headers(headers: &mut HeaderMap, v: &Verdict) {
    let reset = chrono::Utc::now() + chrono::Duration::from_std(v.reset_after).unwrap_or_default();
    let pairs = [
        ("x-ratelimit-limit", v.limit.to_string()),
        ("x-ratelimit-remaining", v.remaining.to_string()),
        (
            "x-ratelimit-reset",
            reset.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        ),
    ];
    for (k, val) in pairs {
        if let Ok(hv) = HeaderValue::from_str(&val) {
            headers.insert(k, hv);
        }
    }
}

/// Middleware for the client API: keyed by the token when it is a valid
/// one, else by the client's address. Keying on whatever credential a
/// request carries would give an attacker a fresh budget per made-up header.
pub async fn api_limit(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let caller = match super::auth::bearer_of(req.headers(), req.uri()) {
        Some(t) => crate::services::oauth::authenticate(&state.ctx, &t)
            .await
            .ok(),
        None => None,
    };
    let key = match caller {
        Some(c) => {
            let key = format!("t:{}", c.token.id);
            req.extensions_mut().insert(super::auth::Authenticated(c));
            key
        }
        None => format!(
            "ip:{}",
            client_ip(
                req.headers(),
                peer_of(&req),
                state.ctx.config.server.trust_forwarded_for
            )
        ),
    };
    let verdict = state.limits.api.check(&key);
    let mut resp = if verdict.allowed {
        next.run(req).await
    } else {
        ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
        )
        .into_response()
    };
    set_headers(resp.headers_mut(), &verdict);
    resp
}

/// Middleware for stored files: keyed by the client's address (images are
/// fetched without tokens), so no one can walk through file names at speed.
pub async fn media_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let key = client_ip(
        req.headers(),
        peer_of(&req),
        state.ctx.config.server.trust_forwarded_for,
    );
    let verdict = state.limits.media.check(&key);
    let mut resp = if verdict.allowed {
        next.run(req).await
    } else {
        ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
        )
        .into_response()
    };
    set_headers(resp.headers_mut(), &verdict);
    resp
}
