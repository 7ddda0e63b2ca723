//! Remote actors: WebFinger, fetching and checking actor documents.
use activitypub_federation::fetch::webfinger::Webfinger;
use serde_json::Value;
use url::Url;

use crate::domain::ActorType;
use crate::federation::vocab::{LinkId, ObjectKind, RemoteActor, RemoteCollection, RemoteNote};

use super::delivery::authority;
pub use super::vocab::id_of;
use crate::config::FederationMode;
use crate::db::models::Account;
use crate::db::{self};
use crate::ids;
pub use crate::services::remote::Resolved;
pub use crate::services::text::{is_web_url, same_origin};
use crate::services::{Ctx, ServiceError, ServiceResult};

fn bad(why: impl Into<String>) -> ServiceError {
    ServiceError::BadRequest(why.into())
}

/// A `url` property as a link for people (see [`WebLink`](super::vocab::WebLink)).
pub fn web_url(v: &Value) -> Option<String> {
    super::vocab::WebLink::of(v).0
}

/// Stores a remote actor (new, or its profile updated); a new one from a
/// silenced server arrives silenced.
pub(crate) async fn store(
    ctx: &Ctx,
    conn: &mut crate::db::DbConn<'_>,
    row: Account,
) -> ServiceResult<Account> {
    let stored = db::federation::upsert_remote_account(conn, &row).await?;
    let new = stored.id == row.id;
    // Marked as the block's doing, so lifting the block restores it.
    if new
        && let Some(domain) = &stored.domain
        && let Some(block) = ctx.settings().domains.silencing_block(domain)
    {
        db::moderation::mark(conn, block, stored.id).await?;
        db::moderation::set_silenced(conn, stored.id, Some(stored.created_at)).await?;
    }
    Ok(stored)
}

/// Checks an actor document fetched from `uri` and turns it into an account row.
pub fn parse_actor(uri: &str, doc: &Value, now: chrono::NaiveDateTime) -> ServiceResult<Account> {
    let actor = RemoteActor::read(doc);
    let id = actor.id.as_deref().ok_or_else(|| bad("actor without id"))?;
    if id != uri && !same_origin(id, uri) {
        return Err(bad("the actor's id is on another origin than its URL"));
    }
    let kind_text = actor.kind.as_deref().unwrap_or_default();
    let Some(kind) = ActorType::parse(kind_text) else {
        return Err(bad(format!("{kind_text:?} is not an actor type")));
    };
    let url = Url::parse(id).map_err(|_| bad("actor id is not a URL"))?;
    let username = actor
        .preferred_username
        .as_deref()
        .filter(|u| !u.is_empty() && u.len() <= 100)
        .ok_or_else(|| bad("actor without preferredUsername"))?;
    let inbox = actor
        .inbox
        .as_deref()
        .filter(|i| same_origin(i, id))
        .ok_or_else(|| bad("actor without an inbox on its origin"))?;
    let key = &actor.public_key.0;
    if key.owner.as_deref().is_some_and(|o| o != id) {
        return Err(bad("the public key belongs to another actor"));
    }
    let pem = key
        .public_key_pem
        .as_deref()
        .ok_or_else(|| bad("actor without publicKeyPem"))?;
    super::signatures::PublicKey::from_pem(pem).map_err(|e| bad(e.to_string()))?;
    let domain = authority(&url);
    let on_origin = |l: &LinkId| l.0.clone().filter(|s| same_origin(s, id));
    let fields: Vec<crate::services::accounts::ProfileField> = actor
        .attachment
        .0
        .iter()
        .map(|(name, value)| crate::services::accounts::ProfileField {
            name: crate::services::text::strip_html(name),
            value: crate::services::text::sanitize(value),
            verified_at: None,
        })
        .collect();
    let text = |t: &Option<String>| t.clone().unwrap_or_default();
    Ok(Account {
        id: ids::next_id(),
        username: username.to_owned(),
        acct_key: format!("{username}@{domain}").to_lowercase(),
        domain: Some(domain),
        actor_type: kind,
        display_name: crate::services::text::strip_html(&text(&actor.name))
            .chars()
            .take(100)
            .collect(),
        note_source: String::new(),
        note: crate::services::text::sanitize(&text(&actor.summary)),
        fields: serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into()),
        locked: actor.manually_approves_followers.unwrap_or(false),
        bot: kind.is_bot(),
        discoverable: actor.discoverable.unwrap_or(false),
        indexable: actor.indexable.unwrap_or(false),
        hide_collections: false,
        suspended: false,
        avatar_file: None,
        header_file: None,
        avatar_remote_url: actor.icon.0.clone(),
        header_remote_url: actor.image.0.clone(),
        local: false,
        ap_id: Some(id.to_owned()),
        inbox_url: Some(inbox.to_owned()),
        shared_inbox_url: actor
            .endpoints
            .shared_inbox
            .clone()
            .filter(|s| same_origin(s, id)),
        outbox_url: on_origin(&actor.outbox),
        followers_url: on_origin(&actor.followers),
        profile_url: actor.url.0.clone(),
        public_key_pem: pem.to_owned(),
        private_key_pem: None,
        fetched_at: Some(now),
        created_at: now,
        updated_at: now,
        moved_to_account_id: None,
    })
}

