//! Signed-in browsers, and what two-factor sign-in keeps: the one-time
//! password secret and the recovery codes (hashes only).
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Account, AccountToken, OAuthApp, OAuthToken, TwoFactor, User, WebSession};
use super::schema::{
    account_tokens, accounts, oauth_apps, oauth_tokens, recovery_codes, two_factor, users,
    web_sessions,
};
use super::{DbConn, DbResult};
use crate::domain::{SessionStage, TokenPurpose};
use crate::with_conn;

pub async fn insert(conn: &mut DbConn<'_>, s: &WebSession) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(web_sessions::table)
            .values(s)
            .execute(c)
            .await
            .map(drop)
    })
}

/// A session with its person, in one query.
pub async fn find(
    conn: &mut DbConn<'_>,
    token_hash: &str,
) -> DbResult<Option<(WebSession, Account, User)>> {
    with_conn!(conn, |c| {
        web_sessions::table
            .inner_join(accounts::table)
            .inner_join(users::table.on(users::account_id.eq(web_sessions::account_id)))
            .filter(web_sessions::token_hash.eq(token_hash))
            .select((
                WebSession::as_select(),
                Account::as_select(),
                User::as_select(),
            ))
            .first(c)
            .await
            .optional()
    })
}

pub async fn touch(conn: &mut DbConn<'_>, id: i64, now: NaiveDateTime) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(web_sessions::table.find(id))
            .set(web_sessions::last_used_at.eq(now))
            .execute(c)
            .await
            .map(drop)
    })
}

/// The person's sessions, most recently used first.
pub async fn of_account(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Vec<WebSession>> {
    with_conn!(conn, |c| {
        web_sessions::table
            .filter(web_sessions::account_id.eq(account_id))
            .filter(web_sessions::stage.eq(SessionStage::SignedIn))
            .order(web_sessions::last_used_at.desc())
            .select(WebSession::as_select())
            .load(c)
            .await
    })
}

/// Ends one session of `account_id` (by id); returns whether one ended.
pub async fn delete_of_account(conn: &mut DbConn<'_>, account_id: i64, id: i64) -> DbResult<bool> {
    with_conn!(conn, |c| {
        diesel::delete(
            web_sessions::table
                .filter(web_sessions::id.eq(id))
                .filter(web_sessions::account_id.eq(account_id)),
        )
        .execute(c)
        .await
        .map(|n| n > 0)
    })
}

pub async fn delete(conn: &mut DbConn<'_>, id: i64) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::delete(web_sessions::table.find(id))
            .execute(c)
            .await
            .map(drop)
    })
}

/// Ends every session of `account_id` but `keep` (after a password or
/// two-factor change, as Mastodon does).
pub async fn delete_others(conn: &mut DbConn<'_>, account_id: i64, keep: i64) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::delete(
            web_sessions::table
                .filter(web_sessions::account_id.eq(account_id))
                .filter(web_sessions::id.ne(keep)),
        )
        .execute(c)
        .await
        .map(drop)
    })
}

/// Forgets sessions idle since `before`, and half-finished sign-ins
/// started before `pending_before`.
pub async fn delete_stale(
    conn: &mut DbConn<'_>,
    before: NaiveDateTime,
    pending_before: NaiveDateTime,
) -> DbResult<usize> {
    with_conn!(conn, |c| {
        diesel::delete(
            web_sessions::table.filter(
                web_sessions::last_used_at.lt(before).or(web_sessions::stage
                    .eq(SessionStage::SecondFactor)
                    .and(web_sessions::created_at.lt(pending_before))),
            ),
        )
        .execute(c)
        .await
    })
}

pub async fn two_factor(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Option<TwoFactor>> {
    with_conn!(conn, |c| {
        two_factor::table
            .find(account_id)
            .select(TwoFactor::as_select())
            .first(c)
            .await
            .optional()
    })
}

/// Starts (or restarts) set-up with a new secret; an enabled one is kept.
pub async fn begin_two_factor(
    conn: &mut DbConn<'_>,
    account_id: i64,
    secret: &str,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::delete(
            two_factor::table
                .filter(two_factor::account_id.eq(account_id))
                .filter(two_factor::enabled_at.is_null()),
        )
        .execute(c)
        .await?;
        diesel::insert_into(two_factor::table)
            .values(&TwoFactor {
                account_id,
                secret: secret.to_owned(),
                enabled_at: None,
                last_step: 0,
                failures: 0,
                locked_until: None,
            })
            .on_conflict(two_factor::account_id)
            .do_nothing()
            .execute(c)
            .await
            .map(drop)
    })
}

