//! HTTP signature headers and the checks made before any key is fetched.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tsunagu::federation::signatures::{SignedRequest, parse_signature_header, precheck};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Header value, then (after a newline) a Date and a Digest to check against.
    let mut lines = text.splitn(3, '\n');
    let value = lines.next().unwrap_or_default();
    let date = lines.next().map(str::to_owned);
    let digest = lines.next().map(str::to_owned);
    let Ok(sig) = parse_signature_header(value) else {
        return;
    };
    let header = move |name: &str| match name {
        "date" => date.clone(),
        "digest" => digest.clone(),
        "host" => Some("alpha.example".to_owned()),
        _ => None,
    };
    let req = SignedRequest {
        method: "POST",
        path_and_query: "/inbox",
        header: &header,
        body: Some(b"{}"),
    };
    let _ = precheck(&req, &sig, std::time::SystemTime::now());
});
