//! Search over accounts, hashtags and statuses. Statuses use PostgreSQL's
//! full-text search (plus a substring match, which Japanese text without
//! spaces needs); SQLite uses a case-insensitive substring match.
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::RunQueryDsl;

use super::models::{Account, Status, User};
use super::schema::{
    accounts, alumni_audiences, alumni_profiles, alumni_tags, follows, memberships, statuses, tags,
    users,
};
use super::{DbConn, DbResult};
use crate::{not_silenced, visible_to, with_conn};

diesel::define_sql_function!(fn lower(x: Text) -> Text);
pub(crate) use lower as lower_text;

/// `%` and `_` typed by a person match themselves.
pub(crate) fn like_escape(q: &str) -> String {
    q.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Who searches, for matching alumni profile fields only where released to
/// them (see `services::alumni::audience::Reader`).
#[derive(Debug, Clone, Default)]
pub struct ProfileReach {
    /// The searcher's account (0: nobody signed in); their own fields match.
    pub reader: i64,
    /// `public`, and `members:X` / `office:X` for the searcher's orgs.
    pub tokens: Vec<String>,
    /// The orgs the searcher is a verified member of (for `my_orgs`).
    pub orgs: Vec<i64>,
}

/// Whether the account in the row released `$field` to the searcher: the
/// tokens they belong to, or "my orgs" when they share one. (A release to
/// an org is removed when its owner leaves it, so the token alone says the
/// owner is still there; the service checks each result again.)
macro_rules! released {
    ($r:expr, $field:expr) => {{
        use $crate::domain::{Audience, MembershipState};
        accounts::id
            .eq($r.reader)
            .or(diesel::dsl::exists(
                alumni_audiences::table
                    .filter(alumni_audiences::account_id.eq(accounts::id))
                    .filter(alumni_audiences::field.eq($field))
                    .filter(alumni_audiences::audience.eq_any(&$r.tokens)),
            ))
            .or(diesel::dsl::exists(
                alumni_audiences::table
                    .filter(alumni_audiences::account_id.eq(accounts::id))
                    .filter(alumni_audiences::field.eq($field))
                    .filter(alumni_audiences::audience.eq(Audience::MyOrgs.token())),
            )
            .and(diesel::dsl::exists(
                memberships::table
                    .filter(memberships::account_id.eq(accounts::id))
                    .filter(memberships::state.eq(MembershipState::Verified))
                    .filter(memberships::org_id.eq_any(&$r.orgs)),
            )))
    }};
}

/// Matching accounts with, for local people, their user row (to check they
/// may be shown): by name, or by an alumni profile field released to the
/// searcher (title, current org, city or region, skills, interests, "now").
pub async fn accounts(
    conn: &mut DbConn<'_>,
    q: &str,
    following_of: Option<i64>,
    reach: &ProfileReach,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<(Account, Option<User>)>> {
    use crate::domain::{AlumniField, TagField};
    let q = q.trim().trim_start_matches('@').to_lowercase();
    let prefix = format!("{}%", like_escape(&q));
    let anywhere = format!("%{}%", like_escape(&q));
    with_conn!(conn, |c| {
        macro_rules! in_profile {
            ($column:expr) => {
                lower($column.assume_not_null())
                    .like(anywhere.clone())
                    .escape('\\')
            };
        }
        let in_tags = |field: TagField| {
            diesel::dsl::exists(
                alumni_tags::table
                    .filter(alumni_tags::account_id.eq(accounts::id))
                    .filter(alumni_tags::field.eq(field))
                    .filter(alumni_tags::tag.like(anywhere.clone()).escape('\\')),
            )
            .and(released!(reach, field.field()))
        };
        let mut query = accounts::table
            .left_join(users::table)
            .left_join(alumni_profiles::table.on(alumni_profiles::account_id.eq(accounts::id)))
            .filter(accounts::suspended.eq(false))
            .filter(
                accounts::acct_key
                    .like(&prefix)
                    .escape('\\')
                    .or(lower(accounts::display_name).like(&anywhere).escape('\\'))
                    .or(in_profile!(alumni_profiles::title)
                        .and(released!(reach, AlumniField::Title)))
                    .or(in_profile!(alumni_profiles::current_org)
                        .and(released!(reach, AlumniField::CurrentOrg)))
                    .or(in_profile!(alumni_profiles::city)
                        .or(in_profile!(alumni_profiles::region))
                        .and(released!(reach, AlumniField::Location)))
                    .or(in_profile!(alumni_profiles::now_text)
                        .and(released!(reach, AlumniField::Now)))
                    .or(in_tags(TagField::Skill))
                    .or(in_tags(TagField::Interest)),
            )
            .select((Account::as_select(), Option::<User>::as_select()))
            .into_boxed();
        if let Some(v) = following_of {
            query = query.filter(
                accounts::id.eq_any(
                    follows::table
                        .filter(follows::account_id.eq(v))
                        .filter(follows::pending.eq(false))
                        .select(follows::target_account_id),
                ),
            );
        }
        // Exact names first, then by name.
        query
            .order((accounts::acct_key.ne(&q), accounts::acct_key.asc()))
            .limit(limit)
            .offset(offset)
            .load(c)
            .await
    })
}

pub async fn tags(
    conn: &mut DbConn<'_>,
    q: &str,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<String>> {
    let q = q.trim().trim_start_matches('#').to_lowercase();
    let prefix = format!("{}%", like_escape(&q));
    with_conn!(conn, |c| {
        tags::table
            .filter(tags::name.like(&prefix).escape('\\'))
            .order((tags::name.ne(&q), tags::name.asc()))
            .select(tags::name)
            .limit(limit)
            .offset(offset)
            .load(c)
            .await
    })
}

/// Unlisted posts stay out of search (as out of public timelines), except
/// for their author and those they mention.
macro_rules! unlisted_only_for_own {
    ($q:expr, $viewer:expr) => {{
        use $crate::db::schema::mentions as um;
        let listed = statuses::visibility.ne($crate::domain::Visibility::Unlisted);
        match $viewer {
            None => $q.filter(listed),
            Some(v) => $q.filter(listed.or(statuses::account_id.eq(v)).or(
                statuses::id.eq_any(um::table.filter(um::account_id.eq(v)).select(um::status_id)),
            )),
        }
    }};
}
/// Statuses the viewer may see whose text matches, newest first.
pub async fn statuses(
    conn: &mut DbConn<'_>,
    q: &str,
    viewer: Option<i64>,
    account_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<Status>> {
    let anywhere = format!("%{}%", like_escape(&q.trim().to_lowercase()));
    let terms = q.trim().to_owned();
    match conn {
        DbConn::Postgres(h) => {
            let c: &mut diesel_async::AsyncPgConnection = &mut *h;
            let fts = diesel::dsl::sql::<Bool>("to_tsvector('simple', statuses.text || ' ' || statuses.spoiler_text) @@ plainto_tsquery('simple', ")
                .bind::<Text, _>(terms)
                .sql(")");
            let mut query = statuses::table
                .filter(statuses::reblog_of_id.is_null())
                .filter(fts.or(lower(statuses::content).like(&anywhere).escape('\\')))
                .select(Status::as_select())
                .into_boxed();
            if let Some(a) = account_id {
                query = query.filter(statuses::account_id.eq(a));
            }
            let query = unlisted_only_for_own!(visible_to!(query, viewer), viewer)
                .filter(not_silenced!(viewer.unwrap_or(0)));
            query
                .order(statuses::id.desc())
                .limit(limit)
                .offset(offset)
                .load(c)
                .await
        }
        DbConn::Sqlite(h) => {
            let c: &mut super::SqliteConn = &mut *h;
            let mut query = statuses::table
                .filter(statuses::reblog_of_id.is_null())
                .filter(
                    lower(statuses::content)
                        .like(&anywhere)
                        .escape('\\')
                        .or(lower(statuses::spoiler_text).like(&anywhere).escape('\\')),
                )
                .select(Status::as_select())
                .into_boxed();
            if let Some(a) = account_id {
                query = query.filter(statuses::account_id.eq(a));
            }
            let query = unlisted_only_for_own!(visible_to!(query, viewer), viewer)
                .filter(not_silenced!(viewer.unwrap_or(0)));
            query
                .order(statuses::id.desc())
                .limit(limit)
                .offset(offset)
                .load(c)
                .await
        }
    }
}
