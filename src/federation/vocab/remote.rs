//! What other servers send us, read leniently into typed shapes: a field of
//! an unexpected shape reads as absent instead of refusing the document
//! (the fediverse disagrees on many small things), and lists are bounded.
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::ObjectKind;

/// Most ids read from one property (addressing, authors).
const MAX_IDS: usize = 200;
/// Most tags read from one Note.
const MAX_TAGS: usize = 50;

/// A field read leniently: anything not of the expected shape is its default.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(d: D) -> Result<T, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// The id an `id`-or-object value names: a link, or an embedded object's
/// `id` (or a Link's `href`).
pub fn id_of(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Object(o) => o
            .get("id")
            .or_else(|| o.get("href"))
            .and_then(Value::as_str),
        _ => None,
    }
}

/// The ids a property names: one link or object, or a list of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids(pub Vec<String>);

impl Ids {
    pub fn contains(&self, id: &str) -> bool {
        self.0.iter().any(|x| x == id)
    }

    /// The only id, when exactly one is named.
    pub fn single(&self) -> Option<&str> {
        match self.0.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    pub fn first(&self) -> Option<&str> {
        self.0.first().map(String::as_str)
    }
}

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let list = match &v {
            Value::Array(l) => l
                .iter()
                .take(MAX_IDS)
                .filter_map(id_of)
                .map(str::to_owned)
                .collect(),
            one => id_of(one).map(str::to_owned).into_iter().collect(),
        };
        Ok(Ids(list))
    }
}

/// One id (a link or an embedded object's id); a list or anything else
/// names none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkId(pub Option<String>);

impl<'de> Deserialize<'de> for LinkId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(LinkId(id_of(&v).map(str::to_owned)))
    }
}

/// A `url` as a link for people: a string, a `Link` object or a list of them
/// (Peertube, Lemmy); the first web address among them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebLink(pub Option<String>);

impl WebLink {
    pub fn of(v: &Value) -> WebLink {
        let candidates: Vec<&Value> = match v {
            Value::Array(l) => l.iter().take(16).collect(),
            one => vec![one],
        };
        WebLink(
            candidates
                .into_iter()
                .filter_map(id_of)
                .find(|u| crate::services::text::is_web_url(u))
                .map(str::to_owned),
        )
    }
}

impl<'de> Deserialize<'de> for WebLink {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(WebLink::of(&Value::deserialize(d)?))
    }
}

/// Who an activity or an object is addressed to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Addressing {
    pub to: Ids,
    pub cc: Ids,
    /// The group it is for (FEP-1b12).
    pub audience: Ids,
}

impl Addressing {
    /// The addressing of an activity or an object (none, if not an object).
    pub fn read(v: &Value) -> Addressing {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    /// Whether `id` is among `to` and `cc`.
    pub fn addressed_to(&self, id: &str) -> bool {
        self.to.contains(id) || self.cc.contains(id)
    }

    /// Whether the group `group_uri` is named: its `audience`, or in
    /// `to`/`cc` (a Friendica-style mention).
    pub fn names(&self, group_uri: &str) -> bool {
        self.audience.contains(group_uri) || self.addressed_to(group_uri)
    }
}

/// A mention or hashtag as sent; other kinds (emoji) are kept but unused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RemoteTag {
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub href: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub name: Option<String>,
}

/// `tag`: a list, or one object (GoToSocial sends a single tag so).
#[derive(Debug, Clone, Default)]
pub struct Tags(pub Vec<RemoteTag>);

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let read = |v: &Value| serde_json::from_value::<RemoteTag>(v.clone()).ok();
        Ok(Tags(match Value::deserialize(d)? {
            Value::Array(l) => l.iter().take(MAX_TAGS).filter_map(read).collect(),
            one @ Value::Object(_) => read(&one).into_iter().collect(),
            _ => Vec::new(),
        }))
    }
}

