//! Failure handling (spec §3.10): daemon down, daemon killed mid-job,
//! wrong port, compile errors; the output must be right, the backoff file
//! written, the compiler's status returned, and each fallback reported
//! exactly once with its cause.

use std::path::Path;
use std::time::{Duration, Instant};

use super::fake::{Fake, Mode};
use super::harness::{Farm, Kind, assert_ok, assert_same, text};
use crate::support;

const CMD: &[&str] = &["gcc", "-O2", "-c", "hello.c", "-o", "hello.o"];

fn farm(tag: &str) -> Farm {
    Farm::with_hello(tag)
}

/// Run CMD through distcc, expect success, the local object and one
/// fallback line naming `cause`.
#[track_caller]
fn expect_fallback(f: &Farm, hosts: &str, cause: &str, env: &[(&str, &str)]) -> String {
    f.local(CMD);
    std::fs::rename(f.work().join("hello.o"), f.work().join("ref.o")).unwrap();
    let out = f.distcc(hosts, CMD, env);
    assert_ok(&out, "fallback compile");
    assert_same(&f.work().join("hello.o"), &f.work().join("ref.o"));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("running locally instead"))
        .collect();
    assert_eq!(lines.len(), 1, "one fallback line expected:\n{err}");
    assert!(
        lines[0].contains(cause) && lines[0].contains("hello.c"),
        "cause {cause:?} missing:\n{err}"
    );
    err
}

#[test]
fn daemon_down_falls_back_and_writes_backoff() {
    let f = farm("down");
    let port = support::free_port();
    let host = format!("127.0.0.1:{port}");
    expect_fallback(&f, &host, "refused", &[]);
    let backoff = format!("backoff_tcp_127.0.0.1_{port}_0");
    assert!(f.lock_files().contains(&backoff), "{:?}", f.lock_files());
    assert_eq!(
        std::fs::read(f.path("ddir/lock").join(&backoff)).unwrap(),
        b"x"
    );
    // Now in backoff: no connection is tried, and the reason says so.
    expect_fallback(&f, &host, "backoff", &[]);
    // With DISTCC_FALLBACK=0 there is no local run: 116, no output.
    std::fs::remove_file(f.work().join("hello.o")).unwrap();
    let out = f.distcc(&host, CMD, &[("DISTCC_FALLBACK", "0")]);
    assert_eq!(out.status.code(), Some(116), "{}", text(&out.stderr));
    assert!(!f.work().join("hello.o").exists());
}

