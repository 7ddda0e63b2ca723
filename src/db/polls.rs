//! Polls and votes.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::Poll;
use super::schema::{poll_votes, polls};
use super::{DbConn, DbResult};
use crate::with_conn;

pub async fn insert(conn: &mut DbConn<'_>, p: &Poll) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(polls::table)
        .values(p)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn find(conn: &mut DbConn<'_>, id: i64) -> DbResult<Option<Poll>> {
    with_conn!(conn, |c| polls::table
        .find(id)
        .select(Poll::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn of_statuses(conn: &mut DbConn<'_>, status_ids: &[i64]) -> DbResult<Vec<Poll>> {
    with_conn!(conn, |c| polls::table
        .filter(polls::status_id.eq_any(status_ids))
        .select(Poll::as_select())
        .load(c)
        .await)
}

/// (poll id, account id, choice) of all votes on the given polls.
pub async fn votes(conn: &mut DbConn<'_>, poll_ids: &[i64]) -> DbResult<Vec<(i64, i64, i32)>> {
    with_conn!(conn, |c| {
        poll_votes::table
            .filter(poll_votes::poll_id.eq_any(poll_ids))
            .select((
                poll_votes::poll_id,
                poll_votes::account_id,
                poll_votes::choice,
            ))
            .load(c)
            .await
    })
}

pub async fn has_voted(conn: &mut DbConn<'_>, poll_id: i64, account_id: i64) -> DbResult<bool> {
    with_conn!(conn, |c| {
        diesel::select(diesel::dsl::exists(
            poll_votes::table
                .filter(poll_votes::poll_id.eq(poll_id))
                .filter(poll_votes::account_id.eq(account_id)),
        ))
        .get_result(c)
        .await
    })
}

pub async fn vote(
    conn: &mut DbConn<'_>,
    poll_id: i64,
    account_id: i64,
    choices: &[i32],
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        for choice in choices {
            diesel::insert_into(poll_votes::table)
                .values((
                    poll_votes::id.eq(crate::ids::next_id()),
                    poll_votes::poll_id.eq(poll_id),
                    poll_votes::account_id.eq(account_id),
                    poll_votes::choice.eq(*choice),
                    poll_votes::created_at.eq(now),
                ))
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

/// New tallies (and end) of a remote poll, from its server.
pub async fn update_remote(
    conn: &mut DbConn<'_>,
    id: i64,
    counts: &str,
    voters: Option<i64>,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(polls::table.find(id))
        .set((
            polls::remote_counts.eq(Some(counts)),
            polls::remote_voters.eq(voters),
            polls::expires_at.eq(expires_at),
        ))
        .execute(c)
        .await
        .map(|_| ()))
}

/// Ended polls whose end nobody has announced yet, oldest first.
pub async fn ended_unannounced(
    conn: &mut DbConn<'_>,
    now: NaiveDateTime,
    limit: i64,
) -> DbResult<Vec<Poll>> {
    with_conn!(conn, |c| polls::table
        .filter(polls::ended_notified.eq(false))
        .filter(polls::expires_at.le(now))
        .order(polls::expires_at.asc())
        .limit(limit)
        .select(Poll::as_select())
        .load(c)
        .await)
}

/// When the next open poll ends, if any.
pub async fn next_end(conn: &mut DbConn<'_>) -> DbResult<Option<NaiveDateTime>> {
    with_conn!(conn, |c| polls::table
        .filter(polls::ended_notified.eq(false))
        .select(diesel::dsl::min(polls::expires_at))
        .first(c)
        .await)
}

/// Claims the announcement of a poll's end: true for exactly one caller.
pub async fn claim_end(conn: &mut DbConn<'_>, id: i64) -> DbResult<bool> {
    with_conn!(conn, |c| diesel::update(
        polls::table
            .filter(polls::id.eq(id))
            .filter(polls::ended_notified.eq(false))
    )
    .set(polls::ended_notified.eq(true))
    .execute(c)
    .await
    .map(|n| n == 1))
}

/// Local accounts that voted on the poll.
pub async fn local_voters(conn: &mut DbConn<'_>, poll_id: i64) -> DbResult<Vec<i64>> {
    use super::schema::accounts;
    with_conn!(conn, |c| poll_votes::table
        .inner_join(accounts::table.on(accounts::id.eq(poll_votes::account_id)))
        .filter(poll_votes::poll_id.eq(poll_id))
        .filter(accounts::local.eq(true))
        .select(poll_votes::account_id)
        .distinct()
        .load(c)
        .await)
}
