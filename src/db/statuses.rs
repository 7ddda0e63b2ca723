//! Status queries: storage, threads, tags, mentions, counters, and the
//! visibility rule every listing shares.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Status, StatusEdit};
use super::schema::{idempotency_keys, mentions, status_edits, status_tags, statuses, tags};
use super::{DbConn, DbResult};
use crate::domain::Visibility;
use crate::with_conn;

/// Keyset pagination as Mastodon clients use it: `max_id` (older than),
/// `since_id` (newer than, newest first), `min_id` (newer than, just after it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

/// Restricts a boxed query over `statuses` to what `viewer` may see: public and
/// unlisted to everyone; private to the author and accepted followers; direct
/// (and private) to the people mentioned; members-only to the verified
/// members of the post's org (read at query time, so leaving takes effect at
/// once). A members-only post is never shown for a mention alone.
#[macro_export]
macro_rules! visible_to {
    ($q:expr, $viewer:expr) => {{
        use $crate::db::schema::{
            follows as vf, memberships as vms, mentions as vm, statuses as vs,
        };
        use $crate::domain::{MembershipState, Visibility};
        let open = vs::visibility.eq_any([Visibility::Public, Visibility::Unlisted]);
        match $viewer {
            None => $q.filter(open),
            Some(v) => $q.filter($crate::not_blocked!(v)).filter(
                open.or(vs::account_id.eq(v))
                    .or(vs::visibility.eq(Visibility::Private).and(
                        vs::account_id.eq_any(
                            vf::table
                                .filter(vf::account_id.eq(v))
                                .filter(vf::pending.eq(false))
                                .select(vf::target_account_id),
                        ),
                    ))
                    .or(vs::visibility.ne(Visibility::Members).and(
                        vs::id.eq_any(vm::table.filter(vm::account_id.eq(v)).select(vm::status_id)),
                    ))
                    .or(vs::visibility.eq(Visibility::Members).and(
                        vs::audience_id.eq_any(
                            vms::table
                                .filter(vms::account_id.eq(v))
                                .filter(vms::state.eq(MembershipState::Verified))
                                .select(vms::org_id.nullable()),
                        ),
                    )),
            ),
        }
    }};
}

/// Excludes statuses of accounts the viewer blocked or that blocked the viewer.
#[macro_export]
macro_rules! not_blocked {
    ($viewer:expr) => {{
        use $crate::db::schema::{blocks as vb, statuses as vs2};
        let v: i64 = $viewer;
        vs2::account_id
            .ne_all(
                vb::table
                    .filter(vb::account_id.eq(v))
                    .select(vb::target_account_id),
            )
            .and(
                vs2::account_id.ne_all(
                    vb::table
                        .filter(vb::target_account_id.eq(v))
                        .select(vb::account_id),
                ),
            )
    }};
}

/// Excludes statuses of silenced accounts, except those the viewer follows
/// (public timelines: a moderator silenced them, a follower chose them).
#[macro_export]
macro_rules! not_silenced {
    ($viewer:expr) => {{
        use $crate::db::schema::{follows as sf, silenced_accounts as sa, statuses as ss};
        let v: i64 = $viewer;
        ss::account_id.ne_all(
            sa::table
                .filter(
                    sa::account_id.ne_all(
                        sf::table
                            .filter(sf::account_id.eq(v))
                            .filter(sf::pending.eq(false))
                            .select(sf::target_account_id),
                    ),
                )
                .select(sa::account_id),
        )
    }};
}

/// Excludes statuses of accounts the viewer muted.
#[macro_export]
macro_rules! not_muted {
    ($viewer:expr) => {{
        use $crate::db::schema::{mutes as vmu, statuses as vs3};
        let v: i64 = $viewer;
        vs3::account_id.ne_all(
            vmu::table
                .filter(vmu::account_id.eq(v))
                .select(vmu::target_account_id),
        )
    }};
}

/// Applies `Page` to a boxed query ordered by `$id`; `min_id` pages ascend (reverse the rows).
#[macro_export]
macro_rules! paginate {
    ($q:expr, $id:expr, $page:expr) => {{
        let page: $crate::db::statuses::Page = $page;
        let mut q = $q;
        if let Some(m) = page.max_id {
            q = q.filter($id.lt(m));
        }
        if let Some(s) = page.since_id {
            q = q.filter($id.gt(s));
        }
        match page.min_id {
            Some(m) => q.filter($id.gt(m)).order($id.asc()).limit(page.limit),
            None => q.order($id.desc()).limit(page.limit),
        }
    }};
}

