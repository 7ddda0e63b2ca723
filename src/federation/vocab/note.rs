//! The objects we send: a post as a `Note` (a `Question` when it has a
//! poll), its tags and attachments, a poll vote, and an author's proof.
use serde::Serialize;
use serde_json::Value;

use super::Context;

/// A post of ours as other servers receive it (Mastodon's shape, with
/// FEP-1b12 `audience` for a post into an org).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    pub id: String,
    /// `Note`, or `Question` once a poll is attached.
    #[serde(rename = "type")]
    pub kind: super::ObjectKind,
    pub attributed_to: String,
    pub content: String,
    /// The content again under its language, when the author chose one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_map: Option<std::collections::BTreeMap<String, String>>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub url: String,
    pub published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    pub sensitive: bool,
    /// The content warning; `null` when there is none (as Mastodon sends).
    pub summary: Option<String>,
    pub in_reply_to: Option<String>,
    pub tag: Vec<Tag>,
    pub attachment: Vec<Document>,
    /// The org the post is addressed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Set on a members-only post (its `to` is the org's members collection).
    #[serde(rename = "tsunaguMembersOnly", skip_serializing_if = "Option::is_none")]
    pub members_only: Option<bool>,
    #[serde(flatten)]
    pub poll: Option<Question>,
}

impl Note {
    /// The JSON sent (and, with a proof attached, signed).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a Note always serialises")
    }
}

/// A mention or a hashtag in a Note's `tag`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum Tag {
    Mention { href: String, name: String },
    Hashtag { href: String, name: String },
}

/// An attachment as Mastodon sends it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    #[serde(rename = "type")]
    kind: &'static str,
    pub media_type: Option<String>,
    pub url: String,
    /// The description; `null` when there is none.
    pub name: Option<String>,
    pub blurhash: Option<String>,
    pub focal_point: [f64; 2],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
}

impl Document {
    pub fn new(url: String) -> Document {
        Document {
            kind: "Document",
            media_type: None,
            url,
            name: None,
            blurhash: None,
            focal_point: [0.0, 0.0],
            width: None,
            height: None,
        }
    }
}

/// What a `Question` adds to a Note: the options under `oneOf` (one choice)
/// or `anyOf` (several), each named and counted.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Question {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<PollOption>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<PollOption>>,
    pub end_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voters_count: Option<i64>,
    /// When the poll closed, once it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PollOption {
    #[serde(rename = "type")]
    kind: &'static str,
    pub name: String,
    pub replies: Replies,
}

#[derive(Debug, Clone, Serialize)]
pub struct Replies {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "totalItems")]
    pub total_items: i64,
}

impl PollOption {
    pub fn new(name: String, votes: i64) -> PollOption {
        PollOption {
            kind: "Note",
            name,
            replies: Replies {
                kind: "Collection",
                total_items: votes,
            },
        }
    }
}

/// A vote in a remote poll: a Note named by the option, replying to the
/// `Question`, to its author only (Mastodon's form).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PollVote {
    pub id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    pub name: String,
    pub attributed_to: String,
    pub in_reply_to: String,
    pub to: Vec<String>,
}

impl PollVote {
    pub fn new(id: String, name: String, voter: String, question: String, to: String) -> PollVote {
        PollVote {
            id,
            kind: "Note",
            name,
            attributed_to: voter,
            in_reply_to: question,
            to: vec![to],
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a vote always serialises")
    }
}

/// An author's proof on an object (FEP-8b32 `DataIntegrityProof`). Without
/// `proof_value` it is the configuration that is signed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataIntegrityProof {
    #[serde(rename = "type")]
    kind: &'static str,
    pub cryptosuite: &'static str,
    pub verification_method: String,
    pub proof_purpose: &'static str,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof_value: Option<String>,
}

impl DataIntegrityProof {
    pub fn new(cryptosuite: &'static str, key_id: &str, created: &str) -> DataIntegrityProof {
        DataIntegrityProof {
            kind: "DataIntegrityProof",
            cryptosuite,
            verification_method: key_id.to_owned(),
            proof_purpose: "assertionMethod",
            created: created.to_owned(),
            proof_value: None,
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a proof always serialises")
    }
}

/// NodeInfo's discovery document (`/.well-known/nodeinfo`).
#[derive(Debug, Clone, Serialize)]
pub struct NodeInfoLinks {
    pub links: Vec<NodeInfoLink>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeInfoLink {
    pub rel: String,
    pub href: String,
}

/// NodeInfo 2.0 / 2.1.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    pub version: String,
    pub software: NodeInfoSoftware,
    pub protocols: Vec<&'static str>,
    pub services: NodeInfoServices,
    pub open_registrations: bool,
    pub usage: NodeInfoUsage,
    pub metadata: NodeInfoMetadata,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeInfoSoftware {
    pub name: &'static str,
    pub version: &'static str,
    /// 2.1 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// 2.1 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeInfoServices {
    pub inbound: Vec<String>,
    pub outbound: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfoUsage {
    pub users: NodeInfoUsers,
    pub local_posts: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeInfoUsers {
    pub total: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfoMetadata {
    pub node_name: String,
    pub node_description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_flattens_into_its_note() {
        let note = Note {
            context: None,
            id: "https://a.example/s/1".into(),
            kind: super::super::ObjectKind::Question,
            attributed_to: "https://a.example/users/a".into(),
            content: "<p>where?</p>".into(),
            content_map: None,
            to: vec![],
            cc: vec![],
            url: "https://a.example/@a/1".into(),
            published: "2026-01-01T00:00:00Z".into(),
            updated: None,
            sensitive: false,
            summary: None,
            in_reply_to: None,
            tag: vec![Tag::Hashtag {
                href: "https://a.example/tags/x".into(),
                name: "#x".into(),
            }],
            attachment: vec![],
            audience: None,
            members_only: None,
            poll: Some(Question {
                one_of: Some(vec![PollOption::new("Tokyo".into(), 2)]),
                any_of: None,
                end_time: "2026-01-02T00:00:00Z".into(),
                voters_count: Some(2),
                closed: None,
            }),
        }
        .to_json();
        assert_eq!(note["type"], "Question");
        assert_eq!(note["oneOf"][0]["replies"]["totalItems"], 2);
        assert_eq!(note["tag"][0]["type"], "Hashtag");
        assert!(note["summary"].is_null() && note.get("anyOf").is_none());
        assert!(note.get("@context").is_none() && note.get("audience").is_none());
    }
}
