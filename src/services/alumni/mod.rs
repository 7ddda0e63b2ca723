//! Alumni profiles: careers at orgs, now, skills and the rest, each field
//! with the audiences its owner chose (private by default). Reading goes
//! through [`audience::Reader`]; nothing here returns a field unchecked.
pub mod audience;
pub mod directory;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use self::audience::Reader;
use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::{AlumniProfile, AlumniTag, AlumniTenure, LocalUser};
use crate::db::{self, DbConn};
use crate::domain::{AlumniField, Audience, Industry, OpenTo, TagField};
use crate::ids;

/// At most this many values per tag field, and periods per person.
pub const MAX_TAGS: usize = 30;
pub const MAX_TENURES: usize = 30;
pub const MAX_AUDIENCES: usize = 10;
/// Characters in a short text field (title, org, city, a tag...).
pub const MAX_SHORT: usize = 100;
pub const MAX_TAG: usize = 50;
/// Characters in the "now" line.
pub const MAX_NOW: usize = 280;

/// What a reader sees of a person's profile: a field they may not see is
/// absent (`None`), one they may see but is empty is empty.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ProfileView {
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenures: Option<Vec<TenureView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<Option<Industry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interests: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_to: Option<Vec<OpenTo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now: Option<Now>,
    /// When the profile last changed (absent: never filled in).
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The owner's choices, shown to the owner only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audiences: Option<BTreeMap<AlumniField, Vec<Audience>>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Location {
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Now {
    pub text: String,
    /// YYYY-MM-DD.
    pub date: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TenureView {
    pub id: String,
    pub org_id: String,
    pub from: i32,
    pub to: Option<i32>,
    pub division: String,
    pub title: String,
    /// Confirmed by the org's office.
    pub verified: bool,
}

/// A change to one's profile: each field given replaces the stored one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub current_org: Option<String>,
    pub title: Option<String>,
    /// An [`Industry`]; empty clears it.
    pub industry: Option<String>,
    pub location: Option<Location>,
    pub skills: Option<Vec<String>>,
    pub interests: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub open_to: Option<Vec<String>>,
    pub now: Option<String>,
    pub tenures: Option<Vec<TenurePatch>>,
    /// Per field, its whole audience (an empty list: only me).
    pub audiences: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenurePatch {
    /// An existing period's id keeps its confirmation if nothing else changed.
    pub id: Option<String>,
    pub org_id: String,
    #[serde(deserialize_with = "year")]
    pub from: i32,
    #[serde(default, deserialize_with = "year_opt")]
    pub to: Option<i32>,
    #[serde(default)]
    pub division: String,
    #[serde(default)]
    pub title: String,
}

/// Years come as numbers from JSON and as text from forms.
#[derive(Deserialize)]
#[serde(untagged)]
enum YearIn {
    Number(i64),
    Text(String),
}

fn year<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    year_opt(d)?.ok_or_else(|| serde::de::Error::custom("a year is required"))
}

fn year_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    let v: Option<YearIn> = Option::deserialize(d)?;
    let n = match v {
        None => return Ok(None),
        Some(YearIn::Number(n)) => n,
        Some(YearIn::Text(t)) if t.trim().is_empty() => return Ok(None),
        Some(YearIn::Text(t)) => t
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("{t:?} is not a year")))?,
    };
    i32::try_from(n)
        .map(Some)
        .map_err(|_| serde::de::Error::custom("not a year"))
}

/// Everything stored of some people's profiles, as loaded for one output.
#[derive(Default)]
pub(crate) struct Loaded {
    profiles: HashMap<i64, AlumniProfile>,
    tags: HashMap<i64, Vec<AlumniTag>>,
    tenures: HashMap<i64, Vec<AlumniTenure>>,
    releases: HashMap<i64, Vec<(AlumniField, Audience)>>,
    orgs: HashMap<i64, BTreeSet<i64>>,
}

