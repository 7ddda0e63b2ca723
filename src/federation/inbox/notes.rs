//! Posts and reactions: Create/Update/Delete of notes, Like, Announce, votes, and reading a Note's addressing.
use super::*;
use crate::services::statuses::pipeline;

/// Visibility from addressing, as Mastodon reads it.
pub fn visibility_of(addressing: &Addressing, followers: Option<&str>) -> Visibility {
    let (to, cc) = (&addressing.to.0, &addressing.cc.0);
    let public = |l: &[String]| {
        l.iter()
            .any(|x| x == PUBLIC || x == "as:Public" || x == "Public")
    };
    if public(to) {
        Visibility::Public
    } else if public(cc) {
        Visibility::Unlisted
    } else if followers.is_some_and(|f| to.iter().chain(cc.iter()).any(|x| x == f)) {
        Visibility::Private
    } else {
        Visibility::Direct
    }
}

/// A vote on one of our polls: a Note with a `name` (the option) and no
/// content, replying to the poll's status (Mastodon, Pleroma, Misskey). Returns
/// whether the object was such a vote (then it is not stored as a post).
pub(super) async fn vote(ctx: &Ctx, actor: &Account, note: &RemoteNote) -> ServiceResult<bool> {
    let (Some(name), Some(parent)) = (note.name.as_deref(), note.in_reply_to.0.as_deref()) else {
        return Ok(false);
    };
    if note.content.as_deref().is_some_and(|c| !c.is_empty()) || !note.owned_by(a_uri(actor)) {
        return Ok(false);
    }
    let mut conn = ctx.conn().await?;
    let Some(status) = db::statuses::find_by_uri_or_local(&mut conn, parent, &ctx.base_url())
        .await?
        .filter(|s| s.local)
    else {
        return Ok(false);
    };
    let Some(poll) = db::polls::of_statuses(&mut conn, &[status.id]).await?.pop() else {
        return Ok(false);
    };
    let options: Vec<String> = serde_json::from_str(&poll.options).unwrap_or_default();
    let Some(choice) = options.iter().position(|o| o == name) else {
        return Err(bad("a vote for an option the poll does not have"));
    };
    if poll.expires_at <= ids::now() {
        return Err(bad("a vote on an ended poll"));
    }
    let Some((author, _)) = db::accounts::find(&mut conn, status.account_id).await? else {
        return Ok(true);
    };
    if db::statuses::find_visible(&mut conn, status.id, Some(actor.id))
        .await?
        .is_none()
    {
        return Err(bad("a vote on a poll the actor may not see"));
    }
    conn.transaction(async |tx| {
        let votes = db::polls::votes(tx, &[poll.id]).await?;
        let mine: Vec<i32> = votes
            .iter()
            .filter(|(_, a, _)| *a == actor.id)
            .map(|(_, _, c)| *c)
            .collect();
        // One choice per voter unless the poll allows several; each once.
        if mine.contains(&(choice as i32)) || (!poll.multiple && !mine.is_empty()) {
            return Ok::<_, ServiceError>(());
        }
        db::polls::vote(tx, poll.id, actor.id, &[choice as i32], ids::now()).await?;
        crate::federation::outbox::status_published(ctx, tx, &author, &status, true).await?;
        Ok(())
    })
    .await?;
    drop(conn);
    ctx.wake_delivery();
    Ok(true)
}

