//! Account (actor) and user (local sign-in) queries, written once for both backends.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Account, LocalUser, ProfileChanges, SettingsChanges, User};
use super::schema::{accounts, users};
use super::{DbConn, DbResult};
use crate::with_conn;

fn local_user((account, user): (Account, User)) -> LocalUser {
    LocalUser { account, user }
}

/// Inserts a local person's actor and sign-in rows (call inside a transaction).
pub async fn insert_local(
    conn: &mut DbConn<'_>,
    account: &Account,
    user: &User,
) -> DbResult<LocalUser> {
    with_conn!(conn, |c| {
        let account = diesel::insert_into(accounts::table)
            .values(account)
            .returning(Account::as_returning())
            .get_result(c)
            .await?;
        let user = diesel::insert_into(users::table)
            .values(user)
            .returning(User::as_returning())
            .get_result(c)
            .await?;
        Ok(LocalUser { account, user })
    })
}

/// An account and, for local people, their user row.
pub async fn find(conn: &mut DbConn<'_>, id: i64) -> DbResult<Option<(Account, Option<User>)>> {
    with_conn!(conn, |c| {
        accounts::table
            .left_join(users::table)
            .filter(accounts::id.eq(id))
            .select((Account::as_select(), Option::<User>::as_select()))
            .first(c)
            .await
            .optional()
    })
}

pub async fn find_local_user(conn: &mut DbConn<'_>, id: i64) -> DbResult<Option<LocalUser>> {
    with_conn!(conn, |c| {
        accounts::table
            .inner_join(users::table)
            .filter(accounts::id.eq(id))
            .select((Account::as_select(), User::as_select()))
            .first(c)
            .await
            .optional()
            .map(|o| o.map(local_user))
    })
}

/// A local person by lower-cased username or e-mail (sign-in accepts either).
pub async fn find_local_by_login(
    conn: &mut DbConn<'_>,
    login_key: &str,
) -> DbResult<Option<LocalUser>> {
    with_conn!(conn, |c| {
        accounts::table
            .inner_join(users::table)
            .filter(
                accounts::acct_key
                    .eq(login_key)
                    .or(users::email_key.eq(login_key)),
            )
            .select((Account::as_select(), User::as_select()))
            .first(c)
            .await
            .optional()
            .map(|o| o.map(local_user))
    })
}

/// A local person by lower-cased e-mail address.
pub async fn find_local_by_email(
    conn: &mut DbConn<'_>,
    email_key: &str,
) -> DbResult<Option<LocalUser>> {
    with_conn!(conn, |c| {
        accounts::table
            .inner_join(users::table)
            .filter(users::email_key.eq(email_key))
            .select((Account::as_select(), User::as_select()))
            .first(c)
            .await
            .optional()
            .map(|o| o.map(local_user))
    })
}

pub async fn find_by_acct_key(
    conn: &mut DbConn<'_>,
    key: &str,
) -> DbResult<Option<(Account, Option<User>)>> {
    with_conn!(conn, |c| {
        accounts::table
            .left_join(users::table)
            .filter(accounts::acct_key.eq(key))
            .select((Account::as_select(), Option::<User>::as_select()))
            .first(c)
            .await
            .optional()
    })
}

pub async fn acct_key_taken(conn: &mut DbConn<'_>, key: &str) -> DbResult<bool> {
    with_conn!(conn, |c| {
        diesel::select(diesel::dsl::exists(
            accounts::table.filter(accounts::acct_key.eq(key)),
        ))
        .get_result(c)
        .await
    })
}

pub async fn email_taken(conn: &mut DbConn<'_>, email_key: &str) -> DbResult<bool> {
    with_conn!(conn, |c| {
        diesel::select(diesel::dsl::exists(
            users::table.filter(users::email_key.eq(email_key)),
        ))
        .get_result(c)
        .await
    })
}

pub async fn update_profile(
    conn: &mut DbConn<'_>,
    id: i64,
    changes: &ProfileChanges,
) -> DbResult<Account> {
    with_conn!(conn, |c| {
        diesel::update(accounts::table.find(id))
            .set(changes)
            .returning(Account::as_returning())
            .get_result(c)
            .await
    })
}

