//! Media attachment rows.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::MediaAttachment;
use super::schema::media_attachments as m;
use super::{DbConn, DbResult};
use crate::with_conn;

pub async fn insert(conn: &mut DbConn<'_>, a: &MediaAttachment) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(m::table)
        .values(a)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn find(conn: &mut DbConn<'_>, id: i64) -> DbResult<Option<MediaAttachment>> {
    with_conn!(conn, |c| m::table
        .find(id)
        .select(MediaAttachment::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn find_many(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<MediaAttachment>> {
    with_conn!(conn, |c| m::table
        .filter(m::id.eq_any(ids))
        .select(MediaAttachment::as_select())
        .load(c)
        .await)
}

/// Records the outcome of processing.
pub async fn finish(conn: &mut DbConn<'_>, a: &MediaAttachment) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(m::table.find(a.id))
            .set((
                m::file.eq(&a.file),
                m::preview_file.eq(&a.preview_file),
                m::meta.eq(&a.meta),
                m::blurhash.eq(&a.blurhash),
                m::state.eq(&a.state),
                m::error.eq(&a.error),
                m::updated_at.eq(a.updated_at),
            ))
            .execute(c)
            .await
            .map(|_| ())
    })
}

pub async fn describe(
    conn: &mut DbConn<'_>,
    id: i64,
    description: &str,
    focus: (f64, f64),
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(m::table.find(id))
            .set((
                m::description.eq(description),
                m::focus_x.eq(focus.0),
                m::focus_y.eq(focus.1),
                m::updated_at.eq(now),
            ))
            .execute(c)
            .await
            .map(|_| ())
    })
}

/// Makes `ids` (in this order) the attachments of `status_id`, detaching any others.
pub async fn attach(conn: &mut DbConn<'_>, status_id: i64, ids: &[i64]) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(
            m::table
                .filter(m::status_id.eq(status_id))
                .filter(m::id.ne_all(ids)),
        )
        .set(m::status_id.eq(None::<i64>))
        .execute(c)
        .await?;
        for (pos, id) in ids.iter().enumerate() {
            diesel::update(m::table.find(*id))
                .set((m::status_id.eq(status_id), m::position.eq(pos as i32)))
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

/// Attachments of the given statuses, in their order.
pub async fn of_statuses(
    conn: &mut DbConn<'_>,
    status_ids: &[i64],
) -> DbResult<Vec<MediaAttachment>> {
    with_conn!(conn, |c| {
        m::table
            .filter(m::status_id.eq_any(status_ids))
            .order((m::status_id.asc(), m::position.asc()))
            .select(MediaAttachment::as_select())
            .load(c)
            .await
    })
}

/// Deletes an attachment while it belongs to no status; whether it did.
pub async fn delete_unattached(conn: &mut DbConn<'_>, id: i64) -> DbResult<bool> {
    with_conn!(conn, |c| diesel::delete(
        m::table.filter(m::id.eq(id)).filter(m::status_id.is_null())
    )
    .execute(c)
    .await
    .map(|n| n > 0))
}

/// Local uploads attached to no status, untouched since before `before`.
pub async fn unattached_before(
    conn: &mut DbConn<'_>,
    before: NaiveDateTime,
    limit: i64,
) -> DbResult<Vec<MediaAttachment>> {
    with_conn!(conn, |c| m::table
        .filter(m::status_id.is_null())
        .filter(m::remote_url.is_null())
        .filter(m::updated_at.lt(before))
        .order(m::id.asc())
        .limit(limit)
        .select(MediaAttachment::as_select())
        .load(c)
        .await)
}

/// Every attachment of an account.
pub async fn of_account(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Vec<MediaAttachment>> {
    with_conn!(conn, |c| m::table
        .filter(m::account_id.eq(account_id))
        .select(MediaAttachment::as_select())
        .load(c)
        .await)
}
