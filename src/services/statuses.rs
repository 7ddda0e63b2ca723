//! Posting and everything people do with statuses: edit, delete, threads,
//! favourites, reblogs, bookmarks and pins. Each change and the notifications
//! it causes are written in one transaction.
use crate::domain::{NotificationKind, Visibility};
use std::collections::HashMap;

use super::views::{self, StatusView};
use super::{Ctx, ServiceError, ServiceResult, streaming, text};
use crate::db::models::{
    Account, Bookmark, Favourite, LocalUser, Notification, Status, StatusEdit, StatusPin,
};
use crate::db::{self, DbConn};
use crate::ids;

pub const MAX_CHARS: usize = 500;
pub const MAX_PINS: usize = 5;
const MAX_ANCESTORS: usize = 40;
const MAX_DESCENDANTS: usize = 400;

#[derive(Debug, Clone, Default)]
pub struct NewStatus {
    pub text: String,
    pub spoiler_text: Option<String>,
    pub visibility: Option<String>,
    pub language: Option<String>,
    pub in_reply_to_id: Option<i64>,
    pub sensitive: Option<bool>,
    pub idempotency_key: Option<String>,
    pub application_id: Option<i64>,
    pub media_ids: Vec<i64>,
    pub poll: Option<super::polls::NewPoll>,
    /// The org the post is addressed to (our `audience` parameter).
    pub audience_id: Option<i64>,
}

/// The row of a reblog (boost) of `of` by `account_id`; `uri` is the remote
/// Announce's id (None for ours).
pub fn reblog_row(account_id: i64, of: i64, visibility: Visibility, uri: Option<String>) -> Status {
    let now = ids::now();
    Status {
        id: ids::next_id(),
        account_id,
        local: uri.is_none(),
        uri,
        url: None,
        text: String::new(),
        content: String::new(),
        spoiler_text: String::new(),
        visibility,
        sensitive: false,
        language: None,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        reblog_of_id: Some(of),
        application_id: None,
        created_at: now,
        updated_at: now,
        edited_at: None,
        audience_id: None,
    }
}

fn validate_text(text: &str, spoiler: &str, has_media: bool) -> ServiceResult<()> {
    if text.trim().is_empty() && !has_media {
        return Err(ServiceError::invalid("text", "ERR_BLANK", "can't be blank"));
    }
    if text.chars().count() + spoiler.chars().count() > MAX_CHARS {
        return Err(ServiceError::invalid(
            "text",
            "ERR_TOO_LONG",
            format!("character limit of {MAX_CHARS} exceeded"),
        ));
    }
    Ok(())
}

/// Resolves the text's mentions to known accounts and renders it.
/// Unknown remote mentions resolved through WebFinger per post.
const MAX_RESOLVED_MENTIONS: usize = 5;

async fn render(ctx: &Ctx, text: &str) -> ServiceResult<(String, Vec<Account>, Vec<String>)> {
    let refs = text::references(text);
    let domain = ctx.config.server.domain.to_lowercase();
    let keys: Vec<String> = refs
        .mentions
        .iter()
        .map(|m| match m.split_once('@') {
            Some((user, host)) if host == domain => user.to_owned(),
            _ => m.clone(),
        })
        .collect();
    let mut conn = ctx.conn().await?;
    let mut found = db::accounts::find_by_acct_keys(&mut conn, &keys).await?;
    // No connection is held while the network is asked.
    drop(conn);
    // Remote people not known yet are looked up (a few per post, as Mastodon does).
    let unknown: Vec<&String> = keys
        .iter()
        .filter(|k| k.contains('@') && !found.iter().any(|a| &a.acct_key == *k))
        .take(MAX_RESOLVED_MENTIONS)
        .collect();
    for key in unknown {
        let Some((user, host)) = key.split_once('@') else {
            continue;
        };
        if let Ok(a) = crate::federation::actors::webfinger(ctx, user, host).await {
            found.push(a);
        }
    }
    let by_key: HashMap<&str, &Account> = found.iter().map(|a| (a.acct_key.as_str(), a)).collect();
    let base = ctx.base_url();
    let resolve = |typed: &str| -> Option<(String, String)> {
        let key = match typed.split_once('@') {
            Some((user, host)) if host == domain => user.to_owned(),
            _ => typed.to_owned(),
        };
        by_key
            .get(key.as_str())
            .map(|a| (profile_url(&base, a), a.username.clone()))
    };
    let html = text::render_status(text, &resolve, &base);
    Ok((html, found, refs.tags))
}

