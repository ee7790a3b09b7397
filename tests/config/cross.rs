//! Cross toolchains with the real aarch64 cross compiler: the volunteer's
//! strip-prefix links (--cross-links) and the client's Gentoo wrapper
//! (--cross-wrapper), each proven by compiling an aarch64 object.

use std::process::Command;

use super::masquerade::{Daemon, compile_through, elf_machine};
use super::{Root, install_host_programs};
use crate::support::TempDir;

const TRIPLE: &str = "aarch64-linux-gnu";

/// A crosstool-ng-like directory in the root: TRIPLE-* names pointing to
/// the real cross tools, by absolute links that lead to the root's own
/// /usr/bin inside it (as `--root` sees them) and to this host's outside.
pub fn toolchain(r: &Root) -> std::path::PathBuf {
    install_host_programs(r.dir.path(), |n| n.starts_with(TRIPLE));
    let dir = r.path("opt/x-tools/bin");
    std::fs::create_dir_all(&dir).unwrap();
    for tool in ["gcc", "gcc-12", "cpp", "ld", "as"] {
        let real = format!("/usr/bin/{TRIPLE}-{tool}");
        if std::path::Path::new(&real).exists() {
            std::os::unix::fs::symlink(&real, dir.join(format!("{TRIPLE}-{tool}"))).unwrap();
        }
    }
    dir
}

#[test]
fn cross_links_strip_the_prefix_and_whitelist_the_triple() {
    crate::require_tool!("aarch64-linux-gnu-gcc");
    let r = Root::new("arch");
    let dir = toolchain(&r);
    let out = r.run(&["--cross-links", "/opt/x-tools/bin"]);
    assert_eq!(out.status, 0, "{out:?}");
    let l = r.listing("opt/x-tools/bin");
    for link in [
        "gcc -> aarch64-linux-gnu-gcc",
        "cc -> aarch64-linux-gnu-gcc",
        "cpp -> aarch64-linux-gnu-cpp",
        "gcc-12 -> aarch64-linux-gnu-gcc-12",
        "aarch64-linux-gnu-cc -> aarch64-linux-gnu-gcc",
    ] {
        assert!(l.contains(&link.to_owned()), "{link} missing: {l:?}");
    }
    assert!(
        !l.iter()
            .any(|e| e.starts_with("ld ") || e.starts_with("as ")),
        "binutils untouched: {l:?}"
    );
    // Registered, and its TRIPLE- names are whitelisted (Arch: relative).
    assert!(
        r.read("etc/distcc/cross-toolchains")
            .contains("/opt/x-tools/bin\n")
    );
    let masq = r.listing("usr/lib/distcc");
    for name in [
        "aarch64-linux-gnu-gcc",
        "aarch64-linux-gnu-cc",
        "aarch64-linux-gnu-cpp",
    ] {
        assert!(
            masq.contains(&format!("{name} -> ../../bin/distcc")),
            "{name}: {masq:?}"
        );
    }
    // Idempotent, and a later --update-masquerade keeps the whitelist.
    let again = r.run(&["--cross-links", "/opt/x-tools/bin"]);
    assert!(!again.stdout.contains("Creating /"), "{again:?}");
    assert_eq!(r.run(&["--update-masquerade"]).status, 0);
    assert!(
        r.listing("usr/lib/distcc")
            .contains(&"aarch64-linux-gnu-gcc -> ../../bin/distcc".to_owned())
    );
    // The unprefixed gcc of the directory really builds for aarch64.
    let work = TempDir::new("config-cross");
    std::fs::write(work.path().join("t.c"), "int f(void) { return 42; }\n").unwrap();
    let ok = Command::new(dir.join("gcc"))
        .args(["-c", "t.c", "-o", "t.o"])
        .current_dir(work.path())
        .status()
        .unwrap();
    assert!(ok.success());
    assert_eq!(elf_machine(&work.path().join("t.o")), 183);
}

#[test]
fn cross_links_need_a_triple_and_a_directory() {
    let r = Root::new("arch");
    std::fs::create_dir_all(r.path("opt/empty")).unwrap();
    let out = r.run(&["--cross-links", "/opt/empty"]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("give --triple"), "{out:?}");
    let out = r.run(&["--cross-links", "/opt/missing"]);
    assert!(out.stderr.contains("is not a directory"), "{out:?}");
    let out = r.run(&["--cross-links", "relative/dir"]);
    assert!(out.stderr.contains("absolute"), "{out:?}");
}

#[test]
fn gentoo_cross_wrapper_sends_plain_cc_to_the_chost_compiler() {
    crate::require_tool!("/usr/bin/distccd");
    crate::require_tool!("aarch64-linux-gnu-gcc");
    // Gentoo Prefix layout in a temp dir: the wrapper script refers to
    // EPREFIX/usr/lib/distcc, which must be the real path to run it.
    let r = Root::new("gentoo");
    let prefix = r.dir.path();
    std::fs::create_dir_all(prefix.join("usr/bin")).unwrap();
    std::os::unix::fs::symlink(crate::support::bin("distcc"), prefix.join("usr/bin/distcc"))
        .unwrap();
    let run = |args: &[&str]| -> super::Run {
        Command::new(crate::support::bin("distcc-config"))
            .args(args)
            .env_clear()
            .env("EPREFIX", prefix)
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap()
            .into()
    };
    let out = run(&["--update-masquerade"]);
    assert_eq!(out.status, 0, "{out:?}");
    let out = run(&["--cross-wrapper", TRIPLE]);
    assert_eq!(out.status, 0, "{out:?}");
    let masq = r.listing("usr/lib/distcc");
    for link in [
        "cc -> aarch64-linux-gnu-wrapper",
        "gcc -> aarch64-linux-gnu-wrapper",
        "g++ -> aarch64-linux-gnu-wrapper",
    ] {
        assert!(masq.contains(&link.to_owned()), "{link}: {masq:?}");
    }
    assert!(masq.contains(&format!(
        "aarch64-linux-gnu-gcc -> {}/usr/bin/distcc",
        prefix.display()
    )));
    // --update-masquerade keeps the wrapper links.
    let out = run(&["--update-masquerade"]);
    assert!(out.stdout.contains("kept (cross wrapper)"), "{out:?}");
    assert!(
        r.listing("usr/lib/distcc")
            .contains(&"cc -> aarch64-linux-gnu-wrapper".to_owned())
    );
    // `cc -c` through the masquerade directory builds an aarch64 object
    // on the daemon.
    let daemon = Daemon::start();
    let work = TempDir::new("config-wrapper");
    let path = format!("{}/usr/lib/distcc:/usr/bin:/bin", prefix.display());
    let out = compile_through(&path, "cc", work.path(), daemon.port);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(elf_machine(&work.path().join("hello.o")), 183);
}

#[test]
fn cross_wrapper_refuses_odd_chosts() {
    let r = Root::new("gentoo");
    let out = r.run(&["--cross-wrapper", "gcc; rm -rf /"]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("does not look like a CHOST"), "{out:?}");
    assert!(!r.path("usr/lib/distcc").exists());
}
