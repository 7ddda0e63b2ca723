//! Mastodon's JSON entities, built from our rows. Every key a strict client
//! decodes is present (null rather than omitted); dates look like
//! `2024-05-01T12:34:56.789Z`; IDs are strings.
use crate::domain::Visibility;
use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::{Value, json};

use crate::db::models::{OAuthApp, User};
use crate::services::accounts::{field_value_html, profile_fields};
use crate::services::instance::InstanceFacts;
use crate::services::oauth::{IssuedToken, redirect_uris};
use crate::services::views::{AccountView, CredentialView};
use crate::services::{Ctx, media};

pub const MASTODON_API_VERSION: &str = "4.2.0";

pub fn version_string() -> String {
    format!(
        "{MASTODON_API_VERSION} (compatible; tsunagu {})",
        env!("CARGO_PKG_VERSION")
    )
}

pub fn datetime(t: &NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Mastodon reports account creation at midnight of the day (less precise on purpose).
fn day(t: &NaiveDateTime) -> String {
    format!("{}T00:00:00.000Z", t.format("%Y-%m-%d"))
}

#[derive(Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub verified_at: Option<String>,
}

#[derive(Serialize)]
pub struct AccountEntity {
    pub id: String,
    pub username: String,
    pub acct: String,
    pub url: String,
    pub uri: String,
    pub display_name: String,
    pub note: String,
    pub avatar: String,
    pub avatar_static: String,
    pub header: String,
    pub header_static: String,
    pub locked: bool,
    pub fields: Vec<Field>,
    pub emojis: Vec<Value>,
    pub bot: bool,
    pub group: bool,
    pub discoverable: Option<bool>,
    pub indexable: bool,
    pub hide_collections: Option<bool>,
    pub noindex: Option<bool>,
    pub suspended: bool,
    pub limited: bool,
    pub memorial: bool,
    pub moved: Option<Value>,
    pub roles: Vec<Value>,
    pub created_at: String,
    pub last_status_at: Option<String>,
    pub statuses_count: i64,
    pub followers_count: i64,
    pub following_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Value>,
}

pub fn account(ctx: &Ctx, view: &AccountView) -> AccountEntity {
    let a = &view.account;
    let base = ctx.base_url();
    let (acct, url, uri) = if a.local {
        (
            a.username.clone(),
            format!("{base}/@{}", a.username),
            format!("{base}/users/{}", a.username),
        )
    } else {
        let domain = a.domain.clone().unwrap_or_default();
        let uri = a.ap_id.clone().unwrap_or_default();
        (
            format!("{}@{domain}", a.username),
            crate::services::statuses::profile_url(&base, a),
            uri,
        )
    };
    let image = |file: &Option<String>, remote: &Option<String>, missing: &str| match (file, remote)
    {
        (Some(f), _) => media::url(ctx, f),
        (None, Some(r)) => r.clone(),
        (None, None) => format!("{base}/static/{missing}"),
    };
    let avatar = image(&a.avatar_file, &a.avatar_remote_url, "avatar-missing.png");
    let header = image(&a.header_file, &a.header_remote_url, "header-missing.png");
    AccountEntity {
        id: a.id.to_string(),
        username: a.username.clone(),
        acct,
        url,
        uri,
        display_name: a.display_name.clone(),
        note: a.note.clone(),
        avatar_static: avatar.clone(),
        avatar,
        header_static: header.clone(),
        header,
        locked: a.locked,
        fields: profile_fields(a)
            .into_iter()
            .map(|f| Field {
                // Ours are stored as typed; another server's arrive as
                // HTML, sanitised when stored (escaping them again would
                // show their markup).
                value: if a.local {
                    field_value_html(&f.value)
                } else {
                    f.value
                },
                name: f.name,
                verified_at: f.verified_at,
            })
            .chain(view.alumni_fields.iter().map(|(name, value)| Field {
                name: name.clone(),
                value: field_value_html(value),
                verified_at: None,
            }))
            .collect(),
        emojis: vec![],
        bot: a.bot || a.actor_type.is_bot(),
        group: a.actor_type == crate::domain::ActorType::Group,
        discoverable: Some(a.discoverable),
        indexable: a.indexable,
        hide_collections: Some(a.hide_collections),
        noindex: Some(!a.indexable),
        suspended: a.suspended,
        limited: false,
        memorial: false,
        moved: view
            .moved
            .as_ref()
            .and_then(|m| serde_json::to_value(account(ctx, m)).ok()),
        roles: vec![],
        created_at: day(&a.created_at),
        last_status_at: view
            .stats
            .last_status_at
            .map(|t| t.format("%Y-%m-%d").to_string()),
        statuses_count: view.stats.statuses,
        followers_count: view.stats.followers,
        following_count: view.stats.following,
        source: None,
        role: None,
    }
}

