//! OAuth apps, authorisation codes and tokens. Secrets are stored only as
//! SHA-256 hashes, so a leaked database does not leak working tokens.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Account, NewOAuthApp, OAuthApp, OAuthCode, OAuthToken, User};
use super::schema::{accounts, oauth_apps, oauth_codes, oauth_tokens, users};
use super::{DbConn, DbResult};
use crate::with_conn;

pub async fn insert_app(conn: &mut DbConn<'_>, new: &NewOAuthApp<'_>) -> DbResult<OAuthApp> {
    with_conn!(conn, |c| {
        diesel::insert_into(oauth_apps::table)
            .values(new)
            .returning(OAuthApp::as_returning())
            .get_result(c)
            .await
    })
}

pub async fn find_app_by_client_id(
    conn: &mut DbConn<'_>,
    client_id: &str,
) -> DbResult<Option<OAuthApp>> {
    with_conn!(conn, |c| {
        oauth_apps::table
            .filter(oauth_apps::client_id.eq(client_id))
            .select(OAuthApp::as_select())
            .first(c)
            .await
            .optional()
    })
}

pub async fn insert_token(conn: &mut DbConn<'_>, token: &OAuthToken) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(oauth_tokens::table)
            .values(token)
            .execute(c)
            .await
            .map(|_| ())
    })
}

/// A token with its app and (for user tokens) its account, in one query.
pub type TokenGrant = (OAuthToken, OAuthApp, Option<Account>, Option<User>);

pub async fn find_token(conn: &mut DbConn<'_>, token_hash: &str) -> DbResult<Option<TokenGrant>> {
    with_conn!(conn, |c| {
        oauth_tokens::table
            .inner_join(oauth_apps::table)
            .left_join(accounts::table)
            .left_join(users::table.on(users::account_id.nullable().eq(oauth_tokens::account_id)))
            .filter(oauth_tokens::token_hash.eq(token_hash))
            .select((
                OAuthToken::as_select(),
                OAuthApp::as_select(),
                Option::<Account>::as_select(),
                Option::<User>::as_select(),
            ))
            .first(c)
            .await
            .optional()
    })
}

pub async fn find_token_by_refresh(
    conn: &mut DbConn<'_>,
    refresh_hash: &str,
) -> DbResult<Option<OAuthToken>> {
    with_conn!(conn, |c| {
        oauth_tokens::table
            .filter(oauth_tokens::refresh_token_hash.eq(refresh_hash))
            .select(OAuthToken::as_select())
            .first(c)
            .await
            .optional()
    })
}

/// Revokes the token of `app_id` whose access or refresh token hashes to `hash`.
/// Returns how many tokens were revoked (0 or 1).
pub async fn revoke_token(
    conn: &mut DbConn<'_>,
    app_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> DbResult<usize> {
    with_conn!(conn, |c| {
        diesel::update(
            oauth_tokens::table
                .filter(oauth_tokens::app_id.eq(app_id))
                .filter(
                    oauth_tokens::token_hash
                        .eq(hash)
                        .or(oauth_tokens::refresh_token_hash.eq(hash)),
                )
                .filter(oauth_tokens::revoked_at.is_null()),
        )
        .set(oauth_tokens::revoked_at.eq(now))
        .execute(c)
        .await
    })
}

pub async fn revoke_token_id(
    conn: &mut DbConn<'_>,
    id: i64,
    now: NaiveDateTime,
) -> DbResult<usize> {
    with_conn!(conn, |c| {
        diesel::update(
            oauth_tokens::table
                .find(id)
                .filter(oauth_tokens::revoked_at.is_null()),
        )
        .set(oauth_tokens::revoked_at.eq(now))
        .execute(c)
        .await
    })
}

pub async fn insert_code(conn: &mut DbConn<'_>, code: &OAuthCode) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(oauth_codes::table)
            .values(code)
            .execute(c)
            .await
            .map(|_| ())
    })
}

/// Marks the code used and returns it, atomically: a code is redeemed at most once
/// even when two token requests race.
pub async fn redeem_code(
    conn: &mut DbConn<'_>,
    code_hash: &str,
    now: NaiveDateTime,
) -> DbResult<Option<OAuthCode>> {
    with_conn!(conn, |c| {
        diesel::update(
            oauth_codes::table
                .filter(oauth_codes::code_hash.eq(code_hash))
                .filter(oauth_codes::used_at.is_null()),
        )
        .set(oauth_codes::used_at.eq(now))
        .returning(OAuthCode::as_returning())
        .get_result(c)
        .await
        .optional()
    })
}
