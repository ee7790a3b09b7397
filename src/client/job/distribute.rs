//! A job sent out: the hosts tried in turn, each attempt's outcome, and
//! the failure decisions of [`crate::client::plan`] carried out (another
//! host, a local compile, or the error).

use std::ffi::OsString;
use std::io::{self, Write};

use tracing::{debug, warn};

use crate::args::Job;
use crate::args::os::lossy;
use crate::client::attempt::{self, AttemptError, CppState};
use crate::client::ctx::Ctx;
use crate::client::plan::{self, AfterCompile, HostFailure, NoHost};
use crate::client::pump::PumpState;
use crate::client::slots::homes;
use crate::client::slots::hostlist::{self, Loaded};
use crate::client::slots::pick::{Preference, pick};
use crate::client::slots::status::Status;
use crate::client::stats;
use crate::error::ExitCode;

use super::{log_result, monitor_name, run_local};

/// Run `job` on the hosts of the list, or here when none takes it.
pub(super) fn distribute(ctx: &Ctx, job: Job, driver_deps: bool, local_argv: &[OsString]) -> i32 {
    let list = match hostlist::load(&ctx.vars) {
        Loaded::List { list, .. } => list,
        Loaded::Empty { message, .. } => {
            return no_host(ctx, &job, local_argv, 0, &[], &message, "no-hosts");
        }
        Loaded::Unreadable { message, .. } => {
            return no_host(ctx, &job, local_argv, 0, &[], &message, "bad-hostlist");
        }
        // With DISTCC_FALLBACK=0 a list that does not parse is "no hosts"
        // (116), as 3.4 exits: its parser's 106 never reaches the exit.
        Loaded::Bad { error, origin } => {
            let why = format!("{origin}: {error}");
            return no_host(ctx, &job, local_argv, 0, &[], &why, "bad-hostlist");
        }
    };
    let locks = ctx.lock_dir();
    let mut status = Status::new(ctx.topdir.as_deref(), &job.input);
    let mut excluded = vec![false; list.hosts.len()];
    let mut failures: Vec<HostFailure> = Vec::new();
    // A host whose compiler differs is left for this job, neither failed
    // nor backed off (it serves other compilers); warned about once.
    let mut differed = false;
    let mut cpp = CppState::new(&job, driver_deps);
    let mut pump = PumpState::default();
    let source = affinity_key(ctx, &job);
    // Where the source compiled last; after a remote compile, stats'
    // finish keeps where it compiled now.
    let mut home = None;
    if let (Some(s), Some(top)) = (&source, &ctx.topdir) {
        home = homes::lookup(top, s);
        homes::note(s, home);
    }
    loop {
        let pref = Preference {
            source: source.as_deref(),
            home: home.take(),
        };
        let picked = match pick(
            &list.hosts,
            &excluded,
            locks.as_ref(),
            ctx.backoff,
            ctx.pause,
            ctx.topdir.as_deref(),
            pref,
        ) {
            Ok(p) => p,
            Err(e) => {
                warn!("choosing a host: {e}");
                None
            }
        };
        let Some(picked) = picked else {
            drop(status);
            if failures.is_empty() && differed {
                return compilers_differ(ctx, &job, local_argv);
            }
            let word = if failures.is_empty() {
                "hosts-unavailable"
            } else {
                "hosts-failed"
            };
            return no_host(ctx, &job, local_argv, list.hosts.len(), &failures, "", word);
        };
        let host = &list.hosts[picked.index];
        if host.auth.is_some() {
            // GSS-API (`,auth`) is not in this build: never send a job in
            // the clear to a host that expects authentication. Like a host
            // that failed, but not its fault: no backoff (3.4 without
            // GSS-API fails the same way; DISTCC_FALLBACK=0 gives 116).
            let cause = "it asks for GSS-API authentication (,auth), which this build of \
                         distcc does not support"
                .to_owned();
            warn!(
                "not sending {} to {}: {cause}",
                lossy(&job.input),
                host.text
            );
            excluded[picked.index] = true;
            stats::host_failed(&host.lock_id());
            failures.push(HostFailure {
                host: host.text.clone(),
                cause,
            });
            drop(picked);
            continue;
        }
        if host.is_local() {
            stats::local("localhost");
            drop(status);
            debug!(
                "compiling {} locally: localhost was chosen",
                lossy(&job.input)
            );
            return run_local(ctx, local_argv, picked.lock, |l| l.local_slots);
        }
        let slot = picked.lock.as_ref().map_or(0, |l| l.slot);
        let name = monitor_name(&host.kind).to_owned();
        let cpp_locks = locks.as_ref().map(|d| (d, list.local_slots_cpp));
        let mut attempt = |pump: &mut PumpState| {
            attempt::run(
                ctx,
                &job,
                host,
                &name,
                slot,
                &mut cpp,
                cpp_locks,
                &mut status,
                pump,
            )
        };
        let mut result = attempt(&mut pump);
        if let Err(AttemptError::SystemHeaders(_)) = &result {
            // Compiled against other system headers than ours (or not
            // known to be ours): the object was not used. The same host
            // gets the job as plain mode sends it, unless plain mode would
            // not give a local compile's object either (-g, -O0): that
            // one job is compiled here (docs/extension.md §13).
            let file = lossy(&job.input);
            if let Some(why) = crate::args::plain::differs(&job.argv) {
                stats::local("pump-unsafe");
                drop(picked);
                drop(status);
                debug!(
                    "compiling {file} here: {} compiled it with other system headers, and {why}",
                    host.text
                );
                return run_local(ctx, local_argv, None, |l| l.local_slots);
            }
            debug!(
                "{file}: {} compiled it with system headers not known to be this machine's: \
                 sending it preprocessed here",
                host.text
            );
            pump = PumpState::Plain;
            result = attempt(&mut pump);
        }
        // A failure in pump mode may be ours (a header the analysis did
        // not send, one the server lacks), not the host's: no backoff for
        // it.
        let mut pumped = matches!(&pump, PumpState::Files(p) if p.sent);
        if pumped && !ctx.vars.pump() && result.as_ref().is_ok_and(|r| r.status != 0) {
            // Plain mode's job in pump form for its -g (attempt/upgrade.rs)
            // failed: sent again as plain mode sends it, so that nothing is
            // compiled here because of the pump form.
            debug!(
                "{} failed in pump form on {}: sending it preprocessed here",
                lossy(&job.input),
                host.text
            );
            pump = PumpState::Plain;
            result = attempt(&mut pump);
            pumped = false;
        }
        let reply = match result {
            Ok(reply) => {
                stats::remote(&host.lock_id());
                reply
            }
            Err(AttemptError::Cpp(code)) => {
                stats::nowhere("cpp-failed");
                return code;
            }
            Err(AttemptError::CompilerDiffers(_)) => {
                excluded[picked.index] = true;
                differed = true;
                drop(picked);
                continue;
            }
            Err(AttemptError::Overtaken(code)) => {
                stats::local("raced");
                log_result(&lossy(&job.input), "localhost", code);
                return code;
            }
            Err(AttemptError::Here(why)) => {
                // Decided before anything was sent: no host is to blame.
                stats::local("pump-unsafe");
                drop(picked);
                drop(status);
                debug!("running locally because {why}");
                return run_local(ctx, local_argv, None, |l| l.local_slots);
            }
            Err(AttemptError::SystemHeaders(_)) => {
                // A plain-mode attempt checks none: not reached, but never
                // an object unchecked.
                stats::local("client-error");
                drop(picked);
                drop(status);
                return run_local(ctx, local_argv, None, |l| l.local_slots);
            }
            Err(AttemptError::Local(e)) => {
                stats::local("client-error");
                // Our side failed (temp dir, cpp could not start): no host
                // is to blame; compile locally like 3.4.
                drop(picked);
                drop(status);
                warn!(
                    "cannot distribute {}: {e}, running locally instead",
                    lossy(&job.input)
                );
                return run_local(ctx, local_argv, None, |l| l.local_slots);
            }
            Err(AttemptError::Host(e)) => {
                stats::host_failed(&host.lock_id());
                let cause = e.to_string();
                if let Some(d) = &locks {
                    if !ctx.backoff.is_zero() {
                        let _ = d.mark_backoff(&host.lock_id());
                    }
                }
                excluded[picked.index] = true;
                let others = (0..list.hosts.len()).any(|i| !excluded[i] && !list.hosts[i].down);
                if others {
                    warn!(
                        "{} failed for {}: {cause}; trying another host",
                        host.text,
                        lossy(&job.input)
                    );
                }
                failures.push(HostFailure {
                    host: host.text.clone(),
                    cause,
                });
                continue;
            }
        };
        return match plan::after_compile(ctx.policy, &lossy(&job.input), &host.text, reply.status) {
            AfterCompile::Success => {
                log_result(&lossy(&job.input), &host.text, 0);
                if let Some(d) = &locks {
                    if !ctx.backoff.is_zero() {
                        d.clear_backoff(&host.lock_id());
                    }
                }
                show_stderr(&reply.stderr);
                0
            }
            AfterCompile::Finish { code } => {
                show_stderr(&reply.stderr);
                code
            }
            AfterCompile::RetryLocally {
                warning,
                remote_code,
            } => {
                warn!("{warning}");
                stats::local("remote-failed");
                let lock_id = host.lock_id();
                drop(picked);
                drop(status);
                let local = run_local(ctx, local_argv, None, |l| l.local_slots);
                if pumped && local == 0 {
                    note_discrepancy(ctx);
                }
                let backoff = plan::blame_host(remote_code, local)
                    && !pumped
                    && !ctx.backoff.is_zero()
                    && locks
                        .as_ref()
                        .is_some_and(|d| d.mark_backoff(&lock_id).is_ok());
                if let Some(m) = plan::host_disagreed(
                    &host.text,
                    &lossy(&job.input),
                    remote_code,
                    local,
                    backoff,
                    &reply.stderr,
                ) {
                    warn!("{m}");
                }
                local
            }
        };
    }
}

