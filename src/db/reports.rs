//! Reports (moderation): ours and those other servers send as Flags.
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::Report;
use super::schema::reports;
use super::{DbConn, DbResult};
use crate::with_conn;

/// Stores a report; false when a report with the same `uri` exists (a Flag delivered twice).
pub async fn insert(conn: &mut DbConn<'_>, r: &Report) -> DbResult<bool> {
    with_conn!(conn, |c| diesel::insert_into(reports::table)
        .values(r)
        .on_conflict_do_nothing()
        .execute(c)
        .await
        .map(|n| n == 1))
}

pub async fn find(conn: &mut DbConn<'_>, id: i64) -> DbResult<Option<Report>> {
    with_conn!(conn, |c| reports::table
        .find(id)
        .select(Report::as_select())
        .first(c)
        .await
        .optional())
}
