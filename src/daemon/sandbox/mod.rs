//! The compiler's sandbox on Linux (issue #10, part 2), unprivileged:
//! Landlock, a seccomp filter, `no_new_privs` and resource limits for
//! every process distccd starts, and its death with the daemon.
//!
//! Everything that can fail or allocate is prepared in the daemon, once:
//! the seccomp program at start-up ([`seccomp`]), one Landlock ruleset per
//! job directory when the directory is made ([`Sandbox::ruleset_for`]; job
//! directories are reused, see [`super::jobdir`]), the limits from the
//! options. The forked child then only makes raw system calls ([`child`])
//! between `fork` and `exec`. Why `fork` + `pre_exec` and not a
//! trampoline: see [`child`] and bench/RESULTS.md.
//!
//! What the compiler may touch is [`rules`]' table; what it may not call
//! is [`seccomp`]'s. [`watchdog`] kills the compilers' process groups when
//! the daemon dies, even by SIGKILL.
//!
//! `--no-sandbox` turns Landlock, seccomp and `no_new_privs` off (ccache
//! under distccd, a 32-bit compiler binary); the resource limits and the
//! death with the daemon stay. A kernel without Landlock, or with an older
//! Landlock ABI, gets one warning at start-up and the rest still applies.

#![allow(unsafe_code)] // only `kernel_landlock_abi`; the child steps are in `child`

pub mod child;
pub mod rules;
pub mod seccomp;
pub mod watchdog;

use std::fmt;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreatedAttr, Scope, path_beneath_rules,
};
use seccompiler::BpfProgram;

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
pub struct Sandbox {
    confine: bool,
    abi: ABI,
    base: Vec<Rule>,
    bpf: Option<BpfProgram>,
    limits: Vec<(child::Resource, u64)>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("confine", &self.confine)
            .field("abi", &self.abi)
            .field("rules", &self.base.len())
            .field("seccomp", &self.bpf.as_ref().map(Vec::len))
            .field("limits", &self.limits)
            .finish()
    }
}

/// A job directory's Landlock ruleset, ready for `landlock_restrict_self`.
#[derive(Debug)]
pub struct JobRuleset(OwnedFd);

impl Sandbox {
    /// Prepare the sandbox; the warnings are for the log (once).
    pub fn prepare(settings: &Settings) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let (abi, bpf) = if settings.confine {
            let (abi, warning) = landlock_plan(kernel_landlock_abi(), settings.landlock_abi_cap);
            warnings.extend(warning);
            let bpf = match seccomp::program() {
                Ok(p) => Some(p),
                Err(e) => {
                    warnings.push(format!("{e}: compilers may open network sockets"));
                    None
                }
            };
            (ABI::from(abi), bpf)
        } else {
            warnings.push(
                "--no-sandbox: compilers run without Landlock and seccomp, with the \
                 daemon user's full access to files and the network"
                    .into(),
            );
            (ABI::Unsupported, None)
        };
        let inputs = Inputs {
            path_dirs: settings.path_dirs.clone(),
            whitelist_dirs: settings.whitelist_dirs.clone(),
            link_target_dirs: link_target_dirs(&settings.whitelist_dirs),
            allow: settings.allow.clone(),
        };
        let base = rules::base_rules(&inputs, |p| p.exists());
        let mut limits = vec![(child::Resource::Core, 0)];
        for (res, value) in [
            (child::Resource::Cpu, settings.cpu_secs),
            (child::Resource::Data, settings.memory_bytes),
            (child::Resource::FileSize, settings.file_bytes),
            (
                child::Resource::Processes,
                settings.processes.map(|n| n.saturating_add(user_tasks())),
            ),
        ] {
            if let Some(v) = value {
                limits.push((res, v));
            }
        }
        let sandbox = Self {
            confine: settings.confine,
            abi,
            base,
            bpf,
            limits,
        };
        (sandbox, warnings)
    }

    /// Whether Landlock rules are made for job directories.
    pub fn uses_landlock(&self) -> bool {
        self.confine && self.abi != ABI::Unsupported
    }

    /// A fresh ruleset: the base rules plus `job_dir`. None without
    /// Landlock.
    pub fn ruleset_for(&self, job_dir: &Path) -> Result<Option<JobRuleset>, String> {
        if !self.uses_landlock() {
            return Ok(None);
        }
        let abi = self.abi;
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
        for rule in self.base.iter().chain([&rules::job_rule(job_dir)]) {
            created = created
                .add_rules(path_beneath_rules([&rule.path], access(rule.grant, abi)))
                .map_err(err)?;
        }
        let fd: Option<OwnedFd> = created.into();
        Ok(fd.map(JobRuleset))
    }

    /// Make `cmd`'s child apply the sandbox, with `ruleset` (the job
    /// directory's) if Landlock is in use.
    pub fn install(
        self: &Arc<Self>,
        cmd: &mut tokio::process::Command,
        ruleset: Option<Arc<JobRuleset>>,
    ) {
        child::install(cmd, (self.clone(), ruleset), |(s, r)| s.plan(r.as_deref()));
    }

    /// What the child does before `exec`, for [`child::install`].
    fn plan<'a>(&'a self, ruleset: Option<&'a JobRuleset>) -> child::Plan<'a> {
        child::Plan {
            limits: &self.limits,
            no_new_privs: self.confine,
            landlock: ruleset.map(|r| &r.0),
            seccomp: self.bpf.as_deref(),
        }
    }
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
