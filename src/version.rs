//! Version strings shared by every program, and the one `--version`
//! banner of `distcc` and `distccd`.
//!
//! distcc 3.4's banner starts
//!
//! ```text
//! distcc 3.4 x86_64-pc-linux-gnu
//!   (protocols 1, 2 and 3) (default port 3632)
//!   built <date>
//! ```
//!
//! and tools read those first lines: Portage's `emerge --info` shows the
//! first, scripts cut the version number out of it to check for pump mode
//! (3.0 and later), others look for the protocol list. So ours starts with
//! the same two lines, naming the distcc release whose protocols and
//! behaviour we follow; what this program is and its own version come on
//! the third line, where 3.4 has its build date (issue 11).

/// The version of this package.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The distcc release whose wire protocol and behaviour we follow.
pub const COMPAT_VERSION: &str = "3.4";

/// The protocol versions both programs speak, in 3.4's words.
pub const PROTOCOLS: &str = "protocols 1, 2 and 3";

/// The default TCP port of distccd (spec §2.3).
pub const DEFAULT_PORT: u16 = 3632;

/// The default port of the `--stats` HTTP server (spec §4.7).
pub const DEFAULT_STATS_PORT: u16 = 3633;

/// The GNU host triple this build runs on, as 3.4 prints it
/// (`x86_64-pc-linux-gnu`, `aarch64-unknown-linux-gnu`).
pub fn gnu_host() -> String {
    let arch = std::env::consts::ARCH;
    let vendor = if arch == "x86_64" || arch == "x86" {
        "pc"
    } else {
        "unknown"
    };
    let os = match std::env::consts::OS {
        "linux" => "linux-gnu",
        other => other,
    };
    format!("{arch}-{vendor}-{os}")
}

/// The `--version` text of `program` (`distcc` or `distccd`), without a
/// final newline: 3.4's first two lines, then ours.
pub fn banner(program: &str) -> String {
    format!(
        "{program} {COMPAT_VERSION} {host}\n  ({PROTOCOLS}) (default port {DEFAULT_PORT})\n  \
         distcc-rs {VERSION}: distcc {COMPAT_VERSION} rebuilt in Rust\n\n\
         distcc-rs comes with ABSOLUTELY NO WARRANTY. It is free software, and\n\
         you may use, modify and redistribute it under the terms of the GNU\n\
         General Public License version 2 or later.",
        host = gnu_host(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_starts_with_3_4s_two_lines() {
        let b = banner("distcc");
        let lines: Vec<&str> = b.lines().collect();
        // What Debian's 3.4 prints on x86_64 (checked in tests/client/fidelity.rs).
        assert_eq!(lines[0], format!("distcc 3.4 {}", gnu_host()));
        assert_eq!(lines[1], "  (protocols 1, 2 and 3) (default port 3632)");
        assert!(lines[2].contains("distcc-rs") && lines[2].contains(VERSION));
        assert!(!b.ends_with('\n'));
    }

    #[test]
    fn host_triple_has_three_parts_on_linux() {
        let h = gnu_host();
        if cfg!(target_os = "linux") {
            assert!(h.ends_with("-linux-gnu"), "{h}");
            assert_eq!(h.split('-').count(), 4, "{h}");
        }
    }
}