/// A post from another server: Mastodon's `Note` and `Question`, Lemmy's
/// `Page`, an `Article`. Read; checking it is the inbox's (`verify` apart
/// from reading, as Lemmy does).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoteNote {
    #[serde(deserialize_with = "lenient")]
    pub id: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub kind: Option<ObjectKind>,
    pub attributed_to: Ids,
    #[serde(deserialize_with = "lenient")]
    pub content: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub content_map: Option<serde_json::Map<String, Value>>,
    /// A Page's title; a poll vote's option.
    #[serde(deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub summary: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub sensitive: Option<bool>,
    pub in_reply_to: LinkId,
    #[serde(flatten)]
    pub addressing: Addressing,
    #[serde(deserialize_with = "lenient")]
    pub published: Option<String>,
    /// When it was last edited (Mastodon's and Lemmy's Updates carry it).
    #[serde(deserialize_with = "lenient")]
    pub updated: Option<String>,
    pub url: WebLink,
    pub tag: Tags,
    pub attachment: Documents,
    /// A `Question`'s options: one choice (`oneOf`) or several (`anyOf`).
    #[serde(deserialize_with = "lenient")]
    pub one_of: Option<Vec<RemoteOption>>,
    #[serde(deserialize_with = "lenient")]
    pub any_of: Option<Vec<RemoteOption>>,
    #[serde(deserialize_with = "lenient")]
    pub end_time: Option<String>,
    /// When the poll closed (a time), or `true` (Pleroma).
    pub closed: Value,
    #[serde(deserialize_with = "lenient")]
    pub voters_count: Option<i64>,
}

/// A poll option as sent: its name and its tally.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RemoteOption {
    #[serde(deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub replies: RemoteCount,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoteCount {
    #[serde(deserialize_with = "lenient")]
    pub total_items: Option<i64>,
}

/// An attachment as sent (`Document`, `Image`, `Video`, `Audio`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoteDocument {
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub kind: Option<String>,
    pub url: DocumentUrl,
    #[serde(deserialize_with = "lenient")]
    pub media_type: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub blurhash: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub focal_point: Vec<Value>,
    #[serde(deserialize_with = "lenient")]
    pub width: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    pub height: Option<u64>,
}

/// A document's `url`: a string, a Link (`href`), or a list of either, of
/// which the first that names one counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentUrl(pub Option<String>);

impl<'de> Deserialize<'de> for DocumentUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let href = |v: &Value| -> Option<String> {
            v.get("href")
                .and_then(Value::as_str)
                .or_else(|| v.as_str())
                .map(str::to_owned)
        };
        Ok(DocumentUrl(match Value::deserialize(d)? {
            Value::String(u) => Some(u),
            Value::Array(l) => l.iter().find_map(href),
            v => v.get("href").and_then(Value::as_str).map(str::to_owned),
        }))
    }
}

/// `attachment`: a list, or one object.
#[derive(Debug, Clone, Default)]
pub struct Documents(pub Vec<RemoteDocument>);

impl<'de> Deserialize<'de> for Documents {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let read = |v: &Value| serde_json::from_value::<RemoteDocument>(v.clone()).ok();
        Ok(Documents(match Value::deserialize(d)? {
            Value::Array(l) => l.iter().take(MAX_TAGS).filter_map(read).collect(),
            one @ Value::Object(_) => read(&one).into_iter().collect(),
            _ => Vec::new(),
        }))
    }
}

