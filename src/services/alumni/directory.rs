//! An org's directory (名簿): its verified members narrowed by what they
//! released to the reader, with counts per value to narrow further.
use serde::Serialize;

use super::audience::Reader;
use super::{Loaded, ProfileView};
use crate::db::alumni::{DirectoryQuery, Facets};
use crate::db::models::{Account, LocalUser};
use crate::db::{self, DbConn};
use crate::domain::{AccountId, DirectoryOrder, Industry, MembershipState, OrgId, Role, TagField};
use crate::services::views::{self, AccountView};
use crate::services::{Ctx, ServiceError, ServiceResult};

/// At most this many values per filter, and people per page.
pub const MAX_VALUES: usize = 20;
pub const MAX_LIMIT: i64 = 80;
pub const DEFAULT_LIMIT: i64 = 40;
/// Paging stops here: beyond it, narrow the search.
pub const MAX_OFFSET: i64 = 10_000;

/// A directory search as asked (texts checked here).
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub roles: Vec<String>,
    pub divisions: Vec<String>,
    pub tenure_from: Option<i32>,
    pub tenure_to: Option<i32>,
    pub industries: Vec<String>,
    pub countries: Vec<String>,
    pub skills: Vec<String>,
    pub interests: Vec<String>,
    pub languages: Vec<String>,
    pub open_to: Vec<String>,
    pub text: Option<String>,
    pub order: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    pub facets: bool,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub account: AccountView,
    pub role: Role,
    pub profile: ProfileView,
}

#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub value: String,
    pub label: String,
    pub count: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FacetCounts {
    pub role: Vec<Count>,
    pub division: Vec<Count>,
    pub industry: Vec<Count>,
    pub country: Vec<Count>,
    pub skills: Vec<Count>,
    pub interests: Vec<Count>,
    pub languages: Vec<Count>,
    pub open_to: Vec<Count>,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub members: Vec<Entry>,
    pub facets: Option<FacetCounts>,
}

fn values(field: &'static str, list: &[String]) -> ServiceResult<Vec<String>> {
    let list: Vec<String> = list
        .iter()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if list.len() > MAX_VALUES {
        return Err(ServiceError::invalid(
            field,
            "ERR_TOO_MANY",
            format!("at most {MAX_VALUES} values"),
        ));
    }
    Ok(list)
}

fn parsed<T: std::str::FromStr<Err = crate::domain::UnknownValue>>(
    field: &'static str,
    list: &[String],
) -> ServiceResult<Vec<T>> {
    values(field, list)?
        .iter()
        .map(|v| {
            v.parse::<T>().map_err(|e| {
                ServiceError::invalid(field, "ERR_INCLUSION", format!("must be {}", e.allowed))
            })
        })
        .collect()
}

fn lower(field: &'static str, list: &[String]) -> ServiceResult<Vec<String>> {
    Ok(values(field, list)?
        .iter()
        .map(|v| v.to_lowercase())
        .collect())
}

/// Checks a search and turns it into the query for this reader.
fn query(s: &Search, org_id: i64, reader: &Reader, office: bool) -> ServiceResult<DirectoryQuery> {
    let years = match (s.tenure_from, s.tenure_to) {
        (None, None) => None,
        (from, to) => {
            let (from, to) = (from.unwrap_or(1900), to.unwrap_or(9999));
            if from > to {
                return Err(ServiceError::invalid(
                    "tenure_to",
                    "ERR_INVALID",
                    "must not be before tenure_from",
                ));
            }
            Some((from, to))
        }
    };
    let mut tags = Vec::new();
    for (field, name, list) in [
        (TagField::Skill, "skills", &s.skills),
        (TagField::Interest, "interests", &s.interests),
        (TagField::Language, "languages", &s.languages),
        (TagField::OpenTo, "open_to", &s.open_to),
    ] {
        let v = lower(name, list)?;
        if !v.is_empty() {
            tags.push((field, v));
        }
    }
    let text = s
        .text
        .as_deref()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    if text.as_ref().is_some_and(|t| t.chars().count() > 100) {
        return Err(ServiceError::invalid(
            "q",
            "ERR_TOO_LONG",
            "at most 100 characters",
        ));
    }
    Ok(DirectoryQuery {
        org_id,
        reader: reader.account_id.unwrap_or(0),
        tokens: reader.tokens_in(org_id, office),
        listed_only: !office,
        roles: parsed::<Role>("role", &s.roles)?,
        divisions: values("division", &s.divisions)?,
        years,
        industries: parsed::<Industry>("industry", &s.industries)?,
        countries: values("country", &s.countries)?
            .iter()
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        tags,
        text,
    })
}

