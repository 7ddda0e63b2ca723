//! Single sign-on: sign-ins under way at the provider, and which provider
//! subject is which account.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{OidcIdentity, OidcLogin};
use super::schema::{oidc_identities, oidc_logins};
use super::{DbConn, DbResult};
use crate::with_conn;

pub async fn insert_login(conn: &mut DbConn<'_>, l: &OidcLogin) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(oidc_logins::table)
            .values(l)
            .execute(c)
            .await
            .map(drop)
    })
}

/// The sign-in behind a cookie, removed as it is read: a second use finds
/// nothing, even when two arrive together (only one delete counts).
pub async fn take_login(conn: &mut DbConn<'_>, token_hash: &str) -> DbResult<Option<OidcLogin>> {
    let found = with_conn!(conn, |c| {
        oidc_logins::table
            .find(token_hash)
            .select(OidcLogin::as_select())
            .first(c)
            .await
            .optional()
    })?;
    let Some(found) = found else {
        return Ok(None);
    };
    let deleted = with_conn!(conn, |c| {
        diesel::delete(oidc_logins::table.find(token_hash))
            .execute(c)
            .await
    })?;
    Ok((deleted == 1).then_some(found))
}

/// Sign-ins under way started since `since` (a cap on what visitors can store).
pub async fn count_logins_since(conn: &mut DbConn<'_>, since: NaiveDateTime) -> DbResult<i64> {
    with_conn!(conn, |c| {
        oidc_logins::table
            .filter(oidc_logins::created_at.ge(since))
            .count()
            .get_result(c)
            .await
    })
}

pub async fn delete_stale_logins(conn: &mut DbConn<'_>, before: NaiveDateTime) -> DbResult<usize> {
    with_conn!(conn, |c| {
        diesel::delete(oidc_logins::table.filter(oidc_logins::created_at.lt(before)))
            .execute(c)
            .await
    })
}

pub async fn find_identity(
    conn: &mut DbConn<'_>,
    issuer: &str,
    subject: &str,
) -> DbResult<Option<OidcIdentity>> {
    with_conn!(conn, |c| {
        oidc_identities::table
            .find((issuer, subject))
            .select(OidcIdentity::as_select())
            .first(c)
            .await
            .optional()
    })
}

pub async fn insert_identity(conn: &mut DbConn<'_>, i: &OidcIdentity) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(oidc_identities::table)
            .values(i)
            .execute(c)
            .await
            .map(drop)
    })
}

/// Notes a sign-in and the address the provider gave this time.
pub async fn touch_identity(
    conn: &mut DbConn<'_>,
    issuer: &str,
    subject: &str,
    email: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(oidc_identities::table.find((issuer, subject)))
            .set((
                oidc_identities::email.eq(email),
                oidc_identities::last_used_at.eq(now),
            ))
            .execute(c)
            .await
            .map(drop)
    })
}

pub async fn identities_of(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Vec<OidcIdentity>> {
    with_conn!(conn, |c| {
        oidc_identities::table
            .filter(oidc_identities::account_id.eq(account_id))
            .select(OidcIdentity::as_select())
            .load(c)
            .await
    })
}
