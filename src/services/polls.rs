//! Polls: offices use them for quick surveys of their alumni.
use crate::services::remote::Outgoing;
use chrono::Duration;

use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::{LocalUser, Notification, Poll};
use crate::db::{self};
use crate::ids;

pub const MAX_OPTIONS: usize = 4;
pub const MAX_OPTION_CHARS: usize = 50;
pub const MIN_EXPIRATION: i64 = 300;
pub const MAX_EXPIRATION: i64 = 2_629_746;

#[derive(Debug, Clone, Default)]
pub struct NewPoll {
    pub options: Vec<String>,
    pub expires_in: i64,
    pub multiple: bool,
    pub hide_totals: bool,
}

/// A poll with its tallies, as one viewer sees it.
#[derive(Debug, Clone)]
pub struct PollView {
    pub poll: Poll,
    pub options: Vec<String>,
    pub counts: Vec<i64>,
    pub votes_count: i64,
    pub voters_count: i64,
    pub own_votes: Vec<i32>,
    pub expired: bool,
}

/// Checks a new poll and builds its row for `status_id`.
pub fn prepare(p: &NewPoll, status_id: i64) -> ServiceResult<Poll> {
    let bad = |m: String| ServiceError::invalid("poll", "ERR_INVALID", m);
    if p.options.len() < 2 || p.options.len() > MAX_OPTIONS {
        return Err(bad(format!("must have 2 to {MAX_OPTIONS} options")));
    }
    if p.options
        .iter()
        .any(|o| o.trim().is_empty() || o.chars().count() > MAX_OPTION_CHARS)
    {
        return Err(bad(format!(
            "options must have 1 to {MAX_OPTION_CHARS} characters"
        )));
    }
    let mut seen = p.options.clone();
    seen.sort();
    seen.dedup();
    if seen.len() != p.options.len() {
        return Err(bad("options must differ".into()));
    }
    if !(MIN_EXPIRATION..=MAX_EXPIRATION).contains(&p.expires_in) {
        return Err(bad(format!(
            "expires_in must be from {MIN_EXPIRATION} to {MAX_EXPIRATION} seconds"
        )));
    }
    let now = ids::now();
    Ok(Poll {
        id: ids::next_id(),
        status_id,
        options: serde_json::to_string(&p.options).unwrap_or_else(|_| "[]".into()),
        multiple: p.multiple,
        hide_totals: p.hide_totals,
        expires_at: now + Duration::seconds(p.expires_in),
        created_at: now,
        ended_notified: false,
        remote_counts: None,
        remote_voters: None,
    })
}

/// Views of the polls of these statuses, keyed by status id.
pub async fn views_for(
    conn: &mut crate::db::DbConn<'_>,
    viewer: Option<i64>,
    status_ids: &[i64],
) -> ServiceResult<Vec<(i64, PollView)>> {
    let polls = db::polls::of_statuses(conn, status_ids).await?;
    if polls.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = polls.iter().map(|p| p.id).collect();
    let votes = db::polls::votes(conn, &ids).await?;
    let now = ids::now();
    Ok(polls
        .into_iter()
        .map(|p| {
            let options: Vec<String> = serde_json::from_str(&p.options).unwrap_or_default();
            let mine: Vec<&(i64, i64, i32)> =
                votes.iter().filter(|(pid, _, _)| *pid == p.id).collect();
            let mut voters: Vec<i64> = mine.iter().map(|(_, a, _)| *a).collect();
            voters.sort_unstable();
            voters.dedup();
            // A remote poll is tallied by its server; ours from the votes here.
            let (counts, votes_count, voters_count) = match &p.remote_counts {
                Some(remote) => {
                    let mut counts: Vec<i64> = serde_json::from_str(remote).unwrap_or_default();
                    counts.resize(options.len(), 0);
                    let total: i64 = counts.iter().sum();
                    (counts, total, p.remote_voters.unwrap_or(total))
                }
                None => (
                    (0..options.len())
                        .map(|i| mine.iter().filter(|(_, _, c)| *c as usize == i).count() as i64)
                        .collect(),
                    mine.len() as i64,
                    voters.len() as i64,
                ),
            };
            let own_votes = viewer
                .map(|v| {
                    mine.iter()
                        .filter(|(_, a, _)| *a == v)
                        .map(|(_, _, c)| *c)
                        .collect()
                })
                .unwrap_or_default();
            let view = PollView {
                options,
                counts,
                votes_count,
                voters_count,
                own_votes,
                expired: p.expires_at <= now,
                poll: p,
            };
            (view.poll.status_id, view)
        })
        .collect())
}

