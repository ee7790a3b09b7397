//! The extension (docs/extension.md, issue 12): our client and our daemon
//! use it with each other, and Debian's 3.4 daemon costs the client one
//! probe, remembered in `$DISTCC_DIR`, and no failed job.

use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::harness::{
    Daemon, Farm, Kind, assert_ok, assert_same, output_in_thread, probes_in_3_4_log, read,
};

fn farm(tag: &str) -> Farm {
    Farm::with_hello(&format!("ext-{tag}"))
}

/// The memory file of the one host the farm's client talked to.
fn memory(f: &Farm) -> String {
    let dir = f.path("ddir/extension");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".probe"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    read(&files[0])
}

#[test]
fn our_client_and_daemon_speak_the_extension_with_zstd() {
    let f = farm("ours");
    let d = Daemon::start(&f.daemon_config(Kind::Ours).args(["--log-level", "debug"]));
    // The client probes before the first job (the compiler check wants
    // that one checked too), then every job says hello. Without ,lzo
    // too: the extension compresses. -g jobs go in pump form, their
    // system headers checked (docs/extension.md §13).
    for (i, host) in [d.host(",lzo"), d.host(""), d.host(",lzo")]
        .iter()
        .enumerate()
    {
        let obj = format!("remote{i}.o");
        let out = f.distcc(host, &["gcc", "-c", "-g", "hello.c", "-o", &obj], &[]);
        assert_ok(&out, "distcc");
        assert_eq!(d.wait_count("COMPILE_OK", i + 1), i + 1, "{}", d.log_text());
        f.local(&["gcc", "-c", "-g", "hello.c", "-o", "local.o"]);
        assert_same(&f.work().join(&obj), &f.work().join("local.o"));
    }
    let log = d.log_text();
    assert_eq!(
        log.matches(
            "client speaks extension 1 \
             (zstd, heartbeats, status, compiler check, outputs, header cache, \
             pump-mode outputs, requests by reference, compiler identity by digest, bodies against a base, \
             system headers)"
        )
        .count(),
        3,
        "{log}"
    );
    assert_eq!(
        log.matches("client probed for the extension and closed")
            .count(),
        1,
        "{log}"
    );
    assert!(!log.contains("Warning"), "{log}");
    assert!(memory(&f).starts_with("v1 ours "), "{}", memory(&f));
    // The status the daemon sent is where placement reads host state.
    let hosts: Vec<_> = std::fs::read_dir(f.path("ddir/host-figures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    let line = read(&hosts[0]);
    assert!(line.starts_with("v1 ") && line.contains(" s "), "{line}");
    // DISTCC_EXTENSION=0: 3.4's protocol with our daemon too.
    let out = f.distcc(
        &d.host(",lzo"),
        &["gcc", SLOW, "-c", "hello.c", "-o", "plain.o"],
        &[("DISTCC_EXTENSION", "0")],
    );
    assert_ok(&out, "distcc");
    assert_eq!(d.wait_count("COMPILE_OK", 4), 4);
    assert_eq!(
        d.log_text().matches("client speaks extension").count(),
        3,
        "DISTCC_EXTENSION=0 said hello"
    );
}

/// Debian's 3.4 daemon: the first job goes in protocol 2, then the client
/// probes (3.4 logs one refused version and closes); every later job,
/// sequential or parallel, goes straight to protocol 2 with no probe. No
/// job fails, no host is backed off.
#[test]
fn a_3_4_daemon_is_probed_once_and_remembered() {
    crate::require_tool!(crate::support::distccd::DEBIAN_DISTCCD);
    let f = farm("debian");
    let d = f.daemon(Kind::Debian);
    let host = d.host(",lzo");
    let out = f.distcc(&host, &["gcc", "-c", "hello.c", "-o", "a.o"], &[]);
    assert_ok(&out, "first job");
    assert!(memory(&f).starts_with("v1 3.4 "), "{}", memory(&f));
    for i in 0..2 {
        let obj = format!("s{i}.o");
        assert_ok(
            &f.distcc(&host, &["gcc", "-c", "hello.c", "-o", &obj], &[]),
            "sequential",
        );
    }
    parallel_jobs(&f, &[host.as_str(); 2].join(" "), 4);
    assert_eq!(d.wait_count("COMPILE_OK", 7), 7, "{}", d.log_text());
    let log = d.log_text();
    let probes = probes_in_3_4_log(&log);
    assert_eq!(probes, 1, "one probe in 3.4's log:\n{log}");
    f.assert_no_backoff();
    f.local(&["gcc", "-c", "hello.c", "-o", "local.o"]);
    assert_same(&f.work().join("a.o"), &f.work().join("local.o"));
}

/// A fresh `$DISTCC_DIR` and a parallel start: the clients that find the
/// probe lock taken skip the probe; still one probe in all.
#[test]
fn parallel_first_jobs_probe_a_3_4_daemon_once() {
    crate::require_tool!(crate::support::distccd::DEBIAN_DISTCCD);
    let f = farm("debian-par");
    let d = f.daemon(Kind::Debian);
    let host = d.host(",lzo");
    parallel_jobs(&f, &[host.as_str(); 3].join(" "), 6);
    assert_eq!(d.wait_count("COMPILE_OK", 6), 6, "{}", d.log_text());
    let log = d.log_text();
    assert!(probes_in_3_4_log(&log) <= 1, "{log}");
}

/// `n` jobs at once (`p0.o`, `p1.o`, ...) with `DISTCC_HOSTS=hosts`,
/// each of which must succeed.
fn parallel_jobs(f: &Farm, hosts: &str, n: usize) {
    let distcc = crate::support::bin("distcc");
    let jobs: Vec<_> = (0..n)
        .map(|i| {
            let obj = format!("p{i}.o");
            output_in_thread(f.command(&distcc, hosts, &["gcc", "-c", "hello.c", "-o", &obj], &[]))
        })
        .collect();
    for j in jobs {
        assert_ok(&j.join().unwrap(), "parallel");
    }
}

/// The flag that makes [`sleepy_daemon`]'s compilers sleep (the
/// sandbox lets them read nothing of the test's, so the command line
/// says it).
pub(super) const SLOW: &str = "-Wno-unused";

/// Our daemon whose compilers sleep `secs` first when given [`SLOW`]
/// (or N seconds when also given `-fmax-errors=N`, which leaves the
/// object alone: a test that learns how slow this machine is right now
/// picks the sleep after starting the daemon), and a first quick job
/// that lets the client learn the host speaks the extension.
pub(super) fn sleepy_daemon(f: &Farm, secs: u32) -> Daemon {
    let script = format!(
        "#!/bin/sh\nsecs={secs}\n\
         for a; do case $a in -fmax-errors=*) secs=${{a#-fmax-errors=}};; esac; done\n\
         case \" $* \" in *\" {SLOW} \"*) sleep $secs;; esac\n\
         exec /usr/bin/gcc \"$@\"\n"
    );
    let d = f.daemon_with_compiler("sleep", &script, &["--log-level", "debug"]);
    let out = f.distcc(
        &d.host(",lzo"),
        &["gcc", "-c", "hello.c", "-o", "warm.o"],
        &[],
    );
    assert_ok(&out, "warm-up job");
    assert!(memory(f).starts_with("v1 ours "), "{}", memory(f));
    d
}

/// Heartbeats: a 4-second compile with DISTCC_IO_TIMEOUT=1 succeeds
/// remotely; in 3.4's protocol (DISTCC_EXTENSION=0) the same job times
/// out, which shows the test can fail.
#[test]
fn a_compile_longer_than_the_io_timeout_succeeds() {
    let f = farm("long");
    let d = sleepy_daemon(&f, 4);
    let env = [("DISTCC_IO_TIMEOUT", "1")];
    let out = f.distcc(
        &d.host(",lzo"),
        &["gcc", SLOW, "-c", "hello.c", "-o", "long.o"],
        &env,
    );
    assert_ok(&out, "long compile");
    let err = crate::support::text(&out.stderr);
    assert!(!err.contains("DISTCC_IO_TIMEOUT"), "{err}");
    assert_eq!(d.wait_count("COMPILE_OK", 2), 2, "{}", d.log_text());
    f.local(&["gcc", SLOW, "-c", "hello.c", "-o", "local.o"]);
    assert_same(&f.work().join("long.o"), &f.work().join("local.o"));
    let env = [("DISTCC_IO_TIMEOUT", "1"), ("DISTCC_EXTENSION", "0")];
    let out = f.distcc(
        &d.host(",lzo"),
        &["gcc", SLOW, "-c", "hello.c", "-o", "plain.o"],
        &env,
    );
    assert_ok(&out, "local fallback");
    let err = crate::support::text(&out.stderr);
    assert!(err.contains("DISTCC_IO_TIMEOUT"), "{err}");
}

/// A daemon stopped mid-compile sends no heartbeat: the client gives up
/// on it within DISTCC_IO_TIMEOUT (2 s) and compiles locally, long
/// before the 20-second compile would end.
#[test]
fn a_stopped_daemon_is_detected_within_the_io_timeout() {
    let f = farm("sigstop");
    let d = sleepy_daemon(&f, 20);
    let args = ["gcc", SLOW, "-c", "hello.c", "-o", "stopped.o"];
    let local = f.local_time(&args);
    let cmd = f.command(
        &crate::support::bin("distcc"),
        &d.host(",lzo"),
        &args,
        &[("DISTCC_IO_TIMEOUT", "2")],
    );
    let began = Instant::now();
    let job = output_in_thread(cmd);
    assert!(
        d.wait_log("compile slot taken")
            && crate::support::eventually(
                || d.log_text().matches("compile slot taken").count() == 2
            ),
        "the compile never started: {}",
        d.log_text()
    );
    // Heartbeats flow meanwhile (every 500 ms): the job is alive.
    thread::sleep(Duration::from_millis(2500));
    assert!(!job.is_finished(), "the job ended early");
    d.signal(Signal::SIGSTOP);
    let stopped = Instant::now();
    let out = job.join().unwrap();
    let detected = stopped.elapsed();
    d.signal(Signal::SIGCONT);
    assert_ok(&out, "fallback");
    // The I/O timeout, then the local compile (timed above: as slow as
    // this one on a loaded machine) and the client's own work; a client
    // that waited for the compile would take its 20 s. A fixed 6 s left
    // too little for a busy machine.
    let bound =
        (Duration::from_secs(2) + local * 4 + Duration::from_secs(4)).min(Duration::from_secs(10));
    assert!(
        detected < bound && began.elapsed() < Duration::from_secs(15),
        "detected after {detected:?} (bound {bound:?}): {}",
        crate::support::text(&out.stderr)
    );
    let err = crate::support::text(&out.stderr);
    assert!(err.contains("DISTCC_IO_TIMEOUT"), "{err}");
    f.local(&["gcc", SLOW, "-c", "hello.c", "-o", "local.o"]);
    assert_same(&f.work().join("stopped.o"), &f.work().join("local.o"));
}
