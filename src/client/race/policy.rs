//! When to race a remote job, and with what (pure; no clock, no files:
//! times and figures come in, decisions go out).
//!
//! A job is late when it has waited for its reply more than
//! [`FACTOR`] times what its host should need, and at least [`FLOOR`]
//! (a tiny job on a fast host must not race over scheduling noise). What
//! a host should need comes from the figures every client shares
//! ([`crate::client::slots::hoststate`]: milliseconds of compile per KiB
//! of input), times the job's own cost when an earlier compile noted it
//! ([`crate::client::slots::jobcost`]: a long job is not late for its
//! length). A host with no trusted figure is late after [`UNMEASURED`].
//!
//! Only commands whose only output is the object are raced: a local run
//! with its output under a temp name would name side files (`.dwo`,
//! `-save-temps`, `.su`, dumps) after the temp name and leave them behind.

use std::ffi::OsString;
use std::time::Duration;

use crate::args::os::bytes;

/// A job is late after this many times its expected compile time...
pub const FACTOR: f64 = 3.0;
/// ...and never before this.
pub const FLOOR: Duration = Duration::from_secs(2);
/// When the host has no trusted figure.
pub const UNMEASURED: Duration = Duration::from_secs(10);
/// How often a late job looks for a free local slot again (it never
/// waits for one: the remote reply may come meanwhile).
pub const RETRY: Duration = Duration::from_millis(250);
/// How often a running race looks at the local compiler.
pub const TICK: Duration = Duration::from_millis(10);

/// What a job should take on a host measured at `ms_per_kib`, for a
/// job whose input is `size` bytes (the inverse of
/// [`crate::client::placement::sample`]).
pub fn expected(ms_per_kib: Option<f64>, size: u64) -> Option<Duration> {
    let ms = ms_per_kib? * (size as f64 / 1024.0 + 1.0);
    (ms.is_finite() && ms > 0.0).then(|| Duration::from_secs_f64(ms / 1000.0))
}

/// How long a server that speaks the extension may take to answer its
/// hello when the job could be raced. The offer comes from the daemon's
/// accept loop, before any compile slot, so a server silent this long has
/// stopped: the job goes elsewhere or here rather than waiting for
/// `DISTCC_IO_TIMEOUT` before a request was even sent.
pub const HELLO: Duration = Duration::from_secs(5);

/// How long to wait for the extension's offer: [`HELLO`] when a late job
/// may be compiled here, else `DISTCC_IO_TIMEOUT` as for any reply.
pub fn hello_wait(io_timeout: Duration, may_compile_here: bool) -> Duration {
    if may_compile_here {
        io_timeout.min(HELLO)
    } else {
        io_timeout
    }
}

/// How long after the request was sent the job counts as late.
pub fn late_after(expected: Option<Duration>) -> Duration {
    match expected {
        Some(e) => e.mul_f64(FACTOR).max(FLOOR),
        None => UNMEASURED,
    }
}

/// What the waiting loop does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Wait for the reply this long, then ask again.
    Wait(Duration),
    /// Late: start a local compile if a local slot is free now.
    TryLocal,
    /// No reply within `DISTCC_IO_TIMEOUT`: the host failed.
    TimedOut,
}

/// The next step of a job waiting `elapsed` for its reply, with no local
/// compile running, its server `silent` for that long (since the request
/// or its last heartbeat: a heartbeat keeps the connection alive, it does
/// not make a late job on time). `tried` is how long ago a free local
/// slot was last looked for (`None`: never).
pub fn step(
    elapsed: Duration,
    silent: Duration,
    late: Option<Duration>,
    tried: Option<Duration>,
    io_timeout: Duration,
) -> Step {
    if silent >= io_timeout {
        return Step::TimedOut;
    }
    let left = io_timeout - silent;
    let Some(late) = late else {
        return Step::Wait(left);
    };
    if elapsed < late {
        return Step::Wait((late - elapsed).min(left));
    }
    match tried {
        Some(ago) if ago < RETRY => Step::Wait((RETRY - ago).min(left)),
        _ => Step::TryLocal,
    }
}

/// Why `argv` (the command a local race would run) must not be raced, if
/// it must not: an option that writes files named after the output.
pub fn refusal(argv: &[OsString]) -> Option<String> {
    const SIDE_FILES: &[&str] = &[
        "-save-temps",
        "--save-temps",
        "-gsplit-dwarf",
        "-fdump-",
        "-fstack-usage",
        "-fcallgraph-info",
        "-aux-info",
        "-fopt-info",
        "-fprofile",
        "-ftest-coverage",
        "--coverage",
        "-fdiagnostics-format=sarif-file",
        "-fdiagnostics-format=json-file",
        "-Wa,",
        "-Xassembler",
    ];
    argv.iter().skip(1).find_map(|a| {
        let b = bytes(a);
        SIDE_FILES
            .iter()
            .any(|p| b.starts_with(p.as_bytes()))
            .then(|| {
                format!(
                    "{} writes files named after the output",
                    a.to_string_lossy()
                )
            })
    })
}

