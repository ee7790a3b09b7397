//! Packaging tests (issue #5): every shipped file is checked by the real
//! program that will read it — shellcheck, systemd-analyze, systemd-sysusers,
//! logrotate, mandoc, zsh/fish, makepkg and pacman's tools, Portage's Python
//! library and openrc-run.
//!
//! Helpers shared by the submodules live here; the tools are installed by
//! `scripts/install-test-deps`, and under `CI=true` a missing tool fails
//! the test (`require_tool!`).

#![allow(clippy::disallowed_methods)]

mod docs;
mod ebuild;
mod hooks;
mod logrotate;
mod makepkg;
mod masquerade;
mod openrc;
mod release;
mod static_checks;
mod xinetd;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The checkout's top directory.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run a command, panic with its output unless it succeeds, return it.
#[track_caller]
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({})\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Stdout of a successful command, as text.
#[track_caller]
pub fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run_ok(cmd).stdout).into_owned()
}

/// Every file of the checkout (not target/ or .git), relative paths, sorted.
pub fn checkout_files() -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let top = rel.components().next().unwrap().as_os_str();
            if top == "target" || top == ".git" {
                continue;
            }
            if path.is_dir() && !path.is_symlink() {
                walk(root, &path, out);
            } else {
                out.push(rel);
            }
        }
    }
    let root = repo();
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// Whether we are root (the namespace and makepkg tests need it to set up
/// mounts and to switch to an unprivileged user).
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Skip (or, under CI, fail) a test that needs root.
#[macro_export]
macro_rules! require_root {
    () => {
        if !$crate::packaging::is_root() {
            if $crate::support::ci() {
                panic!("this test must run as root under CI=true");
            }
            eprintln!("skipping: needs root");
            return;
        }
    };
}