/// Whether `me` may read the org's directory: its verified members and its
/// office. Returns whether as the office (who sees the unlisted too).
pub(crate) async fn reader_of(
    conn: &mut DbConn<'_>,
    org_id: i64,
    me: &LocalUser,
) -> ServiceResult<bool> {
    if db::orgs::find(conn, org_id).await?.is_none() {
        return Err(ServiceError::not_found());
    }
    let office = crate::services::memberships::is_office(conn, org_id, me).await?;
    let member = db::memberships::find(conn, OrgId(org_id), AccountId(me.account.id))
        .await?
        .is_some_and(|m| m.state == MembershipState::Verified);
    if !office && !member {
        return Err(ServiceError::Forbidden(
            "The member directory is for verified members".into(),
        ));
    }
    Ok(office)
}

/// One page of an org's directory for `me`.
pub async fn search(ctx: &Ctx, me: &LocalUser, org_id: i64, s: &Search) -> ServiceResult<Page> {
    let mut conn = ctx.conn().await?;
    let office = reader_of(&mut conn, org_id, me).await?;
    let reader = Reader::load(&mut conn, Some(me)).await?;
    let q = query(s, org_id, &reader, office)?;
    let order = match s.order.as_deref().filter(|o| !o.is_empty()) {
        None => DirectoryOrder::Active,
        Some(o) => o.parse().map_err(|e: crate::domain::UnknownValue| {
            ServiceError::invalid("order", "ERR_INCLUSION", format!("must be {}", e.allowed))
        })?,
    };
    let limit = s.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let offset = s.offset.unwrap_or(0).clamp(0, MAX_OFFSET);
    let rows = db::alumni::directory(&mut conn, &q, order, offset, limit).await?;
    let total = db::alumni::directory_count(&mut conn, &q).await?;
    let facets = if s.facets {
        Some(counts(db::alumni::facets(&mut conn, &q).await?))
    } else {
        None
    };
    let ids: Vec<i64> = rows.iter().map(|(m, _)| m.account_id).collect();
    let loaded = Loaded::of(&mut conn, &ids).await?;
    drop(conn);
    let (ms, accounts): (Vec<_>, Vec<Account>) = rows.into_iter().unzip();
    let accounts = views::accounts(ctx, accounts).await?;
    let members = ms
        .into_iter()
        .zip(accounts)
        .map(|(m, account)| Entry {
            profile: loaded.view(&reader, m.account_id),
            role: m.role,
            account,
        })
        .collect();
    Ok(Page {
        total,
        offset,
        limit,
        members,
        facets,
    })
}

fn counts(f: Facets) -> FacetCounts {
    let plain = |v: Vec<(String, i64)>| -> Vec<Count> {
        v.into_iter()
            .map(|(value, count)| Count {
                label: value.clone(),
                value,
                count,
            })
            .collect()
    };
    let mut out = FacetCounts {
        role: f
            .roles
            .into_iter()
            .map(|(r, count)| Count {
                value: r.as_str().into(),
                label: r.as_str().into(),
                count,
            })
            .collect(),
        division: plain(f.divisions),
        industry: f
            .industries
            .into_iter()
            .map(|(i, count)| Count {
                value: i.as_str().into(),
                label: i.as_str().into(),
                count,
            })
            .collect(),
        country: plain(f.countries),
        ..FacetCounts::default()
    };
    for (field, values) in f.tags {
        let list = values
            .into_iter()
            .map(|(value, label, count)| Count {
                value,
                label,
                count,
            })
            .collect();
        match field {
            TagField::Skill => out.skills = list,
            TagField::Interest => out.interests = list,
            TagField::Language => out.languages = list,
            TagField::OpenTo => out.open_to = list,
        }
    }
    out
}
