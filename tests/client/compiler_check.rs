//! The extension's compiler check (docs/extension.md §7, issue 12): a
//! daemon of ours whose compiler behind the client's name is another one
//! (clang, a cross compiler, a wrapper that says another version) is
//! found out on the first job, no object of it is used by default, and
//! the client warns once per host and compiler. `warn` uses its object
//! anyway, `off` does not ask. A wrapper that runs the same gcc (the
//! sleepy daemons of tests/client/extension.rs) passes the check.

use std::os::unix::fs::PermissionsExt;

use super::harness::{Daemon, Farm, Kind, assert_ok, assert_same};
use crate::support::text;

/// A wrapper that says it is gcc 13.2.0 and compiles with the local gcc,
/// without the `.comment` naming it: its objects differ from local ones.
const LIAR: &str = "#!/bin/sh\ncase \"$1\" in\n\
    -dumpfullversion) echo 13.2.0; exit 0;;\n\
    --version) echo 'gcc (Fake 13.2.0-1) 13.2.0'; exit 0;;\n\
    esac\nexec /usr/bin/gcc -fno-ident \"$@\"\n";

/// Our daemon whose compilers (every name the client sends) are `target`,
/// a program or a script's text, in a masquerade directory of its own.
fn daemon_with(f: &Farm, tag: &str, target: &str) -> Daemon {
    f.daemon_with_compiler(tag, target, &["--log-level", "debug"])
}

fn farm(tag: &str) -> Farm {
    let f = Farm::with_hello(&format!("cid-{tag}"));
    f.local(&["gcc", "-c", "hello.c", "-o", "local.o"]);
    f.local(&["gcc", "-fno-ident", "-c", "hello.c", "-o", "liar.o"]);
    f
}

/// A `PATH` on which gcc here is [`LIAR`].
fn liar_here(f: &Farm) -> String {
    let bin = f.path("liar-bin");
    std::fs::create_dir_all(&bin).unwrap();
    // Under both names: the client runs gcc as x86_64-linux-gnu-gcc.
    for name in ["gcc", "x86_64-linux-gnu-gcc"] {
        std::fs::write(bin.join(name), LIAR).unwrap();
        std::fs::set_permissions(bin.join(name), PermissionsExt::from_mode(0o755)).unwrap();
    }
    format!("{}:/usr/bin:/bin", bin.display())
}

fn warnings(out: &std::process::Output) -> Vec<String> {
    text(&out.stderr)
        .lines()
        .filter(|l| l.contains("Warning:"))
        .map(str::to_owned)
        .collect()
}