#[test]
fn backoff_period_zero_never_loops_and_writes_no_file() {
    let f = farm("period0");
    let fake = Fake::start(Mode::Drop);
    let started = Instant::now();
    expect_fallback(
        &f,
        &fake.host(),
        "closed the connection",
        &[("DISTCC_BACKOFF_PERIOD", "0")],
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(fake.count(), 1, "the failed host is tried once");
    f.assert_no_backoff();
}

#[test]
fn wrong_port_protocol_error_falls_back() {
    let f = farm("garbage");
    let fake = Fake::start(Mode::Garbage);
    expect_fallback(&f, &fake.host(), "HTTP", &[]);
    assert!(
        f.lock_files()
            .contains(&format!("backoff_tcp_127.0.0.1_{}_0", fake.port))
    );
}

#[test]
fn second_host_is_tried_before_local() {
    let f = farm("second");
    let daemon = f.daemon(Kind::Ours);
    let dead = format!("127.0.0.1:{}", support::free_port());
    let out = f.distcc(&format!("{dead} {}", daemon.host("")), CMD, &[]);
    assert_ok(&out, "second host");
    assert_eq!(daemon.wait_compiles(1), 1, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("trying another host") && !err.contains("running locally"),
        "{err}"
    );
}

/// A C file that keeps gcc -O2 busy for a while.
fn slow_source(functions: usize) -> String {
    let mut s = String::from("#include \"util.h\"\n");
    for i in 0..functions {
        s.push_str(&format!(
            "double f{i}(double *v, int n) {{ double s = 0; for (int j = 0; j < n; j++) s += v[j] * {i}.5 + twice(j); return s; }}\n"
        ));
    }
    s
}

/// Wait for our client's state file to show `phase` (spec §3.14).
fn wait_phase(state_dir: &Path, phase: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(entries) = std::fs::read_dir(state_dir) {
            for e in entries.flatten() {
                let b = std::fs::read(e.path()).unwrap_or_default();
                if b.len() == 296 && u32::from_ne_bytes(b[284..288].try_into().unwrap()) == phase {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn daemon_killed_mid_job_falls_back() {
    for kind in [Kind::Debian, Kind::Ours] {
        let f = farm(&format!("killed-{kind:?}"));
        f.write("slow.c", slow_source(400));
        let args = ["gcc", "-O2", "-c", "slow.c", "-o", "slow.o"];
        f.local(&args);
        std::fs::rename(f.work().join("slow.o"), f.work().join("ref.o")).unwrap();
        let mut daemon = f.daemon(kind);
        // The fallback path: with racing on, a job whose server does not
        // answer may also be compiled here first (tests/client/race.rs).
        // 3.4's compiler outlives its killed daemon and keeps the
        // connection open until it finishes.
        let child = f
            .command(
                &support::bin("distcc"),
                &daemon.host(""),
                &args,
                &[("DISTCC_RACE", "0")],
            )
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        assert!(
            wait_phase(&f.path("ddir/state"), 5),
            "{kind:?}: job never reached Compile"
        );
        std::thread::sleep(Duration::from_millis(200));
        daemon.kill();
        let out = child.wait_with_output().unwrap();
        assert_ok(&out, "killed daemon");
        assert_same(&f.work().join("slow.o"), &f.work().join("ref.o"));
        let err = text(&out.stderr);
        assert_eq!(
            err.matches("running locally instead").count(),
            1,
            "{kind:?}: {err}"
        );
        assert!(
            f.lock_files()
                .contains(&format!("backoff_tcp_127.0.0.1_{}_0", daemon.port))
        );
        assert!(f.leftovers("ctmp").is_empty(), "{:?}", f.leftovers("ctmp"));
    }
}

#[test]
fn compile_errors_return_the_compilers_status() {
    let f = farm("errors");
    f.write("bad.c", "int main(void) { return undeclared; }\n");
    let daemon = f.daemon(Kind::Debian);
    let host = daemon.host(",lzo");
    let args = ["gcc", "-c", "bad.c", "-o", "bad.o"];
    // Default: remote fails, local retry shows gcc's own error once.
    let out = f.distcc(&host, &args, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.matches("'undeclared' undeclared").count(), 1, "{err}");
    assert_eq!(err.matches("retrying locally").count(), 1, "{err}");
    assert!(!f.work().join("bad.o").exists());
    // Same failure both ways: the host is not blamed.
    f.assert_no_backoff();
    // DISTCC_SKIP_LOCAL_RETRY: the server's diagnostics, no retry.
    let out = f.distcc(&host, &args, &[("DISTCC_SKIP_LOCAL_RETRY", "1")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("'undeclared' undeclared") && !err.contains("retrying"),
        "{err}"
    );
    assert_eq!(
        daemon.wait_count("COMPILE_ERROR", 2),
        2,
        "both ran remotely"
    );
}

#[test]
fn preprocessor_errors_are_not_retried() {
    let f = farm("cpp-error");
    f.write("nohdr.c", "#include \"missing.h\"\nint x;\n");
    let daemon = f.daemon(Kind::Ours);
    let out = f.distcc(
        &daemon.host(""),
        &["gcc", "-c", "nohdr.c", "-o", "nohdr.o"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.matches("fatal error").count(), 1, "{err}");
    assert!(!err.contains("running locally"), "{err}");
}

#[test]
fn bad_host_list_compiles_locally_with_a_clear_error() {
    let f = farm("badhosts");
    let err = expect_fallback(&f, "127.0.0.1,bogus", "", &[]);
    assert!(err.contains("bogus"), "{err}");
    let out = f.distcc("127.0.0.1,bogus", &["-j"], &[]);
    assert_eq!(out.status.code(), Some(106), "{}", text(&out.stderr));
}

/// With `DISTCC_FALLBACK=0` a host list that does not parse ends the job
/// with 116 (no hosts), in 3.4 as here, whatever the parser's complaint.
#[test]
fn bad_host_list_without_fallback_exits_116_as_in_3_4() {
    crate::require_tool!(super::hostsfile::DEBIAN_DISTCC);
    let f = farm("badhosts-nofallback");
    let no = [("DISTCC_FALLBACK", "0")];
    for hosts in ["127.0.0.1,bogus", "h,cpp", "h/0", "@", "[::1", "user@"] {
        for client in [
            support::bin("distcc"),
            super::hostsfile::DEBIAN_DISTCC.into(),
        ] {
            let args = ["gcc", "-c", "hello.c", "-o", "never.o"];
            let out = f.command(&client, hosts, &args, &no).output().unwrap();
            let what = format!("{} {hosts:?}: {}", client.display(), text(&out.stderr));
            assert_eq!(out.status.code(), Some(116), "{what}");
            assert!(!f.work().join("never.o").exists(), "{what}");
        }
    }
}

#[test]
fn remote_warnings_reach_the_user_once() {
    let f = farm("serr");
    f.write("warn.c", "int f(void) { int unused; return 0; }\n");
    let daemon = f.daemon(Kind::Debian);
    let out = f.distcc(
        &daemon.host(",lzo"),
        &["gcc", "-Wall", "-c", "warn.c", "-o", "warn.o"],
        &[],
    );
    assert_ok(&out, "warning compile");
    assert_eq!(daemon.wait_compiles(1), 1);
    let err = text(&out.stderr);
    assert_eq!(err.matches("unused variable").count(), 1, "{err}");
    assert!(f.work().join("warn.o").exists());
    // SOUT streaming is covered by the unit tests of src/client/transport/remote.rs.
}

/// A server whose compiler fails where the local one works (here: its
/// assembler hits a full disk): the object comes from the local retry,
/// the host goes into backoff, and the server's own words are shown once,
/// since they are the only clue to what is wrong over there.
#[test]
fn a_failure_only_the_server_has_is_shown_with_its_words() {
    let f = farm("server-only-failure");
    let bin = f.path("broken-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["gcc", "x86_64-linux-gnu-gcc"] {
        let p = bin.join(name);
        std::fs::write(
            &p,
            "#!/bin/sh\necho 'as: fatal error: cannot write hello.o: No space left on device' >&2\nexit 1\n",
        )
        .unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let config = f.daemon_config(Kind::Ours).env("DISTCCD_PATH", &bin);
    let daemon = support::distccd::Daemon::start(&config);
    f.local(CMD);
    std::fs::rename(f.work().join("hello.o"), f.work().join("ref.o")).unwrap();
    let out = f.distcc(&daemon.host(""), CMD, &[]);
    assert_ok(&out, "retried locally");
    assert_same(&f.work().join("hello.o"), &f.work().join("ref.o"));
    let err = text(&out.stderr);
    assert_eq!(err.matches("No space left on device").count(), 1, "{err}");
    assert!(
        err.contains("failed to compile 'hello.c' (exit 1) but the local compiler succeeded"),
        "{err}"
    );
    assert!(err.contains("is in backoff now"), "{err}");
    assert!(
        f.lock_files()
            .contains(&format!("backoff_tcp_127.0.0.1_{}_0", daemon.port)),
        "{:?}",
        f.lock_files()
    );
    assert_eq!(
        daemon.wait_count("COMPILE_ERROR", 1),
        1,
        "{}",
        daemon.log_text()
    );
}