/// The instance actor's key: loaded, or made and stored on first use.
pub async fn instance_key(ctx: &Ctx) -> ServiceResult<std::sync::Arc<super::InstanceKey>> {
    crate::federation::rt(ctx)
        .instance_key
        .get_or_try_init(|| async {
            let mut conn = ctx.conn().await?;
            if db::federation::instance_keys(&mut conn).await?.is_none() {
                drop(conn);
                let k = crate::crypto::generate_keypair()
                    .await
                    .map_err(ServiceError::Internal)?;
                conn = ctx.conn().await?;
                db::federation::store_instance_keys(
                    &mut conn,
                    &k.private_pem,
                    &k.public_pem,
                    ids::now(),
                )
                .await?;
            }
            // Re-read: another node may have stored its pair first.
            let (private, public) = db::federation::instance_keys(&mut conn)
                .await?
                .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("instance key vanished")))?;
            let key = super::signatures::PrivateKey::from_pem(&private)
                .map_err(|e| ServiceError::Internal(anyhow::anyhow!("instance key: {e}")))?;
            Ok::<_, ServiceError>(std::sync::Arc::new(super::InstanceKey {
                private: std::sync::Arc::new(key),
                public_pem: public,
            }))
        })
        .await
        .cloned()
}

/// Fetches an ActivityPub document signed by the instance actor (servers
/// with authorized fetch refuse unsigned requests).
pub async fn fetch_signed(ctx: &Ctx, url: &Url) -> ServiceResult<Value> {
    fetch_answer(ctx, url)
        .await?
        .map_err(|e| ServiceError::Remote(e.into()))
}

/// [`fetch_signed`], keeping how the remote answered (404 is not 503).
async fn fetch_answer(
    ctx: &Ctx,
    url: &Url,
) -> ServiceResult<Result<Value, super::http::FetchError>> {
    let key = instance_key(ctx).await?;
    let signer = super::http::Signer {
        key_id: format!("{}/actor#main-key", ctx.base_url()),
        key: key.private.clone(),
    };
    Ok(crate::federation::rt(ctx)
        .client
        .get_json(url, Some(&signer))
        .await)
}

/// Whether the object `uri` is gone at its origin (410 or a Tombstone; 404
/// too when `not_found_is_gone`: servers answer 404 for private posts as
/// well): how a Delete passed on by a third party is checked.
pub async fn gone_at_origin(ctx: &Ctx, uri: &str, not_found_is_gone: bool) -> ServiceResult<bool> {
    let url = Url::parse(uri).map_err(|_| bad("not a URL"))?;
    Ok(match fetch_answer(ctx, &url).await? {
        Err(super::http::FetchError::Status(_, 410)) => true,
        Err(super::http::FetchError::Status(_, 404)) => not_found_is_gone,
        Ok(doc) => doc.get("type").and_then(Value::as_str) == Some("Tombstone"),
        Err(_) => false,
    })
}