impl Loaded {
    pub(crate) async fn of(conn: &mut DbConn<'_>, ids: &[i64]) -> ServiceResult<Loaded> {
        let mut out = Loaded::default();
        if ids.is_empty() {
            return Ok(out);
        }
        for p in db::alumni::profiles(conn, ids).await? {
            out.profiles.insert(p.account_id, p);
        }
        for t in db::alumni::tags(conn, ids).await? {
            out.tags.entry(t.account_id).or_default().push(t);
        }
        for t in db::alumni::tenures(conn, ids).await? {
            out.tenures.entry(t.account_id).or_default().push(t);
        }
        for (id, f, a) in db::alumni::audiences(conn, ids).await? {
            out.releases.entry(id).or_default().push((f, a));
        }
        for (id, org) in db::alumni::verified_orgs_of(conn, ids).await? {
            out.orgs.entry(id).or_default().insert(org);
        }
        Ok(out)
    }

    /// What `reader` sees of `owner`'s profile.
    pub(crate) fn view(&self, reader: &Reader, owner: i64) -> ProfileView {
        let none = Vec::new();
        let releases = self.releases.get(&owner).unwrap_or(&none);
        let no_orgs = BTreeSet::new();
        let orgs = self.orgs.get(&owner).unwrap_or(&no_orgs);
        let shown = reader.shown(owner, orgs, releases);
        let empty = AlumniProfile::empty(owner);
        let p = self.profiles.get(&owner).unwrap_or(&empty);
        let no_tags = Vec::new();
        let tags = self.tags.get(&owner).unwrap_or(&no_tags);
        let labels = |f: TagField| -> Vec<String> {
            tags.iter()
                .filter(|t| t.field == f)
                .map(|t| t.label.clone())
                .collect()
        };
        let show = |f: AlumniField| shown.contains(&f);
        let no_tenures = Vec::new();
        ProfileView {
            account_id: owner.to_string(),
            tenures: show(AlumniField::Tenures).then(|| {
                self.tenures
                    .get(&owner)
                    .unwrap_or(&no_tenures)
                    .iter()
                    .map(tenure_view)
                    .collect()
            }),
            current_org: show(AlumniField::CurrentOrg).then(|| p.current_org.clone()),
            title: show(AlumniField::Title).then(|| p.title.clone()),
            industry: show(AlumniField::Industry).then_some(p.industry),
            location: show(AlumniField::Location).then(|| Location {
                city: p.city.clone(),
                region: p.region.clone(),
                country: p.country.clone(),
            }),
            skills: show(AlumniField::Skills).then(|| labels(TagField::Skill)),
            interests: show(AlumniField::Interests).then(|| labels(TagField::Interest)),
            languages: show(AlumniField::Languages).then(|| labels(TagField::Language)),
            open_to: show(AlumniField::OpenTo).then(|| {
                tags.iter()
                    .filter(|t| t.field == TagField::OpenTo)
                    .filter_map(|t| OpenTo::parse(&t.tag))
                    .collect()
            }),
            now: show(AlumniField::Now).then(|| Now {
                text: p.now_text.clone(),
                date: p.now_on.clone(),
            }),
            updated_at: self.profiles.get(&owner).map(|p| p.updated_at.and_utc()),
            audiences: (reader.account_id == Some(owner)).then(|| {
                let mut m: BTreeMap<AlumniField, Vec<Audience>> =
                    AlumniField::ALL.iter().map(|f| (*f, Vec::new())).collect();
                for (f, a) in releases {
                    m.entry(*f).or_default().push(*a);
                }
                m
            }),
        }
    }
}

fn tenure_view(t: &AlumniTenure) -> TenureView {
    TenureView {
        id: t.id.to_string(),
        org_id: t.org_id.to_string(),
        from: t.year_from,
        to: t.year_to,
        division: t.division.clone(),
        title: t.title.clone(),
        verified: t.verified_at.is_some(),
    }
}

