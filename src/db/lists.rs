//! Lists, filters, markers, featured tags, conversations and announcements:
//! per-person organising data, all small tables.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{
    Account, Announcement, Conversation, Filter, FilterKeyword, List, Marker, Status,
};
use super::schema::{
    accounts, announcement_reads, announcements, conversations, featured_tags, filter_keywords,
    filters, list_accounts, lists, markers, org_announcement_reads, statuses, tags,
};
use super::statuses::Page;
use super::{DbConn, DbResult};
use crate::{paginate, visible_to, with_conn};

// ---- lists ----

pub async fn insert_list(conn: &mut DbConn<'_>, l: &List) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(lists::table)
        .values(l)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn own_lists(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Vec<List>> {
    with_conn!(conn, |c| {
        lists::table
            .filter(lists::account_id.eq(account_id))
            .order(lists::id.asc())
            .select(List::as_select())
            .load(c)
            .await
    })
}

pub async fn find_list(conn: &mut DbConn<'_>, account_id: i64, id: i64) -> DbResult<Option<List>> {
    with_conn!(conn, |c| {
        lists::table
            .filter(lists::account_id.eq(account_id))
            .filter(lists::id.eq(id))
            .select(List::as_select())
            .first(c)
            .await
            .optional()
    })
}

pub async fn update_list(conn: &mut DbConn<'_>, l: &List) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(lists::table.find(l.id))
            .set((
                lists::title.eq(&l.title),
                lists::replies_policy.eq(&l.replies_policy),
                lists::exclusive.eq(l.exclusive),
            ))
            .execute(c)
            .await
            .map(|_| ())
    })
}

pub async fn delete_list(conn: &mut DbConn<'_>, id: i64) -> DbResult<usize> {
    with_conn!(conn, |c| diesel::delete(lists::table.find(id))
        .execute(c)
        .await)
}

