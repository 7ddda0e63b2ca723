//! The ActivityPub vocabulary at the bottom of `federation/`: the activity
//! types we send and accept as an enum, an activity as a typed struct, and
//! the lenient shapes the fediverse sends (one value or a list, an object or
//! its id). Outgoing activities are built here and serialised by serde;
//! nothing else spells an activity's fields.
//!
//! What other servers send is read in `remote.rs` (`RemoteActivity`,
//! `RemoteNote`, `RemoteActor`, ...).
mod alumni;
mod note;
mod remote;

pub use alumni::{AlumniLocation, AlumniNow, AlumniProfileDoc, AlumniTenure, ReleasedTo};

pub use note::{
    DataIntegrityProof, Document, NodeInfo, NodeInfoLink, NodeInfoLinks, NodeInfoMetadata,
    NodeInfoServices, NodeInfoSoftware, NodeInfoUsage, NodeInfoUsers, Note, PollOption, PollVote,
    Question, Tag,
};
pub use remote::{
    Addressing, Ids, LinkId, RemoteActivity, RemoteActor, RemoteClaim, RemoteCollection,
    RemoteNote, RemoteProof, RemoteTag, Tags, WebLink, id_of, subject_of,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use super::objects::{AS_CONTEXT, SECURITY_CONTEXT};

/// Our JSON-LD `@context`: ActivityStreams, security, and the extensions our
/// documents use (Mastodon's and ours). The one definition.
pub fn context() -> Value {
    json!([AS_CONTEXT, SECURITY_CONTEXT, context_terms()])
}

/// The extension terms of [`context`], inline in every document (as
/// Mastodon does) and served alone at `/ns` for whoever reads them.
pub fn context_terms() -> Value {
    json!({
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "Hashtag": "as:Hashtag",
        "featured": { "@id": "toot:featured", "@type": "@id" },
        "blurhash": "toot:blurhash",
        "focalPoint": { "@container": "@list", "@id": "toot:focalPoint" },
        "votersCount": "toot:votersCount",
        "alsoKnownAs": { "@id": "as:alsoKnownAs", "@type": "@id" },
        "tsunagu": "urn:tsunagu:ns#",
        "tsunaguKind": "tsunagu:kind",
        "tsunaguMembers": { "@id": "tsunagu:members", "@type": "@id" },
        "tsunaguRecognized": { "@id": "tsunagu:recognized", "@type": "@id" },
        "tsunaguRecognizedBy": { "@id": "tsunagu:recognizedBy", "@type": "@id" },
        "tsunaguMembership": "tsunagu:membership",
        "tsunaguMembersOnly": "tsunagu:membersOnly",
        "AlumniProfile": "tsunagu:AlumniProfile",
        "tsunaguReleasedTo": { "@id": "tsunagu:releasedTo", "@type": "@json" },
        "jobTitle": "schema:jobTitle",
        "worksFor": "schema:worksFor",
        "knowsAbout": "schema:knowsAbout",
        "knowsLanguage": "schema:knowsLanguage",
        "tsunaguIndustry": "tsunagu:industry",
        "tsunaguLocation": { "@id": "tsunagu:location", "@type": "@json" },
        "tsunaguInterests": "tsunagu:interests",
        "tsunaguOpenTo": "tsunagu:openTo",
        "tsunaguNow": { "@id": "tsunagu:now", "@type": "@json" },
        "tsunaguTenures": { "@id": "tsunagu:tenures", "@type": "@json" }
    })
}

crate::text_enum! {
    /// Every activity type we send or accept. Others are stored, logged and
    /// dropped by the inbox.
    pub enum ActivityKind {
        Create => "Create",
        Update => "Update",
        Delete => "Delete",
        Follow => "Follow",
        Accept => "Accept",
        Reject => "Reject",
        Undo => "Undo",
        Like => "Like",
        Dislike => "Dislike",
        Announce => "Announce",
        Block => "Block",
        Flag => "Flag",
        Move => "Move",
        Join => "Join",
        Leave => "Leave",
        Add => "Add",
        Remove => "Remove",
        Lock => "Lock",
    }
}

crate::text_enum! {
    /// The object types we read: posts (Lemmy's `Page`, Mastodon's `Note`,
    /// `Question` for polls, `Article`, Mobilizon's `Event`), and actors.
    pub enum ObjectKind {
        Note => "Note",
        Question => "Question",
        Article => "Article",
        Page => "Page",
        Event => "Event",
        Person => "Person",
        Service => "Service",
        Application => "Application",
        Group => "Group",
        Organization => "Organization",
        AlumniProfile => "AlumniProfile",
    }
}

impl ObjectKind {
    /// Becomes a status here.
    pub fn is_post(self) -> bool {
        match self {
            ObjectKind::Note
            | ObjectKind::Question
            | ObjectKind::Article
            | ObjectKind::Page
            | ObjectKind::Event => true,
            ObjectKind::Person
            | ObjectKind::Service
            | ObjectKind::Application
            | ObjectKind::Group
            | ObjectKind::Organization
            | ObjectKind::AlumniProfile => false,
        }
    }

    /// The type of a JSON object, if it is one we read.
    pub fn of(object: &Value) -> Option<ObjectKind> {
        object
            .get("type")
            .and_then(Value::as_str)
            .and_then(ObjectKind::parse)
    }
}

/// The `@context` an activity carries: the plain ActivityStreams one, or our
/// full one (with the extensions a Note or actor uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    ActivityStreams,
    Full,
}

