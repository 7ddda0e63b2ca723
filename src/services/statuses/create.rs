//! Posting: checking, rendering (mentions, tags, links), and storing a new post with its side
//! effects (notifications, streams, delivery).
use super::*;
use crate::services::remote::Outgoing;

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
    pub poll: Option<crate::services::polls::NewPoll>,
    /// The org the post is addressed to (our `audience` parameter).
    pub audience_id: Option<i64>,
}

pub(super) fn validate_text(text: &str, spoiler: &str, has_media: bool) -> ServiceResult<()> {
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
pub(super) const MAX_RESOLVED_MENTIONS: usize = 5;

pub(super) async fn render(
    ctx: &Ctx,
    text: &str,
) -> ServiceResult<(String, Vec<Account>, Vec<String>)> {
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
        if let Ok(a) = ctx.fed.account_by_acct(ctx, user, host).await {
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
            .find(|u| crate::services::text::is_web_url(u))
            .cloned()
            .unwrap_or_default()
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
    let media_ids = crate::services::media::for_status(ctx, me, &new.media_ids, None).await?;
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
        && !crate::services::accounts::is_language_code(l)
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
    let (visibility, audience) = crate::services::groups::audience_for(
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
        Some(p) => Some(crate::services::polls::prepare(p, status.id)?),
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
            ctx.federate(
                tx,
                Outgoing::StatusPublished {
                    author,
                    status: &s,
                    edited: false,
                },
            )
            .await?;
            let announced = match &audience {
                Some(org) if org.id != author.id => {
                    crate::services::groups::org_shares(ctx, tx, org, author, &s).await?
                }
                _ => None,
            };
            Ok::<_, ServiceError>((s, notes, root_of_thread, announced))
        })
        .await?;
    drop(conn);
    ctx.wake_delivery();
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