impl AlumniProfile {
    fn empty(account_id: i64) -> AlumniProfile {
        AlumniProfile {
            account_id,
            current_org: String::new(),
            title: String::new(),
            industry: None,
            city: String::new(),
            region: String::new(),
            country: None,
            now_text: String::new(),
            now_on: None,
            updated_at: ids::now(),
            reminded_at: None,
        }
    }
}

/// One's own profile, with the audiences.
pub async fn mine(ctx: &Ctx, me: &LocalUser) -> ServiceResult<ProfileView> {
    let mut conn = ctx.conn().await?;
    let loaded = Loaded::of(&mut conn, &[me.account.id]).await?;
    let reader = Reader::load(&mut conn, Some(me)).await?;
    Ok(loaded.view(&reader, me.account.id))
}

/// What the caller (signed in or not) may see of someone's profile.
pub async fn of(ctx: &Ctx, me: Option<&LocalUser>, account_id: i64) -> ServiceResult<ProfileView> {
    let mut conn = ctx.conn().await?;
    let Some((account, _)) = db::accounts::find(&mut conn, account_id).await? else {
        return Err(ServiceError::not_found());
    };
    if account.suspended {
        return Err(ServiceError::not_found());
    }
    let reader = Reader::load(&mut conn, me).await?;
    let loaded = Loaded::of(&mut conn, &[account_id]).await?;
    Ok(loaded.view(&reader, account_id))
}

fn short(field: &'static str, v: &str, max: usize) -> ServiceResult<String> {
    let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
    if v.chars().count() > max {
        return Err(ServiceError::invalid(
            field,
            "ERR_TOO_LONG",
            format!("at most {max} characters"),
        ));
    }
    Ok(v)
}

/// Tags as the person wrote them (trimmed, without repeats by case).
fn tag_rows(
    account_id: i64,
    field: TagField,
    name: &'static str,
    values: &[String],
) -> ServiceResult<Vec<AlumniTag>> {
    let mut out: Vec<AlumniTag> = Vec::new();
    for v in values {
        let label = short(name, v, MAX_TAG)?;
        if label.is_empty() {
            continue;
        }
        let tag = match field {
            TagField::OpenTo => OpenTo::parse(&label)
                .ok_or_else(|| {
                    ServiceError::invalid(
                        name,
                        "ERR_INCLUSION",
                        format!("each must be {}", OpenTo::allowed()),
                    )
                })?
                .as_str()
                .to_owned(),
            TagField::Language => {
                if !is_language_tag(&label) {
                    return Err(ServiceError::invalid(
                        name,
                        "ERR_INVALID",
                        "each must be a language code such as ja, en or pt-BR",
                    ));
                }
                label.to_lowercase()
            }
            TagField::Skill | TagField::Interest => label.to_lowercase(),
        };
        if out.iter().any(|t| t.tag == tag) {
            continue;
        }
        out.push(AlumniTag {
            account_id,
            field,
            label: if field == TagField::OpenTo {
                tag.clone()
            } else {
                label
            },
            tag,
            position: out.len() as i32,
        });
    }
    if out.len() > MAX_TAGS {
        return Err(ServiceError::invalid(
            name,
            "ERR_TOO_MANY",
            format!("at most {MAX_TAGS}"),
        ));
    }
    Ok(out)
}

/// BCP 47, loosely: a 2–3 letter language and up to three subtags.
fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let lang_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()));
    let rest: Vec<&str> = parts.collect();
    lang_ok
        && rest.len() <= 3
        && rest
            .iter()
            .all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn country(v: Option<&str>) -> ServiceResult<Option<String>> {
    match v.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) if c.len() == 2 && c.chars().all(|c| c.is_ascii_alphabetic()) => {
            Ok(Some(c.to_ascii_uppercase()))
        }
        Some(_) => Err(ServiceError::invalid(
            "country",
            "ERR_INVALID",
            "must be a two-letter country code such as JP",
        )),
    }
}

