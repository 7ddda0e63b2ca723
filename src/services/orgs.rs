//! Orgs: an organisation's network (official, or a club), a Group actor that
//! anyone may follow. Membership and roles build on this (issue 5).
use super::{Ctx, ServiceError, ServiceResult, accounts, views};
use crate::db::models::{Account, LocalUser, Org};
use crate::db::orgs::OrgChanges;
use crate::db::{self};
use crate::domain::{OrgKind, Visibility};
use crate::services::remote::Outgoing;
use crate::{crypto, ids};

pub const MAX_DISPLAY_NAME: usize = 100;
pub const MAX_NOTE: usize = 5000;

pub struct NewOrg {
    pub username: String,
    pub display_name: Option<String>,
    pub note: Option<String>,
    pub kind: Option<String>,
    pub parent_id: Option<i64>,
    pub locked: Option<bool>,
}

#[derive(Default)]
pub struct OrgUpdate {
    pub display_name: Option<String>,
    pub note: Option<String>,
    pub locked: Option<bool>,
    /// Some(None) detaches from the parent.
    pub parent_id: Option<Option<i64>>,
    pub archived: Option<bool>,
    /// Profile images and fields, as for a person's profile.
    pub avatar: Option<accounts::Upload>,
    pub header: Option<accounts::Upload>,
    pub fields: Option<Vec<(String, String)>>,
}

pub struct OrgView {
    pub org: Org,
    pub account: views::AccountView,
}

fn check_profile(display_name: &str, note: &str) -> ServiceResult<()> {
    if display_name.chars().count() > MAX_DISPLAY_NAME {
        return Err(ServiceError::invalid(
            "display_name",
            "ERR_TOO_LONG",
            format!("is too long (maximum is {MAX_DISPLAY_NAME} characters)"),
        ));
    }
    if note.chars().count() > MAX_NOTE {
        return Err(ServiceError::invalid(
            "note",
            "ERR_TOO_LONG",
            format!("is too long (maximum is {MAX_NOTE} characters)"),
        ));
    }
    Ok(())
}

/// A parent must be an org that is not archived (and not the org itself).
async fn check_parent(ctx: &Ctx, parent: Option<i64>, own: Option<i64>) -> ServiceResult<()> {
    let Some(p) = parent else { return Ok(()) };
    let mut conn = ctx.conn().await?;
    let ok = Some(p) != own
        && db::orgs::find(&mut conn, p)
            .await?
            .is_some_and(|(o, _)| o.archived_at.is_none());
    if ok {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "parent_id",
            "ERR_INVALID",
            "is not an active org",
        ))
    }
}

/// Creates an org. Official orgs are made by administrators; clubs by anyone
/// signed in (clubs are informal; an official org may recognise them later).
pub async fn create(ctx: &Ctx, me: &LocalUser, n: NewOrg) -> ServiceResult<OrgView> {
    let kind = match n.kind.as_deref() {
        None => OrgKind::Official,
        Some(k) => ServiceError::choice("kind", k)?,
    };
    if kind == OrgKind::Official && !me.user.is_admin {
        return Err(ServiceError::Forbidden(
            "Only administrators create official orgs".into(),
        ));
    }
    if let Some(e) = accounts::validate_username(&n.username, false) {
        return Err(ServiceError::Validation(vec![e]));
    }
    let display_name = n.display_name.unwrap_or_default();
    let note = n.note.unwrap_or_default();
    check_profile(&display_name, &note)?;
    check_parent(ctx, n.parent_id, None).await?;
    {
        let mut conn = ctx.conn().await?;
        if db::accounts::acct_key_taken(&mut conn, &n.username.to_lowercase()).await? {
            return Err(ServiceError::Validation(vec![accounts::taken("username")]));
        }
    }
    let keys = crypto::generate_keypair().await?;
    let now = ids::now();
    let id = ids::next_id();
    let mut account = accounts::local_actor(
        id,
        &n.username,
        crate::domain::ActorType::Group,
        keys.public_pem,
        keys.private_pem,
        now,
    );
    account.display_name = display_name;
    account.note_source = note.clone();
    account.note = super::text::plain_to_html(&note);
    account.locked = n.locked.unwrap_or(false);
    account.discoverable = true;
    let org = Org {
        account_id: id,
        kind,
        parent_id: n.parent_id,
        created_by: Some(me.account.id),
        archived_at: None,
        created_at: now,
        updated_at: now,
    };
    let mut conn = ctx.conn().await?;
    let inserted = conn
        .transaction(async |tx| {
            db::orgs::insert(tx, &account, &org).await?;
            // Whoever creates the org runs it until the office grows.
            super::memberships::add_founder(tx, id, me.account.id).await?;
            Ok::<_, ServiceError>(())
        })
        .await;
    if let Err(ServiceError::Internal(e)) = &inserted
        && e.downcast_ref::<db::DbError>()
            .is_some_and(db::is_unique_violation)
    {
        return Err(ServiceError::Validation(vec![accounts::taken("username")]));
    }
    inserted?;
    drop(conn);
    get(ctx, id).await
}