/// The signed-in person's own account, with `source` and `role`.
pub fn credential_account(ctx: &Ctx, view: &CredentialView) -> AccountEntity {
    let (a, u) = (&view.me.account, &view.me.user);
    let mut e = account(
        ctx,
        &AccountView {
            account: a.clone(),
            stats: view.stats.clone(),
            moved: None,
            alumni_fields: Vec::new(),
        },
    );
    let fields: Vec<Value> = profile_fields(a)
        .into_iter()
        .map(|f| json!({ "name": f.name, "value": f.value, "verified_at": f.verified_at }))
        .collect();
    e.source = Some(json!({
        "privacy": u.default_privacy,
        "sensitive": u.default_sensitive,
        "language": u.default_language,
        "note": a.note_source,
        "fields": fields,
        "follow_requests_count": view.follow_requests,
        "hide_collections": a.hide_collections,
        "discoverable": a.discoverable,
        "indexable": a.indexable,
        "attribution_domains": [],
    }));
    e.role = Some(role(u));
    e
}

/// Mastodon's role entity: admins are "Owner", everyone else the default role.
pub fn role(u: &User) -> Value {
    if u.is_admin {
        json!({ "id": "3", "name": "Owner", "permissions": "1", "color": "", "highlighted": true })
    } else {
        json!({ "id": "-99", "name": "", "permissions": "65536", "color": "", "highlighted": false })
    }
}

/// `POST /api/v1/apps` returns the secret once; verify_credentials never does.
pub fn application(app: &OAuthApp, client_secret: Option<&str>) -> Value {
    let uris = redirect_uris(app);
    let scopes: Vec<&str> = app.scopes.split(' ').collect();
    let mut v = json!({
        "id": app.id.to_string(),
        "name": app.name,
        "website": app.website,
        "scopes": scopes,
        "redirect_uri": uris.join("\n"),
        "redirect_uris": uris,
        "vapid_key": "",
    });
    if let Some(secret) = client_secret {
        v["client_id"] = json!(app.client_id);
        v["client_secret"] = json!(secret);
        v["client_secret_expires_at"] = json!(0);
    }
    v
}

pub fn token(t: &IssuedToken) -> Value {
    let mut v = json!({
        "access_token": t.access_token,
        "token_type": "Bearer",
        "scope": t.scopes.to_string(),
        "created_at": t.created_at,
    });
    if let Some(r) = &t.refresh_token {
        v["refresh_token"] = json!(r);
    }
    if let Some(e) = t.expires_in {
        v["expires_in"] = json!(e);
    }
    v
}

fn media_configuration(ctx: &Ctx) -> Value {
    json!({
        "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
        "description_limit": 1500,
        "image_size_limit": ctx.config.media.max_image_bytes,
        "image_matrix_limit": 16_777_216,
        "video_size_limit": 0,
        "video_frame_rate_limit": 0,
        "video_matrix_limit": 0,
    })
}

