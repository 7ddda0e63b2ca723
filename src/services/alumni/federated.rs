//! A member's profile between their server and an org's server elsewhere:
//! what the org's people may see ([`release_to`], sent by the member's
//! server), and storing what such a server sends ([`received`]) in the same
//! tables, with the org's own audiences, so the directory, search and every
//! other output treat it like a local member's profile.
//!
//! A remote person's stored values exist only while some audience holds
//! them: a field no source releases any more is emptied ([`forget_unreleased`]).
use std::collections::{BTreeMap, BTreeSet};

use super::audience::Reader;
use super::{Loaded, ProfilePatch, ProfileView, TenurePatch, apply, tag_rows, tenure_rows};
use crate::db::models::{Account, AlumniProfile};
use crate::db::{self, DbConn};
use crate::domain::{AccountId, AlumniField, Audience, OrgId, Reach, TagField};
use crate::ids;
use crate::services::{Ctx, ServiceError, ServiceResult};

/// What one org's server may hold of a member's profile: each field its
/// people may see, with whom among them ([`Reach`]), and its value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrgRelease {
    pub reach: BTreeMap<AlumniField, Vec<Reach>>,
    /// The owner's values of the fields in `reach` (others absent).
    pub values: ProfileView,
}

impl OrgRelease {
    pub fn is_empty(&self) -> bool {
        self.reach.is_empty()
    }
}

/// What `owner` releases to the people of `org` (public fields, and those
/// for its members or office), decided by [`Reader`] like every output;
/// `only_for`: just what that one reader of the org sees (a member who
/// fetches it, never the office's share unless they are its office).
pub async fn release_to(
    conn: &mut DbConn<'_>,
    owner: i64,
    org: i64,
    only_for: Option<&Reader>,
) -> ServiceResult<OrgRelease> {
    let loaded = Loaded::of(conn, &[owner]).await?;
    // Readers standing for "anyone", "a member of org" and "its office"
    // (account 0 is no one's: never the owner).
    let member = Reader {
        account_id: Some(0),
        member_of: BTreeSet::from([org]),
        ..Reader::default()
    }
    .in_directory(org, false);
    let office = Reader {
        account_id: Some(0),
        ..Reader::default()
    }
    .in_directory(org, true);
    let readers = [
        (Reach::Public, Reader::anonymous()),
        (Reach::Members, member),
        (Reach::Office, office),
    ];
    let mut reach: BTreeMap<AlumniField, Vec<Reach>> = BTreeMap::new();
    for (r, reader) in &readers {
        let view = loaded.view(reader, owner);
        for f in AlumniField::ALL {
            if shows(&view, *f) {
                reach.entry(*f).or_default().push(*r);
            }
        }
    }
    if let Some(reader) = only_for {
        let seen = loaded.view(reader, owner);
        reach.retain(|f, _| shows(&seen, *f));
    }
    // Released to everyone: that says it all.
    for list in reach.values_mut() {
        if list.contains(&Reach::Public) {
            *list = vec![Reach::Public];
        }
    }
    let all = loaded.view(
        &Reader {
            account_id: Some(owner),
            ..Reader::default()
        },
        owner,
    );
    let keep = |f: AlumniField| reach.contains_key(&f);
    let values = ProfileView {
        account_id: owner.to_string(),
        tenures: all.tenures.filter(|_| keep(AlumniField::Tenures)),
        current_org: all.current_org.filter(|_| keep(AlumniField::CurrentOrg)),
        title: all.title.filter(|_| keep(AlumniField::Title)),
        industry: all.industry.filter(|_| keep(AlumniField::Industry)),
        location: all.location.filter(|_| keep(AlumniField::Location)),
        skills: all.skills.filter(|_| keep(AlumniField::Skills)),
        interests: all.interests.filter(|_| keep(AlumniField::Interests)),
        languages: all.languages.filter(|_| keep(AlumniField::Languages)),
        open_to: all.open_to.filter(|_| keep(AlumniField::OpenTo)),
        now: all.now.filter(|_| keep(AlumniField::Now)),
        // Not sent: when a profile changed tells of hidden changes too (the
        // org's server dates what it receives).
        updated_at: None,
        audiences: None,
    };
    Ok(OrgRelease { reach, values })
}