pub fn profile_url(base: &str, a: &Account) -> String {
    if a.local {
        format!("{base}/@{}", a.username)
    } else {
        // Rows stored before URLs were checked may hold anything: only a web
        // address is ever rendered as a link.
        [&a.profile_url, &a.ap_id]
            .into_iter()
            .flatten()
            .find(|u| crate::federation::actors::is_web_url(u))
            .cloned()
            .unwrap_or_default()
    }
}

fn notification(
    recipient: i64,
    from: i64,
    kind: NotificationKind,
    status_id: Option<i64>,
) -> Notification {
    Notification {
        id: ids::next_id(),
        account_id: recipient,
        from_account_id: from,
        kind,
        status_id,
        created_at: ids::now(),
    }
}

pub async fn create(ctx: &Ctx, me: &LocalUser, new: NewStatus) -> ServiceResult<StatusView> {
    create_as(ctx, me, &me.account, new).await
}

/// Posts as `author`: the person themselves, or an org whose office `me`
/// acts for (checked by the caller). `me` supplies the posting defaults and
/// owns the attached media.
pub async fn create_as(
    ctx: &Ctx,
    me: &LocalUser,
    author: &Account,
    new: NewStatus,
) -> ServiceResult<StatusView> {
    if let Some(key) = new.idempotency_key.as_deref().filter(|k| !k.is_empty()) {
        let mut conn = ctx.conn().await?;
        let earlier = match db::statuses::idempotent_status(&mut conn, author.id, key).await? {
            Some(id) => db::statuses::find(&mut conn, id).await?,
            None => None,
        };
        drop(conn);
        if let Some(s) = earlier {
            return views::status(ctx, Some(author.id), s).await;
        }
    }
    let spoiler = new.spoiler_text.clone().unwrap_or_default();
    validate_text(&new.text, &spoiler, !new.media_ids.is_empty())?;
    let media_ids = super::media::for_status(ctx, me, &new.media_ids, None).await?;
    if new.poll.is_some() && !media_ids.is_empty() {
        return Err(ServiceError::invalid(
            "poll",
            "ERR_INVALID",
            "a post with a poll cannot have attachments",
        ));
    }
    let visibility = match new.visibility.as_deref().filter(|v| !v.is_empty()) {
        None => me.user.default_privacy,
        Some(v) => v.parse::<Visibility>().map_err(|_| {
            ServiceError::invalid(
                "visibility",
                "ERR_INCLUSION",
                format!("must be {}", Visibility::allowed()),
            )
        })?,
    };
    let language = new
        .language
        .clone()
        .filter(|l| !l.is_empty())
        .or_else(|| me.user.default_language.clone());
    if let Some(l) = &language
        && !super::accounts::is_language_code(l)
    {
        return Err(ServiceError::invalid(
            "language",
            "ERR_INVALID",
            "is not a language code",
        ));
    }
    let parent = match new.in_reply_to_id {
        Some(pid) => {
            let mut conn = ctx.conn().await?;
            Some(
                db::statuses::find_visible(&mut conn, pid, Some(author.id))
                    .await?
                    .ok_or_else(ServiceError::not_found)?,
            )
        }
        None => None,
    };
    if parent.as_ref().is_some_and(|p| p.reblog_of_id.is_some()) {
        return Err(ServiceError::invalid(
            "in_reply_to_id",
            "ERR_INVALID",
            "cannot reply to a reblog",
        ));
    }
    let (content, mentioned, tags) = render(ctx, &new.text).await?;
    let mut conn = ctx.conn().await?;
    let (visibility, audience) = super::groups::audience_for(
        &mut conn,
        author.id,
        new.audience_id,
        visibility,
        &mentioned,
    )
    .await?;
    let now = ids::now();
    let status = Status {
        id: ids::next_id(),
        account_id: author.id,
        uri: None,
        url: None,
        text: new.text.clone(),
        content,
        spoiler_text: spoiler,
        visibility,
        sensitive: new.sensitive.unwrap_or(me.user.default_sensitive)
            || new.spoiler_text.as_deref().is_some_and(|s| !s.is_empty()),
        language,
        in_reply_to_id: parent.as_ref().map(|p| p.id),
        in_reply_to_account_id: parent.as_ref().map(|p| p.account_id),
        reblog_of_id: None,
        application_id: new.application_id,
        local: true,
        created_at: now,
        updated_at: now,
        edited_at: None,
        audience_id: audience.as_ref().map(|a| a.id),
    };
    let poll = match &new.poll {
        Some(p) => Some(super::polls::prepare(p, status.id)?),
        None => None,
    };
    let mention_ids: Vec<i64> = mentioned.iter().map(|a| a.id).collect();
    let local_mentioned: Vec<i64> = mentioned
        .iter()
        .filter(|a| a.local && a.id != author.id)
        .map(|a| a.id)
        .collect();
    let key = new.idempotency_key.clone().filter(|k| !k.is_empty());
    let author_id = author.id;
    let created = conn
        .transaction(async |tx| {
            let s = db::statuses::insert(tx, &status).await?;
            db::statuses::set_mentions(tx, s.id, &mention_ids).await?;
            db::statuses::set_tags(tx, s.id, &tags, now).await?;
            db::media::attach(tx, s.id, &media_ids).await?;
            if let Some(p) = &poll {
                db::polls::insert(tx, p).await?;
            }
            let mut notes = Vec::new();
            for recipient in &local_mentioned {
                notes.push(notification(
                    *recipient,
                    author_id,
                    NotificationKind::Mention,
                    Some(s.id),
                ));
            }
            if !matches!(visibility, Visibility::Direct | Visibility::Members) {
                for follower in db::social::notify_followers(tx, author_id).await? {
                    if !local_mentioned.contains(&follower) {
                        notes.push(notification(
                            follower,
                            author_id,
                            NotificationKind::Status,
                            Some(s.id),
                        ));
                    }
                }
            }
            for n in &notes {
                db::notifications::insert(tx, n).await?;
            }
            let mut root_of_thread = None;
            if visibility == Visibility::Direct {
                // Each local participant's conversation, keyed by the thread's first direct status.
                let root = match s.in_reply_to_id {
                    Some(p) => db::lists::conversation_root_of(tx, p).await?.unwrap_or(p),
                    None => s.id,
                };
                root_of_thread = Some(root);
                let mut people = local_mentioned.clone();
                people.push(author_id);
                for person in people {
                    let row = crate::db::models::Conversation {
                        id: ids::next_id(),
                        account_id: person,
                        root_status_id: root,
                        last_status_id: s.id,
                        unread: person != author_id,
                        updated_at: now,
                    };
                    db::lists::upsert_conversation(tx, &row).await?;
                }
            }
            if let Some(k) = &key {
                db::statuses::remember_idempotency(tx, author_id, k, s.id, now).await?;
            }
            super::federation::status_published(ctx, tx, author, &s, false).await?;
            let announced = match &audience {
                Some(org) if org.id != author.id => {
                    super::groups::announce_into(ctx, tx, org, author, &s).await?
                }
                _ => None,
            };
            Ok::<_, ServiceError>((s, notes, root_of_thread, announced))
        })
        .await?;
    drop(conn);
    super::federation::wake(ctx);
    let (created, notes, root, announced) = created;
    let streams = streaming::status_streams(ctx, &created, &local_mentioned, &tags).await?;
    ctx.hub
        .publish(streams, streaming::Payload::Status(created.id));
    if let Some(r) = announced {
        let streams = streaming::status_streams(ctx, &r, &[], &[]).await?;
        ctx.hub.publish(streams, streaming::Payload::Status(r.id));
    }
    streaming::notifications(ctx, &notes);
    if let Some(root) = root {
        let mut people = local_mentioned.clone();
        people.push(author_id);
        ctx.hub.publish(
            people.into_iter().map(streaming::Stream::Direct).collect(),
            streaming::Payload::Conversation(root),
        );
    }
    views::status(ctx, Some(author.id), created).await
}