pub async fn add_to_list(conn: &mut DbConn<'_>, list_id: i64, account_ids: &[i64]) -> DbResult<()> {
    with_conn!(conn, |c| {
        for a in account_ids {
            diesel::insert_into(list_accounts::table)
                .values((
                    list_accounts::list_id.eq(list_id),
                    list_accounts::account_id.eq(*a),
                ))
                .on_conflict_do_nothing()
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

pub async fn remove_from_list(
    conn: &mut DbConn<'_>,
    list_id: i64,
    account_ids: &[i64],
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::delete(
            list_accounts::table
                .filter(list_accounts::list_id.eq(list_id))
                .filter(list_accounts::account_id.eq_any(account_ids)),
        )
        .execute(c)
        .await
        .map(|_| ())
    })
}

/// Members of a list, paged by account id: (account id, account).
pub async fn list_members(
    conn: &mut DbConn<'_>,
    list_id: i64,
    page: Page,
) -> DbResult<Vec<(i64, Account)>> {
    with_conn!(conn, |c| {
        let q = list_accounts::table
            .inner_join(accounts::table.on(accounts::id.eq(list_accounts::account_id)))
            .filter(list_accounts::list_id.eq(list_id))
            .select((accounts::id, Account::as_select()))
            .into_boxed();
        paginate!(q, accounts::id, page).load(c).await
    })
}

/// The owner's lists that contain `account_id`.
pub async fn lists_with(conn: &mut DbConn<'_>, owner: i64, account_id: i64) -> DbResult<Vec<List>> {
    with_conn!(conn, |c| {
        lists::table
            .inner_join(list_accounts::table.on(list_accounts::list_id.eq(lists::id)))
            .filter(lists::account_id.eq(owner))
            .filter(list_accounts::account_id.eq(account_id))
            .select(List::as_select())
            .load(c)
            .await
    })
}

/// Statuses of a list's members as the owner may see them.
pub async fn list_timeline(
    conn: &mut DbConn<'_>,
    viewer: i64,
    list_id: i64,
    page: Page,
) -> DbResult<Vec<Status>> {
    with_conn!(conn, |c| {
        let q = statuses::table
            .filter(
                statuses::account_id.eq_any(
                    list_accounts::table
                        .filter(list_accounts::list_id.eq(list_id))
                        .select(list_accounts::account_id),
                ),
            )
            .select(Status::as_select())
            .into_boxed();
        let q = visible_to!(q, Some(viewer));
        paginate!(q, statuses::id, page).load(c).await
    })
}

// ---- filters ----

pub async fn insert_filter(
    conn: &mut DbConn<'_>,
    f: &Filter,
    keywords: &[FilterKeyword],
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(filters::table)
            .values(f)
            .execute(c)
            .await?;
        for k in keywords {
            diesel::insert_into(filter_keywords::table)
                .values(k)
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

pub async fn update_filter(conn: &mut DbConn<'_>, f: &Filter) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(filters::table.find(f.id))
            .set((
                filters::title.eq(&f.title),
                filters::contexts.eq(&f.contexts),
                filters::action.eq(&f.action),
                filters::expires_at.eq(f.expires_at),
            ))
            .execute(c)
            .await
            .map(|_| ())
    })
}

pub async fn delete_filter(conn: &mut DbConn<'_>, id: i64) -> DbResult<usize> {
    with_conn!(conn, |c| diesel::delete(filters::table.find(id))
        .execute(c)
        .await)
}

pub async fn own_filters(
    conn: &mut DbConn<'_>,
    account_id: i64,
) -> DbResult<Vec<(Filter, Vec<FilterKeyword>)>> {
    with_conn!(conn, |c| {
        let fs: Vec<Filter> = filters::table
            .filter(filters::account_id.eq(account_id))
            .order(filters::id.asc())
            .select(Filter::as_select())
            .load(c)
            .await?;
        let ids: Vec<i64> = fs.iter().map(|f| f.id).collect();
        let ks: Vec<FilterKeyword> = filter_keywords::table
            .filter(filter_keywords::filter_id.eq_any(&ids))
            .order(filter_keywords::id.asc())
            .select(FilterKeyword::as_select())
            .load(c)
            .await?;
        Ok(fs
            .into_iter()
            .map(|f| {
                let mine = ks.iter().filter(|k| k.filter_id == f.id).cloned().collect();
                (f, mine)
            })
            .collect())
    })
}

pub async fn insert_keyword(conn: &mut DbConn<'_>, k: &FilterKeyword) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(filter_keywords::table)
        .values(k)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn find_keyword(conn: &mut DbConn<'_>, id: i64) -> DbResult<Option<FilterKeyword>> {
    with_conn!(conn, |c| filter_keywords::table
        .find(id)
        .select(FilterKeyword::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn update_keyword(conn: &mut DbConn<'_>, k: &FilterKeyword) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(filter_keywords::table.find(k.id))
            .set((
                filter_keywords::keyword.eq(&k.keyword),
                filter_keywords::whole_word.eq(k.whole_word),
            ))
            .execute(c)
            .await
            .map(|_| ())
    })
}

pub async fn delete_keyword(conn: &mut DbConn<'_>, id: i64) -> DbResult<usize> {
    with_conn!(conn, |c| diesel::delete(filter_keywords::table.find(id))
        .execute(c)
        .await)
}

// ---- markers ----

pub async fn markers_of(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Vec<Marker>> {
    with_conn!(conn, |c| markers::table
        .filter(markers::account_id.eq(account_id))
        .select(Marker::as_select())
        .load(c)
        .await)
}

/// Sets a marker; the version counts updates (clients use it to detect conflicts).
pub async fn set_marker(
    conn: &mut DbConn<'_>,
    account_id: i64,
    timeline: &str,
    last_read_id: i64,
    now: NaiveDateTime,
) -> DbResult<()> {
    let row = Marker {
        account_id,
        timeline: timeline.to_owned(),
        last_read_id,
        version: 0,
        updated_at: now,
    };
    with_conn!(conn, |c| {
        diesel::insert_into(markers::table)
            .values(&row)
            .on_conflict((markers::account_id, markers::timeline))
            .do_update()
            .set((
                markers::last_read_id.eq(last_read_id),
                markers::version.eq(markers::version + 1),
                markers::updated_at.eq(now),
            ))
            .execute(c)
            .await
            .map(|_| ())
    })
}

// ---- featured tags ----

pub async fn feature_tag(
    conn: &mut DbConn<'_>,
    id: i64,
    account_id: i64,
    tag_id: i64,
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(featured_tags::table)
            .values((
                featured_tags::id.eq(id),
                featured_tags::account_id.eq(account_id),
                featured_tags::tag_id.eq(tag_id),
                featured_tags::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await
            .map(|_| ())
    })
}

/// (featured tag id, tag name) of an account.
pub async fn featured_tags_of(
    conn: &mut DbConn<'_>,
    account_id: i64,
) -> DbResult<Vec<(i64, String)>> {
    with_conn!(conn, |c| {
        featured_tags::table
            .inner_join(tags::table)
            .filter(featured_tags::account_id.eq(account_id))
            .order(featured_tags::id.asc())
            .select((featured_tags::id, tags::name))
            .load(c)
            .await
    })
}

pub async fn unfeature_tag(conn: &mut DbConn<'_>, account_id: i64, id: i64) -> DbResult<usize> {
    with_conn!(conn, |c| {
        diesel::delete(
            featured_tags::table
                .filter(featured_tags::account_id.eq(account_id))
                .filter(featured_tags::id.eq(id)),
        )
        .execute(c)
        .await
    })
}

pub async fn tag_id(conn: &mut DbConn<'_>, name: &str, now: NaiveDateTime) -> DbResult<i64> {
    with_conn!(conn, |c| {
        diesel::insert_into(tags::table)
            .values((
                tags::id.eq(crate::ids::next_id()),
                tags::name.eq(name),
                tags::created_at.eq(now),
            ))
            .on_conflict(tags::name)
            .do_nothing()
            .execute(c)
            .await?;
        tags::table
            .filter(tags::name.eq(name))
            .select(tags::id)
            .first(c)
            .await
    })
}

// ---- conversations ----

pub async fn upsert_conversation(conn: &mut DbConn<'_>, row: &Conversation) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(conversations::table)
            .values(row)
            .on_conflict((conversations::account_id, conversations::root_status_id))
            .do_update()
            .set((
                conversations::last_status_id.eq(row.last_status_id),
                conversations::unread.eq(row.unread),
                conversations::updated_at.eq(row.updated_at),
            ))
            .execute(c)
            .await
            .map(|_| ())
    })
}

/// The conversation that `status_id` belongs to, for `account_id`, if any.
pub async fn conversation_root_of(conn: &mut DbConn<'_>, status_id: i64) -> DbResult<Option<i64>> {
    with_conn!(conn, |c| {
        conversations::table
            .filter(
                conversations::last_status_id
                    .eq(status_id)
                    .or(conversations::root_status_id.eq(status_id)),
            )
            .select(conversations::root_status_id)
            .first(c)
            .await
            .optional()
    })
}

pub async fn conversations_of(
    conn: &mut DbConn<'_>,
    account_id: i64,
    page: Page,
) -> DbResult<Vec<Conversation>> {
    with_conn!(conn, |c| {
        let q = conversations::table
            .filter(conversations::account_id.eq(account_id))
            .select(Conversation::as_select())
            .into_boxed();
        paginate!(q, conversations::last_status_id, page)
            .load(c)
            .await
    })
}

pub async fn find_conversation(
    conn: &mut DbConn<'_>,
    account_id: i64,
    id: i64,
) -> DbResult<Option<Conversation>> {
    with_conn!(conn, |c| {
        conversations::table
            .filter(conversations::account_id.eq(account_id))
            .filter(conversations::id.eq(id))
            .select(Conversation::as_select())
            .first(c)
            .await
            .optional()
    })
}

pub async fn mark_conversation_read(conn: &mut DbConn<'_>, id: i64) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(conversations::table.find(id))
        .set(conversations::unread.eq(false))
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn delete_conversation(conn: &mut DbConn<'_>, id: i64) -> DbResult<usize> {
    with_conn!(conn, |c| diesel::delete(conversations::table.find(id))
        .execute(c)
        .await)
}

// ---- announcements ----

pub async fn insert_announcement(conn: &mut DbConn<'_>, a: &Announcement) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(announcements::table)
        .values(a)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Published announcements not yet over, with whether `account_id` dismissed each.
pub async fn active_announcements(
    conn: &mut DbConn<'_>,
    account_id: Option<i64>,
    now: NaiveDateTime,
) -> DbResult<Vec<(Announcement, bool)>> {
    with_conn!(conn, |c| {
        let list: Vec<Announcement> = announcements::table
            .filter(announcements::published.eq(true))
            .filter(
                announcements::ends_at
                    .is_null()
                    .or(announcements::ends_at.gt(now)),
            )
            .order(announcements::id.desc())
            .select(Announcement::as_select())
            .load(c)
            .await?;
        let read: Vec<i64> = match account_id {
            Some(a) => {
                announcement_reads::table
                    .filter(announcement_reads::account_id.eq(a))
                    .select(announcement_reads::announcement_id)
                    .load(c)
                    .await?
            }
            None => vec![],
        };
        Ok(list
            .into_iter()
            .map(|a| {
                let r = read.contains(&a.id);
                (a, r)
            })
            .collect())
    })
}

pub async fn dismiss_announcement(
    conn: &mut DbConn<'_>,
    account_id: i64,
    id: i64,
) -> DbResult<usize> {
    with_conn!(conn, |c| {
        let exists: bool = diesel::select(diesel::dsl::exists(announcements::table.find(id)))
            .get_result(c)
            .await?;
        if !exists {
            return Ok(0);
        }
        diesel::insert_into(announcement_reads::table)
            .values((
                announcement_reads::account_id.eq(account_id),
                announcement_reads::announcement_id.eq(id),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await?;
        Ok(1)
    })
}

/// Which of these org announcements (pinned posts) the person dismissed.
pub async fn org_announcements_read(
    conn: &mut DbConn<'_>,
    account_id: i64,
    status_ids: &[i64],
) -> DbResult<Vec<i64>> {
    with_conn!(conn, |c| {
        org_announcement_reads::table
            .filter(org_announcement_reads::account_id.eq(account_id))
            .filter(org_announcement_reads::status_id.eq_any(status_ids))
            .select(org_announcement_reads::status_id)
            .load(c)
            .await
    })
}

pub async fn dismiss_org_announcement(
    conn: &mut DbConn<'_>,
    account_id: i64,
    status_id: i64,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(org_announcement_reads::table)
            .values((
                org_announcement_reads::account_id.eq(account_id),
                org_announcement_reads::status_id.eq(status_id),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await
            .map(|_| ())
    })
}

/// Lists (by id) that contain `account_id`.
pub async fn lists_containing(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Vec<i64>> {
    with_conn!(conn, |c| {
        list_accounts::table
            .filter(list_accounts::account_id.eq(account_id))
            .select(list_accounts::list_id)
            .load(c)
            .await
    })
}

pub async fn conversation_by_root(
    conn: &mut DbConn<'_>,
    account_id: i64,
    root: i64,
) -> DbResult<Option<Conversation>> {
    with_conn!(conn, |c| {
        conversations::table
            .filter(conversations::account_id.eq(account_id))
            .filter(conversations::root_status_id.eq(root))
            .select(Conversation::as_select())
            .first(c)
            .await
            .optional()
    })
}
