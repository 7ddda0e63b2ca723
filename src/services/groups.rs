//! The group side of federation (FEP-1b12) and our membership activities.
//!
//! Membership protocol (docs/federation.md):
//! - a person asks to join: `Join{actor: person, object: group}`, with the
//!   claim in `tsunaguMembership` {role, tenureFrom, tenureTo, divisions,
//!   inviteCode} and a message in `content`;
//! - the group answers `Accept{Join}` (verified; `tsunaguMembership.role`
//!   carries the role, and is sent again when the role changes) or
//!   `Reject{Join}`; it removes a member with `Remove{object: person,
//!   target: <group>/members}`;
//! - a person leaves with `Leave{object: group}`.
use crate::domain::{MembershipState, Visibility};
use serde_json::{Value, json};

use super::{Ctx, ServiceResult};
use crate::db::models::{Account, Membership};
use crate::db::{self, DbConn};
use crate::federation::delivery;
use crate::federation::objects::{self, Urls};
use crate::federation::vocab::{
    Activity, ActivityKind, Context, MembershipClaim, OrderedCollection,
};
use crate::ids;

/// The members collection of a group actor (addressing of members-only posts).
pub fn members_collection(group_uri: &str) -> String {
    format!("{group_uri}/members")
}

fn claim(m: &Membership) -> MembershipClaim {
    MembershipClaim {
        role: Some(m.role),
        tenure_from: m.tenure_from.clone(),
        tenure_to: m.tenure_to.clone(),
        left_on: m.left_on.clone(),
        divisions: super::memberships::divisions_of(m)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        ..MembershipClaim::default()
    }
}

