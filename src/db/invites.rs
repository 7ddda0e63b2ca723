//! Invitation codes: registration in "invite" mode and the first-run admin link.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::Invite;
use super::schema::invites;
use super::{DbConn, DbResult};
use crate::with_conn;

pub async fn insert(conn: &mut DbConn<'_>, invite: &Invite) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(invites::table)
            .values(invite)
            .execute(c)
            .await
            .map(|_| ())
    })
}

pub async fn find_by_code(conn: &mut DbConn<'_>, code: &str) -> DbResult<Option<Invite>> {
    with_conn!(conn, |c| {
        invites::table
            .filter(invites::code.eq(code))
            .select(Invite::as_select())
            .first(c)
            .await
            .optional()
    })
}

/// Takes one use of a valid invite, atomically: never more uses than `max_uses`.
pub async fn take_use(
    conn: &mut DbConn<'_>,
    code: &str,
    now: NaiveDateTime,
) -> DbResult<Option<Invite>> {
    with_conn!(conn, |c| {
        diesel::update(
            invites::table
                .filter(invites::code.eq(code))
                .filter(
                    invites::max_uses
                        .is_null()
                        .or(invites::uses.lt(invites::max_uses.assume_not_null())),
                )
                .filter(
                    invites::expires_at
                        .is_null()
                        .or(invites::expires_at.gt(now)),
                ),
        )
        .set(invites::uses.eq(invites::uses + 1))
        .returning(Invite::as_returning())
        .get_result(c)
        .await
        .optional()
    })
}

/// Ends every first-run (admin) invite: an administrator exists.
pub async fn retire_admin_invites(conn: &mut DbConn<'_>, now: NaiveDateTime) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(
            invites::table
                .filter(invites::grants_admin.eq(true))
                .filter(
                    invites::expires_at
                        .is_null()
                        .or(invites::expires_at.gt(now)),
                ),
        )
        .set(invites::expires_at.eq(Some(now)))
        .execute(c)
        .await
        .map(|_| ())
    })
}

/// Unused first-run (admin) invites that are still valid.
pub async fn find_open_admin_invite(
    conn: &mut DbConn<'_>,
    now: NaiveDateTime,
) -> DbResult<Option<Invite>> {
    with_conn!(conn, |c| {
        invites::table
            .filter(invites::grants_admin.eq(true))
            .filter(invites::uses.eq(0))
            .filter(
                invites::expires_at
                    .is_null()
                    .or(invites::expires_at.gt(now)),
            )
            .select(Invite::as_select())
            .first(c)
            .await
            .optional()
    })
}
