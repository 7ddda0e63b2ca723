//! Follows, favourites (and dislikes), bookmarks and pins.
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Account, Bookmark, Dislike, Favourite, Follow, StatusPin};
use super::schema::{accounts, bookmarks, dislikes, favourites, follows, status_pins};
use super::statuses::Page;
use super::{DbConn, DbResult};
use crate::with_conn;

pub async fn find_follow(
    conn: &mut DbConn<'_>,
    account_id: i64,
    target: i64,
) -> DbResult<Option<Follow>> {
    with_conn!(conn, |c| {
        follows::table
            .filter(follows::account_id.eq(account_id))
            .filter(follows::target_account_id.eq(target))
            .select(Follow::as_select())
            .first(c)
            .await
            .optional()
    })
}

/// Creates the follow, or updates its options if it exists. Returns the row.
pub async fn upsert_follow(conn: &mut DbConn<'_>, f: &Follow) -> DbResult<Follow> {
    with_conn!(conn, |c| {
        diesel::insert_into(follows::table)
            .values(f)
            .on_conflict((follows::account_id, follows::target_account_id))
            .do_update()
            .set((
                follows::show_reblogs.eq(f.show_reblogs),
                follows::notify.eq(f.notify),
            ))
            .returning(Follow::as_returning())
            .get_result(c)
            .await
    })
}

pub async fn delete_follow(conn: &mut DbConn<'_>, account_id: i64, target: i64) -> DbResult<usize> {
    with_conn!(conn, |c| {
        diesel::delete(
            follows::table
                .filter(follows::account_id.eq(account_id))
                .filter(follows::target_account_id.eq(target)),
        )
        .execute(c)
        .await
    })
}

pub async fn accept_follow(conn: &mut DbConn<'_>, account_id: i64, target: i64) -> DbResult<usize> {
    with_conn!(conn, |c| {
        diesel::update(
            follows::table
                .filter(follows::account_id.eq(account_id))
                .filter(follows::target_account_id.eq(target))
                .filter(follows::pending.eq(true)),
        )
        .set(follows::pending.eq(false))
        .execute(c)
        .await
    })
}

/// Follows between `viewer` and any of `others`, both directions.
pub async fn follows_between(
    conn: &mut DbConn<'_>,
    viewer: i64,
    others: &[i64],
) -> DbResult<Vec<Follow>> {
    with_conn!(conn, |c| {
        follows::table
            .filter(
                follows::account_id
                    .eq(viewer)
                    .and(follows::target_account_id.eq_any(others))
                    .or(follows::target_account_id
                        .eq(viewer)
                        .and(follows::account_id.eq_any(others))),
            )
            .select(Follow::as_select())
            .load(c)
            .await
    })
}

/// Followers (`incoming`) or followed accounts of `account_id`, paged by the follow's id.
pub async fn follow_list(
    conn: &mut DbConn<'_>,
    account_id: i64,
    incoming: bool,
    pending: bool,
    page: Page,
) -> DbResult<Vec<(i64, Account)>> {
    with_conn!(conn, |c| {
        if incoming {
            let q = follows::table
                .inner_join(accounts::table.on(accounts::id.eq(follows::account_id)))
                .filter(follows::target_account_id.eq(account_id))
                .filter(follows::pending.eq(pending))
                .select((follows::id, Account::as_select()))
                .into_boxed();
            crate::paginate!(q, follows::id, page).load(c).await
        } else {
            let q = follows::table
                .inner_join(accounts::table.on(accounts::id.eq(follows::target_account_id)))
                .filter(follows::account_id.eq(account_id))
                .filter(follows::pending.eq(pending))
                .select((follows::id, Account::as_select()))
                .into_boxed();
            crate::paginate!(q, follows::id, page).load(c).await
        }
    })
}

