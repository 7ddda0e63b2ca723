use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(orgs_are_group_accounts_with_kinds_parents_and_archiving);

async fn orgs_are_group_accounts_with_kinds_parents_and_archiving(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, admin) = app.user_with("office_admin", "read write", true).await;
    let (_, member) = app.user("taro", "read write").await;
    let post = async |token: &str, body: Value| {
        app.json(Method::POST, "/api/v1/orgs", Some(token), &body)
            .await
    };

    // An administrator creates the official org: a Group account.
    let r = post(
        &admin,
        json!({"username": "acme", "display_name": "ACME Alumni", "note": "The ACME alumni network"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let acme = r.json();
    assert_eq!(acme["kind"], "official");
    assert_eq!(acme["acct"], "acme");
    assert_eq!(acme["account"]["group"], true);
    assert_eq!(acme["account"]["display_name"], "ACME Alumni");
    assert!(
        acme["note"]
            .as_str()
            .unwrap()
            .contains("The ACME alumni network")
    );
    let acme_id = acme["id"].as_str().unwrap().to_owned();
    assert_eq!(acme["account"]["id"], acme_id.as_str(), "one id for both");

    // Anyone signed in may start a club, not an official org.
    let r = post(&member, json!({"username": "acme_osaka"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = post(
        &member,
        json!({"username": "acme_osaka", "kind": "club", "parent_id": acme_id}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let club = r.json();
    assert_eq!(club["kind"], "club");
    assert_eq!(club["parent_id"], acme_id.as_str());
    let club_id = club["id"].as_str().unwrap().to_owned();

    // Bad input, each with the field named; people and orgs share names.
    for (body, field) in [
        (json!({"username": "taro", "kind": "club"}), "username"),
        (json!({"username": "ACME", "kind": "club"}), "username"),
        (json!({"username": "bad name", "kind": "club"}), "username"),
        (json!({"kind": "club"}), "username"),
        (json!({"username": "x1", "kind": "guild"}), "kind"),
        (
            json!({"username": "x2", "kind": "club", "parent_id": "1"}),
            "parent_id",
        ),
        (
            json!({"username": "x3", "kind": "club", "parent_id": "abc"}),
            "parent_id",
        ),
        (
            json!({"username": "x4", "kind": "club", "display_name": "d".repeat(101)}),
            "display_name",
        ),
    ] {
        let r = post(&member, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert!(
            r.json()["details"].get(field).is_some(),
            "{body}: {}",
            r.text()
        );
    }
    let r = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            None,
            &json!({"username": "anon"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Listing, by parent; Mastodon apps see the org as an account.
    let all = app.get("/api/v1/orgs", None).await.json();
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let subs = app
        .get(&format!("/api/v1/orgs?parent_id={acme_id}"), None)
        .await
        .json();
    assert_eq!(subs.as_array().unwrap().len(), 1);
    assert_eq!(subs[0]["id"], club_id.as_str());
    let looked = app
        .get("/api/v1/accounts/lookup?acct=acme", None)
        .await
        .json();
    assert_eq!(looked["group"], true);
    assert_eq!(looked["id"], acme_id.as_str());
    app.get("/api/v1/orgs/1", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");

    // WebFinger and the actor document: a Group in the people's name space.
    let domain = app.state.ctx.config.server.domain.clone();
    let r = app
        .get(
            &format!("/.well-known/webfinger?resource=acct:acme@{domain}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let actor_url = r.json()["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = actor_url.split_once("/users/").unwrap().1;
    let r = app
        .send(
            Request::builder()
                .uri(format!("/users/{path}"))
                .header("accept", "application/activity+json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert_eq!(doc["type"], "Group");
    assert_eq!(doc["preferredUsername"], "acme");
    assert!(
        doc["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .contains("PUBLIC KEY")
    );

    // Changes: the creator or an administrator; archiving hides it from the list.
    let patch = async |token: &str, id: &str, body: Value| {
        app.json(
            Method::PATCH,
            &format!("/api/v1/orgs/{id}"),
            Some(token),
            &body,
        )
        .await
    };
    let r = patch(&member, &acme_id, json!({"display_name": "mine now"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = patch(
        &member,
        &club_id,
        json!({"display_name": "ACME Osaka", "locked": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["display_name"], "ACME Osaka");
    assert_eq!(r.json()["account"]["locked"], true);
    let r = patch(&member, &club_id, json!({"parent_id": club_id})).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not its own parent"
    );
    let r = patch(&admin, &club_id, json!({"archived": true})).await;
    assert_eq!(r.json()["archived"], true);
    assert_eq!(r.json()["display_name"], "ACME Osaka", "other fields kept");
    let all = app.get("/api/v1/orgs", None).await.json();
    assert_eq!(all.as_array().unwrap().len(), 1);
    let r = post(
        &member,
        json!({"username": "under_archived", "kind": "club", "parent_id": club_id}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an archived parent"
    );
    let r = patch(&admin, &club_id, json!({"archived": false})).await;
    assert_eq!(r.json()["archived"], false);
    app.finish().await;
}
