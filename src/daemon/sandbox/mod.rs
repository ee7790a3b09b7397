//! The compiler's sandbox on Linux (issue #10, part 2), unprivileged:
//! Landlock, a seccomp filter, `no_new_privs` and resource limits for
//! every process distccd starts, and its death with the daemon.
//!
//! The daemon does not apply the sandbox itself: it starts distccd again
//! as a trampoline ([`trampoline`]) with a [`plan`] in its arguments, which
//! sandboxes itself and executes the compiler. Why, with measurements:
//! see [`trampoline`]. What the compiler may touch is [`rules`]' table;
//! what it may not call is [`seccomp`]'s. [`watchdog`] kills the
//! compilers' process groups when the daemon dies, even by SIGKILL, and
//! [`pidfd`] lets the daemon kill what a compiler left running before
//! reaping it.
//!
//! At start-up [`Sandbox::prepare`] tries the plan once on `/bin/true` and
//! drops, with a warning, each layer this process may not use (a service
//! manager's or container's system-call filter), so that a restriction of
//! the host never makes every compile fail.
//!
//! `--no-sandbox` turns Landlock, seccomp and `no_new_privs` off (ccache
//! under distccd, a 32-bit compiler binary); the resource limits and the
//! death with the daemon stay. A kernel without Landlock, or with an older
//! Landlock ABI, gets one warning at start-up and the rest still applies.

#![allow(unsafe_code)] // only `kernel_landlock_abi`

pub mod pidfd;
pub mod plan;
pub mod rules;
pub mod seccomp;
pub mod trampoline;
pub mod watchdog;

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreated, RulesetCreatedAttr, Scope, path_beneath_rules,
};

use self::plan::{Plan, Resource};
use self::rules::{Grant, Inputs, Rule};

/// The newest Landlock ABI these rules were written and tested for: newer
/// kernels get exactly this (Landlock's compatibility contract), older
/// ones the subset they know.
pub const TESTED_ABI: i32 = 6;

/// The sandbox as configured (from options; see `super::config`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Landlock, seccomp and no_new_privs (off with `--no-sandbox`).
    pub confine: bool,
    /// `--sandbox-allow-path`: full access beneath each.
    pub allow: Vec<PathBuf>,
    /// The compilers' PATH directories.
    pub path_dirs: Vec<PathBuf>,
    /// The whitelist directories.
    pub whitelist_dirs: Vec<PathBuf>,
    /// RLIMIT_CPU in seconds (from `--job-lifetime`).
    pub cpu_secs: Option<u64>,
    /// RLIMIT_DATA in bytes (`--job-memory-limit`).
    pub memory_bytes: Option<u64>,
    /// RLIMIT_FSIZE in bytes (`--job-file-size-limit`).
    pub file_bytes: Option<u64>,
    /// RLIMIT_NPROC: processes of the daemon's user (`--job-process-limit`
    /// on top of those at start-up).
    pub processes: Option<u64>,
    /// Tests only (hidden option): act as if the kernel's Landlock ABI
    /// were at most this (0: no Landlock).
    pub landlock_abi_cap: Option<i32>,
}

/// The Landlock ABI to use for the kernel's `kernel` ABI (negative or 0:
/// none) and a test cap, and the start-up warning when it is less than
/// [`TESTED_ABI`]. Pure, so every kernel case is tested here.
pub fn landlock_plan(kernel: i32, cap: Option<i32>) -> (i32, Option<String>) {
    let abi = kernel.min(cap.unwrap_or(i32::MAX)).clamp(0, TESTED_ABI);
    let what = |missing: &str| {
        format!(
            "Landlock ABI {abi} (wanted {TESTED_ABI}): {missing}; the seccomp filter, \
             no_new_privs and resource limits still apply"
        )
    };
    let warning = match abi {
        0 => Some(
            "this kernel has no Landlock (Linux 5.13 or later with landlock in lsm=): \
             compilers can read every file the daemon's user can, and write outside the \
             job directory; the seccomp filter (no network), no_new_privs and resource \
             limits still apply"
                .to_string(),
        ),
        1..=3 => Some(what(
            "no Landlock network rules and no signal scoping (sockets are refused by \
             seccomp)",
        )),
        4 | 5 => Some(what(
            "compilers may signal the daemon's other processes and reach abstract UNIX \
             sockets",
        )),
        _ => None,
    };
    (abi, warning)
}