/// A status the viewer may see.
pub async fn get(ctx: &Ctx, viewer: Option<i64>, id: i64) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = db::statuses::find_visible(&mut conn, id, viewer)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    drop(conn);
    views::status(ctx, viewer, s).await
}

async fn own(conn: &mut DbConn<'_>, me: &LocalUser, id: i64) -> ServiceResult<Status> {
    match db::statuses::find(conn, id).await? {
        Some(s) if s.account_id == me.account.id && s.reblog_of_id.is_none() => Ok(s),
        _ => Err(ServiceError::not_found()),
    }
}

/// Deletes one's own status; the returned view keeps the source text (delete and redraft).
pub async fn delete(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    delete_media: bool,
) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = own(&mut conn, me, id).await?;
    let attachments = db::media::of_statuses(&mut conn, &[id]).await?;
    drop(conn);
    let view = views::status(ctx, Some(me.account.id), s.clone()).await?;
    let deletion = streaming::deletion(ctx, &s).await?;
    let mut conn = ctx.conn().await?;
    conn.transaction(async |tx| {
        // The Delete names the same audience, so it is queued before the rows go.
        super::federation::status_deleted(ctx, tx, &me.account, &s).await?;
        db::statuses::delete(tx, id).await?;
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    super::media::status_deleted(ctx, attachments, delete_media).await;
    super::federation::wake(ctx);
    deletion.publish(ctx);
    Ok(view)
}

#[derive(Debug, Clone, Default)]
pub struct StatusUpdate {
    pub text: String,
    pub spoiler_text: Option<String>,
    pub sensitive: Option<bool>,
    pub language: Option<String>,
    /// None keeps the attachments as they are.
    pub media_ids: Option<Vec<i64>>,
}

pub async fn edit(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    up: StatusUpdate,
) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let mut s = own(&mut conn, me, id).await?;
    let attached = db::media::of_statuses(&mut conn, &[s.id]).await?;
    drop(conn);
    let spoiler = up
        .spoiler_text
        .clone()
        .unwrap_or_else(|| s.spoiler_text.clone());
    let media_ids = match &up.media_ids {
        Some(ids) => Some(super::media::for_status(ctx, me, ids, Some(s.id)).await?),
        None => None,
    };
    let keeps_media = match &media_ids {
        Some(ids) => !ids.is_empty(),
        None => !attached.is_empty(),
    };
    validate_text(&up.text, &spoiler, keeps_media)?;
    if let Some(l) = up.language.as_ref().filter(|l| !l.is_empty())
        && !super::accounts::is_language_code(l)
    {
        return Err(ServiceError::invalid(
            "language",
            "ERR_INVALID",
            "is not a language code",
        ));
    }
    let (content, mentioned, tags) = render(ctx, &up.text).await?;
    let now = ids::now();
    let original = s.clone();
    s.text = up.text;
    s.content = content;
    s.spoiler_text = spoiler;
    s.sensitive = up.sensitive.unwrap_or(s.sensitive);
    if let Some(l) = up.language.filter(|l| !l.is_empty()) {
        s.language = Some(l);
    }
    s.updated_at = now;
    s.edited_at = Some(now);
    let mention_ids: Vec<i64> = mentioned.iter().map(|a| a.id).collect();
    let version = |st: &Status, at| StatusEdit {
        id: ids::next_id(),
        status_id: st.id,
        text: st.text.clone(),
        content: st.content.clone(),
        spoiler_text: st.spoiler_text.clone(),
        sensitive: st.sensitive,
        created_at: at,
    };
    let author_id = me.account.id;
    let mut conn = ctx.conn().await?;
    let updated = conn
        .transaction(async |tx| {
            if db::statuses::edits(tx, original.id).await?.is_empty() {
                db::statuses::insert_edit(tx, &version(&original, original.created_at)).await?;
            }
            let updated = db::statuses::update_content(tx, &s).await?;
            db::statuses::insert_edit(tx, &version(&updated, now)).await?;
            db::statuses::set_mentions(tx, updated.id, &mention_ids).await?;
            db::statuses::set_tags(tx, updated.id, &tags, now).await?;
            if let Some(ids) = &media_ids {
                db::media::attach(tx, updated.id, ids).await?;
            }
            // People who boosted it should know it changed.
            let mut notes = Vec::new();
            for booster in db::statuses::local_rebloggers(tx, updated.id).await? {
                if booster != author_id {
                    let n = notification(
                        booster,
                        author_id,
                        NotificationKind::Update,
                        Some(updated.id),
                    );
                    db::notifications::insert(tx, &n).await?;
                    notes.push(n);
                }
            }
            super::federation::status_published(ctx, tx, &me.account, &updated, true).await?;
            Ok::<_, ServiceError>((updated, notes))
        })
        .await?;
    drop(conn);
    super::federation::wake(ctx);
    let (updated, notes) = updated;
    let local_mentioned: Vec<i64> = mentioned
        .iter()
        .filter(|a| a.local && a.id != author_id)
        .map(|a| a.id)
        .collect();
    let streams = streaming::status_streams(ctx, &updated, &local_mentioned, &tags).await?;
    ctx.hub
        .publish(streams, streaming::Payload::StatusUpdate(updated.id));
    streaming::notifications(ctx, &notes);
    views::status(ctx, Some(me.account.id), updated).await
}