pub(super) async fn create_note(
    ctx: &Ctx,
    actor: &Account,
    activity: &RemoteActivity,
    raw: &Value,
) -> ServiceResult<()> {
    if vote(ctx, actor, &RemoteNote::read(&activity.object)).await? {
        return Ok(());
    }
    // A post we have already is not passed on again (a Create repeated
    // under a new id would otherwise fan out each time).
    let mut conn = ctx.conn().await?;
    let known = match RemoteNote::read(&activity.object).id {
        Some(id) => db::statuses::find_by_uri(&mut conn, &id).await?.is_some(),
        None => false,
    };
    drop(conn);
    let stored = store_note(ctx, actor, &activity.object, actors::Ancestry::start()).await?;
    // A reply in one of our orgs' threads is passed on by the org; so is a
    // member's new post, in the form Lemmy reads (the org's boost of it,
    // `announce_member_post`, is the form Mastodon reads). Members-only
    // posts are passed on with their proof by `announce_member_post`.
    let Some(s) = stored.filter(|s| !known && s.visibility.is_open()) else {
        return Ok(());
    };
    let passed_on = match (s.in_reply_to_id, s.audience_id) {
        (Some(_), _) => true,
        (None, Some(org)) if s.visibility.is_open() => {
            crate::services::memberships::is_member(
                ctx,
                crate::domain::OrgId(org),
                crate::domain::AccountId(actor.id),
            )
            .await?
        }
        (None, _) => false,
    };
    if passed_on {
        org_relays(ctx, actor, raw, &s).await?;
    }
    Ok(())
}

/// Stores a remote Note by `actor` (checked: on its origin, attributed to it);
/// returns the status, existing or new (None: a direct post for nobody here).
/// An unknown parent is fetched first, as far as `chain` allows.
pub async fn store_note(
    ctx: &Ctx,
    actor: &Account,
    object: &Value,
    chain: actors::Ancestry,
) -> ServiceResult<Option<Status>> {
    store_note_vouched(ctx, actor, object, chain, None).await
}