/// Three hosts, three other compilers: clang behind gcc's names, the
/// aarch64 cross gcc behind them, a wrapper saying gcc 13.2.0. The first
/// job tries each (one probe each first, so it too is checked), is
/// refused by each, warns once per host naming both compilers, and
/// compiles here; the next jobs warn no more and do not ask those hosts
/// again for an hour, nor while this compiler stays the same. No object
/// of theirs is used, no host is backed off or counted as failed.
#[test]
fn other_compilers_are_refused_and_warned_about_once() {
    crate::require_tool!("/usr/bin/clang");
    crate::require_tool!("/usr/bin/aarch64-linux-gnu-gcc");
    let f = farm("refuse");
    let daemons = [
        daemon_with(&f, "clang", "/usr/bin/clang"),
        daemon_with(&f, "cross", "/usr/bin/aarch64-linux-gnu-gcc"),
        daemon_with(&f, "liar", LIAR),
    ];
    let hosts: Vec<String> = daemons.iter().map(|d| d.host(",lzo")).collect();
    let hosts = hosts.join(" ");
    let first = f.distcc(&hosts, &["gcc", "-c", "hello.c", "-o", "r0.o"], &[]);
    assert_ok(&first, "first job");
    let w = warnings(&first);
    assert_eq!(w.len(), 3, "{}", text(&first.stderr));
    let all = w.join("\n");
    for needle in [
        "differs from this machine's (version): here x86_64-linux-gnu-gcc (Debian",
        "there Debian clang version",
        "target aarch64-linux-gnu",
        "there gcc (Fake 13.2.0-1) 13.2.0",
        "DISTCC_COMPILER_CHECK=refuse",
    ] {
        assert!(all.contains(needle), "{needle}: {all}");
    }
    assert_same(&f.work().join("r0.o"), &f.work().join("local.o"));
    for i in 1..3 {
        let obj = format!("r{i}.o");
        let out = f.distcc(&hosts, &["gcc", "-c", "hello.c", "-o", &obj], &[]);
        assert_ok(&out, "later job");
        assert!(warnings(&out).is_empty(), "{}", text(&out.stderr));
        assert_same(&f.work().join(&obj), &f.work().join("local.o"));
    }
    let refused = |times: usize| {
        for d in &daemons {
            let log = d.log_text();
            assert_eq!(log.matches("not compiled").count(), times, "{log}");
            assert_eq!(d.count("COMPILE_OK"), 0, "{log}");
        }
    };
    // Asked by the first job only: the later ones skip them.
    refused(1);
    f.assert_no_backoff();
    // An hour later they are asked again.
    let differs = f.path("ddir/compiler-id/differs");
    let remembered: Vec<_> = std::fs::read_dir(&differs).unwrap().collect();
    assert_eq!(remembered.len(), 3, "{remembered:?}");
    for e in remembered {
        let touched = std::process::Command::new("touch")
            .args(["-d", "2 hours ago"])
            .arg(e.unwrap().path())
            .status()
            .unwrap();
        assert!(touched.success());
    }
    let out = f.distcc(&hosts, &["gcc", "-c", "hello.c", "-o", "r3.o"], &[]);
    assert_ok(&out, "an hour later");
    refused(2);
    // No fallback warning either, and with DISTCC_FALLBACK=0 a clear
    // error instead of a compile here.
    let out = f.distcc(
        &hosts,
        &["gcc", "-c", "hello.c", "-o", "nofb.o"],
        &[("DISTCC_FALLBACK", "0")],
    );
    assert_eq!(out.status.code(), Some(116), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("another compiler"),
        "{}",
        text(&out.stderr)
    );
    refused(2);
    // Another compiler here (the wrapper, as gcc on this PATH): the hosts
    // are asked again, and the wrapper's host has the same one.
    let path = liar_here(&f);
    let out = f.distcc(
        &daemons[2].host(",lzo"),
        &["gcc", "-c", "hello.c", "-o", "w.o"],
        &[("PATH", &path), ("DISTCC_VERBOSE", "1")],
    );
    assert_ok(&out, "another compiler here");
    assert_eq!(
        daemons[2].wait_count("COMPILE_OK", 1),
        1,
        "{}",
        text(&out.stderr)
    );
    assert_same(&f.work().join("w.o"), &f.work().join("liar.o"));
}

/// An unknown `DISTCC_COMPILER_CHECK` is said, naming it, and refuses.
#[test]
fn an_unknown_check_value_is_said_and_refuses() {
    let f = farm("unknown");
    let liar = daemon_with(&f, "liar", LIAR);
    let out = f.distcc(
        &liar.host(",lzo"),
        &["gcc", "-c", "hello.c", "-o", "u.o"],
        &[("DISTCC_COMPILER_CHECK", "refuze")],
    );
    assert_ok(&out, "unknown value");
    let err = text(&out.stderr);
    let said: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("DISTCC_COMPILER_CHECK=\"refuze\" (in the environment)"))
        .collect();
    assert_eq!(said.len(), 1, "{err}");
    assert!(said[0].contains("refuse, warn or off"), "{err}");
    assert_same(&f.work().join("u.o"), &f.work().join("local.o"));
    assert!(liar.wait_log("not compiled"), "{}", liar.log_text());
}

