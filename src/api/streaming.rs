//! The streaming API: a WebSocket at `/api/v1/streaming` (token from
//! `Authorization`, `access_token` or `Sec-WebSocket-Protocol`; streams from
//! the `stream` query or subscribe/unsubscribe messages) and server-sent
//! events under `/api/v1/streaming/*`. Every event is rendered for the
//! connection's viewer with the same visibility checks as the REST API.
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::entities;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::db::models::LocalUser;
use crate::services::oauth::{self, Caller};
use crate::services::streaming::{Payload, Stream};
use crate::services::{notifications, organize, statuses};

#[derive(Deserialize, Default)]
pub struct StreamQuery {
    stream: Option<String>,
    tag: Option<String>,
    list: Option<String>,
    access_token: Option<String>,
}

/// One subscription: the name clients know it by, and our stream key.
#[derive(Debug, Clone, PartialEq)]
struct Subscription {
    name: Vec<String>,
    stream: Stream,
}

fn token_of(headers: &HeaderMap, q: &StreamQuery) -> Option<String> {
    if let Some(h) = headers.get("authorization").and_then(|v| v.to_str().ok())
        && let Some((scheme, t)) = h.split_once(' ')
        && scheme.eq_ignore_ascii_case("bearer")
    {
        return Some(t.trim().to_owned());
    }
    if let Some(t) = q.access_token.clone().filter(|t| !t.is_empty()) {
        return Some(t);
    }
    headers
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').next().unwrap_or_default().trim().to_owned())
        .filter(|t| !t.is_empty())
}

async fn caller(s: &AppState, token: Option<&str>) -> ApiResult<Option<Caller>> {
    match token {
        Some(t) => Ok(Some(oauth::authenticate(&s.ctx, t).await?)),
        None => Ok(None),
    }
}

/// Resolves a stream name (and its tag or list) for this caller, checking access.
async fn subscription(
    s: &AppState,
    who: &Option<Caller>,
    name: &str,
    tag: Option<&str>,
    list: Option<&str>,
) -> ApiResult<Subscription> {
    let me = || -> ApiResult<&LocalUser> {
        let c = who.as_ref().ok_or_else(|| {
            ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "Missing access token")
        })?;
        if !c
            .scopes
            .allows_any(&["read:statuses", "read:notifications"])
        {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "This action is outside the authorized scopes",
            ));
        }
        c.account
            .as_ref()
            .ok_or_else(|| ApiError::unprocessable("This method requires an authenticated user"))
    };
    let tag_name = || -> ApiResult<String> {
        tag.map(|t| t.trim_start_matches('#').to_lowercase())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::bad_request("Missing parameter: tag"))
    };
    let stream = match name {
        "user" => Stream::User(me()?.account.id),
        "user:notification" => Stream::UserNotification(me()?.account.id),
        "public" | "public:media" => Stream::Public,
        "public:local" | "public:local:media" => Stream::PublicLocal,
        "public:remote" | "public:remote:media" => Stream::PublicRemote,
        "hashtag" => Stream::Hashtag(tag_name()?),
        "hashtag:local" => Stream::HashtagLocal(tag_name()?),
        "direct" => Stream::Direct(me()?.account.id),
        "list" => {
            let me = me()?;
            let id: i64 = list
                .and_then(|l| l.parse().ok())
                .ok_or_else(|| ApiError::bad_request("Missing parameter: list"))?;
            organize::list(&s.ctx, me, id).await?;
            Stream::List(id)
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Unknown stream type {other:?}"
            )));
        }
    };
    let mut full = vec![name.to_owned()];
    match &stream {
        Stream::Hashtag(t) | Stream::HashtagLocal(t) => full.push(t.clone()),
        Stream::List(l) => full.push(l.to_string()),
        _ => {}
    }
    Ok(Subscription { name: full, stream })
}

/// Renders an event for this viewer: (event name, payload string), or None
/// when the viewer may not see it.
async fn render(
    s: &AppState,
    who: &Option<Caller>,
    payload: &Payload,
) -> Option<(&'static str, String)> {
    let viewer = who.as_ref().and_then(|c| c.account.as_ref());
    let viewer_id = viewer.map(|m| m.account.id);
    match payload {
        Payload::Status(id) | Payload::StatusUpdate(id) => {
            let v = statuses::get(&s.ctx, viewer_id, *id).await.ok()?;
            let name = if matches!(payload, Payload::Status(_)) {
                "update"
            } else {
                "status.update"
            };
            Some((name, entities::status(&s.ctx, &v).to_string()))
        }
        Payload::Delete(id) => Some(("delete", id.to_string())),
        Payload::Notification(id) => {
            let n = notifications::get(&s.ctx, viewer?, *id).await.ok()?;
            Some((
                "notification",
                entities::notification(&s.ctx, &n).to_string(),
            ))
        }
        Payload::Conversation(root) => {
            let c = organize::conversation_by_root(&s.ctx, viewer?, *root)
                .await
                .ok()?;
            Some((
                "conversation",
                entities::conversation(&s.ctx, &c).to_string(),
            ))
        }
    }
}

