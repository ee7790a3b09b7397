//! Shipped files checked by the tools that read them, without running the
//! daemon: shellcheck (every shell file of the checkout), systemd-analyze
//! (units, drop-in, hardening exposure), systemd-sysusers, logrotate, and
//! the consistency of versions between Cargo.toml, PKGBUILD and ebuild.

use super::{checkout_files, repo, run_ok, stdout_of};
use crate::require_tool;
use crate::support::TempDir;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether a checkout file is a shell script, judged the way a reader
/// would: its shebang, a `# shellcheck shell=` directive, or its role.
fn is_shell_file(rel: &Path, text: &str) -> bool {
    let name = rel.file_name().unwrap().to_string_lossy();
    let first = text.lines().next().unwrap_or("");
    let shebang_shell = first.starts_with("#!")
        && ["sh", "bash", "dash", "openrc-run"]
            .iter()
            .any(|s| first.split(['/', ' ']).any(|w| w == *s));
    let directive = text
        .lines()
        .take(3)
        .any(|l| l.starts_with("# shellcheck shell="));
    let bash_completion = rel.starts_with("completions/bash");
    shebang_shell
        || directive
        || bash_completion
        || name == "PKGBUILD"
        || name.ends_with(".ebuild")
        || name.ends_with(".sh")
}

fn shell_files() -> Vec<PathBuf> {
    checkout_files()
        .into_iter()
        .filter(|rel| {
            std::fs::read_to_string(repo().join(rel)).is_ok_and(|t| is_shell_file(rel, &t))
        })
        .collect()
}

#[test]
fn shellcheck_passes_on_every_shell_file() {
    require_tool!("shellcheck");
    let files = shell_files();
    for must in [
        "PKGBUILD",
        "init/openrc/distccd.initd",
        "init/openrc/distccd.confd",
        "scripts/gen-ebuild-crates",
        "scripts/install-test-deps",
        "ebuild/sys-devel/distcc-rs/distcc-rs-0.1.0.ebuild",
    ] {
        assert!(
            files.iter().any(|f| f == Path::new(must)),
            "{must} not recognised as a shell file: {files:?}"
        );
    }
    run_ok(Command::new("shellcheck").current_dir(repo()).args(&files));
}

/// The hardening block, which must be the same in every unit.
fn hardening(unit: &str) -> String {
    let start = unit.find("# --- hardening").expect("no hardening block");
    let end = unit
        .find("# --- end of hardening ---")
        .expect("no end of hardening");
    unit[start..end].to_string()
}

fn units() -> Vec<PathBuf> {
    checkout_files()
        .into_iter()
        .filter(|p| {
            p.starts_with("init/systemd")
                && ["service", "socket"]
                    .iter()
                    .any(|e| p.extension().is_some_and(|x| x == *e))
        })
        .collect()
}

#[test]
fn systemd_analyze_verifies_every_unit_with_its_drop_in() {
    require_tool!("systemd-analyze");
    let units = units();
    assert!(
        units.len() >= 2,
        "expected Gentoo and Arch units: {units:?}"
    );
    for unit in &units {
        // Each unit in a unit directory of its own, with the Gentoo drop-in
        // beside the Gentoo unit, so verify loads it the way systemd would.
        let dir = TempDir::new("units");
        let name = unit.file_name().unwrap();
        std::fs::copy(repo().join(unit), dir.path().join(name)).unwrap();
        // A socket unit activates distccd.service: verify it beside one.
        if unit.extension().is_some_and(|e| e == "socket") {
            let service = repo().join("init/systemd/arch/distccd.service");
            std::fs::copy(service, dir.path().join("distccd.service")).unwrap();
        }
        let dropin = repo().join(unit.parent().unwrap()).join("00gentoo.conf");
        if dropin.exists() {
            let d = dir.path().join(format!("{}.d", name.to_string_lossy()));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::copy(&dropin, d.join("00gentoo.conf")).unwrap();
        }
        let out = run_ok(
            Command::new("systemd-analyze")
                .arg("verify")
                .arg(dir.path().join(name))
                .env("SYSTEMD_UNIT_PATH", format!("{}:", dir.path().display())),
        );
        // verify only warns (exit 0) on unknown keys and bad values.
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.trim().is_empty(),
            "systemd-analyze verify {unit:?} complained:\n{stderr}"
        );
    }
}

#[test]
fn hardening_is_identical_in_every_unit_and_scores_low_exposure() {
    require_tool!("systemd-analyze");
    let units = units();
    let services: Vec<_> = units
        .iter()
        .filter(|u| u.extension().unwrap() == "service")
        .collect();
    let first = hardening(&std::fs::read_to_string(repo().join(services[0])).unwrap());
    for unit in &services {
        let text = std::fs::read_to_string(repo().join(unit)).unwrap();
        assert_eq!(hardening(&text), first, "{unit:?} hardening differs");
        // Exposure is 0..10 as printed; --threshold is in tenths: fail above 2.0.
        run_ok(
            Command::new("systemd-analyze")
                .args(["security", "--offline=true", "--threshold=20"])
                .arg(repo().join(unit)),
        );
    }
}

