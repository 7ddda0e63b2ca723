//! What people use to organise their reading: lists, filters, markers,
//! featured tags, blocks and mutes, direct-message conversations, and the
//! instance's announcements.
use chrono::Duration;

use super::views::{self, AccountView, StatusView};
use super::{Ctx, ServiceError, ServiceResult, accounts, social, text};
use crate::db::models::{
    Announcement, Conversation, Filter, FilterKeyword, List, LocalUser, Marker,
};
use crate::db::statuses::Page;
use crate::db::{self};
use crate::domain::{FilterAction, FilterContext, RepliesPolicy};
use crate::ids;

// ---- lists ----

pub async fn lists(ctx: &Ctx, me: &LocalUser) -> ServiceResult<Vec<List>> {
    let mut conn = ctx.conn().await?;
    Ok(db::lists::own_lists(&mut conn, me.account.id).await?)
}

pub async fn list(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<List> {
    let mut conn = ctx.conn().await?;
    db::lists::find_list(&mut conn, me.account.id, id)
        .await?
        .ok_or_else(ServiceError::not_found)
}

fn check_list(title: &str) -> ServiceResult<()> {
    if title.trim().is_empty() {
        return Err(ServiceError::invalid(
            "title",
            "ERR_BLANK",
            "can't be blank",
        ));
    }
    if title.chars().count() > 100 {
        return Err(ServiceError::invalid(
            "title",
            "ERR_TOO_LONG",
            "is too long (maximum is 100 characters)",
        ));
    }
    Ok(())
}

pub async fn save_list(
    ctx: &Ctx,
    me: &LocalUser,
    id: Option<i64>,
    title: Option<String>,
    policy: Option<String>,
    exclusive: Option<bool>,
) -> ServiceResult<List> {
    let mut l = match id {
        Some(id) => list(ctx, me, id).await?,
        None => List {
            id: ids::next_id(),
            account_id: me.account.id,
            title: String::new(),
            replies_policy: RepliesPolicy::List,
            exclusive: false,
            created_at: ids::now(),
        },
    };
    if let Some(t) = title {
        l.title = t.trim().to_owned();
    }
    if let Some(p) = policy {
        l.replies_policy = p.parse().map_err(|_| {
            ServiceError::invalid(
                "replies_policy",
                "ERR_INCLUSION",
                format!("must be {}", RepliesPolicy::allowed()),
            )
        })?;
    }
    if let Some(e) = exclusive {
        l.exclusive = e;
    }
    check_list(&l.title)?;
    let mut conn = ctx.conn().await?;
    if id.is_some() {
        db::lists::update_list(&mut conn, &l).await?;
    } else {
        db::lists::insert_list(&mut conn, &l).await?;
    }
    Ok(l)
}

pub async fn delete_list(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<()> {
    let l = list(ctx, me, id).await?;
    let mut conn = ctx.conn().await?;
    db::lists::delete_list(&mut conn, l.id).await?;
    Ok(())
}

/// Adds accounts to a list; as on Mastodon, only accounts one follows.
pub async fn add_to_list(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    account_ids: &[i64],
) -> ServiceResult<()> {
    let l = list(ctx, me, id).await?;
    let rels = social::relationships(ctx, me.account.id, account_ids).await?;
    if let Some(r) = rels.iter().find(|r| !r.following) {
        return Err(ServiceError::invalid(
            "account_ids",
            "ERR_INVALID",
            format!("you must follow {} to add them to a list", r.id),
        ));
    }
    let mut conn = ctx.conn().await?;
    db::lists::add_to_list(&mut conn, l.id, account_ids).await?;
    Ok(())
}

pub async fn remove_from_list(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    account_ids: &[i64],
) -> ServiceResult<()> {
    let l = list(ctx, me, id).await?;
    let mut conn = ctx.conn().await?;
    db::lists::remove_from_list(&mut conn, l.id, account_ids).await?;
    Ok(())
}

pub async fn list_members(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    page: Page,
) -> ServiceResult<Vec<(i64, AccountView)>> {
    let l = list(ctx, me, id).await?;
    let mut conn = ctx.conn().await?;
    let rows = db::lists::list_members(&mut conn, l.id, page).await?;
    drop(conn);
    social::with_views(ctx, super::timelines::in_order(rows, page)).await
}

pub async fn lists_with(ctx: &Ctx, me: &LocalUser, account_id: i64) -> ServiceResult<Vec<List>> {
    accounts::get(ctx, account_id).await?;
    let mut conn = ctx.conn().await?;
    Ok(db::lists::lists_with(&mut conn, me.account.id, account_id).await?)
}

pub async fn list_timeline(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    page: Page,
) -> ServiceResult<Vec<StatusView>> {
    let l = list(ctx, me, id).await?;
    let mut conn = ctx.conn().await?;
    let rows = db::lists::list_timeline(&mut conn, me.account.id, l.id, page).await?;
    drop(conn);
    let views = views::statuses(
        ctx,
        Some(me.account.id),
        super::timelines::in_order(rows, page),
    )
    .await?;
    apply_filters(ctx, me.account.id, FilterContext::Home, views).await
}

// ---- filters ----

#[derive(Debug, Clone)]
pub struct FilterView {
    pub filter: Filter,
    pub keywords: Vec<FilterKeyword>,
}

impl FilterView {
    /// The contexts it applies in (unknown stored words are skipped).
    pub fn contexts(&self) -> Vec<FilterContext> {
        self.filter
            .contexts
            .split(' ')
            .filter_map(FilterContext::parse)
            .collect()
    }
}

/// A filter that matched a status, and the keywords that did.
#[derive(Debug, Clone)]
pub struct FilterMatch {
    pub filter: FilterView,
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct FilterInput {
    pub title: Option<String>,
    pub context: Option<Vec<String>>,
    pub action: Option<String>,
    pub expires_in: Option<i64>,
    /// (keyword, whole word) to add.
    pub keywords: Vec<(String, bool)>,
}

pub async fn filters(ctx: &Ctx, me: &LocalUser) -> ServiceResult<Vec<FilterView>> {
    let mut conn = ctx.conn().await?;
    Ok(db::lists::own_filters(&mut conn, me.account.id)
        .await?
        .into_iter()
        .map(|(filter, keywords)| FilterView { filter, keywords })
        .collect())
}

pub async fn filter(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<FilterView> {
    filters(ctx, me)
        .await?
        .into_iter()
        .find(|f| f.filter.id == id)
        .ok_or_else(ServiceError::not_found)
}

fn check_contexts(ctxs: &[String]) -> ServiceResult<String> {
    if ctxs.is_empty() {
        return Err(ServiceError::invalid(
            "context",
            "ERR_BLANK",
            "can't be blank",
        ));
    }
    if let Some(bad) = ctxs.iter().find(|c| FilterContext::parse(c).is_none()) {
        return Err(ServiceError::invalid(
            "context",
            "ERR_INCLUSION",
            format!("{bad:?} is not one of {}", FilterContext::allowed()),
        ));
    }
    Ok(ctxs.join(" "))
}

fn check_keyword(k: &str) -> ServiceResult<()> {
    if k.trim().is_empty() {
        return Err(ServiceError::invalid(
            "keyword",
            "ERR_BLANK",
            "can't be blank",
        ));
    }
    if k.chars().count() > 100 {
        return Err(ServiceError::invalid(
            "keyword",
            "ERR_TOO_LONG",
            "is too long (maximum is 100 characters)",
        ));
    }
    Ok(())
}

pub async fn save_filter(
    ctx: &Ctx,
    me: &LocalUser,
    id: Option<i64>,
    input: FilterInput,
) -> ServiceResult<FilterView> {
    let existing = match id {
        Some(id) => Some(filter(ctx, me, id).await?),
        None => None,
    };
    let now = ids::now();
    let mut f = existing
        .as_ref()
        .map(|e| e.filter.clone())
        .unwrap_or(Filter {
            id: ids::next_id(),
            account_id: me.account.id,
            title: String::new(),
            contexts: String::new(),
            action: FilterAction::Warn,
            expires_at: None,
            created_at: now,
        });
    if let Some(t) = input.title {
        f.title = t.trim().to_owned();
    }
    if f.title.is_empty() {
        return Err(ServiceError::invalid(
            "title",
            "ERR_BLANK",
            "can't be blank",
        ));
    }
    if let Some(c) = &input.context {
        f.contexts = check_contexts(c)?;
    } else if existing.is_none() {
        return Err(ServiceError::invalid(
            "context",
            "ERR_BLANK",
            "can't be blank",
        ));
    }
    if let Some(a) = input.action {
        f.action = a.parse().map_err(|_| {
            ServiceError::invalid(
                "filter_action",
                "ERR_INCLUSION",
                format!("must be {}", FilterAction::allowed()),
            )
        })?;
    }
    if let Some(secs) = input.expires_in {
        f.expires_at = super::expiry_after("expires_in", secs)?;
    }
    let mut new_keywords = Vec::new();
    for (k, whole) in input.keywords {
        check_keyword(&k)?;
        new_keywords.push(FilterKeyword {
            id: ids::next_id(),
            filter_id: f.id,
            keyword: k.trim().to_owned(),
            whole_word: whole,
        });
    }
    let mut conn = ctx.conn().await?;
    let is_new = existing.is_none();
    conn.transaction(async |tx| {
        if is_new {
            db::lists::insert_filter(tx, &f, &new_keywords).await?;
        } else {
            db::lists::update_filter(tx, &f).await?;
            for k in &new_keywords {
                db::lists::insert_keyword(tx, k).await?;
            }
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    filter(ctx, me, f.id).await
}

pub async fn delete_filter(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<()> {
    let f = filter(ctx, me, id).await?;
    let mut conn = ctx.conn().await?;
    db::lists::delete_filter(&mut conn, f.filter.id).await?;
    Ok(())
}

/// One's own keyword by id (with its filter).
pub async fn keyword(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
) -> ServiceResult<(FilterView, FilterKeyword)> {
    for f in filters(ctx, me).await? {
        if let Some(k) = f.keywords.iter().find(|k| k.id == id).cloned() {
            return Ok((f, k));
        }
    }
    Err(ServiceError::not_found())
}

pub async fn add_keyword(
    ctx: &Ctx,
    me: &LocalUser,
    filter_id: i64,
    word: String,
    whole: bool,
) -> ServiceResult<FilterKeyword> {
    let f = filter(ctx, me, filter_id).await?;
    check_keyword(&word)?;
    let k = FilterKeyword {
        id: ids::next_id(),
        filter_id: f.filter.id,
        keyword: word.trim().to_owned(),
        whole_word: whole,
    };
    let mut conn = ctx.conn().await?;
    db::lists::insert_keyword(&mut conn, &k).await?;
    Ok(k)
}

pub async fn update_keyword(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    word: Option<String>,
    whole: Option<bool>,
) -> ServiceResult<FilterKeyword> {
    let (_, mut k) = keyword(ctx, me, id).await?;
    if let Some(w) = word {
        check_keyword(&w)?;
        k.keyword = w.trim().to_owned();
    }
    if let Some(w) = whole {
        k.whole_word = w;
    }
    let mut conn = ctx.conn().await?;
    db::lists::update_keyword(&mut conn, &k).await?;
    Ok(k)
}

pub async fn delete_keyword(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<()> {
    let (_, k) = keyword(ctx, me, id).await?;
    let mut conn = ctx.conn().await?;
    db::lists::delete_keyword(&mut conn, k.id).await?;
    Ok(())
}

fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    html_escape::decode_html_entities(&out).to_lowercase()
}

fn keyword_matches(haystack: &str, k: &FilterKeyword) -> bool {
    let needle = k.keyword.to_lowercase();
    if !k.whole_word {
        return haystack.contains(&needle);
    }
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    haystack.match_indices(&needle).any(|(i, m)| {
        !is_word(haystack[..i].chars().last()) && !is_word(haystack[i + m.len()..].chars().next())
    })
}

/// Marks statuses matched by the viewer's filters for `context`; drops those
/// whose filter says "hide". Reblogs are judged by their original.
pub async fn apply_filters(
    ctx: &Ctx,
    viewer: i64,
    context: FilterContext,
    list: Vec<StatusView>,
) -> ServiceResult<Vec<StatusView>> {
    let mut conn = ctx.conn().await?;
    let now = ids::now();
    let active: Vec<FilterView> = db::lists::own_filters(&mut conn, viewer)
        .await?
        .into_iter()
        .map(|(filter, keywords)| FilterView { filter, keywords })
        .filter(|f| f.contexts().contains(&context) && f.filter.expires_at.is_none_or(|e| e > now))
        .collect();
    drop(conn);
    if active.is_empty() {
        return Ok(list);
    }
    let mut out = Vec::with_capacity(list.len());
    for mut v in list {
        let shown = v.reblog.as_deref().unwrap_or(&v);
        if shown.account.account.id == viewer {
            out.push(v);
            continue;
        }
        let hay = format!(
            "{} {}",
            plain(&shown.status.spoiler_text),
            plain(&shown.status.content)
        );
        let matches: Vec<FilterMatch> = active
            .iter()
            .filter_map(|f| {
                let words: Vec<String> = f
                    .keywords
                    .iter()
                    .filter(|k| keyword_matches(&hay, k))
                    .map(|k| k.keyword.clone())
                    .collect();
                (!words.is_empty()).then(|| FilterMatch {
                    filter: f.clone(),
                    keywords: words,
                })
            })
            .collect();
        if matches
            .iter()
            .any(|m| m.filter.filter.action == FilterAction::Hide)
        {
            continue;
        }
        v.filtered = matches;
        out.push(v);
    }
    Ok(out)
}

// ---- markers ----

pub async fn markers(ctx: &Ctx, me: &LocalUser) -> ServiceResult<Vec<Marker>> {
    let mut conn = ctx.conn().await?;
    Ok(db::lists::markers_of(&mut conn, me.account.id).await?)
}

pub async fn set_markers(
    ctx: &Ctx,
    me: &LocalUser,
    updates: Vec<(String, i64)>,
) -> ServiceResult<Vec<Marker>> {
    if let Some((t, _)) = updates
        .iter()
        .find(|(t, _)| t != "home" && t != "notifications")
    {
        return Err(ServiceError::invalid(
            "timeline",
            "ERR_INCLUSION",
            format!("{t:?} is not home or notifications"),
        ));
    }
    let mut conn = ctx.conn().await?;
    let now = ids::now();
    for (t, id) in &updates {
        db::lists::set_marker(&mut conn, me.account.id, t, *id, now).await?;
    }
    let names: Vec<&String> = updates.iter().map(|(t, _)| t).collect();
    Ok(db::lists::markers_of(&mut conn, me.account.id)
        .await?
        .into_iter()
        .filter(|m| names.contains(&&m.timeline))
        .collect())
}

// ---- featured tags ----

pub async fn featured_tags(ctx: &Ctx, account_id: i64) -> ServiceResult<Vec<(i64, String)>> {
    let mut conn = ctx.conn().await?;
    Ok(db::lists::featured_tags_of(&mut conn, account_id).await?)
}

pub async fn feature_tag(ctx: &Ctx, me: &LocalUser, name: &str) -> ServiceResult<(i64, String)> {
    let name = name.trim().trim_start_matches('#').to_lowercase();
    let refs = text::references(&format!("#{name}"));
    if refs.tags != vec![name.clone()] {
        return Err(ServiceError::invalid(
            "name",
            "ERR_INVALID",
            "is not a valid hashtag",
        ));
    }
    let mut conn = ctx.conn().await?;
    let existing = db::lists::featured_tags_of(&mut conn, me.account.id).await?;
    if let Some(f) = existing.iter().find(|(_, n)| *n == name) {
        return Ok(f.clone());
    }
    if existing.len() >= 10 {
        return Err(ServiceError::invalid(
            "name",
            "ERR_LIMIT_REACHED",
            "You cannot feature more than 10 hashtags",
        ));
    }
    let now = ids::now();
    let tag = db::lists::tag_id(&mut conn, &name, now).await?;
    let id = ids::next_id();
    db::lists::feature_tag(&mut conn, id, me.account.id, tag, now).await?;
    Ok((id, name))
}

pub async fn unfeature_tag(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    if db::lists::unfeature_tag(&mut conn, me.account.id, id).await? == 0 {
        return Err(ServiceError::not_found());
    }
    Ok(())
}

// ---- blocks and mutes ----

pub async fn block(ctx: &Ctx, me: &LocalUser, target: i64, on: bool) -> ServiceResult<()> {
    if target == me.account.id {
        return Err(ServiceError::Forbidden("You cannot block yourself".into()));
    }
    accounts::get(ctx, target).await?;
    let mut conn = ctx.conn().await?;
    if on {
        db::social::blocking::block(&mut conn, ids::next_id(), me.account.id, target, ids::now())
            .await?;
    } else {
        db::social::blocking::unblock(&mut conn, me.account.id, target).await?;
    }
    Ok(())
}

pub async fn mute(
    ctx: &Ctx,
    me: &LocalUser,
    target: i64,
    on: bool,
    notifications: bool,
    duration: Option<i64>,
) -> ServiceResult<()> {
    if target == me.account.id {
        return Err(ServiceError::Forbidden("You cannot mute yourself".into()));
    }
    accounts::get(ctx, target).await?;
    let mut conn = ctx.conn().await?;
    if on {
        let expires = match duration {
            Some(d) => super::expiry_after("duration", d)?,
            None => None,
        };
        db::social::blocking::mute(
            &mut conn,
            ids::next_id(),
            me.account.id,
            target,
            notifications,
            expires,
            ids::now(),
        )
        .await?;
    } else {
        db::social::blocking::unmute(&mut conn, me.account.id, target).await?;
    }
    Ok(())
}

pub async fn blocked_or_muted(
    ctx: &Ctx,
    me: &LocalUser,
    muted: bool,
    page: Page,
) -> ServiceResult<Vec<(i64, AccountView)>> {
    let mut conn = ctx.conn().await?;
    let rows = db::social::blocking::listed(&mut conn, me.account.id, muted, page).await?;
    drop(conn);
    social::with_views(ctx, super::timelines::in_order(rows, page)).await
}

// ---- conversations ----

pub struct ConversationView {
    pub conversation: Conversation,
    pub accounts: Vec<AccountView>,
    pub last_status: Option<StatusView>,
}

pub async fn conversations(
    ctx: &Ctx,
    me: &LocalUser,
    page: Page,
) -> ServiceResult<Vec<ConversationView>> {
    let mut conn = ctx.conn().await?;
    let rows = super::timelines::in_order(
        db::lists::conversations_of(&mut conn, me.account.id, page).await?,
        page,
    );
    drop(conn);
    let mut out = Vec::with_capacity(rows.len());
    for c in rows {
        out.push(conversation_view(ctx, me, c).await?);
    }
    Ok(out)
}

async fn conversation_view(
    ctx: &Ctx,
    me: &LocalUser,
    c: Conversation,
) -> ServiceResult<ConversationView> {
    let last = super::statuses::get(ctx, Some(me.account.id), c.last_status_id)
        .await
        .ok();
    let mut participants: Vec<crate::db::models::Account> = Vec::new();
    if let Some(l) = &last {
        for a in std::iter::once(&l.account.account).chain(l.mentions.iter()) {
            if a.id != me.account.id && !participants.iter().any(|p| p.id == a.id) {
                participants.push(a.clone());
            }
        }
    }
    Ok(ConversationView {
        accounts: views::accounts(ctx, participants).await?,
        last_status: last,
        conversation: c,
    })
}

pub async fn read_conversation(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
) -> ServiceResult<ConversationView> {
    let mut conn = ctx.conn().await?;
    let mut c = db::lists::find_conversation(&mut conn, me.account.id, id)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    db::lists::mark_conversation_read(&mut conn, c.id).await?;
    c.unread = false;
    drop(conn);
    conversation_view(ctx, me, c).await
}

pub async fn remove_conversation(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    let c = db::lists::find_conversation(&mut conn, me.account.id, id)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    db::lists::delete_conversation(&mut conn, c.id).await?;
    Ok(())
}

// ---- announcements ----

pub async fn announcements(
    ctx: &Ctx,
    viewer: Option<i64>,
) -> ServiceResult<Vec<(Announcement, bool)>> {
    let mut conn = ctx.conn().await?;
    let mut list = db::lists::active_announcements(&mut conn, viewer, ids::now()).await?;
    drop(conn);
    // Members also get their orgs' announcements (the office's pinned posts).
    if let Some(v) = viewer {
        let pinned = super::orgs::announcements(ctx, v).await?;
        let ids: Vec<i64> = pinned.iter().map(|(_, s)| s.id).collect();
        let mut conn = ctx.conn().await?;
        let read = db::lists::org_announcements_read(&mut conn, v, &ids).await?;
        drop(conn);
        for (org, s) in pinned {
            let heading = format!(
                "<p><strong>{}</strong></p>",
                html_escape::encode_text(org.shown_name())
            );
            list.push((
                Announcement {
                    id: s.id,
                    text: s.text,
                    content: heading + &s.content,
                    starts_at: None,
                    ends_at: None,
                    all_day: false,
                    published: true,
                    created_at: s.created_at,
                    updated_at: s.edited_at.unwrap_or(s.created_at),
                },
                read.contains(&s.id),
            ));
        }
    }
    Ok(list)
}

pub async fn dismiss_announcement(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    if db::lists::dismiss_announcement(&mut conn, me.account.id, id).await? == 0 {
        drop(conn);
        // Else one of my orgs' announcements (a pinned post, by its id)?
        let mine = super::orgs::announcements(ctx, me.account.id).await?;
        if !mine.iter().any(|(_, s)| s.id == id) {
            return Err(ServiceError::not_found());
        }
        let mut conn = ctx.conn().await?;
        db::lists::dismiss_org_announcement(&mut conn, me.account.id, id).await?;
    }
    Ok(())
}

/// `tsunagu admin announce`: publishes an instance announcement.
pub async fn announce(
    ctx: &Ctx,
    body: &str,
    ends_in_hours: Option<i64>,
) -> ServiceResult<Announcement> {
    if body.trim().is_empty() {
        return Err(ServiceError::invalid("text", "ERR_BLANK", "can't be blank"));
    }
    let now = ids::now();
    let a = Announcement {
        id: ids::next_id(),
        text: body.to_owned(),
        content: text::plain_to_html(body),
        starts_at: None,
        ends_at: ends_in_hours.map(|h| now + Duration::hours(h)),
        all_day: false,
        published: true,
        created_at: now,
        updated_at: now,
    };
    let mut conn = ctx.conn().await?;
    db::lists::insert_announcement(&mut conn, &a).await?;
    Ok(a)
}

/// A person's conversation by its thread root (for streaming events).
pub async fn conversation_by_root(
    ctx: &Ctx,
    me: &LocalUser,
    root: i64,
) -> ServiceResult<ConversationView> {
    let mut conn = ctx.conn().await?;
    let c = db::lists::conversation_by_root(&mut conn, me.account.id, root)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    drop(conn);
    conversation_view(ctx, me, c).await
}
