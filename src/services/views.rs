//! Everything an entity needs besides its row, loaded for whole pages at once
//! (a handful of grouped queries per page, never one per item).
use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;

use super::{Ctx, ServiceResult};
use crate::db::models::{Account, LocalUser, MediaAttachment, Status};
use crate::db::{self, DbConn};

#[derive(Debug, Clone, Default)]
pub struct AccountStats {
    pub statuses: i64,
    pub followers: i64,
    pub following: i64,
    pub last_status_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone)]
pub struct AccountView {
    pub account: Account,
    pub stats: AccountStats,
    /// The account this one moved to (shown by apps as "has moved").
    pub moved: Option<Box<AccountView>>,
    /// Alumni profile fields released to the public (local people): shown
    /// after the person's own profile fields.
    pub alumni_fields: Vec<(String, String)>,
}

/// The signed-in person with their counters (verify/update credentials).
#[derive(Debug, Clone)]
pub struct CredentialView {
    pub me: LocalUser,
    pub stats: AccountStats,
    pub follow_requests: i64,
}

#[derive(Debug, Clone)]
pub struct StatusView {
    pub status: Status,
    pub account: AccountView,
    pub reblog: Option<Box<StatusView>>,
    pub mentions: Vec<Account>,
    pub tags: Vec<String>,
    pub media: Vec<MediaAttachment>,
    pub poll: Option<super::polls::PollView>,
    pub replies_count: i64,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    /// The viewer's relation to the status (false for anonymous viewers).
    pub favourited: bool,
    pub reblogged: bool,
    pub bookmarked: bool,
    pub pinned: bool,
    /// The viewer's filters that matched (set by `organize::apply_filters`).
    pub filtered: Vec<super::organize::FilterMatch>,
    /// The org the post is addressed to.
    pub audience: Option<Account>,
}

pub async fn account_stats(
    conn: &mut DbConn<'_>,
    ids: &[i64],
) -> ServiceResult<HashMap<i64, AccountStats>> {
    let mut out: HashMap<i64, AccountStats> =
        ids.iter().map(|i| (*i, AccountStats::default())).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    for (id, statuses, last_status_at, followers, following) in
        db::accounts::stats(conn, ids).await?
    {
        out.insert(
            id,
            AccountStats {
                statuses,
                last_status_at,
                followers,
                following,
            },
        );
    }
    Ok(out)
}

pub async fn accounts(ctx: &Ctx, list: Vec<Account>) -> ServiceResult<Vec<AccountView>> {
    let mut conn = ctx.conn().await?;
    let moved_ids: Vec<i64> = list.iter().filter_map(|a| a.moved_to_account_id).collect();
    // Moves are rare: no query for the usual page without one.
    let moved = if moved_ids.is_empty() {
        Vec::new()
    } else {
        db::accounts::find_many(&mut conn, &moved_ids).await?
    };
    let mut ids: Vec<i64> = list.iter().map(|a| a.id).collect();
    ids.extend(&moved_ids);
    let stats = account_stats(&mut conn, &ids).await?;
    // Remote people's servers put their public fields in the profile itself.
    let local: Vec<i64> = list.iter().filter(|a| a.local).map(|a| a.id).collect();
    let mut alumni = if local.is_empty() {
        Default::default()
    } else {
        super::alumni::public_fields(&mut conn, &local).await?
    };
    let mut view = |a: Account, moved: Option<Box<AccountView>>| AccountView {
        stats: stats.get(&a.id).cloned().unwrap_or_default(),
        alumni_fields: alumni.remove(&a.id).unwrap_or_default(),
        account: a,
        moved,
    };
    Ok(list
        .into_iter()
        .map(|a| {
            let to = a
                .moved_to_account_id
                .and_then(|m| moved.iter().find(|x| x.id == m))
                .map(|m| Box::new(view(m.clone(), None)));
            view(a, to)
        })
        .collect())
}

pub async fn account(ctx: &Ctx, a: Account) -> ServiceResult<AccountView> {
    Ok(accounts(ctx, vec![a]).await?.remove(0))
}

pub async fn credentials(ctx: &Ctx, me: LocalUser) -> ServiceResult<CredentialView> {
    let mut conn = ctx.conn().await?;
    let stats = account_stats(&mut conn, &[me.account.id])
        .await?
        .remove(&me.account.id)
        .unwrap_or_default();
    let follow_requests = db::social::pending_requests_count(&mut conn, me.account.id).await?;
    Ok(CredentialView {
        me,
        stats,
        follow_requests,
    })
}