/// Takes time step `step` for the account's code: only if no code of this
/// or a later step was taken (a code works once, even when two requests race).
pub async fn take_step(conn: &mut DbConn<'_>, account_id: i64, step: i64) -> DbResult<bool> {
    with_conn!(conn, |c| {
        diesel::update(
            two_factor::table
                .filter(two_factor::account_id.eq(account_id))
                .filter(two_factor::last_step.lt(step)),
        )
        .set(two_factor::last_step.eq(step))
        .execute(c)
        .await
        .map(|n| n > 0)
    })
}

/// Counts a wrong code; the `limit`-th in a row locks code entry until
/// `lock_until` (and starts the count again). Returns whether it locked.
pub async fn code_failed(
    conn: &mut DbConn<'_>,
    account_id: i64,
    limit: i32,
    lock_until: NaiveDateTime,
) -> DbResult<bool> {
    with_conn!(conn, |c| {
        let failures: i32 = diesel::update(two_factor::table.find(account_id))
            .set(two_factor::failures.eq(two_factor::failures + 1))
            .returning(two_factor::failures)
            .get_result(c)
            .await?;
        if failures < limit {
            return Ok(false);
        }
        diesel::update(two_factor::table.find(account_id))
            .set((
                two_factor::failures.eq(0),
                two_factor::locked_until.eq(lock_until),
            ))
            .execute(c)
            .await?;
        Ok(true)
    })
}

pub async fn code_succeeded(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(two_factor::table.find(account_id))
            .set(two_factor::failures.eq(0))
            .execute(c)
            .await
            .map(drop)
    })
}

pub async fn enable_two_factor(
    conn: &mut DbConn<'_>,
    account_id: i64,
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(two_factor::table.find(account_id))
            .set(two_factor::enabled_at.eq(now))
            .execute(c)
            .await
            .map(drop)
    })
}

pub async fn disable_two_factor(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::delete(two_factor::table.find(account_id))
            .execute(c)
            .await?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::account_id.eq(account_id)))
            .execute(c)
            .await
            .map(drop)
    })
}

/// Replaces the account's recovery codes.
pub async fn set_recovery_codes(
    conn: &mut DbConn<'_>,
    account_id: i64,
    hashes: &[String],
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::delete(recovery_codes::table.filter(recovery_codes::account_id.eq(account_id)))
            .execute(c)
            .await?;
        for h in hashes {
            diesel::insert_into(recovery_codes::table)
                .values((
                    recovery_codes::account_id.eq(account_id),
                    recovery_codes::code_hash.eq(h.as_str()),
                ))
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

/// Uses a recovery code once; returns whether it was valid and unused.
pub async fn use_recovery_code(
    conn: &mut DbConn<'_>,
    account_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> DbResult<bool> {
    with_conn!(conn, |c| {
        diesel::update(
            recovery_codes::table
                .filter(recovery_codes::account_id.eq(account_id))
                .filter(recovery_codes::code_hash.eq(hash))
                .filter(recovery_codes::used_at.is_null()),
        )
        .set(recovery_codes::used_at.eq(now))
        .execute(c)
        .await
        .map(|n| n > 0)
    })
}

pub async fn recovery_codes_left(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<i64> {
    with_conn!(conn, |c| {
        recovery_codes::table
            .filter(recovery_codes::account_id.eq(account_id))
            .filter(recovery_codes::used_at.is_null())
            .count()
            .get_result(c)
            .await
    })
}

// ---- Links by e-mail, credentials, authorised apps ---------------------------

pub async fn insert_account_token(conn: &mut DbConn<'_>, t: &AccountToken) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(account_tokens::table)
            .values(t)
            .execute(c)
            .await
            .map(drop)
    })
}

pub async fn find_account_token(
    conn: &mut DbConn<'_>,
    token_hash: &str,
    purpose: TokenPurpose,
) -> DbResult<Option<AccountToken>> {
    with_conn!(conn, |c| {
        account_tokens::table
            .filter(account_tokens::token_hash.eq(token_hash))
            .filter(account_tokens::purpose.eq(purpose))
            .select(AccountToken::as_select())
            .first(c)
            .await
            .optional()
    })
}

/// Takes a link's token (it works once): the row, if it was there.
pub async fn take_account_token(
    conn: &mut DbConn<'_>,
    token_hash: &str,
    purpose: TokenPurpose,
) -> DbResult<Option<AccountToken>> {
    with_conn!(conn, |c| {
        diesel::delete(
            account_tokens::table
                .filter(account_tokens::token_hash.eq(token_hash))
                .filter(account_tokens::purpose.eq(purpose)),
        )
        .returning(AccountToken::as_returning())
        .get_result(c)
        .await
        .optional()
    })
}

/// Forgets the account's links of one purpose (a new one replaces them),
/// or all of them.
pub async fn drop_account_tokens(
    conn: &mut DbConn<'_>,
    account_id: i64,
    purpose: Option<TokenPurpose>,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        let mut q = diesel::delete(account_tokens::table)
            .filter(account_tokens::account_id.eq(account_id))
            .into_boxed();
        if let Some(p) = purpose {
            q = q.filter(account_tokens::purpose.eq(p));
        }
        q.execute(c).await.map(drop)
    })
}