/// Every host tried has another compiler (each was warned about once):
/// compile here without another warning, or fail with
/// `DISTCC_FALLBACK=0`.
fn compilers_differ(ctx: &Ctx, job: &Job, local_argv: &[OsString]) -> i32 {
    let file = lossy(&job.input);
    if !ctx.policy.fallback {
        stats::nowhere("compiler-differs");
        eprintln!(
            "distcc[{}] ERROR: every host tried has another compiler than this machine's \
             (DISTCC_COMPILER_CHECK), and DISTCC_FALLBACK=0 forbids compiling {file} locally",
            std::process::id()
        );
        return ExitCode::NoHosts.code();
    }
    stats::local("compiler-differs");
    debug!("compiling {file} here: every host tried has another compiler");
    run_local(ctx, local_argv, None, |l| l.local_slots)
}

/// A pump job failed on the server and compiled here: count it for the
/// build (spec §5), and say so when that switches the build to plain mode.
fn note_discrepancy(ctx: &Ctx) {
    let Some(counter) = &ctx.discrepancies else {
        return;
    };
    match counter.note() {
        Ok(()) if counter.count() == counter.limit() => warn!(
            "{} pump-mode job(s) of this build failed on a server but compiled here \
             (DISTCC_MAX_DISCREPANCY={}): preprocessing the rest of the build here",
            counter.count(),
            counter.limit()
        ),
        Ok(()) => {}
        Err(e) => warn!("cannot count a pump-mode discrepancy: {e}"),
    }
}

