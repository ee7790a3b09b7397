//! The facts about this machine that zeroconf names carry: the default
//! compiler's target and version (3.4 asks `cc`, through the shell's
//! `PATH`), the host name, and the compilers a daemon can run.

use std::path::Path;
use std::process::{Command, Stdio};

/// `cc -dumpmachine` and `cc -dumpversion`, first word of each, or `None`
/// if `cc` cannot say.
pub fn default_compiler() -> Option<(String, String)> {
    let ask = |flag: &str| -> Option<String> {
        let out = Command::new("cc")
            .arg(flag)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        let word = text.split_whitespace().next()?.to_owned();
        out.status.success().then_some(word)
    };
    Some((ask("-dumpmachine")?, ask("-dumpversion")?))
}

/// The host name, for the instance name `distcc@<host>` and the mDNS host
/// record `<host>.local.`; only its first label, as mDNS wants.
pub fn hostname() -> String {
    let name = nix::unistd::gethostname()
        .ok()
        .and_then(|n| n.into_string().ok())
        .unwrap_or_default();
    let first = name.split('.').next().unwrap_or("").to_owned();
    if first.is_empty() {
        "localhost".into()
    } else {
        first
    }
}

/// Does this file name look like a C or C++ compiler driver: `cc`, `gcc`,
/// `clang++`, `x86_64-linux-gnu-gcc-12`, ...?
pub fn is_compiler_name(name: &str) -> bool {
    const DRIVERS: &[&str] = &["cc", "c++", "gcc", "g++", "clang", "clang++"];
    // Strip a version suffix (`-12`, `-14.0`), then a target prefix.
    let base = match name.rsplit_once('-') {
        Some((head, tail))
            if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit() || c == '.') =>
        {
            head
        }
        _ => name,
    };
    let driver = base.rsplit('-').next().unwrap_or(base);
    DRIVERS.contains(&driver) && (driver == base || base.matches('-').count() >= 2)
}

/// Compiler names found in `path`, sorted, each once.
pub fn on_path(path: &[&Path]) -> Vec<String> {
    let mut names = std::collections::BTreeSet::new();
    for dir in path {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            if let Some(n) = e.file_name().to_str() {
                if is_compiler_name(n) {
                    names.insert(n.to_owned());
                }
            }
        }
    }
    // Plain names first: what a client most often asks for.
    let (mut plain, targeted): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|n| !n.contains('-'));
    plain.extend(targeted);
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_names() {
        for yes in [
            "cc",
            "gcc",
            "g++",
            "clang++",
            "gcc-12",
            "clang-14",
            "x86_64-linux-gnu-gcc-12",
            "aarch64-linux-gnu-g++",
        ] {
            assert!(is_compiler_name(yes), "{yes}");
        }
        for no in [
            "gcc-ar",
            "gcc-nm-12",
            "ccache",
            "distcc",
            "cc1",
            "gccgo",
            "x86_64-linux-gnu-gcc-ar",
        ] {
            assert!(!is_compiler_name(no), "{no}");
        }
    }
}
