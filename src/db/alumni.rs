//! Alumni profiles, their audiences and the directory's query.
//!
//! Audiences are stored as the tokens of [`Audience`]; a reader passes the
//! tokens it belongs to, so every filter, facet and sort key below matches
//! only values released to the reader (or the reader's own).
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Account, AlumniProfile, AlumniTag, AlumniTenure, Membership};
use super::schema::{
    account_stats, accounts, alumni_audiences, alumni_profiles, alumni_tags, alumni_tenures,
    memberships,
};
use super::{DbConn, DbResult};
use crate::domain::{
    AlumniField, Audience, DirectoryOrder, Industry, MembershipState, Role, TagField,
};
use crate::with_conn;

pub async fn profiles(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<AlumniProfile>> {
    with_conn!(conn, |c| {
        alumni_profiles::table
            .filter(alumni_profiles::account_id.eq_any(ids))
            .select(AlumniProfile::as_select())
            .load(c)
            .await
    })
}

/// The people's tags, in their order.
pub async fn tags(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<AlumniTag>> {
    with_conn!(conn, |c| {
        alumni_tags::table
            .filter(alumni_tags::account_id.eq_any(ids))
            .order((
                alumni_tags::account_id,
                alumni_tags::field,
                alumni_tags::position,
            ))
            .select(AlumniTag::as_select())
            .load(c)
            .await
    })
}

/// The people's periods, oldest first.
pub async fn tenures(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<AlumniTenure>> {
    with_conn!(conn, |c| {
        alumni_tenures::table
            .filter(alumni_tenures::account_id.eq_any(ids))
            .order((
                alumni_tenures::account_id,
                alumni_tenures::year_from,
                alumni_tenures::id,
            ))
            .select(AlumniTenure::as_select())
            .load(c)
            .await
    })
}

/// Who may see what: (account, field, audience) for each release.
pub async fn audiences(
    conn: &mut DbConn<'_>,
    ids: &[i64],
) -> DbResult<Vec<(i64, AlumniField, Audience)>> {
    let rows: Vec<(i64, AlumniField, String)> = with_conn!(conn, |c| {
        alumni_audiences::table
            .filter(alumni_audiences::account_id.eq_any(ids))
            .order((alumni_audiences::account_id, alumni_audiences::field))
            .select((
                alumni_audiences::account_id,
                alumni_audiences::field,
                alumni_audiences::audience,
            ))
            .load(c)
            .await
    })?;
    // Only this module writes the tokens, so each parses.
    Ok(rows
        .into_iter()
        .filter_map(|(id, f, a)| Audience::parse(&a).map(|a| (id, f, a)))
        .collect())
}

/// (person, org) for each verified membership of these people.
pub async fn verified_orgs_of(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<(i64, i64)>> {
    with_conn!(conn, |c| {
        memberships::table
            .filter(memberships::account_id.eq_any(ids))
            .filter(memberships::state.eq(MembershipState::Verified))
            .select((memberships::account_id, memberships::org_id))
            .load(c)
            .await
    })
}

/// Takes the person's profile row for this transaction (made empty if
/// there is none yet), so concurrent changes wait their turn.
pub async fn lock_profile(
    conn: &mut DbConn<'_>,
    account_id: i64,
    now: chrono::NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(alumni_profiles::table)
            .values((
                alumni_profiles::account_id.eq(account_id),
                alumni_profiles::updated_at.eq(now),
            ))
            .on_conflict(alumni_profiles::account_id)
            .do_update()
            .set(alumni_profiles::account_id.eq(account_id))
            .execute(c)
            .await
            .map(|_| ())
    })
}

pub async fn upsert_profile(conn: &mut DbConn<'_>, p: &AlumniProfile) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::insert_into(alumni_profiles::table)
            .values(p)
            .on_conflict(alumni_profiles::account_id)
            .do_update()
            .set(p)
            .execute(c)
            .await
            .map(|_| ())
    })
}

pub async fn set_public_fields(conn: &mut DbConn<'_>, account_id: i64, json: &str) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(alumni_profiles::table.find(account_id))
            .set(alumni_profiles::public_fields.eq(json))
            .execute(c)
            .await
            .map(|_| ())
    })
}

