//! Alumni profiles: careers at orgs, now, skills and the rest, each field
//! with the audiences its owner chose (private by default). Reading goes
//! through [`audience::Reader`]; nothing here returns a field unchecked.
pub mod audience;
pub mod directory;
pub mod federated;
pub mod reminders;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use self::audience::Reader;
use super::remote::Outgoing;
use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::{AlumniProfile, AlumniTag, AlumniTenure, LocalUser, Membership};
use crate::db::{self, DbConn};
use crate::domain::{AlumniField, Audience, Industry, MembershipState, OpenTo, TagField};
use crate::ids;

/// At most this many values per tag field, and periods per person.
pub const MAX_TAGS: usize = 30;
pub const MAX_TENURES: usize = 30;
/// (Everyone, my orgs, and the members and office of each of up to 19 orgs.)
pub const MAX_AUDIENCES: usize = 40;
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
            // When it changed tells of hidden changes too: only to those
            // who see some field.
            updated_at: self
                .profiles
                .get(&owner)
                .filter(|_| !shown.is_empty())
                .map(|p| p.updated_at.and_utc()),
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

impl Loaded {
    /// Whether `text` (lower-case) is in a field of `owner` that account
    /// search matches and `reader` sees (the check of each result after the
    /// query).
    pub(crate) fn found_by(&self, reader: &Reader, owner: i64, text: &str) -> bool {
        let v = self.view(reader, owner);
        let has = |s: &str| s.to_lowercase().contains(text);
        v.title.as_deref().is_some_and(has)
            || v.current_org.as_deref().is_some_and(has)
            || v.location
                .as_ref()
                .is_some_and(|l| has(&l.city) || has(&l.region))
            || v.now.as_ref().is_some_and(|n| has(&n.text))
            || [&v.skills, &v.interests]
                .into_iter()
                .flatten()
                .flatten()
                .any(|t| has(t))
    }
}

/// A field's name as shown in Mastodon apps (the owner's language).
fn field_name(f: AlumniField, english: bool) -> &'static str {
    use AlumniField::*;
    match (f, english) {
        (Tenures, true) => "Career",
        (Tenures, false) => "経歴",
        (CurrentOrg, true) => "Works at",
        (CurrentOrg, false) => "現在の所属",
        (Title, true) => "Title",
        (Title, false) => "役職",
        (Industry, true) => "Industry",
        (Industry, false) => "業種",
        (Location, true) => "Location",
        (Location, false) => "所在地",
        (Skills, true) => "Skills",
        (Skills, false) => "スキル",
        (Interests, true) => "Interests",
        (Interests, false) => "関心",
        (Languages, true) => "Languages",
        (Languages, false) => "言語",
        (OpenTo, true) => "Open to",
        (OpenTo, false) => "歓迎",
        (Now, true) => "Now",
        (Now, false) => "近況",
    }
}

/// The public fields as (name, value) pairs, empty ones left out.
async fn public_pairs(
    conn: &mut DbConn<'_>,
    v: &ProfileView,
    english: bool,
) -> ServiceResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut push = |f: AlumniField, value: String| {
        if !value.trim().is_empty() {
            out.push((field_name(f, english).to_owned(), value));
        }
    };
    if let Some(list) = &v.tenures {
        let ids: Vec<i64> = list.iter().filter_map(|t| t.org_id.parse().ok()).collect();
        let orgs = db::accounts::find_many(conn, &ids).await?;
        let periods: Vec<String> = list
            .iter()
            .map(|t| {
                let name = orgs
                    .iter()
                    .find(|o| o.id.to_string() == t.org_id)
                    .map(|o| {
                        if o.display_name.is_empty() {
                            o.username.clone()
                        } else {
                            o.display_name.clone()
                        }
                    })
                    .unwrap_or_default();
                let years = match t.to {
                    Some(to) => format!("{}–{to}", t.from),
                    None => format!("{}–", t.from),
                };
                match t.division.as_str() {
                    "" => format!("{name} {years}"),
                    d => format!("{name} {years} ({d})"),
                }
            })
            .collect();
        push(AlumniField::Tenures, periods.join(", "));
    }
    if let Some(c) = &v.current_org {
        push(AlumniField::CurrentOrg, c.clone());
    }
    if let Some(t) = &v.title {
        push(AlumniField::Title, t.clone());
    }
    if let Some(Some(i)) = v.industry {
        push(AlumniField::Industry, i.as_str().replace('_', " "));
    }
    if let Some(l) = &v.location {
        let parts: Vec<&str> = [
            l.city.as_str(),
            l.region.as_str(),
            l.country.as_deref().unwrap_or(""),
        ]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
        push(AlumniField::Location, parts.join(", "));
    }
    for (f, list) in [
        (AlumniField::Skills, &v.skills),
        (AlumniField::Interests, &v.interests),
        (AlumniField::Languages, &v.languages),
    ] {
        if let Some(list) = list {
            push(f, list.join(", "));
        }
    }
    if let Some(list) = &v.open_to {
        let names: Vec<&str> = list.iter().map(|o| o.as_str()).collect();
        push(AlumniField::OpenTo, names.join(", "));
    }
    if let Some(n) = &v.now {
        push(AlumniField::Now, n.text.clone());
    }
    Ok(out)
}