/// `store_note`, for a Note a group passed on (`vouched_by`, in its Announce).
pub(super) async fn store_note_vouched(
    ctx: &Ctx,
    actor: &Account,
    object: &Value,
    chain: actors::Ancestry,
    vouched_by: Option<&Account>,
) -> ServiceResult<Option<Status>> {
    let note = RemoteNote::read(object);
    let Some(uri) = note.id.as_deref() else {
        // Only the id: fetching it is for the resolve path; nothing embedded to trust.
        return Err(bad("Create without an embedded object"));
    };
    if !note.owned_by(a_uri(actor)) {
        return Err(bad(
            "a Note must be by the actor that creates it, on its origin",
        ));
    }
    let mut conn = ctx.conn().await?;
    if let Some(known) = db::statuses::find_by_uri(&mut conn, uri).await? {
        return Ok(Some(known));
    }
    drop(conn);
    let mut visibility = visibility_of(&note.addressing, actor.followers_url.as_deref());
    let mut audience = match vouched_by {
        // Passed on by its group to the group's members: members-only there.
        Some(group) => {
            visibility = Visibility::Members;
            Some(group.clone())
        }
        None => audience_of(ctx, actor, &note.addressing, &mut visibility).await?,
    };
    let mut conn = ctx.conn().await?;
    let mut mentioned_local = Vec::new();
    let mut mentioned_accounts = Vec::new();
    for href in note.mentions() {
        if let Some(a) = local_by_uri(ctx, &mut conn, href).await? {
            mentioned_local.push(a.id);
            mentioned_accounts.push(a);
        }
    }
    // A private post by a verified member that mentions one of our orgs is
    // members-only in that org (the Friendica convention, so members on
    // plain Mastodon servers can post to the org's members); direct stays direct.
    if audience.is_none() && visibility == Visibility::Private {
        let (v, org) = crate::services::groups::audience_for(
            &mut conn,
            actor.id,
            None,
            visibility,
            &mentioned_accounts,
            None,
        )
        .await?;
        if org.is_some() && v == Visibility::Members {
            visibility = Visibility::Members;
            audience = org;
        }
    }
    let tags = note.hashtags();
    // A direct post reaches only those it names: drop it when it names nobody here.
    if visibility == Visibility::Direct && mentioned_local.is_empty() {
        return Ok(None);
    }
    if visibility == Visibility::Members && audience.is_none() {
        return Ok(None);
    }
    let in_reply_to = note.in_reply_to.0.as_deref();
    let mut parent = match in_reply_to {
        Some(p) => db::statuses::find_by_uri_or_local(&mut conn, p, &ctx.base_url()).await?,
        None => None,
    };
    if parent.is_none()
        && let Some(p) = in_reply_to
        && let Some(next) = chain.step(uri, p)
    {
        drop(conn);
        // A parent that cannot be had now leaves the reply unattached, as on
        // Mastodon; it is not a reason to refuse the reply.
        parent = actors::fetch_note_within_budget(ctx, p, next)
            .await
            .unwrap_or(None);
        conn = ctx.conn().await?;
        // A loop in the chain may have stored this very post meanwhile.
        if let Some(known) = db::statuses::find_by_uri(&mut conn, uri).await? {
            return Ok(Some(known));
        }
    }
    if let Some(p) = &parent
        && vouched_by.is_none()
    {
        // A reply is in its thread's org (a members-only thread: only when
        // the reply is members-only too). Naming one of our orgs does not
        // put a stranger's reply elsewhere into it: only its members post
        // into an org.
        let thread_org = p
            .audience_id
            .filter(|_| p.visibility != Visibility::Members || visibility == Visibility::Members);
        if let Some(org) = audience
            .as_ref()
            .filter(|o| o.local && Some(o.id) != thread_org)
            && db::memberships::find(
                &mut conn,
                crate::domain::OrgId(org.id),
                crate::domain::AccountId(actor.id),
            )
            .await?
            .is_none_or(|m| m.state != MembershipState::Verified)
        {
            audience = None;
        }
        // One that names no group stays in its thread's org (a Mastodon
        // reply to a post in a Lemmy community, or in one of ours).
        if audience.is_none()
            && visibility.is_open()
            && let Some(org_id) = thread_org
        {
            audience = db::accounts::find(&mut conn, org_id).await?.map(|(a, _)| a);
        }
    }
    let content = post_content(&note);
    let now = ids::now();
    let published = note.published_at().filter(|d| *d <= now).unwrap_or(now);
    let status = Status {
        id: ids::next_id(),
        account_id: actor.id,
        uri: Some(uri.to_owned()),
        url: note.url.0.clone(),
        text: String::new(),
        content,
        spoiler_text: crate::services::text::strip_html(
            note.summary.as_deref().unwrap_or_default(),
        ),
        visibility,
        sensitive: note.sensitive.unwrap_or(false),
        language: note.language(),
        in_reply_to_id: parent.as_ref().map(|p| p.id),
        in_reply_to_account_id: parent.as_ref().map(|p| p.account_id),
        reblog_of_id: None,
        application_id: None,
        local: false,
        created_at: published,
        updated_at: now,
        edited_at: None,
        audience_id: audience.as_ref().map(|a| a.id),
    };
    let media = objects::attachments_of(&note)
        .iter()
        .enumerate()
        .map(|(i, a)| remote_media(actor.id, status.id, i as i32, a, now))
        .collect();
    let poll = (note.kind == Some(ObjectKind::Question))
        .then(|| objects::question_of(&note, now))
        .flatten()
        .map(|q| remote_poll(status.id, &q, now));
    let post = pipeline::NewPost {
        author: actor,
        status,
        mentions: &mentioned_accounts,
        tags,
        media: pipeline::PostMedia::Linked(media),
        poll,
        // A member's post is shared by the org only once its membership
        // is checked (`announce_member_post`).
        shared_into: None,
        idempotency_key: None,
    };
    let posted = pipeline::persist(ctx, &mut conn, post).await?;
    drop(conn);
    pipeline::surface(ctx, &posted).await?;
    let s = posted.status;
    if let Some(org) = &audience
        && org.local
        && (s.in_reply_to_id.is_none() || s.visibility == Visibility::Members)
    {
        announce_member_post(ctx, org, actor, &s, object).await?;
    }
    Ok(Some(s))
}