pub async fn update_settings(
    conn: &mut DbConn<'_>,
    id: i64,
    changes: &SettingsChanges,
) -> DbResult<User> {
    with_conn!(conn, |c| {
        diesel::update(users::table.find(id))
            .set(changes)
            .returning(User::as_returning())
            .get_result(c)
            .await
    })
}

pub async fn approve(conn: &mut DbConn<'_>, id: i64, now: NaiveDateTime) -> DbResult<usize> {
    with_conn!(conn, |c| {
        diesel::update(users::table.find(id))
            .set((users::approved.eq(true), users::updated_at.eq(now)))
            .execute(c)
            .await
    })
}

/// Confirms the e-mail whose confirmation token hashes to `token_hash`; the token is single-use.
pub async fn confirm_email(
    conn: &mut DbConn<'_>,
    token_hash: &str,
    now: NaiveDateTime,
) -> DbResult<Option<i64>> {
    with_conn!(conn, |c| {
        diesel::update(users::table.filter(users::confirmation_token_hash.eq(token_hash)))
            .set((
                users::email_confirmed_at.eq(now),
                users::confirmation_token_hash.eq(None::<String>),
                users::updated_at.eq(now),
            ))
            .returning(users::account_id)
            .get_result(c)
            .await
            .optional()
    })
}

pub async fn count_local_admins(conn: &mut DbConn<'_>) -> DbResult<i64> {
    with_conn!(conn, |c| {
        users::table
            .filter(users::is_admin.eq(true))
            .count()
            .get_result(c)
            .await
    })
}

/// Local people waiting for an admin's approval, oldest first.
pub async fn list_pending(conn: &mut DbConn<'_>) -> DbResult<Vec<LocalUser>> {
    with_conn!(conn, |c| {
        accounts::table
            .inner_join(users::table)
            .filter(users::approved.eq(false))
            .order(accounts::id.asc())
            .select((Account::as_select(), User::as_select()))
            .load(c)
            .await
            .map(|v| v.into_iter().map(local_user).collect())
    })
}

/// The oldest enabled local admin: the instance's contact account.
pub async fn first_admin(conn: &mut DbConn<'_>) -> DbResult<Option<Account>> {
    with_conn!(conn, |c| {
        accounts::table
            .inner_join(users::table)
            .filter(users::is_admin.eq(true))
            .filter(users::disabled.eq(false))
            .order(accounts::id.asc())
            .select(Account::as_select())
            .first(c)
            .await
            .optional()
    })
}

/// How many other servers we know accounts from.
pub async fn count_domains(conn: &mut DbConn<'_>) -> DbResult<i64> {
    with_conn!(conn, |c| {
        accounts::table
            .filter(accounts::domain.is_not_null())
            .select(diesel::dsl::count(accounts::domain).aggregate_distinct())
            .get_result(c)
            .await
    })
}

/// Local people others can see (approved, enabled).
pub async fn count_active_local(conn: &mut DbConn<'_>) -> DbResult<i64> {
    with_conn!(conn, |c| {
        users::table
            .filter(users::approved.eq(true))
            .filter(users::disabled.eq(false))
            .count()
            .get_result(c)
            .await
    })
}

pub async fn find_many(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<Account>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    with_conn!(conn, |c| {
        accounts::table
            .filter(accounts::id.eq_any(ids))
            .select(Account::as_select())
            .load(c)
            .await
    })
}

/// Accounts by `acct_key` (lower-case `user` or `user@host`), e.g. for mentions.
pub async fn find_by_acct_keys(conn: &mut DbConn<'_>, keys: &[String]) -> DbResult<Vec<Account>> {
    if keys.is_empty() {
        return Ok(vec![]);
    }
    with_conn!(conn, |c| {
        accounts::table
            .filter(accounts::acct_key.eq_any(keys))
            .filter(accounts::suspended.eq(false))
            .select(Account::as_select())
            .load(c)
            .await
    })
}

