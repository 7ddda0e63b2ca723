//! Posting into orgs: who may post where, and how an org shares what is
//! posted into it.
use crate::domain::{MembershipState, Visibility};

use super::{Ctx, ServiceResult};
use crate::db::models::{Account, Status};
use crate::db::{self, DbConn};

/// Where a new post goes, decided from the `audience` asked for, the
/// visibility and the accounts it mentions:
/// - an explicit audience (an org id) makes a post into that org; with
///   visibility `members` (or `private`) it is members-only;
/// - without one, a post mentioning a local org its author is a verified
///   member of is a post into that org; when that post is `private`, it is
///   members-only (the convention Friendica uses for private forums, so
///   plain Mastodon apps can post members-only). A `direct` post stays
///   direct: only those it mentions read it (the org too, when mentioned).
///
/// A reply (`parent`) without an audience of its own stays in its thread's
/// org, as a comment stays in its Lemmy community: anyone may reply to an
/// open post (unless the org blocked them), and a reply in a members-only
/// thread is members-only.
///
/// Returns (visibility, audience). Posting into a local org needs verified
/// membership; a remote group decides for itself.
pub async fn audience_for(
    conn: &mut DbConn<'_>,
    author: i64,
    asked: Option<i64>,
    visibility: Visibility,
    mentioned: &[Account],
    parent: Option<&Status>,
) -> ServiceResult<(Visibility, Option<Account>)> {
    if asked.is_none()
        && visibility != Visibility::Direct
        && let Some(p) = parent
        && let Some(org_id) = p.audience_id
        && let Some((org, _)) = db::accounts::find(conn, org_id).await?
    {
        if org.local
            && let Some((me, _)) = db::accounts::find(conn, author).await?
            && db::memberships::blocked(conn, org_id, &me).await?
        {
            return Err(super::ServiceError::Forbidden(
                "This org has blocked you".into(),
            ));
        }
        return Ok(match (p.visibility, visibility) {
            (Visibility::Members, _) => (Visibility::Members, Some(org)),
            (_, v) if v.is_open() => (v, Some(org)),
            (_, v) => (v, None),
        });
    }
    let member = async |conn: &mut DbConn<'_>, org: i64| -> ServiceResult<bool> {
        Ok(db::memberships::find(
            conn,
            crate::domain::OrgId(org),
            crate::domain::AccountId(author),
        )
        .await?
        .is_some_and(|m| m.state == MembershipState::Verified))
    };
    if let Some(org_id) = asked {
        let org = db::accounts::find(conn, org_id)
            .await?
            .map(|(a, _)| a)
            .filter(|a| a.actor_type == crate::domain::ActorType::Group)
            .ok_or_else(|| {
                super::ServiceError::invalid("audience", "ERR_INVALID", "is not an org")
            })?;
        let members_only = match visibility {
            Visibility::Members | Visibility::Private => true,
            Visibility::Public | Visibility::Unlisted => false,
            Visibility::Direct => {
                return Err(super::ServiceError::invalid(
                    "visibility",
                    "ERR_INVALID",
                    "a direct message has no org audience",
                ));
            }
        };
        if org.local
            && org.id != author
            && let Some((me, _)) = db::accounts::find(conn, author).await?
            && db::memberships::blocked(conn, org_id, &me).await?
        {
            return Err(super::ServiceError::Forbidden(
                "This org has blocked you".into(),
            ));
        }
        // The org itself (its office posting as it) needs no membership.
        let needs_membership = (org.local || members_only) && org.id != author;
        if needs_membership && !member(conn, org_id).await? {
            return Err(super::ServiceError::Forbidden(
                "Only verified members post into this org".into(),
            ));
        }
        let v = if members_only {
            Visibility::Members
        } else {
            visibility
        };
        return Ok((v, Some(org)));
    }
    if visibility == Visibility::Members {
        return Err(super::ServiceError::invalid(
            "audience",
            "ERR_BLANK",
            "a members-only post names its org in audience",
        ));
    }
    if visibility == Visibility::Direct {
        return Ok((visibility, None));
    }
    for a in mentioned
        .iter()
        .filter(|a| a.actor_type == crate::domain::ActorType::Group && a.local)
    {
        if member(conn, a.id).await? {
            let v = if visibility == Visibility::Private {
                Visibility::Members
            } else {
                visibility
            };
            return Ok((v, Some(a.clone())));
        }
    }
    Ok((visibility, None))
}

/// A local org shares a top-level public post made into it: a reblog by the
/// org, so its followers see it (here, and elsewhere through
/// [`Outgoing::SharedByOrg`](super::remote::Outgoing::SharedByOrg)). Returns
/// the reblog row, inside the caller's transaction.
pub async fn org_shares(
    ctx: &Ctx,
    tx: &mut DbConn<'_>,
    org: &Account,
    author: &Account,
    s: &Status,
) -> ServiceResult<Option<Status>> {
    if !org.local || s.in_reply_to_id.is_some() || !s.visibility.is_open() {
        return Ok(None);
    }
    let reblog = super::statuses::reblog_row(org.id, s.id, s.visibility, None);
    let reblog = db::statuses::insert(tx, &reblog).await?;
    ctx.federate(
        tx,
        super::remote::Outgoing::SharedByOrg {
            org,
            author,
            status: s,
            reblog: &reblog,
        },
    )
    .await?;
    Ok(Some(reblog))
}

/// What a remote community's moderators decided that stops a post from
/// here: a reply in a thread they locked, or a post into a community that
/// banned its author (Lemmy's `Lock` and `Block` in a community).
pub async fn community_allows(
    conn: &mut DbConn<'_>,
    author: i64,
    parent: Option<&Status>,
    audience: Option<&Account>,
) -> ServiceResult<()> {
    // A ban holds in the post's community and in every community of the
    // thread it replies in (a private reply has no community of its own).
    let mut communities: Vec<i64> = audience
        .filter(|g| !g.local)
        .map(|g| g.id)
        .into_iter()
        .collect();
    if let Some(p) = parent {
        let thread = thread(conn, p).await?;
        let ids: Vec<i64> = thread.iter().map(|s| s.id).collect();
        if db::communities::any_locked(conn, &ids).await? {
            return Err(super::ServiceError::Forbidden(
                "This thread is locked by its community's moderators".into(),
            ));
        }
        communities.extend(thread.iter().filter_map(|s| s.audience_id));
    }
    communities.sort_unstable();
    communities.dedup();
    for g in communities {
        if let Some(reason) =
            db::communities::ban_in_force(conn, g, author, crate::ids::now()).await?
        {
            return Err(super::ServiceError::Forbidden(if reason.is_empty() {
                "You are banned from this community".into()
            } else {
                format!("You are banned from this community: {reason}")
            }));
        }
    }
    Ok(())
}

/// A post and the posts above it, nearest first (at most 64: a thread
/// deeper than that is cut, not walked to its end).
pub async fn thread(conn: &mut DbConn<'_>, s: &Status) -> ServiceResult<Vec<Status>> {
    let mut chain = vec![s.clone()];
    let mut next = s.in_reply_to_id;
    while let Some(id) = next
        && chain.len() < 64
    {
        let Some(p) = db::statuses::find(conn, id).await? else {
            break;
        };
        next = p.in_reply_to_id;
        chain.push(p);
    }
    Ok(chain)
}