/// Every version, oldest first (just the current one if never edited).
pub async fn history(
    ctx: &Ctx,
    viewer: Option<i64>,
    id: i64,
) -> ServiceResult<(StatusView, Vec<StatusEdit>)> {
    let view = get(ctx, viewer, id).await?;
    let mut conn = ctx.conn().await?;
    let edits = db::statuses::edits(&mut conn, id).await?;
    Ok((view, edits))
}

pub async fn source(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<Status> {
    let mut conn = ctx.conn().await?;
    own(&mut conn, me, id).await
}

/// Ancestors (oldest first) and descendants (thread order) the viewer may see,
/// both bounded so a hostile thread cannot make this unbounded work.
pub async fn context(
    ctx: &Ctx,
    viewer: Option<i64>,
    id: i64,
) -> ServiceResult<(Vec<StatusView>, Vec<StatusView>)> {
    let mut conn = ctx.conn().await?;
    let start = db::statuses::find_visible(&mut conn, id, viewer)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    let mut ancestors = Vec::new();
    let mut next = start.in_reply_to_id;
    while let Some(pid) = next {
        if ancestors.len() >= MAX_ANCESTORS {
            break;
        }
        match db::statuses::find_visible(&mut conn, pid, viewer).await? {
            Some(p) => {
                next = p.in_reply_to_id;
                ancestors.push(p);
            }
            None => break,
        }
    }
    ancestors.reverse();
    // Breadth-first by level, then arranged depth-first so replies follow their parent.
    let mut children: HashMap<i64, Vec<Status>> = HashMap::new();
    let mut frontier = vec![start.id];
    let mut total = 0;
    while !frontier.is_empty() && total < MAX_DESCENDANTS {
        let level = db::statuses::replies_to(&mut conn, &frontier).await?;
        frontier = level.iter().map(|s| s.id).collect();
        total += level.len();
        for s in level {
            if let Some(p) = s.in_reply_to_id {
                children.entry(p).or_default().push(s);
            }
        }
    }
    let mut ordered = Vec::new();
    let mut stack: Vec<Status> = children
        .remove(&start.id)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .collect();
    while let Some(s) = stack.pop() {
        if let Some(kids) = children.remove(&s.id) {
            stack.extend(kids.into_iter().rev());
        }
        ordered.push(s);
    }
    let visible_ids: std::collections::HashSet<i64> = {
        let ids: Vec<i64> = ordered.iter().map(|s| s.id).collect();
        db::statuses::filter_visible(&mut conn, &ids, viewer)
            .await?
            .into_iter()
            .collect()
    };
    ordered.retain(|s| visible_ids.contains(&s.id));
    drop(conn);
    let (ancestors, descendants) = (
        views::statuses(ctx, viewer, ancestors).await?,
        views::statuses(ctx, viewer, ordered).await?,
    );
    match viewer {
        Some(v) => Ok((
            super::organize::apply_filters(ctx, v, crate::domain::FilterContext::Thread, ancestors)
                .await?,
            super::organize::apply_filters(
                ctx,
                v,
                crate::domain::FilterContext::Thread,
                descendants,
            )
            .await?,
        )),
        None => Ok((ancestors, descendants)),
    }
}

/// The status to act on: visible to the actor, and the original when given a reblog.
async fn target(conn: &mut DbConn<'_>, me: &LocalUser, id: i64) -> ServiceResult<Status> {
    let s = db::statuses::find_visible(conn, id, Some(me.account.id))
        .await?
        .ok_or_else(ServiceError::not_found)?;
    match s.reblog_of_id {
        Some(orig) => db::statuses::find_visible(conn, orig, Some(me.account.id))
            .await?
            .ok_or_else(ServiceError::not_found),
        None => Ok(s),
    }
}

pub async fn favourite(ctx: &Ctx, me: &LocalUser, id: i64, on: bool) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = target(&mut conn, me, id).await?;
    let (actor, author, sid) = (me.account.id, s.account_id, s.id);
    let note = notification(author, actor, NotificationKind::Favourite, Some(sid));
    let notified = conn
        .transaction(async |tx| {
            if on {
                let fav = Favourite {
                    id: ids::next_id(),
                    account_id: actor,
                    status_id: sid,
                    created_at: ids::now(),
                };
                if db::social::favourite::add(tx, &fav).await? {
                    super::federation::like_sent(ctx, tx, &me.account, &s, true).await?;
                    if author != actor && is_local(tx, author).await? {
                        db::notifications::insert(tx, &note).await?;
                        return Ok::<_, ServiceError>(true);
                    }
                }
            } else if db::social::favourite::remove(tx, actor, sid).await? > 0 {
                super::federation::like_sent(ctx, tx, &me.account, &s, false).await?;
                db::notifications::retract(
                    tx,
                    author,
                    actor,
                    crate::domain::NotificationKind::Favourite,
                    Some(sid),
                )
                .await?;
            }
            Ok(false)
        })
        .await?;
    super::federation::wake(ctx);
    if notified {
        streaming::notifications(ctx, std::slice::from_ref(&note));
    }
    drop(conn);
    views::status(ctx, Some(actor), s).await
}