impl RemoteNote {
    /// Reads a Note out of a JSON object (anything else reads as empty).
    pub fn read(v: &Value) -> RemoteNote {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    /// By `actor_uri` alone, with an id on its origin (FEP-fe34; Mastodon
    /// CVE-2024-23832): only then may an embedded Note be trusted.
    pub fn owned_by(&self, actor_uri: &str) -> bool {
        self.id
            .as_deref()
            .is_some_and(|id| crate::services::text::same_origin(id, actor_uri))
            && self.attributed_to.0 == [actor_uri]
    }

    /// The actors it mentions (`Mention` tags' `href`).
    pub fn mentions(&self) -> impl Iterator<Item = &str> {
        self.tag
            .0
            .iter()
            .filter(|t| t.kind.as_deref() == Some("Mention"))
            .filter_map(|t| t.href.as_deref())
    }

    /// Its hashtags, lower-case without `#`.
    pub fn hashtags(&self) -> Vec<String> {
        self.tag
            .0
            .iter()
            .filter(|t| t.kind.as_deref() == Some("Hashtag"))
            .filter_map(|t| t.name.as_deref())
            .map(|n| n.trim_start_matches('#').to_lowercase())
            .filter(|n| !n.is_empty() && n.len() <= 100)
            .take(30)
            .collect()
    }

    /// The language it names first in `contentMap`.
    pub fn language(&self) -> Option<String> {
        self.content_map
            .as_ref()
            .and_then(|m| m.keys().next().cloned())
            .filter(|l| l.len() <= 16)
    }

    /// When it says it was published, if a valid time.
    pub fn published_at(&self) -> Option<chrono::NaiveDateTime> {
        time_of(self.published.as_deref())
    }

    pub fn updated_at(&self) -> Option<chrono::NaiveDateTime> {
        time_of(self.updated.as_deref())
    }
}

fn time_of(t: Option<&str>) -> Option<chrono::NaiveDateTime> {
    t.and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
        .map(|d| d.naive_utc())
}

/// An actor document from another server: a person, a group, a bot.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoteActor {
    #[serde(deserialize_with = "lenient")]
    pub id: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub preferred_username: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub summary: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub inbox: Option<String>,
    pub outbox: LinkId,
    pub followers: LinkId,
    pub url: WebLink,
    pub public_key: FirstKey,
    #[serde(deserialize_with = "lenient")]
    pub endpoints: RemoteEndpoints,
    pub icon: RemoteImage,
    pub image: RemoteImage,
    pub attachment: Fields,
    #[serde(deserialize_with = "lenient")]
    pub manually_approves_followers: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub discoverable: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub indexable: Option<bool>,
    /// Earlier accounts of the same person (a Move's proof).
    pub also_known_as: Ids,
    /// Our extension: the official orgs a club says recognise it.
    #[serde(rename = "tsunaguRecognizedBy")]
    pub recognized_by: Ids,
    /// Our extension: where an org lists the clubs it recognises.
    #[serde(rename = "tsunaguRecognized")]
    pub recognized: LinkId,
}

impl RemoteActor {
    pub fn read(v: &Value) -> RemoteActor {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoteEndpoints {
    #[serde(deserialize_with = "lenient")]
    pub shared_inbox: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoteKey {
    #[serde(deserialize_with = "lenient")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub owner: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub public_key_pem: Option<String>,
}

/// `publicKey`: one key, or a list of which the first counts.
#[derive(Debug, Clone, Default)]
pub struct FirstKey(pub RemoteKey);

impl<'de> Deserialize<'de> for FirstKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let first = match v {
            Value::Array(mut l) if !l.is_empty() => l.swap_remove(0),
            one => one,
        };
        Ok(FirstKey(serde_json::from_value(first).unwrap_or_default()))
    }
}

/// `icon`/`image`: an Image (or the first of a list); its `url`, a web
/// address, as a string or a Link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteImage(pub Option<String>);

impl<'de> Deserialize<'de> for RemoteImage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let image = match &v {
            Value::Array(l) => l.first().unwrap_or(&Value::Null),
            one => one,
        };
        let url = image
            .get("url")
            .and_then(id_of)
            .filter(|u| crate::services::text::is_web_url(u))
            .map(str::to_owned);
        Ok(RemoteImage(url))
    }
}

/// A profile field (`PropertyValue` in `attachment`); at most 16.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let text = |a: &Value, k: &str| {
            a.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(Fields(match &v {
            Value::Array(l) => l
                .iter()
                .filter(|a| a.get("type").and_then(Value::as_str) == Some("PropertyValue"))
                .take(16)
                .map(|a| (text(a, "name"), text(a, "value")))
                .collect(),
            _ => Vec::new(),
        }))
    }
}

/// A collection as sent: its listed items (ids or embedded objects).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoteCollection {
    #[serde(deserialize_with = "lenient")]
    pub ordered_items: Vec<Value>,
}

impl RemoteCollection {
    pub fn read(v: &Value) -> RemoteCollection {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    /// Whether `id` is among its items.
    pub fn lists(&self, id: &str) -> bool {
        self.ordered_items.iter().any(|i| id_of(i) == Some(id))
    }
}

/// An activity from another server, read leniently. Its `object` stays as
/// sent (a link or an embedded document) for the handler of its type to
/// read further: as a [`RemoteNote`], an actor, or another activity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoteActivity {
    #[serde(deserialize_with = "lenient")]
    pub id: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub kind: Option<String>,
    pub actor: LinkId,
    pub object: Value,
    pub target: LinkId,
    /// A Flag's comment, a Join's message.
    #[serde(deserialize_with = "lenient")]
    pub content: Option<String>,
    /// A moderator's reason (Lemmy's Lock, Block, removal).
    #[serde(deserialize_with = "lenient")]
    pub summary: Option<String>,
    /// When a ban ends (Lemmy: `endTime`, later `expires`).
    #[serde(alias = "expires", deserialize_with = "lenient")]
    pub end_time: Option<String>,
    /// Our membership protocol's claim (docs/federation.md).
    #[serde(rename = "tsunaguMembership")]
    pub membership: RemoteClaim,
    #[serde(flatten)]
    pub addressing: Addressing,
}

