//! Notifications: one row per event for one recipient.
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::Notification;
use super::schema::notifications;
use super::statuses::Page;
use super::{DbConn, DbResult};
use crate::with_conn;

pub async fn insert(conn: &mut DbConn<'_>, n: &Notification) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(notifications::table)
        .values(n)
        .execute(c)
        .await
        .map(|_| ()))
}

/// A page of `account_id`'s notifications whose kind is in `include` (all when
/// empty) and not in `exclude`.
pub async fn list(
    conn: &mut DbConn<'_>,
    account_id: i64,
    include: &[String],
    exclude: &[String],
    page: Page,
) -> DbResult<Vec<Notification>> {
    with_conn!(conn, |c| {
        let mut q = notifications::table
            .filter(notifications::account_id.eq(account_id))
            .select(Notification::as_select())
            .into_boxed();
        if !include.is_empty() {
            q = q.filter(notifications::kind.eq_any(include));
        }
        if !exclude.is_empty() {
            q = q.filter(notifications::kind.ne_all(exclude));
        }
        {
            use super::schema::{blocks, follows, mutes, silenced_accounts};
            q = q
                // Silenced accounts reach only their followers.
                .filter(
                    notifications::from_account_id.ne_all(
                        silenced_accounts::table
                            .filter(
                                silenced_accounts::account_id.ne_all(
                                    follows::table
                                        .filter(follows::account_id.eq(account_id))
                                        .filter(follows::pending.eq(false))
                                        .select(follows::target_account_id),
                                ),
                            )
                            .select(silenced_accounts::account_id),
                    ),
                )
                .filter(
                    notifications::from_account_id.ne_all(
                        blocks::table
                            .filter(blocks::account_id.eq(account_id))
                            .select(blocks::target_account_id),
                    ),
                )
                .filter(
                    notifications::from_account_id.ne_all(
                        mutes::table
                            .filter(mutes::account_id.eq(account_id))
                            .filter(mutes::hide_notifications.eq(true))
                            .select(mutes::target_account_id),
                    ),
                );
        }
        crate::paginate!(q, notifications::id, page).load(c).await
    })
}

pub async fn find(
    conn: &mut DbConn<'_>,
    account_id: i64,
    id: i64,
) -> DbResult<Option<Notification>> {
    with_conn!(conn, |c| {
        notifications::table
            .filter(notifications::account_id.eq(account_id))
            .filter(notifications::id.eq(id))
            .select(Notification::as_select())
            .first(c)
            .await
            .optional()
    })
}

pub async fn dismiss(conn: &mut DbConn<'_>, account_id: i64, id: i64) -> DbResult<usize> {
    with_conn!(conn, |c| {
        diesel::delete(
            notifications::table
                .filter(notifications::account_id.eq(account_id))
                .filter(notifications::id.eq(id)),
        )
        .execute(c)
        .await
    })
}

pub async fn clear(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<usize> {
    with_conn!(conn, |c| {
        diesel::delete(notifications::table.filter(notifications::account_id.eq(account_id)))
            .execute(c)
            .await
    })
}

/// Removes notifications tied to an undone action (unfavourite, unreblog, unfollow).
pub async fn retract(
    conn: &mut DbConn<'_>,
    recipient: i64,
    from: i64,
    kind: crate::domain::NotificationKind,
    status_id: Option<i64>,
) -> DbResult<usize> {
    with_conn!(conn, |c| {
        let mut q = diesel::delete(notifications::table)
            .filter(notifications::account_id.eq(recipient))
            .filter(notifications::from_account_id.eq(from))
            .filter(notifications::kind.eq(kind))
            .into_boxed();
        if let Some(s) = status_id {
            q = q.filter(notifications::status_id.eq(s));
        }
        q.execute(c).await
    })
}

/// The notification types a person chose to get by e-mail, if they chose.
pub async fn mailed_kinds(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Option<String>> {
    use super::schema::email_notifications as e;
    with_conn!(conn, |c| {
        e::table
            .find(account_id)
            .select(e::kinds)
            .first(c)
            .await
            .optional()
    })
}

pub async fn set_mailed_kinds(
    conn: &mut DbConn<'_>,
    account_id: i64,
    kinds: &str,
    now: chrono::NaiveDateTime,
) -> DbResult<()> {
    use super::schema::email_notifications as e;
    with_conn!(conn, |c| {
        diesel::insert_into(e::table)
            .values((
                e::account_id.eq(account_id),
                e::kinds.eq(kinds),
                e::updated_at.eq(now),
            ))
            .on_conflict(e::account_id)
            .do_update()
            .set((e::kinds.eq(kinds), e::updated_at.eq(now)))
            .execute(c)
            .await
            .map(drop)
    })
}
