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

pub async fn find_tenure(conn: &mut DbConn<'_>, id: i64) -> DbResult<Option<AlumniTenure>> {
    with_conn!(conn, |c| {
        alumni_tenures::table
            .find(id)
            .select(AlumniTenure::as_select())
            .first(c)
            .await
            .optional()
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

/// Marks a period as confirmed (or not) by an org's office.
pub async fn verify_tenure(
    conn: &mut DbConn<'_>,
    id: i64,
    by: Option<i64>,
    at: Option<chrono::NaiveDateTime>,
) -> DbResult<()> {
    with_conn!(conn, |c| {
        diesel::update(alumni_tenures::table.find(id))
            .set((
                alumni_tenures::verified_by.eq(by),
                alumni_tenures::verified_at.eq(at),
            ))
            .execute(c)
            .await
            .map(|_| ())
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

/// The account ids released to the reader for one field (or their own).
macro_rules! released {
    ($q:expr, $field:expr) => {
        alumni_audiences::table
            .filter(alumni_audiences::field.eq($field))
            .filter(alumni_audiences::audience.eq_any(&$q.tokens))
            .select(alumni_audiences::account_id)
    };
}

/// The members matching every filter, as a boxed select of
/// (membership, account) with the profile and stats left-joined.
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
                    .or(memberships::account_id.eq_any($crate::listed_in!(q.org_id))),
            );
        }
        if !q.roles.is_empty() {
            m = m.filter(memberships::role.eq_any(&q.roles));
        }
        if !q.divisions.is_empty() || q.years.is_some() {
            let mut t = alumni_tenures::table
                .filter(alumni_tenures::org_id.eq(q.org_id))
                .filter(
                    alumni_tenures::account_id
                        .eq(q.reader)
                        .or(alumni_tenures::account_id.eq_any(released!(q, AlumniField::Tenures))),
                )
                .select(alumni_tenures::account_id)
                .into_boxed();
            if !q.divisions.is_empty() {
                t = t.filter(alumni_tenures::division.eq_any(&q.divisions));
            }
            if let Some((from, to)) = q.years {
                t = t.filter(alumni_tenures::year_from.le(to)).filter(
                    alumni_tenures::year_to
                        .is_null()
                        .or(alumni_tenures::year_to.ge(from)),
                );
            }
            m = m.filter(memberships::account_id.eq_any(t));
        }
        if !q.industries.is_empty() {
            m = m.filter(
                alumni_profiles::industry.eq_any(&q.industries).and(
                    memberships::account_id
                        .eq(q.reader)
                        .or(memberships::account_id.eq_any(released!(q, AlumniField::Industry))),
                ),
            );
        }
        if !q.countries.is_empty() {
            m = m.filter(
                alumni_profiles::country.eq_any(&q.countries).and(
                    memberships::account_id
                        .eq(q.reader)
                        .or(memberships::account_id.eq_any(released!(q, AlumniField::Location))),
                ),
            );
        }
        for (field, values) in &q.tags {
            let t = alumni_tags::table
                .filter(alumni_tags::field.eq(*field))
                .filter(alumni_tags::tag.eq_any(values))
                .filter(
                    alumni_tags::account_id
                        .eq(q.reader)
                        .or(alumni_tags::account_id.eq_any(released!(q, field.field()))),
                )
                .select(alumni_tags::account_id);
            m = m.filter(memberships::account_id.eq_any(t));
        }
        if let Some(text) = &q.text {
            use super::search::lower_text;
            let like = format!("%{}%", super::search::like_escape(text));
            let seen = |f: AlumniField| {
                memberships::account_id
                    .eq(q.reader)
                    .or(memberships::account_id.eq_any(released!(q, f)))
            };
            let in_tags = alumni_tags::table
                .filter(alumni_tags::field.eq_any([TagField::Skill, TagField::Interest]))
                .filter(alumni_tags::tag.like(like.clone()).escape('\\'))
                .filter(
                    alumni_tags::account_id
                        .eq(q.reader)
                        .or(alumni_tags::account_id
                            .eq_any(
                                released!(q, AlumniField::Skills)
                                    .filter(alumni_tags::field.eq(TagField::Skill)),
                            )
                            .or(alumni_tags::account_id.eq_any(
                                released!(q, AlumniField::Interests)
                                    .filter(alumni_tags::field.eq(TagField::Interest)),
                            ))),
                )
                .select(alumni_tags::account_id);
            m = m.filter(
                lower_text(accounts::display_name)
                    .like(like.clone())
                    .escape('\\')
                    .or(accounts::acct_key.like(like.clone()).escape('\\'))
                    .or(lower_text(alumni_profiles::title.assume_not_null())
                        .like(like.clone())
                        .escape('\\')
                        .and(seen(AlumniField::Title)))
                    .or(lower_text(alumni_profiles::current_org.assume_not_null())
                        .like(like.clone())
                        .escape('\\')
                        .and(seen(AlumniField::CurrentOrg)))
                    .or(memberships::account_id.eq_any(in_tags)),
            );
        }
        m
    }};
}

/// One page of the directory (offset paging: its orders are not by id).
pub async fn directory(
    conn: &mut DbConn<'_>,
    q: &DirectoryQuery,
    sort: DirectoryOrder,
    offset: i64,
    limit: i64,
) -> DbResult<Vec<(Membership, Account)>> {
    use super::search::lower_text;
    with_conn!(conn, |c| {
        let m = matching!(q).select((Membership::as_select(), Account::as_select()));
        let m = match sort {
            DirectoryOrder::Active => m.order((
                account_stats::last_status_at.is_null(),
                account_stats::last_status_at.desc(),
                memberships::id.desc(),
            )),
            DirectoryOrder::Updated => m.order((
                alumni_profiles::updated_at.nullable().is_null(),
                alumni_profiles::updated_at.nullable().desc(),
                memberships::id.desc(),
            )),
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
                            .filter(
                                alumni_tenures::account_id
                                    .eq(q.reader)
                                    .or(alumni_tenures::account_id
                                        .eq_any(released!(q, AlumniField::Tenures))),
                            )
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
    /// Per tag field: (tag, a label, count), most common first.
    pub tags: Vec<(TagField, Vec<(String, String, i64)>)>,
}

/// At most this many values per facet (the most common).
pub const FACET_VALUES: i64 = 30;

pub async fn facets(conn: &mut DbConn<'_>, q: &DirectoryQuery) -> DbResult<Facets> {
    use diesel::dsl::{count, count_star, min};
    let mut out = Facets::default();
    out.roles = with_conn!(conn, |c| {
        memberships::table
            .filter(memberships::org_id.eq(q.org_id))
            .filter(memberships::account_id.eq_any(matching!(q).select(memberships::account_id)))
            .group_by(memberships::role)
            .select((memberships::role, count_star()))
            .order(memberships::role)
            .load(c)
            .await
    })?;
    out.divisions = with_conn!(conn, |c| {
        alumni_tenures::table
            .filter(alumni_tenures::org_id.eq(q.org_id))
            .filter(alumni_tenures::division.ne(""))
            .filter(alumni_tenures::account_id.eq_any(matching!(q).select(memberships::account_id)))
            .filter(
                alumni_tenures::account_id
                    .eq(q.reader)
                    .or(alumni_tenures::account_id.eq_any(released!(q, AlumniField::Tenures))),
            )
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
            .filter(
                alumni_profiles::account_id
                    .eq(q.reader)
                    .or(alumni_profiles::account_id.eq_any(released!(q, AlumniField::Industry))),
            )
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
            .filter(
                alumni_profiles::account_id
                    .eq(q.reader)
                    .or(alumni_profiles::account_id.eq_any(released!(q, AlumniField::Location))),
            )
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
                .filter(
                    alumni_tags::account_id
                        .eq(q.reader)
                        .or(alumni_tags::account_id.eq_any(released!(q, field.field()))),
                )
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
