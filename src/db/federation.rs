//! Durable inbound and outbound activity logs, and remote actors.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Account, DeliveryHost, InboxActivity, OutboundActivity};
use super::schema::{
    accounts, delivery_hosts, inbox_activities, outbound_activities, outbound_targets,
    peer_software,
};
use super::{DbConn, DbResult};
use crate::with_conn;

// ---- inbound -------------------------------------------------------------

/// Stores an accepted activity; false when its id was seen before.
pub async fn store_inbound(conn: &mut DbConn<'_>, a: &InboxActivity) -> DbResult<bool> {
    let stored = with_conn!(conn, |c| diesel::insert_into(inbox_activities::table)
        .values(a)
        .on_conflict(inbox_activities::ap_id)
        .do_nothing()
        .execute(c)
        .await
        .map(|n| n == 1))?;
    if stored {
        signal(conn, INBOX_CHANNEL).await?;
    }
    Ok(stored)
}

/// The activities received from one actor, oldest first: (id, type,
/// processed). For operators tracing what a remote server sent.
pub async fn received_from(
    conn: &mut DbConn<'_>,
    actor_uri: &str,
) -> DbResult<Vec<(String, String, bool)>> {
    let rows: Vec<(String, String, Option<NaiveDateTime>)> = with_conn!(conn, |c| {
        inbox_activities::table
            .filter(inbox_activities::actor_uri.eq(actor_uri))
            .order(inbox_activities::id.asc())
            .select((
                inbox_activities::ap_id,
                inbox_activities::kind,
                inbox_activities::processed_at,
            ))
            .load(c)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, done)| (id, kind, done.is_some()))
        .collect())
}

/// NOTIFY channels: workers on every node LISTEN (see [`crate::db::listen`]).
pub const DELIVERY_CHANNEL: &str = "tsunagu_delivery";
pub const INBOX_CHANNEL: &str = "tsunagu_inbox";

/// Tells the workers of every node that work was queued. PostgreSQL sends the
/// NOTIFY when the surrounding transaction commits (never for a rollback);
/// SQLite serves one node, whose in-process signal the caller raises.
async fn signal(conn: &mut DbConn<'_>, channel: &'static str) -> DbResult<()> {
    match conn {
        DbConn::Postgres(h) => {
            let c: &mut diesel_async::AsyncPgConnection = h;
            diesel::sql_query(format!("NOTIFY {channel}"))
                .execute(c)
                .await
                .map(|_| ())
        }
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// Unprocessed activities free to take, oldest first: (id, actor). Not
/// leased; not from an actor with an activity in flight or waiting for a
/// retry anywhere (one actor's activities go one at a time, in order); not
/// from the `skip` origins (`scheme://host:port`, at their share).
pub async fn inbound_candidates(
    conn: &mut DbConn<'_>,
    now: NaiveDateTime,
    skip: &[String],
    limit: i64,
) -> DbResult<Vec<(i64, String)>> {
    with_conn!(conn, |c| {
        let busy = diesel::alias!(inbox_activities as busy);
        let busy_actors = busy
            .filter(busy.field(inbox_activities::processed_at).is_null())
            .filter(busy.field(inbox_activities::lease_until).ge(now))
            .select(busy.field(inbox_activities::actor_uri));
        let mut q = inbox_activities::table
            .filter(inbox_activities::processed_at.is_null())
            .filter(
                inbox_activities::lease_until
                    .is_null()
                    .or(inbox_activities::lease_until.lt(now)),
            )
            .filter(inbox_activities::actor_uri.ne_all(busy_actors))
            .into_boxed();
        for origin in skip {
            q = q.filter(inbox_activities::actor_uri.not_like(format!("{origin}/%")));
        }
        q.order(inbox_activities::id.asc())
            .limit(limit)
            .select((inbox_activities::id, inbox_activities::actor_uri))
            .load(c)
            .await
    })
}

/// Leases these activities until `until`; returns those it took (another
/// node may have taken some first).
pub async fn lease_inbound(
    conn: &mut DbConn<'_>,
    ids: &[i64],
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> DbResult<Vec<InboxActivity>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    // Only rows whose lease this UPDATE took are ours (another node may race).
    let token = until;
    with_conn!(conn, |c| {
        diesel::update(
            inbox_activities::table
                .filter(inbox_activities::id.eq_any(ids))
                .filter(inbox_activities::processed_at.is_null())
                .filter(
                    inbox_activities::lease_until
                        .is_null()
                        .or(inbox_activities::lease_until.lt(now)),
                ),
        )
        .set(inbox_activities::lease_until.eq(token))
        .execute(c)
        .await?;
        inbox_activities::table
            .filter(inbox_activities::id.eq_any(ids))
            .filter(inbox_activities::lease_until.eq(token))
            .filter(inbox_activities::processed_at.is_null())
            .order(inbox_activities::id.asc())
            .select(InboxActivity::as_select())
            .load(c)
            .await
    })
}

pub async fn finish_inbound(
    conn: &mut DbConn<'_>,
    id: i64,
    now: NaiveDateTime,
    error: Option<&str>,
) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(inbox_activities::table.find(id))
        .set((
            inbox_activities::processed_at.eq(now),
            inbox_activities::attempts.eq(inbox_activities::attempts + 1),
            inbox_activities::last_error.eq(error),
            inbox_activities::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(c)
        .await
        .map(|_| ()))
}

/// Puts an activity back for a later try (a transient failure).
pub async fn retry_inbound(
    conn: &mut DbConn<'_>,
    id: i64,
    at: NaiveDateTime,
    error: &str,
) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(inbox_activities::table.find(id))
        .set((
            inbox_activities::attempts.eq(inbox_activities::attempts + 1),
            inbox_activities::last_error.eq(error),
            inbox_activities::lease_until.eq(at),
        ))
        .execute(c)
        .await
        .map(|_| ()))
}

