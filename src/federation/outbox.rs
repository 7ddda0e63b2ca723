//! What we send: each [`Outgoing`] event a service reports becomes the
//! activities other servers must receive, queued for durable delivery inside
//! the service's transaction.
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
use serde_json::Value;

use super::delivery;
use super::objects::{self, NoteParts, Urls};
use super::vocab::{Activity, ActivityKind, Context, MembershipClaim, Note, PollVote, Tombstone};
use crate::db::models::{Account, Membership, Status};
use crate::db::{self, DbConn};
use crate::domain::{MembershipState, Visibility};
use crate::ids;
use crate::services::media::MediaMeta;
use crate::services::remote::Outgoing;
use crate::services::{Ctx, ServiceError, ServiceResult};

/// Queues the activities `event` means, inside the caller's transaction.
pub async fn queue(
    ctx: &Ctx,
    tx: &mut DbConn<'_>,
    event: Outgoing<'_>,
) -> ServiceResult<Option<String>> {
    match event {
        Outgoing::StatusPublished {
            author,
            status,
            edited,
        } => status_published(ctx, tx, author, status, edited).await?,
        Outgoing::StatusDeleted { author, status } => {
            status_deleted(ctx, tx, author, status).await?
        }
        Outgoing::SharedByOrg {
            org,
            author,
            status,
            reblog,
        } => shared_by_org(ctx, tx, org, author, status, reblog).await?,
        Outgoing::PollVoted {
            voter,
            question,
            author,
            choices,
        } => poll_voted(ctx, tx, voter, question, author, choices).await?,
        Outgoing::ReportForwarded {
            report,
            target,
            statuses,
        } => {
            return Ok(Some(
                report_forwarded(ctx, tx, report, target, statuses).await?,
            ));
        }
        Outgoing::FollowRequested {
            follower,
            target,
            follow_id,
        } => {
            return Ok(Some(
                follow_sent(ctx, tx, follower, target, follow_id).await?,
            ));
        }
        Outgoing::FollowUndone {
            follower,
            target,
            follow_uri,
        } => unfollow_sent(ctx, tx, follower, target, follow_uri).await?,
        Outgoing::FollowAnswered {
            followed,
            requester,
            follow_uri,
            accepted,
        } => follow_answered(ctx, tx, followed, requester, follow_uri, accepted).await?,
        Outgoing::Favourited { by, status, on } => like_sent(ctx, tx, by, status, on).await?,
        Outgoing::Reblogged {
            by,
            reblog,
            original,
            on,
        } => announce_sent(ctx, tx, by, reblog, original, on).await?,
        Outgoing::ProfileUpdated { account } => profile_updated(ctx, tx, account).await?,
        Outgoing::AccountDeleted { account } => account_deleted(ctx, tx, account).await?,
        Outgoing::MembershipChanged { membership } => {
            membership_changed(ctx, tx, membership).await?
        }
        Outgoing::JoinRequested {
            person,
            org,
            membership,
            invite_code,
            consents,
        } => {
            let id = membership_requested(ctx, tx, person, org, membership, invite_code, consents)
                .await?;
            return Ok(Some(id));
        }
        Outgoing::LeftOrg { person, org } => {
            super::alumni::withdrawn(ctx, tx, person, org).await?;
            membership_left(ctx, tx, person, org).await?
        }
        Outgoing::AlumniReleased { person, org } => {
            super::alumni::released(ctx, tx, person, org).await?
        }
        Outgoing::AlumniWithdrawn { person, org } => {
            super::alumni::withdrawn(ctx, tx, person, org).await?
        }
    }
    Ok(None)
}

