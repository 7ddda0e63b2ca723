use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::dual;

dual!(search_everything, instance_peers_and_activity);

async fn search_everything(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, me) = app.user("searcher", "read write follow").await;
    let (_, yamada) = app.user("yamada_taro", "read write").await;
    app.user("tanaka", "read").await;
    app.json(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&yamada),
        &json!({"display_name": "山田 太郎"}),
    )
    .await;
    let post = app
        .json(
            Method::POST,
            "/api/v1/statuses",
            Some(&yamada),
            &json!({"status": "大阪でアルムナイ交流会を開きます #osaka_meetup"}),
        )
        .await
        .json();
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&yamada),
        &json!({"status": "secret plans for 交流会", "visibility": "private"}),
    )
    .await;

    let r = app.get("/api/v2/search?q=yamada", Some(&me)).await.json();
    assert_eq!(r["accounts"][0]["username"], "yamada_taro");
    let r = app
        .get(
            &format!("/api/v2/search?q={}&type=accounts", urlenc("山田")),
            None,
        )
        .await
        .json();
    assert_eq!(
        r["accounts"][0]["username"], "yamada_taro",
        "display names match too"
    );
    assert_eq!(r["statuses"], json!([]));
    assert_eq!(r["hashtags"], json!([]));
    let r = app
        .get("/api/v2/search?q=%23osaka&type=hashtags", None)
        .await
        .json();
    assert_eq!(r["hashtags"][0]["name"], "osaka_meetup");
    assert_eq!(
        r["hashtags"][0]["url"],
        "https://alumni.test/tags/osaka_meetup"
    );
    // Japanese substring search over statuses; private ones stay hidden.
    let r = app
        .get(
            &format!("/api/v2/search?q={}&type=statuses", urlenc("交流会")),
            Some(&me),
        )
        .await
        .json();
    let found: Vec<&str> = r["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(found, vec![post["id"].as_str().unwrap()]);
    // following=true restricts accounts to those I follow.
    let r = app
        .get(
            "/api/v2/search?q=yamada&type=accounts&following=true",
            Some(&me),
        )
        .await
        .json();
    assert_eq!(r["accounts"], json!([]));
    let yid = app
        .get("/api/v1/accounts/lookup?acct=yamada_taro", None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.form(
        Method::POST,
        &format!("/api/v1/accounts/{yid}/follow"),
        Some(&me),
        &[],
    )
    .await;
    let r = app
        .get("/api/v1/accounts/search?q=yamada&following=true", Some(&me))
        .await
        .json();
    assert_eq!(r.as_array().unwrap().len(), 1);
    // offset and limit.
    let r = app
        .get("/api/v1/accounts/search?q=ta&limit=1&offset=0", Some(&me))
        .await
        .json();
    assert_eq!(r.as_array().unwrap().len(), 1);
    let r = app
        .get("/api/v1/accounts/search?q=ta&limit=1&offset=1", Some(&me))
        .await
        .json();
    assert_eq!(r.as_array().unwrap().len(), 0);
    // LIKE wildcards typed by people match literally.
    assert_eq!(
        app.get("/api/v2/search?q=%25&type=accounts", None)
            .await
            .json()["accounts"],
        json!([])
    );
    app.get("/api/v2/search?q=x&type=bananas", None)
        .await
        .assert_error(
            StatusCode::BAD_REQUEST,
            "Invalid parameter type: \"bananas\" is not accounts, hashtags or statuses",
        );
    assert_eq!(
        app.get("/api/v2/search?q=", None).await.json(),
        json!({"accounts": [], "statuses": [], "hashtags": []})
    );
    app.finish().await;
}

fn urlenc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn instance_peers_and_activity(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, me) = app.user("active", "read write").await;
    app.json(
        Method::POST,
        "/api/v1/statuses",
        Some(&me),
        &json!({"status": "hello"}),
    )
    .await;
    assert_eq!(
        app.get("/api/v1/instance/peers", None).await.json(),
        json!([])
    );
    let weeks = app.get("/api/v1/instance/activity", None).await.json();
    assert_eq!(weeks.as_array().unwrap().len(), 12);
    assert_eq!(weeks[0]["statuses"], "1");
    assert_eq!(weeks[0]["registrations"], "1");
    assert_eq!(weeks[0]["logins"], "1");
    assert_eq!(weeks[1]["statuses"], "0");
    assert!(
        weeks[0]["week"].as_str().unwrap().parse::<i64>().unwrap()
            > weeks[1]["week"].as_str().unwrap().parse::<i64>().unwrap()
    );
    assert_eq!(
        app.get("/api/v1/instance", None).await.json()["stats"]["status_count"],
        1
    );
    app.finish().await;
}