/// Views of `list` (in order) as `viewer` sees them, reblogs with their originals.
pub async fn statuses(
    ctx: &Ctx,
    viewer: Option<i64>,
    list: Vec<Status>,
) -> ServiceResult<Vec<StatusView>> {
    let mut conn = ctx.conn().await?;
    // Originals of reblogs, loaded alongside — only those the viewer may see
    // themselves: a reblog never shows more than its original would.
    let reblog_ids: Vec<i64> = list.iter().filter_map(|s| s.reblog_of_id).collect();
    let originals: HashMap<i64, Status> =
        db::statuses::find_many_visible(&mut conn, &reblog_ids, viewer)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
    let all: Vec<&Status> = list.iter().chain(originals.values()).collect();
    let ids: Vec<i64> = all.iter().map(|s| s.id).collect();

    let mut mention_pairs = db::statuses::mentions_of(&mut conn, &ids).await?;
    let mut account_ids: HashSet<i64> = all.iter().map(|s| s.account_id).collect();
    account_ids.extend(mention_pairs.iter().map(|(_, a)| *a));
    account_ids.extend(all.iter().filter_map(|s| s.audience_id));
    let account_ids: Vec<i64> = account_ids.into_iter().collect();
    let accounts: HashMap<i64, Account> = db::accounts::find_many(&mut conn, &account_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let stats = account_stats(&mut conn, &account_ids).await?;
    let local: Vec<i64> = accounts
        .values()
        .filter(|a| a.local)
        .map(|a| a.id)
        .collect();
    let alumni = super::alumni::public_fields(&mut conn, &local).await?;

    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for (sid, name) in db::statuses::tags_of(&mut conn, &ids).await? {
        tags.entry(sid).or_default().push(name);
    }
    let mut media: HashMap<i64, Vec<MediaAttachment>> = HashMap::new();
    for a in db::media::of_statuses(&mut conn, &ids).await? {
        if let Some(sid) = a.status_id {
            media.entry(sid).or_default().push(a);
        }
    }
    let polls: HashMap<i64, super::polls::PollView> =
        super::polls::views_for(&mut conn, viewer, &ids)
            .await?
            .into_iter()
            .collect();
    let to_map = |v: Vec<(Option<i64>, i64)>| {
        v.into_iter()
            .filter_map(|(k, n)| k.map(|k| (k, n)))
            .collect::<HashMap<_, _>>()
    };
    let replies = to_map(db::statuses::replies_counts(&mut conn, &ids).await?);
    let reblogs = to_map(db::statuses::reblogs_counts(&mut conn, &ids).await?);
    let favourites: HashMap<i64, i64> = db::social::favourite::counts(&mut conn, &ids)
        .await?
        .into_iter()
        .collect();
    let (mut faved, mut boosted, mut marked, mut pinned) = (
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
    );
    if let Some(v) = viewer {
        faved.extend(db::social::favourite::marked(&mut conn, v, &ids).await?);
        marked.extend(db::social::bookmark::marked(&mut conn, v, &ids).await?);
        pinned.extend(db::social::pin::marked(&mut conn, v, &ids).await?);
        boosted.extend(db::statuses::reblogged_by(&mut conn, v, &ids).await?);
    }
    mention_pairs.sort();

    // A suspended author's posts (and boosts of them) are shown nowhere.
    let build = |s: Status, reblog: Option<Box<StatusView>>| -> Option<StatusView> {
        let account = accounts
            .get(&s.account_id)
            .filter(|a| !a.suspended)?
            .clone();
        let id = s.id;
        Some(StatusView {
            account: AccountView {
                stats: stats.get(&account.id).cloned().unwrap_or_default(),
                alumni_fields: alumni.get(&account.id).cloned().unwrap_or_default(),
                account,
                moved: None,
            },
            reblog,
            mentions: mention_pairs
                .iter()
                .filter(|(sid, _)| *sid == id)
                .filter_map(|(_, a)| accounts.get(a).cloned())
                .collect(),
            tags: tags.get(&id).cloned().unwrap_or_default(),
            media: media.get(&id).cloned().unwrap_or_default(),
            poll: polls.get(&id).cloned(),
            replies_count: replies.get(&id).copied().unwrap_or(0),
            reblogs_count: reblogs.get(&id).copied().unwrap_or(0),
            favourites_count: favourites.get(&id).copied().unwrap_or(0),
            favourited: faved.contains(&id),
            reblogged: boosted.contains(&id),
            bookmarked: marked.contains(&id),
            pinned: pinned.contains(&id),
            filtered: Vec::new(),
            audience: s.audience_id.and_then(|a| accounts.get(&a).cloned()),
            status: s,
        })
    };
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let reblog = match s.reblog_of_id.and_then(|r| originals.get(&r)) {
            Some(orig) => match build(orig.clone(), None) {
                Some(v) => Some(Box::new(v)),
                None => continue,
            },
            None if s.reblog_of_id.is_some() => continue,
            None => None,
        };
        if let Some(v) = build(s, reblog) {
            out.push(v);
        }
    }
    Ok(out)
}

pub async fn status(ctx: &Ctx, viewer: Option<i64>, s: Status) -> ServiceResult<StatusView> {
    statuses(ctx, viewer, vec![s])
        .await?
        .pop()
        .ok_or_else(super::ServiceError::not_found)
}