/// Delete of a remote status or actor; returns the status deleted.
pub(super) async fn delete(
    ctx: &Ctx,
    actor: &Account,
    object: &Value,
) -> ServiceResult<Option<Status>> {
    let uri = id_of(object).ok_or_else(|| bad("Delete without object"))?;
    let actor_uri = actor.ap_id.as_deref().unwrap_or_default();
    let mut conn = ctx.conn().await?;
    if uri == actor_uri {
        db::federation::delete_remote_account(&mut conn, actor.id).await?;
        return Ok(None);
    }
    if !same_origin(uri, actor_uri) {
        return Err(bad("Delete of an object on another origin"));
    }
    if let Some(s) = db::statuses::find_by_uri(&mut conn, uri).await?
        && s.account_id == actor.id
    {
        drop(conn);
        forget_status(ctx, &s).await?;
        return Ok(Some(s));
    }
    Ok(None)
}

/// Deletes our copy of a remote post and tells the streams it is gone.
pub(super) async fn forget_status(ctx: &Ctx, s: &Status) -> ServiceResult<()> {
    let deletion = streaming::deletion(ctx, s).await?;
    let mut conn = ctx.conn().await?;
    db::statuses::delete(&mut conn, s.id).await?;
    drop(conn);
    deletion.publish(ctx);
    Ok(())
}

/// Like (or its Undo) of a status we have; returns it when that changed
/// anything.
pub(super) async fn like(
    ctx: &Ctx,
    actor: &Account,
    object: &Value,
    on: bool,
) -> ServiceResult<Option<Status>> {
    let uri = id_of(object).ok_or_else(|| bad("Like without object"))?;
    let mut conn = ctx.conn().await?;
    let Some(s) = db::statuses::find_by_uri_or_local(&mut conn, uri, &ctx.base_url()).await? else {
        return Ok(None);
    };
    if on
        && db::statuses::find_visible(&mut conn, s.id, Some(actor.id))
            .await?
            .is_none()
    {
        return Err(bad("Like of a status the actor may not see"));
    }
    let author_local = db::accounts::find(&mut conn, s.account_id)
        .await?
        .is_some_and(|(a, _)| a.local);
    let note = Notification {
        id: ids::next_id(),
        account_id: s.account_id,
        from_account_id: actor.id,
        kind: crate::domain::NotificationKind::Favourite,
        status_id: Some(s.id),
        created_at: ids::now(),
    };
    // (changed, notified)
    let (changed, notified) = conn
        .transaction(async |tx| {
            if on {
                let fav = crate::db::models::Favourite {
                    id: ids::next_id(),
                    account_id: actor.id,
                    status_id: s.id,
                    created_at: ids::now(),
                };
                let added = db::social::favourite::add(tx, &fav).await?;
                if added && author_local {
                    db::notifications::insert(tx, &note).await?;
                }
                return Ok::<_, ServiceError>((added, added && author_local));
            }
            if db::social::favourite::remove(tx, actor.id, s.id).await? == 0 {
                return Ok((false, false));
            }
            db::notifications::retract(
                tx,
                s.account_id,
                actor.id,
                crate::domain::NotificationKind::Favourite,
                Some(s.id),
            )
            .await?;
            Ok((true, false))
        })
        .await?;
    if notified {
        streaming::notifications(ctx, std::slice::from_ref(&note));
    }
    // Only a change is passed on: a repeated Like is no news.
    Ok(changed.then_some(s))
}

