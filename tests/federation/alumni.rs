//! Alumni profiles across servers: what a person releases to everyone
//! travels with their actor; nothing released to fewer people does.
use super::*;
use crate::dual;

/// The activities `name` on `node` has stored for sending.
async fn sent_by(c: &Client, node: &Instance, token: &str) -> Vec<String> {
    let me = c
        .get(
            &format!("{}/api/v1/accounts/verify_credentials", node.base),
            token,
        )
        .await;
    let mut conn = node.state.ctx.conn().await.unwrap();
    tsunagu::db::federation::outbound_bodies(&mut conn, me["id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap()
}

/// `PATCH /api/v1/alumni/profile` on `node` as `token`, which must succeed.
async fn patch_profile(c: &Client, node: &Instance, token: &str, body: Value) {
    let (st, r) = c
        .call(
            reqwest::Method::PATCH,
            &format!("{}/api/v1/alumni/profile", node.base),
            token,
            Some(body),
        )
        .await;
    assert_eq!(st, 200, "{r}");
}

/// An `AlumniProfile` object in a stored activity (the term alone is in
/// every document's `@context`).
const PROFILE: &str = r#""type":"AlumniProfile""#;

/// Some stored activity is of `kind`, and none holds any of `gone`.
fn no_copy_in(bodies: &[String], kind: &str, gone: &[&str]) {
    assert!(
        bodies.iter().any(|b| b.contains(kind)),
        "{kind}: {bodies:?}"
    );
    for body in bodies {
        for g in gone {
            assert!(!body.contains(g), "{g} kept: {body}");
        }
    }
}

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
        patch_profile(
            &c,
            beta,
            &bob,
            json!({
                "title": "Chief <b>battery</b> officer",
                "current_org": "Secret Labs",
                "audiences": {"title": title_audience, "current_org": []},
            }),
        )
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
    // Nor does beta keep it in an activity it stored for sending.
    no_copy_in(
        &sent_by(&c, beta, &bob).await,
        "#update-actor/",
        &["battery"],
    );

    // The terms of our documents, served as a JSON-LD context.
    let ns = c
        .http
        .get(format!("{}/ns", beta.base))
        .send()
        .await
        .unwrap();
    assert!(
        ns.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/ld+json")
    );
    let ns: Value = ns.json().await.unwrap();
    assert_eq!(ns["@context"]["AlumniProfile"], "tsunagu:AlumniProfile");
    assert_eq!(ns["@context"]["jobTitle"], "schema:jobTitle");
    assert_eq!(
        actor["@context"][2], ns["@context"],
        "the same terms inline"
    );
}

dual!(member_released_fields_reach_the_orgs_directory_elsewhere_and_leave_when_withdrawn);

/// bob@beta, a verified member of acme@alpha, releases his title and career
/// to acme's members, his industry to its office and his skills to "my
/// orgs"; his employer stays his. On alpha, carol (a member) finds him in
/// acme's directory by skill and years there and sees those fields, the
/// office also sees the industry, and no one the employer. The object on
/// beta answers only a fetch signed by the org; withdrawing the releases
/// (and later leaving) empties alpha's copy, and no stored activity on
/// either server keeps the withdrawn values.
async fn member_released_fields_reach_the_orgs_directory_elsewhere_and_leave_when_withdrawn(
    b: Backend,
) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let acme = OrgOn::official(&c, alpha, "acme").await;
    let carol = alpha.token("carol").await;
    let dave = alpha.token("dave").await;
    acme.join_by_invite(&c, alpha, &[&carol]).await;
    let bob = beta.token("bob").await;
    let acme_on_beta = remote_member(&c, (alpha, &acme.office, &acme.id), beta, &bob).await;
    let patch = |body: Value| patch_profile(&c, beta, &bob, body);
    let members = format!("members:{acme_on_beta}");
    let office = format!("office:{acme_on_beta}");
    patch(json!({
        "title": "Battery lead",
        "current_org": "Secret Labs",
        "industry": "healthcare",
        "skills": ["Batteries", "Rust"],
        "tenures": [{"org_id": acme_on_beta, "from": 2010, "to": 2018, "division": "Cells"}],
        "audiences": {
            "title": [members],
            "tenures": [members],
            "industry": [office],
            "skills": ["my_orgs"],
            "current_org": [],
        },
    }))
    .await;

    let directory = async |token: &str, q: &str| {
        c.get(
            &format!("{}/api/v1/orgs/{}/directory?{q}", alpha.base, acme.id),
            token,
        )
        .await
    };
    let bob_acct = format!("bob@{}", beta.host());
    let find_bob = |page: &Value| {
        page["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["account"]["acct"] == bob_acct.as_str())
            .cloned()
    };
    let card = eventually("bob's released fields reach acme's directory", async || {
        find_bob(&directory(&carol, "skills[]=batteries&tenure_from=2015&tenure_to=2016").await)
    })
    .await;
    let p = &card["profile"];
    assert_eq!(p["title"], "Battery lead", "{card}");
    assert_eq!(p["skills"], json!(["Batteries", "Rust"]), "{card}");
    assert_eq!(p["tenures"][0]["org_id"], acme.id.as_str(), "{card}");
    assert_eq!(p["tenures"][0]["division"], "Cells", "{card}");
    assert!(
        p.get("industry").is_none(),
        "members do not see the office's: {card}"
    );
    assert!(p.get("current_org").is_none(), "{card}");
    let as_office = find_bob(&directory(&acme.office, "industry[]=healthcare").await)
        .expect("the office finds bob by industry");
    assert_eq!(
        as_office["profile"]["industry"], "healthcare",
        "{as_office}"
    );
    assert!(
        as_office["profile"].get("current_org").is_none(),
        "{as_office}"
    );
    // Members do not find him by what they may not see.
    assert!(find_bob(&directory(&carol, "industry[]=healthcare").await).is_none());
    let (st, _) = c
        .call(
            reqwest::Method::GET,
            &format!("{}/api/v1/orgs/{}/directory", alpha.base, acme.id),
            &dave,
            None,
        )
        .await;
    assert_eq!(st, 403, "a non-member reads no directory");

    // The object on beta: for the org's signature only.
    let object = format!("{}/users/bob/alumni/{acme_on_beta}", beta.base);
    let unsigned = c
        .http
        .get(&object)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(unsigned, 404);
    let acme_key = private_key_of(alpha, "acme").await;
    let acme_key_id = format!("{}/users/acme#main-key", alpha.base);
    let (st, body) = signed_fetch(&c, &object, &acme_key, &acme_key_id).await;
    assert_eq!(st, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["type"], "AlumniProfile");
    assert_eq!(doc["jobTitle"], "Battery lead");
    assert_eq!(doc["tsunaguIndustry"], "healthcare");
    assert_eq!(
        doc["tsunaguTenures"][0]["org"],
        format!("{}/users/acme", alpha.base)
    );
    assert_eq!(
        doc["tsunaguReleasedTo"],
        json!({"public": [], "members": ["tenures", "title", "skills"], "office": ["industry"]}),
        "{doc}"
    );
    assert!(!body.contains("Secret"), "{body}");
    // dave (known to beta as bob's follower, no member of acme) gets nothing.
    c.follow_and_wait(alpha, &dave, &bob_acct).await;
    let dave_key = private_key_of(alpha, "dave").await;
    let dave_key_id = format!("{}/users/dave#main-key", alpha.base);
    assert_eq!(signed_get(&c, &object, &dave_key, &dave_key_id).await, 404);

    // Withdrawn: alpha keeps nothing of it.
    patch(json!({"audiences": {"title": [], "tenures": [], "industry": [], "skills": []}})).await;
    eventually("the withdrawn fields leave acme's directory", async || {
        let card = find_bob(&directory(&acme.office, "").await)?;
        let p = &card["profile"];
        (p.get("title").is_none() && p.get("skills").is_none() && p.get("industry").is_none())
            .then_some(())
    })
    .await;
    assert!(find_bob(&directory(&carol, "skills[]=batteries").await).is_none());
    let bob_uri = format!("{}/users/bob", beta.base);
    let bob_on_alpha = {
        let mut conn = alpha.state.ctx.conn().await.unwrap();
        tsunagu::db::federation::account_by_ap_id(&mut conn, &bob_uri)
            .await
            .unwrap()
            .unwrap()
    };
    let mut conn = alpha.state.ctx.conn().await.unwrap();
    let stored = tsunagu::db::alumni::profiles(&mut conn, &[bob_on_alpha.id])
        .await
        .unwrap();
    assert_eq!(stored[0].title, "", "{stored:?}");
    assert_eq!(stored[0].industry, None, "{stored:?}");
    let tags = tsunagu::db::alumni::tags(&mut conn, &[bob_on_alpha.id])
        .await
        .unwrap();
    assert!(tags.is_empty(), "{tags:?}");
    let tenures = tsunagu::db::alumni::tenures(&mut conn, &[bob_on_alpha.id])
        .await
        .unwrap();
    assert!(tenures.is_empty(), "{tenures:?}");
    let received = tsunagu::db::federation::inbound_bodies(&mut conn, &bob_uri)
        .await
        .unwrap();
    drop(conn);
    let gone = ["Battery lead", "healthcare"];
    no_copy_in(&received, PROFILE, &gone);
    no_copy_in(&sent_by(&c, beta, &bob).await, PROFILE, &gone);

    // Released again (the employer to everyone), then bob leaves acme:
    // alpha forgets it all, the public part too (no source is left that
    // could withdraw it).
    patch(json!({"audiences": {"title": [members], "current_org": ["public"]}})).await;
    eventually("the title is back in the directory", async || {
        let card = find_bob(&directory(&carol, "").await)?;
        (card["profile"]["title"] == "Battery lead"
            && card["profile"]["current_org"] == "Secret Labs")
            .then_some(())
    })
    .await;
    let (st, r) = c
        .call(
            reqwest::Method::DELETE,
            &format!("{}/api/v1/orgs/{acme_on_beta}/membership", beta.base),
            &bob,
            None,
        )
        .await;
    assert!(st < 300, "{st} {r}");
    eventually("alpha forgets what bob released to acme", async || {
        let mut conn = alpha.state.ctx.conn().await.unwrap();
        let p = tsunagu::db::alumni::profiles(&mut conn, &[bob_on_alpha.id])
            .await
            .unwrap();
        (p[0].title.is_empty() && p[0].current_org.is_empty()).then_some(())
    })
    .await;
    // A late (or forged) Accept from acme does not make bob a member again
    // nor send acme anything.
    let accept_id = format!("{}/users/acme#accept/late", alpha.base);
    let accept = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": accept_id, "type": "Accept", "actor": format!("{}/users/acme", alpha.base),
        "object": {"type": "Join", "actor": bob_uri, "object": format!("{}/users/acme", alpha.base)},
        "tsunaguMembership": {"role": "alumnus"},
    });
    assert_eq!(deliver_as(&c, alpha, "acme", beta, &accept).await, 202);
    eventually("beta processes the late Accept", async || {
        let mut conn = beta.state.ctx.conn().await.unwrap();
        tsunagu::db::federation::inbound_by_ap_id(&mut conn, &accept_id)
            .await
            .unwrap()
            .filter(|r| r.processed_at.is_some())
    })
    .await;
    let m = c
        .get(
            &format!("{}/api/v1/orgs/{acme_on_beta}/membership", beta.base),
            &bob,
        )
        .await;
    assert_eq!(m["state"], "left", "{m}");
    let sent = sent_by(&c, beta, &bob).await;
    no_copy_in(&sent, "Leave", &["Battery lead"]);
    // The employer is still public (in his actor), but no profile for acme
    // holds it any more.
    let for_acme: Vec<String> = sent.into_iter().filter(|b| b.contains(PROFILE)).collect();
    no_copy_in(&for_acme, PROFILE, &["Secret Labs"]);
}

