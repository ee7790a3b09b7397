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

mod fs_access;
pub mod pidfd;
pub mod plan;
pub mod rules;
pub mod seccomp;
pub mod trampoline;
pub mod watchdog;

use fs_access::kernel_landlock_abi;
pub use fs_access::{landlock_plan, ruleset};

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use self::plan::{Plan, Resource};
use self::rules::Inputs;

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