/// (account, public fields as JSON) of the people with any.
pub async fn public_fields(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<(i64, String)>> {
    with_conn!(conn, |c| {
        alumni_profiles::table
            .filter(alumni_profiles::account_id.eq_any(ids))
            .filter(alumni_profiles::public_fields.ne("[]"))
            .select((alumni_profiles::account_id, alumni_profiles::public_fields))
            .load(c)
            .await
    })
}

/// Replaces one field's values of a person.
pub async fn replace_tags(
    conn: &mut DbConn<'_>,
    account_id: i64,
    field: TagField,
    rows: &[AlumniTag],
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::delete(
            alumni_tags::table
                .filter(alumni_tags::account_id.eq(account_id))
                .filter(alumni_tags::field.eq(field)),
        )
        .execute(c)
        .await?;
        // One row at a time: SQLite's async wrapper has no batch insert.
        for r in rows {
            diesel::insert_into(alumni_tags::table)
                .values(r)
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

pub async fn replace_tenures(
    conn: &mut DbConn<'_>,
    account_id: i64,
    rows: &[AlumniTenure],
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::delete(alumni_tenures::table.filter(alumni_tenures::account_id.eq(account_id)))
            .execute(c)
            .await?;
        for r in rows {
            diesel::insert_into(alumni_tenures::table)
                .values(r)
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

/// Marks a period at `org_id` as confirmed (or not) by its office; false
/// if there is no such period at that org.
pub async fn verify_tenure(
    conn: &mut DbConn<'_>,
    id: i64,
    org_id: i64,
    by: Option<i64>,
    at: Option<chrono::NaiveDateTime>,
) -> DbResult<bool> {
    with_conn!(conn, |c| {
        diesel::update(
            alumni_tenures::table
                .filter(alumni_tenures::id.eq(id))
                .filter(alumni_tenures::org_id.eq(org_id)),
        )
        .set((
            alumni_tenures::verified_by.eq(by),
            alumni_tenures::verified_at.eq(at),
        ))
        .execute(c)
        .await
        .map(|n| n > 0)
    })
}

/// Withdraws every release to an org's members or office (the owner left
/// it: its people no longer see what was released to them).
pub async fn drop_org_audiences(
    conn: &mut DbConn<'_>,
    account_id: i64,
    org_id: i64,
) -> DbResult<()> {
    let tokens = [
        Audience::Members(org_id).token(),
        Audience::Office(org_id).token(),
    ];
    with_conn!(conn, |c| {
        diesel::delete(
            alumni_audiences::table
                .filter(alumni_audiences::account_id.eq(account_id))
                .filter(alumni_audiences::audience.eq_any(&tokens)),
        )
        .execute(c)
        .await?;
        Ok(())
    })
}

/// Replaces who may see one field of a person (none: only them).
pub async fn replace_audiences(
    conn: &mut DbConn<'_>,
    account_id: i64,
    field: AlumniField,
    audiences: &[Audience],
) -> DbResult<()> {
    let rows: Vec<_> = audiences
        .iter()
        .map(|a| {
            (
                alumni_audiences::account_id.eq(account_id),
                alumni_audiences::field.eq(field),
                alumni_audiences::audience.eq(a.token()),
            )
        })
        .collect();
    with_conn!(conn, |c| {
        diesel::delete(
            alumni_audiences::table
                .filter(alumni_audiences::account_id.eq(account_id))
                .filter(alumni_audiences::field.eq(field)),
        )
        .execute(c)
        .await?;
        for r in &rows {
            diesel::insert_into(alumni_audiences::table)
                .values(r.clone())
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

/// A directory search: an org's verified members narrowed by the filters,
/// each filter matching only values the reader may see.
#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    pub org_id: i64,
    /// The reader: always sees their own fields.
    pub reader: i64,
    /// The audience tokens the reader belongs to.
    pub tokens: Vec<String>,
    /// Members see only people who chose to be listed (and themselves).
    pub listed_only: bool,
    pub roles: Vec<Role>,
    pub divisions: Vec<String>,
    /// Periods at this org overlapping these years (inclusive).
    pub years: Option<(i32, i32)>,
    pub industries: Vec<Industry>,
    pub countries: Vec<String>,
    /// Per tag field, values of which any matches.
    pub tags: Vec<(TagField, Vec<String>)>,
    /// A lower-case text found in the name, address, title, current org,
    /// skills or interests.
    pub text: Option<String>,
}

/// Whether the person in `$owner` released `$field` to the reader (or is
/// the reader): a correlated `EXISTS` on the audiences' primary key, so it
/// costs one index probe per candidate row.
macro_rules! seen {
    ($q:expr, $field:expr, $owner:expr) => {
        $owner.eq($q.reader).or(diesel::dsl::exists(
            alumni_audiences::table
                .filter(alumni_audiences::account_id.eq($owner))
                .filter(alumni_audiences::field.eq($field))
                .filter(alumni_audiences::audience.eq_any(&$q.tokens)),
        ))
    };
}

/// The members matching every filter, as a boxed select of
/// (membership, account) with the profile and stats left-joined. Each
/// filter is a correlated `EXISTS`, so the planner may start from the most
/// selective one and probe the others per candidate.
macro_rules! matching {
    ($q:expr) => {{
        let q: &DirectoryQuery = $q;
        let mut m = memberships::table
            .inner_join(accounts::table.on(accounts::id.eq(memberships::account_id)))
            .left_join(
                alumni_profiles::table.on(alumni_profiles::account_id.eq(memberships::account_id)),
            )
            .left_join(
                account_stats::table.on(account_stats::account_id.eq(memberships::account_id)),
            )
            .filter(memberships::org_id.eq(q.org_id))
            .filter(memberships::state.eq(MembershipState::Verified))
            .filter(accounts::suspended.eq(false))
            .into_boxed();
        if q.listed_only {
            m = m.filter(
                memberships::account_id
                    .eq(q.reader)
                    .or($crate::listed!(q.org_id, memberships::account_id)),
            );
        }
        if !q.roles.is_empty() {
            m = m.filter(memberships::role.eq_any(&q.roles));
        }
        if !q.divisions.is_empty() || q.years.is_some() {
            use diesel::sql_types::Bool;
            // A correlated subquery cannot be boxed: an absent filter is a
            // condition that always holds.
            let any_division = q.divisions.is_empty();
            let (from, to) = q.years.unwrap_or((i32::MIN, i32::MAX));
            m = m
                .filter(diesel::dsl::exists(
                    alumni_tenures::table
                        .filter(alumni_tenures::account_id.eq(memberships::account_id))
                        .filter(alumni_tenures::org_id.eq(q.org_id))
                        .filter(
                            any_division
                                .into_sql::<Bool>()
                                .or(alumni_tenures::division.eq_any(&q.divisions)),
                        )
                        .filter(alumni_tenures::year_from.le(to))
                        .filter(
                            alumni_tenures::year_to
                                .is_null()
                                .or(alumni_tenures::year_to.ge(from)),
                        )
                        .select(alumni_tenures::id),
                ))
                .filter(seen!(q, AlumniField::Tenures, memberships::account_id));
        }
        if !q.industries.is_empty() {
            m = m
                .filter(alumni_profiles::industry.eq_any(&q.industries))
                .filter(seen!(q, AlumniField::Industry, memberships::account_id));
        }
        if !q.countries.is_empty() {
            m = m
                .filter(alumni_profiles::country.eq_any(&q.countries))
                .filter(seen!(q, AlumniField::Location, memberships::account_id));
        }
        for (field, values) in &q.tags {
            m = m
                .filter(diesel::dsl::exists(
                    alumni_tags::table
                        .filter(alumni_tags::account_id.eq(memberships::account_id))
                        .filter(alumni_tags::field.eq(*field))
                        .filter(alumni_tags::tag.eq_any(values))
                        .select(alumni_tags::tag),
                ))
                .filter(seen!(q, field.field(), memberships::account_id));
        }
        if let Some(text) = &q.text {
            use super::search::lower_text;
            let like = format!("%{}%", super::search::like_escape(text));
            let in_tags = |field: TagField| {
                diesel::dsl::exists(
                    alumni_tags::table
                        .filter(alumni_tags::account_id.eq(memberships::account_id))
                        .filter(alumni_tags::field.eq(field))
                        .filter(alumni_tags::tag.like(like.clone()).escape('\\'))
                        .select(alumni_tags::tag),
                )
                .and(seen!(q, field.field(), memberships::account_id))
            };
            m = m.filter(
                lower_text(accounts::display_name)
                    .like(like.clone())
                    .escape('\\')
                    .or(accounts::acct_key.like(like.clone()).escape('\\'))
                    .or(lower_text(alumni_profiles::title.assume_not_null())
                        .like(like.clone())
                        .escape('\\')
                        .and(seen!(q, AlumniField::Title, memberships::account_id)))
                    .or(lower_text(alumni_profiles::current_org.assume_not_null())
                        .like(like.clone())
                        .escape('\\')
                        .and(seen!(q, AlumniField::CurrentOrg, memberships::account_id)))
                    .or(in_tags(TagField::Skill))
                    .or(in_tags(TagField::Interest)),
            );
        }
        m
    }};
}

/// One page of the directory (offset paging: its orders are not by id).
pub async fn directory(
    conn: &mut DbConn<'_>,
    q: &DirectoryQuery,
    order: DirectoryOrder,
    offset: i64,
    limit: i64,
) -> DbResult<Vec<(Membership, Account)>> {
    use super::search::lower_text;
    with_conn!(conn, |c| {
        let m = matching!(q).select((Membership::as_select(), Account::as_select()));
        let m = match order {
            DirectoryOrder::Active => m.order((
                account_stats::last_status_at.is_null(),
                account_stats::last_status_at.desc(),
                memberships::id.desc(),
            )),
            DirectoryOrder::Updated => {
                // When a profile changed shows only to those who see some
                // field of it; the others follow.
                macro_rules! changed {
                    () => {
                        diesel::dsl::case_when(
                            memberships::account_id.eq(q.reader).or(diesel::dsl::exists(
                                alumni_audiences::table
                                    .filter(
                                        alumni_audiences::account_id.eq(memberships::account_id),
                                    )
                                    .filter(alumni_audiences::audience.eq_any(&q.tokens)),
                            )),
                            alumni_profiles::updated_at.nullable(),
                        )
                    };
                }
                m.order((
                    changed!().is_null(),
                    changed!().desc(),
                    memberships::id.desc(),
                ))
            }
            DirectoryOrder::Name => m.order((
                lower_text(accounts::display_name).asc(),
                accounts::acct_key.asc(),
            )),
            DirectoryOrder::Tenure => {
                // Only a start the reader may see sorts; the rest follow by name.
                macro_rules! start {
                    () => {
                        alumni_tenures::table
                            .filter(alumni_tenures::account_id.eq(memberships::account_id))
                            .filter(alumni_tenures::org_id.eq(q.org_id))
                            .filter(seen!(q, AlumniField::Tenures, alumni_tenures::account_id))
                            .select(diesel::dsl::min(alumni_tenures::year_from))
                            .single_value()
                    };
                }
                m.order((
                    start!().is_null(),
                    start!().asc(),
                    lower_text(accounts::display_name).asc(),
                    accounts::acct_key.asc(),
                ))
            }
        };
        m.offset(offset).limit(limit).load(c).await
    })
}

/// How many members the directory's filters match.
pub async fn directory_count(conn: &mut DbConn<'_>, q: &DirectoryQuery) -> DbResult<i64> {
    with_conn!(conn, |c| {
        matching!(q)
            .select(diesel::dsl::count_star())
            .first(c)
            .await
    })
}

/// Counts per value among the members the filters match, for the values
/// the reader may see: what the directory's page offers to narrow by.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    pub roles: Vec<(Role, i64)>,
    pub divisions: Vec<(String, i64)>,
    pub industries: Vec<(Industry, i64)>,
    pub countries: Vec<(String, i64)>,
    /// Per tag field: its values, most common first.
    pub tags: Vec<(TagField, Vec<TagCount>)>,
}

/// A tag, one of its labels as people wrote it, and how many have it.
pub type TagCount = (String, String, i64);

/// At most this many values per facet (the most common).
pub const FACET_VALUES: i64 = 30;

pub async fn facets(conn: &mut DbConn<'_>, q: &DirectoryQuery) -> DbResult<Facets> {
    use diesel::dsl::{count, count_star, min};
    let roles = with_conn!(conn, |c| {
        memberships::table
            .filter(memberships::org_id.eq(q.org_id))
            .filter(memberships::account_id.eq_any(matching!(q).select(memberships::account_id)))
            .group_by(memberships::role)
            .select((memberships::role, count_star()))
            .order(memberships::role)
            .load(c)
            .await
    })?;
    let mut out = Facets {
        roles,
        ..Facets::default()
    };
    out.divisions = with_conn!(conn, |c| {
        alumni_tenures::table
            .filter(alumni_tenures::org_id.eq(q.org_id))
            .filter(alumni_tenures::division.ne(""))
            .filter(alumni_tenures::account_id.eq_any(matching!(q).select(memberships::account_id)))
            .filter(seen!(q, AlumniField::Tenures, alumni_tenures::account_id))
            .group_by(alumni_tenures::division)
            .select((
                alumni_tenures::division,
                count(alumni_tenures::account_id).aggregate_distinct(),
            ))
            .order((
                count(alumni_tenures::account_id)
                    .aggregate_distinct()
                    .desc(),
                alumni_tenures::division,
            ))
            .limit(FACET_VALUES)
            .load(c)
            .await
    })?;
    let industries: Vec<(Option<Industry>, i64)> = with_conn!(conn, |c| {
        alumni_profiles::table
            .filter(alumni_profiles::industry.is_not_null())
            .filter(
                alumni_profiles::account_id.eq_any(matching!(q).select(memberships::account_id)),
            )
            .filter(seen!(q, AlumniField::Industry, alumni_profiles::account_id))
            .group_by(alumni_profiles::industry)
            .select((alumni_profiles::industry, count_star()))
            .load(c)
            .await
    })?;
    out.industries = industries
        .into_iter()
        .filter_map(|(i, n)| i.map(|i| (i, n)))
        .collect();
    out.industries
        .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let countries: Vec<(Option<String>, i64)> = with_conn!(conn, |c| {
        alumni_profiles::table
            .filter(alumni_profiles::country.is_not_null())
            .filter(
                alumni_profiles::account_id.eq_any(matching!(q).select(memberships::account_id)),
            )
            .filter(seen!(q, AlumniField::Location, alumni_profiles::account_id))
            .group_by(alumni_profiles::country)
            .select((alumni_profiles::country, count_star()))
            .load(c)
            .await
    })?;
    out.countries = countries
        .into_iter()
        .filter_map(|(i, n)| i.map(|i| (i, n)))
        .collect();
    out.countries
        .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for field in TagField::ALL.iter().copied() {
        let values: Vec<(String, Option<String>, i64)> = with_conn!(conn, |c| {
            alumni_tags::table
                .filter(alumni_tags::field.eq(field))
                .filter(
                    alumni_tags::account_id.eq_any(matching!(q).select(memberships::account_id)),
                )
                .filter(seen!(q, field.field(), alumni_tags::account_id))
                .group_by(alumni_tags::tag)
                .select((alumni_tags::tag, min(alumni_tags::label), count_star()))
                .order((count_star().desc(), alumni_tags::tag))
                .limit(FACET_VALUES)
                .load(c)
                .await
        })?;
        let values = values
            .into_iter()
            .map(|(t, l, n)| {
                let label = l.unwrap_or_else(|| t.clone());
                (t, label, n)
            })
            .collect();
        out.tags.push((field, values));
    }
    Ok(out)
}

/// Local people in use, verified members somewhere, whose profile has not
/// changed since `before` (or who never filled it in and signed up before)
/// and who were not reminded since: (account, signed up at).
pub async fn stale(
    conn: &mut DbConn<'_>,
    before: chrono::NaiveDateTime,
    limit: i64,
) -> DbResult<Vec<(i64, chrono::NaiveDateTime)>> {
    use super::schema::users;
    with_conn!(conn, |c| {
        accounts::table
            .inner_join(users::table.on(users::account_id.eq(accounts::id)))
            .left_join(alumni_profiles::table.on(alumni_profiles::account_id.eq(accounts::id)))
            .filter(accounts::local.eq(true))
            .filter(accounts::suspended.eq(false))
            .filter(users::approved.eq(true))
            .filter(users::disabled.eq(false))
            .filter(
                alumni_profiles::updated_at
                    .nullable()
                    .lt(before)
                    .or(alumni_profiles::updated_at
                        .nullable()
                        .is_null()
                        .and(accounts::created_at.lt(before))),
            )
            .filter(
                alumni_profiles::reminded_at
                    .is_null()
                    .or(alumni_profiles::reminded_at.lt(before)),
            )
            .filter(
                accounts::id.eq_any(
                    memberships::table
                        .filter(memberships::state.eq(MembershipState::Verified))
                        .select(memberships::account_id),
                ),
            )
            .select((accounts::id, accounts::created_at))
            .order(accounts::id)
            .limit(limit)
            .load(c)
            .await
    })
}

/// Claims a reminder for a person not reminded since `before`; someone
/// who never filled in their profile gets an empty one dated from their
/// sign-up (it has not changed since). False if another node claimed it.
pub async fn claim_reminder(
    conn: &mut DbConn<'_>,
    account_id: i64,
    at: chrono::NaiveDateTime,
    before: chrono::NaiveDateTime,
    signed_up: chrono::NaiveDateTime,
) -> DbResult<bool> {
    with_conn!(conn, |c| {
        let inserted = diesel::insert_into(alumni_profiles::table)
            .values((
                alumni_profiles::account_id.eq(account_id),
                alumni_profiles::updated_at.eq(signed_up),
                alumni_profiles::reminded_at.eq(at),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await?;
        if inserted > 0 {
            return Ok(true);
        }
        diesel::update(
            alumni_profiles::table
                .filter(alumni_profiles::account_id.eq(account_id))
                .filter(
                    alumni_profiles::reminded_at
                        .is_null()
                        .or(alumni_profiles::reminded_at.lt(before)),
                ),
        )
        .set(alumni_profiles::reminded_at.eq(at))
        .execute(c)
        .await
        .map(|n| n > 0)
    })
}