fn show_stderr(bytes: &[u8]) {
    if !bytes.is_empty() {
        let mut err = io::stderr().lock();
        let _ = err.write_all(bytes);
        let _ = err.flush();
    }
}

/// No host took the job: compile here (or fail, with `DISTCC_FALLBACK=0`).
/// `word` is the fallback's name in the client's record
/// ([`crate::state::record::FALLBACKS`]).
fn no_host(
    ctx: &Ctx,
    job: &Job,
    local_argv: &[OsString],
    configured: usize,
    failures: &[HostFailure],
    why: &str,
    word: &str,
) -> i32 {
    match plan::no_host(ctx.policy, &lossy(&job.input), configured, failures) {
        NoHost::Local { warning } => {
            stats::local(word);
            // `why` (no usable list) starts with 3.4's words where 3.4 had
            // some: "$DISTCC_HOSTS contained no hosts; can't distribute work".
            if why.is_empty() {
                warn!("{warning}");
            } else {
                // One line, ending in 3.4's second one.
                warn!(
                    "{why}; failed to distribute {}, running locally instead",
                    lossy(&job.input)
                );
            }
            run_local(ctx, local_argv, None, |l| l.local_slots)
        }
        NoHost::Fail { code, message } => {
            stats::nowhere(word);
            let message = if why.is_empty() {
                message
            } else {
                format!(
                    "{why}; DISTCC_FALLBACK=0 forbids compiling {} locally",
                    lossy(&job.input)
                )
            };
            eprintln!("distcc[{}] ERROR: {message}", std::process::id());
            code
        }
    }
}

/// What places a pump job (docs/extension.md §10 keeps its source where
/// it went): its source's absolute path, the same in every build of this
/// tree (crate::client::placement's affinity). `None` in plain mode,
/// whose daemons keep nothing: 3.4's order.
pub(crate) fn affinity_key(ctx: &Ctx, job: &Job) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    if !ctx.vars.pump() {
        return None;
    }
    let cwd = std::env::current_dir().ok()?;
    Some(cwd.join(&job.input).as_os_str().as_bytes().to_vec())
}