/// Whether a view holds a field (it may be empty: shown, nothing in it).
fn shows(v: &ProfileView, f: AlumniField) -> bool {
    match f {
        AlumniField::Tenures => v.tenures.is_some(),
        AlumniField::CurrentOrg => v.current_org.is_some(),
        AlumniField::Title => v.title.is_some(),
        AlumniField::Industry => v.industry.is_some(),
        AlumniField::Location => v.location.is_some(),
        AlumniField::Skills => v.skills.is_some(),
        AlumniField::Interests => v.interests.is_some(),
        AlumniField::Languages => v.languages.is_some(),
        AlumniField::OpenTo => v.open_to.is_some(),
        AlumniField::Now => v.now.is_some(),
    }
}

/// The remote orgs `owner` is a verified member of, with what each may
/// hold now (to compare before and after a change).
pub(super) async fn remote_releases(
    conn: &mut DbConn<'_>,
    owner: i64,
) -> ServiceResult<Vec<(Account, OrgRelease)>> {
    let orgs = db::memberships::verified_orgs(conn, owner).await?;
    let mut out = Vec::new();
    for org in db::accounts::find_many(conn, &orgs).await? {
        if !org.local {
            let r = release_to(conn, owner, org.id, None).await?;
            out.push((org, r));
        }
    }
    Ok(out)
}

/// A release as another server sent it, read into our terms: tenures name
/// orgs already known here (others are dropped by the caller: nothing
/// received makes this server fetch).
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub reach: BTreeMap<AlumniField, Vec<Reach>>,
    /// Values of the released fields (`audiences` unused).
    pub values: ProfilePatch,
    /// The date of the "now" line, YYYY-MM-DD (another day is dropped).
    pub now_on: Option<String>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

/// Stores what `owner`'s server releases to the people of our `org`: the
/// fields it names get their values and `org`'s audiences; those it does
/// not name lose `org`'s audiences, and a field no audience holds any more
/// is emptied. Ignored unless `owner` is a verified member of `org` here.
pub async fn received(ctx: &Ctx, owner: &Account, org: i64, r: Received) -> ServiceResult<()> {
    if owner.local {
        return Err(ServiceError::BadRequest(
            "a profile of one of our people".into(),
        ));
    }
    let id = owner.id;
    let mut tag_sets = Vec::new();
    for (field, name, values) in [
        (TagField::Skill, "skills", &r.values.skills),
        (TagField::Interest, "interests", &r.values.interests),
        (TagField::Language, "languages", &r.values.languages),
        (TagField::OpenTo, "open_to", &r.values.open_to),
    ] {
        if let Some(values) = values {
            tag_sets.push((field, tag_rows(id, field, name, values)?));
        }
    }
    let now = ids::now();
    let mut conn = ctx.conn().await?;
    conn.transaction(async |tx| {
        if !db::memberships::is_verified_member(tx, OrgId(org), AccountId(id)).await? {
            tracing::info!(
                owner = id,
                org,
                "profile for an org they are not a member of; dropped"
            );
            return Ok(());
        }
        db::alumni::lock_profile(tx, id, now).await?;
        let mut p = db::alumni::profiles(tx, &[id])
            .await?
            .pop()
            .unwrap_or_else(|| AlumniProfile::empty(id));
        apply(&mut p, &r.values)?;
        if r.values.now.is_some() && !p.now_text.is_empty() {
            p.now_on = r
                .now_on
                .as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .map(|d| d.to_string());
        }
        let tenures = match &r.values.tenures {
            Some(list) => Some(tenure_rows(tx, id, list).await?),
            None => None,
        };
        // Never later than now: a sender's clock does not put its people
        // first in "recently updated".
        p.updated_at = r.updated_at.map_or(now, |t| t.min(now));
        db::alumni::upsert_profile(tx, &p).await?;
        for (field, rows) in &tag_sets {
            db::alumni::replace_tags(tx, id, *field, rows).await?;
        }
        if let Some(rows) = &tenures {
            db::alumni::replace_tenures(tx, id, rows).await?;
        }
        // This source speaks for `org`'s audiences and for "public"; what
        // other orgs' people may see stays as their sources said.
        let ours = [
            Audience::Public,
            Audience::Members(org),
            Audience::Office(org),
        ];
        let before = db::alumni::audiences(tx, &[id]).await?;
        for f in AlumniField::ALL {
            let mut list: Vec<Audience> = before
                .iter()
                .filter(|(_, g, a)| g == f && !ours.contains(a))
                .map(|(_, _, a)| *a)
                .collect();
            for reach in r.reach.get(f).into_iter().flatten() {
                let a = reach.audience(org);
                if !list.contains(&a) {
                    list.push(a);
                }
            }
            db::alumni::replace_audiences(tx, id, *f, &list).await?;
        }
        forget_unreleased(tx, id).await
    })
    .await
}