/// Prepared once at start-up, shared by every job.
#[derive(Debug)]
pub struct Sandbox {
    /// The plan for every job but its directory.
    plan: Plan,
    /// `plan` as the trampoline's arguments, without the final `--`.
    args: Vec<OsString>,
}

impl Sandbox {
    /// What the sandbox does, for the log: the trampoline's plan in its
    /// own words (`landlock=6 rule=x:/usr ... seccomp`).
    pub fn describe(&self) -> String {
        self.args
            .iter()
            .skip(2) // --internal-sandbox-exec, the plan's version
            .map(|a| a.to_string_lossy())
            .filter(|a| !a.starts_with("parent="))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Prepare the sandbox; the warnings are for the log (once).
    pub fn prepare(settings: &Settings) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let mut plan = Plan {
            parent: std::process::id(),
            no_new_privs: settings.confine,
            ..Plan::default()
        };
        if settings.confine {
            let (abi, warning) = landlock_plan(kernel_landlock_abi(), settings.landlock_abi_cap);
            warnings.extend(warning);
            plan.landlock = abi;
            match seccomp::program() {
                Ok(_) => plan.seccomp = true,
                Err(e) => warnings.push(format!("{e}: compilers may open network sockets")),
            }
        } else {
            warnings.push(
                "--no-sandbox: compilers run without Landlock and seccomp, with the \
                 daemon user's full access to files and the network"
                    .into(),
            );
        }
        let inputs = Inputs {
            path_dirs: settings.path_dirs.clone(),
            whitelist_dirs: settings.whitelist_dirs.clone(),
            link_target_dirs: link_target_dirs(&settings.whitelist_dirs),
            allow: settings.allow.clone(),
        };
        if plan.landlock > 0 {
            plan.rules = rules::base_rules(&inputs, |p| p.exists());
        }
        plan.limits.push((Resource::Core, 0));
        for (res, value) in [
            (Resource::Cpu, settings.cpu_secs),
            (Resource::Data, settings.memory_bytes),
            (Resource::FileSize, settings.file_bytes),
            (
                Resource::Processes,
                settings.processes.map(|n| n.saturating_add(user_tasks())),
            ),
        ] {
            if let Some(v) = value {
                // Never above the daemon's own hard limit: raising it
                // would fail in every compile.
                plan.limits.push((res, v.min(hard_limit(res))));
            }
        }
        let mut sandbox = Self {
            plan,
            args: Vec::new(),
        };
        sandbox.probe(&mut warnings);
        sandbox.args = sandbox.plan.to_args();
        sandbox.args.pop(); // "--"
        (sandbox, warnings)
    }

    /// The command that runs `program` (with `argv0` as its `argv[0]`; the
    /// caller adds the other arguments) sandboxed, with `job_dir` as the
    /// one writable directory.
    pub fn command(
        &self,
        program: &Path,
        argv0: &str,
        job_dir: Option<&Path>,
    ) -> std::process::Command {
        let mut cmd = std::process::Command::new("/proc/self/exe");
        cmd.arg0("distccd").args(&self.args);
        if let (Some(dir), true) = (job_dir, self.plan.landlock > 0) {
            let mut job = OsString::from("job=");
            job.push(dir);
            cmd.arg(job);
        }
        cmd.arg("--").arg(program).arg(argv0);
        cmd
    }

