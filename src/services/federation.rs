//! What the discovery and ActivityPub endpoints serve, and the outbound side
//! of the social actions (Follow, Undo, Accept, Create, Delete).
use crate::domain::Visibility;
use activitypub_federation::fetch::webfinger::build_webfinger_response_with_type;
use serde_json::{Value, json};

use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::{Account, Status};
use crate::db::{self, DbConn};
use crate::federation::delivery;
use crate::federation::objects::{self, NoteParts, Urls};
use crate::federation::vocab::{
    Activity, ActivityKind, Actor, Context, Endpoints, OrderedCollection, PublicKey, Tombstone,
};
use crate::ids;

async fn local_account(ctx: &Ctx, name: &str) -> ServiceResult<Account> {
    let mut conn = ctx.conn().await?;
    db::accounts::find_by_acct_key(&mut conn, &name.to_lowercase())
        .await?
        .map(|(a, _)| a)
        .filter(|a| a.local && !a.suspended)
        .ok_or_else(ServiceError::not_found)
}

/// WebFinger for `acct:name@ourdomain`, or one of our actor/profile URLs.
pub async fn webfinger(ctx: &Ctx, resource: &str) -> ServiceResult<Value> {
    let base = ctx.base_url();
    let domain = &ctx.config.server.domain;
    let name = if let Some(acct) = resource.strip_prefix("acct:") {
        match acct.trim_start_matches('@').rsplit_once('@') {
            Some((user, host)) if host.eq_ignore_ascii_case(domain) => user.to_owned(),
            _ => return Err(ServiceError::not_found()),
        }
    } else if let Some(rest) = resource
        .strip_prefix(&format!("{base}/users/"))
        .or_else(|| resource.strip_prefix(&format!("{base}/@")))
    {
        rest.to_owned()
    } else {
        return Err(ServiceError::not_found());
    };
    let account = local_account(ctx, &name).await?;
    let urls = Urls { base: &base };
    let parse = |u: String| url::Url::parse(&u).map_err(|e| ServiceError::Internal(e.into()));
    let (actor, profile) = (
        parse(urls.actor(&account.username))?,
        parse(urls.profile(&account.username))?,
    );
    let mut jrd = build_webfinger_response_with_type(
        format!("acct:{}@{domain}", account.username),
        vec![(actor.clone(), Some(account.actor_type.as_str()))],
    );
    // People read the profile page, not the actor document.
    for link in &mut jrd.links {
        if link.rel.as_deref() == Some("http://webfinger.net/rel/profile-page") {
            link.href = Some(profile.clone());
        }
    }
    jrd.aliases = vec![actor, profile];
    serde_json::to_value(jrd).map_err(|e| ServiceError::Internal(e.into()))
}