fn statuses_configuration() -> Value {
    json!({ "max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23 })
}

fn polls_configuration() -> Value {
    json!({ "max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2_629_746 })
}

fn rules(ctx: &Ctx) -> Vec<Value> {
    ctx.settings()
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| json!({ "id": (i + 1).to_string(), "text": r, "hint": "" }))
        .collect()
}

pub fn instance_rules(ctx: &Ctx) -> Value {
    Value::Array(rules(ctx))
}

fn registrations_open(ctx: &Ctx) -> bool {
    use crate::config::RegistrationMode::*;
    matches!(ctx.settings().registration_mode, Open | Approval)
}

pub fn instance_v1(ctx: &Ctx, facts: &InstanceFacts) -> Value {
    let cfg = &ctx.config;
    let now = ctx.settings();
    let base = ctx.base_url();
    let ws = base.replacen("http", "ws", 1);
    json!({
        "uri": cfg.server.domain,
        "title": now.title,
        "short_description": now.description,
        "description": now.description,
        "email": now.contact_email,
        "version": version_string(),
        "urls": { "streaming_api": ws },
        "stats": {
            "user_count": facts.user_count,
            "status_count": facts.status_count,
            "domain_count": facts.domain_count,
        },
        "thumbnail": format!("{base}/static/thumbnail.png"),
        "languages": cfg.instance.languages,
        "registrations": registrations_open(ctx),
        "approval_required": now.registration_mode == crate::config::RegistrationMode::Approval,
        "invites_enabled": true,
        "configuration": {
            "accounts": { "max_featured_tags": 10 },
            "statuses": statuses_configuration(),
            "media_attachments": media_configuration(ctx),
            "polls": polls_configuration(),
        },
        "contact_account": facts.contact.as_ref().map(|a| account(ctx, a)),
        "rules": rules(ctx),
    })
}

pub fn instance_v2(ctx: &Ctx, facts: &InstanceFacts) -> Value {
    let cfg = &ctx.config;
    let now = ctx.settings();
    let base = ctx.base_url();
    let ws = base.replacen("http", "ws", 1);
    let mode = now.registration_mode;
    json!({
        "domain": cfg.server.domain,
        "title": now.title,
        "version": version_string(),
        "source_url": Some(&cfg.instance.source_url).filter(|s| !s.is_empty()),
        "description": now.description,
        "usage": { "users": { "active_month": facts.user_count } },
        "thumbnail": { "url": format!("{base}/static/thumbnail.png"), "blurhash": null, "versions": {} },
        "icon": [],
        "languages": cfg.instance.languages,
        "configuration": {
            "urls": { "streaming": ws, "status": null, "about": format!("{base}/about"), "privacy_policy": null, "terms_of_service": null },
            "vapid": { "public_key": "" },
            "accounts": { "max_featured_tags": 10, "max_pinned_statuses": 5 },
            "statuses": statuses_configuration(),
            "media_attachments": media_configuration(ctx),
            "polls": polls_configuration(),
            "translation": { "enabled": false },
            "limited_federation": now.domains.access == crate::domain::FederationAccess::AllowList,
        },
        "registrations": {
            "enabled": registrations_open(ctx),
            "approval_required": mode == crate::config::RegistrationMode::Approval,
            "message": null,
            "url": null,
            "reason_required": false,
            "min_age": null,
        },
        "api_versions": { "mastodon": 2 },
        "contact": {
            "email": now.contact_email,
            "account": facts.contact.as_ref().map(|a| account(ctx, a)),
        },
        "rules": rules(ctx),
    })
}

pub fn preferences(u: &User) -> Value {
    json!({
        "posting:default:visibility": u.default_privacy,
        "posting:default:sensitive": u.default_sensitive,
        "posting:default:language": u.default_language,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false,
        "reading:autoplay:gifs": false,
    })
}

use crate::services::notifications::NotificationView;
use crate::services::social::Relationship;
use crate::services::views::StatusView;

fn mention(ctx: &Ctx, a: &crate::db::models::Account) -> Value {
    let base = ctx.base_url();
    let acct = match &a.domain {
        Some(d) if !a.local => format!("{}@{d}", a.username),
        _ => a.username.clone(),
    };
    json!({
        "id": a.id.to_string(),
        "username": a.username,
        "url": crate::services::statuses::profile_url(&base, a),
        "acct": acct,
    })
}

pub fn status(ctx: &Ctx, v: &StatusView) -> Value {
    let s = &v.status;
    let base = ctx.base_url();
    let author = &v.account.account;
    let (uri, url) = if s.local {
        (
            format!("{base}/users/{}/statuses/{}", author.username, s.id),
            format!("{base}/@{}/{}", author.username, s.id),
        )
    } else {
        let uri = s.uri.clone().unwrap_or_default();
        let url = s
            .url
            .clone()
            .filter(|u| crate::services::text::is_web_url(u))
            .unwrap_or_else(|| uri.clone());
        (uri, url)
    };
    let tags: Vec<Value> = v
        .tags
        .iter()
        .map(|t| json!({ "name": t, "url": crate::services::text::tag_url(&base, t) }))
        .collect();
    json!({
        "id": s.id.to_string(),
        "uri": uri,
        "url": if s.reblog_of_id.is_some() { Value::Null } else { Value::String(url) },
        "created_at": datetime(&s.created_at),
        "edited_at": s.edited_at.as_ref().map(datetime),
        "account": account(ctx, &v.account),
        "content": s.content,
        "text": null,
        // Apps break on unknown values: members-only shows as private, with
        // our extension naming the org.
        "visibility": s.visibility.for_apps(),
        "tsunagu": {
            "visibility": s.visibility,
            "members_only": s.visibility == Visibility::Members,
            "audience": v.audience.as_ref().map(|o| json!({
                "id": o.id.to_string(),
                "acct": o.acct_key,
                "username": o.username,
            })),
        },
        "sensitive": s.sensitive,
        "spoiler_text": s.spoiler_text,
        "media_attachments": v.media.iter().map(|a| media(ctx, a)).collect::<Vec<_>>(),
        "application": null,
        "mentions": v.mentions.iter().map(|a| mention(ctx, a)).collect::<Vec<_>>(),
        "tags": tags,
        "emojis": [],
        "reblogs_count": v.reblogs_count,
        "favourites_count": v.favourites_count,
        "replies_count": v.replies_count,
        "in_reply_to_id": s.in_reply_to_id.map(|i| i.to_string()),
        "in_reply_to_account_id": s.in_reply_to_account_id.map(|i| i.to_string()),
        "reblog": v.reblog.as_ref().map(|r| status(ctx, r)),
        "poll": v.poll.as_ref().map(|p| poll(p, true)),
        "card": null,
        "language": s.language,
        "favourited": v.favourited,
        "reblogged": v.reblogged,
        "muted": false,
        "bookmarked": v.bookmarked,
        "pinned": v.pinned,
        "filtered": v.filtered.iter().map(filter_result).collect::<Vec<_>>(),
    })
}

/// The deleted status for delete-and-redraft: the source text included.
pub fn status_with_source(ctx: &Ctx, v: &StatusView) -> Value {
    let mut out = status(ctx, v);
    out["text"] = json!(v.status.text);
    out
}

pub fn status_edit(ctx: &Ctx, v: &StatusView, e: &crate::db::models::StatusEdit) -> Value {
    json!({
        "content": e.content,
        "spoiler_text": e.spoiler_text,
        "sensitive": e.sensitive,
        "created_at": datetime(&e.created_at),
        "account": account(ctx, &v.account),
        "poll": null,
        "media_attachments": [],
        "emojis": [],
    })
}

pub fn notification(ctx: &Ctx, n: &NotificationView) -> Value {
    json!({
        "id": n.notification.id.to_string(),
        "type": n.notification.kind,
        "created_at": datetime(&n.notification.created_at),
        "group_key": format!("ungrouped-{}", n.notification.id),
        "account": account(ctx, &n.account),
        "status": n.status.as_ref().map(|s| status(ctx, s)),
    })
}

pub fn relationship(r: &Relationship) -> Value {
    json!({
        "id": r.id.to_string(),
        "following": r.following,
        "showing_reblogs": r.showing_reblogs,
        "notifying": r.notifying,
        "languages": null,
        "followed_by": r.followed_by,
        "blocking": r.blocking,
        "blocked_by": r.blocked_by,
        "muting": r.muting,
        "muting_notifications": r.muting_notifications,
        "requested": r.requested,
        "requested_by": r.requested_by,
        "domain_blocking": false,
        "endorsed": false,
        "note": "",
    })
}

pub fn media(ctx: &Ctx, a: &crate::db::models::MediaAttachment) -> Value {
    let url = |f: &Option<String>| f.as_ref().map(|f| crate::services::media::url(ctx, f));
    let mut meta: Value = serde_json::from_str(&a.meta).unwrap_or_else(|_| json!({}));
    meta["focus"] = json!({ "x": a.focus_x, "y": a.focus_y });
    json!({
        "id": a.id.to_string(),
        "type": a.kind,
        "url": url(&a.file).or_else(|| a.remote_url.clone()),
        "preview_url": url(&a.preview_file).or_else(|| a.remote_url.clone()),
        "remote_url": a.remote_url,
        "preview_remote_url": null,
        "text_url": null,
        "meta": meta,
        "description": if a.description.is_empty() { Value::Null } else { json!(a.description) },
        "blurhash": a.blurhash,
    })
}

use crate::db::models::{Announcement, FilterKeyword, List, Marker};
use crate::services::organize::{ConversationView, FilterMatch, FilterView};

pub fn list(l: &List) -> Value {
    json!({ "id": l.id.to_string(), "title": l.title, "replies_policy": l.replies_policy, "exclusive": l.exclusive })
}

pub fn filter_keyword(k: &FilterKeyword) -> Value {
    json!({ "id": k.id.to_string(), "keyword": k.keyword, "whole_word": k.whole_word })
}

pub fn filter(f: &FilterView) -> Value {
    json!({
        "id": f.filter.id.to_string(),
        "title": f.filter.title,
        "context": f.contexts(),
        "expires_at": f.filter.expires_at.as_ref().map(datetime),
        "filter_action": f.filter.action,
        "keywords": f.keywords.iter().map(filter_keyword).collect::<Vec<_>>(),
        "statuses": [],
    })
}

/// v1 filters: one per keyword.
pub fn filters_v1(list: &[FilterView]) -> Value {
    let mut out = Vec::new();
    for f in list {
        for k in &f.keywords {
            out.push(json!({
                "id": k.id.to_string(),
                "phrase": k.keyword,
                "context": f.contexts(),
                "whole_word": k.whole_word,
                "expires_at": f.filter.expires_at.as_ref().map(datetime),
                "irreversible": f.filter.action == crate::domain::FilterAction::Hide,
            }));
        }
    }
    Value::Array(out)
}

pub fn filter_result(m: &FilterMatch) -> Value {
    json!({ "filter": filter(&m.filter), "keyword_matches": m.keywords, "status_matches": [] })
}

pub fn markers(list: &[Marker]) -> Value {
    let mut out = serde_json::Map::new();
    for m in list {
        out.insert(
            m.timeline.clone(),
            json!({ "last_read_id": m.last_read_id.to_string(), "version": m.version, "updated_at": datetime(&m.updated_at) }),
        );
    }
    Value::Object(out)
}

pub fn featured_tag(ctx: &Ctx, id: i64, name: &str) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "url": crate::services::text::tag_url(&ctx.base_url(), name),
        "statuses_count": "0",
        "last_status_at": null,
    })
}