    /// Try the plan on `/bin/true` and drop, with a warning, each layer
    /// that fails here (see the module comment).
    fn probe(&mut self, warnings: &mut Vec<String>) {
        let dir = std::env::temp_dir();
        let try_plan = |plan: &Plan| -> Result<(), String> {
            let out = std::process::Command::new("/proc/self/exe")
                .arg0("distccd")
                .args(
                    Plan {
                        job_dir: Some(dir.clone()),
                        ..plan.clone()
                    }
                    .to_args(),
                )
                .args(["/bin/true", "true"])
                .env_clear()
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|e| e.to_string())?;
            if out.status.success() {
                Ok(())
            } else {
                let msg = String::from_utf8_lossy(&out.stderr);
                Err(msg
                    .trim()
                    .rsplit("ERROR: ")
                    .next()
                    .unwrap_or_default()
                    .to_string())
            }
        };
        if try_plan(&self.plan).is_ok() {
            return;
        }
        let p = self.plan.clone();
        let bare = Plan {
            parent: p.parent,
            ..Plan::default()
        };
        let nnp = Plan {
            no_new_privs: true,
            ..bare.clone()
        };
        // Each layer alone (with no_new_privs, which Landlock and seccomp
        // need), and how to do without it.
        let layers: [Layer; 4] = [
            (
                "the compilers' resource limits",
                Plan {
                    limits: p.limits.clone(),
                    ..bare.clone()
                },
                |p| p.limits.clear(),
            ),
            (
                "no_new_privs, and so Landlock and seccomp",
                nnp.clone(),
                |p| {
                    p.no_new_privs = false;
                    p.landlock = 0;
                    p.rules.clear();
                    p.seccomp = false;
                },
            ),
            (
                "the seccomp filter: compilers may open network sockets",
                Plan {
                    seccomp: true,
                    ..nnp.clone()
                },
                |p| p.seccomp = false,
            ),
            (
                "Landlock: compilers can read every file the daemon's user can",
                Plan {
                    landlock: p.landlock,
                    rules: p.rules.clone(),
                    ..nnp.clone()
                },
                |p| {
                    p.landlock = 0;
                    p.rules.clear();
                },
            ),
        ];
        for (name, alone, drop_layer) in layers {
            let mut without = self.plan.clone();
            drop_layer(&mut without);
            if without == self.plan {
                continue;
            }
            if let Err(e) = try_plan(&alone) {
                warnings.push(format!(
                    "cannot apply {name} ({e}); running compilers without it"
                ));
                self.plan = without;
            }
        }
    }
}

/// A layer of the sandbox, for the start-up probe: its name, a plan with
/// it alone, and how to do without it.
type Layer = (&'static str, Plan, fn(&mut Plan));

/// A Landlock ruleset for ABI `abi` (1 or more) with `rules` and the job
/// directory; the trampoline enforces it on itself.
pub fn ruleset(abi: i32, rules: &[Rule], job_dir: Option<&Path>) -> Result<RulesetCreated, String> {
    let abi = ABI::from(abi);
    let err = |e: landlock::RulesetError| format!("cannot build the Landlock ruleset: {e}");
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(err)?;
    if abi >= ABI::V4 {
        // Handled and never granted: no TCP bind or connect.
        ruleset = ruleset
            .handle_access(AccessNet::from_all(abi))
            .map_err(err)?;
    }
    if abi >= ABI::V6 {
        ruleset = ruleset.scope(Scope::from_all(abi)).map_err(err)?;
    }
    let mut created = ruleset.create().map_err(err)?;
    let job = job_dir.map(rules::job_rule);
    for rule in rules.iter().chain(job.as_ref()) {
        created = created
            .add_rules(path_beneath_rules([&rule.path], access(rule.grant, abi)))
            .map_err(err)?;
    }
    Ok(created)
}

/// The Landlock rights of a grant.
fn access(grant: Grant, abi: ABI) -> BitFlags<AccessFs> {
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    match grant {
        Grant::ReadExec => read | AccessFs::Execute,
        Grant::Read => read,
        Grant::ReadWriteFile => AccessFs::ReadFile | AccessFs::WriteFile | truncate(abi),
        Grant::JobDir => AccessFs::from_all(abi) & !AccessFs::Execute,
        Grant::Full => AccessFs::from_all(abi),
    }
}

fn truncate(abi: ABI) -> BitFlags<AccessFs> {
    if abi >= ABI::V3 {
        AccessFs::Truncate.into()
    } else {
        BitFlags::EMPTY
    }
}

/// Where the whitelist's entries point, when they are links to a
/// compiler rather than to distcc: those directories hold toolchains too.
fn link_target_dirs(whitelist: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for dir in whitelist {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if let Ok(target) = std::fs::canonicalize(entry.path()) {
                if let Some(parent) = target.parent() {
                    if !dirs.iter().any(|d: &PathBuf| d == parent) {
                        dirs.push(parent.to_path_buf());
                    }
                }
            }
        }
    }
    dirs
}

