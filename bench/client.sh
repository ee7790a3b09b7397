#!/usr/bin/env bash
# Client benchmark (not a timed test): builds the release binaries, then
# runs bench/client.py, which compares our distcc client with Debian's
# distcc 3.4 client against the same daemon on 127.0.0.1. Results go to
# bench/RESULTS.md by hand, with the command used.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin distcc --bin distccd
exec python3 bench/client.py "$@"