pub fn conversation(ctx: &Ctx, c: &ConversationView) -> Value {
    json!({
        "id": c.conversation.id.to_string(),
        "unread": c.conversation.unread,
        "accounts": c.accounts.iter().map(|a| account(ctx, a)).collect::<Vec<_>>(),
        "last_status": c.last_status.as_ref().map(|s| status(ctx, s)),
    })
}

pub fn announcement(a: &Announcement, read: bool) -> Value {
    json!({
        "id": a.id.to_string(),
        "content": a.content,
        "starts_at": a.starts_at.as_ref().map(datetime),
        "ends_at": a.ends_at.as_ref().map(datetime),
        "published": a.published,
        "all_day": a.all_day,
        "published_at": datetime(&a.created_at),
        "updated_at": datetime(&a.updated_at),
        "read": read,
        "mentions": [],
        "statuses": [],
        "tags": [],
        "emojis": [],
        "reactions": [],
    })
}

/// A poll; `with_viewer` adds `voted`/`own_votes` (present only for signed-in callers).
pub fn poll(p: &crate::services::polls::PollView, with_viewer: bool) -> Value {
    let show_totals = !p.poll.hide_totals || p.expired;
    let mut v = json!({
        "id": p.poll.id.to_string(),
        "expires_at": datetime(&p.poll.expires_at),
        "expired": p.expired,
        "multiple": p.poll.multiple,
        "votes_count": p.votes_count,
        "voters_count": p.voters_count,
        "options": p.options.iter().zip(&p.counts).map(|(title, n)| json!({
            "title": title,
            "votes_count": if show_totals { json!(n) } else { Value::Null },
        })).collect::<Vec<_>>(),
        "emojis": [],
    });
    if with_viewer {
        v["voted"] = json!(!p.own_votes.is_empty());
        v["own_votes"] = json!(p.own_votes);
    }
    v
}

