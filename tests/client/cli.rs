//! The client's own options and invocation modes (spec §3.1-3.2), checked
//! against Debian's distcc 3.4 where both must agree.

use std::process::Command;

use super::harness::{Farm, Kind, assert_ok, text};
use crate::{require_tool, support};

const DEBIAN_DISTCC: &str = "/usr/bin/distcc";

fn both(f: &Farm, hosts: &str, args: &[&str]) -> (String, String) {
    let run = |p: &std::path::Path| {
        let out = f.command(p, hosts, args, &[]).output().unwrap();
        assert_ok(&out, &format!("{} {args:?}", p.display()));
        text(&out.stdout)
    };
    (
        run(&support::bin("distcc")),
        run(std::path::Path::new(DEBIAN_DISTCC)),
    )
}

#[test]
fn show_hosts_and_j_agree_with_3_4() {
    require_tool!(DEBIAN_DISTCC);
    let f = Farm::new("cli-hosts");
    for hosts in [
        "localhost/3 a/7 b:3700/2,lzo @c",
        "a,lzo b/1 # comment\n  localhost",
        "--localslots=3 [::1]:4000/5 x=2",
    ] {
        for opt in ["--show-hosts", "-j"] {
            let (ours, theirs) = both(&f, hosts, &[opt]);
            assert_eq!(ours, theirs, "{opt} for {hosts:?}");
        }
    }
}

#[test]
fn version_help_and_missing_arguments() {
    let f = Farm::new("cli-version");
    let out = f.distcc("", &["--version"], &[]);
    assert_ok(&out, "--version");
    let first = text(&out.stdout).lines().next().unwrap_or("").to_owned();
    let words: Vec<&str> = first.split(' ').collect();
    assert_eq!(words.len(), 3, "{first}");
    assert_eq!(words[0], "distcc");
    assert!(words[2].contains("-linux-gnu"), "{first}");
    let out = f.distcc("", &["--help"], &[]);
    assert_ok(&out, "--help");
    assert!(text(&out.stdout).contains("DISTCC_HOSTS"));
    let out = f.distcc("", &[], &[]);
    assert_eq!(out.status.code(), Some(101));
}

#[test]
fn implicit_mode_recursion_guard_and_nested_calls() {
    let f = Farm::with_hello("cli-modes");
    let daemon = f.daemon(Kind::Ours);
    // Implicit: the compiler is cc.
    let out = f.distcc(
        &daemon.host(""),
        &["-c", "hello.c", "-o", "implicit.o"],
        &[],
    );
    assert_ok(&out, "implicit mode");
    assert_eq!(daemon.wait_compiles(1), 1, "{}", text(&out.stderr));
    // Explicit mode inside a distcc child (PATH not trimmed): recursion.
    let out = f.distcc(
        &daemon.host(""),
        &["gcc", "-c", "hello.c"],
        &[("_DISTCC_SAFEGUARD", "1")],
    );
    assert_eq!(out.status.code(), Some(111), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("recursively"));
    // Masquerade mode inside a distcc child: compiles locally, no hosts.
    let masq = f.path("mbin");
    std::fs::create_dir_all(&masq).unwrap();
    std::os::unix::fs::symlink(support::bin("distcc"), masq.join("gcc")).unwrap();
    let out = Command::new(masq.join("gcc"))
        .args(["-c", "hello.c", "-o", "nested.o"])
        .current_dir(f.work())
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", masq.display()))
        .env("DISTCC_DIR", f.path("ddir"))
        .env("DISTCC_HOSTS", daemon.host(""))
        .env("_DISTCC_SAFEGUARD", "1")
        .output()
        .unwrap();
    assert_ok(&out, "nested masquerade call");
    assert!(f.work().join("nested.o").exists());
    std::thread::sleep(std::time::Duration::from_millis(500)); // a late log line
    assert_eq!(
        daemon.wait_compiles(1),
        1,
        "the nested call must not distribute"
    );
}
