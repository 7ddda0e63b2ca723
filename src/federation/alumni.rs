//! Alumni profiles for the people of an org elsewhere ([`AlumniProfileDoc`]):
//! built from what `services::alumni::federated` decides they may see,
//! served only to a fetch signed by the org or one of its members, and sent
//! in `Update` to the org's server only. Reading one back is
//! `inbox::alumni`.
use serde_json::Value;

use super::objects::{self, Urls};
use super::vocab::{
    Activity, ActivityKind, AlumniLocation, AlumniNow, AlumniProfileDoc, AlumniTenure, Context,
    ReleasedTo,
};
use super::{delivery, serve};
use crate::db::models::Account;
use crate::db::{self, DbConn};
use crate::domain::{AccountId, OrgId, Reach};
use crate::ids;
use crate::services::alumni::audience::Reader;
use crate::services::alumni::federated::{self, OrgRelease};
use crate::services::{Ctx, ServiceError, ServiceResult};

/// `/users/NAME/alumni/ORG_ID`: one person's profile for one org's people.
pub fn object_id(urls: &Urls<'_>, person: &Account, org_id: i64) -> String {
    format!("{}/alumni/{org_id}", urls.actor(&person.username))
}

/// The document of what `person` releases to the people of `org` (all of
/// it for the org's server; `only_for`: what that one member sees).
pub async fn document(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    person: &Account,
    org: &Account,
    only_for: Option<&Reader>,
) -> ServiceResult<AlumniProfileDoc> {
    let release = federated::release_to(conn, person.id, org.id, only_for).await?;
    let base = ctx.base_url();
    let urls = Urls { base: &base };
    let mut doc = shell(&urls, person, org);
    fill(conn, &urls, &mut doc, release).await?;
    doc.context = Some(Context::Full);
    Ok(doc)
}

/// The document with no fields: everything withdrawn.
fn shell(urls: &Urls<'_>, person: &Account, org: &Account) -> AlumniProfileDoc {
    AlumniProfileDoc {
        id: object_id(urls, person, org.id),
        kind: "AlumniProfile".into(),
        attributed_to: urls.actor(&person.username),
        audience: objects::account_uri(urls, org),
        ..AlumniProfileDoc::default()
    }
}

async fn fill(
    conn: &mut DbConn<'_>,
    urls: &Urls<'_>,
    doc: &mut AlumniProfileDoc,
    release: OrgRelease,
) -> ServiceResult<()> {
    let mut to = ReleasedTo::default();
    for (field, reach) in &release.reach {
        for r in reach {
            let list = match r {
                Reach::Public => &mut to.public,
                Reach::Members => &mut to.members,
                Reach::Office => &mut to.office,
            };
            list.push(field.as_str().to_owned());
        }
    }
    doc.released_to = to;
    let v = release.values;
    if let Some(list) = v.tenures {
        let ids: Vec<i64> = list.iter().filter_map(|t| t.org_id.parse().ok()).collect();
        let orgs = db::accounts::find_many(conn, &ids).await?;
        doc.tenures = Some(
            list.into_iter()
                .filter_map(|t| {
                    let org = orgs.iter().find(|o| o.id.to_string() == t.org_id)?;
                    Some(AlumniTenure {
                        org: objects::account_uri(urls, org),
                        from: t.from,
                        to: t.to,
                        division: t.division,
                        title: t.title,
                    })
                })
                .collect(),
        );
    }
    doc.updated = v.updated_at.map(|t| objects::timestamp(&t.naive_utc()));
    doc.job_title = v.title;
    doc.works_for = v.current_org;
    doc.industry = v
        .industry
        .map(|i| i.map(|i| i.as_str().to_owned()).unwrap_or_default());
    doc.location = v.location.map(|l| AlumniLocation {
        city: l.city,
        region: l.region,
        country: l.country,
    });
    doc.knows_about = v.skills;
    doc.interests = v.interests;
    doc.knows_language = v.languages;
    doc.open_to = v
        .open_to
        .map(|l| l.iter().map(|o| o.as_str().to_owned()).collect());
    doc.now = v.now.map(|n| AlumniNow {
        content: n.text,
        published: n.date,
    });
    Ok(())
}