/// One stored activity by its id (operators tracing a delivery, tests).
pub async fn inbound_by_ap_id(
    conn: &mut DbConn<'_>,
    ap_id: &str,
) -> DbResult<Option<InboxActivity>> {
    with_conn!(conn, |c| inbox_activities::table
        .filter(inbox_activities::ap_id.eq(ap_id))
        .select(InboxActivity::as_select())
        .first(c)
        .await
        .optional())
}

/// Every activity ever stored, processed or not (operators, benchmarks).
pub async fn inbound_total(conn: &mut DbConn<'_>) -> DbResult<i64> {
    with_conn!(conn, |c| inbox_activities::table
        .count()
        .get_result(c)
        .await)
}

pub async fn inbound_pending(conn: &mut DbConn<'_>) -> DbResult<i64> {
    with_conn!(conn, |c| inbox_activities::table
        .filter(inbox_activities::processed_at.is_null())
        .count()
        .get_result(c)
        .await)
}

// ---- outbound ------------------------------------------------------------

/// Writes an activity and its targets (host -> inboxes) and moves each
/// host's head; call inside the transaction of the change it announces.
pub async fn enqueue(
    conn: &mut DbConn<'_>,
    a: &OutboundActivity,
    targets: &[(String, Vec<String>)],
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(outbound_activities::table)
            .values(a)
            .execute(c)
            .await?;
        for (host, inboxes) in targets {
            diesel::insert_into(outbound_targets::table)
                .values((
                    outbound_targets::activity_id.eq(a.id),
                    outbound_targets::host.eq(host),
                    outbound_targets::inboxes
                        .eq(serde_json::to_string(inboxes).unwrap_or_default()),
                ))
                .execute(c)
                .await?;
            diesel::insert_into(delivery_hosts::table)
                .values((delivery_hosts::host.eq(host), delivery_hosts::head.eq(a.id)))
                .on_conflict(delivery_hosts::host)
                .do_update()
                .set(delivery_hosts::head.eq(a.id))
                .execute(c)
                .await?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    signal(conn, DELIVERY_CHANNEL).await
}

/// Gives every stored activity of `actor_id` whose id starts with
/// `ap_id_prefix` this body instead (a newer version of the same object:
/// what was withdrawn leaves no copy here, and what is still undelivered
/// goes out as the newest).
pub async fn rewrite_outbound(
    conn: &mut DbConn<'_>,
    actor_id: i64,
    ap_id_prefix: &str,
    body: &str,
) -> DbResult<usize> {
    let pattern = format!(
        "{}%",
        ap_id_prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    with_conn!(conn, |c| diesel::update(
        outbound_activities::table
            .filter(outbound_activities::actor_id.eq(actor_id))
            .filter(outbound_activities::ap_id.like(&pattern).escape('\\'))
    )
    .set(outbound_activities::body.eq(body))
    .execute(c)
    .await)
}

/// The bodies of the activities stored as sent by `actor_id` (operators
/// answering "what do we hold of this person", tests).
pub async fn outbound_bodies(conn: &mut DbConn<'_>, actor_id: i64) -> DbResult<Vec<String>> {
    with_conn!(conn, |c| outbound_activities::table
        .filter(outbound_activities::actor_id.eq(actor_id))
        .select(outbound_activities::body)
        .load(c)
        .await)
}

/// The bodies of the activities received from `actor_uri` (as above).
pub async fn inbound_bodies(conn: &mut DbConn<'_>, actor_uri: &str) -> DbResult<Vec<String>> {
    with_conn!(conn, |c| inbox_activities::table
        .filter(inbox_activities::actor_uri.eq(actor_uri))
        .select(inbox_activities::body)
        .load(c)
        .await)
}

/// Replaces a received activity's stored body (one whose content must not
/// be kept once processed).
pub async fn scrub_inbound(conn: &mut DbConn<'_>, id: i64, body: &str) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(inbox_activities::table.find(id))
        .set(inbox_activities::body.eq(body))
        .execute(c)
        .await
        .map(|_| ()))
}

/// Hosts with undelivered work that are due and not held by a live lease.
pub async fn due_hosts(
    conn: &mut DbConn<'_>,
    now: NaiveDateTime,
    limit: i64,
) -> DbResult<Vec<String>> {
    with_conn!(conn, |c| delivery_hosts::table
        .filter(delivery_hosts::head.gt(delivery_hosts::done_upto))
        .filter(
            delivery_hosts::next_attempt_at
                .is_null()
                .or(delivery_hosts::next_attempt_at.le(now)),
        )
        .filter(
            delivery_hosts::lease_until
                .is_null()
                .or(delivery_hosts::lease_until.lt(now)),
        )
        .order(delivery_hosts::next_attempt_at.asc())
        .limit(limit)
        .select(delivery_hosts::host)
        .load(c)
        .await)
}

/// When the earliest backed-off host is due again.
pub async fn next_due(conn: &mut DbConn<'_>) -> DbResult<Option<NaiveDateTime>> {
    with_conn!(conn, |c| delivery_hosts::table
        .filter(delivery_hosts::head.gt(delivery_hosts::done_upto))
        .select(diesel::dsl::min(delivery_hosts::next_attempt_at))
        .first(c)
        .await)
}

/// Takes (or renews) the lease on a host; false if another node holds it.
pub async fn lease_host(
    conn: &mut DbConn<'_>,
    host: &str,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> DbResult<bool> {
    with_conn!(conn, |c| diesel::update(
        delivery_hosts::table
            .filter(delivery_hosts::host.eq(host))
            .filter(
                delivery_hosts::lease_until
                    .is_null()
                    .or(delivery_hosts::lease_until.lt(now))
                    .or(delivery_hosts::lease_owner.eq(owner))
            )
    )
    .set((
        delivery_hosts::lease_owner.eq(owner),
        delivery_hosts::lease_until.eq(until),
    ))
    .execute(c)
    .await
    .map(|n| n == 1))
}

pub async fn release_host(conn: &mut DbConn<'_>, host: &str, owner: &str) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(
        delivery_hosts::table
            .filter(delivery_hosts::host.eq(host))
            .filter(delivery_hosts::lease_owner.eq(owner))
    )
    .set((
        delivery_hosts::lease_owner.eq(None::<String>),
        delivery_hosts::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn host(conn: &mut DbConn<'_>, host: &str) -> DbResult<Option<DeliveryHost>> {
    with_conn!(conn, |c| delivery_hosts::table
        .find(host)
        .select(DeliveryHost::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn hosts(conn: &mut DbConn<'_>) -> DbResult<Vec<DeliveryHost>> {
    with_conn!(conn, |c| delivery_hosts::table
        .order(delivery_hosts::host.asc())
        .select(DeliveryHost::as_select())
        .load(c)
        .await)
}

/// The next activities for a host after its cursor: (activity, inboxes on that host).
pub async fn batch_for(
    conn: &mut DbConn<'_>,
    host: &str,
    after: i64,
    limit: i64,
) -> DbResult<Vec<(OutboundActivity, String)>> {
    with_conn!(conn, |c| outbound_targets::table
        .inner_join(outbound_activities::table)
        .filter(outbound_targets::host.eq(host))
        .filter(outbound_targets::activity_id.gt(after))
        .order(outbound_targets::activity_id.asc())
        .limit(limit)
        .select((OutboundActivity::as_select(), outbound_targets::inboxes))
        .load(c)
        .await)
}

/// Records progress: everything up to `done_upto` is handled.
pub async fn advance(
    conn: &mut DbConn<'_>,
    host: &str,
    done_upto: i64,
    delivered: i64,
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(delivery_hosts::table.find(host))
        .set((
            delivery_hosts::done_upto.eq(done_upto),
            delivery_hosts::delivered.eq(delivery_hosts::delivered + delivered),
            delivery_hosts::failures.eq(0),
            delivery_hosts::next_attempt_at.eq(None::<NaiveDateTime>),
            delivery_hosts::last_success_at.eq(now),
        ))
        .execute(c)
        .await
        .map(|_| ()))
}

/// Records a failed attempt: the breaker stays open until `retry_at`.
pub async fn failed(
    conn: &mut DbConn<'_>,
    host: &str,
    done_upto: i64,
    delivered: i64,
    retry_at: NaiveDateTime,
    error: &str,
) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(delivery_hosts::table.find(host))
        .set((
            delivery_hosts::done_upto.eq(done_upto),
            delivery_hosts::delivered.eq(delivery_hosts::delivered + delivered),
            delivery_hosts::failures.eq(delivery_hosts::failures + 1),
            delivery_hosts::next_attempt_at.eq(retry_at),
            delivery_hosts::last_error.eq(error),
        ))
        .execute(c)
        .await
        .map(|_| ()))
}

/// Oldest undelivered activity per host, for lag reporting.
pub async fn oldest_pending(
    conn: &mut DbConn<'_>,
    host: &str,
    after: i64,
) -> DbResult<Option<NaiveDateTime>> {
    with_conn!(conn, |c| outbound_targets::table
        .inner_join(outbound_activities::table)
        .filter(outbound_targets::host.eq(host))
        .filter(outbound_targets::activity_id.gt(after))
        .select(diesel::dsl::min(outbound_activities::created_at))
        .first(c)
        .await)
}

pub async fn pending_count(conn: &mut DbConn<'_>, host: &str, after: i64) -> DbResult<i64> {
    with_conn!(conn, |c| outbound_targets::table
        .filter(outbound_targets::host.eq(host))
        .filter(outbound_targets::activity_id.gt(after))
        .count()
        .get_result(c)
        .await)
}

// ---- peers ------------------------------------------------------------------

/// The software each of `hosts` runs, where known (empty when its NodeInfo
/// could not be read).
pub async fn peer_software(
    conn: &mut DbConn<'_>,
    hosts: &[String],
) -> DbResult<Vec<(String, String)>> {
    with_conn!(conn, |c| {
        peer_software::table
            .filter(peer_software::host.eq_any(hosts))
            .select((peer_software::host, peer_software::software))
            .load(c)
            .await
    })
}

/// When `host`'s software was last looked up.
pub async fn peer_checked_at(conn: &mut DbConn<'_>, host: &str) -> DbResult<Option<NaiveDateTime>> {
    with_conn!(conn, |c| {
        peer_software::table
            .filter(peer_software::host.eq(host))
            .select(peer_software::checked_at)
            .first(c)
            .await
            .optional()
    })
}

pub async fn set_peer_software(
    conn: &mut DbConn<'_>,
    host: &str,
    software: &str,
    version: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(peer_software::table)
            .values((
                peer_software::host.eq(host),
                peer_software::software.eq(software),
                peer_software::version.eq(version),
                peer_software::checked_at.eq(now),
            ))
            .on_conflict(peer_software::host)
            .do_update()
            .set((
                peer_software::software.eq(software),
                peer_software::version.eq(version),
                peer_software::checked_at.eq(now),
            ))
            .execute(c)
            .await
            .map(drop)
    })
}

// ---- remote actors ---------------------------------------------------------

pub async fn account_by_ap_id(conn: &mut DbConn<'_>, ap_id: &str) -> DbResult<Option<Account>> {
    with_conn!(conn, |c| accounts::table
        .filter(accounts::ap_id.eq(ap_id))
        .select(Account::as_select())
        .first(c)
        .await
        .optional())
}

/// Inserts or refreshes a remote actor (keyed by its ActivityPub id).
pub async fn upsert_remote_account(conn: &mut DbConn<'_>, a: &Account) -> DbResult<Account> {
    with_conn!(conn, |c| diesel::insert_into(accounts::table)
        .values(a)
        .on_conflict(accounts::ap_id)
        .do_update()
        .set((
            accounts::username.eq(&a.username),
            accounts::display_name.eq(&a.display_name),
            accounts::note.eq(&a.note),
            accounts::fields.eq(&a.fields),
            accounts::locked.eq(a.locked),
            accounts::bot.eq(a.bot),
            accounts::discoverable.eq(a.discoverable),
            accounts::actor_type.eq(&a.actor_type),
            accounts::avatar_remote_url.eq(&a.avatar_remote_url),
            accounts::header_remote_url.eq(&a.header_remote_url),
            accounts::inbox_url.eq(&a.inbox_url),
            accounts::shared_inbox_url.eq(&a.shared_inbox_url),
            accounts::outbox_url.eq(&a.outbox_url),
            accounts::followers_url.eq(&a.followers_url),
            accounts::profile_url.eq(&a.profile_url),
            accounts::public_key_pem.eq(&a.public_key_pem),
            accounts::fetched_at.eq(a.fetched_at),
            accounts::updated_at.eq(a.updated_at),
        ))
        .returning(Account::as_returning())
        .get_result(c)
        .await)
}

/// Where the remote followers of a local account receive: each one's shared
/// inbox if it has one, else its own; deduplicated.
pub async fn follower_inboxes(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Vec<String>> {
    use super::schema::follows;
    let rows: Vec<(Option<String>, Option<String>)> = with_conn!(conn, |c| follows::table
        .inner_join(accounts::table.on(accounts::id.eq(follows::account_id)))
        .filter(follows::target_account_id.eq(account_id))
        .filter(follows::pending.eq(false))
        .filter(accounts::local.eq(false))
        .filter(accounts::suspended.eq(false))
        .select((accounts::shared_inbox_url, accounts::inbox_url))
        .load(c)
        .await)?;
    Ok(preferred_inboxes(rows))
}

/// Removes a remote account and everything of it (its statuses, follows,
/// notifications cascade).
pub async fn delete_remote_account(conn: &mut DbConn<'_>, id: i64) -> DbResult<usize> {
    with_conn!(conn, |c| diesel::delete(
        accounts::table
            .filter(accounts::id.eq(id))
            .filter(accounts::local.eq(false))
    )
    .execute(c)
    .await)
}

/// Every remote inbox we know, one per shared inbox (for a deleted account's farewell).
pub async fn all_remote_inboxes(conn: &mut DbConn<'_>) -> DbResult<Vec<String>> {
    let rows: Vec<(Option<String>, Option<String>)> = with_conn!(conn, |c| accounts::table
        .filter(accounts::local.eq(false))
        .select((accounts::shared_inbox_url, accounts::inbox_url))
        .load(c)
        .await)?;
    Ok(preferred_inboxes(rows))
}

/// Erases a local account but keeps its row (suspended, emptied) so the
/// queued Delete can still be signed with its key and its name is not reused.
pub async fn erase_local_account(conn: &mut DbConn<'_>, id: i64) -> DbResult<()> {
    use super::schema::{favourites, follows, memberships, sign_in_days, statuses, users};
    with_conn!(conn, |c| {
        diesel::delete(statuses::table.filter(statuses::account_id.eq(id)))
            .execute(c)
            .await?;
        // Nothing of what they did stays to be counted, nor their days here;
        // the end of their memberships is recorded (as leaving) by trigger.
        diesel::delete(favourites::table.filter(favourites::account_id.eq(id)))
            .execute(c)
            .await?;
        diesel::delete(sign_in_days::table.filter(sign_in_days::account_id.eq(id)))
            .execute(c)
            .await?;
        diesel::delete(memberships::table.filter(memberships::account_id.eq(id)))
            .execute(c)
            .await?;
        diesel::delete(
            follows::table.filter(
                follows::account_id
                    .eq(id)
                    .or(follows::target_account_id.eq(id)),
            ),
        )
        .execute(c)
        .await?;
        diesel::delete(users::table.filter(users::account_id.eq(id)))
            .execute(c)
            .await?;
        diesel::update(accounts::table.find(id))
            .set((
                accounts::suspended.eq(true),
                accounts::display_name.eq(""),
                accounts::note.eq(""),
                accounts::note_source.eq(""),
                accounts::fields.eq("[]"),
                accounts::avatar_file.eq(None::<String>),
                accounts::header_file.eq(None::<String>),
            ))
            .execute(c)
            .await?;
        Ok(())
    })
}

/// The instance actor's keys (private, public), if created.
pub async fn instance_keys(conn: &mut DbConn<'_>) -> DbResult<Option<(String, String)>> {
    use super::schema::instance_actor;
    with_conn!(conn, |c| instance_actor::table
        .find(1)
        .select((
            instance_actor::private_key_pem,
            instance_actor::public_key_pem
        ))
        .first(c)
        .await
        .optional())
}

/// Stores the instance actor's keys unless another node did first.
pub async fn store_instance_keys(
    conn: &mut DbConn<'_>,
    private_pem: &str,
    public_pem: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    use super::schema::instance_actor;
    with_conn!(conn, |c| diesel::insert_into(instance_actor::table)
        .values((
            instance_actor::id.eq(1),
            instance_actor::private_key_pem.eq(private_pem),
            instance_actor::public_key_pem.eq(public_pem),
            instance_actor::created_at.eq(now),
        ))
        .on_conflict(instance_actor::id)
        .do_nothing()
        .execute(c)
        .await
        .map(|_| ()))
}

/// (shared inbox, own inbox) rows → one inbox each, shared preferred, deduplicated.
pub(super) fn preferred_inboxes(rows: Vec<(Option<String>, Option<String>)>) -> Vec<String> {
    let mut out: Vec<String> = rows.into_iter().filter_map(|(s, i)| s.or(i)).collect();
    out.sort();
    out.dedup();
    out
}

/// Local accounts following `target` (accepted follows).
pub async fn local_followers(conn: &mut DbConn<'_>, target: i64) -> DbResult<Vec<i64>> {
    use super::schema::follows;
    with_conn!(conn, |c| follows::table
        .inner_join(accounts::table.on(accounts::id.eq(follows::account_id)))
        .filter(follows::target_account_id.eq(target))
        .filter(follows::pending.eq(false))
        .filter(accounts::local.eq(true))
        .select(follows::account_id)
        .load(c)
        .await)
}

/// Records that `id` moved to `to`.
pub async fn set_moved(conn: &mut DbConn<'_>, id: i64, to: i64) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(accounts::table.find(id))
        .set(accounts::moved_to_account_id.eq(Some(to)))
        .execute(c)
        .await
        .map(|_| ()))
}
