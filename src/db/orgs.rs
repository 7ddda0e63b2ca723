//! Orgs: the Group account and its org row.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Account, Org};
use super::schema::{accounts, orgs};
use super::{DbConn, DbResult};
use crate::with_conn;

/// Creates the org's Group account and its org row (in the caller's transaction).
pub async fn insert(conn: &mut DbConn<'_>, account: &Account, org: &Org) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(accounts::table)
            .values(account)
            .execute(c)
            .await?;
        diesel::insert_into(orgs::table)
            .values(org)
            .execute(c)
            .await
            .map(|_| ())
    })
}

pub async fn find(conn: &mut DbConn<'_>, id: i64) -> DbResult<Option<(Org, Account)>> {
    with_conn!(conn, |c| orgs::table
        .inner_join(accounts::table)
        .filter(orgs::account_id.eq(id))
        .select((Org::as_select(), Account::as_select()))
        .first(c)
        .await
        .optional())
}

/// Orgs not archived, by name; `parent` limits to the sub-groups of one org.
pub async fn list(
    conn: &mut DbConn<'_>,
    parent: Option<i64>,
    limit: i64,
) -> DbResult<Vec<(Org, Account)>> {
    with_conn!(conn, |c| {
        let mut q = orgs::table
            .inner_join(accounts::table)
            .filter(orgs::archived_at.is_null())
            .select((Org::as_select(), Account::as_select()))
            .order(accounts::acct_key.asc())
            .limit(limit)
            .into_boxed();
        if let Some(p) = parent {
            q = q.filter(orgs::parent_id.eq(p));
        }
        q.load(c).await
    })
}

/// Profile and org fields an office changes.
pub struct OrgChanges<'a> {
    pub display_name: &'a str,
    pub note: &'a str,
    pub note_source: &'a str,
    pub locked: bool,
    pub parent_id: Option<i64>,
    pub archived_at: Option<NaiveDateTime>,
}

pub async fn update(
    conn: &mut DbConn<'_>,
    id: i64,
    ch: &OrgChanges<'_>,
    now: NaiveDateTime,
) -> DbResult<()> {
    let OrgChanges {
        display_name,
        note,
        note_source,
        locked,
        parent_id,
        archived_at,
    } = *ch;
    with_conn!(conn, |c| {
        diesel::update(accounts::table.find(id))
            .set((
                accounts::display_name.eq(display_name),
                accounts::note.eq(note),
                accounts::note_source.eq(note_source),
                accounts::locked.eq(locked),
                accounts::updated_at.eq(now),
            ))
            .execute(c)
            .await?;
        diesel::update(orgs::table.find(id))
            .set((
                orgs::parent_id.eq(parent_id),
                orgs::archived_at.eq(archived_at),
                orgs::updated_at.eq(now),
            ))
            .execute(c)
            .await
            .map(|_| ())
    })
}