/// Tells a remote member's instance how its membership of one of our orgs
/// stands (inside the caller's transaction).
pub async fn membership_changed(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    m: &Membership,
) -> ServiceResult<()> {
    let (Some((org, _)), Some((person, _))) = (
        db::accounts::find(conn, m.org_id).await?,
        db::accounts::find(conn, m.account_id).await?,
    ) else {
        return Ok(());
    };
    if !org.local || person.local {
        return Ok(());
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let group = urls.actor(&org.username);
    let person_uri = person.ap_id.clone().unwrap_or_default();
    let join = Activity::new(ActivityKind::Join, "", &person_uri, group.as_str())
        .with_id(m.join_ap_id.clone())
        .embedded();
    let (kind, object, target): (_, Value, _) = match m.state {
        MembershipState::Verified => (ActivityKind::Accept, join.into(), None),
        MembershipState::Rejected => (ActivityKind::Reject, join.into(), None),
        MembershipState::Left => (
            ActivityKind::Remove,
            person_uri.as_str().into(),
            Some(members_collection(&group)),
        ),
        // Still pending: nothing to tell the person's server yet.
        MembershipState::Pending => return Ok(()),
    };
    let id = urls.activity(&org.username, &kind.as_str().to_lowercase(), ids::next_id());
    let mut answer = Activity::new(kind, &id, &group, object)
        .with_context(Context::Full)
        .to([person_uri.as_str()])
        .membership(claim(m));
    if let Some(t) = target {
        answer = answer.target(t);
    }
    let activity = answer.to_json();
    delivery::enqueue(conn, &base, &org, &id, &activity, person.inbox_url.clone()).await?;
    Ok(())
}

/// Queues Join of a remote group (our person asks to become a member).
pub async fn membership_requested(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    me: &Account,
    org: &Account,
    m: &Membership,
    invite_code: Option<&str>,
    consents: &[crate::db::models::Consent],
) -> ServiceResult<String> {
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    // A Join again (consents changed) gets an id of its own.
    let id = if m.join_ap_id.is_some() {
        urls.activity(&me.username, "join", ids::next_id())
    } else {
        urls.activity(&me.username, "join", m.id)
    };
    let mut membership = claim(m);
    membership.invite_code = Some(invite_code.map(str::to_owned));
    // The person's consents travel with the request (and again when they
    // change): the org's server lists them in its directory only if asked.
    if let Some(first) = consents.first() {
        membership.consents = Some(
            consents
                .iter()
                .map(|c| (c.purpose.to_string(), c.granted))
                .collect(),
        );
        membership.consent_wording_version = Some(first.wording_version.clone());
    }
    let org_uri = org.ap_id.clone().unwrap_or_default();
    let activity = Activity::new(
        ActivityKind::Join,
        &id,
        urls.actor(&me.username),
        org_uri.as_str(),
    )
    .with_context(Context::Full)
    .to([org_uri.as_str()])
    .content(&m.message)
    .membership(membership)
    .to_json();
    delivery::enqueue(conn, &base, me, &id, &activity, org.inbox_url.clone()).await?;
    Ok(id)
}

/// Queues Leave of a remote group.
pub async fn membership_left(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    me: &Account,
    org: &Account,
) -> ServiceResult<()> {
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let id = urls.activity(&me.username, "leave", ids::next_id());
    let org_uri = org.ap_id.clone().unwrap_or_default();
    let activity = Activity::new(
        ActivityKind::Leave,
        &id,
        urls.actor(&me.username),
        org_uri.as_str(),
    )
    .to([org_uri.as_str()])
    .to_json();
    delivery::enqueue(conn, &base, me, &id, &activity, org.inbox_url.clone()).await?;
    Ok(())
}

/// What a local org's Group actor document adds: its kind, its members
/// collection (the address of members-only posts), the clubs it recognises
/// and the official orgs recognising it (each checkable against the other's
/// `tsunaguRecognized` collection).
pub async fn group_properties(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    a: &Account,
    doc: &mut Value,
) -> ServiceResult<()> {
    let Some((org, _)) = db::orgs::find(conn, a.id).await? else {
        return Ok(());
    };
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let id = urls.actor(&a.username);
    let by = db::memberships::recognised_by(conn, a.id).await?;
    doc["tsunaguKind"] = json!(org.kind);
    doc["tsunaguMembers"] = json!(members_collection(&id));
    doc["tsunaguRecognized"] = json!(format!("{id}/collections/recognized"));
    doc["tsunaguRecognizedBy"] = json!(
        by.iter()
            .map(|o| objects::account_uri(&urls, o))
            .collect::<Vec<_>>()
    );
    Ok(())
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
/// Returns (visibility, audience). Posting into a local org needs verified
/// membership; a remote group decides for itself.
pub async fn audience_for(
    conn: &mut DbConn<'_>,
    author: i64,
    asked: Option<i64>,
    visibility: Visibility,
    mentioned: &[Account],
) -> ServiceResult<(Visibility, Option<Account>)> {
    let member = async |conn: &mut DbConn<'_>, org: i64| -> ServiceResult<bool> {
        Ok(db::memberships::find(conn, org, author)
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

/// A local org announces a top-level public post addressed to it: a reblog
/// by the org (so its followers here see it) and, to its followers
/// elsewhere, both `Announce{Note}` (Mastodon) and `Announce{Create{Note}}`
/// (Lemmy, Mbin). Returns the reblog row.
pub async fn announce_into(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    org: &Account,
    author: &Account,
    s: &crate::db::models::Status,
) -> ServiceResult<Option<crate::db::models::Status>> {
    if !org.local || s.in_reply_to_id.is_some() || !s.visibility.is_open() {
        return Ok(None);
    }
    let reblog = super::statuses::reblog_row(org.id, s.id, s.visibility, None);
    let now = reblog.created_at;
    let reblog = db::statuses::insert(conn, &reblog).await?;
    let inboxes = db::federation::follower_inboxes(conn, org.id).await?;
    if inboxes.is_empty() {
        return Ok(Some(reblog));
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let group = urls.actor(&org.username);
    let note_uri = objects::status_uri(&urls, author, s);
    // The wrapped form embeds the author's Create; we hold it only for our own
    // people (a remote member's post goes out as Announce{Note} alone).
    let create = if author.local {
        Some(super::federation::create_activity(ctx, conn, author, s).await?)
    } else {
        None
    };
    let cc = [
        urls.followers(&org.username),
        objects::account_uri(&urls, author),
    ];
    let plain_id = format!("{}/activity", urls.status(&org.username, reblog.id));
    let wrapped_id = format!("{plain_id}#create");
    let mut forms = vec![(&plain_id, Value::from(note_uri))];
    if let Some(create) = create {
        forms.push((&wrapped_id, create));
    }
    for (id, object) in forms {
        let activity = Activity::new(ActivityKind::Announce, id, &group, object)
            .with_context(Context::Full)
            .published(&now)
            .to([objects::PUBLIC])
            .cc(cc.clone())
            .audience(&group)
            .to_json();
        delivery::enqueue(conn, &base, org, id, &activity, inboxes.clone()).await?;
    }
    Ok(Some(reblog))
}

/// A members-only post by a member on another server, passed on by the org
/// to its members' other servers as `Announce` (addressed to the members
/// collection) with the Note embedded exactly as it came: they cannot fetch
/// it from its origin, which serves it only to members it knows, and they
/// take nothing on the org's word — the author's proof (FEP-8b32, added by
/// the author's server) shows the Note is the author's.
pub async fn pass_on_to_members(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    org: &Account,
    author: &Account,
    s: &crate::db::models::Status,
    object: &Value,
) -> ServiceResult<()> {
    let Some(author_uri) = author.ap_id.as_deref() else {
        return Ok(());
    };
    let inboxes: Vec<String> = db::memberships::member_inboxes(conn, org.id)
        .await?
        .into_iter()
        .filter(|i| !crate::federation::actors::same_origin(i, author_uri))
        .collect();
    if inboxes.is_empty() {
        return Ok(());
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let group = urls.actor(&org.username);
    // Unchanged: any edit would break the author's proof.
    let note = object.clone();
    let id = urls.activity(&org.username, "announce", s.id);
    let activity = Activity::new(ActivityKind::Announce, &id, &group, note)
        .with_context(Context::Full)
        .published(&ids::now())
        .to([members_collection(&group)])
        .audience(&group)
        .to_json();
    delivery::enqueue(conn, &base, org, &id, &activity, inboxes).await?;
    Ok(())
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
    use crate::federation::actors::{fetch_signed, id_of, parse_actor, same_origin};
    let Some(club_uri) = club.ap_id.clone() else {
        return Ok(vec![]);
    };
    if let Some(ids) = ctx.fed.recognitions.get(club.id) {
        let mut conn = ctx.conn().await?;
        return Ok(db::accounts::find_many(&mut conn, &ids).await?);
    }
    let parse = |u: &str| {
        url::Url::parse(u).map_err(|_| super::ServiceError::BadRequest("not a URL".into()))
    };
    let mut budget = RECOGNITION_FETCHES;
    let mut fetch = async |u: &str| -> ServiceResult<Value> {
        if budget == 0 {
            return Err(super::ServiceError::Remote(
                crate::federation::FederationError::permanent(
                    "the fetch budget of this check is spent",
                ),
            ));
        }
        budget -= 1;
        fetch_signed(ctx, &parse(u)?).await
    };
    let doc = fetch(&club_uri).await?;
    let claimed: Vec<String> = match &doc["tsunaguRecognizedBy"] {
        Value::Array(l) => l
            .iter()
            .take(20)
            .filter_map(|v| id_of(v).map(str::to_owned))
            .collect(),
        v => id_of(v).map(str::to_owned).into_iter().collect(),
    };
    let mut confirmed = Vec::new();
    for official_uri in claimed {
        // The official org's own document, fetched once: its account and
        // where its collection lives.
        let Ok(official_doc) = fetch(&official_uri).await else {
            continue;
        };
        let Some(collection) = id_of(&official_doc["tsunaguRecognized"])
            .filter(|c| same_origin(c, &official_uri))
            .map(str::to_owned)
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
        let listed = list["orderedItems"]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| id_of(i) == Some(club_uri.as_str())));
        if listed {
            let mut conn = ctx.conn().await?;
            confirmed.push(db::federation::upsert_remote_account(&mut conn, &row).await?);
        }
    }
    ctx.fed
        .recognitions
        .put(club.id, confirmed.iter().map(|a| a.id).collect());
    Ok(confirmed)
}
