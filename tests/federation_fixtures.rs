//! Real documents from Mastodon, Pleroma and Lemmy (tests/fixtures/federation)
//! go through the same checks and parsers as live deliveries.
use serde_json::Value;
use tsunagu::federation::actors::{id_of, parse_actor, same_origin};
use tsunagu::federation::inbox::{note_owned_by, visibility_of};

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
fn actors_from_three_servers_parse() {
    for (path, username, domain) in [
        (
            "mastodon/person.json",
            "mastodon",
            "masto.qa.urbanwildlife.biz",
        ),
        ("pleroma/person.json", "lanodan", "queer.hacktivis.me"),
        ("lemmy/person.json", "picard", "enterprise.lemmy.ml"),
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
        "unlisted"
    );
    let p = fixture("pleroma/create_note.json");
    assert_eq!(
        visibility_of(
            &p["object"],
            Some("https://greenish.red/users/nutomic/followers")
        ),
        "public"
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
        "direct"
    );
    let followers_only = serde_json::json!({
        "to": ["https://a.example/users/x/followers"],
        "cc": ["https://b.example/users/y"],
    });
    assert_eq!(
        visibility_of(&followers_only, Some("https://a.example/users/x/followers")),
        "private"
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
