//! The client's side of issue 10: what our daemon would refuse is compiled
//! here with a one-line reason (never sent, never a "server closed the
//! connection" and a backoff); what a 3.4 client sends is still served;
//! file names that are not UTF-8 travel both ways; `,auth` hosts are not
//! used in the clear.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::process::Output;

use super::harness::{Farm, Kind, assert_ok, assert_same, text};
use crate::support;

fn farm(tag: &str) -> Farm {
    let f = Farm::new(tag);
    f.write("x.c", "int f(int a) { return a * 3; }\n");
    f
}

/// Options our client sent and our daemon refused (issue 10, "Client and
/// daemon disagree"); each must now compile here, with a reason under
/// DISTCC_VERBOSE, and never reach the daemon.
const REFUSED_BY_US: &[&[&str]] = &[
    &["-B/usr/lib/gcc/x86_64-linux-gnu/12/"],
    &["--prefix=/usr/lib/gcc/x86_64-linux-gnu/12/"],
    &["-wrapper", "/usr/bin/env"],
    &["-fdump-tree-original=dump.txt"],
    &["--dump-tree-original=dump2.txt"],
    &["-fopt-info-all=opt.txt"],
    &["-aux-info", "aux.txt"],
    &["-dumpdir", "dumps/"],
    &["-iplugindir=/nonexistent"],
];

#[test]
fn what_our_daemon_refuses_compiles_here_with_a_reason() {
    crate::require_tool!("gcc");
    let f = farm("refused");
    std::fs::create_dir_all(f.work().join("dumps")).unwrap();
    let d = f.daemon(Kind::Ours);
    let host = d.host("");
    for extra in REFUSED_BY_US {
        let mut cmd = vec!["gcc", "-O2", "-c", "x.c", "-o", "x.o"];
        cmd.extend_from_slice(extra);
        f.local(&cmd);
        std::fs::rename(f.work().join("x.o"), f.work().join("ref.o")).unwrap();
        let out = f.distcc(&host, &cmd, &[("DISTCC_VERBOSE", "1")]);
        assert_ok(&out, &format!("{extra:?}"));
        assert_same(&f.work().join("x.o"), &f.work().join("ref.o"));
        let err = text(&out.stderr);
        let why = err
            .lines()
            .find(|l| l.contains("running locally because"))
            .unwrap_or_else(|| panic!("{extra:?}: no reason given:\n{err}"));
        assert!(why.contains(extra[0].split('=').next().unwrap()), "{why}");
        assert!(!err.contains("server closed"), "{extra:?} was sent:\n{err}");
    }
    assert_eq!(d.count("COMPILE_OK"), 0, "{}", d.log_text());
    assert!(
        !d.log_text().contains("refused request"),
        "the daemon saw a request:\n{}",
        d.log_text()
    );
    assert!(
        !f.lock_files().iter().any(|l| l.starts_with("backoff")),
        "{:?}",
        f.lock_files()
    );
}

/// Our client with a file name that is not UTF-8 (`h\xe9llo.c`).
fn latin1(f: &Farm, hosts: &str, env: &[(&str, &str)]) -> Output {
    let src = OsStr::from_bytes(b"h\xe9llo.c");
    let obj = OsStr::from_bytes(b"h\xe9llo.o");
    std::fs::write(f.work().join(src), "int hello(void) { return 7; }\n").unwrap();
    let args: Vec<OsString> = ["gcc", "-O2", "-c"]
        .iter()
        .map(OsString::from)
        .chain([src.to_os_string(), "-o".into(), obj.to_os_string()])
        .collect();
    f.command(&support::bin("distcc"), hosts, &[], env)
        .args(&args)
        .output()
        .expect("run distcc")
}

#[test]
fn names_that_are_not_utf8_are_compiled_remotely_by_both_daemons() {
    crate::require_tool!("gcc");
    for kind in [Kind::Ours, Kind::Debian] {
        let f = farm(&format!("latin1-{kind:?}"));
        let d = f.daemon(kind);
        let out = latin1(&f, &d.host(""), &[]);
        assert_ok(&out, &format!("{kind:?}"));
        let obj = f.work().join(OsStr::from_bytes(b"h\xe9llo.o"));
        std::fs::rename(&obj, f.work().join("remote.o")).unwrap();
        assert!(
            d.wait_compiles(1) >= 1,
            "{kind:?}: not remote:\n{}",
            d.log_text()
        );
        // The reference: gcc itself on the same name.
        let status = std::process::Command::new("gcc")
            .current_dir(f.work())
            .args([OsStr::new("-O2"), OsStr::new("-c")])
            .arg(OsStr::from_bytes(b"h\xe9llo.c"))
            .args([OsStr::new("-o"), OsStr::new("local.o")])
            .status()
            .unwrap();
        assert!(status.success());
        assert_same(&f.work().join("remote.o"), &f.work().join("local.o"));
    }
}

#[test]
fn an_auth_host_is_never_used_in_the_clear() {
    crate::require_tool!("gcc");
    let f = farm("auth");
    let d = f.daemon(Kind::Ours);
    let host = d.host(",auth");
    let cmd = ["gcc", "-c", "x.c", "-o", "x.o"];
    let out = f.distcc(&host, &cmd, &[]);
    assert_ok(&out, "falls back like 3.4 without GSS-API");
    let err = text(&out.stderr);
    assert!(err.contains("GSS-API"), "{err}");
    let out = f.distcc(&host, &cmd, &[("DISTCC_FALLBACK", "0")]);
    assert_eq!(out.status.code(), Some(116), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("GSS-API"));
    assert_eq!(
        d.count("COMPILE_OK"),
        0,
        "a job was sent:\n{}",
        d.log_text()
    );
    assert!(
        !d.log_text().contains("connection from"),
        "{}",
        d.log_text()
    );
}
