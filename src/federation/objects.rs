//! Our actors, objects and activities as ActivityPub JSON, and where they live.
use super::vocab::{
    Actor, Context, Document, Endpoints, Image, Note, ObjectKind, PollOption, PropertyValue,
    PublicKey, Question, RemoteNote, Tag,
};
use crate::domain::{MediaKind, Visibility};
use serde_json::Value;

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

pub use super::vocab::context;

/// A local person (or the instance actor) as an actor document.
pub fn actor(
    urls: &Urls<'_>,
    a: &Account,
    avatar: Option<String>,
    header: Option<String>,
) -> Actor {
    let id = urls.actor(&a.username);
    let fields: Vec<PropertyValue> = crate::services::accounts::profile_fields(a)
        .into_iter()
        // A value is HTML to other servers (Mastodon links URLs in it).
        .map(|f| {
            PropertyValue::new(
                f.name.into(),
                crate::services::accounts::field_value_html(&f.value).into(),
            )
        })
        .collect();
    Actor {
        context: Some(Context::Full),
        id: id.clone(),
        kind: a.actor_type,
        preferred_username: a.username.clone(),
        name: a.display_name.clone(),
        summary: Some(a.note.clone()),
        url: Some(urls.profile(&a.username)),
        inbox: urls.inbox(&a.username),
        outbox: urls.outbox(&a.username),
        followers: Some(urls.followers(&a.username)),
        following: Some(urls.following(&a.username)),
        featured: Some(format!("{id}/collections/featured")),
        endpoints: Endpoints {
            shared_inbox: urls.shared_inbox(),
        },
        manually_approves_followers: a.locked,
        discoverable: Some(a.discoverable),
        indexable: Some(a.indexable),
        published: Some(timestamp(&a.created_at)),
        attachment: Some(fields),
        public_key: PublicKey {
            id: urls.key_id(&a.username),
            owner: id,
            public_key_pem: a.public_key_pem.clone(),
        },
        icon: avatar.map(Image::new),
        image: header.map(Image::new),
        org: None,
    }
}

