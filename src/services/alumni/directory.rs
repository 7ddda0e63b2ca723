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
        tokens: reader.tokens(),
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
    let reader = Reader::load(&mut conn, Some(me))
        .await?
        .in_directory(org_id, office);
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

/// People read per round when going through a whole directory.
const ROUND: i64 = 500;

/// Goes through the whole directory as the office sees it (`listed_only`:
/// only those who chose to be listed), a round at a time.
async fn each_member(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    listed_only: bool,
    mut f: impl FnMut(&crate::db::models::Membership, &Account, &ProfileView),
) -> ServiceResult<()> {
    crate::services::memberships::require_office(ctx, org_id, me).await?;
    let mut conn = ctx.conn().await?;
    // Administrators act as the office of every org.
    let reader = Reader::load(&mut conn, Some(me))
        .await?
        .in_directory(org_id, true);
    let mut q = query(&Search::default(), org_id, &reader, true)?;
    q.listed_only = listed_only;
    let mut offset = 0;
    loop {
        let rows =
            db::alumni::directory(&mut conn, &q, DirectoryOrder::Name, offset, ROUND).await?;
        let ids: Vec<i64> = rows.iter().map(|(m, _)| m.account_id).collect();
        let loaded = Loaded::of(&mut conn, &ids).await?;
        for (m, a) in &rows {
            f(m, a, &loaded.view(&reader, m.account_id));
        }
        if (rows.len() as i64) < ROUND {
            return Ok(());
        }
        offset += ROUND;
    }
}

/// A spreadsheet cell that starts like a formula is shown as text.
fn defused(v: &str) -> String {
    match v.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{v}"),
        _ => v.to_owned(),
    }
}

/// The office's export: everyone who chose to be listed, each field only
/// where released to the office (empty otherwise), as CSV.
pub async fn export_csv(ctx: &Ctx, me: &LocalUser, org_id: i64) -> ServiceResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "id",
        "username",
        "display_name",
        "role",
        "updated_at",
        "tenures",
        "current_org",
        "title",
        "industry",
        "city",
        "region",
        "country",
        "skills",
        "interests",
        "languages",
        "open_to",
        "now",
        "now_date",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    each_member(ctx, me, org_id, true, |m, a, p| {
        let list = |v: &Option<Vec<String>>| v.as_ref().map(|v| v.join("; ")).unwrap_or_default();
        let tenures = p
            .tenures
            .as_ref()
            .map(|ts| {
                ts.iter()
                    .filter(|t| t.org_id == org_id.to_string())
                    .map(|t| {
                        let to = t.to.map(|y| y.to_string()).unwrap_or_default();
                        match t.division.as_str() {
                            "" => format!("{}-{to}", t.from),
                            d => format!("{}-{to} {d}", t.from),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let loc = p.location.clone().unwrap_or_default();
        rows.push(vec![
            a.id.to_string(),
            a.acct_key.clone(),
            a.display_name.clone(),
            m.role.as_str().to_owned(),
            p.updated_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            tenures,
            p.current_org.clone().unwrap_or_default(),
            p.title.clone().unwrap_or_default(),
            p.industry
                .flatten()
                .map(|i| i.as_str().to_owned())
                .unwrap_or_default(),
            loc.city,
            loc.region,
            loc.country.unwrap_or_default(),
            list(&p.skills),
            list(&p.interests),
            list(&p.languages),
            p.open_to
                .as_ref()
                .map(|o| o.iter().map(|o| o.as_str()).collect::<Vec<_>>().join("; "))
                .unwrap_or_default(),
            p.now.as_ref().map(|n| n.text.clone()).unwrap_or_default(),
            p.now
                .as_ref()
                .and_then(|n| n.date.clone())
                .unwrap_or_default(),
        ]);
    })
    .await?;
    let broken = |e: csv::Error| ServiceError::Internal(anyhow::anyhow!("writing the CSV: {e}"));
    w.write_record(header).map_err(broken)?;
    for r in rows {
        w.write_record(r.iter().map(|v| defused(v)))
            .map_err(broken)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("writing the CSV: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// How many fields of a profile are filled (of those the reader sees).
pub fn filled(p: &ProfileView) -> usize {
    let some = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
    [
        p.tenures.as_ref().is_some_and(|t| !t.is_empty()),
        p.current_org.as_ref().is_some_and(|v| !v.is_empty()),
        p.title.as_ref().is_some_and(|v| !v.is_empty()),
        p.industry.flatten().is_some(),
        p.location
            .as_ref()
            .is_some_and(|l| !l.city.is_empty() || !l.region.is_empty() || l.country.is_some()),
        some(&p.skills),
        some(&p.interests),
        some(&p.languages),
        p.open_to.as_ref().is_some_and(|v| !v.is_empty()),
        p.now.as_ref().is_some_and(|n| !n.text.is_empty()),
    ]
    .into_iter()
    .filter(|b| *b)
    .count()
}

/// For the office: verified members by role, and by how many profile
/// fields (released to the office) they filled.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileStats {
    pub members: std::collections::BTreeMap<Role, i64>,
    /// `filled` 0 to 10, and how many members.
    pub completeness: Vec<Completeness>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Completeness {
    pub filled: usize,
    pub members: i64,
}

pub async fn stats(ctx: &Ctx, me: &LocalUser, org_id: i64) -> ServiceResult<ProfileStats> {
    let mut counts = vec![0i64; crate::domain::AlumniField::ALL.len() + 1];
    each_member(ctx, me, org_id, false, |_, _, p| counts[filled(p)] += 1).await?;
    let mut conn = ctx.conn().await?;
    let members = db::memberships::role_counts(&mut conn, org_id)
        .await?
        .into_iter()
        .collect();
    Ok(ProfileStats {
        members,
        completeness: counts
            .into_iter()
            .enumerate()
            .map(|(filled, members)| Completeness { filled, members })
            .collect(),
    })
}
