//! Orgs as groups: Join and its answers, Leave, Remove, and posts addressed to an org's members.
use super::*;

/// Whether an Accept/Reject answers a Join (embedded, or by the id of one we sent).
pub(super) fn is_join_answer(ctx: &Ctx, answer: &RemoteActivity) -> bool {
    let base = ctx.base_url();
    answer.object_kind() == Some("Join")
        || answer
            .object_id()
            .is_some_and(|id| id.starts_with(&format!("{base}/users/")) && id.contains("#join/"))
}

/// A remote group's answer to our person's Join.
pub(super) async fn join_answered(
    ctx: &Ctx,
    group: &Account,
    activity: &RemoteActivity,
    accept: bool,
) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    let person = match activity.embedded().actor.0.as_deref() {
        Some(uri) => local_by_uri(ctx, &mut conn, uri).await?,
        None => None,
    };
    // By id alone: our Join ids name the person (`/users/<name>#join/<id>`).
    let person = match person {
        Some(p) => Some(p),
        None => match activity
            .object_id()
            .and_then(|id| id.split("#join/").next())
        {
            Some(actor) => local_by_uri(ctx, &mut conn, actor).await?,
            None => None,
        },
    };
    let Some(person) = person else {
        return Err(bad("Accept/Reject of a Join by nobody here"));
    };
    drop(conn);
    let claim = &activity.membership;
    crate::services::memberships::remote_answer(
        ctx,
        group,
        person.id,
        if accept {
            MembershipState::Verified
        } else {
            MembershipState::Rejected
        },
        claim.role.as_deref().and_then(Role::parse),
        claim.left_on.clone(),
    )
    .await
}