/// Mastodon's Report entity, as the person who filed it sees it.
pub fn report(ctx: &Ctx, v: &crate::services::reports::ReportView) -> Value {
    let r = &v.report;
    let ids = |s: &str| -> Vec<String> {
        serde_json::from_str::<Vec<Value>>(s)
            .unwrap_or_default()
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    };
    json!({
        "id": r.id.to_string(),
        "action_taken": r.action_taken_at.is_some(),
        "action_taken_at": r.action_taken_at.as_ref().map(datetime),
        "category": r.category,
        "comment": r.comment,
        "forwarded": r.forwarded,
        "created_at": datetime(&r.created_at),
        "status_ids": ids(&r.status_ids),
        "rule_ids": ids(&r.rule_ids),
        "target_account": account(ctx, &v.target),
    })
}

/// Our extension's Org entity: the org facts, and the Group account that
/// Mastodon apps show (`group: true`).
pub fn org(ctx: &Ctx, v: &crate::services::orgs::OrgView) -> Value {
    let account = account(ctx, &v.account);
    json!({
        "id": v.org.account_id.to_string(),
        "username": account.username,
        "acct": account.acct,
        "display_name": account.display_name,
        "note": account.note,
        "url": account.url,
        "kind": v.org.kind,
        "parent_id": v.org.parent_id.map(|p| p.to_string()),
        "archived": v.org.archived_at.is_some(),
        "archived_at": v.org.archived_at.as_ref().map(datetime),
        "created_at": datetime(&v.org.created_at),
        "account": account,
    })
}