/// The account for an actor URI: stored, or fetched and stored (`refresh`
/// fetches again, e.g. after a signature failed with the stored key).
pub async fn resolve(ctx: &Ctx, uri: &str, refresh: bool) -> ServiceResult<Account> {
    // Nothing from a blocked server (or, in allow-list mode, an unlisted
    // one), nor from a suspended account, even when stored already: a group
    // elsewhere may pass on their posts.
    if super::inbox::refused_origin(ctx, uri) {
        return Err(ServiceError::Forbidden(
            "this server does not federate with that domain".into(),
        ));
    }
    if !refresh {
        let mut conn = ctx.conn().await?;
        if let Some(a) = db::federation::account_by_ap_id(&mut conn, uri).await? {
            if a.suspended {
                return Err(ServiceError::Forbidden("the account is suspended".into()));
            }
            return Ok(a);
        }
    }
    let url = Url::parse(uri).map_err(|_| bad("actor id is not a URL"))?;
    if url.origin()
        == Url::parse(&ctx.base_url())
            .map_err(|e| ServiceError::Internal(e.into()))?
            .origin()
    {
        return Err(bad("a local URL is not a remote actor"));
    }
    let doc = fetch_signed(ctx, &url).await?;
    let row = parse_actor(uri, &doc, ids::now())?;
    let mut conn = ctx.conn().await?;
    store(ctx, &mut conn, row).await
}

/// `user@host` through WebFinger (stored accounts answer at once).
pub async fn webfinger(ctx: &Ctx, user: &str, host: &str) -> ServiceResult<Account> {
    let key = format!("{user}@{host}").to_lowercase();
    {
        let mut conn = ctx.conn().await?;
        if let Some((a, _)) = db::accounts::find_by_acct_key(&mut conn, &key).await? {
            return Ok(a);
        }
    }
    let scheme = if ctx.config.federation.mode == FederationMode::Development {
        "http"
    } else {
        "https"
    };
    let mut url = Url::parse(&format!("{scheme}://{host}/.well-known/webfinger"))
        .map_err(|_| bad("not a host name"))?;
    url.query_pairs_mut()
        .append_pair("resource", &format!("acct:{user}@{host}"));
    let body = crate::federation::rt(ctx)
        .client
        .get(&url, "application/jrd+json, application/json", None)
        .await
        .map_err(|e| ServiceError::Remote(e.into()))?;
    let jrd: Webfinger = serde_json::from_slice(&body)
        .map_err(|e| bad(format!("unusable WebFinger answer: {e}")))?;
    let href = jrd
        .links
        .iter()
        .find(|l| {
            l.rel.as_deref() == Some("self")
                && l.kind.as_deref().is_some_and(|t| {
                    t.starts_with("application/activity+json")
                        || t.starts_with("application/ld+json")
                })
        })
        .and_then(|l| l.href.as_ref())
        .ok_or_else(|| bad("WebFinger names no ActivityPub actor"))?;
    resolve(ctx, href.as_str(), false).await
}