dual!(a_member_elsewhere_fetches_only_what_members_see);

/// acme lives on beta with bob; carol@alpha is a member of it. bob releases
/// his title to acme's members and his industry to its office: carol's
/// signed fetch of his profile for acme gets the title, never the
/// industry; dave@alpha (no member, known to beta) gets 404.
async fn a_member_elsewhere_fetches_only_what_members_see(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let acme = OrgOn::official(&c, beta, "acme").await;
    let bob = beta.token("bob").await;
    acme.join_by_invite(&c, beta, &[&bob]).await;
    let carol = alpha.token("carol").await;
    let dave = alpha.token("dave").await;
    remote_member(&c, (beta, &acme.office, &acme.id), alpha, &carol).await;
    c.follow_and_wait(alpha, &dave, &format!("bob@{}", beta.host()))
        .await;
    patch_profile(
        &c,
        beta,
        &bob,
        json!({
            "title": "Battery lead", "industry": "healthcare", "current_org": "Secret Labs",
            "audiences": {"title": [format!("members:{}", acme.id)],
                          "industry": [format!("office:{}", acme.id)]},
        }),
    )
    .await;
    let object = format!("{}/users/bob/alumni/{}", beta.base, acme.id);
    let key = |name: &'static str| async move {
        (
            private_key_of(alpha, name).await,
            format!("{}/users/{name}#main-key", alpha.base),
        )
    };
    let (carol_key, carol_key_id) = key("carol").await;
    let (st, body) = signed_fetch(&c, &object, &carol_key, &carol_key_id).await;
    assert_eq!(st, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["jobTitle"], "Battery lead", "{doc}");
    assert!(
        doc.get("tsunaguIndustry").is_none(),
        "the office's share: {doc}"
    );
    assert!(doc.get("worksFor").is_none(), "{doc}");
    assert_eq!(
        doc["tsunaguReleasedTo"],
        json!({"public": [], "members": ["title"], "office": []})
    );
    let (dave_key, dave_key_id) = key("dave").await;
    assert_eq!(signed_get(&c, &object, &dave_key, &dave_key_id).await, 404);
}