async fn is_local(conn: &mut DbConn<'_>, account_id: i64) -> ServiceResult<bool> {
    Ok(db::accounts::find(conn, account_id)
        .await?
        .is_some_and(|(a, _)| a.local))
}

pub async fn bookmark(ctx: &Ctx, me: &LocalUser, id: i64, on: bool) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = target(&mut conn, me, id).await?;
    if on {
        let b = Bookmark {
            id: ids::next_id(),
            account_id: me.account.id,
            status_id: s.id,
            created_at: ids::now(),
        };
        db::social::bookmark::add(&mut conn, &b).await?;
    } else {
        db::social::bookmark::remove(&mut conn, me.account.id, s.id).await?;
    }
    drop(conn);
    views::status(ctx, Some(me.account.id), s).await
}

pub async fn pin(ctx: &Ctx, me: &LocalUser, id: i64, on: bool) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = own(&mut conn, me, id).await?;
    if on {
        if s.visibility == Visibility::Direct {
            return Err(ServiceError::invalid(
                "status",
                "ERR_INVALID",
                "direct posts cannot be pinned",
            ));
        }
        let pinned = db::timelines::pinned(
            &mut conn,
            Some(me.account.id),
            me.account.id,
            MAX_PINS as i64 + 1,
        )
        .await?;
        if pinned.len() >= MAX_PINS && !pinned.iter().any(|p| p.id == s.id) {
            return Err(ServiceError::invalid(
                "status",
                "ERR_LIMIT_REACHED",
                "You have already pinned the maximum number of posts",
            ));
        }
        let p = StatusPin {
            id: ids::next_id(),
            account_id: me.account.id,
            status_id: s.id,
            created_at: ids::now(),
        };
        db::social::pin::add(&mut conn, &p).await?;
    } else {
        db::social::pin::remove(&mut conn, me.account.id, s.id).await?;
    }
    drop(conn);
    views::status(ctx, Some(me.account.id), s).await
}

