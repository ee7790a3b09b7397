//! The compilers' sandbox (issue #10, part 2) against a real daemon on
//! loopback with real gcc: hostile compiles that try to read server files,
//! write outside the job, reach the network, or exhaust processes, memory
//! or disk; the death of compilers with the daemon and the removal of a
//! dead daemon's job directories; the options that weaken the sandbox.
//!
//! The hostile cases are one table, [`CASES`] (to be merged into the
//! hostile-request corpus). After each case the daemon must answer a valid
//! compile and leave no file in its TMPDIR. `confinement_cases_leak_*`
//! runs the file and network cases with `--no-sandbox` and requires every
//! one to leak: the checks can fail.

mod cases;
mod runner;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::harness::{Farm, GOOD_V1, Kind, Opts, exchange, text};
use crate::support::eventually;
pub use cases::CASES;
use cases::OUTSIDE;
use runner::*;

#[test]
fn hostile_compiles_are_confined() {
    crate::require_tool!("gcc");
    crate::require_tool!("python3");
    let failures = run_cases("hostile", &[], |_| true);
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The same file and network cases with `--no-sandbox`: each must get
/// through, or its check could not tell.
#[test]
fn confinement_cases_leak_without_the_sandbox() {
    crate::require_tool!("gcc");
    let failures = run_cases("nosandbox", &["--no-sandbox"], |c| c.confinement);
    let leaked: Vec<&str> = CASES
        .iter()
        .filter(|c| c.confinement)
        .map(|c| c.name)
        .filter(|name| !failures.iter().any(|f| f.starts_with(&format!("{name}:"))))
        .collect();
    assert!(
        leaked.is_empty(),
        "not caught without the sandbox: {leaked:?}"
    );
}

/// `kill -9` of the daemon during a long compile: the compiler and its
/// child are gone within two seconds, and the next daemon removes the job
/// directory left behind, but not one a live daemon sharing TMPDIR uses.
#[test]
fn kill_9_takes_the_compilers_along_and_a_restart_cleans_up() {
    let farm = Farm::new("kill9");
    let ctx = Ctx::new(&farm);
    let run = farm.path("run");
    install_script(
        &ctx,
        900,
        &format!(
            "echo $$ > {0}/tree.pid; sleep 300 & echo $! > {0}/tree.child; wait",
            run.display()
        ),
    );
    // A live daemon sharing the TMPDIR, with a job directory of its own.
    let live = farm.daemon(Kind::Ours, &Opts::default());
    assert!(exchange(live.port, GOOD_V1, false).starts_with(b"DONE00000001STAT00000000"));
    let dirs = || -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(farm.path("dtmp"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        v.sort();
        v
    };
    let live_dirs = dirs();
    assert_eq!(live_dirs.len(), 1, "{live_dirs:?}");

    let mut d = farm.daemon(Kind::Ours, &Opts::default());
    let port = d.port;
    let job = std::thread::spawn(move || {
        exchange(
            port,
            &v1_request(&[&script_name(900), "-c", "x.c", "-o", "x.o"], b"int x;\n"),
            false,
        )
    });
    let pid_of = |name: &str| -> i32 {
        let path = run.join(name);
        assert!(eventually(
            || std::fs::read_to_string(&path).is_ok_and(|t| t.ends_with('\n'))
        ));
        std::fs::read_to_string(&path)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let (compiler, child) = (pid_of("tree.pid"), pid_of("tree.child"));
    let stale = dirs();
    assert_eq!(stale.len(), 2, "{stale:?}");
    d.signal(Signal::SIGKILL);
    let alive = |pid: i32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        !stat.is_empty() && !stat.contains(") Z ")
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    while (alive(compiler) || alive(child)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(compiler), "the compiler outlived the daemon");
    assert!(!alive(child), "the compiler's child outlived the daemon");
    let _ = job.join();
    assert_eq!(
        d.wait_exit(Duration::from_secs(5)).map(|s| s.success()),
        Some(false)
    );
    // The dead daemon's directory is still there (with the job's files).
    assert_eq!(dirs(), stale);

    let restarted = farm.daemon(Kind::Ours, &Opts::default());
    assert!(
        restarted.wait_log("removed the stale job directory"),
        "{}",
        restarted.log_text()
    );
    assert_eq!(dirs(), live_dirs, "the live daemon's directory must stay");
    assert!(exchange(live.port, GOOD_V1, false).starts_with(b"DONE00000001STAT00000000"));
    assert!(exchange(restarted.port, GOOD_V1, false).starts_with(b"DONE00000001STAT00000000"));
}

/// A kernel without Landlock (simulated): one warning, and jobs still run
/// with what is left (seccomp still refuses the network).
#[test]
fn without_landlock_a_warning_and_jobs_still_work() {
    crate::require_tool!("gcc");
    let farm = Farm::new("nolandlock");
    let ctx = Ctx::new(&farm);
    let d = farm.daemon(
        Kind::Ours,
        &Opts {
            args: vec!["--sandbox-landlock-abi".into(), "0".into()],
            ..Opts::default()
        },
    );
    still_serves(&farm, &d, "first compile");
    let log = d.log_text();
    assert_eq!(
        log.matches("this kernel has no Landlock").count(),
        1,
        "{log}"
    );
    let tcp = CASES
        .iter()
        .position(|c| c.name == "compiler opens a TCP connection")
        .unwrap();
    run_case(&ctx, &d, tcp, &CASES[tcp]).unwrap();
    // Without Landlock, files are not confined: the knob did take effect.
    let read = CASES
        .iter()
        .position(|c| c.name == "compiler copies a server file into its object")
        .unwrap();
    assert!(run_case(&ctx, &d, read, &CASES[read]).is_err());
    still_serves(&farm, &d, "after the cases");
}

/// `--sandbox-allow-path DIR` opens DIR (and only it) to the compiler;
/// `--no-sandbox` is announced once.
#[test]
fn allow_path_and_no_sandbox_behave_as_documented() {
    crate::require_tool!("gcc");
    let farm = Farm::new("allowpath");
    let ctx = Ctx::new(&farm);
    let allowed = farm.path("ccache");
    std::fs::create_dir_all(&allowed).unwrap();
    std::fs::set_permissions(&allowed, PermissionsExt::from_mode(0o777)).unwrap();
    install_script(
        &ctx,
        901,
        &format!(
            "echo cached > {}/entry; echo stray > {{outside}}/stray; gcc -c -x c /dev/null -o \"$out\"",
            allowed.display()
        ),
    );
    let req = v1_request(&[&script_name(901), "-c", "x.c", "-o", "x.o"], b"int x;\n");
    let d = farm.daemon(
        Kind::Ours,
        &Opts {
            args: vec!["--sandbox-allow-path".into(), allowed.display().to_string()],
            ..Opts::default()
        },
    );
    let r = response(&exchange(d.port, &req, false), false).expect("a reply");
    assert_eq!(r.status, 0, "{}", text(&r.stderr));
    assert!(
        allowed.join("entry").exists(),
        "the allowed directory was not writable"
    );
    assert!(!farm.path(OUTSIDE).join("stray").exists(), "wrote outside");
    assert!(!d.log_text().contains("--no-sandbox"));
    drop(d);

    let d = farm.daemon(
        Kind::Ours,
        &Opts {
            args: vec!["--no-sandbox".into()],
            ..Opts::default()
        },
    );
    let r = response(&exchange(d.port, &req, false), false).expect("a reply");
    assert_eq!(r.status, 0, "{}", text(&r.stderr));
    assert!(
        farm.path(OUTSIDE).join("stray").exists(),
        "--no-sandbox still confined"
    );
    assert_eq!(
        d.log_text()
            .matches("--no-sandbox: compilers run without")
            .count(),
        1
    );
}

/// Sandboxed builds equal local ones: gcc, g++, clang and the aarch64
/// cross gcc through our client, in protocols 1, 2 and 3 (pump).
#[test]
fn sandboxed_builds_match_local_ones() {
    use crate::client::harness::{Farm as ClientFarm, assert_same};
    crate::require_tool!("gcc");
    crate::require_tool!("g++");
    crate::require_tool!("clang");
    crate::require_tool!("aarch64-linux-gnu-gcc");
    let farm = ClientFarm::new("sandboxed-builds");
    for cc in ["clang", "clang++", "aarch64-linux-gnu-gcc"] {
        symlink(format!("/usr/bin/{cc}"), farm.path("masq").join(cc)).unwrap();
    }
    farm.write(
        "hello.c",
        "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n",
    );
    farm.write(
        "hello.cc",
        "#include <vector>\nint n() { std::vector<int> v{1, 2}; return v.size(); }\n",
    );
    farm.write("cross.c", "int twice(int x) { return 2 * x; }\n");
    let d = farm.daemon(Kind::Ours);
    let mut remote = 0;
    for (cc, src) in [
        ("gcc", "hello.c"),
        ("g++", "hello.cc"),
        ("clang", "hello.c"),
        ("clang++", "hello.cc"),
        ("aarch64-linux-gnu-gcc", "cross.c"),
    ] {
        for (hosts, env) in [
            (d.host(""), vec![]),
            (d.host(",lzo"), vec![]),
            (d.host(",cpp,lzo"), vec![("DISTCC_PUMP", "1")]),
        ] {
            let args = [cc, "-O2", "-c", src, "-o", "remote.o"];
            let mut env = env;
            env.push(("DISTCC_FALLBACK", "0"));
            let out = farm.distcc(&hosts, &args, &env);
            assert!(
                out.status.success(),
                "{cc} via {hosts}: {}\n{}",
                text(&out.stderr),
                d.log_text()
            );
            remote += 1;
            let local = [cc, "-O2", "-c", src, "-o", "local.o"];
            assert!(farm.local(&local).status.success());
            assert_same(&farm.work().join("remote.o"), &farm.work().join("local.o"));
        }
    }
    assert_eq!(d.wait_compiles(remote), remote, "{}", d.log_text());
}

/// A host that forbids seccomp(2) and the Landlock calls to distccd (as
/// systemd's `SystemCallFilter=@system-service` does): the start-up probe
/// drops those layers with a warning, and compiles still work, with the
/// rest of the sandbox (the limits) in place.
#[test]
fn a_host_that_forbids_seccomp_and_landlock_gets_warnings_not_failures() {
    use crate::support::{GroupChild, bin, free_port, listening};
    crate::require_tool!("python3");
    crate::require_tool!("gcc");
    if std::env::consts::ARCH != "x86_64" {
        return; // the filter below uses x86-64 system-call numbers
    }
    let farm = Farm::new("hostfilter");
    // no_new_privs + a seccomp filter refusing seccomp (317) and
    // landlock_* (444-446) with EPERM, then exec distccd.
    let wrapper = farm.path("filter.py");
    std::fs::write(
        &wrapper,
        r#"import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
def ins(code, k, jt=0, jf=0): return struct.pack("HBBI", code, jt, jf, k)
prog = [ins(0x20, 0)]
for nr in (317, 444, 445, 446):
    prog += [ins(0x15, nr, 0, 1), ins(0x06, 0x00050000 | 1)]
prog.append(ins(0x06, 0x7fff0000))
buf = ctypes.create_string_buffer(b"".join(prog))
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
p = Prog(len(prog), ctypes.addressof(buf))
assert libc.prctl(38, 1, 0, 0, 0) == 0
assert libc.prctl(22, 2, ctypes.byref(p), 0, 0) == 0
os.execv(sys.argv[1], sys.argv[1:])
"#,
    )
    .unwrap();
    let log = farm.path("daemon.log");
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, PermissionsExt::from_mode(0o666)).unwrap();
    let port = free_port();
    let _daemon = GroupChild::spawn(
        std::process::Command::new("python3")
            .arg(&wrapper)
            .arg(bin("distccd"))
            .args([
                "--daemon",
                "--no-detach",
                "--lifetime",
                "120",
                "--log-level",
                "info",
            ])
            .args(["--listen", "127.0.0.1", "--allow", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .arg("--log-file")
            .arg(&log)
            .arg("--masquerade-dir")
            .arg(farm.path("masq"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("TMPDIR", farm.path("dtmp"))
            .env("HOME", farm.path("home")),
    )
    .unwrap();
    assert!(
        eventually(|| listening(port)),
        "{}",
        text(&std::fs::read(&log).unwrap())
    );
    let reply = exchange(port, GOOD_V1, false);
    let log_text = text(&std::fs::read(&log).unwrap());
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}\n{log_text}",
        text(&reply)
    );
    assert!(
        log_text.contains("cannot apply the seccomp filter"),
        "{log_text}"
    );
    assert!(
        log_text.contains("this kernel has no Landlock"),
        "{log_text}"
    );
}
