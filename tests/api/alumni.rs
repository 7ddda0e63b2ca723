//! Alumni profiles and the directory: per-field audiences enforced in every
//! output, the directory's filters, facets, orders and paging.
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};
use crate::dual;

/// Creates an org as `office` (its first office member); returns its id.
/// Only administrators create official orgs: others' are clubs.
async fn org(app: &TestApp, office: &str, username: &str) -> String {
    let kind = if username == "acme" {
        "official"
    } else {
        "club"
    };
    let r = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(office),
            &json!({"username": username, "display_name": username, "kind": kind}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

/// `token` joins the org with an invite, listed in its directory.
async fn join(app: &TestApp, office: &str, org: &str, token: &str, role: &str) {
    let code = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invites"),
            Some(office),
            &json!({"role": role}),
        )
        .await
        .json()["code"]
        .clone();
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{org}/membership_requests"),
            Some(token),
            &json!({"invite_code": code, "consents": {"directory": true}}),
        )
        .await;
    assert_eq!(r.json()["state"], "verified", "{}", r.text());
}

async fn patch(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app
        .json(Method::PATCH, "/api/v1/alumni/profile", Some(token), &body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn directory(app: &TestApp, token: &str, org: &str, query: &str) -> Value {
    let r = app
        .get(
            &format!("/api/v1/orgs/{org}/directory?{query}"),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text());
    r.json()
}

fn ids(page: &Value) -> Vec<String> {
    page["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["account"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The owner's profile with a value in every field.
fn full_profile(acme: &str) -> Value {
    json!({
        "current_org": "Kyoto Medical Devices",
        "title": "Principal engineer",
        "industry": "healthcare",
        "location": {"city": "Kyoto", "region": "Kyoto", "country": "jp"},
        "skills": ["Battery chemistry", "Rust"],
        "interests": ["Ceramics"],
        "languages": ["ja", "en"],
        "open_to": ["mentoring", "comeback"],
        "now": "Building dialysis pumps",
        "tenures": [{"org_id": acme, "from": 2008, "to": 2015, "division": "Battery", "title": "Engineer"}],
    })
}

/// For one field, a directory query that finds the owner by that field's
/// value, and the facet (and value) that counts it; `None` where the field
/// is not searchable.
fn probe(field: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match field {
        "tenures" => (
            "tenure_from=2010&tenure_to=2011&division[]=Battery",
            "division",
            "Battery",
        ),
        "current_org" => ("q=medical", "", ""),
        "title" => ("q=principal", "", ""),
        "industry" => ("industry[]=healthcare", "industry", "healthcare"),
        "location" => ("country[]=JP", "country", "JP"),
        "skills" => (
            "skills[]=battery%20chemistry",
            "skills",
            "battery chemistry",
        ),
        "interests" => ("interests[]=ceramics", "interests", "ceramics"),
        "languages" => ("languages[]=ja", "languages", "ja"),
        "open_to" => ("open_to[]=mentoring", "open_to", "mentoring"),
        _ => return None,
    })
}

/// A word of each field's value that account search finds the owner by
/// (`None`: a field search does not match).
fn search_word(field: &str) -> Option<&'static str> {
    Some(match field {
        "current_org" => "medical",
        "title" => "principal",
        "location" => "kyoto",
        "skills" => "chemistry",
        "interests" => "ceramics",
        "now" => "dialysis",
        _ => return None,
    })
}

/// A piece of each field's value as it reads among profile fields (the
/// actor document's `attachment`).
fn marker(field: &str) -> &'static str {
    match field {
        "tenures" => "2008–2015",
        "current_org" => "Medical Devices",
        "title" => "Principal",
        "industry" => "healthcare",
        "location" => "Kyoto, Kyoto",
        "skills" => "Battery chemistry",
        "interests" => "Ceramics",
        "languages" => "ja, en",
        "open_to" => "mentoring",
        _ => "dialysis",
    }
}

/// The same piece as it reads in the office's CSV export.
fn csv_marker(field: &str) -> &'static str {
    match field {
        "tenures" => "2008-2015",
        "location" => "Kyoto",
        "languages" => "ja; en",
        f => marker(f),
    }
}

/// The owner's actor document as another server fetches it (unsigned).
async fn actor_attachment(app: &TestApp) -> String {
    let req = axum::http::Request::get("/users/owner")
        .header("accept", "application/activity+json")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["attachment"].to_string()
}

const FIELDS: [&str; 10] = [
    "tenures",
    "current_org",
    "title",
    "industry",
    "location",
    "skills",
    "interests",
    "languages",
    "open_to",
    "now",
];

dual!(every_field_is_seen_by_its_audience_and_nobody_else);