dual!(every_field_reaches_an_org_elsewhere_only_as_released);

/// For every field and every audience, what bob@beta's `AlumniProfile` for
/// acme@alpha holds: the field, and for whom at acme, exactly when released
/// to acme's office, its members, "my orgs" or everyone; nothing when kept
/// to himself. The object answers a fetch signed by acme; one signed by a
/// non-member, or unsigned, gets 404 whatever is released.
async fn every_field_reaches_an_org_elsewhere_only_as_released(b: Backend) {
    let nodes = cluster(b, &["alpha", "beta"]).await;
    let (alpha, beta) = (&nodes[0], &nodes[1]);
    let c = Client::new(&nodes);
    let acme = OrgOn::official(&c, alpha, "acme").await;
    let bob = beta.token("bob").await;
    let dave = alpha.token("dave").await;
    let acme_on_beta = remote_member(&c, (alpha, &acme.office, &acme.id), beta, &bob).await;
    c.follow_and_wait(alpha, &dave, &format!("bob@{}", beta.host()))
        .await;
    let patch = |body: Value| patch_profile(&c, beta, &bob, body);
    patch(json!({
        "current_org": "Kyoto Medical Devices",
        "title": "Principal engineer",
        "industry": "healthcare",
        "location": {"city": "Kyoto", "region": "Kyoto", "country": "jp"},
        "skills": ["Battery chemistry"],
        "interests": ["Ceramics"],
        "languages": ["ja"],
        "open_to": ["mentoring"],
        "now": "Building dialysis pumps",
        "tenures": [{"org_id": acme_on_beta, "from": 2008, "to": 2015}],
    }))
    .await;
    let object = format!("{}/users/bob/alumni/{acme_on_beta}", beta.base);
    let acme_key = private_key_of(alpha, "acme").await;
    let acme_key_id = format!("{}/users/acme#main-key", alpha.base);
    let dave_key = private_key_of(alpha, "dave").await;
    let dave_key_id = format!("{}/users/dave#main-key", alpha.base);
    let fields = [
        ("tenures", "tsunaguTenures"),
        ("current_org", "worksFor"),
        ("title", "jobTitle"),
        ("industry", "tsunaguIndustry"),
        ("location", "tsunaguLocation"),
        ("skills", "knowsAbout"),
        ("interests", "tsunaguInterests"),
        ("languages", "knowsLanguage"),
        ("open_to", "tsunaguOpenTo"),
        ("now", "tsunaguNow"),
    ];
    // (audience, for whom at acme it is released: none = absent)
    let audiences = [
        (json!([]), None),
        (json!([format!("office:{acme_on_beta}")]), Some("office")),
        (json!([format!("members:{acme_on_beta}")]), Some("members")),
        (json!(["my_orgs"]), Some("members")),
        (json!(["public"]), Some("public")),
    ];
    for (field, key) in fields {
        for (list, reach) in &audiences {
            patch(json!({"audiences": {field: list}})).await;
            let (st, body) = signed_fetch(&c, &object, &acme_key, &acme_key_id).await;
            assert_eq!(st, 200, "{body}");
            let doc: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                doc.get(key).is_some(),
                reach.is_some(),
                "{field} released to {list}: {doc}"
            );
            for (who, names) in doc["tsunaguReleasedTo"].as_object().unwrap() {
                let named: Vec<&str> = names
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                assert_eq!(
                    named.contains(&field),
                    *reach == Some(who.as_str()),
                    "{field} released to {list}, for {who}: {doc}"
                );
                assert!(
                    named.iter().all(|n| *n == field),
                    "only {field} is released: {doc}"
                );
            }
            assert_eq!(
                signed_get(&c, &object, &dave_key, &dave_key_id).await,
                404,
                "a non-member's fetch: {field} released to {list}"
            );
            let unsigned = c
                .http
                .get(&object)
                .header("accept", "application/activity+json")
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(unsigned, 404, "{field} released to {list}");
        }
        patch(json!({"audiences": {field: []}})).await;
    }
}