/// The public alumni fields of these accounts, as stored with their
/// profiles (for account views).
pub async fn public_fields(
    conn: &mut DbConn<'_>,
    ids: &[i64],
) -> ServiceResult<HashMap<i64, Vec<(String, String)>>> {
    Ok(db::alumni::public_fields(conn, ids)
        .await?
        .into_iter()
        .map(|(id, json)| (id, serde_json::from_str(&json).unwrap_or_default()))
        .filter(|(_, v): &(i64, Vec<(String, String)>)| !v.is_empty())
        .collect())
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
            public_fields: "[]".into(),
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
    if values.len() > MAX_TAGS {
        return Err(ServiceError::invalid(
            name,
            "ERR_TOO_MANY",
            format!("at most {MAX_TAGS}"),
        ));
    }
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
    // What needs no database is checked before a transaction starts.
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
    let mut fields = Vec::new();
    for name in patch.audiences.iter().flat_map(|m| m.keys()) {
        fields.push(name.parse::<AlumniField>().map_err(|e| {
            ServiceError::invalid(
                "audiences",
                "ERR_INCLUSION",
                format!("{name:?} is not a field: {}", e.allowed),
            )
        })?);
    }
    let english = !me
        .user
        .locale
        .as_deref()
        .is_some_and(|l| l.starts_with("ja"));
    let now = ids::now();
    let mut conn = ctx.conn().await?;
    conn.transaction(async |tx| {
        // The row first: concurrent changes apply one after the other, each
        // on what the one before left.
        db::alumni::lock_profile(tx, owner, now).await?;
        let mut p = db::alumni::profiles(tx, &[owner])
            .await?
            .pop()
            .unwrap_or_else(|| AlumniProfile::empty(owner));
        let public_before = p.public_fields.clone();
        let orgs_before = federated::remote_releases(tx, owner).await?;
        apply(&mut p, &patch)?;
        let my_orgs: BTreeSet<i64> = db::memberships::verified_orgs(tx, owner)
            .await?
            .into_iter()
            .collect();
        let mut releases = Vec::new();
        for (field, list) in fields
            .iter()
            .zip(patch.audiences.iter().flat_map(|m| m.values()))
        {
            releases.push((*field, audiences(list, &my_orgs)?));
        }
        let tenures = match &patch.tenures {
            None => None,
            Some(list) => Some(tenure_rows(tx, owner, list).await?),
        };
        p.updated_at = now;
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
        // What everyone sees, kept beside the profile for account views.
        let public = Loaded::of(tx, &[owner])
            .await?
            .view(&Reader::anonymous(), owner);
        let pairs = public_pairs(tx, &public, english).await?;
        let json = serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into());
        db::alumni::set_public_fields(tx, owner, &json).await?;
        // What everyone sees changed: followers elsewhere get the actor
        // again (its profile fields), as after any profile change.
        if json != public_before {
            ctx.federate(
                tx,
                Outgoing::ProfileUpdated {
                    account: &me.account,
                },
            )
            .await?;
        }
        // What the people of an org elsewhere may see changed: its server
        // gets the new release (and nobody else does).
        for (org, after) in federated::remote_releases(tx, owner).await? {
            let unchanged = orgs_before
                .iter()
                .any(|(o, before)| o.id == org.id && *before == after);
            if !unchanged {
                ctx.federate(
                    tx,
                    Outgoing::AlumniReleased {
                        person: &me.account,
                        org: &org,
                    },
                )
                .await?;
            }
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    ctx.wake_delivery();
    mine(ctx, me).await
}

/// The plain fields of a change, checked, onto the stored profile.
fn apply(p: &mut AlumniProfile, patch: &ProfilePatch) -> ServiceResult<()> {
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
        set_now(p, v)?;
    }
    Ok(())
}

/// Who may see a field, checked: an org's members or office only of an org
/// one is a verified member of.
fn audiences(list: &[String], my_orgs: &BTreeSet<i64>) -> ServiceResult<Vec<Audience>> {
    if list.len() > MAX_AUDIENCES {
        return Err(ServiceError::invalid(
            "audiences",
            "ERR_TOO_MANY",
            format!("at most {MAX_AUDIENCES} per field"),
        ));
    }
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
    let mut out: Vec<AlumniTenure> = Vec::with_capacity(list.len());
    for t in list {
        let invalid = |what: &str| ServiceError::invalid("tenures", "ERR_INVALID", what.to_owned());
        let org_id: i64 = t
            .org_id
            .parse()
            .map_err(|_| invalid("org_id must be an org's id"))?;
        // An org here, or one elsewhere that we know (a person may be a
        // member of an org on another server).
        let is_org = db::accounts::find(conn, org_id)
            .await?
            .is_some_and(|(a, _)| a.actor_type == crate::domain::ActorType::Group);
        if !is_org {
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
        let taken = |id: i64| out.iter().any(|o: &AlumniTenure| o.id == id);
        let kept = match t.id.as_deref() {
            // An id given twice: the second is a new period.
            Some(id) => id
                .parse::<i64>()
                .ok()
                .filter(|id| !taken(*id))
                .and_then(|id| before.iter().find(|b| b.id == id)),
            // Without an id (a profile from another server), the same
            // period as before is the one stored.
            None => before.iter().find(|b| {
                !taken(b.id)
                    && b.org_id == org_id
                    && b.year_from == t.from
                    && b.year_to == t.to
                    && b.division == division
            }),
        };
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

/// A local person's membership is verified: the years and divisions they
/// stated on joining become periods at that org in their profile, unless
/// they state one there already or have released their periods to anyone
/// (a period they never saw must not appear to others). `confirmed`: the
/// years are the office's roster's.
pub(crate) async fn tenures_from_claim(
    conn: &mut DbConn<'_>,
    m: &Membership,
    confirmed: bool,
) -> ServiceResult<()> {
    if m.state != MembershipState::Verified {
        return Ok(());
    }
    let released = db::alumni::audiences(conn, &[m.account_id])
        .await?
        .iter()
        .any(|(_, f, _)| *f == AlumniField::Tenures);
    if released {
        return Ok(());
    }
    let year = |d: &Option<String>| {
        d.as_deref()
            .and_then(|d| d.get(..4))
            .and_then(|y| y.parse::<i32>().ok())
            .filter(|y| (1900..=chrono::Utc::now().year() + 1).contains(y))
    };
    let Some(from) = year(&m.tenure_from) else {
        return Ok(());
    };
    let to = year(&m.tenure_to);
    if to.is_some_and(|to| to < from) {
        // A claim that contradicts itself makes no period.
        return Ok(());
    }
    let local = db::accounts::find(conn, m.account_id)
        .await?
        .is_some_and(|(a, _)| a.local);
    let mut rows = db::alumni::tenures(conn, &[m.account_id]).await?;
    if !local || rows.iter().any(|t| t.org_id == m.org_id) {
        return Ok(());
    }
    let mut divisions = super::memberships::divisions_of(m);
    if divisions.is_empty() {
        divisions.push("");
    }
    for d in divisions
        .into_iter()
        .take(MAX_TENURES.saturating_sub(rows.len()))
    {
        rows.push(AlumniTenure {
            id: ids::next_id(),
            account_id: m.account_id,
            org_id: m.org_id,
            year_from: from,
            year_to: to,
            division: d.chars().take(MAX_SHORT).collect(),
            title: String::new(),
            verified_by: m.decided_by.filter(|_| confirmed),
            verified_at: m.decided_at.filter(|_| confirmed),
        });
    }
    db::alumni::replace_tenures(conn, m.account_id, &rows).await?;
    Ok(())
}

fn set_now(p: &mut AlumniProfile, text: &str) -> ServiceResult<()> {
    // Forms send line breaks as CR LF; a browser counts them as one.
    let text = text.replace("\r\n", "\n");
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
/// person states at that org. Returns only whether it is now confirmed: the
/// period itself may be hidden from the office.
pub async fn verify_tenure(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    tenure_id: i64,
    verified: bool,
) -> ServiceResult<bool> {
    super::memberships::require_office(ctx, org_id, me).await?;
    let mut conn = ctx.conn().await?;
    let (by, at) = if verified {
        (Some(me.account.id), Some(ids::now()))
    } else {
        (None, None)
    };
    if !db::alumni::verify_tenure(&mut conn, tenure_id, org_id, by, at).await? {
        return Err(ServiceError::not_found());
    }
    Ok(verified)
}