/// `warn`: the wrapper's object is used (it differs from a local one as
/// the wrapper's own flags say), with one warning over two jobs. `off`:
/// no identity is sent, no warning. A gcc that matches (the farm's own
/// masquerade links to /usr/bin/gcc) compiles with the check on.
#[test]
fn warn_uses_the_object_and_off_does_not_ask() {
    let f = farm("warn");
    let liar = daemon_with(&f, "liar", LIAR);
    let host = liar.host(",lzo");
    let env = [("DISTCC_COMPILER_CHECK", "warn")];
    for i in 0..2 {
        let obj = format!("w{i}.o");
        let out = f.distcc(&host, &["gcc", "-c", "hello.c", "-o", &obj], &env);
        assert_ok(&out, "warn");
        let w = warnings(&out);
        assert_eq!(w.len(), usize::from(i == 0), "{}", text(&out.stderr));
        if i == 0 {
            assert!(w[0].contains("DISTCC_COMPILER_CHECK=warn"), "{w:?}");
        }
        assert_same(&f.work().join(&obj), &f.work().join("liar.o"));
    }
    assert_eq!(liar.wait_count("COMPILE_OK", 2), 2, "{}", liar.log_text());
    assert!(liar.log_text().contains("compiling anyway"));
    let out = f.distcc(
        &host,
        &["gcc", "-c", "hello.c", "-o", "off.o"],
        &[("DISTCC_COMPILER_CHECK", "off")],
    );
    assert_ok(&out, "off");
    assert!(warnings(&out).is_empty(), "{}", text(&out.stderr));
    assert_same(&f.work().join("off.o"), &f.work().join("liar.o"));
    assert_eq!(liar.wait_count("COMPILE_OK", 3), 3);
    let log = liar.log_text();
    assert_eq!(
        log.matches("client speaks extension 1 (zstd, heartbeats, status, outputs, header cache, pump-mode outputs, \
             requests by reference, bodies against a base)")
            .count(),
        1,
        "off sent no identity: {log}"
    );
    // The same gcc: compiled there, no warning.
    let same = f.daemon(Kind::Ours);
    let out = f.distcc(
        &same.host(",lzo"),
        &["gcc", "-c", "hello.c", "-o", "same.o"],
        &[],
    );
    assert_ok(&out, "same compiler");
    assert!(warnings(&out).is_empty(), "{}", text(&out.stderr));
    assert_eq!(same.wait_count("COMPILE_OK", 1), 1, "{}", same.log_text());
    assert_same(&f.work().join("same.o"), &f.work().join("local.o"));
}

/// Identities by digest (docs/extension.md §7, `COMPILER_ID_REF`): a
/// daemon asks for a client compiler's identity whole the first time
/// only, and still tells compilers apart: after gcc's identity is known
/// there, a job from the wrapper saying gcc 13.2.0 (another digest) is
/// asked for its own and refused, and gcc's next job is not asked again.
#[test]
fn identities_by_digest_are_asked_for_once_and_still_told_apart() {
    let f = farm("digest");
    let d = Daemon::start(&f.daemon_config(Kind::Ours).args(["--log-level", "debug"]));
    let host = d.host(",lzo");
    let asked = || {
        d.log_text()
            .matches("asking the client for its compiler identity")
            .count()
    };
    for i in 0..2 {
        let obj = format!("g{i}.o");
        let out = f.distcc(&host, &["gcc", "-c", "hello.c", "-o", &obj], &[]);
        assert_ok(&out, "gcc");
        assert_eq!(d.wait_count("COMPILE_OK", i + 1), i + 1, "{}", d.log_text());
        assert_same(&f.work().join(&obj), &f.work().join("local.o"));
    }
    assert_eq!(asked(), 1, "{}", d.log_text());
    assert!(
        d.log_text()
            .contains("compiler identity by digest, bodies against a base)"),
        "{}",
        d.log_text()
    );
    let path = liar_here(&f);
    let out = f.distcc(
        &host,
        &["gcc", "-c", "hello.c", "-o", "l.o"],
        &[("PATH", &path)],
    );
    assert_ok(&out, "the wrapper here");
    assert_eq!(warnings(&out).len(), 1, "{}", text(&out.stderr));
    assert!(d.wait_log("not compiled"), "{}", d.log_text());
    assert_eq!(asked(), 2, "{}", d.log_text());
    // Compiled here by the wrapper, not there by gcc.
    assert_same(&f.work().join("l.o"), &f.work().join("liar.o"));
    let out = f.distcc(&host, &["gcc", "-c", "hello.c", "-o", "g2.o"], &[]);
    assert_ok(&out, "gcc again");
    assert_eq!(d.wait_count("COMPILE_OK", 3), 3, "{}", d.log_text());
    assert_eq!(asked(), 2, "{}", d.log_text());
    assert_same(&f.work().join("g2.o"), &f.work().join("local.o"));
}