/// Addressing of a status by visibility: (to, cc).
pub fn addressing(
    visibility: Visibility,
    followers: &str,
    mentioned: &[String],
) -> (Vec<String>, Vec<String>) {
    let mentioned = mentioned.to_vec();
    match visibility {
        Visibility::Public => (
            vec![PUBLIC.into()],
            [vec![followers.into()], mentioned].concat(),
        ),
        Visibility::Unlisted => (
            vec![followers.into()],
            [vec![PUBLIC.into()], mentioned].concat(),
        ),
        Visibility::Private => (vec![followers.into()], mentioned),
        // Members-only posts are re-addressed to the org's members by `note`.
        Visibility::Direct | Visibility::Members => (mentioned, vec![]),
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
    /// The server's base URL (hashtag pages are under `/tags/`).
    pub tag_base: String,
    /// The group (org) the post is addressed to (FEP-1b12 `audience`).
    pub audience: Option<String>,
}

/// The Note of a local status, without attachments and poll (`outbox`
/// adds them from their rows).
pub fn note(uri: &str, url: &str, s: &Status, p: &NoteParts) -> Note {
    let mentioned: Vec<String> = p.mentions.iter().map(|(u, _)| u.clone()).collect();
    let (mut to, mut cc) = addressing(s.visibility, &p.followers, &mentioned);
    let members_only = s.visibility == Visibility::Members;
    if let Some(group) = &p.audience {
        if members_only {
            // Members only: addressed to the group's members, nobody else.
            to = vec![super::outbox::members_collection(group)];
            cc = vec![];
        } else if !to.contains(group) && !cc.contains(group) {
            cc.push(group.clone());
        }
    }
    let mut tag: Vec<Tag> = p
        .mentions
        .iter()
        .map(|(href, name)| Tag::Mention {
            href: href.clone(),
            name: format!("@{name}"),
        })
        .collect();
    tag.extend(p.tags.iter().map(|t| Tag::Hashtag {
        href: crate::services::text::tag_url(&p.tag_base, t),
        name: format!("#{t}"),
    }));
    Note {
        context: None,
        id: uri.to_owned(),
        kind: ObjectKind::Note,
        attributed_to: p.author_uri.clone(),
        content: s.content.clone(),
        content_map: s
            .language
            .as_ref()
            .map(|lang| [(lang.clone(), s.content.clone())].into()),
        to,
        cc,
        url: url.to_owned(),
        published: timestamp(&s.created_at),
        updated: s.edited_at.as_ref().map(timestamp),
        sensitive: s.sensitive,
        summary: Some(s.spoiler_text.clone()).filter(|t| !t.is_empty()),
        in_reply_to: p.in_reply_to.clone(),
        tag,
        attachment: vec![],
        audience: p.audience.clone(),
        members_only: (p.audience.is_some() && members_only).then_some(true),
        poll: None,
    }
}

pub fn timestamp(t: &chrono::NaiveDateTime) -> String {
    format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// One attachment of a Note (a `Document`, as Mastodon sends them).
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub kind: MediaKind,
    pub url: String,
    pub media_type: Option<String>,
    pub description: String,
    pub blurhash: Option<String>,
    pub focus: (f64, f64),
    pub size: Option<(u64, u64)>,
}

pub fn document(a: &Attachment) -> Document {
    let mut d = Document::new(a.url.clone());
    d.media_type = a.media_type.clone();
    d.name = Some(a.description.clone()).filter(|d| !d.is_empty());
    d.blurhash = a.blurhash.clone();
    d.focal_point = [a.focus.0, a.focus.1];
    d.width = a.size.map(|(w, _)| w);
    d.height = a.size.map(|(_, h)| h);
    d
}

/// Most attachments read from a remote post.
pub const MAX_REMOTE_ATTACHMENTS: usize = 8;

/// The media of a remote post: only http(s) URLs; media types are taken as
/// hints for the kind, never as a reason to fetch or serve anything.
pub fn parse_attachments(object: &Value) -> Vec<Attachment> {
    attachments_of(&RemoteNote::read(object))
}

pub fn attachments_of(note: &RemoteNote) -> Vec<Attachment> {
    note.attachment
        .0
        .iter()
        .filter(|a| {
            matches!(
                a.kind.as_deref(),
                Some("Document" | "Image" | "Video" | "Audio")
            )
        })
        .filter_map(|a| {
            let url = a.url.0.as_deref()?;
            if !super::actors::is_web_url(url) {
                return None;
            }
            let media_type = a
                .media_type
                .as_deref()
                .filter(|m| m.len() <= 100)
                .map(str::to_ascii_lowercase);
            let kind = match (media_type.as_deref(), a.kind.as_deref()) {
                (Some("image/gif"), _) => MediaKind::Gifv,
                (Some(m), _) if m.starts_with("image/") => MediaKind::Image,
                (Some(m), _) if m.starts_with("video/") => MediaKind::Video,
                (Some(m), _) if m.starts_with("audio/") => MediaKind::Audio,
                (_, Some("Image")) => MediaKind::Image,
                (_, Some("Video")) => MediaKind::Video,
                (_, Some("Audio")) => MediaKind::Audio,
                _ => MediaKind::Unknown,
            };
            let focus = match a.focal_point.as_slice() {
                [x, y] => (
                    x.as_f64().unwrap_or(0.0).clamp(-1.0, 1.0),
                    y.as_f64().unwrap_or(0.0).clamp(-1.0, 1.0),
                ),
                _ => (0.0, 0.0),
            };
            let blurhash = a
                .blurhash
                .as_deref()
                .filter(|b| {
                    b.len() <= 100
                        && b.chars().all(|c| {
                            c.is_ascii_alphanumeric() || "#$%*+,-.:;=?@[]^_{|}~".contains(c)
                        })
                })
                .map(str::to_owned);
            let dim = |v: Option<u64>| v.filter(|v| *v > 0 && *v <= 100_000);
            Some(Attachment {
                kind,
                url: url.to_owned(),
                media_type,
                description: crate::services::text::strip_html(
                    a.name.as_deref().unwrap_or_default(),
                )
                .chars()
                .take(1500)
                .collect(),
                blurhash,
                focus,
                size: dim(a.width).zip(dim(a.height)),
            })
        })
        .take(MAX_REMOTE_ATTACHMENTS)
        .collect()
}

/// A poll as a `Question` carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionPoll {
    pub options: Vec<String>,
    pub counts: Vec<i64>,
    pub multiple: bool,
    pub end: chrono::NaiveDateTime,
    pub voters: Option<i64>,
    pub closed: bool,
}

/// Makes a Note a `Question` with its poll (Mastodon's shape: `oneOf` or
/// `anyOf` Notes named by option, each with `replies.totalItems`).
pub fn with_poll(note: &mut Note, p: &QuestionPoll) {
    note.kind = ObjectKind::Question;
    let options: Vec<PollOption> = p
        .options
        .iter()
        .zip(p.counts.iter().chain(std::iter::repeat(&0)))
        .map(|(name, n)| PollOption::new(name.clone(), *n))
        .collect();
    let (one_of, any_of) = if p.multiple {
        (None, Some(options))
    } else {
        (Some(options), None)
    };
    note.poll = Some(Question {
        one_of,
        any_of,
        end_time: timestamp(&p.end),
        voters_count: p.voters,
        closed: p.closed.then(|| timestamp(&p.end)),
    });
}

/// Most options read from a remote poll (Mastodon allows 4, others more).
pub const MAX_REMOTE_OPTIONS: usize = 20;

/// The poll of a remote `Question`, or None when it has no usable options.
pub fn parse_question(object: &Value, now: chrono::NaiveDateTime) -> Option<QuestionPoll> {
    question_of(&RemoteNote::read(object), now)
}

