#!/usr/bin/env bash
# The pump-mode correctness corpus (issue 16), all of it: every code base of
# CORPUS in tests/client/pump_corpus.rs (C and C++ vendored by crates of the
# Rust registry, fetched with `cargo fetch`) built with its own flags through
# `pump make -j4` and our daemon on loopback, each object compared with a
# local build's. Prints the table recorded in bench/RESULTS.md; fails on any
# difference or unexplained job. The test suite builds the `fast` subset.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --locked --test main client::pump_corpus::pump_corpus_full -- --ignored --nocapture "$@"