/// A negative vote (Lemmy's Dislike), or its Undo, on a status we have:
/// kept as such; Mastodon has none, so no favourite and no notification.
/// Returns the status when that changed anything.
pub(super) async fn dislike(
    ctx: &Ctx,
    actor: &Account,
    object: &Value,
    on: bool,
) -> ServiceResult<Option<Status>> {
    let uri = id_of(object).ok_or_else(|| bad("Dislike without object"))?;
    let mut conn = ctx.conn().await?;
    let Some(s) = db::statuses::find_by_uri_or_local(&mut conn, uri, &ctx.base_url()).await? else {
        return Ok(None);
    };
    if on {
        if db::statuses::find_visible(&mut conn, s.id, Some(actor.id))
            .await?
            .is_none()
        {
            return Err(bad("Dislike of a status the actor may not see"));
        }
        let vote = crate::db::models::Dislike {
            id: ids::next_id(),
            account_id: actor.id,
            status_id: s.id,
            created_at: ids::now(),
        };
        if !db::social::dislike::add(&mut conn, &vote).await? {
            return Ok(None);
        }
    } else if db::social::dislike::remove(&mut conn, actor.id, s.id).await? == 0 {
        return Ok(None);
    }
    Ok(Some(s))
}

/// Announce of a status we have (ours, or a remote one we stored).
pub(super) async fn announce(
    ctx: &Ctx,
    actor: &Account,
    activity: &RemoteActivity,
) -> ServiceResult<()> {
    let id = activity.id.as_deref().unwrap_or_default();
    // Groups (Lemmy, Mbin, us) also announce the Create: the post is inside.
    let create;
    let object = match activity.object_kind() {
        Some("Create") => {
            create = activity.embedded();
            // A comment (a reply) a group passes on is stored as a reply,
            // not boosted.
            if actor.actor_type == crate::domain::ActorType::Group
                && RemoteNote::read(&create.object).in_reply_to.0.is_some()
            {
                return announced(ctx, actor, activity).await;
            }
            &create.object
        }
        None => &activity.object,
        Some(t) if ObjectKind::parse(t).is_some_and(ObjectKind::is_post) => &activity.object,
        // A group passes on what happens in it (FEP-1b12).
        Some(_) if actor.actor_type == crate::domain::ActorType::Group => {
            return announced(ctx, actor, activity).await;
        }
        Some(other) => {
            tracing::info!(
                kind = other,
                "Announce of an activity of this type; dropped"
            );
            return Ok(());
        }
    };
    let uri = id_of(object).ok_or_else(|| bad("Announce without object"))?;
    // A group passing a members-only post on: taken only when the Note is on
    // the group's own origin (a group vouches for nothing else) or carries
    // its author's proof. Anything else is fetched from its own origin below
    // like any boost, which a members-only post never survives.
    if actor.actor_type == crate::domain::ActorType::Group
        && object.is_object()
        && addressed_to_members(&activity.addressing, a_uri(actor))
        && RemoteNote::read(object).addressing.names(a_uri(actor))
        && (same_origin(uri, a_uri(actor)) || proven_by_author(ctx, object).await)
    {
        return members_post_passed_on(ctx, actor, object).await;
    }
    let mut conn = ctx.conn().await?;
    if db::statuses::find_by_uri(&mut conn, id).await?.is_some() {
        return Ok(());
    }
    let known = db::statuses::find_by_uri_or_local(&mut conn, uri, &ctx.base_url()).await?;
    let original = match known {
        Some(s) => s,
        None => {
            // An embedded object is not trusted (it may be on another origin):
            // the post is fetched from its own server, by its id.
            drop(conn);
            let fetched =
                actors::fetch_note_within_budget(ctx, uri, actors::Ancestry::start()).await;
            conn = ctx.conn().await?;
            match fetched {
                Ok(Some(s)) => s,
                // The actor's own server is down or slow for now: the worker
                // tries the whole Announce again later. A third server's
                // trouble is not worth holding the actor's queue for (a
                // hostile one could stall a relay's stream with 503s).
                Err(e) if e.retryable() && same_origin(uri, a_uri(actor)) => return Err(e),
                Ok(None) | Err(_) => {
                    tracing::info!(
                        object = uri,
                        "Announce of a post that cannot be fetched; dropped"
                    );
                    return Ok(());
                }
            }
        }
    };
    if !original.visibility.is_open() {
        return Err(bad("Announce of a non-public status"));
    }
    // Both forms of a group's announce (and any repeat) make one boost.
    if !db::statuses::reblogged_by(&mut conn, actor.id, &[original.id])
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let row = crate::services::statuses::reblog_row(
        actor.id,
        original.id,
        visibility_of(&activity.addressing, actor.followers_url.as_deref()),
        Some(id.to_owned()),
    );
    let now = row.created_at;
    let author_local = db::accounts::find(&mut conn, original.account_id)
        .await?
        .is_some_and(|(a, _)| a.local);
    let note = Notification {
        id: ids::next_id(),
        account_id: original.account_id,
        from_account_id: actor.id,
        kind: crate::domain::NotificationKind::Reblog,
        status_id: Some(original.id),
        created_at: now,
    };
    let r = conn
        .transaction(async |tx| {
            let r = db::statuses::insert(tx, &row).await?;
            if author_local {
                db::notifications::insert(tx, &note).await?;
            }
            Ok::<_, ServiceError>(r)
        })
        .await?;
    drop(conn);
    if author_local {
        streaming::notifications(ctx, std::slice::from_ref(&note));
    }
    let streams = streaming::status_streams(ctx, &r, &[], &[]).await?;
    ctx.hub.publish(streams, streaming::Payload::Status(r.id));
    Ok(())
}