/// The sample a host is charged when a local compile overtook it after
/// `waited`: at least that long, which is all that is known (a stalled
/// host never answers), so its figure rises and the placement stops
/// sending it work.
pub fn charged_ms(waited: Duration) -> f64 {
    waited.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_silent_hello_is_given_up_early_only_when_the_job_may_run_here() {
        let io = Duration::from_secs(300);
        assert_eq!(hello_wait(io, true), HELLO);
        assert_eq!(
            hello_wait(io, false),
            io,
            "DISTCC_FALLBACK=0 or DISTCC_RACE=0"
        );
        assert_eq!(
            hello_wait(S(1500), true),
            S(1500),
            "never past the I/O timeout"
        );
    }

    #[test]
    fn a_job_is_late_after_three_times_its_expected_time_and_at_least_the_floor() {
        // 10 ms per KiB, 9 KiB sent: 100 ms expected.
        let e = expected(Some(10.0), 9 * 1024).unwrap();
        assert_eq!(e, S(100));
        assert_eq!(late_after(Some(e)), FLOOR, "the floor for small jobs");
        let big = expected(Some(100.0), 99 * 1024).unwrap();
        assert_eq!(late_after(Some(big)), S(30_000));
        assert_eq!(late_after(None), UNMEASURED);
        assert_eq!(expected(None, 1024), None);
        assert_eq!(expected(Some(f64::NAN), 1024), None);
    }

    #[test]
    fn the_waiting_loop_races_only_once_late_and_retries_for_a_slot() {
        let t = Duration::from_secs(300);
        let late = Some(S(2000));
        let at = |ms| (S(ms), S(ms));
        let step2 = |(e, s), late, tried, t| step(e, s, late, tried, t);
        assert_eq!(step2(at(0), late, None, t), Step::Wait(S(2000)));
        assert_eq!(step2(at(1500), late, None, t), Step::Wait(S(500)));
        assert_eq!(step2(at(2000), late, None, t), Step::TryLocal);
        // No slot was free 100 ms ago: look again 150 ms later.
        assert_eq!(step2(at(2100), late, Some(S(100)), t), Step::Wait(S(150)));
        assert_eq!(step2(at(2300), late, Some(S(300)), t), Step::TryLocal);
        // Racing off: wait for the reply until the I/O timeout.
        assert_eq!(step2(at(100), None, None, t), Step::Wait(S(299_900)));
        assert_eq!(step2((t, t), None, None, t), Step::TimedOut);
        // The timeout wins over a far deadline.
        assert_eq!(
            step2(at(0), Some(S(10_000)), None, S(3000)),
            Step::Wait(S(3000))
        );
    }

    #[test]
    fn heartbeats_keep_a_job_alive_but_never_make_it_on_time() {
        let t = S(2000);
        // A heartbeat 100 ms ago: 5 s after the request, not timed out.
        assert_eq!(step(S(5000), S(100), None, None, t), Step::Wait(S(1900)));
        // Still late after the time it should take, heartbeats or not.
        assert_eq!(
            step(S(2500), S(100), Some(S(2000)), None, t),
            Step::TryLocal
        );
        assert_eq!(
            step(S(1000), S(100), Some(S(2000)), None, t),
            Step::Wait(S(1000))
        );
        // Silent for the whole timeout since the last one: failed.
        assert_eq!(step(S(9000), t, Some(S(2000)), None, t), Step::TimedOut);
    }

    #[test]
    fn commands_with_side_files_are_not_raced() {
        let argv = |s: &str| s.split(' ').map(OsString::from).collect::<Vec<_>>();
        assert_eq!(refusal(&argv("gcc -O2 -g -c x.i -o x.o")), None);
        for bad in [
            "gcc -c x.i -o x.o -gsplit-dwarf",
            "gcc -save-temps=obj -c x.i -o x.o",
            "gcc -fstack-usage -c x.i -o x.o",
            "gcc -fdump-tree-all -c x.i -o x.o",
            "gcc -Wa,-adhln=x.lst -c x.i -o x.o",
        ] {
            assert!(refusal(&argv(bad)).is_some(), "{bad}");
        }
        // The compiler's own name is not an option.
        assert_eq!(refusal(&argv("-fdump-x -c x.i -o x.o")), None);
    }

    #[test]
    fn a_host_that_lost_is_charged_at_least_its_wait() {
        assert_eq!(charged_ms(S(2500)), 2500.0);
    }
}