/// Fetches an actor or a Note by URL (search with `resolve=true`). A Note is
/// stored only when its id is on the URL's origin and its author's too.
pub async fn resolve_url(ctx: &Ctx, url: &str) -> ServiceResult<Option<Resolved>> {
    let base = ctx.base_url();
    {
        let mut conn = ctx.conn().await?;
        if let Some(s) = db::statuses::find_by_uri_or_local(&mut conn, url, &base).await? {
            return Ok(Some(Resolved::Status(Box::new(s))));
        }
        if let Some(a) = db::federation::account_by_ap_id(&mut conn, url).await? {
            return Ok(Some(Resolved::Account(Box::new(a))));
        }
    }
    if url.starts_with(&base) {
        return Ok(None);
    }
    let parsed = Url::parse(url).map_err(|_| bad("not a URL"))?;
    let doc = fetch_signed(ctx, &parsed).await?;
    let head = RemoteActor::read(&doc);
    let Some(id) = head.id.as_deref() else {
        return Ok(None);
    };
    if !same_origin(id, url) {
        return Err(bad("the document's id is on another origin than its URL"));
    }
    let kind = head.kind.as_deref().unwrap_or_default();
    if ActorType::parse(kind).is_some() {
        let row = parse_actor(id, &doc, ids::now())?;
        let mut conn = ctx.conn().await?;
        return Ok(Some(Resolved::Account(Box::new(
            store(ctx, &mut conn, row).await?,
        ))));
    }
    if ObjectKind::parse(kind).is_some_and(ObjectKind::is_post) {
        let author = RemoteNote::read(&doc)
            .attributed_to
            .single()
            .ok_or_else(|| bad("a Note without attributedTo"))?
            .to_owned();
        let actor = resolve(ctx, &author, false).await?;
        return Ok(
            super::inbox::store_note(ctx, &actor, &doc, Ancestry::start())
                .await?
                .map(|s| Resolved::Status(Box::new(s))),
        );
    }
    Ok(None)
}

/// How many ancestors of a post are fetched at most: a reply chain (or a
/// hostile server's endless one) costs at most this many fetches.
pub const MAX_REPLY_DEPTH: u8 = 8;

/// Where a fetch is in a reply chain: how many more ancestors may be fetched,
/// and which posts are already on the way (a loop ends there).
#[derive(Debug, Clone, Default)]
pub struct Ancestry {
    fetched: u8,
    seen: Vec<String>,
}

impl Ancestry {
    pub fn start() -> Ancestry {
        Ancestry::default()
    }

    /// The chain for fetching `parent` of `child`; None when the bound is
    /// reached or `parent` is already on the way.
    pub fn step(&self, child: &str, parent: &str) -> Option<Ancestry> {
        if self.fetched >= MAX_REPLY_DEPTH
            || parent == child
            || self.seen.iter().any(|s| s == parent)
        {
            return None;
        }
        let mut seen = self.seen.clone();
        seen.push(child.to_owned());
        Some(Ancestry {
            fetched: self.fetched + 1,
            seen,
        })
    }
}

/// The whole fetch of a parent chain (or a boosted post) gets this long; the
/// inbox worker must not stall behind one slow server.
const FETCH_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

/// [`fetch_note`] within [`FETCH_BUDGET`]; a failure is logged and returned
/// (running out of time counts as retryable), for the caller to decide:
/// a reply is stored without its parent, an Announce may be tried again.
pub async fn fetch_note_within_budget(
    ctx: &Ctx,
    uri: &str,
    chain: Ancestry,
) -> ServiceResult<Option<crate::db::models::Status>> {
    match tokio::time::timeout(FETCH_BUDGET, fetch_note(ctx, uri, chain)).await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(e)) => {
            tracing::info!(object = uri, error = %e.detail(), "could not fetch a post");
            Err(e)
        }
        Err(_) => {
            tracing::info!(object = uri, "fetching a post took too long");
            Err(ServiceError::Remote(crate::federation::FederationError {
                detail: format!("{uri}: no answer within {FETCH_BUDGET:?}"),
                retryable: true,
            }))
        }
    }
}