impl RemoteActivity {
    pub fn read(v: &Value) -> RemoteActivity {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    /// The object's id (a link, or an embedded object's id).
    pub fn object_id(&self) -> Option<&str> {
        id_of(&self.object)
    }

    /// The object read as an activity (an Undo's, an Accept's).
    pub fn embedded(&self) -> RemoteActivity {
        RemoteActivity::read(&self.object)
    }

    /// The type of the embedded object, as sent.
    pub fn object_kind(&self) -> Option<&str> {
        self.object.get("type").and_then(Value::as_str)
    }

    /// When a ban ends, if a valid time.
    pub fn ends_at(&self) -> Option<chrono::NaiveDateTime> {
        time_of(self.end_time.as_deref())
    }

    /// Every id `object` names (a Flag's account and posts): at most `max`.
    pub fn object_ids(&self, max: usize) -> Vec<&str> {
        match &self.object {
            Value::Array(list) => list.iter().take(max).filter_map(id_of).collect(),
            v => id_of(v).into_iter().collect(),
        }
    }
}

/// `tsunaguMembership` as received; each field read on its own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoteClaim {
    #[serde(deserialize_with = "lenient")]
    pub role: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub tenure_from: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub tenure_to: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub left_on: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub divisions: Vec<Value>,
    #[serde(deserialize_with = "lenient")]
    pub invite_code: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub consents: serde_json::Map<String, Value>,
    #[serde(deserialize_with = "lenient")]
    pub consent_wording_version: Option<String>,
}

/// An author's proof as received (FEP-8b32); checked in `proofs.rs`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoteProof {
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub cryptosuite: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub verification_method: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub proof_value: Option<String>,
}

impl RemoteProof {
    pub fn read(v: &Value) -> RemoteProof {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }
}

/// What an activity is about, for delivery order: the innermost `object`
/// (an Undo of a Like is about the liked post, a Create about its Note).
pub fn subject_of(activity: &Value) -> String {
    let mut cur = activity;
    loop {
        match cur.get("object") {
            Some(Value::String(id)) => return id.clone(),
            Some(inner @ Value::Object(o)) if o.contains_key("object") => cur = inner,
            Some(inner @ Value::Object(_)) => return id_of(inner).unwrap_or_default().to_owned(),
            _ => return id_of(cur).unwrap_or_default().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_note_is_read_leniently() {
        let n = RemoteNote::read(&json!({
            "id": "https://m.example/notes/1", "type": "Note",
            "attributedTo": [{"id": "https://m.example/users/a", "type": "Person"}],
            "content": 5, "sensitive": "yes", "summary": "cw",
            "inReplyTo": {"id": "https://x.example/1"},
            "to": "https://www.w3.org/ns/activitystreams#Public",
            "cc": ["https://m.example/users/a/followers", 7],
            "url": [{"type": "Link", "href": "javascript:x"}, {"href": "https://m.example/@a/1"}],
            "tag": {"type": "Hashtag", "name": "#Tokyo"},
            "contentMap": {"ja": "x"},
        }));
        assert!(n.owned_by("https://m.example/users/a"));
        assert!(!n.owned_by("https://m.example/users/b"));
        assert_eq!(n.content, None, "a number is no content");
        assert_eq!(n.sensitive, None);
        assert_eq!(n.in_reply_to.0.as_deref(), Some("https://x.example/1"));
        assert_eq!(n.addressing.cc.0, ["https://m.example/users/a/followers"]);
        assert_eq!(n.url.0.as_deref(), Some("https://m.example/@a/1"));
        assert_eq!(n.hashtags(), ["tokyo"]);
        assert_eq!(n.language().as_deref(), Some("ja"));
        // Not an object at all: an empty Note, owned by nobody.
        assert!(!RemoteNote::read(&json!("https://m.example/notes/1")).owned_by(""));
    }
}