/// How many tasks (processes and threads: what RLIMIT_NPROC counts) the
/// calling user has now.
fn user_tasks() -> u64 {
    let uid = nix::unistd::getuid().as_raw().to_string();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut n = 0u64;
    for p in procs.flatten() {
        let Ok(status) = std::fs::read_to_string(p.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
        };
        if field("Uid:").as_deref() == Some(uid.as_str()) {
            n += field("Threads:").and_then(|t| t.parse().ok()).unwrap_or(1);
        }
    }
    n
}

/// The daemon's own hard limit for `res`.
fn hard_limit(res: Resource) -> u64 {
    nix::sys::resource::getrlimit(trampoline::rlimit(res)).map_or(u64::MAX, |(_, hard)| hard)
}

/// The running kernel's Landlock ABI version (0 or less: none).
fn kernel_landlock_abi() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: landlock_create_ruleset with a null attribute, size 0 and
    // the VERSION flag only returns a number; no memory is touched.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    i32::try_from(v).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landlock_plan_for_every_kernel() {
        // (kernel ABI, test cap) -> (ABI used, warned?)
        const CASES: &[(i32, Option<i32>, i32, bool)] = &[
            (-38, None, 0, true), // ENOSYS: not built in
            (-95, None, 0, true), // EOPNOTSUPP: not enabled at boot
            (0, None, 0, true),
            (1, None, 1, true),
            (3, None, 3, true),
            (4, None, 4, true),
            (6, None, 6, false),
            (7, None, 6, false), // newer kernels get the tested rules
            (99, None, 6, false),
            (7, Some(0), 0, true), // the test knob
            (7, Some(4), 4, true),
        ];
        for &(kernel, cap, abi, warned) in CASES {
            let (got, warning) = landlock_plan(kernel, cap);
            assert_eq!(got, abi, "kernel {kernel} cap {cap:?}");
            assert_eq!(warning.is_some(), warned, "kernel {kernel} cap {cap:?}");
        }
        let (_, w) = landlock_plan(0, None);
        assert!(w.unwrap().contains("no Landlock"));
    }

    #[test]
    fn grants_map_to_landlock_rights() {
        let abi = ABI::V6;
        assert!(access(Grant::ReadExec, abi).contains(AccessFs::Execute));
        assert!(!access(Grant::Read, abi).contains(AccessFs::Execute));
        assert!(!access(Grant::Read, abi).contains(AccessFs::WriteFile));
        let job = access(Grant::JobDir, abi);
        assert!(job.contains(AccessFs::WriteFile | AccessFs::MakeReg | AccessFs::RemoveFile));
        assert!(!job.contains(AccessFs::Execute));
        assert!(access(Grant::Full, abi).contains(AccessFs::Execute | AccessFs::WriteFile));
        assert!(!access(Grant::ReadWriteFile, abi).contains(AccessFs::IoctlDev));
    }
}