impl Serialize for Context {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Context::ActivityStreams => s.serialize_str(AS_CONTEXT),
            Context::Full => context().serialize(s),
        }
    }
}

/// An activity as we send it. `object` is a URI or an embedded document.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// Absent only in an embedded activity whose id we never learnt (an
    /// old follow's); sent as `null` then, as always.
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: ActivityKind,
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// The group a group's activity is about (FEP-1b12, as Lemmy sends it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    pub object: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A Flag's comment, a Join's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Our extension on Join and its answers: what the membership is.
    #[serde(rename = "tsunaguMembership", skip_serializing_if = "Option::is_none")]
    pub membership: Option<MembershipClaim>,
}

/// A membership as it travels (`tsunaguMembership`): the role and tenure a
/// person claims in a Join, or the org's answer with what it decided.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MembershipClaim {
    pub role: Option<crate::domain::Role>,
    pub tenure_from: Option<String>,
    pub tenure_to: Option<String>,
    pub left_on: Option<String>,
    #[serde(default)]
    pub divisions: Vec<String>,
    /// Only in a Join: the invite code the person was given, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<Option<String>>,
    /// Only in a Join: the person's consent per purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consents: Option<std::collections::BTreeMap<String, bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_wording_version: Option<String>,
}

impl Activity {
    /// An activity with the plain ActivityStreams context, addressed to no one yet.
    pub fn new(
        kind: ActivityKind,
        id: impl Into<String>,
        actor: impl Into<String>,
        object: impl Into<Value>,
    ) -> Activity {
        Activity {
            context: Some(Context::ActivityStreams),
            id: Some(id.into()),
            kind,
            actor: actor.into(),
            published: None,
            audience: None,
            to: Vec::new(),
            cc: Vec::new(),
            object: object.into(),
            target: None,
            content: None,
            membership: None,
        }
    }

    /// An embedded activity known by its id only if we kept it.
    pub fn with_id(mut self, id: Option<String>) -> Activity {
        self.id = id;
        self
    }

    pub fn membership(mut self, claim: MembershipClaim) -> Activity {
        self.membership = Some(claim);
        self
    }

    pub fn content(mut self, text: impl Into<String>) -> Activity {
        self.content = Some(text.into());
        self
    }

    /// The same, embedded in another activity (no `@context` of its own).
    pub fn embedded(mut self) -> Activity {
        self.context = None;
        self
    }

    pub fn with_context(mut self, context: Context) -> Activity {
        self.context = Some(context);
        self
    }

    pub fn to(mut self, to: impl IntoIterator<Item = impl Into<String>>) -> Activity {
        self.to = to.into_iter().map(Into::into).collect();
        self
    }