/// Whether a link of this purpose was made for the account since `since`.
pub async fn account_token_since(
    conn: &mut DbConn<'_>,
    account_id: i64,
    purpose: TokenPurpose,
    since: NaiveDateTime,
) -> DbResult<bool> {
    with_conn!(conn, |c| {
        account_tokens::table
            .filter(account_tokens::account_id.eq(account_id))
            .filter(account_tokens::purpose.eq(purpose))
            .filter(account_tokens::created_at.gt(since))
            .count()
            .get_result::<i64>(c)
            .await
            .map(|n| n > 0)
    })
}

pub async fn set_password_hash(
    conn: &mut DbConn<'_>,
    account_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(users::table.find(account_id))
            .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
            .execute(c)
            .await
            .map(drop)
    })
}

/// A proven new address (the confirmation holds for it).
pub async fn set_email(
    conn: &mut DbConn<'_>,
    account_id: i64,
    email: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(users::table.find(account_id))
            .set((
                users::email.eq(email),
                users::email_key.eq(email.to_lowercase()),
                users::email_confirmed_at.eq(Some(now)),
                users::updated_at.eq(now),
            ))
            .execute(c)
            .await
            .map(drop)
    })
}

/// Ends every web session of the account.
pub async fn delete_all(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::delete(web_sessions::table.filter(web_sessions::account_id.eq(account_id)))
            .execute(c)
            .await
            .map(drop)
    })
}

/// The apps holding a live token of the account, newest first.
pub async fn authorised_apps(
    conn: &mut DbConn<'_>,
    account_id: i64,
) -> DbResult<Vec<(OAuthToken, OAuthApp)>> {
    with_conn!(conn, |c| {
        oauth_tokens::table
            .inner_join(oauth_apps::table)
            .filter(oauth_tokens::account_id.eq(account_id))
            .filter(oauth_tokens::revoked_at.is_null())
            .order(oauth_tokens::id.desc())
            .select((OAuthToken::as_select(), OAuthApp::as_select()))
            .load(c)
            .await
    })
}

/// Revokes one token of the account (by id); returns whether one was live.
pub async fn revoke_app_token(
    conn: &mut DbConn<'_>,
    account_id: i64,
    token_id: i64,
    now: NaiveDateTime,
) -> DbResult<bool> {
    with_conn!(conn, |c| {
        diesel::update(
            oauth_tokens::table
                .filter(oauth_tokens::id.eq(token_id))
                .filter(oauth_tokens::account_id.eq(account_id))
                .filter(oauth_tokens::revoked_at.is_null()),
        )
        .set(oauth_tokens::revoked_at.eq(now))
        .execute(c)
        .await
        .map(|n| n > 0)
    })
}

/// Revokes every token of the account (after a password reset).
pub async fn revoke_all_app_tokens(
    conn: &mut DbConn<'_>,
    account_id: i64,
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(
            oauth_tokens::table
                .filter(oauth_tokens::account_id.eq(account_id))
                .filter(oauth_tokens::revoked_at.is_null()),
        )
        .set(oauth_tokens::revoked_at.eq(now))
        .execute(c)
        .await
        .map(drop)
    })
}
