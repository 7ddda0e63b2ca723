//! Inputs kept from fuzzing — seeds and every crash found, in
//! tests/fixtures/fuzz/TARGET/ — replayed through the fuzz targets' own code
//! (fuzz/harness.rs), whose checks fail on a bug. `fuzz/run.sh` fuzzes.
#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs kept for {target}");
    for path in inputs {
        let data = std::fs::read(&path).unwrap();
        eprintln!("{target}: {}", path.display());
        run(&data);
    }
}

#[test]
fn inbound_activity_inputs() {
    replay("inbound_activity", harness::inbound_activity);
}

#[test]
fn signature_header_inputs() {
    replay("signature_header", harness::signature_header);
}

#[test]
fn html_text_inputs() {
    replay("html_text", harness::html_text);
}

#[test]
fn form_params_inputs() {
    replay("form_params", harness::form_params);
}