/// A post by its id: stored, or fetched from its server and stored with its
/// ancestors as far as `chain` allows. The document must carry an id on the URL's origin and be
/// attributed to an actor there (checked again by `store_note`).
pub fn fetch_note<'a>(
    ctx: &'a Ctx,
    uri: &'a str,
    chain: Ancestry,
) -> futures_util::future::BoxFuture<'a, ServiceResult<Option<crate::db::models::Status>>> {
    Box::pin(async move {
        let base = ctx.base_url();
        {
            let mut conn = ctx.conn().await?;
            if let Some(s) = db::statuses::find_by_uri_or_local(&mut conn, uri, &base).await? {
                return Ok(Some(s));
            }
        }
        if same_origin(uri, &base) {
            return Ok(None);
        }
        let url = Url::parse(uri).map_err(|_| bad("not a URL"))?;
        let doc = fetch_signed(ctx, &url).await?;
        let note = RemoteNote::read(&doc);
        let id = note
            .id
            .as_deref()
            .ok_or_else(|| bad("a document without id"))?;
        if !same_origin(id, uri) {
            return Err(bad("the document's id is on another origin than its URL"));
        }
        if !note.kind.is_some_and(ObjectKind::is_post) {
            return Err(bad("not a post"));
        }
        if id != uri {
            let mut conn = ctx.conn().await?;
            if let Some(s) = db::statuses::find_by_uri(&mut conn, id).await? {
                return Ok(Some(s));
            }
        }
        let author = note
            .attributed_to
            .single()
            .ok_or_else(|| bad("a post without attributedTo"))?
            .to_owned();
        let actor = resolve(ctx, &author, false).await?;
        super::inbox::store_note(ctx, &actor, &doc, chain).await
    })
}

/// Fetches one request may make to check a remote club's recognitions: the
/// club, then the official org and its collection per claim (a club naming
/// 20 official orgs used to cost 61 fetches).
const RECOGNITION_FETCHES: usize = 7;

/// Recognitions of a club on another server, checked from here: each
/// official org the club's actor names in `tsunaguRecognizedBy` must list
/// the club in its own `tsunaguRecognized` collection, served from the
/// official org's origin. Returns the official orgs that confirm it. The
/// answer is kept for an hour; a check makes at most
/// [`RECOGNITION_FETCHES`] fetches (claims beyond them are not confirmed).
pub async fn verified_recognitions(ctx: &Ctx, club: &Account) -> ServiceResult<Vec<Account>> {
    let Some(club_uri) = club.ap_id.clone() else {
        return Ok(vec![]);
    };
    if let Some(ids) = crate::federation::rt(ctx).recognitions.get(club.id) {
        let mut conn = ctx.conn().await?;
        return Ok(db::accounts::find_many(&mut conn, &ids).await?);
    }
    let parse =
        |u: &str| url::Url::parse(u).map_err(|_| ServiceError::BadRequest("not a URL".into()));
    let mut budget = RECOGNITION_FETCHES;
    let mut fetch = async |u: &str| -> ServiceResult<Value> {
        if budget == 0 {
            return Err(ServiceError::Remote(
                crate::federation::FederationError::permanent(
                    "the fetch budget of this check is spent",
                ),
            ));
        }
        budget -= 1;
        fetch_signed(ctx, &parse(u)?).await
    };
    let doc = fetch(&club_uri).await?;
    let claimed: Vec<String> = RemoteActor::read(&doc)
        .recognized_by
        .0
        .into_iter()
        .take(20)
        .collect();
    let mut confirmed = Vec::new();
    for official_uri in claimed {
        // The official org's own document, fetched once: its account and
        // where its collection lives.
        let Ok(official_doc) = fetch(&official_uri).await else {
            continue;
        };
        let Some(collection) = RemoteActor::read(&official_doc)
            .recognized
            .0
            .filter(|c| same_origin(c, &official_uri))
        else {
            continue;
        };
        let Ok(row) = parse_actor(&official_uri, &official_doc, ids::now()) else {
            continue;
        };
        if row.actor_type != crate::domain::ActorType::Group {
            continue;
        }
        let Ok(list) = fetch(&collection).await else {
            continue;
        };
        let listed = RemoteCollection::read(&list).lists(&club_uri);
        if listed {
            let mut conn = ctx.conn().await?;
            confirmed.push(store(ctx, &mut conn, row).await?);
        }
    }
    crate::federation::rt(ctx)
        .recognitions
        .put(club.id, confirmed.iter().map(|a| a.id).collect());
    Ok(confirmed)
}
