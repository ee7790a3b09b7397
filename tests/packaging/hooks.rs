//! The pacman hooks: alpm's hook format (sections and keys alpm knows, one
//! When, at least one Target and Operation), targets that cover every
//! compiler name the masquerade directory can hold and nothing else, and
//! the update hook's guard for a transaction that removes distcc-rs.

use super::{repo, run_ok};
use std::collections::BTreeMap;
use std::process::Command;

/// alpm's `fnmatch(3)`-style match for the `*` wildcards the hooks use.
fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob_match(rest, &tail[i..]))
        }
    }
}

/// A hook file as alpm reads it: section -> key -> values.
fn parse_hook(text: &str) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    const KEYS: &[(&str, &[&str])] = &[
        ("Trigger", &["Type", "Operation", "Target"]),
        (
            "Action",
            &[
                "Description",
                "When",
                "Exec",
                "Depends",
                "AbortOnFail",
                "NeedsTargets",
            ],
        ),
    ];
    let mut hook: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            assert!(
                KEYS.iter().any(|(s, _)| *s == section),
                "unknown section [{section}]"
            );
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        let (key, value) = (key.trim(), value.trim());
        let known = KEYS.iter().find(|(s, _)| *s == section).unwrap().1;
        assert!(known.contains(&key), "unknown key {key} in [{section}]");
        hook.entry(section.clone())
            .or_default()
            .entry(key.to_string())
            .or_default()
            .push(value.to_string());
    }
    hook
}

fn hook(name: &str) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let hook =
        parse_hook(&std::fs::read_to_string(repo().join("masquerade/pacman").join(name)).unwrap());
    let t = &hook["Trigger"];
    assert_eq!(t["Type"], ["Path"]);
    assert!(!t["Target"].is_empty() && !t["Operation"].is_empty());
    for op in &t["Operation"] {
        assert!(
            ["Install", "Upgrade", "Remove"].contains(&op.as_str()),
            "{op}"
        );
    }
    let a = &hook["Action"];
    assert_eq!(a["When"].len(), 1);
    assert_eq!(a["Exec"].len(), 1);
    hook
}

#[test]
fn update_hook_targets_every_compiler_name_and_nothing_else() {
    let h = hook("distcc-rs-masquerade.hook");
    let targets = &h["Trigger"]["Target"];
    let matches = |name: &str| {
        targets
            .iter()
            .any(|t| glob_match(t, &format!("usr/bin/{name}")))
    };
    // Names packaging-notes §1.3/§6/§7.1 list for Arch, Gentoo and Debian.
    for name in [
        "gcc",
        "g++",
        "cc",
        "c++",
        "cpp",
        "c89",
        "c99",
        "c89-gcc",
        "c99-gcc",
        "clang",
        "clang++",
        "clang-17",
        "gcc-13",
        "g++-13",
        "x86_64-pc-linux-gnu-gcc",
        "x86_64-pc-linux-gnu-gcc-13",
        "aarch64-linux-gnu-g++",
        "arm-none-eabi-gcc",
        "aarch64-unknown-linux-gnu-cc",
        "distcc",
        "distcc-config",
    ] {
        assert!(matches(name), "no Target matches usr/bin/{name}");
    }
    for name in ["ls", "bash", "python3", "make", "ld", "as", "cargo"] {
        assert!(!matches(name), "a Target matches usr/bin/{name}");
    }
    assert_eq!(h["Action"]["When"], ["PostTransaction"]);
    assert!(h["Action"]["Exec"][0].contains("distcc-config --update-masquerade"));
}

#[test]
fn update_hook_does_nothing_once_distcc_config_is_gone() {
    // alpm splits Exec like a shell: run it the same way, in a root where
    // /usr/bin/distcc-config does not exist (this host's).
    let h = hook("distcc-rs-masquerade.hook");
    let exec = &h["Action"]["Exec"][0];
    assert!(
        !std::path::Path::new("/usr/bin/distcc-config").exists(),
        "this test needs a host without /usr/bin/distcc-config"
    );
    run_ok(Command::new("sh").arg("-c").arg(exec));
}

#[test]
fn remove_hook_runs_before_distcc_goes_and_spares_the_bin_link() {
    let h = hook("distcc-rs-masquerade-remove.hook");
    assert_eq!(h["Trigger"]["Operation"], ["Remove"]);
    assert_eq!(h["Trigger"]["Target"], ["usr/bin/distcc"]);
    assert_eq!(h["Action"]["When"], ["PreTransaction"]);
    // Its command, pointed at a scratch masquerade directory.
    let dir = crate::support::TempDir::new("hook-remove");
    let m = dir.path().join("usr/lib/distcc");
    std::fs::create_dir_all(&m).unwrap();
    std::os::unix::fs::symlink(".", m.join("bin")).unwrap();
    std::os::unix::fs::symlink("../../bin/distcc", m.join("gcc")).unwrap();
    std::os::unix::fs::symlink("../../bin/distcc", m.join("x86_64-pc-linux-gnu-g++")).unwrap();
    let exec = h["Action"]["Exec"][0].replace("/usr/lib/distcc", &m.to_string_lossy());
    run_ok(Command::new("sh").arg("-c").arg(&exec));
    let left: Vec<_> = std::fs::read_dir(&m)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["bin"]);
}

#[test]
fn glob_match_is_fnmatch_for_stars() {
    assert!(glob_match("usr/bin/*gcc*", "usr/bin/gcc"));
    assert!(glob_match("usr/bin/*-cc", "usr/bin/aarch64-linux-gnu-cc"));
    assert!(!glob_match("usr/bin/*-cc", "usr/bin/cc"));
    assert!(!glob_match("usr/bin/cc", "usr/bin/gcc"));
}