pub async fn pending_requests_count(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<i64> {
    with_conn!(conn, |c| {
        follows::table
            .filter(follows::target_account_id.eq(account_id))
            .filter(follows::pending.eq(true))
            .count()
            .get_result(c)
            .await
    })
}

/// Favourites, bookmarks and pins share one shape: (id, account, status, time).
macro_rules! mark_table {
    ($module:ident, $table:ident, $model:ident) => {
        pub mod $module {
            use super::*;

            /// Adds the mark; returns false when it already existed.
            pub async fn add(conn: &mut DbConn<'_>, m: &$model) -> DbResult<bool> {
                with_conn!(conn, |c| {
                    diesel::insert_into($table::table)
                        .values(m)
                        .on_conflict(($table::account_id, $table::status_id))
                        .do_nothing()
                        .execute(c)
                        .await
                        .map(|n| n > 0)
                })
            }

            pub async fn remove(
                conn: &mut DbConn<'_>,
                account_id: i64,
                status_id: i64,
            ) -> DbResult<usize> {
                with_conn!(conn, |c| {
                    diesel::delete(
                        $table::table
                            .filter($table::account_id.eq(account_id))
                            .filter($table::status_id.eq(status_id)),
                    )
                    .execute(c)
                    .await
                })
            }

            /// Which of `ids` `account_id` has marked.
            pub async fn marked(
                conn: &mut DbConn<'_>,
                account_id: i64,
                ids: &[i64],
            ) -> DbResult<Vec<i64>> {
                with_conn!(conn, |c| {
                    $table::table
                        .filter($table::account_id.eq(account_id))
                        .filter($table::status_id.eq_any(ids))
                        .select($table::status_id)
                        .load(c)
                        .await
                })
            }

            /// How many people marked each of `ids`.
            pub async fn counts(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<(i64, i64)>> {
                with_conn!(conn, |c| {
                    $table::table
                        .filter($table::status_id.eq_any(ids))
                        .group_by($table::status_id)
                        .select(($table::status_id, diesel::dsl::count_star()))
                        .load(c)
                        .await
                })
            }

            /// (mark id, account) of the people who marked `status_id`, newest first.
            pub async fn by_status(
                conn: &mut DbConn<'_>,
                status_id: i64,
                page: Page,
            ) -> DbResult<Vec<(i64, Account)>> {
                with_conn!(conn, |c| {
                    let q = $table::table
                        .inner_join(accounts::table.on(accounts::id.eq($table::account_id)))
                        .filter($table::status_id.eq(status_id))
                        .select(($table::id, Account::as_select()))
                        .into_boxed();
                    crate::paginate!(q, $table::id, page).load(c).await
                })
            }
        }
    };
}

mark_table!(favourite, favourites, Favourite);
mark_table!(dislike, dislikes, Dislike);
mark_table!(bookmark, bookmarks, Bookmark);
mark_table!(pin, status_pins, StatusPin);

/// Local followers of `account_id` who asked to be notified of its posts.
pub async fn notify_followers(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Vec<i64>> {
    with_conn!(conn, |c| {
        follows::table
            .inner_join(accounts::table.on(accounts::id.eq(follows::account_id)))
            .filter(follows::target_account_id.eq(account_id))
            .filter(follows::notify.eq(true))
            .filter(follows::pending.eq(false))
            .filter(accounts::local.eq(true))
            .select(follows::account_id)
            .load(c)
            .await
    })
}

/// Blocks and mutes: `(id, account, target, created)` rows of their own tables.
pub mod blocking {
    use chrono::NaiveDateTime;

    use super::*;
    use crate::db::schema::{blocks, mutes};

    pub async fn block(
        conn: &mut DbConn<'_>,
        id: i64,
        account_id: i64,
        target: i64,
        now: NaiveDateTime,
    ) -> DbResult<()> {
        with_conn!(conn, |c| {
            diesel::insert_into(blocks::table)
                .values((
                    blocks::id.eq(id),
                    blocks::account_id.eq(account_id),
                    blocks::target_account_id.eq(target),
                    blocks::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c)
                .await?;
            // A block ends follows both ways.
            diesel::delete(
                follows::table.filter(
                    follows::account_id
                        .eq(account_id)
                        .and(follows::target_account_id.eq(target))
                        .or(follows::account_id
                            .eq(target)
                            .and(follows::target_account_id.eq(account_id))),
                ),
            )
            .execute(c)
            .await?;
            Ok(())
        })
    }

    pub async fn unblock(conn: &mut DbConn<'_>, account_id: i64, target: i64) -> DbResult<usize> {
        with_conn!(conn, |c| {
            diesel::delete(
                blocks::table
                    .filter(blocks::account_id.eq(account_id))
                    .filter(blocks::target_account_id.eq(target)),
            )
            .execute(c)
            .await
        })
    }

    pub async fn mute(
        conn: &mut DbConn<'_>,
        id: i64,
        account_id: i64,
        target: i64,
        notifications: bool,
        expires_at: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> DbResult<()> {
        with_conn!(conn, |c| {
            diesel::insert_into(mutes::table)
                .values((
                    mutes::id.eq(id),
                    mutes::account_id.eq(account_id),
                    mutes::target_account_id.eq(target),
                    mutes::hide_notifications.eq(notifications),
                    mutes::expires_at.eq(expires_at),
                    mutes::created_at.eq(now),
                ))
                .on_conflict((mutes::account_id, mutes::target_account_id))
                .do_update()
                .set((
                    mutes::hide_notifications.eq(notifications),
                    mutes::expires_at.eq(expires_at),
                ))
                .execute(c)
                .await
                .map(|_| ())
        })
    }

    pub async fn unmute(conn: &mut DbConn<'_>, account_id: i64, target: i64) -> DbResult<usize> {
        with_conn!(conn, |c| {
            diesel::delete(
                mutes::table
                    .filter(mutes::account_id.eq(account_id))
                    .filter(mutes::target_account_id.eq(target)),
            )
            .execute(c)
            .await
        })
    }

    /// Accounts `account_id` blocked (or muted), paged by the row id.
    pub async fn listed(
        conn: &mut DbConn<'_>,
        account_id: i64,
        muted: bool,
        page: Page,
    ) -> DbResult<Vec<(i64, Account)>> {
        with_conn!(conn, |c| {
            if muted {
                let q = mutes::table
                    .inner_join(accounts::table.on(accounts::id.eq(mutes::target_account_id)))
                    .filter(mutes::account_id.eq(account_id))
                    .select((mutes::id, Account::as_select()))
                    .into_boxed();
                crate::paginate!(q, mutes::id, page).load(c).await
            } else {
                let q = blocks::table
                    .inner_join(accounts::table.on(accounts::id.eq(blocks::target_account_id)))
                    .filter(blocks::account_id.eq(account_id))
                    .select((blocks::id, Account::as_select()))
                    .into_boxed();
                crate::paginate!(q, blocks::id, page).load(c).await
            }
        })
    }

    /// (blocker, blocked) pairs between `viewer` and `others`.
    pub async fn blocks_between(
        conn: &mut DbConn<'_>,
        viewer: i64,
        others: &[i64],
    ) -> DbResult<Vec<(i64, i64)>> {
        with_conn!(conn, |c| {
            blocks::table
                .filter(
                    blocks::account_id
                        .eq(viewer)
                        .and(blocks::target_account_id.eq_any(others))
                        .or(blocks::target_account_id
                            .eq(viewer)
                            .and(blocks::account_id.eq_any(others))),
                )
                .select((blocks::account_id, blocks::target_account_id))
                .load(c)
                .await
        })
    }

    /// (muted account, notifications hidden) among `others`.
    pub async fn mutes_of(
        conn: &mut DbConn<'_>,
        viewer: i64,
        others: &[i64],
    ) -> DbResult<Vec<(i64, bool)>> {
        with_conn!(conn, |c| {
            mutes::table
                .filter(mutes::account_id.eq(viewer))
                .filter(mutes::target_account_id.eq_any(others))
                .select((mutes::target_account_id, mutes::hide_notifications))
                .load(c)
                .await
        })
    }
}

/// Local accounts that follow `account_id` (only those who want its reblogs, if asked).
pub async fn local_followers(
    conn: &mut DbConn<'_>,
    account_id: i64,
    wanting_reblogs: bool,
) -> DbResult<Vec<i64>> {
    with_conn!(conn, |c| {
        let mut q = follows::table
            .inner_join(accounts::table.on(accounts::id.eq(follows::account_id)))
            .filter(follows::target_account_id.eq(account_id))
            .filter(follows::pending.eq(false))
            .filter(accounts::local.eq(true))
            .select(follows::account_id)
            .into_boxed();
        if wanting_reblogs {
            q = q.filter(follows::show_reblogs.eq(true));
        }
        q.load(c).await
    })
}

/// A follow by the ActivityPub id of its Follow activity.
pub async fn find_follow_by_uri(conn: &mut DbConn<'_>, uri: &str) -> DbResult<Option<Follow>> {
    with_conn!(conn, |c| follows::table
        .filter(follows::uri.eq(uri))
        .select(Follow::as_select())
        .first(c)
        .await
        .optional())
}
