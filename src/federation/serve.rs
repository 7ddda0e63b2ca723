//! What we serve to other servers: WebFinger, NodeInfo, actor documents,
//! Notes and collections.
use activitypub_federation::fetch::webfinger::build_webfinger_response_with_type;
use serde_json::Value;

use super::objects::{self, Urls};
use super::outbox::{members_collection, note_of};
use super::vocab::{
    Actor, Context, Endpoints, NodeInfo, NodeInfoLink, NodeInfoLinks, NodeInfoMetadata,
    NodeInfoServices, NodeInfoSoftware, NodeInfoUsage, NodeInfoUsers, OrderedCollection,
    OrgProperties, PropertyValue, PublicKey,
};
use crate::db::models::Account;
use crate::db::{self, DbConn};
use crate::domain::Visibility;
use crate::services::{Ctx, ServiceError, ServiceResult};

pub(super) async fn local_account(ctx: &Ctx, name: &str) -> ServiceResult<Account> {
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

/// `/ns`: our extension terms as a JSON-LD context document (the same terms
/// every document of ours carries inline).
pub fn namespace_document() -> Value {
    serde_json::json!({ "@context": super::vocab::context_terms() })
}

pub fn nodeinfo_links(ctx: &Ctx) -> Value {
    let base = ctx.base_url();
    let link = |v: &str| NodeInfoLink {
        rel: format!("http://nodeinfo.diaspora.software/ns/schema/{v}"),
        href: format!("{base}/nodeinfo/{v}"),
    };
    to_json(&NodeInfoLinks {
        links: vec![link("2.0"), link("2.1")],
    })
}

pub async fn nodeinfo(ctx: &Ctx, version: &str) -> ServiceResult<Value> {
    if !matches!(version, "2.0" | "2.1") {
        return Err(ServiceError::not_found());
    }
    let facts = crate::services::instance::facts(ctx).await?;
    let source = (version == "2.1").then(|| ctx.config.instance.source_url.clone());
    Ok(to_json(&NodeInfo {
        version: version.to_owned(),
        software: NodeInfoSoftware {
            name: "tsunagu",
            version: env!("CARGO_PKG_VERSION"),
            repository: source.clone(),
            homepage: source,
        },
        protocols: vec!["activitypub"],
        services: NodeInfoServices::default(),
        open_registrations: ctx.settings().registration_mode
            == crate::config::RegistrationMode::Open,
        usage: NodeInfoUsage {
            users: NodeInfoUsers {
                total: facts.user_count,
            },
            local_posts: facts.status_count,
        },
        metadata: NodeInfoMetadata {
            node_name: ctx.settings().title.clone(),
            node_description: ctx.settings().description.clone(),
        },
    }))
}

fn to_json(v: &impl serde::Serialize) -> Value {
    serde_json::to_value(v).expect("a document of ours always serialises")
}

pub async fn actor_document(ctx: &Ctx, name: &str) -> ServiceResult<Value> {
    let a = local_account(ctx, name).await?;
    let base = ctx.base_url();
    let image = |f: &Option<String>| f.as_deref().map(|f| crate::services::media::url(ctx, f));
    let mut doc = objects::actor(
        &Urls { base: &base },
        &a,
        image(&a.avatar_file),
        image(&a.header_file),
    );
    let mut conn = ctx.conn().await?;
    if a.actor_type == crate::domain::ActorType::Group {
        doc.org = org_properties(ctx, &mut conn, &a).await?;
    }
    with_alumni_fields(&mut conn, &mut doc, &a).await?;
    Ok(doc.to_json())
}

/// Adds a person's alumni fields released to everyone to their actor's
/// profile fields, after their own (as the client API lists them); nothing
/// released to fewer people ever goes in the actor.
pub(super) async fn with_alumni_fields(
    conn: &mut DbConn<'_>,
    doc: &mut Actor,
    a: &Account,
) -> ServiceResult<()> {
    let pairs = crate::services::alumni::public_fields(conn, &[a.id])
        .await?
        .remove(&a.id)
        .unwrap_or_default();
    if !pairs.is_empty() {
        doc.attachment
            .get_or_insert_with(Vec::new)
            .extend(pairs.into_iter().map(|(name, value)| {
                PropertyValue::new(
                    name.into(),
                    crate::services::text::linkify_line(&value).into(),
                )
            }));
    }
    Ok(())
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
    note.context = Some(Context::Full);
    Ok(note.to_json())
}

/// Whether `who` (a verified signer) may read a members-only post of `org`:
/// a verified member, or the instance actor of the group's own server when
/// the group lives elsewhere.
pub(super) async fn members_only_reader(
    conn: &mut DbConn<'_>,
    org_id: i64,
    who: &Account,
) -> ServiceResult<bool> {
    if db::memberships::is_verified_member(
        conn,
        crate::domain::OrgId(org_id),
        crate::domain::AccountId(who.id),
    )
    .await?
    {
        return Ok(true);
    }
    let Some((org, _)) = db::accounts::find(conn, org_id).await? else {
        return Ok(false);
    };
    Ok(!org.local
        && who.actor_type == crate::domain::ActorType::Application
        && super::actors::same_origin(
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
            recognized_collection(ctx, &a).await
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
        items.push(note_of(ctx, &mut conn, &a, s).await?.to_json());
    }
    let id = format!("{}/collections/featured", urls.actor(&a.username));
    Ok(OrderedCollection::of(id, items)
        .with_context(Context::Full)
        .to_json())
}

/// The instance actor (`/actor`): signs our fetches; follows nobody.
pub async fn instance_actor_document(ctx: &Ctx) -> ServiceResult<Value> {
    let key = super::actors::instance_key(ctx).await?;
    let base = ctx.base_url();
    let id = format!("{base}/actor");
    Ok(Actor {
        context: Some(Context::Full),
        id: id.clone(),
        kind: crate::domain::ActorType::Application,
        preferred_username: ctx.config.server.domain.clone(),
        name: ctx.settings().title.clone(),
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
        org: None,
    }
    .to_json())
}

/// What a local org's Group actor document adds (see [`OrgProperties`]).
pub async fn org_properties(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    a: &Account,
) -> ServiceResult<Option<OrgProperties>> {
    let Some((org, _)) = db::orgs::find(conn, a.id).await? else {
        return Ok(None);
    };
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let id = urls.actor(&a.username);
    let by = db::memberships::recognised_by(conn, a.id).await?;
    Ok(Some(OrgProperties {
        kind: org.kind,
        members: members_collection(&id),
        recognized: format!("{id}/collections/recognized"),
        recognized_by: by.iter().map(|o| objects::account_uri(&urls, o)).collect(),
    }))
}

/// `/users/:name/collections/recognized`: the clubs an org recognises.
pub async fn recognized_collection(ctx: &Ctx, org: &Account) -> ServiceResult<Value> {
    let mut conn = ctx.conn().await?;
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let clubs = db::memberships::recognised_clubs(&mut conn, org.id).await?;
    let items: Vec<Value> = clubs
        .iter()
        .map(|c| objects::account_uri(&urls, c).into())
        .collect();
    let id = format!("{}/collections/recognized", urls.actor(&org.username));
    Ok(OrderedCollection::of(id, items).to_json())
}
