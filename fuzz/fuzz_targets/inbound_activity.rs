//! Inbound activities, parsed and handled (fuzz/harness.rs).
#![no_main]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::inbound_activity(data));
