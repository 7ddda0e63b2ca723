//! Alumni profiles across servers: what a person releases to everyone
//! travels with their actor; nothing released to fewer people does.
use super::*;
use crate::dual;

dual!(public_alumni_fields_reach_followers_elsewhere_and_leave_when_withdrawn);

/// bob@beta releases his title to everyone and keeps his employer to
/// himself: alice@alpha, who follows him, sees the title among his profile
/// fields (from the `Update` of his actor, and in the actor document
/// itself) and never the employer; when bob withdraws the title it leaves
/// alpha too.
async fn public_alumni_fields_reach_followers_elsewhere_and_leave_when_withdrawn(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let acct = format!("bob@{}", beta.host());
    let remote_bob = c
        .get(
            &format!("{}/api/v1/accounts/lookup?acct={acct}", alpha.base),
            &alice,
        )
        .await;
    let bob_id = remote_bob["id"].as_str().unwrap().to_owned();
    c.post(
        &format!("{}/api/v1/accounts/{bob_id}/follow", alpha.base),
        &alice,
        json!({}),
    )
    .await;
    c.await_following(&alpha.base, &alice, &bob_id).await;

    let release = |title_audience: Value| {
        let c = &c;
        let bob = bob.clone();
        let base = beta.base.clone();
        async move {
            let (st, body) = c
                .call(
                    reqwest::Method::PATCH,
                    &format!("{base}/api/v1/alumni/profile"),
                    &bob,
                    Some(json!({
                        "title": "Chief <b>battery</b> officer",
                        "current_org": "Secret Labs",
                        "audiences": {"title": title_audience, "current_org": []},
                    })),
                )
                .await;
            assert_eq!(st, 200, "{body}");
        }
    };
    let values_on_alpha = async || {
        let a = c
            .get(&format!("{}/api/v1/accounts/{bob_id}", alpha.base), &alice)
            .await;
        a["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["value"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    release(json!(["public"])).await;
    let values = eventually("the public title reaches alpha", async || {
        let v = values_on_alpha().await;
        v.iter().any(|f| f.contains("battery")).then_some(v)
    })
    .await;
    // Shown as text, never as markup; the private employer is nowhere.
    assert!(
        values.iter().any(|f| f.contains("&lt;b&gt;battery")),
        "{values:?}"
    );
    assert!(!values.iter().any(|f| f.contains("Secret")), "{values:?}");
    let actor: Value = c
        .http
        .get(format!("{}/users/bob", beta.base))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let attachment = actor["attachment"].to_string();
    assert!(attachment.contains("battery"), "{actor}");
    assert!(!attachment.contains("Secret"), "{actor}");

    // Withdrawn: the next Update leaves alpha without it.
    release(json!([])).await;
    eventually("the withdrawn title leaves alpha", async || {
        let v = values_on_alpha().await;
        (!v.iter().any(|f| f.contains("battery"))).then_some(())
    })
    .await;
}