/// For every field and every audience, who sees it and who does not:
/// through the profile API (signed in or not), account search, the office's
/// export, the actor
/// document other servers fetch, the directory's cards, its filters and its
/// facet counts. (What an org's server elsewhere receives and serves is
/// `tests/federation/alumni.rs`.)
async fn every_field_is_seen_by_its_audience_and_nobody_else(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, office) = app.user_with("office", "read write", true).await;
    let (_, owner) = app.user("owner", "read write").await;
    let (_, acme_member) = app.user("acme_member", "read write").await;
    let (_, beta_member) = app.user("beta_member", "read write").await;
    let (_, stranger) = app.user("stranger", "read write").await;
    let acme = org(&app, &office, "acme").await;
    let beta = org(&app, &stranger, "beta").await;
    join(&app, &office, &acme, &owner, "alumnus").await;
    join(&app, &office, &acme, &acme_member, "alumnus").await;
    join(&app, &stranger, &beta, &owner, "alumnus").await;
    join(&app, &stranger, &beta, &beta_member, "alumnus").await;
    // `stranger` runs beta's office; for acme they are nobody.
    let me = patch(&app, &owner, full_profile(&acme)).await;
    let owner_id = me["account_id"].as_str().unwrap().to_owned();
    assert!(
        me["audiences"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v == &json!([])),
        "private by default: {me}"
    );

    let audiences = [
        ("only me", json!([])),
        ("acme's office", json!([format!("office:{acme}")])),
        ("acme's members", json!([format!("members:{acme}")])),
        ("members of my orgs", json!(["my_orgs"])),
        ("public", json!(["public"])),
    ];
    // Who sees a field released to each audience, in the order above.
    let viewers: [(&str, Option<&str>, [bool; 5]); 6] = [
        ("the owner", Some(&owner), [true; 5]),
        (
            "acme's office",
            Some(&office),
            [false, true, true, true, true],
        ),
        (
            "an acme member",
            Some(&acme_member),
            [false, false, true, true, true],
        ),
        (
            "a beta member",
            Some(&beta_member),
            [false, false, false, true, true],
        ),
        (
            "beta's office, not in acme",
            Some(&stranger),
            [false, false, false, true, true],
        ),
        ("nobody signed in", None, [false, false, false, false, true]),
    ];
    // The stranger runs beta, so "members of my orgs" reaches them too.
    for field in FIELDS {
        for (a, (audience, list)) in audiences.iter().enumerate() {
            patch(&app, &owner, json!({"audiences": {field: list}})).await;
            for (who, token, sees) in &viewers {
                let r = app
                    .get(&format!("/api/v1/alumni/profile/{owner_id}"), *token)
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text());
                let got = r.json();
                assert_eq!(
                    got.get(field).is_some(),
                    sees[a],
                    "{field} released to {audience}, read by {who}: {got}"
                );
                for other in FIELDS.iter().filter(|f| **f != field) {
                    // Every other field is still private to the owner.
                    assert_eq!(
                        got.get(*other).is_some(),
                        *who == "the owner",
                        "{other} {got}"
                    );
                }
                assert_eq!(got.get("audiences").is_some(), *who == "the owner");
                // Account search matches a field only where it is seen.
                if let Some(word) = search_word(field) {
                    let r = app
                        .get(&format!("/api/v2/search?type=accounts&q={word}"), *token)
                        .await;
                    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
                    let found = r.json()["accounts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|a| a["id"] == owner_id.as_str());
                    assert_eq!(
                        found, sees[a],
                        "search {word}: {field} to {audience} by {who}"
                    );
                }
            }
            // ActivityPub: the actor carries a field released to everyone,
            // nothing else.
            let attachment = actor_attachment(&app).await;
            assert_eq!(
                attachment.contains(marker(field)),
                *audience == "public",
                "actor: {field} released to {audience}: {attachment}"
            );
            // The office's export of acme's directory: what acme's office
            // sees (index 1 of each viewer's row), nothing else.
            let csv = app
                .get(
                    &format!("/api/v1/orgs/{acme}/directory/export"),
                    Some(&office),
                )
                .await
                .text();
            let row = csv
                .lines()
                .find(|l| l.starts_with(&format!("{owner_id},")))
                .unwrap_or_else(|| panic!("the owner is exported: {csv}"));
            assert_eq!(
                row.contains(csv_marker(field)),
                viewers[1].2[a],
                "export: {field} released to {audience}: {row}"
            );
            // The directory of acme: its office and its members read it.
            for (who, token, sees) in &viewers[..3] {
                let token = token.unwrap();
                let all = directory(&app, token, &acme, "facets=true&limit=80").await;
                let card = all["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| m["account"]["id"] == owner_id.as_str())
                    .unwrap_or_else(|| panic!("{who} lists the owner: {all}"));
                assert_eq!(
                    card["profile"].get(field).is_some(),
                    sees[a],
                    "card: {field} to {audience} by {who}: {card}"
                );
                let Some((query, facet, value)) = probe(field) else {
                    continue;
                };
                let found = ids(&directory(&app, token, &acme, query).await);
                assert_eq!(
                    found.contains(&owner_id),
                    sees[a],
                    "filter {query}: {field} to {audience} by {who}: {found:?}"
                );
                if !facet.is_empty() {
                    let counted = all["facets"][facet]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| c["value"] == value && c["count"] == 1);
                    assert_eq!(
                        counted, sees[a],
                        "facet {facet}: {field} to {audience} by {who}: {}",
                        all["facets"]
                    );
                }
            }
        }
        patch(&app, &owner, json!({"audiences": {field: []}})).await;
    }
    // Nobody outside acme reads its directory.
    for token in [&beta_member, &stranger] {
        let r = app
            .get(&format!("/api/v1/orgs/{acme}/directory"), Some(token))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }
    let r = app
        .get(&format!("/api/v1/orgs/{acme}/directory"), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    app.finish().await;
}

