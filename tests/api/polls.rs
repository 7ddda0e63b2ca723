use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::dual;
use tsunagu::services::polls;

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

    // Nothing has ended yet: no announcement.
    let ctx = &app.state.ctx;
    let now = tsunagu::ids::now();
    assert_eq!(polls::close_ended(ctx, now).await.unwrap(), 0);
    let ended = |n: &serde_json::Value| n["type"] == "poll";
    let kinds = async |token: &str| -> Vec<(String, String)> {
        app.get("/api/v1/notifications?types[]=poll", Some(token))
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .inspect(|n| assert!(ended(n), "only poll notifications were asked for: {n}"))
            .map(|n| {
                (
                    n["status"]["poll"]["id"].as_str().unwrap().to_owned(),
                    n["account"]["username"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert!(kinds(&a).await.is_empty());
    // An hour later the single-choice poll has ended: its voter and author hear of it.
    let later = now + chrono::Duration::seconds(3601);
    assert_eq!(polls::close_ended(ctx, later).await.unwrap(), 1);
    assert_eq!(kinds(&a).await, vec![(pid2.clone(), "office".into())]);
    assert_eq!(kinds(&office).await, vec![(pid2.clone(), "office".into())]);
    assert!(
        kinds(&bee).await.is_empty(),
        "bee did not vote on the second poll"
    );
    // Announced once, whoever runs the check again (several nodes may).
    assert_eq!(polls::close_ended(ctx, later).await.unwrap(), 0);
    let next = polls::until_next_end(ctx)
        .await
        .unwrap()
        .expect("the first poll is open");
    assert!(next.as_secs() > 80_000, "{next:?}");
    let day_later = now + chrono::Duration::seconds(86_401);
    assert_eq!(polls::close_ended(ctx, day_later).await.unwrap(), 1);
    assert_eq!(kinds(&bee).await, vec![(pid.clone(), "office".into())]);
    assert_eq!(kinds(&a).await.len(), 2);
    assert!(polls::until_next_end(ctx).await.unwrap().is_none());
    app.finish().await;
}
