#!/usr/bin/env bash
# Fuzzes tsunagu with cargo-fuzz (libFuzzer), each target for a while:
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Not part of CI. Installs cargo-fuzz from crates.io when it is missing.
# Works on the stable toolchain: no sanitizer (Rust's own checks still
# panic on bugs), RUSTC_BOOTSTRAP for the coverage flags cargo-fuzz passes.
# A crash leaves its input in fuzz/artifacts/TARGET/; turn it into a
# regression test (tests/fuzz_regressions.rs reads tests/fixtures/fuzz/TARGET/).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(inbound_activity signature_header html_text form_params)
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
status=0
for t in "${targets[@]}"; do
    corpus="fuzz/corpus/$t"
    mkdir -p "$corpus"
    # Seeds: the regression inputs and, for activities, the real remote JSON fixtures.
    cp -n tests/fixtures/fuzz/"$t"/* "$corpus"/ 2>/dev/null || true
    if [ "$t" = inbound_activity ]; then
        for f in tests/fixtures/federation/*/*.json; do cp -n "$f" "$corpus/$(basename "$(dirname "$f")")-$(basename "$f")"; done
    fi
    echo "== $t for ${seconds}s"
    if ! cargo fuzz run --sanitizer none "$t" "$corpus" -- \
        -max_total_time="$seconds" -max_len=65536 -print_final_stats=1; then
        echo "!! $t found a crash: see fuzz/artifacts/$t/" >&2
        status=1
    fi
done
exit $status