/// The subscriptions an event is for; clients tell streams apart by name, so
/// an event goes out once per matching subscription (as on Mastodon).
fn matching<'a>(subs: &'a [Subscription], streams: &[Stream]) -> Vec<&'a Subscription> {
    subs.iter()
        .filter(|sub| streams.contains(&sub.stream))
        .collect()
}

pub async fn websocket(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let token = token_of(&headers, &q);
    let who = caller(&s, token.as_deref()).await?;
    let mut subs = Vec::new();
    if let Some(name) = q.stream.as_deref().filter(|n| !n.is_empty()) {
        subs.push(subscription(&s, &who, name, q.tag.as_deref(), q.list.as_deref()).await?);
    }
    // Browsers can only send the token as the subprotocol; it must be echoed back.
    let from_protocol = headers
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| token.as_deref().is_some_and(|t| p.contains(t)));
    let ws = match (from_protocol, token) {
        (true, Some(t)) => ws.protocols([t]),
        _ => ws,
    };
    Ok(ws
        .on_upgrade(move |socket| run_socket(socket, s, who, subs))
        .into_response())
}

#[derive(Deserialize)]
struct ClientMessage {
    #[serde(rename = "type")]
    kind: String,
    stream: String,
    tag: Option<String>,
    list: Option<String>,
}

async fn run_socket(
    mut socket: WebSocket,
    s: AppState,
    who: Option<Caller>,
    mut subs: Vec<Subscription>,
) {
    let mut rx = s.ctx.hub.subscribe();
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(msg)) = incoming else { break };
                let Message::Text(text) = msg else { continue };
                let Ok(m) = serde_json::from_str::<ClientMessage>(text.as_str()) else {
                    let _ = socket.send(Message::Text(json!({"error": "Invalid message"}).to_string().into())).await;
                    continue;
                };
                match subscription(&s, &who, &m.stream, m.tag.as_deref(), m.list.as_deref()).await {
                    Ok(sub) if m.kind == "subscribe" => {
                        if !subs.contains(&sub) {
                            subs.push(sub);
                        }
                    }
                    Ok(sub) if m.kind == "unsubscribe" => subs.retain(|x| *x != sub),
                    Ok(_) => {
                        let _ = socket.send(Message::Text(json!({"error": "Unknown message type"}).to_string().into())).await;
                    }
                    Err(e) => {
                        let _ = socket.send(Message::Text(json!({"error": e.body["error"], "status": e.status.as_u16()}).to_string().into())).await;
                    }
                }
            }
            event = rx.recv() => {
                let event = match event {
                    Ok(e) => e,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                };
                let names: Vec<Vec<String>> = matching(&subs, &event.streams).into_iter().map(|s| s.name.clone()).collect();
                if names.is_empty() {
                    continue;
                }
                let Some((ev, payload)) = render(&s, &who, &event.payload).await else { continue };
                let mut closed = false;
                for name in names {
                    let msg = json!({ "stream": name, "event": ev, "payload": payload });
                    if socket.send(Message::Text(msg.to_string().into())).await.is_err() {
                        closed = true;
                        break;
                    }
                }
                if closed {
                    break;
                }
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// `GET /api/v1/streaming/health`.
pub async fn health() -> &'static str {
    "OK"
}

/// Server-sent events: `/api/v1/streaming/user`, `/public/local`, `/hashtag?tag=`, ...
pub async fn sse(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<String>,
    Query(q): Query<StreamQuery>,
) -> ApiResult<Response> {
    if path == "health" {
        return Ok("OK".into_response());
    }
    let token = token_of(&headers, &q);
    let who = caller(&s, token.as_deref()).await?;
    let name = path.trim_matches('/').replace('/', ":");
    let sub = subscription(&s, &who, &name, q.tag.as_deref(), q.list.as_deref()).await?;
    let rx = s.ctx.hub.subscribe();
    let events =
        futures_util::stream::unfold((rx, s, who, sub), |(mut rx, s, who, sub)| async move {
            loop {
                let event = match rx.recv().await {
                    Ok(e) => e,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                };
                if matching(std::slice::from_ref(&sub), &event.streams).is_empty() {
                    continue;
                }
                if let Some((ev, payload)) = render(&s, &who, &event.payload).await {
                    let out: Result<SseEvent, Infallible> =
                        Ok(SseEvent::default().event(ev).data(payload));
                    return Some((out, (rx, s, who, sub)));
                }
            }
        });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
