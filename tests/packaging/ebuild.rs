//! The Gentoo ebuild: bash syntax, the CRATES list against Cargo.lock (both
//! through scripts/gen-ebuild-crates and by an independent reading of
//! Cargo.lock here, plus proof that the check fails on drift), and the
//! metadata parsed by real Portage (`pip install portage`; see
//! portage_check.py for exactly what it checks), and src_install run with
//! Portage's own ebuild helpers (portage-install.sh).

use super::{repo, run_ok};
use crate::require_tool;
use crate::support::TempDir;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

pub(super) fn ebuild() -> PathBuf {
    let dir = repo().join("ebuild/sys-devel/distcc-rs");
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ebuild"))
        .collect();
    assert_eq!(found.len(), 1, "one ebuild expected: {found:?}");
    found.pop().unwrap()
}

/// `name@version` of every crates.io package in Cargo.lock.
fn lock_crates() -> BTreeSet<String> {
    let lock: toml::Table = std::fs::read_to_string(repo().join("Cargo.lock"))
        .unwrap()
        .parse()
        .unwrap();
    lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p.get("source")
                .and_then(|s| s.as_str())
                .is_some_and(|s| s.starts_with("registry+"))
        })
        .map(|p| {
            format!(
                "{}@{}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect()
}

fn ebuild_crates(text: &str) -> BTreeSet<String> {
    let start = text.find("CRATES=\"").expect("CRATES") + "CRATES=\"".len();
    let end = start + text[start..].find('"').unwrap();
    text[start..end]
        .split_whitespace()
        .map(String::from)
        .collect()
}

#[test]
fn ebuild_is_valid_bash() {
    run_ok(Command::new("bash").arg("-n").arg(ebuild()));
}

#[test]
fn crates_list_matches_cargo_lock() {
    let text = std::fs::read_to_string(ebuild()).unwrap();
    let (want, have) = (lock_crates(), ebuild_crates(&text));
    assert!(!want.is_empty());
    assert_eq!(
        have.difference(&want).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in the ebuild but not Cargo.lock"
    );
    assert_eq!(
        want.difference(&have).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in Cargo.lock but not the ebuild: run scripts/gen-ebuild-crates"
    );
    run_ok(Command::new(repo().join("scripts/gen-ebuild-crates")).arg("--check"));
}

#[test]
fn crates_check_fails_when_cargo_lock_moves() {
    // A copy of the script, lock and ebuild where one locked crate has a new
    // version: --check must fail, and regenerating must fix it.
    let dir = TempDir::new("crates-drift");
    let root = dir.path();
    std::fs::create_dir_all(root.join("scripts")).unwrap();
    std::fs::create_dir_all(root.join("ebuild/sys-devel/distcc-rs")).unwrap();
    std::fs::copy(
        repo().join("scripts/gen-ebuild-crates"),
        root.join("scripts/gen-ebuild-crates"),
    )
    .unwrap();
    let eb = ebuild();
    std::fs::copy(
        &eb,
        root.join("ebuild/sys-devel/distcc-rs")
            .join(eb.file_name().unwrap()),
    )
    .unwrap();
    let lock = std::fs::read_to_string(repo().join("Cargo.lock")).unwrap();
    let bumped = lock.replacen(
        "name = \"libc\"\nversion = \"",
        "name = \"libc\"\nversion = \"9",
        1,
    );
    assert_ne!(lock, bumped, "Cargo.lock has no libc entry to bump");
    std::fs::write(root.join("Cargo.lock"), bumped).unwrap();
    let script = root.join("scripts/gen-ebuild-crates");
    let check = Command::new(&script).arg("--check").output().unwrap();
    assert!(!check.status.success(), "drift not detected");
    assert!(String::from_utf8_lossy(&check.stderr).contains("libc@9"));
    run_ok(&mut Command::new(&script));
    run_ok(Command::new(&script).arg("--check"));
}

/// Whether Portage's Python package is importable; under CI it must be.
pub(super) fn has_portage() -> bool {
    let have = Command::new("python3")
        .args(["-c", "import portage"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            !crate::support::ci(),
            "Portage (pip install portage) is required under CI=true"
        );
        eprintln!("skipping: Portage is not installed (pip install portage)");
    }
    have
}

#[test]
fn portage_parses_the_ebuild_metadata() {
    require_tool!("python3");
    if !has_portage() {
        return;
    }
    let dir = TempDir::new("portage");
    let list = dir.path().join("crates");
    std::fs::write(
        &list,
        lock_crates().into_iter().collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let out = run_ok(
        Command::new("python3")
            .arg(repo().join("tests/packaging/portage_check.py"))
            .arg(ebuild())
            .arg(&list)
            .env("PYTHONDONTWRITEBYTECODE", "1"),
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("\"cargo\""), "{report}");
}

/// portage-install.sh's output for one USE setting.
fn portage_install(use_flags: &str) -> String {
    let work = TempDir::new("portage-install");
    let bindir = crate::support::bin("distccd")
        .parent()
        .unwrap()
        .to_path_buf();
    let out = run_ok(
        Command::new("bash")
            .arg(repo().join("tests/packaging/portage-install.sh"))
            .arg(work.path())
            .arg(repo())
            .arg(ebuild())
            .arg(bindir)
            .arg(use_flags),
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn portage_helpers_install_the_image_and_phases_call_eselect() {
    require_tool!("python3");
    if !has_portage() {
        return;
    }
    let out = portage_install("xinetd");
    let image: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("IMAGE: "))
        .collect();
    for want in [
        "usr/bin/distcc",
        "usr/bin/distccd",
        "usr/bin/distccmon-text",
        "usr/bin/pump",
        "usr/bin/lsdistcc",
        "usr/bin/distcc-config",
        "etc/init.d/distccd",
        "etc/conf.d/distccd",
        "usr/lib/systemd/system/distccd.service",
        "usr/lib/systemd/system/distccd.socket",
        "usr/lib/systemd/system/distccd@.service",
        "etc/systemd/system/distccd.service.d/00gentoo.conf",
        "etc/env.d/02distcc",
        "etc/distcc/hosts",
        "etc/logrotate.d/distccd",
        "etc/xinetd.d/distcc",
        "usr/lib/distcc/bin",
        "usr/share/shadowman/tools/distcc",
        "usr/share/man/man1/distccd.1",
        "usr/share/bash-completion/completions/distccd",
        "usr/share/zsh/site-functions/_distccd",
        "usr/share/fish/vendor_completions.d/distccd.fish",
        "usr/share/doc/distcc-rs-0.1.0/README.md",
        "usr/share/doc/distcc-rs-0.1.0/docs/reference.md",
    ] {
        assert!(
            image
                .iter()
                .any(|p| *p == want || p.starts_with(&format!("{want}."))),
            "{want} not installed:\n{out}"
        );
    }
    assert!(
        image.iter().any(|p| p.starts_with("usr/lib/distcc/.keep")),
        "{out}"
    );
    for line in [
        "BIN_LINK: .",
        "SHADOWMAN: /usr/lib/distcc",
        "ESELECT: compiler-shadow update distcc",
        "ESELECT: compiler-shadow remove distcc",
        "UPGRADE_PRERM: 0",
        "ROOTED_POSTINST: 0",
    ] {
        assert!(out.lines().any(|l| l == line), "want {line:?}:\n{out}");
    }
    let without = portage_install("");
    assert!(
        !without.contains("etc/xinetd.d/distcc"),
        "USE=-xinetd:\n{without}"
    );
}
