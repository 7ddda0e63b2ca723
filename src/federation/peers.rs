//! What software our peers run, where it changes what we send: Lemmy takes
//! a group's post only as `Announce{Create{Note}}` (it answers 400 to an
//! `Announce` of a Note), microblogs (Mastodon and the like) read only
//! `Announce{Note}`; to others, and to peers we know nothing of, both go.
use serde_json::Value;
use url::Url;

use super::actors::same_origin;
use super::delivery::authority;
use crate::db;
use crate::services::{Ctx, ServiceResult};

/// Which forms of a group's `Announce` of a post a peer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnounceForms {
    /// `Announce{Create{Note}}` only (Lemmy).
    Wrapped,
    /// `Announce{Note}` only (microblogs).
    Plain,
    Both,
}

impl AnnounceForms {
    /// From the software name a peer's NodeInfo gives.
    pub fn of(software: Option<&str>) -> AnnounceForms {
        match software {
            Some("lemmy") => AnnounceForms::Wrapped,
            Some(
                "mastodon" | "gotosocial" | "misskey" | "sharkey" | "pleroma" | "akkoma"
                | "firefish" | "iceshrimp" | "hollo" | "snac" | "honk",
            ) => AnnounceForms::Plain,
            _ => AnnounceForms::Both,
        }
    }

    pub fn takes_plain(self) -> bool {
        self != AnnounceForms::Wrapped
    }

    pub fn takes_wrapped(self) -> bool {
        self != AnnounceForms::Plain
    }
}

/// How long what a peer runs is taken as known.
const RECHECK: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// The forms each inbox takes, by what its host runs.
pub async fn forms_for(
    conn: &mut db::DbConn<'_>,
    inboxes: &[String],
) -> ServiceResult<Vec<AnnounceForms>> {
    let hosts: Vec<Option<String>> = inboxes
        .iter()
        .map(|i| Url::parse(i).ok().map(|u| authority(&u)))
        .collect();
    let mut wanted: Vec<String> = hosts.iter().flatten().cloned().collect();
    wanted.sort();
    wanted.dedup();
    let known: std::collections::HashMap<String, String> =
        db::federation::peer_software(conn, &wanted)
            .await?
            .into_iter()
            .collect();
    Ok(hosts
        .iter()
        .map(|h| AnnounceForms::of(h.as_ref().and_then(|h| known.get(h)).map(String::as_str)))
        .collect())
}

/// Looks up what `actor_uri`'s server runs (its NodeInfo), unless looked up
/// in the last week. Called when a peer's account follows one of our orgs;
/// a server without a readable NodeInfo is remembered as unknown.
pub async fn learn(ctx: &Ctx, actor_uri: &str) -> ServiceResult<()> {
    let Ok(origin) = Url::parse(actor_uri) else {
        return Ok(());
    };
    let host = authority(&origin);
    let mut conn = ctx.conn().await?;
    if db::federation::peer_checked_at(&mut conn, &host)
        .await?
        .is_some_and(|at| crate::ids::now() - at < RECHECK)
    {
        return Ok(());
    }
    drop(conn);
    let (software, version) = nodeinfo(ctx, &origin).await.unwrap_or_default();
    tracing::debug!(host, software, version, "peer software");
    let mut conn = ctx.conn().await?;
    db::federation::set_peer_software(&mut conn, &host, &software, &version, crate::ids::now())
        .await?;
    Ok(())
}

/// Software name and version from the NodeInfo 2.x the origin links from
/// `/.well-known/nodeinfo` (the document on the same origin).
async fn nodeinfo(ctx: &Ctx, origin: &Url) -> Option<(String, String)> {
    let client = &super::rt(ctx).client;
    let get = async |url: &Url| -> Option<Value> {
        let body = client.get(url, "application/json", None).await.ok()?;
        serde_json::from_slice(&body).ok()
    };
    let well_known = origin.join("/.well-known/nodeinfo").ok()?;
    let links = get(&well_known).await?;
    let href = links
        .get("links")?
        .as_array()?
        .iter()
        .take(10)
        .filter(|l| {
            l.get("rel")
                .and_then(Value::as_str)
                .is_some_and(|r| r.starts_with("http://nodeinfo.diaspora.software/ns/schema/2."))
        })
        .find_map(|l| l.get("href").and_then(Value::as_str))
        .filter(|h| same_origin(h, origin.as_str()))?;
    let doc = get(&Url::parse(href).ok()?).await?;
    let software = doc.get("software")?;
    let text = |k: &str| -> String {
        software
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .chars()
            .take(64)
            .collect()
    };
    Some((text("name").to_ascii_lowercase(), text("version")))
}

#[cfg(test)]
mod tests {
    use super::AnnounceForms;

    #[test]
    fn lemmy_takes_the_wrapped_form_microblogs_the_plain_one() {
        assert_eq!(AnnounceForms::of(Some("lemmy")), AnnounceForms::Wrapped);
        assert_eq!(AnnounceForms::of(Some("mastodon")), AnnounceForms::Plain);
        assert_eq!(AnnounceForms::of(Some("mbin")), AnnounceForms::Both);
        assert_eq!(AnnounceForms::of(None), AnnounceForms::Both);
        assert!(!AnnounceForms::Wrapped.takes_plain());
        assert!(!AnnounceForms::Plain.takes_wrapped());
    }
}
