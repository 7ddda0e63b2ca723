//! Inbound activities, parsed and handled for real: each input is stored
//! in a SQLite database's inbox as if a known remote actor had sent it
//! (its signature checked; the actor is forced to that one) and processed
//! by the inbox worker. Then the extraction helpers run on it directly.
#![no_main]
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tsunagu::db;
use tsunagu::federation::{actors, inbox};
use tsunagu::services::Ctx;

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
    config.federation.resolve.insert("remote.example".into(), "127.0.0.1:9".into());
    let ctx = rt.block_on(async {
        let (ctx, _) = Ctx::new(config).await.expect("database");
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

fuzz_target!(|data: &[u8]| {
    let Ok(mut activity) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // Helpers the inbox uses, on the raw document.
    let object = &activity["object"];
    let _ = inbox::visibility_of(object, Some("https://remote.example/users/mallory/followers"));
    let _ = inbox::mentions(object);
    let _ = inbox::hashtags(object);
    let _ = inbox::flag_objects(&activity);
    let _ = inbox::note_owned_by(object, ACTOR);
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
        db::federation::store_inbound(&mut conn, &row).await.expect("stored");
        drop(conn);
        let _ = inbox::process_batch(&world.ctx).await;
    });
});
