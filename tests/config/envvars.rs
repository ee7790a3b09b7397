//! `--set-verbose`, `--set-log`, `--set-env` and their `--get-` forms on
//! each distribution (issue 11): Gentoo's /etc/env.d/02distcc on Gentoo
//! (tests/config/gentoo.rs), makepkg's configuration on Arch, proven by
//! real makepkg handing the variable to a build, and a clear "Gentoo and
//! Arch only" on Debian instead of a file nothing reads.

use std::process::Command;

use super::{Root, is_root};
use crate::support::TempDir;

#[test]
fn arch_writes_makepkg_conf_not_env_d() {
    let r = Root::new("arch");
    r.write("etc/makepkg.conf", "CFLAGS=\"-O2\"\n");
    let out = r.run(&["--set-verbose", "1"]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        !r.path("etc/env.d").exists(),
        "Gentoo's env.d written on Arch"
    );
    assert_eq!(
        r.read("etc/makepkg.conf"),
        "CFLAGS=\"-O2\"\nexport DISTCC_VERBOSE=\"1\"\n"
    );
    assert!(
        !out.stdout.contains("source /etc/profile"),
        "Gentoo's hint on Arch: {}",
        out.stdout
    );
    assert!(out.stdout.contains("makepkg builds"), "{}", out.stdout);
    assert_eq!(r.run(&["--get-verbose"]).stdout, "DISTCC_VERBOSE=1\n");

    let out = r.run(&["--set-log", "/tmp/distcc.log"]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        out.stdout.contains("/etc/conf.d/distccd"),
        "the daemon's log is elsewhere: {}",
        out.stdout
    );
    assert_eq!(r.run(&["--set-env", "DISTCC_SSH", "ssh -p 2222"]).status, 0);
    assert_eq!(
        r.run(&["--get-env"]).stdout,
        "DISTCC_VERBOSE=1\nDISTCC_LOG=/tmp/distcc.log\nDISTCC_SSH=ssh -p 2222\n"
    );
    assert_eq!(
        r.run(&["--get-env", "DISTCC_SSH"]).stdout,
        "DISTCC_SSH=ssh -p 2222\n"
    );

    // pacman 7's makepkg.conf.d: our own file there, makepkg.conf untouched.
    let r = Root::new("arch");
    r.write("etc/makepkg.conf", "CFLAGS=\"-O2\"\n");
    std::fs::create_dir_all(r.path("etc/makepkg.conf.d")).unwrap();
    assert_eq!(r.run(&["--set-verbose", "1"]).status, 0);
    assert_eq!(r.read("etc/makepkg.conf"), "CFLAGS=\"-O2\"\n");
    assert_eq!(
        r.read("etc/makepkg.conf.d/distcc.conf"),
        "export DISTCC_VERBOSE=\"1\"\n"
    );
}

#[test]
fn debian_says_the_options_are_gentoos_and_arch() {
    let r = Root::new("debian");
    for args in [
        &["--set-verbose", "1"][..],
        &["--set-log", "/tmp/x.log"],
        &["--set-env", "DISTCC_SSH", "ssh"],
        &["--get-verbose"],
    ] {
        let out = r.run(args);
        assert_eq!(out.status, 1, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains(&format!("{} works on Gentoo", args[0]))
                && out.stderr.contains("Arch"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!r.path("etc/env.d").exists(), "{args:?} wrote env.d");
    }
}

/// Real makepkg (Debian's 6.0), started as an unprivileged user with the
/// root's makepkg.conf, gives the variable to the package's build().
#[test]
fn makepkg_hands_the_variable_to_the_build() {
    crate::require_tool!("makepkg");
    crate::require_tool!("setpriv");
    if !is_root() {
        assert!(!crate::support::ci(), "CI runs the tests as root");
        return;
    }
    let r = Root::new("arch");
    // Debian's makepkg.conf, as Arch's: the settings makepkg needs.
    r.write(
        "etc/makepkg.conf",
        &std::fs::read_to_string("/etc/makepkg.conf").unwrap(),
    );
    assert_eq!(r.run(&["--set-verbose", "1"]).status, 0);
    let work = TempDir::new("config-makepkg");
    let w = work.path();
    std::fs::write(
        w.join("PKGBUILD"),
        "pkgname=probe\npkgver=1\npkgrel=1\narch=(any)\n\
         build() { printf '%s\\n' \"${DISTCC_VERBOSE-unset}\" > \"$startdir/seen\"; }\n\
         package() { :; }\n",
    )
    .unwrap();
    Command::new("chown")
        .args(["-R", "nobody"])
        .arg(w)
        .status()
        .unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .args(["makepkg", "--nodeps", "--noarchive", "--config"])
        .arg(r.path("etc/makepkg.conf"))
        .current_dir(w)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", w)
        .env("BUILDDIR", w.join("build"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "makepkg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(w.join("seen")).unwrap(), "1\n");
}
