//! distcc-rs: distcc rebuilt in Rust, wire-compatible with distcc 3.4.
//!
//! The library holds everything; the programs in `src/bin/` and
//! `distcc-config/main.rs` are thin shims that call one `main()` here.
//!
//! # Layout
//!
//! Pure core (no tokio, no `std::{net, fs, process, env}`; checked by
//! `tests/architecture.rs`):
//!
//! * [`protocol`] — the token codec of protocols 1, 2 and 3 and the LZO1X wrapper.
//! * [`args`] — the compiler command-line scanner (distributable or local, and why).
//! * [`hosts`] — the `DISTCC_HOSTS` grammar.
//! * [`state`] — the monitor state-file format shared by client and monitor.
//! * [`access`] — the `--allow` decision.
//! * [`compiler_id`] — a compiler's identity: the text, its comparison, its cache
//!   entry (its `files` submodule hashes the programs).
//!
//! Shared plumbing:
//!
//! * [`error`] — exit codes (the one place the 3.4 table lives).
//! * [`env`](mod@env) — the only reader of `DISTCC_*` and other environment variables.
//! * [`logging`] — the only place a tracing subscriber is set up.
//!
//! I/O layer:
//!
//! * [`client`] — `distcc`.
//! * [`daemon`] — `distccd`.
//! * [`monitor`] — `distccmon-text` and the full-screen `distccmon-tui`.
//! * [`pump`] — `pump` and `lsdistcc`.
//! * [`tls`] — keys, pins and TLS 1.3 for authenticated farms.

pub mod access;
pub mod args;
pub mod client;
pub mod compiler_id;
pub mod daemon;
pub mod env;
pub mod error;
pub mod fnv;
pub mod hosts;
pub mod logging;
pub mod monitor;
pub mod protocol;
pub mod pump;
pub mod state;
pub mod tls;
pub mod version;
pub mod zeroconf;
