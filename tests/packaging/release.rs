//! scripts/release: the files a release needs, from a git ref in one
//! command (issue 11: the ebuild's SRC_URI named a release that did not
//! exist). The files it makes must be exactly what the ebuild's SRC_URI
//! fetches (read by Portage's own SRC_URI parser, see portage_check.py),
//! the crates must be Cargo.lock's (names and checksums), and the
//! vendored-crates tarball must satisfy cargo offline and frozen.
//!
//! Cheap enough to run every time (about 10 s once cargo's cache holds the
//! crates): xz at level 0 (XZ_OPT), and cargo resolves against the vendored
//! crates (`cargo metadata --frozen --offline`, which verifies presence and
//! checksums) instead of compiling them for minutes.

use super::{repo, run_ok, stdout_of};
use crate::require_tool;
use crate::support::TempDir;
use std::collections::BTreeSet;
use std::process::Command;

#[test]
fn release_makes_what_the_ebuild_fetches_and_cargo_builds_offline() {
    for tool in ["git", "xz", "sha256sum", "python3"] {
        require_tool!(tool);
    }
    let version = super::static_checks::cargo_version();
    let p = format!("distcc-rs-{version}");
    let dir = TempDir::new("release");
    let out = dir.path().join("dist");
    run_ok(
        Command::new(repo().join("scripts/release"))
            .arg("--out")
            .arg(&out)
            .arg("HEAD")
            .env("XZ_OPT", "-0"),
    );
    let made: BTreeSet<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let tarball = format!("{p}-crates.tar.xz");
    for f in [&format!("{p}.tar.gz"), &tarball, &"SHA256SUMS".to_owned()] {
        assert!(made.contains(f), "{f} not made: {made:?}");
    }
    run_ok(
        Command::new("sha256sum")
            .args(["--check", "--quiet", "SHA256SUMS"])
            .current_dir(&out),
    );

    // What the ebuild's SRC_URI fetches, as Portage reads it.
    if super::ebuild::has_portage() {
        let list = dir.path().join("crates");
        std::fs::write(&list, "").unwrap();
        let json = Command::new("python3")
            .arg(repo().join("tests/packaging/portage_check.py"))
            .arg(super::ebuild::ebuild())
            .arg(&list)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap();
        // `"distfiles": ["a", "b", ...]` in portage_check.py's JSON line.
        let json = String::from_utf8_lossy(&json.stdout).into_owned();
        let list = json
            .split_once("\"distfiles\": [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(list, _)| list.to_owned())
            .unwrap_or_else(|| panic!("no distfiles in {json}"));
        let fetched: BTreeSet<String> = list
            .split(',')
            .map(|f| f.trim().trim_matches('"').to_owned())
            .filter(|f| !f.is_empty())
            .collect();
        let released: BTreeSet<String> = made
            .iter()
            .filter(|f| **f != tarball && *f != "SHA256SUMS")
            .cloned()
            .collect();
        assert_eq!(
            fetched.symmetric_difference(&released).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "SRC_URI and scripts/release disagree"
        );
    }

    // The source tree and the vendored crates, unpacked side by side.
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    for t in [format!("{p}.tar.gz"), tarball.clone()] {
        run_ok(
            Command::new("tar")
                .arg("-C")
                .arg(&work)
                .arg("-xf")
                .arg(out.join(t)),
        );
    }
    let src = work.join(&p);
    let lock: toml::Table = std::fs::read_to_string(src.join("Cargo.lock"))
        .unwrap()
        .parse()
        .unwrap();
    let mut crates = 0;
    for pkg in lock["package"].as_array().unwrap() {
        let Some(sum) = pkg.get("checksum").and_then(|c| c.as_str()) else {
            continue;
        };
        crates += 1;
        let file = format!(
            "{}-{}.crate",
            pkg["name"].as_str().unwrap(),
            pkg["version"].as_str().unwrap()
        );
        let got = stdout_of(Command::new("sha256sum").arg(out.join(&file)));
        assert_eq!(got.split_whitespace().next(), Some(sum), "{file}");
    }
    assert_eq!(
        made.iter().filter(|f| f.ends_with(".crate")).count(),
        crates,
        "one .crate per locked crates.io package"
    );
    let vendor = work.join("cargo_home/gentoo");
    run_ok(
        Command::new("cargo")
            .args(["metadata", "--frozen", "--offline", "--format-version", "1"])
            .arg("--config")
            .arg("source.crates-io.replace-with=\"vendored\"")
            .arg("--config")
            .arg(format!(
                "source.vendored.directory=\"{}\"",
                vendor.display()
            ))
            .current_dir(&src)
            .env("CARGO_HOME", dir.path().join("empty-cargo-home")),
    );
    // And a tampered crate is noticed: the check above can fail.
    let libc = std::fs::read_dir(&vendor)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("libc-")
        })
        .expect("libc vendored");
    std::fs::remove_dir_all(libc).unwrap();
    let broken = Command::new("cargo")
        .args(["metadata", "--frozen", "--offline", "--format-version", "1"])
        .arg("--config")
        .arg("source.crates-io.replace-with=\"vendored\"")
        .arg("--config")
        .arg(format!(
            "source.vendored.directory=\"{}\"",
            vendor.display()
        ))
        .current_dir(&src)
        .env("CARGO_HOME", dir.path().join("empty-cargo-home"))
        .output()
        .unwrap();
    assert!(!broken.status.success(), "a missing crate went unnoticed");
}

#[test]
fn release_refuses_an_unknown_ref() {
    require_tool!("git");
    let dir = TempDir::new("release-bad");
    let out = Command::new(repo().join("scripts/release"))
        .arg("--out")
        .arg(dir.path())
        .arg("no-such-ref-xyz")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a tag or commit"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing half-made"
    );
}
