//! The client API parameter decoder (fuzz/harness.rs).
#![no_main]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::form_params(data));