dual!(profiles_are_checked_kept_and_confirmed);

/// What a person may write, the one-call "now", and the office's
/// confirmation of a period (kept while the period is unchanged).
async fn profiles_are_checked_kept_and_confirmed(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, office) = app.user_with("office", "read write", true).await;
    let (_, hanako) = app.user("hanako", "read write").await;
    let (_, other) = app.user("other", "read write").await;
    let acme = org(&app, &office, "acme").await;
    let beta = org(&app, &other, "beta").await;
    join(&app, &office, &acme, &hanako, "alumnus").await;
    let saved = patch(&app, &hanako, full_profile(&acme)).await;
    assert_eq!(saved["location"]["country"], "JP");
    assert_eq!(saved["skills"], json!(["Battery chemistry", "Rust"]));
    assert_eq!(saved["open_to"], json!(["mentoring", "comeback"]));
    assert_eq!(saved["now"]["text"], "Building dialysis pumps");
    assert!(
        saved["now"]["date"].as_str().unwrap().len() == 10,
        "{saved}"
    );
    assert_eq!(saved["tenures"][0]["verified"], false);

    // Each bad value: 422 naming the field, nothing stored.
    let bad = [
        (json!({"industry": "alchemy"}), "industry"),
        (json!({"title": "x".repeat(101)}), "title"),
        (json!({"location": {"country": "Japan"}}), "country"),
        (json!({"languages": ["日本語"]}), "languages"),
        (json!({"open_to": ["anything"]}), "open_to"),
        (
            json!({"skills": (0..31).map(|i| format!("s{i}")).collect::<Vec<_>>()}),
            "skills",
        ),
        (json!({"now": "x".repeat(281)}), "now"),
        (json!({"audiences": {"salary": ["public"]}}), "audiences"),
        (json!({"audiences": {"title": ["everyone"]}}), "audiences"),
        (
            json!({"audiences": {"title": [format!("members:{beta}")]}}),
            "audiences",
        ),
        (
            json!({"tenures": [{"org_id": acme, "from": 2015, "to": 2010}]}),
            "tenures",
        ),
        (
            json!({"tenures": [{"org_id": "1", "from": 2015}]}),
            "tenures",
        ),
        (
            json!({"tenures": [{"org_id": acme, "from": 1800}]}),
            "tenures",
        ),
        (json!({"favourite_colour": "blue"}), "favourite_colour"),
    ];
    for (body, field) in bad {
        let r = app
            .json(
                Method::PATCH,
                "/api/v1/alumni/profile",
                Some(&hanako),
                &body,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        let error = r.json()["error"].as_str().unwrap().to_lowercase();
        assert!(
            error.contains(field) || error.contains(&field.replace('_', " ")),
            "{body}: {}",
            r.text()
        );
    }
    let r = app.get("/api/v1/alumni/profile", Some(&hanako)).await;
    let mut now = r.json();
    let mut before = saved.clone();
    now.as_object_mut().unwrap().remove("updated_at");
    before.as_object_mut().unwrap().remove("updated_at");
    assert_eq!(now, before, "nothing changed");

    // "Now" in one call, with its audience.
    let r = app
        .json(
            Method::PUT,
            "/api/v1/alumni/now",
            Some(&hanako),
            &json!({"text": "Back in Osaka", "audience": ["public"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["now"]["text"], "Back in Osaka");
    assert_eq!(r.json()["audiences"]["now"], json!(["public"]));
    assert_eq!(r.json()["title"], "Principal engineer", "the rest kept");
    let id = r.json()["account_id"].as_str().unwrap().to_owned();
    let seen = app
        .get(&format!("/api/v1/alumni/profile/{id}"), None)
        .await
        .json();
    assert_eq!(seen["now"]["text"], "Back in Osaka");
    assert!(seen.get("title").is_none());

    // The office confirms the period; only acme's office, only acme's periods.
    let tenure = saved["tenures"][0]["id"].as_str().unwrap().to_owned();
    let verify = format!("/api/v1/orgs/{acme}/tenures/{tenure}/verify");
    let r = app
        .json(Method::POST, &verify, Some(&hanako), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{beta}/tenures/{tenure}/verify"),
            Some(&other),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = app
        .json(Method::POST, &verify, Some(&office), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["verified"], true);
    // A new title keeps the confirmation; new years are a new claim.
    let mut t = json!({"id": tenure, "org_id": acme, "from": 2008, "to": 2015, "division": "Battery", "title": "Lead"});
    let kept = patch(&app, &hanako, json!({"tenures": [t.clone()]})).await;
    assert_eq!(kept["tenures"][0]["verified"], true, "{kept}");
    t["to"] = json!(2016);
    let changed = patch(&app, &hanako, json!({"tenures": [t]})).await;
    assert_eq!(changed["tenures"][0]["verified"], false, "{changed}");
    // Years arrive as text from forms.
    let r = app
        .form(
            Method::PATCH,
            "/api/v1/alumni/profile",
            Some(&hanako),
            &[
                ("tenures[0][org_id]", acme.as_str()),
                ("tenures[0][from]", "2001"),
                ("tenures[0][to]", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["tenures"][0]["from"], 2001);
    assert_eq!(r.json()["tenures"][0]["to"], Value::Null);
    let r = app.get("/api/v1/alumni/profile/999999", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.finish().await;
}

dual!(the_directory_filters_counts_orders_and_pages);

/// A directory of several people: combined filters, facet counts, the
/// orders, paging with offset, and who is listed for whom.
async fn the_directory_filters_counts_orders_and_pages(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, office) = app.user_with("office", "read write", true).await;
    let acme = org(&app, &office, "acme").await;
    let people = [
        (
            "aiko",
            "healthcare",
            "JP",
            vec!["Rust", "Go"],
            2001,
            Some(2005),
            "Battery",
            vec!["mentoring"],
        ),
        (
            "bunta",
            "healthcare",
            "US",
            vec!["Rust"],
            2010,
            Some(2020),
            "Battery",
            vec!["comeback"],
        ),
        (
            "chie",
            "software",
            "JP",
            vec!["Go"],
            2012,
            None,
            "Audio",
            vec!["mentoring", "comeback"],
        ),
        (
            "daichi",
            "healthcare",
            "JP",
            vec!["Rust"],
            2014,
            Some(2018),
            "Audio",
            vec!["mentoring"],
        ),
        (
            "emi",
            "finance",
            "JP",
            vec![],
            1995,
            Some(1999),
            "Battery",
            vec![],
        ),
    ];
    let mut tokens = Vec::new();
    for (name, industry, country, skills, from, to, division, open_to) in &people {
        let (_, token) = app.user(name, "read write").await;
        join(&app, &office, &acme, &token, "alumnus").await;
        patch(
            &app,
            &token,
            json!({
                "industry": industry,
                "location": {"country": country},
                "skills": skills,
                "open_to": open_to,
                "tenures": [{"org_id": acme, "from": from, "to": to, "division": division}],
                "audiences": {
                    "industry": ["my_orgs"], "location": ["my_orgs"], "skills": ["my_orgs"],
                    "open_to": ["my_orgs"], "tenures": ["my_orgs"]
                }
            }),
        )
        .await;
        tokens.push(token);
    }
    let names = |page: &Value| -> Vec<String> {
        page["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["account"]["username"].as_str().unwrap().to_owned())
            .collect()
    };
    let reader = &tokens[0];
    // Healthcare + Rust + at acme some time in 2004–2015 + open to mentoring.
    let page = directory(
        &app,
        reader,
        &acme,
        "industry[]=healthcare&skills[]=rust&tenure_from=2004&tenure_to=2015&open_to[]=mentoring&order=name&facets=true",
    )
    .await;
    assert_eq!(names(&page), ["aiko", "daichi"], "{page}");
    assert_eq!(page["total"], 2);
    let facet = |name: &str, value: &str| -> i64 {
        page["facets"][name]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["value"] == value)
            .map(|c| c["count"].as_i64().unwrap())
            .unwrap_or(0)
    };
    assert_eq!(facet("division", "Battery"), 1);
    assert_eq!(facet("division", "Audio"), 1);
    assert_eq!(facet("skills", "go"), 1);
    assert_eq!(facet("country", "JP"), 2);
    assert_eq!(facet("role", "alumnus"), 2);
    // Any of several values; a still-open period overlaps the future.
    let page = directory(
        &app,
        reader,
        &acme,
        "open_to[]=comeback&open_to[]=mentoring&tenure_from=2025&order=name",
    )
    .await;
    assert_eq!(names(&page), ["chie"]);
    let page = directory(
        &app,
        reader,
        &acme,
        "country[]=jp&division[]=Battery&order=name",
    )
    .await;
    assert_eq!(names(&page), ["aiko", "emi"]);
    // Orders: by earliest start at acme. (The office's founder never chose
    // to be listed: not in members' results.)
    let page = directory(&app, reader, &acme, "order=tenure").await;
    assert_eq!(names(&page), ["emi", "aiko", "bunta", "chie", "daichi"]);
    let page = directory(&app, reader, &acme, "order=updated").await;
    assert_eq!(names(&page)[0], "emi", "last updated first: {page}");
    // Paging by offset reaches everyone once.
    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let page = directory(
            &app,
            reader,
            &acme,
            &format!("order=name&limit=2&offset={offset}"),
        )
        .await;
        assert_eq!(page["total"], 5);
        seen.extend(names(&page));
    }
    assert_eq!(seen, ["aiko", "bunta", "chie", "daichi", "emi"]);
    // Bad parameters are clear errors.
    for (q, field) in [
        ("order=salary", "order"),
        ("industry[]=alchemy", "industry"),
        ("tenure_from=2010&tenure_to=2000", "tenure_to"),
        ("offset=many", "offset"),
        ("role[]=owner", "role"),
    ] {
        let r = app
            .get(&format!("/api/v1/orgs/{acme}/directory?{q}"), Some(reader))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{q}: {}",
            r.text()
        );
        assert!(r.text().contains(field), "{q}: {}", r.text());
    }
    // Someone who withdraws the directory consent leaves members' results,
    // not the office's.
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{acme}/membership/consents"),
            Some(&tokens[4]),
            &json!({"consents": {"directory": false}}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let page = directory(&app, reader, &acme, "order=name").await;
    assert!(!names(&page).contains(&"emi".to_owned()), "{page}");
    let page = directory(&app, &office, &acme, "order=name").await;
    assert_eq!(
        names(&page),
        ["aiko", "bunta", "chie", "daichi", "emi", "office"]
    );
    app.finish().await;
}

dual!(public_fields_reach_mastodon_apps_and_the_directory_of_accounts);

/// Fields released to the public show as the account's Mastodon `fields`
/// (after the person's own), and go when withdrawn; Mastodon's
/// `/api/v1/directory` lists discoverable accounts.
async fn public_fields_reach_mastodon_apps_and_the_directory_of_accounts(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, office) = app.user_with("office", "read write", true).await;
    let (_, hanako) = app.user("hanako", "read write").await;
    let (_, hidden) = app.user("hidden", "read write").await;
    let acme = org(&app, &office, "acme").await;
    join(&app, &office, &acme, &hanako, "alumnus").await;
    let r = app
        .form(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&hanako),
            &[
                ("fields_attributes[0][name]", "Blog"),
                ("fields_attributes[0][value]", "hanako.example"),
                ("discoverable", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let me = patch(
        &app,
        &hanako,
        json!({
            "title": "Principal engineer", "industry": "healthcare",
            "skills": ["Rust", "Battery chemistry"], "now": "Back in Osaka",
            "audiences": {"title": ["public"], "skills": ["public"], "now": ["public"], "industry": ["my_orgs"]}
        }),
    )
    .await;
    let id = me["account_id"].as_str().unwrap().to_owned();
    let fields = |v: &Value| -> Vec<(String, String)> {
        v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_owned(),
                    f["value"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    for token in [None, Some(hidden.as_str()), Some(hanako.as_str())] {
        let account = app
            .get(&format!("/api/v1/accounts/{id}"), token)
            .await
            .json();
        assert_eq!(
            fields(&account),
            [
                ("Blog".to_owned(), "hanako.example".to_owned()),
                ("Title".to_owned(), "Principal engineer".to_owned()),
                ("Skills".to_owned(), "Rust, Battery chemistry".to_owned()),
                ("Now".to_owned(), "Back in Osaka".to_owned()),
            ],
            "{account}"
        );
    }
    // Her own credentials keep the fields she edits apart (the source).
    let mine = app
        .get("/api/v1/accounts/verify_credentials", Some(&hanako))
        .await
        .json();
    assert_eq!(
        mine["source"]["fields"].as_array().unwrap().len(),
        1,
        "{mine}"
    );
    patch(
        &app,
        &hanako,
        json!({"audiences": {"title": [], "skills": []}}),
    )
    .await;
    let account = app
        .get(&format!("/api/v1/accounts/{id}"), None)
        .await
        .json();
    assert_eq!(
        fields(&account),
        [
            ("Blog".to_owned(), "hanako.example".to_owned()),
            ("Now".to_owned(), "Back in Osaka".to_owned()),
        ]
    );

    // Mastodon's directory: discoverable local people, newest first.
    let r = app
        .form(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&hidden),
            &[("discoverable", "false")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let listed = app
        .get("/api/v1/directory?order=new&local=true", None)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let listed = listed.json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"hanako"), "{names:?}");
    assert!(!names.contains(&"hidden"), "{names:?}");
    assert!(!names.contains(&"acme"), "orgs are not people: {names:?}");
    let page = app
        .get("/api/v1/directory?order=active&limit=1&offset=0", None)
        .await
        .json();
    assert_eq!(page.as_array().unwrap().len(), 1);
    app.finish().await;
}

dual!(the_office_exports_the_directory_and_counts_profiles);

/// The office's CSV: people who chose to be listed, each field only if
/// released to the office; spreadsheet formulas defused. Counts of members
/// by role and by how complete their profiles are (for the office).
async fn the_office_exports_the_directory_and_counts_profiles(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, office) = app.user_with("office", "read write", true).await;
    let (_, hanako) = app.user("hanako", "read write").await;
    let (_, taro) = app.user("taro", "read write").await;
    let (_, jiro) = app.user("jiro", "read write").await;
    let acme = org(&app, &office, "acme").await;
    join(&app, &office, &acme, &hanako, "alumnus").await;
    join(&app, &office, &acme, &taro, "employee").await;
    join(&app, &office, &acme, &jiro, "alumnus").await;
    patch(
        &app,
        &hanako,
        json!({
            "title": "=HYPERLINK(\"http://evil.example\")", "skills": ["Rust"],
            "industry": "healthcare", "location": {"city": "Kyoto", "country": "JP"},
            "audiences": {"title": [format!("office:{acme}")], "industry": ["my_orgs"], "location": ["public"]}
        }),
    )
    .await;
    patch(
        &app,
        &taro,
        json!({"title": "Secret", "industry": "software"}),
    )
    .await;
    patch(
        &app,
        &jiro,
        json!({"title": "Gone", "audiences": {"title": ["public"]}}),
    )
    .await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{acme}/membership/consents"),
            Some(&jiro),
            &json!({"consents": {"directory": false}}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let export = format!("/api/v1/orgs/{acme}/directory/export");
    let r = app.get(&export, Some(&hanako)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = app.get(&export, Some(&office)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let csv = r.text();
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..6],
        [
            "id",
            "username",
            "display_name",
            "role",
            "updated_at",
            "tenures"
        ]
    );
    let rows: Vec<&str> = lines.collect();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.contains(&format!(",{name},")))
            .copied()
    };
    let hanako_row = row("hanako").unwrap_or_else(|| panic!("{csv}"));
    assert!(hanako_row.contains("'=HYPERLINK"), "defused: {hanako_row}");
    assert!(
        hanako_row.contains("healthcare") && hanako_row.contains("Kyoto"),
        "{hanako_row}"
    );
    assert!(
        !hanako_row.contains("Rust"),
        "skills are hers alone: {hanako_row}"
    );
    let taro_row = row("taro").unwrap_or_else(|| panic!("{csv}"));
    assert!(
        !taro_row.contains("Secret") && !taro_row.contains("software"),
        "{taro_row}"
    );
    assert!(row("jiro").is_none(), "withdrew from the directory: {csv}");

    let stats = format!("/api/v1/orgs/{acme}/directory/stats");
    let r = app.get(&stats, Some(&hanako)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let s = app.get(&stats, Some(&office)).await.json();
    assert_eq!(s["members"]["alumnus"], 2, "{s}");
    assert_eq!(s["members"]["employee"], 1, "{s}");
    assert_eq!(s["members"]["office"], 1, "{s}");
    // Filled fields the office may see: hanako 3 (title, industry,
    // location), jiro 1 (title), taro and the office 0.
    let filled = |n: i64| {
        s["completeness"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["filled"] == n)
            .map(|c| c["members"].as_i64().unwrap())
            .unwrap_or(0)
    };
    assert_eq!((filled(0), filled(1), filled(3)), (2, 1, 1), "{s}");
    app.finish().await;
}

dual!(stale_profiles_are_reminded_once_per_period);

/// After `alumni.reminder_months` without a change, a member is reminded
/// by their org (notification and mail), once; a change resets the clock.
async fn stale_profiles_are_reminded_once_per_period(b: Backend) {
    use tsunagu::services::alumni::reminders::remind_due;
    let app = TestApp::start_with(b, |c| {
        c.mail.transport = tsunagu::config::MailTransport::File;
        c.alumni.reminder_months = 2;
    })
    .await;
    let ctx = &app.state.ctx;
    let (_, office) = app.user_with("office", "read write", true).await;
    let (_, hanako) = app.user("hanako", "read write").await;
    let (_, loner) = app.user("loner", "read write").await;
    let acme = org(&app, &office, "acme").await;
    join(&app, &office, &acme, &hanako, "alumnus").await;
    assert_eq!(remind_due(ctx).await.unwrap(), 0, "nobody is due yet");
    // Everyone signed up 70 days ago; only members are reminded.
    let mut conn = ctx.conn().await.unwrap();
    let ago = |days: i64| (tsunagu::ids::now() - chrono::Duration::days(days)).to_string();
    tsunagu::db::execute_script(
        &mut conn,
        &format!("UPDATE accounts SET created_at = '{}' WHERE local", ago(70)),
    )
    .await
    .unwrap();
    drop(conn);
    assert_eq!(remind_due(ctx).await.unwrap(), 2, "hanako and the office");
    assert_eq!(remind_due(ctx).await.unwrap(), 0, "once per period");
    let reminders = async |token: &str| {
        let list = app.get("/api/v1/notifications", Some(token)).await.json();
        list.as_array()
            .unwrap()
            .iter()
            .filter(|n| n["type"] == "tsunagu.profile_reminder")
            .map(|n| n["account"]["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(reminders(&hanako).await, vec![acme.clone()], "from the org");
    assert!(reminders(&loner).await.is_empty());
    let mut mailed = Vec::new();
    for _ in 0..100 {
        mailed = crate::web::mails_to(&app, "hanako@example.com");
        if !mailed.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        mailed
            .iter()
            .any(|m| m.contains("alumni profile up to date")),
        "{mailed:?}"
    );
    // She updates; the office's profile stays old. Two periods later only
    // the office is due again.
    patch(&app, &hanako, json!({"now": "Still in Kyoto"})).await;
    let mut conn = ctx.conn().await.unwrap();
    tsunagu::db::execute_script(
        &mut conn,
        &format!(
            "UPDATE alumni_profiles SET reminded_at = '{}' WHERE account_id IN (SELECT id FROM accounts WHERE username = 'office')",
            ago(61)
        ),
    )
    .await
    .unwrap();
    drop(conn);
    assert_eq!(remind_due(ctx).await.unwrap(), 1);
    assert_eq!(reminders(&office).await.len(), 2);
    assert_eq!(reminders(&hanako).await.len(), 1);
    app.finish().await;
}

dual!(hidden_values_neither_match_nor_sort_nor_show_when);

/// What is hidden stays hidden from free text, from the orders, from the
/// date of change, and from an administrator acting as an org's office
/// without being its member (whose cards and filters agree).
async fn hidden_values_neither_match_nor_sort_nor_show_when(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, founder) = app.user_with("founder", "read write", true).await;
    let (_, admin) = app.user_with("admin", "read write", true).await;
    let (_, reader) = app.user("reader", "read write").await;
    let (_, open) = app.user("open", "read write").await;
    let (_, secret) = app.user("secret", "read write").await;
    let acme = org(&app, &founder, "acme").await;
    for token in [&reader, &open, &secret] {
        join(&app, &founder, &acme, token, "alumnus").await;
    }
    let everything = |audience: Value| {
        json!({
            "skills": ["Quantum annealing"], "title": "Chief alchemist",
            "tenures": [{"org_id": acme, "from": 1990, "to": 1995}],
            "audiences": {"skills": audience, "title": audience, "tenures": audience}
        })
    };
    patch(&app, &open, everything(json!(["my_orgs"]))).await;
    let hidden = patch(&app, &secret, everything(json!([format!("office:{acme}")]))).await;
    let secret_id = hidden["account_id"].as_str().unwrap().to_owned();
    let names = |page: &Value| -> Vec<String> {
        page["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["account"]["username"].as_str().unwrap().to_owned())
            .collect()
    };
    for q in ["q=quantum", "q=alchemist", "q=annealing&order=name"] {
        let page = directory(&app, &reader, &acme, q).await;
        assert_eq!(names(&page), ["open"], "{q}: {page}");
    }
    // The hidden 1990 start does not sort first: it sorts with no start.
    let page = directory(&app, &reader, &acme, "order=tenure").await;
    assert_eq!(names(&page), ["open", "reader", "secret"], "{page}");
    // Nothing of hers is visible, so neither is when she changed it, and
    // her change does not sort her first.
    let seen = app
        .get(
            &format!("/api/v1/alumni/profile/{secret_id}"),
            Some(&reader),
        )
        .await
        .json();
    assert_eq!(seen["updated_at"], Value::Null, "{seen}");
    let page = directory(&app, &reader, &acme, "order=updated").await;
    assert_eq!(names(&page)[0], "open", "{page}");
    // An administrator, not a member, acts as acme's office: sees what was
    // released to the office, on the cards and in the filters alike; not
    // what was released to members only.
    let page = directory(&app, &admin, &acme, "q=quantum&order=name").await;
    assert_eq!(names(&page), ["secret"], "{page}");
    let card = &page["members"][0]["profile"];
    assert_eq!(card["skills"], json!(["Quantum annealing"]), "{card}");
    let page = directory(
        &app,
        &admin,
        &acme,
        "skills[]=quantum%20annealing&order=name",
    )
    .await;
    assert_eq!(names(&page), ["secret"], "{page}");
    assert!(page["members"][0]["profile"].get("skills").is_some());
    app.finish().await;
}

dual!(leaving_an_org_withdraws_what_was_released_to_it);

/// What one released to an org's members or office stops at leaving it: its
/// people no longer see it, and joining again releases nothing by itself.
async fn leaving_an_org_withdraws_what_was_released_to_it(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, office) = app.user_with("office", "read write", true).await;
    let (_, hanako) = app.user("hanako", "read write").await;
    let (_, jiro) = app.user("jiro", "read write").await;
    let acme = org(&app, &office, "acme").await;
    join(&app, &office, &acme, &hanako, "alumnus").await;
    join(&app, &office, &acme, &jiro, "alumnus").await;
    let mine = patch(
        &app,
        &hanako,
        json!({"title": "CTO", "industry": "software", "audiences": {
            "title": [format!("members:{acme}")],
            "industry": [format!("office:{acme}"), "public"],
        }}),
    )
    .await;
    let id = mine["account_id"].as_str().unwrap().to_owned();
    let seen = |token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            app.get(&format!("/api/v1/alumni/profile/{id}"), Some(&token))
                .await
                .json()
        }
    };
    assert_eq!(seen(jiro.clone()).await["title"], "CTO");
    let r = app
        .json(
            Method::DELETE,
            &format!("/api/v1/orgs/{acme}/membership"),
            Some(&hanako),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let after = seen(jiro.clone()).await;
    assert!(after.get("title").is_none(), "{after}");
    assert_eq!(after["industry"], "software", "the public release stays");
    let own = app
        .get("/api/v1/alumni/profile", Some(&hanako))
        .await
        .json();
    assert_eq!(own["audiences"]["title"], json!([]), "{own}");
    assert_eq!(own["audiences"]["industry"], json!(["public"]), "{own}");
    assert_eq!(own["title"], "CTO", "the value itself is kept");
    join(&app, &office, &acme, &hanako, "alumnus").await;
    assert!(seen(jiro).await.get("title").is_none());
}

dual!(the_members_list_shows_periods_as_their_owner_released_them);

/// `GET /api/v1/orgs/:id/members`: a fellow member sees someone's years
/// and divisions there as released in their alumni profile (the claim made
/// when joining stays the office's), and nothing once withdrawn.
async fn the_members_list_shows_periods_as_their_owner_released_them(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, office) = app.user_with("office", "read write", true).await;
    let (_, hanako) = app.user("hanako", "read write").await;
    let (_, jiro) = app.user("jiro", "read write").await;
    let acme = org(&app, &office, "acme").await;
    let code = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{acme}/invites"),
            Some(&office),
            &json!({"role": "alumnus"}),
        )
        .await
        .json()["code"]
        .clone();
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{acme}/membership_requests"),
            Some(&hanako),
            &json!({"invite_code": code, "role": "alumnus", "tenure_from": "2001", "tenure_to": "2010",
                    "divisions": ["Battery"], "consents": {"directory": true}}),
        )
        .await;
    assert_eq!(r.json()["state"], "verified", "{}", r.text());
    join(&app, &office, &acme, &jiro, "alumnus").await;
    // The claim made on joining starts her profile's period there, private
    // like every field; jiro claimed nothing, so has none.
    let own = app
        .get("/api/v1/alumni/profile", Some(&hanako))
        .await
        .json();
    let t = &own["tenures"][0];
    assert_eq!(own["tenures"].as_array().unwrap().len(), 1, "{own}");
    assert_eq!(
        (
            &t["org_id"],
            &t["from"],
            &t["to"],
            &t["division"],
            &t["verified"]
        ),
        (
            &json!(acme),
            &json!(2001),
            &json!(2010),
            &json!("Battery"),
            &json!(false)
        ),
        "{own}"
    );
    assert_eq!(own["audiences"]["tenures"], json!([]), "{own}");
    let own = app.get("/api/v1/alumni/profile", Some(&jiro)).await.json();
    assert_eq!(own["tenures"], json!([]), "{own}");
    let hanako_as_seen = |token: String| {
        let app = &app;
        let acme = acme.clone();
        async move {
            let list = app
                .get(&format!("/api/v1/orgs/{acme}/members"), Some(&token))
                .await
                .json();
            list.as_array()
                .unwrap()
                .iter()
                .find(|m| m["account"]["username"] == "hanako")
                .cloned()
                .expect("hanako listed")
        }
    };
    let before = hanako_as_seen(jiro.clone()).await;
    assert!(before["tenure_from"].is_null(), "{before}");
    assert_eq!(before["divisions"], json!([]), "{before}");
    let office_view = hanako_as_seen(office.clone()).await;
    assert_eq!(
        office_view["tenure_from"], "2001",
        "the office sees the claim"
    );
    // Her periods in the profile (not the claim: it may be the office's
    // roster), released to acme's members.
    patch(
        &app,
        &hanako,
        json!({"tenures": [
                  {"org_id": acme, "from": 2002, "to": 2006, "division": "Cells"},
                  {"org_id": acme, "from": 2008, "to": 2012, "division": "Battery"},
              ],
              "audiences": {"tenures": [format!("members:{acme}")]}}),
    )
    .await;
    let after = hanako_as_seen(jiro.clone()).await;
    assert_eq!(after["tenure_from"], "2002", "{after}");
    assert_eq!(after["tenure_to"], "2012", "{after}");
    assert_eq!(after["divisions"], json!(["Cells", "Battery"]), "{after}");
    patch(&app, &hanako, json!({"audiences": {"tenures": []}})).await;
    let hidden = hanako_as_seen(jiro).await;
    assert!(hidden["tenure_from"].is_null(), "{hidden}");
}
