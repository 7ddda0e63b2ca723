use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(reports_are_filed_checked_and_listed_for_moderators);

async fn reports_are_filed_checked_and_listed_for_moderators(b: Backend) {
    let app = TestApp::start_with(b, |c| {
        c.instance.rules = vec!["Be kind".into(), "No spam".into()];
    })
    .await;
    let (_, reporter) = app.user("reporter", "read write").await;
    let (_, spammer) = app.user("spammer", "read write").await;
    let (_, bystander) = app.user("bystander", "read write").await;
    let (_, readonly) = app.user("readonly", "read").await;
    let id = |v: &serde_json::Value| v["id"].as_str().unwrap().to_owned();
    let spammer_id = id(&app
        .get("/api/v1/accounts/lookup?acct=spammer", None)
        .await
        .json());
    let spam = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&spammer),
            &json!({"status": "buy now", "visibility": "public"}),
        )
        .await
        .json();
    let other = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&bystander),
            &json!({"status": "hello", "visibility": "public"}),
        )
        .await
        .json();

    // A form-encoded report, as Mastodon apps send it.
    let r = app
        .form(
            Method::POST,
            "/api/v1/reports",
            Some(&reporter),
            &[
                ("account_id", spammer_id.as_str()),
                ("status_ids[]", spam["id"].as_str().unwrap()),
                ("comment", "Spam in the alumni timeline"),
                ("rule_ids[]", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let report = r.json();
    assert_eq!(report["category"], "violation", "rules imply a violation");
    assert_eq!(report["status_ids"], json!([spam["id"]]));
    assert_eq!(report["rule_ids"], json!(["2"]));
    assert_eq!(report["action_taken"], false);
    assert_eq!(
        report["forwarded"], false,
        "a local account: nothing to forward"
    );
    assert_eq!(report["target_account"]["id"], spammer_id.as_str());
    assert_eq!(report["comment"], "Spam in the alumni timeline");

    let reporter_id = id(&app
        .get("/api/v1/accounts/lookup?acct=reporter", None)
        .await
        .json());
    // Bad input (reporting oneself too): each refused with the parameter named, nothing stored.
    let bad = [
        (json!({}), "account_id"),
        (
            json!({"account_id": spammer_id, "category": "rude"}),
            "category",
        ),
        (
            json!({"account_id": spammer_id, "status_ids": [other["id"]]}),
            "status_ids",
        ),
        (
            json!({"account_id": spammer_id, "status_ids": ["x"]}),
            "status_ids",
        ),
        (
            json!({"account_id": spammer_id, "rule_ids": ["9"]}),
            "rule_ids",
        ),
        (
            json!({"account_id": spammer_id, "comment": "x".repeat(1001)}),
            "comment",
        ),
        (json!({"account_id": reporter_id}), "account_id"),
    ];
    for (body, field) in bad {
        let r = app
            .json(Method::POST, "/api/v1/reports", Some(&reporter), &body)
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert!(
            r.json()["details"].get(field).is_some(),
            "{field} named: {}",
            r.text()
        );
    }
    app.json(
        Method::POST,
        "/api/v1/reports",
        Some(&reporter),
        &json!({"account_id": "999999"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "Record not found");
    let r = app
        .json(
            Method::POST,
            "/api/v1/reports",
            Some(&readonly),
            &json!({"account_id": spammer_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = app
        .json(
            Method::POST,
            "/api/v1/reports",
            None,
            &json!({"account_id": spammer_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // The moderators see exactly the one report, and can close it.
    let ctx = &app.state.ctx;
    let open = tsunagu::services::moderation::reports(ctx, false)
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].target.username, "spammer");
    assert_eq!(open[0].reporter.username, "reporter");
    let rid: i64 = report["id"].as_str().unwrap().parse().unwrap();
    tsunagu::services::moderation::resolve_report(ctx, None, rid)
        .await
        .unwrap();
    assert!(
        tsunagu::services::moderation::reports(ctx, false)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        tsunagu::services::moderation::resolve_report(ctx, None, rid)
            .await
            .is_err(),
        "resolving twice is refused"
    );
    app.finish().await;
}
