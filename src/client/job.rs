//! The driver of one compile (spec §3.3-3.10): decide local or remote,
//! choose hosts, run the remote attempt, and carry out the failure
//! decisions of [`super::plan`].
//!
//! Here: the command made ready, the decision, and the local run;
//! `job/distribute.rs`: the hosts tried in turn and what each failure
//! leads to.

use std::ffi::OsString;

use tracing::{debug, warn};

use crate::args::os::{line, lossy};
use crate::args::{self, Job, LocalReason, Scan};
use crate::client::ctx::Ctx;
use crate::client::probe::{cross, native};
use crate::client::slots::hostlist::{self, Loaded};
use crate::client::slots::locks::SlotLock;
use crate::client::slots::status::Status;
use crate::client::stats;
use crate::hosts::{HostKind, HostList};
use crate::logging::NONAME;
use crate::state::Phase;
pub(crate) use distribute::affinity_key;
use distribute::distribute;

mod distribute;

/// A compiler command made ready (spec §3.3): the copy to run here, and
/// the job to distribute or why it stays here.
#[derive(Debug)]
pub struct Prepared {
    /// `-MD`/`-MMD` were given to the driver itself.
    pub driver_deps: bool,
    /// The command for a local run (cross-rewritten, flags untouched).
    pub local_argv: Vec<OsString>,
    /// The job to distribute, or why it must run here (with the
    /// `-march=native` problem, if that was one).
    pub scan: Result<Job, (LocalReason, Option<String>)>,
}

/// `-Wp,` expansion, `-march=native` resolution (for the remote copy
/// only: local runs keep the user's flags), the scan, cross rewriting.
pub fn prepare(ctx: &Ctx, argv: Vec<OsString>) -> Prepared {
    let driver_deps = args::has_driver_deps(&argv);
    let expanded = args::expand_wp(&argv);
    let mut remote_argv = expanded.clone();
    let native_error = resolve_native(ctx, &mut remote_argv);
    let mut local_argv = argv;
    let rewrite = |a: &mut Vec<OsString>| {
        if !ctx.vars.no_rewrite_cross() {
            let cache = ctx.cache_dir();
            cross::rewrite(a, &ctx.spawner.path, |name| {
                let compiler = cross::find_on_path(name, &ctx.spawner.path)?;
                cross::dumpmachine(&compiler, cache.as_deref(), &ctx.spawner.safeguard)
            });
        }
    };
    rewrite(&mut local_argv);
    let scan = match args::scan(&remote_argv) {
        // A side file a server would make differently: never a silent
        // difference, whichever host it would go to.
        Scan::Distribute(mut job) => match args::side_outputs(&job) {
            Err(why) => Err((LocalReason::SideOutput(why), None)),
            // In plain mode a -g job may go to a daemon of ours in pump
            // form (attempt/upgrade.rs): the attempt decides.
            Ok(s) if s.needs_pump.is_some() && !ctx.vars.pump() && !upgradable(ctx, &job) => {
                let why = s.needs_pump.unwrap_or_default();
                Err((LocalReason::SideOutput(format!("{why} (off)")), None))
            }
            Ok(_) => {
                rewrite(&mut job.argv);
                Ok(job)
            }
        },
        Scan::Local(reason) => Err((reason, native_error)),
    };
    Prepared {
        driver_deps,
        local_argv,
        scan,
    }
}

/// Run one compiler command; returns the exit code.
pub fn compile(ctx: &Ctx, argv: Vec<OsString>) -> i32 {
    let p = prepare(ctx, argv);
    match p.scan {
        Ok(job) => distribute(ctx, job, p.driver_deps, &p.local_argv),
        Err((reason, native_error)) => {
            stats::local(stats::local_reason(&reason));
            match native_error {
                Some(e) => debug!("running locally because {reason} ({e})"),
                None => debug!("running locally because {reason}"),
            }
            let slots = |l: &HostList| {
                if reason.is_preprocess_only() {
                    l.local_slots_cpp
                } else {
                    l.local_slots
                }
            };
            run_local(ctx, &p.local_argv, None, slots)
        }
    }
}

/// Whether a plain-mode job may go in pump form for its debug
/// information (the pure half of `attempt/upgrade.rs`'s decision).
fn upgradable(ctx: &Ctx, job: &Job) -> bool {
    ctx.vars.pump_debug_info() && args::plain::debug_info(&job.argv)
}

fn resolve_native(ctx: &Ctx, argv: &mut Vec<OsString>) -> Option<String> {
    if !argv.iter().skip(1).any(|a| native::is_native(a)) || ctx.vars.native_local() {
        return None;
    }
    let compiler = cross::find_on_path(&argv[0], &ctx.spawner.path)?;
    let cache = ctx.cache_dir();
    match native::resolve(argv, &compiler, cache.as_deref(), &ctx.spawner.safeguard) {
        Ok(resolved) => {
            debug!("-march/-mtune=native resolved to: {}", line(&resolved));
            *argv = resolved;
            None
        }
        Err(e) => Some(e.0),
    }
}

/// Compile locally under a local slot (`slots` picks `--localslots` or
/// `--localslots_cpp` from the host list's settings).
fn run_local(
    ctx: &Ctx,
    argv: &[OsString],
    held: Option<SlotLock>,
    slots: impl Fn(&HostList) -> u32,
) -> i32 {
    let input = args::scan(argv);
    let file = match &input {
        Scan::Distribute(j) => j.input.clone(),
        Scan::Local(_) => OsString::new(),
    };
    let mut status = Status::new(ctx.topdir.as_deref(), &file);
    let lock = match held {
        Some(l) => Some(l),
        None => ctx.lock_dir().and_then(|d| {
            let n = match hostlist::load(&ctx.vars) {
                Loaded::List { list, .. } => slots(&list),
                _ => slots(&default_list()),
            };
            d.lock_local(n, ctx.pause)
                .map_err(|e| warn!("{e}; compiling without a local slot"))
                .ok()
        }),
    };
    status.set(
        Phase::Compile,
        "localhost",
        lock.as_ref().map_or(0, |l| l.slot),
    );
    let code = match ctx.spawner.run(argv) {
        Ok(code) => code,
        Err(e) => {
            warn!("{e}");
            return e.exit_code().code();
        }
    };
    if !file.is_empty() {
        log_result(&lossy(&file), "localhost", code);
    }
    code
}

/// 3.4's line for every compile's end, in `DISTCC_LOG` (info level, no
/// function name): `compile FILE on HOST completed ok`, or `... failed`
/// (3.4 shows that one on stderr too; here the warnings say it).
fn log_result(file: &str, host: &str, code: i32) {
    if code == 0 {
        debug!(target: NONAME, "compile {file} on {host} completed ok");
    } else {
        debug!(target: NONAME, "compile {file} on {host} failed with exit code {code}");
    }
}

fn default_list() -> HostList {
    HostList {
        hosts: Vec::new(),
        randomize: false,
        local_slots: crate::hosts::DEFAULT_LOCALSLOTS,
        local_slots_cpp: crate::hosts::DEFAULT_LOCALSLOTS_CPP,
        zeroconf: false,
        zeroconf_at: 0,
        warnings: Vec::new(),
    }
}

/// The host name shown by the monitor: no port, `localhost` for local.
pub(crate) fn monitor_name(kind: &HostKind) -> &str {
    match kind {
        HostKind::Local => "localhost",
        HostKind::Tcp { host, .. } | HostKind::Ssh { host, .. } => host,
    }
}
