//! What each fuzz target does with its input, shared by the targets
//! (fuzz/fuzz_targets/) and by tests/fuzz_regressions.rs, which replays the
//! inputs kept in tests/fixtures/fuzz/TARGET/ (seeds and past crashes).
//! Each function panics only on a bug.
#![allow(dead_code)]
use std::sync::LazyLock;

use axum::extract::FromRequest;
use serde_json::{Value, json};
use tsunagu::api::params::Params;
use tsunagu::db;
use tsunagu::federation::message_signatures;
use tsunagu::federation::signatures::{SignedRequest, parse_signature_header, precheck};
use tsunagu::federation::{actors, inbox};
use tsunagu::services::{Ctx, text};

/// HTTP signature headers (draft-cavage, and the same text read as RFC
/// 9421's) and the checks made before any key is fetched.
pub fn signature_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Header value, then (after a newline) a Date and a Digest to check against.
    let mut lines = text.splitn(3, '\n');
    let value = lines.next().unwrap_or_default();
    let date = lines.next().map(str::to_owned);
    let digest = lines.next().map(str::to_owned);
    let header = move |name: &str| match name {
        "date" => date.clone(),
        "digest" | "content-digest" => digest.clone(),
        "host" => Some("alpha.example".to_owned()),
        _ => None,
    };
    let req = SignedRequest {
        method: "POST",
        path_and_query: "/inbox",
        scheme: "https",
        authority: "alpha.example",
        header: &header,
        body: Some(b"{}"),
    };
    if let Ok(sig) = parse_signature_header(value) {
        let _ = precheck(&req, &sig, std::time::SystemTime::now());
    }
    // The same text as RFC 9421's Signature-Input and Signature.
    if let Ok(sig) = message_signatures::parse(value, value) {
        let _ = precheck(&req, &sig, std::time::SystemTime::now());
        if let Some(params) = &sig.rfc9421 {
            let _ = message_signatures::base(&req, &sig, params);
        }
    }
}

/// Sanitising remote HTML, and turning typed text into HTML with links:
/// whatever comes in, what goes out is only the allowed tags and attributes,
/// with no link to anything but the web.
pub fn html_text(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    check_markup(&text::sanitize(input));
    check_markup(&text::plain_to_html(input));
    let _ = text::strip_html(input);
    let _ = text::references(input);
}

/// Walks the tags of serialised HTML (attribute values always in double
/// quotes, as html5ever writes them) and panics on anything not allowed.
fn check_markup(html: &str) {
    const ATTRS: &[&str] = &["href", "class", "target", "rel"];
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let tag = rest[i + 1..].strip_prefix('/').unwrap_or(&rest[i + 1..]);
        let name_end = tag
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tag.len());
        let name = &tag[..name_end];
        assert!(text::ALLOWED_TAGS.contains(&name), "<{name}> in {html}");
        let mut attrs = &tag[name_end..];
        loop {
            attrs = attrs.trim_start();
            if let Some(after) = attrs.strip_prefix('>') {
                rest = after;
                break;
            }
            let eq = attrs
                .find('=')
                .unwrap_or_else(|| panic!("odd tag in {html}"));
            let attr = &attrs[..eq];
            assert!(ATTRS.contains(&attr), "attribute {attr} in {html}");
            let quoted = attrs[eq + 1..]
                .strip_prefix('"')
                .unwrap_or_else(|| panic!("unquoted value in {html}"));
            let end = quoted
                .find('"')
                .unwrap_or_else(|| panic!("open value in {html}"));
            let value = &quoted[..end];
            if attr == "href" {
                // As a browser reads it (WHATWG URL parsing drops tabs and
                // newlines, so "java\tscript:" is javascript:): an absolute
                // link must be to the web; anything else is a relative path.
                let href = html_escape::decode_html_entities(value);
                if let Ok(url) = url::Url::parse(&href) {
                    assert!(
                        matches!(url.scheme(), "http" | "https"),
                        "href {value} in {html}"
                    );
                }
            }
            attrs = &quoted[end + 1..];
        }
    }
}

/// The client API's parameter decoder: a query string and a urlencoded or
/// JSON body merged, Rails-style brackets and all. In the query line,
/// `[seg]{N}` stands for the bracket repeated N times (up to 65,535), so the
/// fuzzer reaches deep nesting with short inputs. Whatever comes in, the
/// decoder answers (it once recursed off its stack on 10,000 brackets), and
/// what it accepts is nested no deeper than its bound (plus JSON's own).
pub fn form_params(data: &[u8]) {
    // First line: the query string; second: the content type; the rest: the body.
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let query = expand_repeats(&String::from_utf8_lossy(parts.next().unwrap_or_default()));
    let kind = match parts.next().and_then(|k| k.first()) {
        Some(b'j') => "application/json",
        _ => "application/x-www-form-urlencoded",
    };
    let body = parts.next().unwrap_or_default().to_vec();
    let Ok(req) = axum::http::Request::builder()
        .method("POST")
        .uri(format!(
            "/api/v1/statuses?{}",
            query.replace(['#', ' '], "")
        ))
        .header("content-type", kind)
        .body(axum::body::Body::from(body))
    else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    if let Ok(p) = rt.block_on(Params::<serde_json::Value>::from_request(req, &())) {
        // serde_json stops at 128 levels; brackets add at most MAX_DEPTH.
        let bound = 128 + tsunagu::api::params::MAX_DEPTH + 1;
        let depth = depth_of(&p.value);
        assert!(depth <= bound, "accepted parameters nested {depth} deep");
    }
}