pub async fn insert(conn: &mut DbConn<'_>, s: &Status) -> DbResult<Status> {
    with_conn!(conn, |c| {
        diesel::insert_into(statuses::table)
            .values(s)
            .returning(Status::as_returning())
            .get_result(c)
            .await
    })
}

pub async fn find(conn: &mut DbConn<'_>, id: i64) -> DbResult<Option<Status>> {
    with_conn!(conn, |c| {
        statuses::table
            .find(id)
            .select(Status::as_select())
            .first(c)
            .await
            .optional()
    })
}

/// The status if `viewer` may see it.
pub async fn find_visible(
    conn: &mut DbConn<'_>,
    id: i64,
    viewer: Option<i64>,
) -> DbResult<Option<Status>> {
    with_conn!(conn, |c| {
        let q = statuses::table
            .filter(statuses::id.eq(id))
            .select(Status::as_select())
            .into_boxed();
        crate::visible_to!(q, viewer).first(c).await.optional()
    })
}

/// Those of `ids` the viewer may see.
pub async fn find_many_visible(
    conn: &mut DbConn<'_>,
    ids: &[i64],
    viewer: Option<i64>,
) -> DbResult<Vec<Status>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    with_conn!(conn, |c| {
        let q = statuses::table
            .filter(statuses::id.eq_any(ids))
            .select(Status::as_select())
            .into_boxed();
        crate::visible_to!(q, viewer).load(c).await
    })
}

/// Reblogs of a status (at most `limit`).
pub async fn reblogs_of(conn: &mut DbConn<'_>, id: i64, limit: i64) -> DbResult<Vec<Status>> {
    with_conn!(conn, |c| statuses::table
        .filter(statuses::reblog_of_id.eq(id))
        .limit(limit)
        .select(Status::as_select())
        .load(c)
        .await)
}

pub async fn find_many(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<Status>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    with_conn!(conn, |c| {
        statuses::table
            .filter(statuses::id.eq_any(ids))
            .select(Status::as_select())
            .load(c)
            .await
    })
}

pub async fn update_content(conn: &mut DbConn<'_>, s: &Status) -> DbResult<Status> {
    with_conn!(conn, |c| {
        diesel::update(statuses::table.find(s.id))
            .set((
                statuses::text.eq(&s.text),
                statuses::content.eq(&s.content),
                statuses::spoiler_text.eq(&s.spoiler_text),
                statuses::sensitive.eq(s.sensitive),
                statuses::language.eq(&s.language),
                statuses::updated_at.eq(s.updated_at),
                statuses::edited_at.eq(s.edited_at),
            ))
            .returning(Status::as_returning())
            .get_result(c)
            .await
    })
}

pub async fn delete(conn: &mut DbConn<'_>, id: i64) -> DbResult<usize> {
    with_conn!(conn, |c| diesel::delete(statuses::table.find(id))
        .execute(c)
        .await)
}