/// A signed fetch of `/users/NAME/alumni/ORG_ID`: the org itself (or, for
/// an org elsewhere, its server's instance actor) reads all it may hold; a
/// verified member of it, what that member sees (never the office's share
/// unless they are its office); anyone else gets 404, as if it did not
/// exist.
pub async fn serve(
    ctx: &Ctx,
    name: &str,
    org_id: i64,
    signer: Option<&Account>,
) -> ServiceResult<Value> {
    let person = serve::local_account(ctx, name).await?;
    let Some(who) = signer else {
        return Err(ServiceError::not_found());
    };
    let mut conn = ctx.conn().await?;
    let Some((org, _)) = db::accounts::find(&mut conn, org_id).await? else {
        return Err(ServiceError::not_found());
    };
    if !db::memberships::is_verified_member(&mut conn, OrgId(org_id), AccountId(person.id)).await? {
        return Err(ServiceError::not_found());
    }
    let member =
        db::memberships::is_verified_member(&mut conn, OrgId(org_id), AccountId(who.id)).await?;
    let whole = who.id == org.id
        || who.id == person.id
        || (!member && serve::members_only_reader(&mut conn, org_id, who).await?);
    let reader = match (whole, member) {
        (true, _) => None,
        (false, true) => Some(
            Reader::of_account(&mut conn, who.id)
                .await?
                .in_directory(org_id, false),
        ),
        (false, false) => return Err(ServiceError::not_found()),
    };
    let doc = document(ctx, &mut conn, &person, &org, reader.as_ref()).await?;
    serde_json::to_value(doc).map_err(|e| ServiceError::Internal(e.into()))
}

/// Sends what `person` now releases to the people of a remote `org` to its
/// server (only there), in `Update`. Earlier such activities still stored
/// here take the new body: no older copy of a withdrawn field stays.
pub async fn released(
    ctx: &Ctx,
    tx: &mut DbConn<'_>,
    person: &Account,
    org: &Account,
) -> ServiceResult<()> {
    if org.local {
        // Its directory is here: nothing to send.
        return Ok(());
    }
    let doc = document(ctx, tx, person, org, None).await?;
    send(ctx, tx, person, org, doc).await
}

/// Our person left a remote org: activities still stored for it lose every
/// field (the org's server forgets them on the `Leave`).
pub async fn withdrawn(
    ctx: &Ctx,
    tx: &mut DbConn<'_>,
    person: &Account,
    org: &Account,
) -> ServiceResult<()> {
    let base = ctx.base_url();
    let doc = shell(&Urls { base: &base }, person, org);
    let (prefix, _, body) = update_of(&base, person, org, doc);
    db::federation::rewrite_outbound(tx, person.id, &prefix, &body.to_string()).await?;
    Ok(())
}

async fn send(
    ctx: &Ctx,
    tx: &mut DbConn<'_>,
    person: &Account,
    org: &Account,
    doc: AlumniProfileDoc,
) -> ServiceResult<()> {
    let base = ctx.base_url();
    let (prefix, id, body) = update_of(&base, person, org, doc);
    db::federation::rewrite_outbound(tx, person.id, &prefix, &body.to_string()).await?;
    delivery::enqueue(tx, &base, person, &id, &body, org.inbox_url.clone()).await?;
    Ok(())
}

/// `Update{AlumniProfile}` to the org: (the prefix of such activities' ids
/// for this person and org, this one's id, the activity).
fn update_of(
    base: &str,
    person: &Account,
    org: &Account,
    mut doc: AlumniProfileDoc,
) -> (String, String, Value) {
    let urls = Urls { base };
    let kind = format!("alumni-{}", org.id);
    let id = urls.activity(&person.username, &kind, ids::next_id());
    let prefix = format!("{}#{kind}/", urls.actor(&person.username));
    doc.context = None;
    let org_uri = org.ap_id.clone().unwrap_or_default();
    let object = serde_json::to_value(doc).expect("a document of ours always serialises");
    let activity = Activity::new(
        ActivityKind::Update,
        &id,
        urls.actor(&person.username),
        object,
    )
    .with_context(Context::Full)
    .to([org_uri])
    .to_json();
    (prefix, id, activity)
}
