//! The Mastodon-compatible client API: thin handlers that extract
//! parameters, call one service function and map the result to JSON.
pub mod accounts;
pub mod activitypub;
pub mod admin;
pub mod alumni;
pub mod apps;
pub mod auth;
pub mod entities;
pub mod error;
pub mod instance;
pub mod media;
pub mod notifications;
pub mod oauth;
pub mod organize;
pub mod orgs;
pub mod pagination;
pub mod params;
pub mod ratelimit;
pub mod reports;
pub mod search;
pub mod social;
pub mod statuses;
pub mod streaming;
pub mod timelines;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, header};
use axum::middleware;
use axum::routing::{delete, get, patch, post, put};
use tower_http::cors::{Any, CorsLayer};

use crate::app::AppState;

/// CORS for browser clients (Elk, Phanpy...): any origin, no cookies, and the
/// pagination and rate-limit headers readable from scripts.
pub fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(Any)
        .expose_headers([
            header::LINK,
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
        ])
        .max_age(Duration::from_secs(86_400))
}

/// `/api/*`, with per-token rate limits and CORS.
pub fn router(state: &AppState) -> Router<AppState> {
    let upload_limit = state.ctx.config.media.max_image_bytes * 2 + 64 * 1024;
    Router::new()
        .route("/api/v1/instance", get(instance::v1))
        .route("/api/tsunagu/openapi.json", get(orgs::openapi))
        .route("/api/v2/instance", get(instance::v2))
        .route("/api/v1/instance/rules", get(instance::rules))
        .route("/api/v1/instance/peers", get(instance::peers))
        .route("/api/v1/instance/activity", get(instance::activity))
        .route("/api/v1/custom_emojis", get(instance::custom_emojis))
        .route("/api/v1/apps", post(apps::create))
        .route(
            "/api/v1/apps/verify_credentials",
            get(apps::verify_credentials),
        )
        .route("/api/v1/accounts", post(accounts::register))
        .route(
            "/api/v1/accounts/verify_credentials",
            get(accounts::verify_credentials),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            patch(accounts::update_credentials).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/v1/accounts/lookup", get(accounts::lookup))
        .route("/api/v1/directory", get(accounts::directory))
        .route("/api/v1/accounts/relationships", get(social::relationships))
        .route("/api/v1/accounts/search", get(search::accounts))
        .route("/api/v2/search", get(search::v2))
        .route("/api/v1/accounts/{id}", get(accounts::show))
        .route(
            "/api/v1/accounts/{id}/statuses",
            get(timelines::account_statuses),
        )
        .route("/api/v1/accounts/{id}/followers", get(social::followers))
        .route("/api/v1/accounts/{id}/following", get(social::following))
        .route("/api/v1/accounts/{id}/follow", post(social::follow))
        .route("/api/v1/accounts/{id}/unfollow", post(social::unfollow))
        .route(
            "/api/v1/accounts/{id}/{action}",
            post(organize::block_action),
        )
        .route(
            "/api/v1/accounts/{id}/remove_from_followers",
            post(social::remove_from_followers),
        )
        .route("/api/v1/follow_requests", get(social::follow_requests))
        .route(
            "/api/v1/follow_requests/{id}/{answer}",
            post(social::answer_request),
        )
        .route(
            "/api/v2/media",
            post(media::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/api/v1/media",
            post(media::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/v1/media/{id}", get(media::show).put(media::update))
        .route("/api/v1/polls/{id}", get(statuses::poll))
        .route("/api/v1/polls/{id}/votes", post(statuses::vote))
        .route("/api/v1/statuses", post(statuses::create))
        .route(
            "/api/v1/statuses/{id}",
            get(statuses::show)
                .delete(statuses::delete)
                .put(statuses::edit),
        )
        .route("/api/v1/statuses/{id}/history", get(statuses::history))
        .route("/api/v1/statuses/{id}/source", get(statuses::source))
        .route("/api/v1/statuses/{id}/context", get(statuses::context))
        .route(
            "/api/v1/statuses/{id}/favourited_by",
            get(statuses::favourited_by),
        )
        .route(
            "/api/v1/statuses/{id}/reblogged_by",
            get(statuses::reblogged_by),
        )
        .route("/api/v1/statuses/{id}/{action}", post(statuses::action))
        .route("/api/v1/timelines/home", get(timelines::home))
        .route("/api/v1/timelines/public", get(timelines::public))
        .route("/api/v1/timelines/tag/{tag}", get(timelines::tag))
        .route("/api/v1/favourites", get(timelines::favourites))
        .route("/api/v1/bookmarks", get(timelines::bookmarks))
        .route(
            "/api/v1/lists",
            get(organize::lists).post(organize::create_list),
        )
        .route(
            "/api/v1/lists/{id}",
            get(organize::show_list)
                .put(organize::update_list)
                .delete(organize::delete_list),
        )
        .route(
            "/api/v1/lists/{id}/accounts",
            get(organize::list_accounts)
                .post(organize::add_list_accounts)
                .delete(organize::remove_list_accounts),
        )
        .route("/api/v1/timelines/list/{id}", get(organize::list_timeline))
        .route("/api/v1/accounts/{id}/lists", get(organize::account_lists))
        .route("/api/v1/filters", get(organize::filters_v1))
        .route(
            "/api/v2/filters",
            get(organize::filters).post(organize::create_filter),
        )
        .route(
            "/api/v2/filters/{id}",
            get(organize::show_filter)
                .put(organize::update_filter)
                .delete(organize::delete_filter),
        )
        .route(
            "/api/v2/filters/{id}/keywords",
            get(organize::filter_keywords).post(organize::add_filter_keyword),
        )
        .route(
            "/api/v2/filters/keywords/{id}",
            get(organize::show_filter_keyword)
                .put(organize::update_filter_keyword)
                .delete(organize::delete_filter_keyword),
        )
        .route(
            "/api/v1/markers",
            get(organize::markers).post(organize::set_markers),
        )
        .route("/api/v1/blocks", get(organize::blocks))
        .route("/api/v1/mutes", get(organize::mutes))
        .route("/api/v1/reports", post(reports::create))
        .route("/api/v1/orgs", get(orgs::list).post(orgs::create))
        .route("/api/v1/orgs/{id}", get(orgs::show).patch(orgs::update))
        .route("/api/v1/orgs/{id}/members", get(orgs::members))
        .route("/api/v1/orgs/{id}/directory", get(alumni::org_directory))
        .route("/api/v1/orgs/{id}/directory/export", get(alumni::export))
        .route("/api/v1/orgs/{id}/directory/stats", get(alumni::stats))
        .route(
            "/api/v1/orgs/{id}/tenures/{tenure_id}/verify",
            post(alumni::verify_tenure),
        )
        .route(
            "/api/v1/alumni/profile",
            get(alumni::mine).patch(alumni::update),
        )
        .route("/api/v1/alumni/profile/{id}", get(alumni::show))
        .route("/api/v1/alumni/now", put(alumni::now))
        .route("/api/v1/orgs/{id}/timeline", get(timelines::org))
        .route("/api/v1/orgs/{id}/statuses", post(statuses::create_as_org))
        .route(
            "/api/v1/orgs/{id}/members/{account_id}",
            delete(orgs::remove_member),
        )
        .route(
            "/api/v1/orgs/{id}/members/{account_id}/role",
            post(orgs::set_role),
        )
        .route(
            "/api/v1/orgs/{id}/members/{account_id}/graduate",
            post(orgs::graduate),
        )
        .route(
            "/api/v1/orgs/{id}/membership",
            get(orgs::my_membership).delete(orgs::leave),
        )
        .route(
            "/api/v1/orgs/{id}/membership/consents",
            get(orgs::consents).post(orgs::set_consents),
        )
        .route(
            "/api/v1/orgs/{id}/membership_requests",
            get(orgs::membership_requests).post(orgs::request_membership),
        )
        .route(
            "/api/v1/orgs/{id}/membership_requests/{request_id}/approve",
            post(orgs::approve),
        )
        .route(
            "/api/v1/orgs/{id}/membership_requests/{request_id}/reject",
            post(orgs::reject),
        )
        .route(
            "/api/v1/orgs/{id}/invites",
            get(orgs::invites).post(orgs::create_invite),
        )
        .route(
            "/api/v1/orgs/{id}/invites/{invite_id}",
            delete(orgs::revoke_invite),
        )
        .route("/api/v1/orgs/{id}/recognitions", get(orgs::recognitions))
        .route("/api/v1/orgs/{id}/activity", get(orgs::activity))
        .route(
            "/api/v1/orgs/{id}/blocks",
            get(orgs::blocks).post(orgs::block),
        )
        .route("/api/v1/orgs/{id}/blocks/{block_id}", delete(orgs::unblock))
        .route(
            "/api/v1/orgs/{id}/recognitions/{club_id}",
            post(orgs::recognise).delete(orgs::withdraw_recognition),
        )
        .route(
            "/api/v1/featured_tags",
            get(organize::featured_tags).post(organize::feature_tag),
        )
        .route("/api/v1/featured_tags/suggestions", get(organize::trends))
        .route(
            "/api/v1/featured_tags/{id}",
            axum::routing::delete(organize::unfeature_tag),
        )
        .route(
            "/api/v1/accounts/{id}/featured_tags",
            get(organize::account_featured_tags),
        )
        .route("/api/v1/conversations", get(organize::conversations))
        .route(
            "/api/v1/conversations/{id}",
            axum::routing::delete(organize::remove_conversation),
        )
        .route(
            "/api/v1/conversations/{id}/read",
            post(organize::read_conversation),
        )
        .route("/api/v1/announcements", get(organize::announcements))
        .route(
            "/api/v1/announcements/{id}/dismiss",
            post(organize::dismiss_announcement),
        )
        .route("/api/v1/trends", get(organize::trends))
        .route("/api/v1/trends/tags", get(organize::trends))
        .route("/api/v1/trends/statuses", get(organize::trends))
        .route("/api/v1/trends/links", get(organize::trends))
        .route("/api/v1/streaming", get(streaming::websocket))
        .route("/api/v1/streaming/health", get(streaming::health))
        .route("/api/v1/streaming/{*stream}", get(streaming::sse))
        .route("/api/v1/notifications", get(notifications::list))
        .route("/api/v1/notifications/clear", post(notifications::clear))
        .route("/api/v1/notifications/{id}", get(notifications::show))
        .route(
            "/api/v1/notifications/{id}/dismiss",
            post(notifications::dismiss),
        )
        .route("/api/v1/preferences", get(accounts::preferences))
        .route("/api/v1/admin/accounts", get(accounts::admin_list))
        .route(
            "/api/v1/admin/accounts/{id}/approve",
            post(accounts::admin_approve),
        )
        .route(
            "/api/v1/admin/accounts/{id}/reject",
            post(admin::reject_account),
        )
        .route(
            "/api/v1/admin/accounts/{id}/action",
            post(admin::account_action),
        )
        .route(
            "/api/v1/admin/accounts/{id}/unsuspend",
            post(admin::unsuspend),
        )
        .route(
            "/api/v1/admin/accounts/{id}/unsilence",
            post(admin::unsilence),
        )
        .route("/api/v1/admin/reports", get(admin::reports))
        .route("/api/v1/admin/reports/{id}", get(admin::report))
        .route(
            "/api/v1/admin/reports/{id}/resolve",
            post(admin::resolve_report),
        )
        .route(
            "/api/v1/admin/reports/{id}/reopen",
            post(admin::reopen_report),
        )
        .route(
            "/api/v1/admin/domain_blocks",
            get(admin::domain_blocks).post(admin::create_domain_block),
        )
        .route(
            "/api/v1/admin/domain_blocks/{id}",
            get(admin::show_domain_block)
                .put(admin::update_domain_block)
                .delete(admin::delete_domain_block),
        )
        .route(
            "/api/v1/admin/domain_allows",
            get(admin::domain_allows).post(admin::create_domain_allow),
        )
        .route(
            "/api/v1/admin/domain_allows/{id}",
            delete(admin::delete_domain_allow),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ratelimit::api_limit,
        ))
        .layer(cors())
}

/// OAuth endpoints called by apps (not the HTML consent page) and discovery documents.
pub fn oauth_router() -> Router<AppState> {
    Router::new()
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route(
            "/oauth/userinfo",
            get(oauth::userinfo).post(oauth::userinfo),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(instance::oauth_metadata),
        )
        .layer(cors())
}

/// Discovery and ActivityPub: WebFinger, NodeInfo, host-meta, actors,
/// objects and inboxes (no client-API rate limits: remote servers sign).
pub fn activitypub_router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/webfinger", get(activitypub::webfinger))
        .route("/.well-known/host-meta", get(activitypub::host_meta))
        .route("/.well-known/nodeinfo", get(activitypub::nodeinfo_links))
        .route("/nodeinfo/{version}", get(activitypub::nodeinfo))
        .route("/inbox", post(activitypub::inbox))
        .route("/actor", get(activitypub::instance_actor))
        .route("/actor/inbox", post(activitypub::inbox))
        .route("/users/{name}", get(activitypub::actor))
        .route("/users/{name}/inbox", post(activitypub::inbox))
        .route(
            "/users/{name}/statuses/{id}",
            get(activitypub::status_object),
        )
        .route(
            "/users/{name}/alumni/{org}",
            get(activitypub::alumni_object),
        )
        .route("/ns", get(activitypub::namespace))
        .route("/users/{name}/{which}", get(activitypub::collection))
        .route(
            "/users/{name}/collections/{which}",
            get(activitypub::named_collection),
        )
}