pub async fn get(ctx: &Ctx, id: i64) -> ServiceResult<OrgView> {
    let mut conn = ctx.conn().await?;
    let (org, account) = db::orgs::find(&mut conn, id)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    drop(conn);
    Ok(OrgView {
        org,
        account: views::account(ctx, account).await?,
    })
}

/// Active orgs (or the sub-groups of `parent`), by name.
pub async fn list(ctx: &Ctx, parent: Option<i64>) -> ServiceResult<Vec<OrgView>> {
    let mut conn = ctx.conn().await?;
    let rows = db::orgs::list(&mut conn, parent, 200).await?;
    drop(conn);
    let (orgs, accounts): (Vec<Org>, Vec<_>) = rows.into_iter().unzip();
    let views = views::accounts(ctx, accounts).await?;
    Ok(orgs
        .into_iter()
        .zip(views)
        .map(|(org, account)| OrgView { org, account })
        .collect())
}

/// The local orgs `me` runs as their office (an administrator: all of them),
/// by name.
pub async fn offices_of(ctx: &Ctx, me: &LocalUser) -> ServiceResult<Vec<Account>> {
    let mut conn = ctx.conn().await?;
    let ids = if me.user.is_admin {
        db::orgs::list(&mut conn, None, 200)
            .await?
            .into_iter()
            .map(|(o, _)| o.account_id)
            .collect()
    } else {
        db::memberships::office_orgs(&mut conn, me.account.id).await?
    };
    let mut orgs: Vec<Account> = db::accounts::find_many(&mut conn, &ids)
        .await?
        .into_iter()
        .filter(|a| a.local && !a.suspended)
        .collect();
    orgs.sort_by_key(|a| a.shown_name().to_lowercase());
    Ok(orgs)
}

