//! Our actors, objects and activities as ActivityPub JSON, and where they live.
use serde_json::{Value, json};

use crate::db::models::{Account, Status};

pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
pub const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
pub const SECURITY_CONTEXT: &str = "https://w3id.org/security/v1";

/// Local URLs, derived from the base URL and usernames (never stored).
pub struct Urls<'a> {
    pub base: &'a str,
}

impl Urls<'_> {
    pub fn actor(&self, username: &str) -> String {
        format!("{}/users/{username}", self.base)
    }
    pub fn key_id(&self, username: &str) -> String {
        format!("{}#main-key", self.actor(username))
    }
    pub fn inbox(&self, username: &str) -> String {
        format!("{}/inbox", self.actor(username))
    }
    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.base)
    }
    pub fn outbox(&self, username: &str) -> String {
        format!("{}/outbox", self.actor(username))
    }
    pub fn followers(&self, username: &str) -> String {
        format!("{}/followers", self.actor(username))
    }
    pub fn following(&self, username: &str) -> String {
        format!("{}/following", self.actor(username))
    }
    pub fn status(&self, username: &str, id: i64) -> String {
        format!("{}/statuses/{id}", self.actor(username))
    }
    pub fn profile(&self, username: &str) -> String {
        format!("{}/@{username}", self.base)
    }
    /// The instance actor that signs fetches.
    pub fn instance_actor(&self) -> String {
        format!("{}/actor", self.base)
    }
    /// An activity id of ours: unique, under the actor.
    pub fn activity(&self, username: &str, kind: &str, id: i64) -> String {
        format!(
            "{}#{}/{id}",
            self.actor(username),
            kind.to_ascii_lowercase()
        )
    }
}

/// The ActivityPub id of an account (local ones are derived).
pub fn account_uri(urls: &Urls<'_>, a: &Account) -> String {
    if a.local {
        urls.actor(&a.username)
    } else {
        a.ap_id.clone().unwrap_or_default()
    }
}

/// The ActivityPub id of a status.
pub fn status_uri(urls: &Urls<'_>, author: &Account, s: &Status) -> String {
    if s.local {
        urls.status(&author.username, s.id)
    } else {
        s.uri.clone().unwrap_or_default()
    }
}

pub fn context() -> Value {
    json!([
        AS_CONTEXT,
        SECURITY_CONTEXT,
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "sensitive": "as:sensitive",
            "toot": "http://joinmastodon.org/ns#",
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable",
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "Hashtag": "as:Hashtag"
        }
    ])
}

/// A local person (or the instance actor) as an actor document.
pub fn actor(
    urls: &Urls<'_>,
    a: &Account,
    avatar: Option<String>,
    header: Option<String>,
) -> Value {
    let id = urls.actor(&a.username);
    let fields: Vec<Value> = serde_json::from_str::<Vec<Value>>(&a.fields)
        .unwrap_or_default()
        .into_iter()
        .map(|f| {
            json!({
                "type": "PropertyValue",
                "name": f["name"],
                "value": f["value"],
            })
        })
        .collect();
    let mut doc = json!({
        "@context": context(),
        "id": id,
        "type": a.actor_type,
        "preferredUsername": a.username,
        "name": a.display_name,
        "summary": a.note,
        "url": urls.profile(&a.username),
        "inbox": urls.inbox(&a.username),
        "outbox": urls.outbox(&a.username),
        "followers": urls.followers(&a.username),
        "following": urls.following(&a.username),
        "featured": format!("{id}/collections/featured"),
        "endpoints": { "sharedInbox": urls.shared_inbox() },
        "manuallyApprovesFollowers": a.locked,
        "discoverable": a.discoverable,
        "indexable": a.indexable,
        "published": format!("{}Z", a.created_at.format("%Y-%m-%dT%H:%M:%S")),
        "attachment": fields,
        "publicKey": {
            "id": urls.key_id(&a.username),
            "owner": id,
            "publicKeyPem": a.public_key_pem,
        },
    });
    if let Some(url) = avatar {
        doc["icon"] = json!({ "type": "Image", "url": url });
    }
    if let Some(url) = header {
        doc["image"] = json!({ "type": "Image", "url": url });
    }
    doc
}

/// Addressing of a status by visibility: (to, cc).
pub fn addressing(
    visibility: &str,
    followers: &str,
    mentioned: &[String],
) -> (Vec<String>, Vec<String>) {
    let mentioned = mentioned.to_vec();
    match visibility {
        "public" => (
            vec![PUBLIC.into()],
            [vec![followers.into()], mentioned].concat(),
        ),
        "unlisted" => (
            vec![followers.into()],
            [vec![PUBLIC.into()], mentioned].concat(),
        ),
        "private" => (vec![followers.into()], mentioned),
        _ => (mentioned, vec![]),
    }
}

/// What a Note needs beyond the status row.
pub struct NoteParts {
    pub author_uri: String,
    pub followers: String,
    pub in_reply_to: Option<String>,
    /// (actor URI, acct as written) of each mention.
    pub mentions: Vec<(String, String)>,
    pub tags: Vec<String>,
    pub tag_base: String,
}

pub fn note(uri: &str, url: &str, s: &Status, p: &NoteParts) -> Value {
    let mentioned: Vec<String> = p.mentions.iter().map(|(u, _)| u.clone()).collect();
    let (to, cc) = addressing(&s.visibility, &p.followers, &mentioned);
    let mut tag: Vec<Value> = p
        .mentions
        .iter()
        .map(|(href, name)| json!({ "type": "Mention", "href": href, "name": format!("@{name}") }))
        .collect();
    tag.extend(p.tags.iter().map(|t| {
        json!({ "type": "Hashtag", "href": format!("{}/{t}", p.tag_base), "name": format!("#{t}") })
    }));
    let mut note = json!({
        "id": uri,
        "type": "Note",
        "attributedTo": p.author_uri,
        "content": s.content,
        "to": to,
        "cc": cc,
        "url": url,
        "published": timestamp(&s.created_at),
        "sensitive": s.sensitive,
        "summary": if s.spoiler_text.is_empty() { Value::Null } else { Value::String(s.spoiler_text.clone()) },
        "inReplyTo": p.in_reply_to,
        "tag": tag,
    });
    if let Some(lang) = &s.language {
        note["contentMap"] = json!({ lang: s.content });
    }
    if let Some(e) = &s.edited_at {
        note["updated"] = Value::String(timestamp(e));
    }
    note
}

pub fn timestamp(t: &chrono::NaiveDateTime) -> String {
    format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// Wraps an object in an activity by `actor`, addressed like the object.
pub fn activity(id: &str, kind: &str, actor: &str, object: Value) -> Value {
    let (to, cc) = (object.get("to").cloned(), object.get("cc").cloned());
    let mut a = json!({
        "@context": context(),
        "id": id,
        "type": kind,
        "actor": actor,
        "object": object,
    });
    if let Some(to) = to {
        a["to"] = to;
    }
    if let Some(cc) = cc {
        a["cc"] = cc;
    }
    a
}