/// `[x]{3}` → `[x][x][x]`.
fn expand_repeats(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    let mut rest = q;
    while let Some(i) = rest.find("]{") {
        let seg_start = rest[..i].rfind('[').unwrap_or(i);
        let after = &rest[i + 2..];
        let Some(close) = after.find('}') else { break };
        let Ok(n) = after[..close].parse::<u16>() else {
            out.push_str(&rest[..i + 2]);
            rest = after;
            continue;
        };
        out.push_str(&rest[..seg_start]);
        out.push_str(&rest[seg_start..=i].repeat(usize::from(n)));
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Nesting depth of a JSON value, counted without recursion.
fn depth_of(v: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Value::Array(l) => stack.extend(l.iter().map(|x| (x, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    deepest
}

const ACTOR: &str = "https://remote.example/users/mallory";

struct World {
    rt: tokio::runtime::Runtime,
    ctx: Ctx,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("tsunagu-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut config = tsunagu::config::Config::default();
    config.server.domain = "alpha.example".into();
    config.database.url = format!("sqlite://{}", dir.join("fuzz.db").display());
    config.media.path = dir.join("media");
    // No network: fetches of unknown objects fail at once.
    config
        .federation
        .resolve
        .insert("remote.example".into(), "127.0.0.1:9".into());
    let ctx = rt.block_on(async {
        let (ctx, _) = tsunagu::context(config).await.expect("database");
        let alice = tsunagu::services::accounts::create_from_shell(
            &ctx,
            "alice",
            "alice@alpha.example",
            "correct horse battery",
            false,
        )
        .await
        .expect("local account");
        let mut conn = ctx.conn().await.expect("conn");
        // mallory's key does not matter: her activities skip the signature step.
        let doc = json!({
            "id": ACTOR, "type": "Person", "preferredUsername": "mallory",
            "inbox": format!("{ACTOR}/inbox"), "followers": format!("{ACTOR}/followers"),
            "publicKey": {"id": format!("{ACTOR}#main-key"), "owner": ACTOR,
              "publicKeyPem": alice.account.public_key_pem},
        });
        let row = actors::parse_actor(ACTOR, &doc, tsunagu::ids::now()).expect("actor");
        db::federation::upsert_remote_account(&mut conn, &row)
            .await
            .expect("stored");
        drop(conn);
        ctx
    });
    World { rt, ctx }
});

/// Inbound activities, parsed and handled for real: stored in a SQLite
/// database's inbox as if a known remote actor had sent it (the actor is
/// forced to that one; signatures have their own target) and processed by
/// the inbox worker. The extraction helpers run on the raw document first.
pub fn inbound_activity(data: &[u8]) {
    let Ok(mut activity) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // Helpers the inbox uses, on the raw document.
    let object = &activity["object"];
    let note = tsunagu::federation::vocab::RemoteNote::read(object);
    let _ = inbox::visibility_of(
        &note.addressing,
        Some("https://remote.example/users/mallory/followers"),
    );
    let _ = note.mentions().count();
    let _ = note.hashtags();
    let _ = inbox::flag_objects(&activity);
    let _ = note.owned_by(ACTOR);
    let _ = tsunagu::federation::objects::parse_attachments(object);
    let _ = tsunagu::federation::objects::parse_question(object, tsunagu::ids::now());
    let _ = actors::parse_actor(ACTOR, &activity, tsunagu::ids::now());

    // Handled for real, as if mallory sent it (ids made unique per input).
    let Some(map) = activity.as_object_mut() else {
        return;
    };
    let Some(kind) = map.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    map.insert("actor".into(), Value::String(ACTOR.into()));
    let id = format!("{ACTOR}/fuzz/{}", tsunagu::ids::next_id());
    map.insert("id".into(), Value::String(id.clone()));
    let row = db::models::InboxActivity {
        id: tsunagu::ids::next_id(),
        ap_id: id,
        actor_uri: ACTOR.into(),
        kind,
        body: activity.to_string(),
        received_at: tsunagu::ids::now(),
        processed_at: None,
        attempts: 0,
        last_error: None,
        lease_until: None,
    };
    let world = &*WORLD;
    world.rt.block_on(async {
        let mut conn = world.ctx.conn().await.expect("conn");
        db::federation::store_inbound(&mut conn, &row)
            .await
            .expect("stored");
        drop(conn);
        inbox::process_batch(&world.ctx)
            .await
            .expect("the inbox worker survives any activity");
    });
}
