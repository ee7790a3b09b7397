//! The PKGBUILD built by real makepkg (Debian's pacman 6.0 tooling) as an
//! unprivileged user into a real package, whose contents and metadata are
//! then checked, and which is unpacked into a scratch root where its
//! programs run.
//!
//! The build runs as `nobody` in a private mount namespace in which the
//! Rust toolchain (under root's home) is bind-mounted somewhere nobody can
//! read. Its build and cargo directories persist between runs (under the
//! system temp dir, keyed by checkout), so a re-run is incremental; a cold
//! run compiles the crate in release mode plus the library tests of
//! check(): about 5 to 10 minutes on two shared cores.

use super::{repo, run_ok, stdout_of};
use crate::support::TempDir;
use crate::{require_root, require_tool};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const NOBODY: u32 = 65534;

/// The package file, built once per test run.
fn package() -> &'static Path {
    static PKG: OnceLock<PathBuf> = OnceLock::new();
    PKG.get_or_init(build_package)
}

fn work_dir() -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    repo().hash(&mut h);
    std::env::temp_dir().join(format!("distcc-rs-makepkg-{:016x}", h.finish()))
}

fn build_package() -> PathBuf {
    let work = work_dir();
    let start = work.join("start");
    let _ = std::fs::remove_dir_all(&start);
    let _ = std::fs::remove_dir_all(work.join("pkgdest"));
    for d in [
        "start",
        "build",
        "pkgdest",
        "srcdest",
        "home",
        "cargo-home",
        "toolchain",
    ] {
        std::fs::create_dir_all(work.join(d)).unwrap();
    }
    // The checkout as makepkg's start directory (working tree, no target/).
    run_ok(Command::new("bash").arg("-c").arg(format!(
        "set -o pipefail; tar -C '{}' --exclude=./target --exclude=./.git -cf - . | tar -C '{}' -xf -",
        repo().display(),
        start.display()
    )));
    run_ok(
        Command::new("chown")
            .arg("-R")
            .arg(format!("{NOBODY}:{NOBODY}"))
            .arg(&work),
    );
    run_ok(Command::new("chmod").arg("0755").arg(&work));

    let sysroot = stdout_of(Command::new("rustc").args(["--print", "sysroot"]));
    // The build's whole environment: nobody's own directories, plus any
    // proxy settings this machine reaches crates.io through.
    let mut envs = vec![
        format!("HOME={}", work.join("home").display()),
        format!(
            "PATH={}:/usr/bin:/bin",
            work.join("toolchain/bin").display()
        ),
        "LANG=C.UTF-8".to_string(),
        format!("CARGO_HOME={}", work.join("cargo-home").display()),
        format!("BUILDDIR={}", work.join("build").display()),
        format!("PKGDEST={}", work.join("pkgdest").display()),
        format!("SRCDEST={}", work.join("srcdest").display()),
        "PACKAGER=distcc-rs tests <tests@localhost>".to_string(),
    ];
    for (k, v) in std::env::vars() {
        if k.to_ascii_lowercase().ends_with("_proxy") {
            envs.push(format!("{k}={v}"));
        }
    }
    let script = r#"set -e
mount --bind "$SYSROOT" "$WORK/toolchain"
cd "$WORK/start"
exec setpriv --reuid=65534 --regid=65534 --clear-groups \
  env -i "$@" makepkg --nodeps --noconfirm --force --noprogressbar"#;
    let started = std::time::Instant::now();
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "bash",
            "-c",
            script,
            "makepkg",
        ])
        .args(&envs)
        .env("SYSROOT", sysroot.trim())
        .env("WORK", &work)
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "makepkg failed:\n{log}");
    eprintln!("makepkg took {:?}", started.elapsed());
    assert!(
        log.contains("Starting check()"),
        "check() did not run:\n{log}"
    );

    let pkgs: Vec<_> = std::fs::read_dir(work.join("pkgdest"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".pkg.tar"))
        .collect();
    assert_eq!(pkgs.len(), 1, "one package expected: {pkgs:?}\n{log}");
    pkgs[0].clone()
}

/// The package's files unpacked into a fresh scratch root, as pacman
/// would install them (without running hooks).
pub fn unpacked_root() -> TempDir {
    let root = TempDir::new("archroot");
    run_ok(
        Command::new("bsdtar")
            .arg("-xpf")
            .arg(package())
            .arg("-C")
            .arg(root.path())
            .args([
                "--exclude",
                ".PKGINFO",
                "--exclude",
                ".MTREE",
                "--exclude",
                ".BUILDINFO",
            ]),
    );
    root
}

/// `bsdtar -tvf`: one line per entry, `ls -l` style.
fn listing() -> String {
    stdout_of(Command::new("bsdtar").arg("-tvf").arg(package()))
}

fn pkginfo() -> String {
    stdout_of(
        Command::new("bsdtar")
            .arg("-xOf")
            .arg(package())
            .arg(".PKGINFO"),
    )
}