/// Reblogs (boosts) a status; returns the reblog, which wraps the original.
pub async fn reblog(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    visibility: Option<String>,
) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = target(&mut conn, me, id).await?;
    let actor = me.account.id;
    let own_private = s.visibility == Visibility::Private && s.account_id == actor;
    if !(s.visibility.is_open() || own_private) {
        return Err(ServiceError::Forbidden("This action is not allowed".into()));
    }
    if let Some(existing) = db::statuses::reblog_by(&mut conn, actor, s.id).await? {
        drop(conn);
        return views::status(ctx, Some(actor), existing).await;
    }
    let asked = match visibility.as_deref().filter(|v| !v.is_empty()) {
        None => Visibility::Public,
        Some(v) => match v.parse::<Visibility>() {
            Ok(v @ (Visibility::Public | Visibility::Unlisted | Visibility::Private)) => v,
            Ok(Visibility::Direct | Visibility::Members) | Err(_) => {
                return Err(ServiceError::invalid(
                    "visibility",
                    "ERR_INCLUSION",
                    "must be public, unlisted or private",
                ));
            }
        },
    };
    // A reblog is never wider than its original (an author boosting their own
    // followers-only post reaches the same followers, as on Mastodon).
    let visibility = asked.narrower(s.visibility);
    let row = reblog_row(actor, s.id, visibility, None);
    let author = s.account_id;
    let created = conn
        .transaction(async |tx| {
            let r = db::statuses::insert(tx, &row).await?;
            let mut notes = Vec::new();
            if author != actor && is_local(tx, author).await? {
                notes.push(notification(
                    author,
                    actor,
                    NotificationKind::Reblog,
                    Some(s.id),
                ));
                db::notifications::insert(tx, &notes[0]).await?;
            }
            if r.visibility != Visibility::Private {
                super::federation::announce_sent(ctx, tx, &me.account, &r, &s, true).await?;
            }
            Ok::<_, ServiceError>((r, notes))
        })
        .await?;
    drop(conn);
    super::federation::wake(ctx);
    let (created, notes) = created;
    let streams = streaming::status_streams(ctx, &created, &[], &[]).await?;
    ctx.hub
        .publish(streams, streaming::Payload::Status(created.id));
    streaming::notifications(ctx, &notes);
    views::status(ctx, Some(actor), created).await
}

