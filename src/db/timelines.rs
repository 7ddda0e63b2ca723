//! Timeline queries. Fan-out happens on read: a timeline is one indexed query
//! over `statuses` joined with the viewer's follows, filtered by visibility.
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::Status;
use super::schema::{
    bookmarks, favourites, follows, media_attachments, memberships, status_pins, status_tags,
    statuses, tags,
};
use super::statuses::Page;
use super::{DbConn, DbResult};
use crate::domain::Visibility;
use crate::{not_blocked, not_muted, not_silenced, paginate, visible_to, with_conn};

/// Keeps statuses with at least one attachment.
macro_rules! with_media {
    ($q:expr) => {
        $q.filter(
            statuses::id.eq_any(
                media_attachments::table
                    .filter(media_attachments::status_id.is_not_null())
                    .select(media_attachments::status_id.assume_not_null()),
            ),
        )
    };
}

/// The viewer's home: their own statuses and those of accounts they follow
/// (reblogs only where they want them; replies only to people they follow).
pub async fn home(conn: &mut DbConn<'_>, viewer: i64, page: Page) -> DbResult<Vec<Status>> {
    with_conn!(conn, |c| {
        let followed = |reblogs_only: bool| {
            let mut f = follows::table
                .filter(follows::account_id.eq(viewer))
                .filter(follows::pending.eq(false))
                .into_boxed();
            if reblogs_only {
                f = f.filter(follows::show_reblogs.eq(true));
            }
            f
        };
        // Members-only posts of my orgs come home even from people I do not follow.
        let my_orgs = memberships::table
            .filter(memberships::account_id.eq(viewer))
            .filter(memberships::state.eq(crate::domain::MembershipState::Verified))
            .select(memberships::org_id.nullable());
        let q = statuses::table
            .filter(
                statuses::account_id
                    .eq(viewer)
                    .or(statuses::account_id
                        .eq_any(followed(false).select(follows::target_account_id)))
                    .or(statuses::visibility
                        .eq(Visibility::Members)
                        .and(statuses::audience_id.eq_any(my_orgs))),
            )
            .filter(
                statuses::in_reply_to_account_id
                    .is_null()
                    .or(statuses::in_reply_to_account_id.eq(viewer))
                    .or(statuses::in_reply_to_account_id.eq(statuses::account_id.nullable()))
                    .or(statuses::in_reply_to_account_id
                        .eq_any(followed(false).select(follows::target_account_id.nullable()))),
            )
            .filter(
                statuses::reblog_of_id
                    .is_null()
                    .or(statuses::account_id.eq(viewer))
                    .or(statuses::account_id
                        .eq_any(followed(true).select(follows::target_account_id))),
            )
            .select(Status::as_select())
            .into_boxed();
        let q = visible_to!(q, Some(viewer)).filter(not_muted!(viewer));
        paginate!(q, statuses::id, page).load(c).await
    })
}

/// Public statuses (no reblogs); `local`: Some(true) local only, Some(false) remote only.
pub async fn public(
    conn: &mut DbConn<'_>,
    viewer: Option<i64>,
    local: Option<bool>,
    only_media: bool,
    page: Page,
) -> DbResult<Vec<Status>> {
    with_conn!(conn, |c| {
        let mut q = statuses::table
            .filter(statuses::visibility.eq(Visibility::Public))
            .filter(statuses::reblog_of_id.is_null())
            .select(Status::as_select())
            .into_boxed();
        if let Some(l) = local {
            q = q.filter(statuses::local.eq(l));
        }
        if only_media {
            q = with_media!(q);
        }
        if let Some(v) = viewer {
            q = q.filter(not_blocked!(v)).filter(not_muted!(v));
        }
        // Anonymous viewers (id 0) follow nobody.
        q = q.filter(not_silenced!(viewer.unwrap_or(0)));
        paginate!(q, statuses::id, page).load(c).await
    })
}

/// Public statuses tagged with any of `any` and all of `all`, none of `none` (lower-case names).
/// A hashtag timeline's query: lower-case tag names.
#[derive(Debug, Clone, Default)]
pub struct TagQuery {
    pub any: Vec<String>,
    pub all: Vec<String>,
    pub none: Vec<String>,
    pub local: Option<bool>,
    pub only_media: bool,
}

pub async fn tagged(
    conn: &mut DbConn<'_>,
    viewer: Option<i64>,
    tq: &TagQuery,
    page: Page,
) -> DbResult<Vec<Status>> {
    let (any, all, none, local, only_media) = (&tq.any, &tq.all, &tq.none, tq.local, tq.only_media);
    with_conn!(conn, |c| {
        let with_tags = |names: &[String]| {
            status_tags::table
                .inner_join(tags::table)
                .filter(tags::name.eq_any(names.to_vec()))
                .select(status_tags::status_id)
                .into_boxed()
        };
        let mut q = statuses::table
            .filter(statuses::visibility.eq(Visibility::Public))
            .filter(statuses::reblog_of_id.is_null())
            .filter(statuses::id.eq_any(with_tags(any)))
            .select(Status::as_select())
            .into_boxed();
        for name in all {
            q = q.filter(statuses::id.eq_any(with_tags(std::slice::from_ref(name))));
        }
        if !none.is_empty() {
            q = q.filter(statuses::id.ne_all(with_tags(none)));
        }
        if let Some(l) = local {
            q = q.filter(statuses::local.eq(l));
        }
        if only_media {
            q = with_media!(q);
        }
        if let Some(v) = viewer {
            q = q.filter(not_blocked!(v)).filter(not_muted!(v));
        }
        // Anonymous viewers (id 0) follow nobody.
        q = q.filter(not_silenced!(viewer.unwrap_or(0)));
        paginate!(q, statuses::id, page).load(c).await
    })
}

