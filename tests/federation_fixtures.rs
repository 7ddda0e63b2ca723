//! Real documents from Mastodon, Pleroma, Lemmy, Misskey and GoToSocial
//! (tests/fixtures/federation) go through the same checks and parsers as
//! live deliveries.
use serde_json::Value;
use tsunagu::domain::Visibility;
use tsunagu::federation::actors::{id_of, parse_actor, same_origin};
use tsunagu::federation::inbox::flag_objects;
use tsunagu::federation::vocab::{Addressing, RemoteNote};

// The inbox reads a Note once into `RemoteNote`; these read raw fixtures so.
fn note_owned_by(v: &Value, actor: &str) -> bool {
    RemoteNote::read(v).owned_by(actor)
}

fn visibility_of(v: &Value, followers: Option<&str>) -> Visibility {
    tsunagu::federation::inbox::visibility_of(&Addressing::read(v), followers)
}

fn mentions(v: &Value) -> Vec<String> {
    RemoteNote::read(v).mentions().map(str::to_owned).collect()
}

fn hashtags(v: &Value) -> Vec<String> {
    RemoteNote::read(v).hashtags()
}

fn fixture(path: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/federation")
        .join(path);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

#[test]
fn actors_from_five_servers_parse() {
    for (path, username, domain) in [
        (
            "mastodon/person.json",
            "mastodon",
            "masto.qa.urbanwildlife.biz",
        ),
        ("pleroma/person.json", "lanodan", "queer.hacktivis.me"),
        ("lemmy/person.json", "picard", "enterprise.lemmy.ml"),
        ("misskey/person.json", "misskey", "misskey.tinax.local"),
        ("gotosocial/person.json", "1happyturtle", "example.org"),
    ] {
        let doc = fixture(path);
        let id = doc["id"].as_str().unwrap();
        let a = parse_actor(id, &doc, now()).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(a.username, username, "{path}");
        assert_eq!(a.domain.as_deref(), Some(domain), "{path}");
        assert_eq!(a.acct_key, format!("{username}@{domain}").to_lowercase());
        assert_eq!(a.ap_id.as_deref(), Some(id));
        assert!(a.inbox_url.as_deref().unwrap().starts_with(id), "{path}");
        assert!(a.public_key_pem.contains("BEGIN PUBLIC KEY"), "{path}");
        assert!(!a.local);
        assert!(!a.note.contains("<script"), "{path}");
    }
}

#[test]
fn forged_actor_documents_are_refused() {
    let doc = fixture("mastodon/person.json");
    let id = doc["id"].as_str().unwrap();
    // Served from another origin than its id.
    assert!(parse_actor("https://evil.example/users/mastodon", &doc, now()).is_err());
    // A key owned by someone else.
    let mut other_key = doc.clone();
    other_key["publicKey"]["owner"] = "https://evil.example/users/x".into();
    assert!(parse_actor(id, &other_key, now()).is_err());
    // An inbox on another origin (deliveries would go elsewhere).
    let mut inbox = doc.clone();
    inbox["inbox"] = "https://evil.example/inbox".into();
    assert!(parse_actor(id, &inbox, now()).is_err());
    // Not an actor at all.
    let mut note = doc.clone();
    note["type"] = "Note".into();
    assert!(parse_actor(id, &note, now()).is_err());
    // No key.
    let mut keyless = doc.clone();
    keyless.as_object_mut().unwrap().remove("publicKey");
    assert!(parse_actor(id, &keyless, now()).is_err());
}

#[test]
fn creates_from_mastodon_and_pleroma_pass_the_origin_checks() {
    for path in ["mastodon/create_note.json", "pleroma/create_note.json"] {
        let a = fixture(path);
        let actor = id_of(&a["actor"]).unwrap();
        assert!(same_origin(a["id"].as_str().unwrap(), actor), "{path}");
        assert!(note_owned_by(&a["object"], actor), "{path}");
        // The same Note claimed by another actor is not trusted.
        assert!(
            !note_owned_by(&a["object"], "https://evil.example/users/x"),
            "{path}"
        );
    }
    let m = fixture("mastodon/create_note.json");
    // to: followers, cc: Public → unlisted, as Mastodon means it.
    assert_eq!(
        visibility_of(
            &m["object"],
            Some("https://mastodon.madrid/users/felix/followers")
        ),
        Visibility::Unlisted
    );
    let p = fixture("pleroma/create_note.json");
    assert_eq!(
        visibility_of(
            &p["object"],
            Some("https://greenish.red/users/nutomic/followers")
        ),
        Visibility::Public
    );
}

#[test]
fn direct_messages_and_followers_only_addressing() {
    let dm = fixture("mastodon/private_message.json");
    assert_eq!(
        visibility_of(
            &dm,
            dm["attributedTo"]
                .as_str()
                .map(|a| format!("{a}/followers"))
                .as_deref()
        ),
        Visibility::Direct
    );
    let followers_only = serde_json::json!({
        "to": ["https://a.example/users/x/followers"],
        "cc": ["https://b.example/users/y"],
    });
    assert_eq!(
        visibility_of(&followers_only, Some("https://a.example/users/x/followers")),
        Visibility::Private
    );
}

#[test]
fn follows_undos_accepts_and_deletes_name_what_we_need() {
    for path in [
        "mastodon/follow.json",
        "pleroma/follow.json",
        "lemmy/follow.json",
    ] {
        let a = fixture(path);
        assert_eq!(a["type"], "Follow", "{path}");
        let actor = id_of(&a["actor"]).unwrap();
        assert!(same_origin(a["id"].as_str().unwrap(), actor), "{path}");
        assert!(id_of(&a["object"]).is_some(), "{path}");
    }
    let undo = fixture("mastodon/undo_follow.json");
    assert_eq!(undo["object"]["type"], "Follow");
    assert_eq!(
        id_of(&undo["object"]["actor"]),
        id_of(&undo["actor"]),
        "only one's own Follow is undone"
    );
    let accept = fixture("lemmy/accept.json");
    // The Follow is embedded: its actor names our follower, its id the request.
    assert!(
        id_of(&accept["object"])
            .unwrap()
            .contains("/activities/follow/")
    );
    assert!(accept["object"]["actor"].as_str().is_some());
    let delete = fixture("mastodon/delete.json");
    let target = id_of(&delete["object"]).unwrap();
    assert!(same_origin(target, id_of(&delete["actor"]).unwrap()));
    assert_eq!(delete["object"]["type"], "Tombstone");
}

#[test]
fn misskey_actor_with_null_profile_parts() {
    let doc = fixture("misskey/person.json");
    let id = doc["id"].as_str().unwrap();
    let a = parse_actor(id, &doc, now()).unwrap();
    assert_eq!(a.display_name, "misskey's nickname");
    assert_eq!(a.note, "", "summary: null is an empty bio");
    assert_eq!(a.avatar_remote_url, None, "icon: null is no avatar");
    assert_eq!(
        a.shared_inbox_url.as_deref(),
        Some("https://misskey.tinax.local/inbox")
    );
    assert!(!a.locked);
}

#[test]
fn gotosocial_actor_fields_and_lock() {
    let doc = fixture("gotosocial/person.json");
    let id = doc["id"].as_str().unwrap();
    let a = parse_actor(id, &doc, now()).unwrap();
    assert!(a.locked, "manuallyApprovesFollowers");
    assert_eq!(a.display_name, "happy little turtle :3");
    assert!(a.note.contains("i post about things that concern me"));
    let fields: Vec<serde_json::Value> = serde_json::from_str(&a.fields).unwrap();
    assert_eq!(fields.len(), 2, "{fields:?}");
    assert_eq!(fields[0]["name"], "should you follow me?");
    assert_eq!(fields[1]["value"], "120");
    // GoToSocial has no shared inbox: deliveries go to the personal one.
    assert_eq!(a.shared_inbox_url, None);
}

#[test]
fn misskey_reply_is_unlisted_with_its_mention() {
    let a = fixture("misskey/create_note.json");
    let actor = id_of(&a["actor"]).unwrap();
    assert!(same_origin(a["id"].as_str().unwrap(), actor));
    let note = &a["object"];
    assert!(note_owned_by(note, actor));
    // Misskey's "home" visibility: followers in `to`, Public in `cc`.
    assert_eq!(
        visibility_of(note, Some(&format!("{actor}/followers"))),
        Visibility::Unlisted
    );
    assert_eq!(mentions(note), ["https://calckey.jp/users/9bu1xzwjyb"]);
    assert_eq!(
        id_of(&note["inReplyTo"]),
        Some("https://calckey.jp/notes/9f2i7ymf1d")
    );
    let html = tsunagu::services::text::sanitize(note["content"].as_str().unwrap());
    assert!(html.contains("連合先と自インスタンス"), "{html}");
    assert!(
        html.contains("href=\"https://calckey.jp/@trapezial\""),
        "{html}"
    );
}

#[test]
fn gotosocial_note_with_string_addressing_and_one_tag_object() {
    let note = fixture("gotosocial/note.json");
    let author = note["attributedTo"].as_str().unwrap();
    assert!(note_owned_by(&note, author));
    // `to` and `cc` are plain strings here, not arrays.
    assert_eq!(
        visibility_of(&note, Some(&format!("{author}/followers"))),
        Visibility::Public
    );
    assert_eq!(hashtags(&note), ["welcome"], "a single tag object counts");
    assert!(mentions(&note).is_empty());
    assert_eq!(
        note["contentMap"]
            .as_object()
            .unwrap()
            .keys()
            .next()
            .unwrap(),
        "en"
    );
}

#[test]
fn gotosocial_flag_names_account_then_statuses() {
    let flag = fixture("gotosocial/flag.json");
    assert_eq!(flag["type"], "Flag");
    let actor = id_of(&flag["actor"]).unwrap();
    assert!(same_origin(flag["id"].as_str().unwrap(), actor));
    assert_eq!(
        flag_objects(&flag),
        [
            "http://fossbros-anonymous.io/users/foss_satan",
            "http://fossbros-anonymous.io/users/foss_satan/statuses/01FVW7JHQFSFK166WWKR8CBA6M"
        ]
    );
    // GoToSocial may also send the account alone, as a string.
    let mut single = flag.clone();
    single["object"] = "http://fossbros-anonymous.io/users/foss_satan".into();
    assert_eq!(
        flag_objects(&single),
        ["http://fossbros-anonymous.io/users/foss_satan"]
    );
}

#[test]
fn mobilizon_event_is_read_as_a_titled_post() {
    let create = fixture("mobilizon/create_event.json");
    let actor = create["actor"].as_str().unwrap();
    let event = &create["object"];
    let kind = tsunagu::federation::vocab::ObjectKind::of(event).unwrap();
    assert!(kind.is_post(), "an Event becomes a post here");
    let note = RemoteNote::read(event);
    assert!(note.owned_by(actor));
    assert_eq!(
        visibility_of(event, Some(&format!("{actor}/followers"))),
        Visibility::Public
    );
    assert_eq!(mentions(event), ["https://framapiaf.org/users/tcit"]);
    assert_eq!(note.name.as_deref(), Some("My first event"));
    assert_eq!(
        note.url.0.as_deref(),
        Some("https://test.mobilizon.org/events/39026210-0c69-4238-b3cc-986f33f98ed0")
    );
    assert!(note.in_reply_to.0.is_none(), "inReplyTo: null is no parent");
}
