//! Version strings shared by every program.
//!
//! distcc 3.4 prints `distcc 3.4 x86_64-pc-linux-gnu` as the first line of
//! `--version`; Portage's `emerge --info` reads that line, so ours keeps the
//! same shape: `<program> <version> <triple>`.

/// The version of this package.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The distcc release whose wire protocol and behaviour we follow.
pub const COMPAT_VERSION: &str = "3.4";

/// The default TCP port of distccd (spec §2.3).
pub const DEFAULT_PORT: u16 = 3632;

/// The default port of the `--stats` HTTP server (spec §4.7).
pub const DEFAULT_STATS_PORT: u16 = 3633;