/// Servers we know accounts from, alphabetically.
pub async fn known_domains(conn: &mut DbConn<'_>) -> DbResult<Vec<String>> {
    with_conn!(conn, |c| {
        accounts::table
            .filter(accounts::domain.is_not_null())
            .select(accounts::domain.assume_not_null())
            .distinct()
            .order(accounts::domain.assume_not_null().asc())
            .load(c)
            .await
    })
}

/// Creation times since `since` of local statuses, registrations and sign-ins
/// (token grants, with their account), for the weekly activity report.
pub async fn activity_since(
    conn: &mut DbConn<'_>,
    since: NaiveDateTime,
) -> DbResult<(
    Vec<NaiveDateTime>,
    Vec<NaiveDateTime>,
    Vec<(NaiveDateTime, i64)>,
)> {
    use super::schema::{oauth_tokens, statuses};
    with_conn!(conn, |c| {
        let posts = statuses::table
            .filter(statuses::local.eq(true))
            .filter(statuses::reblog_of_id.is_null())
            .filter(statuses::created_at.ge(since))
            .select(statuses::created_at)
            .load(c)
            .await?;
        let registrations = users::table
            .filter(users::created_at.ge(since))
            .select(users::created_at)
            .load(c)
            .await?;
        let logins = oauth_tokens::table
            .filter(oauth_tokens::created_at.ge(since))
            .filter(oauth_tokens::account_id.is_not_null())
            .select((
                oauth_tokens::created_at,
                oauth_tokens::account_id.assume_not_null(),
            ))
            .load(c)
            .await?;
        Ok((posts, registrations, logins))
    })
}

/// Enabled local administrators.
pub async fn admin_ids(conn: &mut DbConn<'_>) -> DbResult<Vec<i64>> {
    with_conn!(conn, |c| {
        users::table
            .filter(users::is_admin.eq(true))
            .filter(users::disabled.eq(false))
            .select(users::account_id)
            .load(c)
            .await
    })
}

/// The counters shown with accounts (kept by triggers, see migration
/// 000016): (account, statuses, last status at, followers, following).
pub async fn stats(
    conn: &mut DbConn<'_>,
    ids: &[i64],
) -> DbResult<Vec<(i64, i64, Option<NaiveDateTime>, i64, i64)>> {
    use super::schema::account_stats as st;
    with_conn!(conn, |c| st::table
        .filter(st::account_id.eq_any(ids))
        .select((
            st::account_id,
            st::statuses_count,
            st::last_status_at,
            st::followers_count,
            st::following_count,
        ))
        .load(c)
        .await)
}

/// Mastodon's profile directory: discoverable people (approved, if from
/// here), by latest post or newest account, offset-paged.
pub async fn directory(
    conn: &mut DbConn<'_>,
    local_only: bool,
    newest: bool,
    offset: i64,
    limit: i64,
) -> DbResult<Vec<Account>> {
    use super::schema::account_stats;
    with_conn!(conn, |c| {
        let mut q = accounts::table
            .left_join(account_stats::table.on(account_stats::account_id.eq(accounts::id)))
            .filter(accounts::discoverable.eq(true))
            .filter(accounts::suspended.eq(false))
            .filter(accounts::actor_type.eq(crate::domain::ActorType::Person))
            .filter(accounts::moved_to_account_id.is_null())
            .filter(
                accounts::local.eq(false).or(accounts::id.eq_any(
                    users::table
                        .filter(users::approved.eq(true))
                        .filter(users::disabled.eq(false))
                        .select(users::account_id),
                )),
            )
            .select(Account::as_select())
            .into_boxed();
        if local_only {
            q = q.filter(accounts::local.eq(true));
        }
        q = if newest {
            q.order((accounts::created_at.desc(), accounts::id.desc()))
        } else {
            q.order((
                account_stats::last_status_at.is_null(),
                account_stats::last_status_at.desc(),
                accounts::id.desc(),
            ))
        };
        q.offset(offset).limit(limit).load(c).await
    })
}
