//! The sandbox trampoline: `distccd --internal-sandbox-exec PLAN -- CMD`
//! applies [`Plan`] to itself and then executes the compiler, which keeps
//! every restriction (Landlock domains, seccomp filters, `no_new_privs`,
//! limits and the parent-death signal all survive `exec`).
//!
//! Why a trampoline rather than `fork` + `pre_exec` in the daemon
//! (measured, bench/RESULTS.md "The compilers' sandbox"): `pre_exec`
//! forces std to `fork` the daemon instead of `posix_spawn` (vfork-like),
//! and the daemon then pays for copying its page tables and for the
//! copy-on-write faults of every page it touches until the child has
//! executed: 29-38 % more daemon CPU per job, against a 10 % budget. The
//! trampoline keeps the daemon on `posix_spawn`; what it costs (one more
//! `exec`, of distccd, 1-1.5 ms of CPU) is the child's. It also runs
//! single-threaded, before anything else, so the sandbox is applied with
//! the `landlock` and `seccompiler` crates' own safe calls: no code runs
//! between `fork` and `exec` in the daemon.
//!
//! The daemon starts the trampoline as `/proc/self/exe`, so it is always
//! the running daemon's own binary, even after a package upgrade replaced
//! the file (the plan's version word guards the rest).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;

use landlock::RulesetCreatedAttr;
use nix::sys::resource::{Resource as R, setrlimit};

use super::plan::{Parsed, Plan, Resource};

/// Exit status when the sandbox cannot be applied (the shell's "cannot
/// execute"); when the compiler cannot be executed, 3.4's 110.
const SANDBOX_FAILED: u8 = 126;
const EXEC_FAILED: u8 = 110;

/// Run the trampoline with the process's whole argv (`argv[1]` is
/// [`super::plan::MAGIC`]). Returns only on failure, after saying why on
/// stderr (the job's stderr: the client sees it).
pub fn main(args: Vec<OsString>) -> std::process::ExitCode {
    let parsed = match Plan::parse(args.get(1..).unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return fail(SANDBOX_FAILED, &format!("bad sandbox plan: {e}")),
    };
    if let Err(e) = apply(&parsed.plan) {
        return fail(SANDBOX_FAILED, &format!("cannot sandbox the compiler: {e}"));
    }
    exec(parsed)
}

fn fail(code: u8, msg: &str) -> std::process::ExitCode {
    eprintln!("distccd[{}] (sandbox) ERROR: {msg}", std::process::id());
    std::process::ExitCode::from(code)
}

/// Apply `plan` to this process.
pub fn apply(plan: &Plan) -> Result<(), String> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| format!("parent-death signal: {e}"))?;
    // The daemon may have died before the line above: then nobody would
    // signal us.
    if plan.parent != 0 && nix::unistd::getppid().as_raw() as u32 != plan.parent {
        return Err("the daemon has exited".into());
    }
    for &(res, n) in &plan.limits {
        setrlimit(rlimit(res), n, n).map_err(|e| format!("{res:?} limit {n}: {e}"))?;
    }
    if plan.no_new_privs {
        nix::sys::prctl::set_no_new_privs().map_err(|e| format!("no_new_privs: {e}"))?;
    }
    if plan.landlock > 0 {
        let ruleset = super::ruleset(plan.landlock, &plan.rules, plan.job_dir.as_deref())?;
        let status = ruleset
            .no_new_privs(plan.no_new_privs)
            .restrict_self()
            .map_err(|e| format!("Landlock: {e}"))?;
        if status.ruleset == landlock::RulesetStatus::NotEnforced {
            return Err("Landlock: not enforced".into());
        }
    }
    if plan.seccomp {
        let prog = super::seccomp::program()?;
        seccompiler::apply_filter(&prog).map_err(|e| format!("seccomp: {e}"))?;
    }
    Ok(())
}

fn exec(parsed: Parsed) -> std::process::ExitCode {
    let Parsed { program, argv, .. } = parsed;
    let err = std::process::Command::new(&program)
        .arg0(&argv[0])
        .args(&argv[1..])
        .exec();
    // 3.4's words (spec §1.8), as the daemon says them when it cannot
    // start a compiler itself.
    fail(
        EXEC_FAILED,
        &format!("failed to exec {}: {err}", program.display()),
    )
}

/// The kernel's name of a limit the plan sets.
pub(super) fn rlimit(res: Resource) -> R {
    match res {
        Resource::Core => R::RLIMIT_CORE,
        Resource::Cpu => R::RLIMIT_CPU,
        Resource::Data => R::RLIMIT_DATA,
        Resource::FileSize => R::RLIMIT_FSIZE,
        Resource::Processes => R::RLIMIT_NPROC,
    }
}
