//! `Update{AlumniProfile}` from a member's server: read, checked, and stored
//! for the org it names (`services::alumni::federated::received`).
//! Everything in it is hostile until checked: it must be the sender's own
//! profile, on the sender's origin, for one of our orgs; values go through
//! the same limits as a local person's; periods name only orgs already
//! known here (nothing in it makes this server fetch).
use std::collections::BTreeMap;

use serde_json::Value;

use super::{a_uri, bad, local_by_uri};
use crate::db::{self, DbConn};
use crate::domain::{AlumniField, Reach};
use crate::federation::actors::{is_web_url, same_origin};
use crate::federation::vocab::AlumniProfileDoc;
use crate::services::alumni::federated::{Received, tenure_patch};
use crate::services::alumni::{Location, MAX_TENURES, ProfilePatch};
use crate::services::{Ctx, ServiceResult};

pub(super) async fn alumni_profile(
    ctx: &Ctx,
    actor: &crate::db::models::Account,
    object: &Value,
) -> ServiceResult<()> {
    let doc: AlumniProfileDoc =
        serde_json::from_value(object.clone()).map_err(|e| bad(format!("AlumniProfile: {e}")))?;
    let uri = a_uri(actor);
    if doc.attributed_to != uri {
        return Err(bad("AlumniProfile of another actor"));
    }
    if !is_web_url(&doc.id) || !same_origin(&doc.id, uri) {
        return Err(bad("AlumniProfile id not on its sender's origin"));
    }
    let mut conn = ctx.conn().await?;
    let Some(org) = local_by_uri(ctx, &mut conn, &doc.audience).await? else {
        return Err(bad("AlumniProfile for no org of ours"));
    };
    let received = read(&mut conn, ctx, doc).await?;
    drop(conn);
    crate::services::alumni::federated::received(ctx, actor, org.id, received).await
}

/// The document in our terms: the fields it releases, with their values.
async fn read(conn: &mut DbConn<'_>, ctx: &Ctx, doc: AlumniProfileDoc) -> ServiceResult<Received> {
    let mut reach: BTreeMap<AlumniField, Vec<Reach>> = BTreeMap::new();
    for (r, names) in [
        (Reach::Public, &doc.released_to.public),
        (Reach::Members, &doc.released_to.members),
        (Reach::Office, &doc.released_to.office),
    ] {
        // Names we do not know are another version's fields: skipped.
        for f in names.iter().filter_map(|n| AlumniField::parse(n)) {
            let list = reach.entry(f).or_default();
            if !list.contains(&r) {
                list.push(r);
            }
        }
    }
    let has = |f: AlumniField| reach.contains_key(&f);
    let tenures = match doc.tenures.filter(|_| has(AlumniField::Tenures)) {
        None if has(AlumniField::Tenures) => Some(Vec::new()),
        None => None,
        Some(list) if list.len() > MAX_TENURES => {
            return Err(bad(format!(
                "AlumniProfile: more than {MAX_TENURES} periods"
            )));
        }
        Some(list) => {
            let mut out = Vec::new();
            for t in list {
                // An org only if known here (ours, or one we store).
                let known = match local_by_uri(ctx, conn, &t.org).await? {
                    Some(a) => Some(a),
                    None => db::federation::account_by_ap_id(conn, &t.org).await?,
                };
                if let Some(org) = known.filter(|a| a.actor_type == crate::domain::ActorType::Group)
                {
                    out.push(tenure_patch(org.id, t.from, t.to, &t.division, &t.title));
                }
            }
            Some(out)
        }
    };
    let text = |f: AlumniField, v: Option<String>| has(f).then(|| v.unwrap_or_default());
    let list = |f: AlumniField, v: Option<Vec<String>>| has(f).then(|| v.unwrap_or_default());
    let (now, now_on) = match doc.now {
        Some(n) => (Some(n.content), n.published),
        None => (None, None),
    };
    let updated_at = doc
        .updated
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.naive_utc());
    Ok(Received {
        values: ProfilePatch {
            current_org: text(AlumniField::CurrentOrg, doc.works_for),
            title: text(AlumniField::Title, doc.job_title),
            industry: text(AlumniField::Industry, doc.industry),
            location: has(AlumniField::Location).then(|| {
                doc.location
                    .map(|l| Location {
                        city: l.city,
                        region: l.region,
                        country: l.country,
                    })
                    .unwrap_or_default()
            }),
            skills: list(AlumniField::Skills, doc.knows_about),
            interests: list(AlumniField::Interests, doc.interests),
            languages: list(AlumniField::Languages, doc.knows_language),
            open_to: list(AlumniField::OpenTo, doc.open_to),
            now: text(AlumniField::Now, now),
            tenures,
            audiences: None,
        },
        now_on: now_on.filter(|_| has(AlumniField::Now)),
        reach,
        updated_at,
    })
}
