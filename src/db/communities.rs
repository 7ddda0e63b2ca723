//! Remote communities' moderation as far as it concerns this server:
//! threads their moderators locked, and our people they banned.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::{community_bans, thread_locks};
use super::{DbConn, DbResult};
use crate::with_conn;

/// Locks (or unlocks) a thread; returns whether that changed anything.
pub async fn set_lock(
    conn: &mut DbConn<'_>,
    status_id: i64,
    locked: bool,
    at: NaiveDateTime,
) -> DbResult<bool> {
    with_conn!(conn, |c| {
        if locked {
            diesel::insert_into(thread_locks::table)
                .values((
                    thread_locks::status_id.eq(status_id),
                    thread_locks::locked_at.eq(at),
                ))
                .on_conflict(thread_locks::status_id)
                .do_nothing()
                .execute(c)
                .await
        } else {
            diesel::delete(thread_locks::table.filter(thread_locks::status_id.eq(status_id)))
                .execute(c)
                .await
        }
        .map(|n| n > 0)
    })
}

/// Whether any of `ids` is locked.
pub async fn any_locked(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<bool> {
    with_conn!(conn, |c| {
        thread_locks::table
            .filter(thread_locks::status_id.eq_any(ids))
            .count()
            .get_result::<i64>(c)
            .await
            .map(|n| n > 0)
    })
}

/// Bans `account_id` from posting into `group_id` (again: the reason and
/// end are replaced).
pub async fn ban(
    conn: &mut DbConn<'_>,
    group_id: i64,
    account_id: i64,
    reason: &str,
    expires_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(community_bans::table)
            .values((
                community_bans::group_id.eq(group_id),
                community_bans::account_id.eq(account_id),
                community_bans::reason.eq(reason),
                community_bans::expires_at.eq(expires_at),
                community_bans::created_at.eq(now),
            ))
            .on_conflict((community_bans::group_id, community_bans::account_id))
            .do_update()
            .set((
                community_bans::reason.eq(reason),
                community_bans::expires_at.eq(expires_at),
            ))
            .execute(c)
            .await
            .map(drop)
    })
}

pub async fn unban(conn: &mut DbConn<'_>, group_id: i64, account_id: i64) -> DbResult<bool> {
    with_conn!(conn, |c| {
        diesel::delete(
            community_bans::table
                .filter(community_bans::group_id.eq(group_id))
                .filter(community_bans::account_id.eq(account_id)),
        )
        .execute(c)
        .await
        .map(|n| n > 0)
    })
}

/// The reason of a ban in force at `now`, if any.
pub async fn ban_in_force(
    conn: &mut DbConn<'_>,
    group_id: i64,
    account_id: i64,
    now: NaiveDateTime,
) -> DbResult<Option<String>> {
    with_conn!(conn, |c| {
        community_bans::table
            .filter(community_bans::group_id.eq(group_id))
            .filter(community_bans::account_id.eq(account_id))
            .filter(
                community_bans::expires_at
                    .is_null()
                    .or(community_bans::expires_at.gt(now)),
            )
            .select(community_bans::reason)
            .first(c)
            .await
            .optional()
    })
}