    pub fn cc(mut self, cc: impl IntoIterator<Item = impl Into<String>>) -> Activity {
        self.cc = cc.into_iter().map(Into::into).collect();
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Activity {
        self.target = Some(target.into());
        self
    }

    pub fn audience(mut self, group: impl Into<String>) -> Activity {
        self.audience = Some(group.into());
        self
    }

    pub fn published(mut self, at: &chrono::NaiveDateTime) -> Activity {
        self.published = Some(super::objects::timestamp(at));
        self
    }

    /// The JSON that is signed and sent.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("an activity always serialises")
    }
}

impl From<Activity> for Value {
    fn from(a: Activity) -> Value {
        a.to_json()
    }
}

/// An `OrderedCollection`: its size always, its items when we list them
/// (followers and the outbox admit to a number only).
#[derive(Debug, Clone, Serialize)]
pub struct OrderedCollection {
    #[serde(rename = "@context")]
    pub context: Context,
    pub id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "totalItems")]
    pub total_items: i64,
    #[serde(rename = "orderedItems", skip_serializing_if = "Option::is_none")]
    pub ordered_items: Option<Vec<Value>>,
}

impl OrderedCollection {
    /// A collection that gives its size only.
    pub fn counted(id: impl Into<String>, total: i64) -> OrderedCollection {
        OrderedCollection {
            context: Context::ActivityStreams,
            id: id.into(),
            kind: "OrderedCollection",
            total_items: total,
            ordered_items: None,
        }
    }

    /// A collection listing all its items.
    pub fn of(id: impl Into<String>, items: Vec<Value>) -> OrderedCollection {
        OrderedCollection {
            total_items: items.len() as i64,
            ordered_items: Some(items),
            ..OrderedCollection::counted(id, 0)
        }
    }

    pub fn with_context(mut self, context: Context) -> OrderedCollection {
        self.context = context;
        self
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a collection always serialises")
    }
}

/// An actor document as we serve it: a person, an org (`Group`), the
/// instance actor (`Application`). What only some have is optional.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// Absent when the actor is embedded (in an `Update`).
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: crate::domain::ActorType,
    pub preferred_username: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub inbox: String,
    pub outbox: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub following: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured: Option<String>,
    pub endpoints: Endpoints,
    pub manually_approves_followers: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discoverable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indexable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Vec<PropertyValue>>,
    pub public_key: PublicKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<Image>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// An org's own properties (a local org's `Group` only).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgProperties>,
}

/// What an org's `Group` document adds: its kind, its members collection
/// (the address of members-only posts), where the clubs it recognises are
/// listed, and the official orgs recognising it (each checkable against the
/// other's `tsunaguRecognized` collection).
#[derive(Debug, Clone, Serialize)]
pub struct OrgProperties {
    #[serde(rename = "tsunaguKind")]
    pub kind: crate::domain::OrgKind,
    #[serde(rename = "tsunaguMembers")]
    pub members: String,
    #[serde(rename = "tsunaguRecognized")]
    pub recognized: String,
    #[serde(rename = "tsunaguRecognizedBy")]
    pub recognized_by: Vec<String>,
}

impl Actor {
    /// The JSON served (and sent in an `Update`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("an actor always serialises")
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    pub shared_inbox: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub id: String,
    pub owner: String,
    pub public_key_pem: String,
}

/// A profile field (Mastodon's `PropertyValue`).
#[derive(Debug, Clone, Serialize)]
pub struct PropertyValue {
    #[serde(rename = "type")]
    kind: &'static str,
    pub name: Value,
    pub value: Value,
}

impl PropertyValue {
    pub fn new(name: Value, value: Value) -> PropertyValue {
        PropertyValue {
            kind: "PropertyValue",
            name,
            value,
        }
    }
}

/// An avatar or header.
#[derive(Debug, Clone, Serialize)]
pub struct Image {
    #[serde(rename = "type")]
    kind: &'static str,
    pub url: String,
}

impl Image {
    pub fn new(url: String) -> Image {
        Image { kind: "Image", url }
    }
}