pub fn question_of(note: &RemoteNote, now: chrono::NaiveDateTime) -> Option<QuestionPoll> {
    let (list, multiple) = match (&note.one_of, &note.any_of) {
        (Some(l), _) => (l, false),
        (_, Some(l)) => (l, true),
        _ => return None,
    };
    let mut options = Vec::new();
    let mut counts = Vec::new();
    for o in list.iter().take(MAX_REMOTE_OPTIONS) {
        let name: String = crate::services::text::strip_html(o.name.as_deref()?)
            .chars()
            .take(200)
            .collect();
        options.push(name);
        counts.push(o.replies.total_items.unwrap_or(0).max(0));
    }
    if options.len() < 2 {
        return None;
    }
    let date = |d: Option<&str>| {
        d.and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.naive_utc())
    };
    let closed =
        date(note.closed.as_str()).or_else(|| note.closed.as_bool().filter(|c| *c).map(|_| now));
    // No end given: open for a long while (the author's server closes it with an Update).
    let end = closed
        .or_else(|| date(note.end_time.as_deref()))
        .unwrap_or(now + chrono::Duration::days(3650));
    Some(QuestionPoll {
        options,
        counts,
        multiple,
        end,
        voters: note.voters_count.map(|v| v.max(0)),
        closed: closed.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> chrono::NaiveDateTime {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().naive_utc()
    }

    #[test]
    fn a_poll_survives_the_question_round_trip() {
        let poll = QuestionPoll {
            options: vec!["Tokyo".into(), "Osaka".into()],
            counts: vec![3, 1],
            multiple: true,
            end: at("2027-01-01T00:00:00Z"),
            voters: Some(3),
            closed: false,
        };
        let mut note = Note {
            context: None,
            id: "https://a.example/s/1".into(),
            kind: ObjectKind::Note,
            attributed_to: "https://a.example/users/a".into(),
            content: String::new(),
            content_map: None,
            to: vec![],
            cc: vec![],
            url: "https://a.example/@a/1".into(),
            published: timestamp(&poll.end),
            updated: None,
            sensitive: false,
            summary: None,
            in_reply_to: None,
            tag: vec![],
            attachment: vec![],
            audience: None,
            members_only: None,
            poll: None,
        };
        with_poll(&mut note, &poll);
        let note = note.to_json();
        assert_eq!(note["type"], "Question");
        assert!(note["anyOf"].is_array() && note.get("oneOf").is_none());
        assert_eq!(
            parse_question(&note, at("2026-11-22T00:00:00Z")),
            Some(poll)
        );
    }

    #[test]
    fn attachments_are_linked_only_with_safe_urls_and_hints() {
        let note = json!({"attachment": [
            {"type": "Document", "mediaType": "image/jpeg", "url": "https://files.example/a.jpg",
             "name": "<b>a cat</b>", "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
             "focalPoint": [0.5, 9.0], "width": 1200, "height": 800},
            {"type": "Document", "mediaType": "video/mp4", "url": [{"type": "Link", "href": "https://files.example/v.mp4"}]},
            {"type": "Document", "url": "javascript:alert(1)"},
            {"type": "Document", "url": "https://files.example/x", "blurhash": "<script>"},
            {"type": "PropertyValue", "name": "not media", "value": "x"},
        ]});
        let a = parse_attachments(&note);
        assert_eq!(a.len(), 3, "{a:?}");
        assert_eq!(a[0].kind, MediaKind::Image);
        assert_eq!(a[0].description, "a cat");
        assert_eq!(a[0].focus, (0.5, 1.0), "clamped");
        assert_eq!(a[0].size, Some((1200, 800)));
        assert_eq!(a[1].kind, MediaKind::Video);
        assert_eq!(a[1].url, "https://files.example/v.mp4");
        assert_eq!(a[2].kind, MediaKind::Unknown);
        assert_eq!(a[2].blurhash, None, "not a blurhash");
        // Round trip through what we send.
        let sent = json!({"attachment": [document(&a[0])]});
        assert_eq!(parse_attachments(&sent), vec![a[0].clone()]);
    }

    #[test]
    fn remote_questions_are_read_defensively() {
        let now = at("2026-11-22T00:00:00Z");
        // Pleroma marks an ended poll with `closed: true`; no endTime.
        let closed = json!({"oneOf": [{"name": "a"}, {"name": "<b>b</b>"}], "closed": true});
        let q = parse_question(&closed, now).unwrap();
        assert!(q.closed && q.end == now && !q.multiple);
        assert_eq!(q.options, ["a", "b"], "names are plain text");
        assert_eq!(q.counts, [0, 0]);
        // One option is no poll; neither is a missing list.
        assert!(parse_question(&json!({"oneOf": [{"name": "only"}]}), now).is_none());
        assert!(parse_question(&json!({"type": "Question"}), now).is_none());
        // Negative tallies are clamped, options capped.
        let many: Vec<Value> = (0..50)
            .map(|i| json!({"name": format!("o{i}"), "replies": {"totalItems": -5}}))
            .collect();
        let q = parse_question(&json!({"anyOf": many}), now).unwrap();
        assert_eq!(q.options.len(), MAX_REMOTE_OPTIONS);
        assert!(q.counts.iter().all(|c| *c == 0));
        assert!(
            q.end > now,
            "no end given: open until the author's server closes it"
        );
    }
}
