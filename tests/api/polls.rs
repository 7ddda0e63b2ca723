use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(polls_create_vote_and_tally);

async fn polls_create_vote_and_tally(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, office) = app.user("office", "read write").await;
    let (_, a) = app.user("alum_a", "read write").await;
    let (_, bee) = app.user("alum_b", "read write").await;
    // Rails-style form, as Mastodon.py and Tusky send it.
    let r = app
        .form(
            Method::POST,
            "/api/v1/statuses",
            Some(&office),
            &[
                ("status", "Which date suits the reunion?"),
                ("poll[options][]", "6/1"),
                ("poll[options][]", "6/8"),
                ("poll[options][]", "6/15"),
                ("poll[expires_in]", "86400"),
                ("poll[multiple]", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let st = r.json();
    let poll = &st["poll"];
    assert_eq!(poll["options"].as_array().unwrap().len(), 3);
    assert_eq!(poll["multiple"], true);
    assert_eq!(poll["expired"], false);
    assert_eq!(poll["votes_count"], 0);
    let pid = poll["id"].as_str().unwrap().to_owned();

    let v = app
        .form(
            Method::POST,
            &format!("/api/v1/polls/{pid}/votes"),
            Some(&a),
            &[("choices[]", "0"), ("choices[]", "2")],
        )
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    let v = v.json();
    assert_eq!(v["voted"], true);
    assert_eq!(v["own_votes"], json!([0, 2]));
    assert_eq!(v["votes_count"], 2);
    assert_eq!(v["voters_count"], 1);
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/polls/{pid}/votes"),
            Some(&a),
            &json!({"choices": ["1"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["details"]["choices"][0]["description"],
        "You have already voted on this poll"
    );
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/polls/{pid}/votes"),
            Some(&bee),
            &json!({"choices": [7]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.json(
        Method::POST,
        &format!("/api/v1/polls/{pid}/votes"),
        Some(&bee),
        &json!({"choices": [0]}),
    )
    .await;
    let tally = app.get(&format!("/api/v1/polls/{pid}"), None).await.json();
    assert_eq!(tally["options"][0]["votes_count"], 2);
    assert_eq!(tally["options"][1]["votes_count"], 0);
    assert_eq!(tally["voters_count"], 2);
    assert!(
        tally.get("voted").is_none(),
        "anonymous callers get no voted/own_votes"
    );

    // Single choice and hidden totals.
    let st = app
        .json(Method::POST, "/api/v1/statuses", Some(&office), &json!({"status": "Attend?", "poll": {"options": ["yes", "no"], "expires_in": 3600, "hide_totals": true}}))
        .await
        .json();
    let pid2 = st["poll"]["id"].as_str().unwrap().to_owned();
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/polls/{pid2}/votes"),
            Some(&a),
            &json!({"choices": [0, 1]}),
        )
        .await;
    assert_eq!(
        r.json()["details"]["choices"][0]["description"],
        "this poll allows one choice"
    );
    let v = app
        .json(
            Method::POST,
            &format!("/api/v1/polls/{pid2}/votes"),
            Some(&a),
            &json!({"choices": [0]}),
        )
        .await
        .json();
    assert!(
        v["options"][0]["votes_count"].is_null(),
        "totals hidden until the poll ends"
    );

    // Bad polls.
    for poll in [
        json!({"options": ["only one"], "expires_in": 3600}),
        json!({"options": ["a", "b"], "expires_in": 10}),
        json!({"options": ["a", "a"], "expires_in": 3600}),
        json!({"options": ["a", "b", "c", "d", "e"], "expires_in": 3600}),
    ] {
        let r = app
            .json(
                Method::POST,
                "/api/v1/statuses",
                Some(&office),
                &json!({"status": "bad", "poll": poll}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{poll}");
        assert_eq!(r.json()["details"]["poll"][0]["error"], "ERR_INVALID");
    }
    app.get("/api/v1/polls/999", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "Record not found");
    app.finish().await;
}