/// What stands where a deleted object was.
#[derive(Debug, Clone, Serialize)]
pub struct Tombstone {
    pub id: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl Tombstone {
    pub fn new(id: impl Into<String>) -> Tombstone {
        Tombstone {
            id: id.into(),
            kind: "Tombstone",
        }
    }
}

impl From<Tombstone> for Value {
    fn from(t: Tombstone) -> Value {
        serde_json::to_value(t).expect("a tombstone always serialises")
    }
}

/// One value or a list of them (`"to": "x"` and `"to": ["x"]` alike).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape<T> {
            Many(Vec<T>),
            One(T),
            Nothing(()),
        }
        Ok(OneOrMany(match Shape::deserialize(d)? {
            Shape::Many(v) => v,
            Shape::One(v) => vec![v],
            Shape::Nothing(()) => Vec::new(),
        }))
    }
}

/// An object given by its id, or embedded (then its `id` is what counts).
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectOrLink {
    Link(String),
    Object(Value),
}

impl ObjectOrLink {
    /// The id: the link itself, or the embedded object's `id` (or `href`).
    pub fn id(&self) -> Option<&str> {
        match self {
            ObjectOrLink::Link(l) => Some(l),
            ObjectOrLink::Object(o) => o
                .get("id")
                .or_else(|| o.get("href"))
                .and_then(Value::as_str),
        }
    }
}

impl<'de> Deserialize<'de> for ObjectOrLink {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => ObjectOrLink::Link(s),
            v @ Value::Object(_) => ObjectOrLink::Object(v),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "expected an id or an object, got {other}"
                )));
            }
        })
    }
}

/// What every inbound activity has, read leniently: the fields the inbox
/// decides on before it looks at the object.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: Option<ObjectOrLink>,
    #[serde(default)]
    pub to: OneOrMany<String>,
    #[serde(default)]
    pub cc: OneOrMany<String>,
    pub object: Option<ObjectOrLink>,
}

impl Envelope {
    /// The activity type, if it is one we handle.
    pub fn activity_kind(&self) -> Option<ActivityKind> {
        ActivityKind::parse(&self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outgoing_activities_serialise_as_before() {
        let a = Activity::new(
            ActivityKind::Follow,
            "https://a.example/follows/1",
            "https://a.example/users/hanako",
            "https://b.example/users/bob",
        )
        .to(["https://b.example/users/bob"]);
        assert_eq!(
            a.to_json(),
            json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": "https://a.example/follows/1",
                "type": "Follow",
                "actor": "https://a.example/users/hanako",
                "to": ["https://b.example/users/bob"],
                "object": "https://b.example/users/bob",
            })
        );
        let undo = Activity::new(
            ActivityKind::Undo,
            "https://a.example/follows/1/undo",
            "https://a.example/users/hanako",
            a.clone().embedded(),
        );
        let v = undo.to_json();
        assert_eq!(v["object"]["type"], "Follow");
        assert!(v["object"].get("@context").is_none());
        let full = a.with_context(Context::Full).to_json();
        assert!(full["@context"].is_array(), "{full}");
    }

    #[test]
    fn what_the_fediverse_sends_is_read_leniently() {
        let e: Envelope = serde_json::from_value(json!({
            "id": "https://m.example/1", "type": "Like",
            "actor": {"id": "https://m.example/users/x", "type": "Person"},
            "to": "https://www.w3.org/ns/activitystreams#Public",
            "object": "https://a.example/statuses/1",
        }))
        .unwrap();
        assert_eq!(e.activity_kind(), Some(ActivityKind::Like));
        assert_eq!(e.actor.unwrap().id(), Some("https://m.example/users/x"));
        assert_eq!(e.to.0, ["https://www.w3.org/ns/activitystreams#Public"]);
        assert!(e.cc.0.is_empty());
        assert_eq!(e.object.unwrap().id(), Some("https://a.example/statuses/1"));
        // A number is neither an id nor an object: refused, not guessed at.
        assert!(serde_json::from_value::<Envelope>(json!({"type": "Like", "object": 5})).is_err());
        let odd: Envelope =
            serde_json::from_value(json!({"type": "EmojiReact", "to": null})).unwrap();
        assert_eq!(odd.activity_kind(), None);
        assert!(odd.to.0.is_empty());
    }
}
