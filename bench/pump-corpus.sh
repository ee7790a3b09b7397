#!/usr/bin/env bash
# The pump-mode correctness corpus (issue 16), all of it: every code base of
# CORPUS in tests/client/pump_corpus/recipes.rs (C and C++ vendored by crates
# of the Rust registry, fetched with `cargo fetch`) built with its own flags
# through `pump make -j4` and our daemon on loopback, each object compared
# with a local build's. Prints the table recorded in bench/RESULTS.md; fails
# on any difference, failed build or job compiled here without a stated
# reason. The test suite builds the `fast` subset. `PUMP_CORPUS=mimalloc,zlib`
# builds only those code bases (names as in the table).
#
# The programs under test are release builds (target/release); the test
# harness that drives them stays a debug build. Everything runs under
# `nice -n 19`: the corpus takes a while and the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
nice -n 19 cargo build --locked --release --quiet --bin distcc --bin distccd --bin pump
DISTCC_TEST_BIN_DIR="$PWD/target/release" exec nice -n 19 \
    cargo test --locked --test main client::pump_corpus::pump_corpus_full -- --ignored --nocapture "$@"
