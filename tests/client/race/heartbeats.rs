//! Heartbeats and racing: a heartbeat says the server is alive, not that
//! the reply has begun, so a late job is still raced, and a slow host
//! that sends them is not timed out while raced.

use super::*;

/// Our daemon speaking the extension, its compiler `secs` slower on
/// [`SLOW`] commands, measured fast by a second quick job: a farm with
/// `hello.c` and the reference object `ref.o` of the slow command, and
/// how long the daemon's start and its two quick jobs took (at least
/// what the client expects of the host from now on).
pub(super) fn heartbeating(tag: &str, secs: u32) -> (Farm, Daemon, String, Duration) {
    let f = Farm::with_hello(tag);
    assert_ok(
        &f.local(&["gcc", SLOW, "-O2", "-c", "hello.c", "-o", "ref.o"]),
        "local",
    );
    let began = Instant::now();
    let d = sleepy_daemon(&f, secs);
    let hosts = d.host("/2,lzo");
    let out = f.distcc(&hosts, &["gcc", "-c", "hello.c", "-o", "warm.o"], &[]);
    let warm = began.elapsed();
    assert_ok(&out, "second warm-up");
    assert_eq!(d.wait_compiles(2), 2, "the warm-up ran remotely");
    std::fs::remove_file(f.work().join("warm.o")).unwrap();
    (f, d, hosts, warm)
}

pub(super) const SLOW_CC: &[&str] = &["gcc", SLOW, "-O2", "-c", "hello.c", "-o", "hello.o"];

/// Heartbeats (every second with DISTCC_IO_TIMEOUT=4) say the server is
/// alive, not that the reply has begun: a job that is late by its
/// compile time (20 s, the host was measured fast) is still raced, and
/// the local compile wins.
#[test]
fn heartbeats_do_not_stop_racing_a_late_job() {
    crate::require_tool!("gcc");
    let (f, _d, hosts, _) = heartbeating("race-beats", 20);
    let local = f.local_time(SLOW_CC);
    let started = Instant::now();
    let out = f.distcc(
        &hosts,
        SLOW_CC,
        &[("DISTCC_VERBOSE", "1"), ("DISTCC_IO_TIMEOUT", "4")],
    );
    let took = started.elapsed();
    assert_ok(&out, "distcc against a slow daemon sending heartbeats");
    let err = text(&out.stderr);
    assert!(
        err.contains("using 0x"),
        "the job went in the extension: {err}"
    );
    assert!(err.contains("is alive after"), "a heartbeat came: {err}");
    assert!(err.contains("compiling here too"), "{err}");
    assert!(err.contains("the local compile finished first"), "{err}");
    // Not raced, it would take the whole 20 s compile.
    let bound = race_bound(policy::FLOOR, local, Duration::from_secs(15));
    assert!(took < bound, "took {took:?} (bound {bound:?}):\n{err}");
    assert_same(&f.work().join("hello.o"), &f.work().join("ref.o"));
    no_leftovers(&f);
}

/// A host that is merely slow (6 s, sending heartbeats every 500 ms with
/// DISTCC_IO_TIMEOUT=2) is not taken for dead: the race starts when the
/// job is late, the local compile hangs here, and the server's reply, 4 s
/// past the I/O timeout, is taken. On a loaded machine the quick jobs
/// that measured the host took longer, and the job is late only after
/// [`policy::FACTOR`] times that: the
/// server then sleeps long enough to be raced first (it answering before
/// the race starts would test nothing).
#[test]
fn a_slow_host_sending_heartbeats_is_not_timed_out_while_raced() {
    crate::require_tool!("gcc");
    let (f, d, hosts, warm) = heartbeating("race-alive", 6);
    // 3 + 3 = 6 s on a quiet machine; under 30 s, the local compile's hang.
    let secs = ((warm.as_secs_f64() * policy::FACTOR).ceil().max(3.0) as u64 + 3).min(25);
    let max_errors = format!("-fmax-errors={secs}");
    let cmd = [SLOW_CC, &[max_errors.as_str()]].concat();
    let started = Instant::now();
    let (child, pid) = hanging_race_with(&f, &hosts, &cmd, &[("DISTCC_IO_TIMEOUT", "2")]);
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    assert_ok(&out, "distcc");
    let err = text(&out.stderr);
    assert!(err.contains("is alive after"), "{err}");
    assert!(err.contains("compiling here too"), "{err}");
    assert!(err.contains("the server answered first"), "{err}");
    assert!(!err.contains("DISTCC_IO_TIMEOUT"), "{err}");
    assert!(took >= Duration::from_secs(secs), "took {took:?}:\n{err}");
    assert!(
        support::eventually(|| !Path::new(&format!("/proc/{pid}")).exists()),
        "the local compile {pid} is still there"
    );
    assert_eq!(d.wait_compiles(3), 3);
    assert_same(&f.work().join("hello.o"), &f.work().join("ref.o"));
    no_leftovers(&f);
}
