//! Instance moderation across servers: a blocked server is refused in both
//! directions and restored when unblocked; allow-list mode; a silenced server.
use super::*;
use crate::dual;
use tsunagu::domain::{DomainBlockSeverity, FederationAccess};
use tsunagu::services::moderation::{self, NewDomainBlock, SettingsChange};

dual!(
    a_suspended_server_is_refused_both_ways_and_restored_when_unblocked,
    allow_list_mode_federates_only_with_listed_servers,
    a_silenced_servers_people_arrive_silenced,
);

fn follow_from(from: &Instance, name: &str, to: &Instance, target: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/{}", from.base, tsunagu::crypto::random_token()),
        "type": "Follow",
        "actor": format!("{}/users/{name}", from.base),
        "object": format!("{}/users/{target}", to.base),
    })
}

async fn block(node: &Instance, domain: &str, severity: DomainBlockSeverity) -> i64 {
    moderation::block_domain(
        &node.state.ctx,
        None,
        NewDomainBlock {
            update: true,
            domain: domain.into(),
            severity,
            public_comment: String::new(),
            private_comment: "test".into(),
        },
    )
    .await
    .unwrap()
    .id
}

async fn delivered_to(node: &Instance, host: &str) -> (i64, i64) {
    let (hosts, _) = tsunagu::services::instance::federation_status(&node.state.ctx)
        .await
        .unwrap();
    hosts
        .iter()
        .find(|h| h.host == host)
        .map_or((0, 0), |h| (h.delivered, h.queued))
}

/// alpha suspends beta: beta's signed deliveries get 403 (before alpha
/// fetches anything), alpha sends beta nothing and fetches nothing from it,
/// beta's people are hidden on alpha; unblocking restores all of it.
async fn a_suspended_server_is_refused_both_ways_and_restored_when_unblocked(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let carol = beta.token("carol").await;
    let alice_acct = format!("alice@{}", alpha.host());
    c.follow_and_wait(beta, &bob, &alice_acct).await;
    let bob_on_alpha = c
        .get(
            &format!(
                "{}/api/v1/accounts/lookup?acct=bob@{}",
                alpha.base,
                beta.host()
            ),
            &alice,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (delivered_before, _) = delivered_to(alpha, &beta.host()).await;

    let id = block(alpha, "BETA.test", DomainBlockSeverity::Suspend).await;

    // Refused at the door, whatever the activity, with the key checked or not.
    let status = deliver_as(
        &c,
        beta,
        "carol",
        alpha,
        &follow_from(beta, "carol", alpha, "alice"),
    )
    .await;
    assert_eq!(status, 403, "a blocked server's delivery is refused");
    // beta's people are hidden on alpha.
    assert_eq!(
        c.status_of(
            &format!("{}/api/v1/accounts/{bob_on_alpha}", alpha.base),
            &alice
        )
        .await,
        404
    );
    // Nothing is sent: alice's post is not delivered to her follower's server.
    let post = c
        .post(
            &format!("{}/api/v1/statuses", alpha.base),
            &alice,
            json!({"status": "while beta is blocked", "visibility": "public"}),
        )
        .await;
    eventually("alpha's queue for beta is drained", async || {
        let (_, queued) = delivered_to(alpha, &beta.host()).await;
        (queued == 0).then_some(())
    })
    .await;
    assert_eq!(
        delivered_to(alpha, &beta.host()).await.0,
        delivered_before,
        "nothing more was delivered to beta"
    );
    let bob_home = c
        .get(&format!("{}/api/v1/timelines/home", beta.base), &bob)
        .await;
    assert!(
        !bob_home
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["uri"] == post["uri"]),
        "beta never received the post: {bob_home}"
    );
    // Nothing is fetched: carol (never seen on alpha) cannot be looked up.
    let carol_acct = format!("carol@{}", beta.host());
    assert_eq!(
        c.status_of(
            &format!("{}/api/v1/accounts/lookup?acct={carol_acct}", alpha.base),
            &alice
        )
        .await,
        404
    );

    // Unblocked: bob is back, beta's deliveries are taken, carol can be found.
    moderation::unblock_domain(&alpha.state.ctx, None, id)
        .await
        .unwrap();
    assert_eq!(
        c.status_of(
            &format!("{}/api/v1/accounts/{bob_on_alpha}", alpha.base),
            &alice
        )
        .await,
        200
    );
    let status = deliver_as(
        &c,
        beta,
        "carol",
        alpha,
        &follow_from(beta, "carol", alpha, "alice"),
    )
    .await;
    assert_eq!(status, 202);
    let found = c
        .get(
            &format!("{}/api/v1/accounts/lookup?acct={carol_acct}", alpha.base),
            &alice,
        )
        .await;
    assert_eq!(found["username"], "carol");
    drop(carol);
    for n in nodes {
        n.stop().await;
    }
}