#[test]
fn makepkg_builds_the_package_as_an_unprivileged_user() {
    for tool in [
        "makepkg", "bsdtar", "fakeroot", "unshare", "setpriv", "rustc",
    ] {
        require_tool!(tool);
    }
    require_root!();
    let list = listing();
    let names: Vec<&str> = list
        .lines()
        .map(|l| l.split_whitespace().nth(8).unwrap_or(""))
        .collect();
    let want = [
        "usr/bin/distcc",
        "usr/bin/distccd",
        "usr/bin/distccmon-text",
        "usr/bin/pump",
        "usr/bin/lsdistcc",
        "usr/bin/distcc-config",
        "usr/lib/systemd/system/distccd.service",
        "usr/lib/systemd/system/distccd.socket",
        "usr/lib/systemd/system/distccd@.service",
        "usr/lib/sysusers.d/distccd.conf",
        "etc/conf.d/distccd",
        "etc/distcc/hosts",
        "etc/logrotate.d/distccd",
        "usr/share/libalpm/hooks/distcc-rs-masquerade.hook",
        "usr/share/libalpm/hooks/distcc-rs-masquerade-remove.hook",
        "usr/share/distcc/compilers.toml",
        "usr/lib/distcc/",
        "usr/lib/distcc/bin",
        "usr/share/man/man1/distcc.1.gz",
        "usr/share/man/man1/distccd.1.gz",
        "usr/share/man/man1/distcc-config.1.gz",
        "usr/share/man/man1/distccmon-text.1.gz",
        "usr/share/bash-completion/completions/distccd",
        "usr/share/zsh/site-functions/_distccd",
        "usr/share/fish/vendor_completions.d/distccd.fish",
        "usr/share/doc/distcc-rs/README.md",
        "usr/share/doc/distcc-rs/docs/reference.md",
    ];
    for w in want {
        assert!(names.contains(&w), "{w} missing from the package:\n{list}");
    }
    // The binaries are executable; bin is the link makepkg's BUILDENV uses.
    let line = |n: &str| list.lines().find(|l| l.ends_with(n)).unwrap().to_string();
    assert!(line("usr/bin/distccd").starts_with("-rwxr-xr-x"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with('l') && l.ends_with("usr/lib/distcc/bin -> .")),
        "usr/lib/distcc/bin -> . missing:\n{list}"
    );

    let info = pkginfo();
    for field in [
        "pkgname = distcc-rs",
        "backup = etc/conf.d/distccd",
        "backup = etc/distcc/hosts",
        "provides = distcc=3.4",
        "conflict = distcc",
    ] {
        assert!(
            info.lines().any(|l| l == field),
            "{field} not in .PKGINFO:\n{info}"
        );
    }
}

#[test]
fn packaged_files_work_in_a_scratch_root() {
    for tool in [
        "makepkg", "bsdtar", "fakeroot", "unshare", "setpriv", "rustc",
    ] {
        require_tool!(tool);
    }
    require_root!();
    let root = unpacked_root();
    let r = root.path();
    // The programs run from where pacman would put them.
    let version = stdout_of(Command::new(r.join("usr/bin/distccd")).arg("--version"));
    assert!(version.contains("distccd"), "{version}");
    // The masquerade directory is reachable both ways.
    assert!(r.join("usr/lib/distcc/bin").is_symlink());
    assert!(
        r.join("usr/lib/distcc/bin/").canonicalize().unwrap()
            == r.join("usr/lib/distcc").canonicalize().unwrap()
    );
    // The unit installed is the Arch one, reading the shipped conf.d.
    let unit = std::fs::read_to_string(r.join("usr/lib/systemd/system/distccd.service")).unwrap();
    assert!(unit.contains("EnvironmentFile=/etc/conf.d/distccd"));
    let conf = std::fs::read_to_string(r.join("etc/conf.d/distccd")).unwrap();
    assert!(conf.lines().any(|l| l.starts_with("DISTCC_ARGS=")));
    verify_units_in_root(r);
}

/// systemd-analyze verify on the installed unit, with the packaged
/// /usr/bin/distccd as the ExecStart binary. What Arch's `filesystem`,
/// `systemd` and `util-linux` packages would add to the root (the /bin ->
/// usr/bin link, the targets the unit is ordered against, kill) is copied
/// from this host first.
fn verify_units_in_root(r: &Path) {
    if !crate::support::have_tool("systemd-analyze") {
        return;
    }
    std::os::unix::fs::symlink("usr/bin", r.join("bin")).unwrap();
    std::fs::copy("/bin/kill", r.join("usr/bin/kill")).unwrap();
    let units = r.join("usr/lib/systemd/system");
    for entry in std::fs::read_dir("/lib/systemd/system").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "target") && !path.is_symlink() {
            std::fs::copy(&path, units.join(path.file_name().unwrap())).unwrap();
        }
    }
    let out = run_ok(
        Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", r.display()))
            .arg("distccd.service")
            .arg("distccd@aarch64-linux-gnu.service"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.trim().is_empty(),
        "systemd-analyze verify in the package root:\n{stderr}"
    );
}