pub fn nodeinfo_links(ctx: &Ctx) -> Value {
    let base = ctx.base_url();
    json!({
        "links": [
            { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": format!("{base}/nodeinfo/2.0") },
            { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": format!("{base}/nodeinfo/2.1") },
        ]
    })
}

pub async fn nodeinfo(ctx: &Ctx, version: &str) -> ServiceResult<Value> {
    if !matches!(version, "2.0" | "2.1") {
        return Err(ServiceError::not_found());
    }
    let facts = super::instance::facts(ctx).await?;
    let mut software = json!({ "name": "tsunagu", "version": env!("CARGO_PKG_VERSION") });
    if version == "2.1" {
        software["repository"] = json!(ctx.config.instance.source_url.clone());
        software["homepage"] = json!(ctx.config.instance.source_url.clone());
    }
    Ok(json!({
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations": ctx.config.registrations.mode == crate::config::RegistrationMode::Open,
        "usage": {
            "users": { "total": facts.user_count },
            "localPosts": facts.status_count,
        },
        "metadata": {
            "nodeName": ctx.config.instance.title,
            "nodeDescription": ctx.config.instance.description,
        },
    }))
}

pub async fn actor_document(ctx: &Ctx, name: &str) -> ServiceResult<Value> {
    let a = local_account(ctx, name).await?;
    let base = ctx.base_url();
    let image = |f: &Option<String>| f.as_deref().map(|f| super::media::url(ctx, f));
    let mut doc = objects::actor(
        &Urls { base: &base },
        &a,
        image(&a.avatar_file),
        image(&a.header_file),
    );
    if a.actor_type == crate::domain::ActorType::Group {
        super::groups::group_properties(ctx, &mut ctx.conn().await?, &a, &mut doc).await?;
    }
    Ok(doc)
}

/// The Note of a local status: public and unlisted ones to anyone;
/// members-only ones to a signed fetch by a verified member of the org (or,
/// for a post into a group elsewhere, by that group's own server, which
/// holds every member's posts anyway) — never to "some actor on a member's
/// domain"; nothing else (404, as if it did not exist).
pub async fn status_document(
    ctx: &Ctx,
    name: &str,
    id: i64,
    signer: Option<&Account>,
) -> ServiceResult<Value> {
    let author = local_account(ctx, name).await?;
    let mut conn = ctx.conn().await?;
    let s = db::statuses::find(&mut conn, id)
        .await?
        .filter(|s| s.account_id == author.id && s.local && s.reblog_of_id.is_none())
        .ok_or_else(ServiceError::not_found)?;
    let allowed = match s.visibility {
        Visibility::Public | Visibility::Unlisted => true,
        Visibility::Members => match (signer, s.audience_id) {
            (Some(who), Some(org)) => members_only_reader(&mut conn, org, who).await?,
            _ => false,
        },
        // Followers-only and direct posts: to a fetch signed by someone who
        // may see them here (a follower, someone mentioned), as Mastodon does;
        // an instance actor vouches for no one.
        Visibility::Private | Visibility::Direct => match signer {
            Some(who) if !who.local && who.actor_type != crate::domain::ActorType::Application => {
                db::statuses::find_visible(&mut conn, s.id, Some(who.id))
                    .await?
                    .is_some()
            }
            _ => false,
        },
    };
    if !allowed {
        return Err(ServiceError::not_found());
    }
    let mut note = note_of(ctx, &mut conn, &author, &s).await?;
    note["@context"] = objects::context();
    Ok(note)
}

/// Whether `who` (a verified signer) may read a members-only post of `org`:
/// a verified member, or the instance actor of the group's own server when
/// the group lives elsewhere.
async fn members_only_reader(
    conn: &mut DbConn<'_>,
    org_id: i64,
    who: &Account,
) -> ServiceResult<bool> {
    if db::memberships::is_verified_member(conn, org_id, who.id).await? {
        return Ok(true);
    }
    let Some((org, _)) = db::accounts::find(conn, org_id).await? else {
        return Ok(false);
    };
    Ok(!org.local
        && who.actor_type == crate::domain::ActorType::Application
        && crate::federation::actors::same_origin(
            org.ap_id.as_deref().unwrap_or_default(),
            who.ap_id.as_deref().unwrap_or_default(),
        ))
}

pub async fn collection(ctx: &Ctx, name: &str, which: &str) -> ServiceResult<Value> {
    let a = local_account(ctx, name).await?;
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let mut conn = ctx.conn().await?;
    let (id, total) = match which {
        "followers" | "following" => {
            let (followers, following) = db::accounts::stats(&mut conn, &[a.id])
                .await?
                .first()
                .map_or((0, 0), |&(_, _, _, ers, ing)| (ers, ing));
            if which == "followers" {
                (urls.followers(&a.username), followers)
            } else {
                (urls.following(&a.username), following)
            }
        }
        // Counts only what anyone may see: private and members-only posts
        // are not admitted to, even by number.
        "outbox" => (
            urls.outbox(&a.username),
            db::statuses::count_public(&mut conn, a.id).await?,
        ),
        _ => return Err(ServiceError::not_found()),
    };
    Ok(OrderedCollection::counted(id, total).to_json())
}

/// `/users/:name/collections/:which`: featured, or an org's recognised clubs.
pub async fn named_collection(ctx: &Ctx, name: &str, which: &str) -> ServiceResult<Value> {
    match which {
        "featured" => featured(ctx, name).await,
        "recognized" => {
            let a = local_account(ctx, name).await?;
            if a.actor_type != crate::domain::ActorType::Group {
                return Err(ServiceError::not_found());
            }
            super::groups::recognized_collection(ctx, &a).await
        }
        _ => Err(ServiceError::not_found()),
    }
}

/// The featured collection: pinned posts anyone may see, as Notes (Mastodon
/// embeds them so a profile shows its pins without one fetch per post).
async fn featured(ctx: &Ctx, name: &str) -> ServiceResult<Value> {
    let a = local_account(ctx, name).await?;
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let mut conn = ctx.conn().await?;
    let pinned = db::timelines::pinned(&mut conn, None, a.id, 20).await?;
    let mut items = Vec::new();
    for s in pinned.iter().filter(|s| s.visibility.is_open()) {
        items.push(note_of(ctx, &mut conn, &a, s).await?);
    }
    let id = format!("{}/collections/featured", urls.actor(&a.username));
    Ok(OrderedCollection::of(id, items)
        .with_context(Context::Full)
        .to_json())
}

/// The Note of a local status (mentions and tags resolved).
async fn note_of(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    author: &Account,
    s: &Status,
) -> ServiceResult<Value> {
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let mention_ids: Vec<i64> = db::statuses::mentions_of(conn, &[s.id])
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let mentioned = db::accounts::find_many(conn, &mention_ids).await?;
    let mentions = mentioned
        .iter()
        .map(|a| {
            let acct = match &a.domain {
                Some(d) => format!("{}@{d}", a.username),
                None => a.username.clone(),
            };
            (objects::account_uri(&urls, a), acct)
        })
        .collect();
    let tags = db::statuses::tags_of(conn, &[s.id])
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let in_reply_to = match s.in_reply_to_id {
        Some(p) => match db::statuses::find(conn, p).await? {
            Some(parent) => {
                let pa = db::accounts::find(conn, parent.account_id).await?;
                pa.map(|(pa, _)| objects::status_uri(&urls, &pa, &parent))
            }
            None => None,
        },
        None => None,
    };
    let audience = match s.audience_id {
        Some(org) => db::accounts::find(conn, org)
            .await?
            .map(|(a, _)| objects::account_uri(&urls, &a)),
        None => None,
    };
    let parts = NoteParts {
        author_uri: urls.actor(&author.username),
        followers: urls.followers(&author.username),
        in_reply_to,
        mentions,
        tags,
        tag_base: base.clone(),
        audience,
    };
    let mut note = objects::note(
        &urls.status(&author.username, s.id),
        &format!("{base}/@{}/{}", author.username, s.id),
        s,
        &parts,
    );
    let media = db::media::of_statuses(conn, &[s.id]).await?;
    let attachments: Vec<Value> = media
        .iter()
        .filter_map(|m| {
            let file = m.file.as_ref()?;
            let media_type = match file.rsplit('.').next() {
                Some("jpg" | "jpeg") => "image/jpeg",
                Some("png") => "image/png",
                Some("gif") => "image/gif",
                Some("webp") => "image/webp",
                _ => "application/octet-stream",
            };
            let meta: Value = serde_json::from_str(&m.meta).unwrap_or_default();
            let size = meta["original"]["width"]
                .as_u64()
                .zip(meta["original"]["height"].as_u64());
            Some(objects::attachment_json(&objects::Attachment {
                kind: m.kind,
                url: super::media::url(ctx, file),
                media_type: Some(media_type.into()),
                description: m.description.clone(),
                blurhash: m.blurhash.clone(),
                focus: (m.focus_x, m.focus_y),
                size,
            }))
        })
        .collect();
    note["attachment"] = Value::Array(attachments);
    if let Some((_, v)) = super::polls::views_for(conn, None, &[s.id]).await?.pop() {
        let hidden = v.poll.hide_totals && !v.expired;
        objects::with_poll(
            &mut note,
            &objects::QuestionPoll {
                counts: if hidden { vec![] } else { v.counts },
                options: v.options,
                multiple: v.poll.multiple,
                end: v.poll.expires_at,
                voters: Some(v.voters_count),
                closed: v.expired,
            },
        );
    }
    Ok(note)
}

/// Queues our person's vote on a remote poll: one `Create{Note}` per choice,
/// named by the option and replying to the `Question` (Mastodon's form), to
/// the poll's author only.
pub async fn poll_voted(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    me: &Account,
    question: &Status,
    author: &Account,
    choices: &[(i32, String)],
) -> ServiceResult<()> {
    let (Some(question_uri), Some(author_uri)) = (&question.uri, &author.ap_id) else {
        return Ok(());
    };
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    for (choice, name) in choices {
        let id = urls.activity(&me.username, "vote", ids::next_id());
        let note = json!({
            "id": format!("{}/votes/{}/{choice}", urls.actor(&me.username), question.id),
            "type": "Note",
            "name": name,
            "attributedTo": urls.actor(&me.username),
            "inReplyTo": question_uri,
            "to": [author_uri],
        });
        let activity = objects::activity(&id, "Create", &urls.actor(&me.username), note);
        delivery::enqueue(conn, &base, me, &id, &activity, author.inbox_url.clone()).await?;
    }
    Ok(())
}

/// Inboxes a status goes to: remote followers (unless direct) and remote
/// mentioned accounts.
async fn status_inboxes(
    conn: &mut DbConn<'_>,
    author: &Account,
    s: &Status,
) -> ServiceResult<Vec<String>> {
    if s.visibility == Visibility::Members {
        // Members only: to the members' instances (a local org), or to the
        // remote group, which redistributes to its members.
        let Some(org_id) = s.audience_id else {
            return Ok(vec![]);
        };
        return Ok(match db::accounts::find(conn, org_id).await? {
            Some((org, _)) if org.local => db::memberships::member_inboxes(conn, org_id).await?,
            Some((org, _)) => org.inbox_url.into_iter().collect(),
            None => vec![],
        });
    }
    let mut inboxes = Vec::new();
    if s.visibility != Visibility::Direct {
        inboxes = db::federation::follower_inboxes(conn, author.id).await?;
    }
    // A post into a remote group goes to the group (which announces it).
    if let Some(org_id) = s.audience_id
        && let Some((org, _)) = db::accounts::find(conn, org_id).await?
        && !org.local
    {
        inboxes.extend(org.shared_inbox_url.or(org.inbox_url));
    }
    let mention_ids: Vec<i64> = db::statuses::mentions_of(conn, &[s.id])
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    for a in db::accounts::find_many(conn, &mention_ids).await? {
        if !a.local {
            // Direct posts go to personal inboxes, never shared ones.
            let i = if s.visibility == Visibility::Direct {
                a.inbox_url
            } else {
                a.shared_inbox_url.or(a.inbox_url)
            };
            inboxes.extend(i);
        }
    }
    Ok(inboxes)
}

/// Queues Create (or Update) of a local status, inside the caller's transaction.
pub async fn status_published(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    author: &Account,
    s: &Status,
    update: bool,
) -> ServiceResult<()> {
    if s.reblog_of_id.is_some() {
        return Ok(());
    }
    let inboxes = status_inboxes(conn, author, s).await?;
    if inboxes.is_empty() {
        return Ok(());
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let mut note = note_of(ctx, conn, author, s).await?;
    // Members-only and followers-only posts may be passed on by a group to
    // its members' servers, which cannot fetch them here: the author's proof
    // travels with the Note, so nobody has to take the group's word for it.
    if matches!(s.visibility, Visibility::Members | Visibility::Private)
        && let Some(pem) = author.private_key_pem.as_deref()
    {
        let key = crate::federation::signatures::PrivateKey::from_pem(pem)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("author key: {e}")))?;
        crate::federation::proofs::attach(
            &mut note,
            &key,
            &format!("{}#main-key", urls.actor(&author.username)),
            &objects::timestamp(&ids::now()),
        );
    }
    let kind = if update { "Update" } else { "Create" };
    let id = if update {
        urls.activity(&author.username, "update", ids::next_id())
    } else {
        format!("{}/activity", urls.status(&author.username, s.id))
    };
    let activity = objects::activity(&id, kind, &urls.actor(&author.username), note);
    delivery::enqueue(conn, &base, author, &id, &activity, inboxes).await?;
    Ok(())
}

/// The `Create{Note}` of a local status, as its author sent it (groups embed
/// it in their Announce).
pub async fn create_activity(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    author: &Account,
    s: &Status,
) -> ServiceResult<Value> {
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let note = note_of(ctx, conn, author, s).await?;
    let id = format!("{}/activity", urls.status(&author.username, s.id));
    let mut activity = objects::activity(&id, "Create", &urls.actor(&author.username), note);
    activity.as_object_mut().map(|o| o.remove("@context"));
    Ok(activity)
}

/// Queues Delete of a local status (a Tombstone), before its rows go.
pub async fn status_deleted(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    author: &Account,
    s: &Status,
) -> ServiceResult<()> {
    if s.reblog_of_id.is_some() {
        return Ok(());
    }
    let inboxes = status_inboxes(conn, author, s).await?;
    if inboxes.is_empty() {
        return Ok(());
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let uri = urls.status(&author.username, s.id);
    let id = format!("{uri}#delete");
    let note = note_of(ctx, conn, author, s).await?;
    // Addressed as the post was, so each server knows who saw it.
    let audience = |key: &str| -> Vec<String> {
        serde_json::from_value(note[key].clone()).unwrap_or_default()
    };
    let activity: Value = Activity::new(
        ActivityKind::Delete,
        &id,
        urls.actor(&author.username),
        Tombstone::new(&uri),
    )
    .to(audience("to"))
    .cc(audience("cc"))
    .into();
    delivery::enqueue(conn, &base, author, &id, &activity, inboxes).await?;
    Ok(())
}

/// Queues a Flag for a report about a remote account, from our instance
/// actor to the account's server; returns the Flag's id.
pub async fn report_forwarded(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    report: &crate::db::models::Report,
    target: &Account,
    statuses: &[Status],
) -> ServiceResult<String> {
    let base = ctx.base_url();
    let id = format!("{base}/reports/{}", report.id);
    let object: Vec<Value> = std::iter::once(Value::from(target.ap_id.clone()))
        .chain(
            statuses
                .iter()
                .filter_map(|s| s.uri.clone())
                .map(Value::from),
        )
        .collect();
    let activity: Value = Activity::new(ActivityKind::Flag, &id, format!("{base}/actor"), object)
        .content(&report.comment)
        .into();
    let inbox = target.shared_inbox_url.clone().or(target.inbox_url.clone());
    delivery::enqueue_signed_by_instance(conn, &base, report.account_id, &id, &activity, inbox)
        .await?;
    Ok(id)
}

/// Queues Follow of a remote account; returns the Follow's id for the row.
pub async fn follow_sent(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    me: &Account,
    target: &Account,
    follow_id: i64,
) -> ServiceResult<String> {
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let id = urls.activity(&me.username, "follow", follow_id);
    let activity: Value = Activity::new(
        ActivityKind::Follow,
        &id,
        urls.actor(&me.username),
        Value::from(target.ap_id.clone()),
    )
    .into();
    delivery::enqueue(conn, &base, me, &id, &activity, target.inbox_url.clone()).await?;
    Ok(id)
}

/// Queues Undo{Follow} of a remote account.
pub async fn unfollow_sent(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    me: &Account,
    target: &Account,
    follow_uri: Option<String>,
) -> ServiceResult<()> {
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let id = urls.activity(&me.username, "undo", ids::next_id());
    let follow = Activity::new(
        ActivityKind::Follow,
        "",
        urls.actor(&me.username),
        Value::from(target.ap_id.clone()),
    )
    .with_id(follow_uri)
    .embedded();
    let activity: Value =
        Activity::new(ActivityKind::Undo, &id, urls.actor(&me.username), follow).into();
    delivery::enqueue(conn, &base, me, &id, &activity, target.inbox_url.clone()).await?;
    Ok(())
}

/// Queues Accept or Reject of a remote follow request.
pub async fn follow_answered(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    me: &Account,
    requester: &Account,
    follow_uri: Option<String>,
    accept: bool,
) -> ServiceResult<()> {
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let kind = if accept {
        ActivityKind::Accept
    } else {
        ActivityKind::Reject
    };
    let id = urls.activity(&me.username, kind.as_str(), ids::next_id());
    let follow = Activity::new(
        ActivityKind::Follow,
        "",
        requester.ap_id.clone().unwrap_or_default(),
        urls.actor(&me.username),
    )
    .with_id(follow_uri)
    .embedded();
    let activity: Value = Activity::new(kind, &id, urls.actor(&me.username), follow).into();
    delivery::enqueue(conn, &base, me, &id, &activity, requester.inbox_url.clone()).await?;
    Ok(())
}

/// Wakes the delivery workers after a commit that queued work.
pub fn wake(ctx: &Ctx) {
    ctx.fed.wake_delivery.notify_one();
}

/// One remote host's delivery state, for `tsunagu federation status`.
pub struct HostStatus {
    pub host: String,
    pub queued: i64,
    pub lag_seconds: Option<i64>,
    pub delivered: i64,
    pub failures: i32,
    pub breaker_open_until: Option<chrono::NaiveDateTime>,
    pub last_error: Option<String>,
    pub last_success_at: Option<chrono::NaiveDateTime>,
}

/// Delivery state per remote host, and inbound activities awaiting processing.
pub async fn status(ctx: &Ctx) -> ServiceResult<(Vec<HostStatus>, i64)> {
    let mut conn = ctx.conn().await?;
    let now = ids::now();
    let mut out = Vec::new();
    for h in db::federation::hosts(&mut conn).await? {
        let queued = db::federation::pending_count(&mut conn, &h.host, h.done_upto).await?;
        let oldest = db::federation::oldest_pending(&mut conn, &h.host, h.done_upto).await?;
        out.push(HostStatus {
            queued,
            lag_seconds: oldest.map(|o| (now - o).num_seconds().max(0)),
            delivered: h.delivered,
            failures: h.failures,
            breaker_open_until: h.next_attempt_at.filter(|t| *t > now),
            last_error: h.last_error,
            last_success_at: h.last_success_at,
            host: h.host,
        });
    }
    let inbound = db::federation::inbound_pending(&mut conn).await?;
    Ok((out, inbound))
}

/// Queues Like (or Undo{Like}) of a remote author's status.
pub async fn like_sent(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    me: &Account,
    s: &Status,
    on: bool,
) -> ServiceResult<()> {
    let Some((author, _)) = db::accounts::find(conn, s.account_id).await? else {
        return Ok(());
    };
    if author.local {
        return Ok(());
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let me_uri = urls.actor(&me.username);
    // The Like's id is stable, so the Undo can name it.
    let like_id = format!("{me_uri}#likes/{}", s.id);
    let like = Activity::new(
        ActivityKind::Like,
        &like_id,
        &me_uri,
        objects::status_uri(&urls, &author, s),
    );
    let (id, activity) = if on {
        (like_id, like.to_json())
    } else {
        let id = urls.activity(&me.username, "undo", ids::next_id());
        let undo = Activity::new(ActivityKind::Undo, &id, &me_uri, like.embedded());
        (id, undo.to_json())
    };
    delivery::enqueue(conn, &base, me, &id, &activity, author.inbox_url.clone()).await?;
    Ok(())
}

/// Queues Announce (or its Undo) of a status: to my followers and its author.
pub async fn announce_sent(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    me: &Account,
    reblog: &Status,
    original: &Status,
    on: bool,
) -> ServiceResult<()> {
    let Some((author, _)) = db::accounts::find(conn, original.account_id).await? else {
        return Ok(());
    };
    let mut inboxes: Vec<String> = db::federation::follower_inboxes(conn, me.id).await?;
    if !author.local {
        inboxes.extend(author.shared_inbox_url.clone().or(author.inbox_url.clone()));
    }
    if inboxes.is_empty() {
        return Ok(());
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let me_uri = urls.actor(&me.username);
    let announce_id = format!("{}/activity", urls.status(&me.username, reblog.id));
    let announce = Activity::new(
        ActivityKind::Announce,
        &announce_id,
        &me_uri,
        objects::status_uri(&urls, &author, original),
    )
    .published(&reblog.created_at)
    .to([objects::PUBLIC])
    .cc([
        objects::account_uri(&urls, &author),
        urls.followers(&me.username),
    ]);
    let (id, activity) = if on {
        (announce_id, announce.to_json())
    } else {
        let id = urls.activity(&me.username, "undo", ids::next_id());
        let undo = Activity::new(ActivityKind::Undo, &id, &me_uri, announce.embedded())
            .to([objects::PUBLIC]);
        (id, undo.to_json())
    };
    delivery::enqueue(conn, &base, me, &id, &activity, inboxes).await?;
    Ok(())
}

/// Queues Update{Person} to my followers' instances after a profile change.
pub async fn profile_updated(ctx: &Ctx, conn: &mut DbConn<'_>, me: &Account) -> ServiceResult<()> {
    let inboxes: Vec<String> = db::federation::follower_inboxes(conn, me.id).await?;
    if inboxes.is_empty() {
        return Ok(());
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let image = |f: &Option<String>| f.as_deref().map(|f| super::media::url(ctx, f));
    let mut actor = objects::actor(&urls, me, image(&me.avatar_file), image(&me.header_file));
    actor.as_object_mut().map(|o| o.remove("@context"));
    if me.actor_type == crate::domain::ActorType::Group {
        super::groups::group_properties(ctx, conn, me, &mut actor).await?;
    }
    let id = urls.activity(&me.username, "update", ids::next_id());
    let activity: Value = Activity::new(ActivityKind::Update, &id, urls.actor(&me.username), actor)
        .with_context(Context::Full)
        .to([objects::PUBLIC])
        .into();
    delivery::enqueue(conn, &base, me, &id, &activity, inboxes).await?;
    Ok(())
}

/// Deletes a local account: its posts, follows and sign-in go, every known
/// instance is told (`Delete` of the actor), and the emptied row stays
/// suspended so the name is never reused for someone else.
pub async fn delete_local_account(ctx: &Ctx, username: &str) -> ServiceResult<()> {
    let account = local_account(ctx, username).await?;
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let uri = urls.actor(&account.username);
    let id = format!("{uri}#delete");
    let activity: Value = Activity::new(ActivityKind::Delete, &id, &uri, uri.as_str())
        .to([objects::PUBLIC])
        .into();
    let mut conn = ctx.conn().await?;
    let attachments = db::media::of_account(&mut conn, account.id).await?;
    conn.transaction(async |tx| {
        let inboxes = db::federation::all_remote_inboxes(tx).await?;
        delivery::enqueue(tx, &base, &account, &id, &activity, inboxes).await?;
        db::federation::erase_local_account(tx, account.id).await?;
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    super::media::account_erased(ctx, attachments).await;
    wake(ctx);
    Ok(())
}

/// The instance actor (`/actor`): signs our fetches; follows nobody.
pub async fn instance_actor_document(ctx: &Ctx) -> ServiceResult<Value> {
    let key = crate::federation::actors::instance_key(ctx).await?;
    let base = ctx.base_url();
    let id = format!("{base}/actor");
    Ok(Actor {
        context: Context::Full,
        id: id.clone(),
        kind: crate::domain::ActorType::Application,
        preferred_username: ctx.config.server.domain.clone(),
        name: ctx.config.instance.title.clone(),
        summary: None,
        url: None,
        inbox: format!("{id}/inbox"),
        outbox: format!("{id}/outbox"),
        followers: None,
        following: None,
        featured: None,
        endpoints: Endpoints {
            shared_inbox: format!("{base}/inbox"),
        },
        manually_approves_followers: true,
        discoverable: None,
        indexable: None,
        published: None,
        attachment: None,
        public_key: PublicKey {
            id: format!("{id}#main-key"),
            owner: id,
            public_key_pem: key.public_pem.clone(),
        },
        icon: None,
        image: None,
    }
    .to_json())
}