pub async fn insert_edit(conn: &mut DbConn<'_>, e: &StatusEdit) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(status_edits::table)
        .values(e)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn edits(conn: &mut DbConn<'_>, status_id: i64) -> DbResult<Vec<StatusEdit>> {
    with_conn!(conn, |c| {
        status_edits::table
            .filter(status_edits::status_id.eq(status_id))
            .order(status_edits::id.asc())
            .select(StatusEdit::as_select())
            .load(c)
            .await
    })
}

pub async fn set_mentions(
    conn: &mut DbConn<'_>,
    status_id: i64,
    account_ids: &[i64],
) -> DbResult<()> {
    let rows: Vec<_> = account_ids
        .iter()
        .map(|a| {
            (
                mentions::status_id.eq(status_id),
                mentions::account_id.eq(*a),
            )
        })
        .collect();
    with_conn!(conn, |c| {
        diesel::delete(mentions::table.filter(mentions::status_id.eq(status_id)))
            .execute(c)
            .await?;
        // Row by row: SQLite has no multi-row insert in diesel; these lists are short.
        for row in &rows {
            diesel::insert_into(mentions::table)
                .values(*row)
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

/// (status id, mentioned account id) for the given statuses.
pub async fn mentions_of(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<(i64, i64)>> {
    with_conn!(conn, |c| {
        mentions::table
            .filter(mentions::status_id.eq_any(ids))
            .select((mentions::status_id, mentions::account_id))
            .load(c)
            .await
    })
}

/// Links the status to its hashtags (lower-case names), creating tags as needed.
pub async fn set_tags(
    conn: &mut DbConn<'_>,
    status_id: i64,
    names: &[String],
    now: NaiveDateTime,
) -> DbResult<()> {
    let new_tags: Vec<_> = names
        .iter()
        .map(|n| {
            (
                tags::id.eq(crate::ids::next_id()),
                tags::name.eq(n),
                tags::created_at.eq(now),
            )
        })
        .collect();
    with_conn!(conn, |c| {
        diesel::delete(status_tags::table.filter(status_tags::status_id.eq(status_id)))
            .execute(c)
            .await?;
        if new_tags.is_empty() {
            return Ok(());
        }
        for t in &new_tags {
            diesel::insert_into(tags::table)
                .values(*t)
                .on_conflict(tags::name)
                .do_nothing()
                .execute(c)
                .await?;
        }
        let ids: Vec<i64> = tags::table
            .filter(tags::name.eq_any(names))
            .select(tags::id)
            .load(c)
            .await?;
        for t in ids {
            diesel::insert_into(status_tags::table)
                .values((
                    status_tags::status_id.eq(status_id),
                    status_tags::tag_id.eq(t),
                ))
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

/// (status id, tag name) for the given statuses.
pub async fn tags_of(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<(i64, String)>> {
    with_conn!(conn, |c| {
        status_tags::table
            .inner_join(tags::table)
            .filter(status_tags::status_id.eq_any(ids))
            .select((status_tags::status_id, tags::name))
            .load(c)
            .await
    })
}

/// Direct replies to any of `parents`, oldest first.
pub async fn replies_to(conn: &mut DbConn<'_>, parents: &[i64]) -> DbResult<Vec<Status>> {
    with_conn!(conn, |c| {
        statuses::table
            .filter(statuses::in_reply_to_id.eq_any(parents))
            .order(statuses::id.asc())
            .select(Status::as_select())
            .load(c)
            .await
    })
}

pub async fn reblog_by(
    conn: &mut DbConn<'_>,
    account_id: i64,
    status_id: i64,
) -> DbResult<Option<Status>> {
    with_conn!(conn, |c| {
        statuses::table
            .filter(statuses::account_id.eq(account_id))
            .filter(statuses::reblog_of_id.eq(status_id))
            .select(Status::as_select())
            .first(c)
            .await
            .optional()
    })
}

/// Counts grouped by a status column over `ids`: replies (in_reply_to_id) or reblogs (reblog_of_id).
pub async fn replies_counts(
    conn: &mut DbConn<'_>,
    ids: &[i64],
) -> DbResult<Vec<(Option<i64>, i64)>> {
    with_conn!(conn, |c| {
        statuses::table
            .filter(statuses::in_reply_to_id.eq_any(ids))
            .group_by(statuses::in_reply_to_id)
            .select((statuses::in_reply_to_id, diesel::dsl::count_star()))
            .load(c)
            .await
    })
}

pub async fn reblogs_counts(
    conn: &mut DbConn<'_>,
    ids: &[i64],
) -> DbResult<Vec<(Option<i64>, i64)>> {
    with_conn!(conn, |c| {
        statuses::table
            .filter(statuses::reblog_of_id.eq_any(ids))
            .group_by(statuses::reblog_of_id)
            .select((statuses::reblog_of_id, diesel::dsl::count_star()))
            .load(c)
            .await
    })
}

/// An account's public and unlisted statuses (what its outbox may admit to).
pub async fn count_public(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<i64> {
    with_conn!(conn, |c| {
        statuses::table
            .filter(statuses::account_id.eq(account_id))
            .filter(statuses::visibility.eq_any([Visibility::Public, Visibility::Unlisted]))
            .count()
            .get_result(c)
            .await
    })
}

pub async fn count_local(conn: &mut DbConn<'_>) -> DbResult<i64> {
    with_conn!(conn, |c| {
        statuses::table
            .filter(statuses::local.eq(true))
            .filter(statuses::reblog_of_id.is_null())
            .count()
            .get_result(c)
            .await
    })
}

pub async fn idempotent_status(
    conn: &mut DbConn<'_>,
    account_id: i64,
    key: &str,
) -> DbResult<Option<i64>> {
    with_conn!(conn, |c| {
        idempotency_keys::table
            .filter(idempotency_keys::account_id.eq(account_id))
            .filter(idempotency_keys::key.eq(key))
            .select(idempotency_keys::status_id)
            .first(c)
            .await
            .optional()
    })
}

pub async fn remember_idempotency(
    conn: &mut DbConn<'_>,
    account_id: i64,
    key: &str,
    status_id: i64,
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::account_id.eq(account_id),
                idempotency_keys::key.eq(key),
                idempotency_keys::status_id.eq(status_id),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(c)
            .await
            .map(|_| ())
    })
}

/// Which of `ids` `account_id` has reblogged.
pub async fn reblogged_by(
    conn: &mut DbConn<'_>,
    account_id: i64,
    ids: &[i64],
) -> DbResult<Vec<i64>> {
    with_conn!(conn, |c| {
        statuses::table
            .filter(statuses::account_id.eq(account_id))
            .filter(statuses::reblog_of_id.eq_any(ids))
            .select(statuses::reblog_of_id.assume_not_null())
            .load(c)
            .await
    })
}

/// Which of `ids` `viewer` may see.
pub async fn filter_visible(
    conn: &mut DbConn<'_>,
    ids: &[i64],
    viewer: Option<i64>,
) -> DbResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    with_conn!(conn, |c| {
        let q = statuses::table
            .filter(statuses::id.eq_any(ids))
            .select(statuses::id)
            .into_boxed();
        crate::visible_to!(q, viewer).load(c).await
    })
}

/// Local accounts that reblogged `status_id`.
pub async fn local_rebloggers(conn: &mut DbConn<'_>, status_id: i64) -> DbResult<Vec<i64>> {
    use super::schema::accounts;
    with_conn!(conn, |c| {
        statuses::table
            .inner_join(accounts::table.on(accounts::id.eq(statuses::account_id)))
            .filter(statuses::reblog_of_id.eq(status_id))
            .filter(accounts::local.eq(true))
            .select(statuses::account_id)
            .load(c)
            .await
    })
}

/// (reblog id, account) of those who reblogged `status_id`, newest first.
pub async fn rebloggers(
    conn: &mut DbConn<'_>,
    status_id: i64,
    page: Page,
) -> DbResult<Vec<(i64, super::models::Account)>> {
    use super::models::Account;
    use super::schema::accounts;
    with_conn!(conn, |c| {
        let q = statuses::table
            .inner_join(accounts::table.on(accounts::id.eq(statuses::account_id)))
            .filter(statuses::reblog_of_id.eq(status_id))
            .select((statuses::id, Account::as_select()))
            .into_boxed();
        crate::paginate!(q, statuses::id, page).load(c).await
    })
}

/// A status by its ActivityPub id (remote statuses).
pub async fn find_by_uri(conn: &mut DbConn<'_>, uri: &str) -> DbResult<Option<Status>> {
    with_conn!(conn, |c| statuses::table
        .filter(statuses::uri.eq(uri))
        .select(Status::as_select())
        .first(c)
        .await
        .optional())
}

/// A status by ActivityPub id: ours (`{base}/users/NAME/statuses/ID`) or remote.
pub async fn find_by_uri_or_local(
    conn: &mut DbConn<'_>,
    uri: &str,
    base: &str,
) -> DbResult<Option<Status>> {
    let local_id = uri
        .strip_prefix(base)
        .and_then(|p| p.strip_prefix("/users/"))
        .and_then(|p| p.split_once("/statuses/"))
        .and_then(|(_, id)| id.parse::<i64>().ok());
    match local_id {
        Some(id) => find(conn, id).await.map(|s| s.filter(|s| s.local)),
        None => find_by_uri(conn, uri).await,
    }
}
