//! The client API's parameter decoder: a query string and a urlencoded or
//! JSON body merged, Rails-style brackets and all.
#![no_main]
use axum::extract::FromRequest;
use libfuzzer_sys::fuzz_target;
use tsunagu::api::params::Params;

fuzz_target!(|data: &[u8]| {
    // First line: the query string; second: the content type; the rest: the body.
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let kind = match parts.next().and_then(|k| k.first()) {
        Some(b'j') => "application/json",
        _ => "application/x-www-form-urlencoded",
    };
    let body = parts.next().unwrap_or_default().to_vec();
    let Ok(req) = axum::http::Request::builder()
        .method("POST")
        .uri(format!("/api/v1/statuses?{}", query.replace(['#', ' '], "")))
        .header("content-type", kind)
        .body(axum::body::Body::from(body))
    else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let _ = rt.block_on(Params::<serde_json::Value>::from_request(req, &()));
});