async fn access(node: &Instance, access: FederationAccess) {
    let now = node.state.ctx.settings();
    moderation::update_settings(
        &node.state.ctx,
        None,
        SettingsChange {
            title: now.title.clone(),
            description: now.description.clone(),
            contact_email: now.contact_email.clone(),
            rules: now.rules.clone(),
            registration_mode: now.registration_mode,
            federation_access: access,
        },
    )
    .await
    .unwrap();
}

/// In allow-list mode only listed servers are heard; /api/v2/instance says so.
async fn allow_list_mode_federates_only_with_listed_servers(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    beta.token("bob").await;
    access(alpha, FederationAccess::AllowList).await;
    let instance = c
        .get(&format!("{}/api/v2/instance", alpha.base), &alice)
        .await;
    assert_eq!(instance["configuration"]["limited_federation"], true);
    let follow = follow_from(beta, "bob", alpha, "alice");
    assert_eq!(deliver_as(&c, beta, "bob", alpha, &follow).await, 403);
    moderation::allow_domain(&alpha.state.ctx, None, "beta.test")
        .await
        .unwrap();
    assert_eq!(deliver_as(&c, beta, "bob", alpha, &follow).await, 202);
    // A block still wins over the allow-list.
    block(alpha, "beta.test", DomainBlockSeverity::Suspend).await;
    let again = follow_from(beta, "bob", alpha, "alice");
    assert_eq!(deliver_as(&c, beta, "bob", alpha, &again).await, 403);
    for n in nodes {
        n.stop().await;
    }
}

/// Silencing a server silences the people of it already known and those
/// met later; their deliveries are still taken.
async fn a_silenced_servers_people_arrive_silenced(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    beta.token("carol").await;
    c.follow_and_wait(beta, &bob, &format!("alice@{}", alpha.host()))
        .await;
    block(alpha, "beta.test", DomainBlockSeverity::Silence).await;
    let status = deliver_as(
        &c,
        beta,
        "carol",
        alpha,
        &follow_from(beta, "carol", alpha, "alice"),
    )
    .await;
    assert_eq!(status, 202, "silence does not refuse deliveries");
    let ids = eventually("carol is stored on alpha", async || {
        let mut conn = alpha.state.ctx.conn().await.unwrap();
        let mut ids = Vec::new();
        for name in ["bob", "carol"] {
            let key = format!("{name}@{}", beta.host());
            let (a, _) = tsunagu::db::accounts::find_by_acct_key(&mut conn, &key)
                .await
                .unwrap()?;
            ids.push(a.id);
        }
        Some(ids)
    })
    .await;
    let mut conn = alpha.state.ctx.conn().await.unwrap();
    let mut silenced = tsunagu::db::moderation::silenced(&mut conn, &ids)
        .await
        .unwrap();
    silenced.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(silenced, want, "bob (known) and carol (new) are silenced");
    drop(conn);

    // Overlapping blocks: lifting the narrower leaves the wider in force;
    // a moderator's own decision outlives both.
    let wide = block(alpha, "test", DomainBlockSeverity::Silence).await;
    let narrow = tsunagu::services::moderation::domain_blocks(&alpha.state.ctx)
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.domain == "beta.test")
        .unwrap()
        .id;
    moderation::act(
        &alpha.state.ctx,
        None,
        ids[0],
        tsunagu::domain::AccountAction::Silence,
        None,
    )
    .await
    .unwrap();
    let silenced_now = async || {
        let mut conn = alpha.state.ctx.conn().await.unwrap();
        let mut v = tsunagu::db::moderation::silenced(&mut conn, &ids)
            .await
            .unwrap();
        v.sort();
        v
    };
    moderation::unblock_domain(&alpha.state.ctx, None, narrow)
        .await
        .unwrap();
    assert_eq!(
        silenced_now().await,
        want,
        "the wider block still silences both"
    );
    moderation::unblock_domain(&alpha.state.ctx, None, wide)
        .await
        .unwrap();
    assert_eq!(
        silenced_now().await,
        vec![ids[0]],
        "only bob, whom a moderator silenced, stays silenced"
    );
    drop(alice);
    for n in nodes {
        n.stop().await;
    }
}