/// The Note of a local status (mentions and tags resolved).
pub(super) async fn note_of(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    author: &Account,
    s: &Status,
) -> ServiceResult<Note> {
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
    note.attachment = media
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
            let size = MediaMeta::parse(&m.meta)
                .original
                .map(|o| (u64::from(o.width), u64::from(o.height)));
            Some(objects::document(&objects::Attachment {
                kind: m.kind,
                url: crate::services::media::url(ctx, file),
                media_type: Some(media_type.into()),
                description: m.description.clone(),
                blurhash: m.blurhash.clone(),
                focus: (m.focus_x, m.focus_y),
                size,
            }))
        })
        .collect();
    if let Some((_, v)) = crate::services::polls::views_for(conn, None, &[s.id])
        .await?
        .pop()
    {
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
        let vote = PollVote::new(
            format!(
                "{}/votes/{}/{choice}",
                urls.actor(&me.username),
                question.id
            ),
            name.clone(),
            urls.actor(&me.username),
            question_uri.clone(),
            author_uri.clone(),
        );
        let activity = Activity::new(
            ActivityKind::Create,
            &id,
            urls.actor(&me.username),
            vote.to_json(),
        )
        .with_context(Context::Full)
        .to(vote.to.clone())
        .to_json();
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
    // A reply in an org's thread, and any edit there, is passed on by the
    // org (a new post into it is shared as a boost: `shared_by_org`).
    // (A members-only post went to the members' servers directly.)
    let org = match (update || s.in_reply_to_id.is_some()) && s.visibility.is_open() {
        true => org_of(conn, s).await?,
        false => None,
    };
    if inboxes.is_empty() && org.is_none() {
        return Ok(());
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let note = note_of(ctx, conn, author, s).await?;
    let mut object = note.to_json();
    // Members-only and followers-only posts may be passed on by a group to
    // its members' servers, which cannot fetch them here: the author's proof
    // travels with the Note, so nobody has to take the group's word for it.
    if matches!(s.visibility, Visibility::Members | Visibility::Private) {
        with_proof(ctx, author, &mut object)?;
    }
    let kind = if update {
        ActivityKind::Update
    } else {
        ActivityKind::Create
    };
    let id = if update {
        urls.activity(&author.username, "update", ids::next_id())
    } else {
        format!("{}/activity", urls.status(&author.username, s.id))
    };
    let activity = carrying(kind, &id, urls.actor(&author.username), &note, object).to_json();
    if !inboxes.is_empty() {
        delivery::enqueue(conn, &base, author, &id, &activity, inboxes).await?;
    }
    if let Some(org) = org {
        org_passes_on(ctx, conn, &org, s, &activity, author).await?;
    }
    Ok(())
}

/// The local org whose thread `s` is in, when the org passes activities on
/// it to others (FEP-1b12): public, unlisted and members-only posts.
pub async fn org_of(conn: &mut DbConn<'_>, s: &Status) -> ServiceResult<Option<Account>> {
    let Some(org_id) = s.audience_id else {
        return Ok(None);
    };
    if !(s.visibility.is_open() || s.visibility == Visibility::Members) {
        return Ok(None);
    }
    Ok(db::accounts::find(conn, org_id)
        .await?
        .map(|(a, _)| a)
        .filter(|a| a.local && a.actor_type == crate::domain::ActorType::Group))
}

/// The org passes an activity by `actor` on one of its posts on to everyone
/// who got the post (FEP-1b12): `Announce` with the activity embedded as it
/// was sent (Lemmy's form), to the org's followers, or to its members'
/// servers for a members-only post; addressed as the post is (unlisted stays
/// unlisted). Nothing by an account or a domain the org blocks; nothing
/// back to the actor's own server, which has it already.
pub async fn org_passes_on(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    org: &Account,
    s: &Status,
    activity: &Value,
    actor: &Account,
) -> ServiceResult<()> {
    if db::memberships::blocked(conn, org.id, actor).await? {
        return Ok(());
    }
    let from_origin = actor.ap_id.as_deref().filter(|_| !actor.local);
    let members_only = s.visibility == Visibility::Members;
    let inboxes: Vec<String> = match members_only {
        true => db::memberships::member_inboxes(conn, org.id).await?,
        false => db::federation::follower_inboxes(conn, org.id).await?,
    }
    .into_iter()
    .filter(|i| from_origin.is_none_or(|o| !super::actors::same_origin(i, o)))
    .collect();
    if inboxes.is_empty() {
        return Ok(());
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let group = urls.actor(&org.username);
    let id = urls.activity(&org.username, "announce", ids::next_id());
    // Unchanged, `@context` and all: any change would break its proof.
    let announce = Activity::new(ActivityKind::Announce, &id, &group, activity.clone())
        .with_context(Context::Full)
        .published(&ids::now())
        .audience(&group);
    let announce = match s.visibility {
        Visibility::Members => announce.to([members_collection(&group)]),
        Visibility::Unlisted => announce
            .to([urls.followers(&org.username)])
            .cc([objects::PUBLIC]),
        _ => announce
            .to([objects::PUBLIC])
            .cc([urls.followers(&org.username)]),
    };
    delivery::enqueue(conn, &base, org, &id, &announce.to_json(), inboxes).await?;
    Ok(())
}

/// Signs an activity with its actor's key (an integrity proof), so that a
/// group passing it on needs no one to take its word for it.
fn with_proof(ctx: &Ctx, me: &Account, activity: &mut Value) -> ServiceResult<()> {
    let Some(pem) = me.private_key_pem.as_deref() else {
        return Ok(());
    };
    let key = super::signatures::PrivateKey::from_pem(pem)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("actor key: {e}")))?;
    let base = ctx.base_url();
    let key_id = Urls { base: &base }.key_id(&me.username);
    super::proofs::attach(activity, &key, &key_id, &objects::timestamp(&ids::now()));
    Ok(())
}