pub(super) async fn undo_announce(ctx: &Ctx, actor: &Account, object: &Value) -> ServiceResult<()> {
    let Some(id) = id_of(object) else {
        return Ok(());
    };
    let mut conn = ctx.conn().await?;
    if let Some(r) = db::statuses::find_by_uri(&mut conn, id).await?
        && r.account_id == actor.id
        && r.reblog_of_id.is_some()
    {
        drop(conn);
        let deletion = streaming::deletion(ctx, &r).await?;
        let mut conn = ctx.conn().await?;
        db::statuses::delete(&mut conn, r.id).await?;
        drop(conn);
        deletion.publish(ctx);
    }
    Ok(())
}

/// The row of a remote post's attachment: linked, not copied.
pub(super) fn remote_media(
    account_id: i64,
    status_id: i64,
    position: i32,
    a: &objects::Attachment,
    now: chrono::NaiveDateTime,
) -> crate::db::models::MediaAttachment {
    let meta = crate::services::media::MediaMeta {
        original: a.size.map(|(w, h)| {
            crate::services::media::ImageSize::new(
                u32::try_from(w).unwrap_or(u32::MAX),
                u32::try_from(h).unwrap_or(u32::MAX),
            )
        }),
        small: None,
    };
    crate::db::models::MediaAttachment {
        id: ids::next_id(),
        account_id,
        status_id: Some(status_id),
        kind: a.kind,
        file: None,
        preview_file: None,
        remote_url: Some(a.url.clone()),
        description: a.description.clone(),
        focus_x: a.focus.0,
        focus_y: a.focus.1,
        meta: meta.to_text(),
        blurhash: a.blurhash.clone(),
        state: crate::domain::MediaState::Ready,
        error: None,
        position,
        created_at: now,
        updated_at: now,
    }
}

/// The row of a remote poll: tallies as its server reports them.
pub(super) fn remote_poll(
    status_id: i64,
    q: &objects::QuestionPoll,
    now: chrono::NaiveDateTime,
) -> crate::db::models::Poll {
    crate::db::models::Poll {
        id: ids::next_id(),
        status_id,
        options: serde_json::to_string(&q.options).unwrap_or_else(|_| "[]".into()),
        multiple: q.multiple,
        hide_totals: false,
        expires_at: q.end,
        created_at: now,
        // Their server announces the end; our voters get the notification
        // from our own loop, which this flag leaves armed.
        ended_notified: false,
        remote_counts: Some(serde_json::to_string(&q.counts).unwrap_or_else(|_| "[]".into())),
        remote_voters: q.voters,
    }
}

