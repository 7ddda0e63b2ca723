//! Posting: checking and rendering (mentions, tags, links) a new post; storing it and its side
//! effects is the shared pipeline's (`pipeline.rs`).
use super::*;

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
        parent.as_ref(),
    )
    .await?;
    crate::services::groups::community_allows(
        &mut conn,
        author.id,
        parent.as_ref(),
        audience.as_ref(),
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
    let posted = pipeline::persist(
        ctx,
        &mut conn,
        pipeline::NewPost {
            author,
            status,
            mentions: &mentioned,
            tags,
            media: pipeline::PostMedia::Uploaded(media_ids),
            poll,
            shared_into: audience.as_ref(),
            idempotency_key: new.idempotency_key.clone().filter(|k| !k.is_empty()),
        },
    )
    .await?;
    drop(conn);
    pipeline::surface(ctx, &posted).await?;
    let created = posted.status;
    views::status(ctx, Some(author.id), created).await
}