#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub only_media: bool,
    pub exclude_replies: bool,
    pub exclude_reblogs: bool,
    pub pinned: bool,
    pub tagged: Option<String>,
}

/// An account's pinned posts as `viewer` may see them (newest pin first):
/// the profile's pins, an org's announcements, the featured collection.
pub async fn pinned(
    conn: &mut DbConn<'_>,
    viewer: Option<i64>,
    account_id: i64,
    limit: i64,
) -> DbResult<Vec<Status>> {
    let only_pins = AccountFilter {
        pinned: true,
        ..Default::default()
    };
    let page = Page {
        limit,
        ..Default::default()
    };
    account(conn, viewer, account_id, &only_pins, page).await
}

/// One account's statuses as `viewer` may see them.
pub async fn account(
    conn: &mut DbConn<'_>,
    viewer: Option<i64>,
    account_id: i64,
    f: &AccountFilter,
    page: Page,
) -> DbResult<Vec<Status>> {
    with_conn!(conn, |c| {
        let mut q = statuses::table.select(Status::as_select()).into_boxed();
        // A community's featured posts are others' posts it pinned.
        if !f.pinned {
            q = q.filter(statuses::account_id.eq(account_id));
        }
        if f.exclude_replies {
            // Threads the author continues still count as their own posts.
            q = q.filter(
                statuses::in_reply_to_id
                    .is_null()
                    .or(statuses::in_reply_to_account_id.eq(statuses::account_id.nullable())),
            );
        }
        if f.exclude_reblogs {
            q = q.filter(statuses::reblog_of_id.is_null());
        }
        if f.pinned {
            q = q.filter(
                statuses::id.eq_any(
                    status_pins::table
                        .filter(status_pins::account_id.eq(account_id))
                        .select(status_pins::status_id),
                ),
            );
        }
        if let Some(t) = &f.tagged {
            q = q.filter(
                statuses::id.eq_any(
                    status_tags::table
                        .inner_join(tags::table)
                        .filter(tags::name.eq(t.clone()))
                        .select(status_tags::status_id),
                ),
            );
        }
        if f.only_media {
            q = with_media!(q);
        }
        let q = visible_to!(q, viewer);
        paginate!(q, statuses::id, page).load(c).await
    })
}

/// The viewer's favourites, paged by the favourite's id: (favourite id, status).
pub async fn favourites(
    conn: &mut DbConn<'_>,
    viewer: i64,
    page: Page,
) -> DbResult<Vec<(i64, Status)>> {
    with_conn!(conn, |c| {
        let q = favourites::table
            .inner_join(statuses::table.on(statuses::id.eq(favourites::status_id)))
            .filter(favourites::account_id.eq(viewer))
            .select((favourites::id, Status::as_select()))
            .into_boxed();
        let q = visible_to!(q, Some(viewer));
        paginate!(q, favourites::id, page).load(c).await
    })
}

/// The viewer's bookmarks, paged by the bookmark's id.
pub async fn bookmarks(
    conn: &mut DbConn<'_>,
    viewer: i64,
    page: Page,
) -> DbResult<Vec<(i64, Status)>> {
    with_conn!(conn, |c| {
        let q = bookmarks::table
            .inner_join(statuses::table.on(statuses::id.eq(bookmarks::status_id)))
            .filter(bookmarks::account_id.eq(viewer))
            .select((bookmarks::id, Status::as_select()))
            .into_boxed();
        let q = visible_to!(q, Some(viewer));
        paginate!(q, bookmarks::id, page).load(c).await
    })
}

/// An org's timeline: what the org posted or announced, and posts addressed
/// to it, as far as the viewer may see them.
pub async fn org(
    conn: &mut DbConn<'_>,
    viewer: Option<i64>,
    org_id: i64,
    page: Page,
) -> DbResult<Vec<Status>> {
    with_conn!(conn, |c| {
        let q = statuses::table
            .filter(
                // Its own posts and posts into it (not its reblogs of those).
                statuses::account_id
                    .eq(org_id)
                    .and(statuses::reblog_of_id.is_null())
                    .or(statuses::audience_id.eq(org_id)),
            )
            .select(Status::as_select())
            .into_boxed();
        let q = visible_to!(q, viewer);
        // Silenced people's posts into it, as in public timelines.
        let q = q.filter(not_silenced!(viewer.unwrap_or(0)));
        paginate!(q, statuses::id, page).load(c).await
    })
}