/// A poll on a status the viewer may see.
pub async fn get(ctx: &Ctx, viewer: Option<i64>, id: i64) -> ServiceResult<PollView> {
    let mut conn = ctx.conn().await?;
    let poll = db::polls::find(&mut conn, id)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    db::statuses::find_visible(&mut conn, poll.status_id, viewer)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    views_for(&mut conn, viewer, &[poll.status_id])
        .await?
        .pop()
        .map(|(_, v)| v)
        .ok_or_else(ServiceError::not_found)
}

pub async fn vote(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    choices: Vec<i32>,
) -> ServiceResult<PollView> {
    let view = get(ctx, Some(me.account.id), id).await?;
    let invalid = |m: &str| ServiceError::invalid("choices", "ERR_INVALID", m.to_owned());
    if view.expired {
        return Err(invalid("The poll has already ended"));
    }
    let mut choices = choices;
    choices.sort_unstable();
    choices.dedup();
    if choices.is_empty() {
        return Err(invalid("can't be blank"));
    }
    if choices
        .iter()
        .any(|c| *c < 0 || *c as usize >= view.options.len())
    {
        return Err(invalid("refers to an option that does not exist"));
    }
    if choices.len() > 1 && !view.poll.multiple {
        return Err(invalid("this poll allows one choice"));
    }
    let mut conn = ctx.conn().await?;
    let (poll_id, voter) = (view.poll.id, me.account.id);
    let status = db::statuses::find(&mut conn, view.poll.status_id)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    let (author, _) = db::accounts::find(&mut conn, status.account_id)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    let named: Vec<(i32, String)> = choices
        .iter()
        .map(|c| (*c, view.options[*c as usize].clone()))
        .collect();
    conn.transaction(async |tx| {
        if db::polls::has_voted(tx, poll_id, voter).await? {
            return Err(ServiceError::invalid(
                "choices",
                "ERR_TAKEN",
                "You have already voted on this poll",
            ));
        }
        db::polls::vote(tx, poll_id, voter, &choices, ids::now()).await?;
        if author.local {
            // Remote readers see the new tallies.
            ctx.federate(
                tx,
                Outgoing::StatusPublished {
                    author: &author,
                    status: &status,
                    edited: true,
                },
            )
            .await?;
        } else {
            ctx.federate(
                tx,
                Outgoing::PollVoted {
                    voter: &me.account,
                    question: &status,
                    author: &author,
                    choices: &named,
                },
            )
            .await?;
        }
        Ok(())
    })
    .await?;
    drop(conn);
    ctx.wake_delivery();
    get(ctx, Some(me.account.id), id).await
}

/// Announces the end of every poll that has ended: a `poll` notification to
/// each local voter and to the author when local. Safe to run on several
/// nodes at once: each poll is claimed by one. Returns how many polls closed.
pub async fn close_ended(ctx: &Ctx, now: chrono::NaiveDateTime) -> ServiceResult<usize> {
    let mut closed = 0;
    loop {
        let mut conn = ctx.conn().await?;
        let batch = db::polls::ended_unannounced(&mut conn, now, 100).await?;
        if batch.is_empty() {
            return Ok(closed);
        }
        for poll in batch {
            let notes = conn
                .transaction(async |tx| {
                    if !db::polls::claim_end(tx, poll.id).await? {
                        return Ok::<_, ServiceError>(Vec::new());
                    }
                    let Some(status) = db::statuses::find(tx, poll.status_id).await? else {
                        return Ok(Vec::new());
                    };
                    let mut recipients = db::polls::local_voters(tx, poll.id).await?;
                    if let Some((author, _)) = db::accounts::find(tx, status.account_id).await?
                        && author.local
                    {
                        recipients.push(author.id);
                    }
                    recipients.sort_unstable();
                    recipients.dedup();
                    let notes: Vec<Notification> = recipients
                        .into_iter()
                        .map(|r| Notification {
                            id: ids::next_id(),
                            account_id: r,
                            from_account_id: status.account_id,
                            kind: crate::domain::NotificationKind::Poll,
                            status_id: Some(status.id),
                            created_at: ids::now(),
                        })
                        .collect();
                    for n in &notes {
                        db::notifications::insert(tx, n).await?;
                    }
                    Ok(notes)
                })
                .await?;
            closed += 1;
            super::streaming::notifications(ctx, &notes);
        }
    }
}

/// How long until the next open poll ends (None: no open poll).
pub async fn until_next_end(ctx: &Ctx) -> ServiceResult<Option<std::time::Duration>> {
    let mut conn = ctx.conn().await?;
    Ok(db::polls::next_end(&mut conn)
        .await?
        .map(|at| (at - ids::now()).to_std().unwrap_or_default()))
}