/// A post's HTML as we keep it: sanitized; Lemmy and Mbin posts (Page,
/// Article) and Mobilizon events carry their title in `name`, shown first
/// in bold.
fn post_content(note: &RemoteNote) -> String {
    let content = crate::services::text::sanitize(note.content.as_deref().unwrap_or_default());
    if matches!(
        note.kind,
        Some(ObjectKind::Page | ObjectKind::Article | ObjectKind::Event)
    ) && let Some(title) = note.name.as_deref().map(crate::services::text::strip_html)
        && !title.trim().is_empty()
    {
        return format!(
            "<p><strong>{}</strong></p>{content}",
            html_escape::encode_text(title.trim())
        );
    }
    content
}

/// An edit of a remote status: the embedded Note must be the actor's, on
/// its origin. Returns the status when its text changed.
pub(super) async fn update_note(
    ctx: &Ctx,
    actor: &Account,
    object: &Value,
) -> ServiceResult<Option<Status>> {
    let note = RemoteNote::read(object);
    let uri = note
        .id
        .as_deref()
        .ok_or_else(|| bad("Update without object id"))?;
    if !note.owned_by(a_uri(actor)) {
        return Err(bad("Update of another actor's object"));
    }
    let mut conn = ctx.conn().await?;
    let Some(old) = db::statuses::find_by_uri(&mut conn, uri).await? else {
        return Ok(None);
    };
    if old.account_id != actor.id {
        return Err(bad("Update of another actor's status"));
    }
    // An older version (a replayed signed copy) does not undo a newer edit.
    if let (Some(sent), Some(ours)) = (note.updated_at(), old.edited_at)
        && sent <= ours
    {
        tracing::info!(object = uri, "an Update older than our copy; dropped");
        return Ok(None);
    }
    let now = ids::now();
    if note.kind == Some(ObjectKind::Question)
        && let Some(q) = objects::question_of(&note, now)
        && let Some(poll) = db::polls::of_statuses(&mut conn, &[old.id]).await?.pop()
        && poll.remote_counts.is_some()
    {
        let counts = serde_json::to_string(&q.counts).unwrap_or_else(|_| "[]".into());
        db::polls::update_remote(&mut conn, poll.id, &counts, q.voters, q.end).await?;
    }
    let mut new = old.clone();
    new.content = post_content(&note);
    new.spoiler_text =
        crate::services::text::strip_html(note.summary.as_deref().unwrap_or_default());
    new.sensitive = note.sensitive.unwrap_or(false);
    if (&new.content, &new.spoiler_text, new.sensitive)
        == (&old.content, &old.spoiler_text, old.sensitive)
    {
        // New tallies only (a Question's Update): not an edit.
        drop(conn);
        ctx.hub.publish(
            streaming::status_streams(ctx, &old, &[], &[]).await?,
            streaming::Payload::StatusUpdate(old.id),
        );
        return Ok(None);
    }
    new.updated_at = now;
    // When its server says it was edited (what a later Update is compared with).
    new.edited_at = Some(note.updated_at().filter(|u| *u <= now).unwrap_or(now));
    let edit = crate::db::models::StatusEdit {
        id: ids::next_id(),
        status_id: old.id,
        text: old.text.clone(),
        content: old.content.clone(),
        spoiler_text: old.spoiler_text.clone(),
        sensitive: old.sensitive,
        created_at: old.edited_at.unwrap_or(old.created_at),
    };
    let updated = conn
        .transaction(async |tx| {
            db::statuses::insert_edit(tx, &edit).await?;
            Ok::<_, ServiceError>(db::statuses::update_content(tx, &new).await?)
        })
        .await?;
    drop(conn);
    let streams = streaming::status_streams(ctx, &updated, &[], &[]).await?;
    ctx.hub
        .publish(streams, streaming::Payload::StatusUpdate(updated.id));
    Ok(Some(updated))
}