/// A remote person asks to join one of our orgs (our membership protocol,
/// docs/federation.md).
pub(super) async fn join(
    ctx: &Ctx,
    actor: &Account,
    activity: &RemoteActivity,
) -> ServiceResult<()> {
    let target = activity
        .object_id()
        .ok_or_else(|| bad("Join without object"))?;
    let mut conn = ctx.conn().await?;
    let Some(org) = local_by_uri(ctx, &mut conn, target)
        .await?
        .filter(|a| a.actor_type == crate::domain::ActorType::Group)
    else {
        return Err(bad("Join of no org here"));
    };
    drop(conn);
    let claim = &activity.membership;
    let request = crate::services::memberships::JoinRequest {
        role: claim
            .role
            .clone()
            .filter(|r| Role::parse(r) != Some(Role::Office)),
        tenure_from: claim.tenure_from.clone(),
        tenure_to: claim.tenure_to.clone(),
        divisions: claim
            .divisions
            .iter()
            .take(20)
            .filter_map(|d| d.as_str().map(str::to_owned))
            .collect(),
        message: activity
            .content
            .as_deref()
            .map(crate::services::text::strip_html),
        invite_code: claim.invite_code.clone(),
        consents: claim
            .consents
            .iter()
            .filter(|(p, _)| ConsentPurpose::parse(p).is_some())
            .filter_map(|(p, g)| g.as_bool().map(|g| (p.clone(), g)))
            .collect(),
        wording_version: claim
            .consent_wording_version
            .clone()
            .filter(|v| v.len() <= 32),
    };
    let join_id = activity.id.clone();
    let result = crate::services::memberships::request_as(
        ctx,
        org.id,
        actor,
        None,
        join_id.clone(),
        request,
    )
    .await;
    match result {
        Ok(m) if m.state != MembershipState::Pending => {
            // Answered at once (invite) or again (a repeated Join).
            let mut conn = ctx.conn().await?;
            conn.transaction(async |tx| {
                crate::federation::outbox::membership_changed(ctx, tx, &m).await
            })
            .await?;
            crate::federation::rt(ctx).wake_delivery.notify_one();
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e @ (ServiceError::Validation(_) | ServiceError::Forbidden(_))) => {
            // A claim we cannot accept (or a blocked person) is answered with
            // Reject, not silence.
            tracing::info!(actor = a_uri(actor), error = %e, "Join refused");
            let mut conn = ctx.conn().await?;
            let mut m = crate::services::memberships::new_membership(
                org.id,
                actor.id,
                Role::Alumnus,
                MembershipState::Rejected,
                Via::Remote,
            );
            m.join_ap_id = join_id;
            m.decided_at = Some(m.created_at);
            conn.transaction(async |tx| {
                m = db::memberships::save(tx, &m).await?;
                crate::federation::outbox::membership_changed(ctx, tx, &m).await
            })
            .await?;
            crate::federation::rt(ctx).wake_delivery.notify_one();
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// A remote member leaves one of our orgs.
pub(super) async fn leave(ctx: &Ctx, actor: &Account, object: &Value) -> ServiceResult<()> {
    let target = id_of(object).ok_or_else(|| bad("Leave without object"))?;
    let mut conn = ctx.conn().await?;
    let Some(org) = local_by_uri(ctx, &mut conn, target).await? else {
        return Ok(());
    };
    drop(conn);
    crate::services::memberships::remote_left(ctx, org.id, actor.id).await
}

/// A remote group removes our person from its members.
pub(super) async fn removed(
    ctx: &Ctx,
    group: &Account,
    activity: &RemoteActivity,
) -> ServiceResult<()> {
    let members = crate::federation::outbox::members_collection(a_uri(group));
    if activity.target.0.as_deref() != Some(members.as_str()) {
        tracing::info!(
            actor = a_uri(group),
            "Remove from another collection; dropped"
        );
        return Ok(());
    }
    let Some(person_uri) = activity.object_id() else {
        return Err(bad("Remove without object"));
    };
    let mut conn = ctx.conn().await?;
    let Some(person) = local_by_uri(ctx, &mut conn, person_uri).await? else {
        return Ok(());
    };
    drop(conn);
    crate::services::memberships::remote_answer(
        ctx,
        group,
        person.id,
        MembershipState::Left,
        None,
        None,
    )
    .await
}

/// Whether a Note is addressed to `group_uri`'s members collection.
pub(super) fn addressed_to_members(addressing: &Addressing, group_uri: &str) -> bool {
    addressing.addressed_to(&crate::federation::outbox::members_collection(group_uri))
}

/// The group a Note is addressed to (`audience`), when known or fetchable.
/// A members-only Note (addressed to the group's members collection) is
/// taken from the group's own server, or from a verified member posting into
/// one of our orgs (which then passes it on); from anyone else it is
/// refused. (A group's passing on is `store_note_vouched`.) Sets
/// `visibility` to `members` for those.
pub(super) async fn audience_of(
    ctx: &Ctx,
    actor: &Account,
    addressing: &Addressing,
    visibility: &mut Visibility,
) -> ServiceResult<Option<Account>> {
    let Some(group_uri) = addressing.audience.single() else {
        return Ok(None);
    };
    let mut conn = ctx.conn().await?;
    let local = local_by_uri(ctx, &mut conn, group_uri).await?;
    if addressed_to_members(addressing, group_uri) {
        let allowed = same_origin(group_uri, a_uri(actor))
            || match &local {
                Some(org) => db::memberships::find(
                    &mut conn,
                    crate::domain::OrgId(org.id),
                    crate::domain::AccountId(actor.id),
                )
                .await?
                .is_some_and(|m| m.state == MembershipState::Verified),
                None => false,
            };
        if !allowed {
            return Err(bad(
                "a members-only post from neither the group nor one of its members",
            ));
        }
        *visibility = Visibility::Members;
    }
    let known = match local {
        Some(a) => Some(a),
        None => db::federation::account_by_ap_id(&mut conn, group_uri).await?,
    };
    drop(conn);
    let group = match known {
        Some(a) => Some(a),
        None => actors::resolve(ctx, group_uri, false).await.ok(),
    };
    Ok(group.filter(|g| g.actor_type == crate::domain::ActorType::Group))
}

/// A verified member elsewhere posted into one of our orgs: the org
/// announces it to its followers (FEP-1b12), or, members-only, passes it on
/// to its members' other servers.
pub(super) async fn announce_member_post(
    ctx: &Ctx,
    org: &Account,
    author: &Account,
    s: &Status,
    object: &Value,
) -> ServiceResult<()> {
    if !crate::services::memberships::is_member(
        ctx,
        crate::domain::OrgId(org.id),
        crate::domain::AccountId(author.id),
    )
    .await?
    {
        tracing::info!(
            author = a_uri(author),
            "a post into an org by a non-member; not announced"
        );
        return Ok(());
    }
    let mut conn = ctx.conn().await?;
    if s.visibility == Visibility::Members {
        conn.transaction(async |tx| {
            crate::federation::outbox::pass_on_to_members(ctx, tx, org, author, s, object).await
        })
        .await?;
        crate::federation::rt(ctx).wake_delivery.notify_one();
        return Ok(());
    }
    let reblog = conn
        .transaction(async |tx| crate::services::groups::org_shares(ctx, tx, org, author, s).await)
        .await?;
    drop(conn);
    crate::federation::rt(ctx).wake_delivery.notify_one();
    if let Some(r) = reblog {
        let streams = streaming::status_streams(ctx, &r, &[], &[]).await?;
        ctx.hub.publish(streams, streaming::Payload::Status(r.id));
    }
    Ok(())
}

/// Whether an embedded Note carries a valid proof by its author.
pub(super) async fn proven_by_author(ctx: &Ctx, object: &Value) -> bool {
    let note = RemoteNote::read(object);
    let Some(author_uri) = note.attributed_to.single() else {
        return false;
    };
    note.owned_by(author_uri) && proven_by(ctx, object, author_uri).await
}

/// Whether `object` carries a valid proof by `signer_uri` (checked with the
/// key the signer's own server publishes; fetched again once, for a rotated
/// key).
pub(super) async fn proven_by(ctx: &Ctx, object: &Value, signer_uri: &str) -> bool {
    if object.get("proof").is_none() {
        return false;
    }
    let check = |a: &Account| {
        crate::federation::rt(ctx)
            .keys
            .get(&a.public_key_pem)
            .is_ok_and(|key| crate::federation::proofs::verify(object, signer_uri, &key))
    };
    match actors::resolve(ctx, signer_uri, false).await {
        Ok(a) if check(&a) => true,
        Ok(_) => actors::resolve(ctx, signer_uri, true)
            .await
            .is_ok_and(|a| check(&a)),
        Err(_) => false,
    }
}

/// One of our orgs passes on an activity by someone elsewhere on one of its
/// posts (FEP-1b12) — unless the org blocks them or their server, or the
/// post is members-only and they are no member.
pub(super) async fn org_relays(
    ctx: &Ctx,
    actor: &Account,
    raw: &Value,
    s: &Status,
) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    let Some(org) = crate::federation::outbox::org_of(&mut conn, s).await? else {
        return Ok(());
    };
    if s.visibility == Visibility::Members
        && db::memberships::find(
            &mut conn,
            crate::domain::OrgId(org.id),
            crate::domain::AccountId(actor.id),
        )
        .await?
        .is_none_or(|m| m.state != MembershipState::Verified)
    {
        return Ok(());
    }
    conn.transaction(async |tx| {
        crate::federation::outbox::org_passes_on(ctx, tx, &org, s, raw, actor).await
    })
    .await?;
    drop(conn);
    ctx.wake_delivery();
    Ok(())
}

/// What a remote group passes on (FEP-1b12): `Announce` of another
/// activity in it. The group vouches only for activities by actors on its
/// own origin; any other is taken when it carries its actor's proof, or
/// once its own origin confirms it (the post fetched from there, a deleted
/// post gone there, a vote served there under its id).
pub(super) async fn announced(
    ctx: &Ctx,
    group: &Account,
    announce: &RemoteActivity,
) -> ServiceResult<()> {
    let raw = &announce.object;
    let inner = announce.embedded();
    let (Some(id), Some(actor_uri)) = (inner.id.as_deref(), inner.actor.0.as_deref()) else {
        return Err(bad("an announced activity without id or actor"));
    };
    if !same_origin(id, actor_uri) {
        return Err(bad("an announced activity not on its actor's origin"));
    }
    let Some(kind) = inner.kind.as_deref().and_then(ActivityKind::parse) else {
        tracing::info!(kind = ?inner.kind, "Announce of an activity of this type; dropped");
        return Ok(());
    };
    // Moderation in the community (Lemmy): a lock, a ban, a removal, and
    // their undoing.
    let undone = inner.embedded();
    match (kind, undone.kind.as_deref().and_then(ActivityKind::parse)) {
        (ActivityKind::Lock | ActivityKind::Block | ActivityKind::Add, _) => {
            return moderated(ctx, group, actor_uri, &inner, true, true).await;
        }
        (ActivityKind::Remove, _) => {
            return moderated(ctx, group, actor_uri, &inner, false, true).await;
        }
        (ActivityKind::Undo, Some(ActivityKind::Lock | ActivityKind::Block)) => {
            return moderated(ctx, group, actor_uri, &undone, false, true).await;
        }
        (ActivityKind::Undo, Some(ActivityKind::Delete)) => {
            let Some(uri) = undone.object_id() else {
                return Err(bad("an Undo of a Delete without object"));
            };
            return restored(ctx, group, uri).await;
        }
        (ActivityKind::Delete, _) if is_removal(ctx, &inner).await? => {
            return moderated(ctx, group, actor_uri, &inner, true, true).await;
        }
        _ => {}
    }
    let vouched = same_origin(actor_uri, a_uri(group)) || proven_by(ctx, raw, actor_uri).await;
    let object_id = inner.object_id().map(str::to_owned);
    // Whatever it acts on (a post, a vote's target aside) is on its actor's
    // origin: checked before anything is fetched for it.
    if matches!(
        kind,
        ActivityKind::Create | ActivityKind::Update | ActivityKind::Delete
    ) && !object_id
        .as_deref()
        .is_some_and(|o| same_origin(o, actor_uri))
    {
        return Err(bad("an announced activity on an object of another origin"));
    }
    let actor = actors::resolve(ctx, actor_uri, false).await?;
    match kind {
        ActivityKind::Create | ActivityKind::Update => {
            let Some(uri) = object_id else {
                return Err(bad("an announced Create or Update without object"));
            };
            let object = if vouched || proven_by_author(ctx, &inner.object).await {
                inner.object.clone()
            } else {
                // The post as its own server serves it now, under the same id.
                let url = url::Url::parse(&uri).map_err(|_| bad("not a URL"))?;
                let doc = actors::fetch_signed(ctx, &url).await?;
                if RemoteNote::read(&doc).id.as_deref() != Some(uri.as_str()) {
                    return Err(bad("the post's origin serves another id"));
                }
                doc
            };
            if !ObjectKind::of(&object).is_some_and(ObjectKind::is_post) {
                tracing::info!(kind = ?inner.object_kind(), "announced Create/Update of this type; dropped");
                return Ok(());
            }
            if kind == ActivityKind::Create {
                store_note(ctx, &actor, &object, actors::Ancestry::start()).await?;
            } else {
                update_note(ctx, &actor, &object).await?;
            }
        }
        ActivityKind::Delete => {
            let Some(uri) = object_id else {
                return Err(bad("an announced Delete without object"));
            };
            // A 404 means gone only for what anyone may fetch: a private
            // post answers 404 to us too.
            let mut conn = ctx.conn().await?;
            let open = db::statuses::find_by_uri(&mut conn, &uri)
                .await?
                .is_some_and(|s| s.visibility.is_open());
            drop(conn);
            if vouched || actors::gone_at_origin(ctx, &uri, open).await? {
                delete(ctx, &actor, &inner.object).await?;
            } else {
                tracing::info!(
                    object = uri,
                    "an announced Delete of a post still there; dropped"
                );
            }
        }
        ActivityKind::Like | ActivityKind::Dislike | ActivityKind::Undo => {
            // Confirmed at its origin: what it undoes is read from there too.
            let inner = match vouched {
                true => Some(inner.clone()),
                false => confirmed_at_origin(ctx, id, &inner).await,
            };
            let Some(inner) = inner else {
                tracing::info!(
                    activity = id,
                    "an announced vote its origin does not confirm; dropped"
                );
                return Ok(());
            };
            match kind {
                ActivityKind::Like => drop(like(ctx, &actor, &inner.object, true).await?),
                ActivityKind::Dislike => drop(dislike(ctx, &actor, &inner.object, true).await?),
                _ => {
                    let undone = inner.embedded();
                    if undone.actor.0.as_deref().is_some_and(|a| a != actor_uri) {
                        return Err(bad("Undo of another actor's activity"));
                    }
                    match undone.kind.as_deref().and_then(ActivityKind::parse) {
                        Some(ActivityKind::Like) => {
                            drop(like(ctx, &actor, &undone.object, false).await?)
                        }
                        Some(ActivityKind::Dislike) => {
                            drop(dislike(ctx, &actor, &undone.object, false).await?)
                        }
                        other => {
                            tracing::info!(kind = ?other, "announced Undo of this type; dropped")
                        }
                    }
                }
            }
        }
        // A community's moderator list (Lemmy's Add and Remove of a person)
        // is not mirrored here.
        other => {
            tracing::info!(kind = ?other, group = a_uri(group), "announced activity of this type; dropped")
        }
    }
    Ok(())
}

/// The activity `id` as its own origin serves it, when that is what was
/// announced (same type, actor and object): Lemmy serves its votes so.
async fn confirmed_at_origin(
    ctx: &Ctx,
    id: &str,
    inner: &RemoteActivity,
) -> Option<RemoteActivity> {
    let url = url::Url::parse(id).ok()?;
    let doc = actors::fetch_signed(ctx, &url).await.ok()?;
    let served = RemoteActivity::read(&doc);
    (served.id.as_deref() == Some(id)
        && served.kind == inner.kind
        && served.actor.0 == inner.actor.0
        && served.object_id() == inner.object_id())
    .then_some(served)
}

/// A members-only post passed on by its group (on the group's origin, or
/// proven by its author), stored as members-only in that group when someone
/// here is a verified member.
pub(super) async fn members_post_passed_on(
    ctx: &Ctx,
    group: &Account,
    object: &Value,
) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    if !db::memberships::has_local_member(&mut conn, group.id).await? {
        tracing::info!(
            group = a_uri(group),
            "a members-only post from a group with no members here; dropped"
        );
        return Ok(());
    }
    drop(conn);
    let note = RemoteNote::read(object);
    let author_uri = note
        .attributed_to
        .single()
        .ok_or_else(|| bad("a Note without one author"))?;
    let author = actors::resolve(ctx, author_uri, false).await?;
    store_note_vouched(ctx, &author, object, actors::Ancestry::start(), Some(group))
        .await
        .map(|_| ())
}