/// Changes an org's profile, parent or archived state: its office, or an
/// administrator.
pub async fn update(ctx: &Ctx, me: &LocalUser, id: i64, u: OrgUpdate) -> ServiceResult<OrgView> {
    let current = get(ctx, id).await?;
    let office = super::memberships::is_office(&mut ctx.conn().await?, id, me).await?;
    if !office {
        return Err(ServiceError::Forbidden(
            "Only the org's office or an administrator changes it".into(),
        ));
    }
    let a = &current.account.account;
    let display_name = u.display_name.unwrap_or_else(|| a.display_name.clone());
    let note_source = u.note.unwrap_or_else(|| a.note_source.clone());
    check_profile(&display_name, &note_source)?;
    let parent_id = u.parent_id.unwrap_or(current.org.parent_id);
    if parent_id != current.org.parent_id {
        check_parent(ctx, parent_id, Some(id)).await?;
    }
    let now = ids::now();
    let archived_at = match u.archived {
        Some(true) => current.org.archived_at.or(Some(now)),
        Some(false) => None,
        None => current.org.archived_at,
    };
    let note = super::text::plain_to_html(&note_source);
    let changes = OrgChanges {
        display_name: &display_name,
        note: &note,
        note_source: &note_source,
        locked: u.locked.unwrap_or(a.locked),
        parent_id,
        archived_at,
    };
    let images = (u.avatar.is_some() || u.header.is_some() || u.fields.is_some()).then_some(());
    let profile = match images {
        Some(()) => Some(
            accounts::profile_changes(
                ctx,
                a,
                accounts::ProfileUpdate {
                    avatar: u.avatar,
                    header: u.header,
                    fields: u.fields,
                    ..Default::default()
                },
            )
            .await?,
        ),
        None => None,
    };
    let mut conn = ctx.conn().await?;
    conn.transaction(async |tx| {
        db::orgs::update(tx, id, &changes, now).await?;
        if let Some((p, _, _)) = &profile {
            db::accounts::update_profile(tx, id, p).await?;
        }
        // Followers on other servers get the new profile (Update{Group}).
        if let Some((group, _)) = db::accounts::find(tx, id).await? {
            ctx.federate(tx, Outgoing::ProfileUpdated { account: &group })
                .await?;
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    ctx.wake_delivery();
    // Replaced images are unreferenced now.
    if let Some((_, avatar, header)) = &profile {
        for (old, new) in [(&a.avatar_file, avatar), (&a.header_file, header)] {
            if let (Some(old), Some(new)) = (old, new)
                && old != new
            {
                super::media::remove(ctx, old).await;
            }
        }
    }
    get(ctx, id).await
}

/// The office posts as the org: public news, or (`visibility` `members`)
/// members-only; `pinned` puts it in the org's featured collection, and
/// pinned posts are listed to members by `GET /api/v1/announcements`.
pub async fn post(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    mut new: super::statuses::NewStatus,
    pinned: bool,
) -> ServiceResult<super::views::StatusView> {
    let org = get(ctx, org_id).await?;
    if !super::memberships::is_office(&mut ctx.conn().await?, org_id, me).await? {
        return Err(ServiceError::Forbidden(
            "Only the org's office posts as the org".into(),
        ));
    }
    let members = [Visibility::Members, Visibility::Private].map(Visibility::as_str);
    if new
        .visibility
        .as_deref()
        .is_some_and(|v| members.contains(&v))
    {
        new.visibility = Some(Visibility::Members.as_str().into());
        new.audience_id = Some(org_id);
    } else {
        new.audience_id = None;
    }
    let org_account = org.account.account;
    let view = super::statuses::create_as(ctx, me, &org_account, new).await?;
    if pinned {
        let mut conn = ctx.conn().await?;
        db::social::pin::add(
            &mut conn,
            &crate::db::models::StatusPin {
                id: ids::next_id(),
                account_id: org_id,
                status_id: view.status.id,
                created_at: ids::now(),
            },
        )
        .await?;
    }
    super::statuses::get(ctx, Some(me.account.id), view.status.id).await
}

/// Pinned posts of the orgs the viewer is a verified member of: the org
/// announcements apps show through `GET /api/v1/announcements`.
pub async fn announcements(
    ctx: &Ctx,
    viewer: i64,
) -> ServiceResult<Vec<(Account, crate::db::models::Status)>> {
    let mut conn = ctx.conn().await?;
    let orgs = db::memberships::verified_orgs(&mut conn, viewer).await?;
    let mut out = Vec::new();
    for org in orgs {
        let Some((account, _)) = db::accounts::find(&mut conn, org).await? else {
            continue;
        };
        if !account.local {
            continue;
        }
        let pinned = db::timelines::pinned(&mut conn, Some(viewer), org, 20).await?;
        out.extend(pinned.into_iter().map(|s| (account.clone(), s)));
    }
    Ok(out)
}

/// The orgs (here or elsewhere) the person is a verified member of, by name:
/// where they may post members-only.
pub async fn memberships_of(ctx: &Ctx, me: &LocalUser) -> ServiceResult<Vec<Account>> {
    let mut conn = ctx.conn().await?;
    let ids = db::memberships::verified_orgs(&mut conn, me.account.id).await?;
    let mut orgs = db::accounts::find_many(&mut conn, &ids).await?;
    orgs.sort_by_key(|a| a.shown_name().to_lowercase());
    Ok(orgs)
}