pub fn membership(ctx: &Ctx, v: &crate::services::memberships::MembershipView) -> Value {
    let m = &v.membership;
    let consents: serde_json::Map<String, Value> = v
        .consents
        .iter()
        .map(|(p, g)| (p.to_string(), Value::Bool(*g)))
        .collect();
    json!({
        "id": m.id.to_string(),
        "org_id": m.org_id.to_string(),
        "account": account(ctx, &v.account),
        "role": m.role,
        "state": m.state,
        "via": m.via,
        "tenure_from": m.tenure_from,
        "tenure_to": m.tenure_to,
        "divisions": crate::services::memberships::divisions_of(m),
        "message": m.message,
        "left_on": m.left_on,
        "graduation_requested_on": m.graduation_requested_on,
        "consents": consents,
        "roster_match": v.roster_match.as_ref().map(|r| json!({
            "name": r.entry.name,
            "role": r.entry.role,
            "tenure_from": r.entry.tenure_from,
            "tenure_to": r.entry.tenure_to,
            "divisions": r.entry.divisions.lines().filter(|d| !d.is_empty()).collect::<Vec<_>>(),
            "email_proven": r.email_proven,
        })),
        "decided_at": m.decided_at.as_ref().map(datetime),
        "created_at": datetime(&m.created_at),
        "updated_at": datetime(&m.updated_at),
    })
}

pub fn consent(c: &crate::db::models::Consent) -> Value {
    json!({
        "purpose": c.purpose,
        "granted": c.granted,
        "wording_version": c.wording_version,
        "created_at": datetime(&c.created_at),
    })
}

pub fn org_invite(i: &crate::db::models::OrgInvite) -> Value {
    json!({
        "id": i.id.to_string(),
        "org_id": i.org_id.to_string(),
        "code": i.code,
        "role": i.role,
        "max_uses": i.max_uses,
        "uses": i.uses,
        "expires_at": i.expires_at.as_ref().map(datetime),
        "created_at": datetime(&i.created_at),
    })
}

pub fn org_block(b: &crate::db::models::OrgBlock) -> Value {
    json!({
        "id": b.id.to_string(),
        "org_id": b.org_id.to_string(),
        "account_id": b.account_id.map(|a| a.to_string()),
        "domain": b.domain,
        "created_at": datetime(&b.created_at),
    })
}
