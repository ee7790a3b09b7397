//! A job known to be long is not late for its length: its cost against
//! its host's figure, noted when it last compiled remotely
//! (src/client/slots/jobcost.rs), scales what the client expects of it,
//! and a long job seen for the first time does not make its host look
//! slow. Before, a rebuild raced every long job (HarfBuzz's 56 s
//! `hb-ot-layout.cc` among 0.3-10 s jobs) with a local compile that could
//! not win, a core of the client's for nothing, and the host that had
//! run it was left out of the placement's tier.

use super::heartbeats::{SLOW_CC, heartbeating};
use super::*;
use distcc::client::slots::jobcost::NEW_JOB_SWAY;

/// The host is measured fast, a job takes `secs` there (longer than
/// [`policy::FACTOR`] times the quick jobs, on this machine now): its
/// first compile (racing off) moves the host's figure by less than
/// [`NEW_JOB_SWAY`] and notes the job's cost; the same job
/// again is not raced (without its cost it was late after the 2 s floor).
#[test]
fn a_job_known_to_be_long_is_not_raced_for_its_own_length() {
    crate::require_tool!("gcc");
    let (f, d, hosts, warm) = heartbeating("race-known", 6);
    let secs = ((warm.as_secs_f64() * policy::FACTOR).ceil().max(3.0) as u64 + 3).min(25);
    let max_errors = format!("-fmax-errors={secs}");
    let cmd = [SLOW_CC, &[max_errors.as_str()]].concat();
    let verbose = ("DISTCC_VERBOSE", "1");
    let before = figure(&f);
    let out = f.distcc(&hosts, &cmd, &[verbose, ("DISTCC_RACE", "0")]);
    assert_ok(&out, "the long job's first compile");
    let after = figure(&f);
    assert!(
        after < before * NEW_JOB_SWAY,
        "one long job made the host look slow: {before} -> {after}"
    );
    std::fs::remove_file(f.work().join("hello.o")).unwrap();
    let started = Instant::now();
    let out = f.distcc(&hosts, &cmd, &[verbose]);
    let took = started.elapsed();
    assert_ok(&out, "the long job again");
    let err = text(&out.stderr);
    assert!(!err.contains("compiling here too"), "raced:\n{err}");
    assert!(took >= Duration::from_secs(secs), "took {took:?}:\n{err}");
    assert_eq!(d.wait_compiles(4), 4);
    let records = std::fs::read_to_string(f.path("ddir/stats/jobs")).unwrap();
    let last = records.lines().last().unwrap();
    assert!(last.contains("ran=remote"), "{last}");
    assert_same(&f.work().join("hello.o"), &f.work().join("ref.o"));
    no_leftovers(&f);
}