#[test]
fn sysusers_creates_the_distcc_account() {
    require_tool!("systemd-sysusers");
    let root = TempDir::new("sysusers");
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    run_ok(
        Command::new("systemd-sysusers")
            .arg(format!("--root={}", root.path().display()))
            .arg(repo().join("init/systemd/distccd.sysusers")),
    );
    let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).unwrap();
    let line = passwd
        .lines()
        .find(|l| l.starts_with("distcc:"))
        .unwrap_or_else(|| panic!("no distcc user in\n{passwd}"));
    let fields: Vec<_> = line.split(':').collect();
    let uid: u32 = fields[2].parse().unwrap();
    assert!(uid > 0 && uid < 1000, "not a system uid: {line}");
    assert!(fields[6].ends_with("nologin"), "login shell: {line}");
    let group = std::fs::read_to_string(root.path().join("etc/group")).unwrap();
    assert!(group.lines().any(|l| l.starts_with("distcc:")), "{group}");
}

#[test]
fn logrotate_accepts_the_configuration() {
    require_tool!("logrotate");
    let dir = TempDir::new("logrotate");
    // The host has no distcc account; everything else is the shipped file.
    let conf = std::fs::read_to_string(repo().join("init/logrotate/distccd"))
        .unwrap()
        .replace("distcc distcc", "nobody nogroup");
    let path = dir.path().join("distccd");
    std::fs::write(&path, conf).unwrap();
    let out = run_ok(
        Command::new("logrotate")
            .arg("-d")
            .arg("-s")
            .arg(dir.path().join("state"))
            .arg(&path),
    );
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("error"), "logrotate -d:\n{text}");
    assert!(
        text.contains("/var/log/distccd.log"),
        "logrotate -d:\n{text}"
    );
}

pub(super) fn cargo_version() -> String {
    let toml: toml::Table = std::fs::read_to_string(repo().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    toml["package"]["version"].as_str().unwrap().to_string()
}

#[test]
fn pkgbuild_and_ebuild_carry_the_crate_version() {
    let version = cargo_version();
    let pkgbuild = stdout_of(
        Command::new("bash")
            .arg("-c")
            .arg("startdir=/nonexistent BUILDDIR=/tmp source ./PKGBUILD && echo \"$pkgver\"")
            .current_dir(repo()),
    );
    assert_eq!(pkgbuild.trim(), version, "PKGBUILD pkgver");
    let ebuild = repo().join(format!(
        "ebuild/sys-devel/distcc-rs/distcc-rs-{version}.ebuild"
    ));
    assert!(ebuild.exists(), "{} missing", ebuild.display());
}

/// One project URL (issue 11: the PKGBUILD had no url=): the PKGBUILD's
/// url, the ebuild's HOMEPAGE, metadata.xml's GitHub remote-id, and the
/// README, which says what is (and is not yet) published there.
#[test]
fn pkgbuild_ebuild_and_readme_name_the_same_project_url() {
    let url = stdout_of(
        Command::new("bash")
            .arg("-c")
            .arg("startdir=/nonexistent BUILDDIR=/tmp source ./PKGBUILD && echo \"$url\"")
            .current_dir(repo()),
    );
    let url = url.trim();
    assert!(
        url.starts_with("https://github.com/"),
        "PKGBUILD url={url:?}"
    );
    let version = cargo_version();
    let ebuild = std::fs::read_to_string(repo().join(format!(
        "ebuild/sys-devel/distcc-rs/distcc-rs-{version}.ebuild"
    )))
    .unwrap();
    assert!(
        ebuild.contains(&format!("HOMEPAGE=\"{url}\"")),
        "ebuild HOMEPAGE"
    );
    assert!(
        ebuild.contains(&format!("{url}/releases/download/")),
        "ebuild SRC_URI"
    );
    let metadata =
        std::fs::read_to_string(repo().join("ebuild/sys-devel/distcc-rs/metadata.xml")).unwrap();
    let remote = url.trim_start_matches("https://github.com/");
    assert!(
        metadata.contains(&format!("<remote-id type=\"github\">{remote}</remote-id>")),
        "metadata.xml remote-id"
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(readme.contains(url), "README does not name {url}");
}

#[test]
fn pkgbuild_refuses_to_build_inside_the_checkout() {
    // makepkg's default srcdir would be the crate's own src/.
    let out = Command::new("bash")
        .arg("-c")
        .arg("startdir=$PWD; unset BUILDDIR; source ./PKGBUILD")
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("set BUILDDIR"));
}