/// Empties the fields of a remote person that no audience holds (what their
/// server withdrew, or released to an org they left): no copy stays here.
pub(crate) async fn forget_unreleased(conn: &mut DbConn<'_>, owner: i64) -> ServiceResult<()> {
    let released: BTreeSet<AlumniField> = db::alumni::audiences(conn, &[owner])
        .await?
        .into_iter()
        .map(|(_, f, _)| f)
        .collect();
    let Some(mut p) = db::alumni::profiles(conn, &[owner]).await?.pop() else {
        return Ok(());
    };
    let gone = |f: AlumniField| !released.contains(&f);
    let blank = ProfilePatch {
        current_org: gone(AlumniField::CurrentOrg).then(String::new),
        title: gone(AlumniField::Title).then(String::new),
        industry: gone(AlumniField::Industry).then(String::new),
        location: gone(AlumniField::Location).then(super::Location::default),
        now: gone(AlumniField::Now).then(String::new),
        ..ProfilePatch::default()
    };
    apply(&mut p, &blank)?;
    if gone(AlumniField::Now) {
        p.now_on = None;
    }
    db::alumni::upsert_profile(conn, &p).await?;
    for (field, tags) in [
        (AlumniField::Skills, TagField::Skill),
        (AlumniField::Interests, TagField::Interest),
        (AlumniField::Languages, TagField::Language),
        (AlumniField::OpenTo, TagField::OpenTo),
    ] {
        if gone(field) {
            db::alumni::replace_tags(conn, owner, tags, &[]).await?;
        }
    }
    if gone(AlumniField::Tenures) {
        db::alumni::replace_tenures(conn, owner, &[]).await?;
    }
    Ok(())
}

/// A person's membership of `org` ended: what they released to its people
/// is withdrawn, and for someone from elsewhere forgotten.
pub(crate) async fn org_left(conn: &mut DbConn<'_>, person: i64, org: i64) -> ServiceResult<()> {
    db::alumni::drop_org_audiences(conn, person, org).await?;
    let local = db::accounts::find(conn, person)
        .await?
        .is_none_or(|(a, _)| a.local);
    if !local {
        // A member of none of our orgs any more: no source of theirs is
        // left to keep (or withdraw) even what was public.
        if db::memberships::verified_orgs(conn, person)
            .await?
            .is_empty()
        {
            for f in AlumniField::ALL {
                db::alumni::replace_audiences(conn, person, *f, &[]).await?;
            }
        }
        forget_unreleased(conn, person).await?;
    }
    Ok(())
}

/// A period as received, for [`tenure_rows`] (checked there like one typed
/// here).
pub fn tenure_patch(
    org_id: i64,
    from: i32,
    to: Option<i32>,
    division: &str,
    title: &str,
) -> TenurePatch {
    TenurePatch {
        id: None,
        org_id: org_id.to_string(),
        from,
        to,
        division: division.to_owned(),
        title: title.to_owned(),
    }
}