/// Changes one's profile; only the fields given, all or nothing.
pub async fn update(ctx: &Ctx, me: &LocalUser, patch: ProfilePatch) -> ServiceResult<ProfileView> {
    let owner = me.account.id;
    let mut conn = ctx.conn().await?;
    let mut p = db::alumni::profiles(&mut conn, &[owner])
        .await?
        .pop()
        .unwrap_or_else(|| AlumniProfile::empty(owner));
    if let Some(v) = &patch.current_org {
        p.current_org = short("current_org", v, MAX_SHORT)?;
    }
    if let Some(v) = &patch.title {
        p.title = short("title", v, MAX_SHORT)?;
    }
    if let Some(v) = &patch.industry {
        p.industry = match v.trim() {
            "" => None,
            v => Some(v.parse::<Industry>().map_err(|e| {
                ServiceError::invalid(
                    "industry",
                    "ERR_INCLUSION",
                    format!("must be {}", e.allowed),
                )
            })?),
        };
    }
    if let Some(l) = &patch.location {
        p.city = short("city", &l.city, MAX_SHORT)?;
        p.region = short("region", &l.region, MAX_SHORT)?;
        p.country = country(l.country.as_deref())?;
    }
    if let Some(v) = &patch.now {
        set_now(&mut p, v)?;
    }
    let mut tag_sets = Vec::new();
    for (field, name, values) in [
        (TagField::Skill, "skills", &patch.skills),
        (TagField::Interest, "interests", &patch.interests),
        (TagField::Language, "languages", &patch.languages),
        (TagField::OpenTo, "open_to", &patch.open_to),
    ] {
        if let Some(values) = values {
            tag_sets.push((field, tag_rows(owner, field, name, values)?));
        }
    }
    let my_orgs: BTreeSet<i64> = db::memberships::verified_orgs(&mut conn, owner)
        .await?
        .into_iter()
        .collect();
    let mut releases = Vec::new();
    for (name, list) in patch.audiences.iter().flatten() {
        let field: AlumniField = name.parse().map_err(|e: crate::domain::UnknownValue| {
            ServiceError::invalid(
                "audiences",
                "ERR_INCLUSION",
                format!("{name:?} is not a field: {}", e.allowed),
            )
        })?;
        releases.push((field, audiences(list, &my_orgs)?));
    }
    let tenures = match &patch.tenures {
        None => None,
        Some(list) => Some(tenure_rows(&mut conn, owner, list).await?),
    };
    p.updated_at = ids::now();
    conn.transaction(async |tx| {
        db::alumni::upsert_profile(tx, &p).await?;
        for (field, rows) in &tag_sets {
            db::alumni::replace_tags(tx, owner, *field, rows).await?;
        }
        for (field, list) in &releases {
            db::alumni::replace_audiences(tx, owner, *field, list).await?;
        }
        if let Some(rows) = &tenures {
            db::alumni::replace_tenures(tx, owner, rows).await?;
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    mine(ctx, me).await
}

/// Who may see a field, checked: an org's members or office only of an org
/// one is a verified member of.
fn audiences(list: &[String], my_orgs: &BTreeSet<i64>) -> ServiceResult<Vec<Audience>> {
    let mut out = Vec::new();
    for token in list {
        let a = Audience::parse(token.trim()).ok_or_else(|| {
            ServiceError::invalid(
                "audiences",
                "ERR_INVALID",
                format!(
                    "{token:?} is not an audience: public, my_orgs, members:ORG_ID or office:ORG_ID"
                ),
            )
        })?;
        if let Some(org) = a.org().filter(|o| !my_orgs.contains(o)) {
            return Err(ServiceError::invalid(
                "audiences",
                "ERR_NOT_MEMBER",
                format!("you are not a verified member of org {org}"),
            ));
        }
        if !out.contains(&a) {
            out.push(a);
        }
    }
    if out.len() > MAX_AUDIENCES {
        return Err(ServiceError::invalid(
            "audiences",
            "ERR_TOO_MANY",
            format!("at most {MAX_AUDIENCES} per field"),
        ));
    }
    Ok(out)
}

async fn tenure_rows(
    conn: &mut DbConn<'_>,
    owner: i64,
    list: &[TenurePatch],
) -> ServiceResult<Vec<AlumniTenure>> {
    if list.len() > MAX_TENURES {
        return Err(ServiceError::invalid(
            "tenures",
            "ERR_TOO_MANY",
            format!("at most {MAX_TENURES} periods"),
        ));
    }
    let before = db::alumni::tenures(conn, &[owner]).await?;
    let last_year = chrono::Utc::now().year() + 1;
    let mut out = Vec::with_capacity(list.len());
    for t in list {
        let invalid = |what: &str| ServiceError::invalid("tenures", "ERR_INVALID", what.to_owned());
        let org_id: i64 = t
            .org_id
            .parse()
            .map_err(|_| invalid("org_id must be an org's id"))?;
        if db::orgs::find(conn, org_id).await?.is_none() {
            return Err(invalid("org_id must be an org's id"));
        }
        if !(1900..=last_year).contains(&t.from)
            || t.to.is_some_and(|to| to < t.from || to > last_year)
        {
            return Err(invalid(&format!(
                "years must be between 1900 and {last_year}, the end not before the start"
            )));
        }
        let division = short("tenures", &t.division, MAX_SHORT)?;
        let title = short("tenures", &t.title, MAX_SHORT)?;
        let kept =
            t.id.as_deref()
                .and_then(|id| id.parse::<i64>().ok())
                .and_then(|id| before.iter().find(|b| b.id == id));
        // A confirmation covers what the office saw: the org, the years and
        // the division; a changed period is a new claim.
        let same = kept.filter(|b| {
            b.org_id == org_id
                && b.year_from == t.from
                && b.year_to == t.to
                && b.division == division
        });
        out.push(AlumniTenure {
            id: kept.map(|b| b.id).unwrap_or_else(ids::next_id),
            account_id: owner,
            org_id,
            year_from: t.from,
            year_to: t.to,
            division,
            title,
            verified_by: same.and_then(|b| b.verified_by),
            verified_at: same.and_then(|b| b.verified_at),
        });
    }
    Ok(out)
}

fn set_now(p: &mut AlumniProfile, text: &str) -> ServiceResult<()> {
    let text = text.trim();
    if text.chars().count() > MAX_NOW {
        return Err(ServiceError::invalid(
            "now",
            "ERR_TOO_LONG",
            format!("at most {MAX_NOW} characters"),
        ));
    }
    p.now_text = text.to_owned();
    p.now_on = (!text.is_empty()).then(|| chrono::Utc::now().date_naive().to_string());
    Ok(())
}

/// The one-call "now" (近況) update, optionally with its audience.
pub async fn set_now_line(
    ctx: &Ctx,
    me: &LocalUser,
    text: &str,
    audience: Option<Vec<String>>,
) -> ServiceResult<ProfileView> {
    update(
        ctx,
        me,
        ProfilePatch {
            now: Some(text.to_owned()),
            audiences: audience.map(|a| BTreeMap::from([("now".to_owned(), a)])),
            ..ProfilePatch::default()
        },
    )
    .await
}

/// An org's office confirms (or withdraws its confirmation of) a period a
/// person states at that org.
pub async fn verify_tenure(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    tenure_id: i64,
    verified: bool,
) -> ServiceResult<TenureView> {
    super::memberships::require_office(ctx, org_id, me).await?;
    let mut conn = ctx.conn().await?;
    let Some(mut t) = db::alumni::find_tenure(&mut conn, tenure_id)
        .await?
        .filter(|t| t.org_id == org_id)
    else {
        return Err(ServiceError::not_found());
    };
    let (by, at) = if verified {
        (Some(me.account.id), Some(ids::now()))
    } else {
        (None, None)
    };
    db::alumni::verify_tenure(&mut conn, tenure_id, by, at).await?;
    t.verified_by = by;
    t.verified_at = at;
    Ok(tenure_view(&t))
}