/// Undoes a reblog; returns the original.
pub async fn unreblog(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<StatusView> {
    let mut conn = ctx.conn().await?;
    let s = target(&mut conn, me, id).await?;
    let actor = me.account.id;
    let reblog = db::statuses::reblog_by(&mut conn, actor, s.id).await?;
    drop(conn);
    if let Some(r) = reblog {
        let (rid, author, sid) = (r.id, s.account_id, s.id);
        let deletion = streaming::deletion(ctx, &r).await?;
        let mut conn = ctx.conn().await?;
        conn.transaction(async |tx| {
            if r.visibility != Visibility::Private {
                super::federation::announce_sent(ctx, tx, &me.account, &r, &s, false).await?;
            }
            db::statuses::delete(tx, rid).await?;
            db::notifications::retract(
                tx,
                author,
                actor,
                crate::domain::NotificationKind::Reblog,
                Some(sid),
            )
            .await?;
            Ok::<_, ServiceError>(())
        })
        .await?;
        super::federation::wake(ctx);
        deletion.publish(ctx);
    }
    views::status(ctx, Some(actor), s).await
}

/// Who favourited or reblogged a status the viewer may see: (paging id, account).
pub async fn favourited_by(
    ctx: &Ctx,
    viewer: Option<i64>,
    id: i64,
    page: db::statuses::Page,
) -> ServiceResult<Vec<(i64, super::views::AccountView)>> {
    let mut conn = ctx.conn().await?;
    db::statuses::find_visible(&mut conn, id, viewer)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    let rows = db::social::favourite::by_status(&mut conn, id, page).await?;
    drop(conn);
    super::social::with_views(ctx, super::timelines::in_order(rows, page)).await
}

pub async fn reblogged_by(
    ctx: &Ctx,
    viewer: Option<i64>,
    id: i64,
    page: db::statuses::Page,
) -> ServiceResult<Vec<(i64, super::views::AccountView)>> {
    let mut conn = ctx.conn().await?;
    db::statuses::find_visible(&mut conn, id, viewer)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    let rows = db::statuses::rebloggers(&mut conn, id, page).await?;
    drop(conn);
    super::social::with_views(ctx, super::timelines::in_order(rows, page)).await
}