/// An activity carrying a Note (as `object`, possibly with a proof), with
/// the Note's addressing.
fn carrying(kind: ActivityKind, id: &str, actor: String, note: &Note, object: Value) -> Activity {
    Activity::new(kind, id, actor, object)
        .with_context(Context::Full)
        .to(note.to.clone())
        .cc(note.cc.clone())
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
    let object = note.to_json();
    Ok(carrying(
        ActivityKind::Create,
        &id,
        urls.actor(&author.username),
        &note,
        object,
    )
    .embedded()
    .to_json())
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
    let org = match s.visibility.is_open() {
        true => org_of(conn, s).await?,
        false => None,
    };
    if inboxes.is_empty() && org.is_none() {
        return Ok(());
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let uri = urls.status(&author.username, s.id);
    let id = format!("{uri}#delete");
    let note = note_of(ctx, conn, author, s).await?;
    // Addressed as the post was, so each server knows who saw it.
    let activity: Value = Activity::new(
        ActivityKind::Delete,
        &id,
        urls.actor(&author.username),
        Tombstone::new(&uri),
    )
    .to(note.to)
    .cc(note.cc)
    .into();
    if !inboxes.is_empty() {
        delivery::enqueue(conn, &base, author, &id, &activity, inboxes).await?;
    }
    if let Some(org) = org {
        org_passes_on(ctx, conn, &org, s, &activity, author).await?;
    }
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
    // A post in one of our orgs: the org passes the like on (FEP-1b12).
    let org = org_of(conn, s).await?;
    if author.local && org.is_none() {
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
    let (id, mut activity) = if on {
        (like_id, like.to_json())
    } else {
        let id = urls.activity(&me.username, "undo", ids::next_id());
        let undo = Activity::new(ActivityKind::Undo, &id, &me_uri, like.embedded());
        (id, undo.to_json())
    };
    // A Like cannot be fetched by its id: its proof lets a group pass it on.
    with_proof(ctx, me, &mut activity)?;
    if !author.local {
        delivery::enqueue(conn, &base, me, &id, &activity, author.inbox_url.clone()).await?;
    }
    if let Some(org) = org {
        org_passes_on(ctx, conn, &org, s, &activity, me).await?;
    }
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
    // Built even with no follower left to send to: earlier Updates still
    // stored are rewritten with it below.
    let inboxes: Vec<String> = db::federation::follower_inboxes(conn, me.id).await?;
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let image = |f: &Option<String>| f.as_deref().map(|f| crate::services::media::url(ctx, f));
    let mut actor = objects::actor(&urls, me, image(&me.avatar_file), image(&me.header_file));
    actor.context = None;
    if me.actor_type == crate::domain::ActorType::Group {
        actor.org = super::serve::org_properties(ctx, conn, me).await?;
    }
    super::serve::with_alumni_fields(conn, &mut actor, me).await?;
    let id = urls.activity(&me.username, "update-actor", ids::next_id());
    let activity: Value = Activity::new(
        ActivityKind::Update,
        &id,
        urls.actor(&me.username),
        actor.to_json(),
    )
    .with_context(Context::Full)
    .to([objects::PUBLIC])
    .into();
    // Earlier Updates of the actor still stored here take the new one: a
    // withdrawn profile field leaves no copy behind.
    let earlier = format!("{}#update-actor/", urls.actor(&me.username));
    db::federation::rewrite_outbound(conn, me.id, &earlier, &activity.to_string()).await?;
    delivery::enqueue(conn, &base, me, &id, &activity, inboxes).await?;
    Ok(())
}

/// Queues `Delete` of a local actor to every server we know.
async fn account_deleted(ctx: &Ctx, tx: &mut DbConn<'_>, account: &Account) -> ServiceResult<()> {
    let base = ctx.base_url();
    let uri = Urls { base: &base }.actor(&account.username);
    let id = format!("{uri}#delete");
    let activity: Value = Activity::new(ActivityKind::Delete, &id, &uri, uri.as_str())
        .to([objects::PUBLIC])
        .into();
    let inboxes = db::federation::all_remote_inboxes(tx).await?;
    delivery::enqueue(tx, &base, account, &id, &activity, inboxes).await?;
    Ok(())
}

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
        divisions: crate::services::memberships::divisions_of(m)
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

/// A local org's share of a post made into it, to its followers elsewhere:
/// `Announce{Note}` (Mastodon) and `Announce{Create{Note}}` (Lemmy, Mbin),
/// each to the servers that take it.
async fn shared_by_org(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    org: &Account,
    author: &Account,
    s: &Status,
    reblog: &Status,
) -> ServiceResult<()> {
    let inboxes = db::federation::follower_inboxes(conn, org.id).await?;
    if inboxes.is_empty() {
        return Ok(());
    }
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let group = urls.actor(&org.username);
    let note_uri = objects::status_uri(&urls, author, s);
    // The wrapped form embeds the author's Create; we hold it only for our own
    // people (a remote member's post goes out as Announce{Note} alone).
    let create = if author.local {
        Some(create_activity(ctx, conn, author, s).await?)
    } else {
        None
    };
    let cc = [
        urls.followers(&org.username),
        objects::account_uri(&urls, author),
    ];
    let plain_id = format!("{}/activity", urls.status(&org.username, reblog.id));
    let wrapped_id = format!("{plain_id}#create");
    // Each follower's server gets the forms it takes (`super::peers`).
    let takes = super::peers::forms_for(conn, &inboxes).await?;
    let only = |wrapped: bool| -> Vec<String> {
        inboxes
            .iter()
            .zip(&takes)
            .filter(|(_, f)| match wrapped {
                true => f.takes_wrapped(),
                false => f.takes_plain(),
            })
            .map(|(i, _)| i.clone())
            .collect()
    };
    let mut forms = vec![(&plain_id, Value::from(note_uri), only(false))];
    if let Some(create) = create {
        forms.push((&wrapped_id, create, only(true)));
    }
    for (id, object, inboxes) in forms {
        if inboxes.is_empty() {
            continue;
        }
        let activity = Activity::new(ActivityKind::Announce, id, &group, object)
            .with_context(Context::Full)
            .published(&reblog.created_at)
            .to([objects::PUBLIC])
            .cc(cc.clone())
            .audience(&group)
            .to_json();
        delivery::enqueue(conn, &base, org, id, &activity, inboxes).await?;
    }
    Ok(())
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
        .filter(|i| !super::actors::same_origin(i, author_uri))
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
