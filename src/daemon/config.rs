//! Raw options + environment → a validated [`Config`] (style.md example
//! 8): `--allow` parsed into networks once, defaults applied once, every
//! problem reported with the exit code 3.4 uses (spec §4.1, §4.2, §4.8).

use std::ffi::OsString;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;

use super::cli::Cli;
use super::job::JobSettings;
use super::policy::{CmdList, Policy};
use super::sandbox;
use crate::access::{AccessList, AllowSpec, net_for, parse_allow, private_ranges};
use crate::env::Vars;
use crate::error::ExitCode;
use crate::logging::{LogLevel, LogTarget};
use crate::protocol::Limits;
use crate::version::{DEFAULT_PORT, DEFAULT_STATS_PORT};

/// The default compiler whitelist directory (`$LIBDIR/distcc` is the same
/// on every distribution we package for).
pub const DEFAULT_WHITELIST_DIR: &str = "/usr/lib/distcc";

/// How the daemon talks to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Listen on a TCP port.
    Daemon,
    /// Serve the one client on stdin/stdout, then exit.
    Inetd,
}

/// `--tls`, `--tls-required`, `--tls-dir`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    pub dir: PathBuf,
    pub required: bool,
}

/// Everything the daemon needs, checked.
#[derive(Clone, Debug)]
pub struct Config {
    /// Daemon or inetd.
    pub mode: Mode,
    /// Fork into the background (`--daemon` without `--no-detach`).
    pub detach: bool,
    /// Job slots (`--jobs`; 1 with `--no-fork`).
    pub jobs: u32,
    /// Niceness increment.
    pub nice: i32,
    /// `--user`.
    pub user: Option<String>,
    /// `--pid-file`.
    pub pid_file: Option<PathBuf>,
    /// `--listen` (None: every address, IPv6 and IPv4).
    pub listen: Option<IpAddr>,
    /// TCP port.
    pub port: u16,
    /// `--stats-port`, when `--stats` is on.
    pub stats_port: Option<u16>,
    /// Who may connect.
    pub access: AccessList,
    /// Log threshold.
    pub log_level: LogLevel,
    /// Where the log goes once started.
    pub log_target: LogTarget,
    /// `--lifetime`.
    pub lifetime: Option<Duration>,
    /// `--oom-score-adj`.
    pub oom_score_adj: Option<i32>,
    /// `--zeroconf`: announce the daemon by mDNS/DNS-SD (daemon mode).
    pub zeroconf: bool,
    /// `--tls`/`--tls-required`: the key directory and whether the clear
    /// protocols are refused.
    pub tls: Option<TlsSettings>,
    /// `DISTCC_TCP_DEFER_ACCEPT`.
    pub defer_accept: bool,
    /// Listening sockets handed over by systemd (`LISTEN_FDS`, from fd 3):
    /// the first replaces `--port`, a second one the stats port.
    pub inherited_listeners: u32,
    /// Per-job settings.
    pub job: JobSettings,
    /// The compilers' sandbox, before it is prepared at start-up.
    pub sandbox: sandbox::Settings,
    /// Warnings to log once logging is set up.
    pub warnings: Vec<String>,
}

/// A configuration problem: message and exit status.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// What is wrong, for the log.
    pub message: String,
    /// distccd's exit status for it.
    pub code: ExitCode,
}

fn bad(message: impl Into<String>) -> ConfigError {
    ConfigError {
        message: message.into(),
        code: ExitCode::BadArguments,
    }
}

impl Config {
    /// Build from options and environment. `stdin_is_socket` drives the
    /// inetd autodetection (spec §4.1).
    pub fn build(cli: &Cli, vars: &Vars, stdin_is_socket: bool) -> Result<Self, ConfigError> {
        let mut warnings = Vec::new();
        if cli.auth || cli.blacklist.is_some() || cli.whitelist.is_some() || cli.show_principal {
            return Err(bad(
                "GSS-API authentication (--auth, --blacklist, --whitelist, --show-principal) \
                 is not supported in this build",
            ));
        }
        let mode = if cli.wizard || cli.daemon {
            Mode::Daemon
        } else if cli.inetd || stdin_is_socket {
            Mode::Inetd
        } else {
            Mode::Daemon
        };
        let jobs = match cli.jobs {
            Some(0) => return Err(bad("--jobs must be at least 1")),
            Some(n) => n,
            None => default_jobs(),
        };
        let jobs = if cli.no_fork || cli.wizard { 1 } else { jobs };
        let log_level = if cli.verbose || cli.wizard {
            LogLevel::Debug
        } else {
            match cli.log_level.as_deref().map(|l| (l, LogLevel::parse(l))) {
                None => LogLevel::Notice,
                Some((_, Some(level))) => level,
                Some((text, None)) => {
                    warnings.push(format!("invalid --log-level {text:?}; using notice"));
                    LogLevel::Notice
                }
            }
        };
        let log_target = if cli.log_stderr || cli.wizard {
            LogTarget::Stderr
        } else if let Some(f) = &cli.log_file {
            LogTarget::File(f.clone())
        } else {
            LogTarget::Syslog
        };
        let listen = cli.listen.as_deref().map(resolve_listen).transpose()?;
        let access = AccessList::new(allow_list(cli)?);
        let policy = policy(cli, vars)?;
        let io_timeout = vars.io_timeout_secs().map_err(bad)?;
        if cli.zeroconf && cli.inetd {
            warnings.push("--zeroconf is ignored in inetd mode: inetd owns the port".into());
        }
        let safeguard = vars.safeguard_level() + 1;
        let mut compiler_env: Vec<(OsString, OsString)> = vars
            .iter()
            // Socket activation variables describe our fds, not the compiler's.
            .filter(|(k, _)| !k.to_string_lossy().starts_with("LISTEN_"))
            .filter(|(k, _)| *k != "PATH" && *k != "TMPDIR" && *k != "_DISTCC_SAFEGUARD")
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        // spec §4.2 step 7: DISTCCD_PATH replaces PATH for the compilers.
        let path = vars
            .distccd_path()
            .or_else(|| vars.get_os("PATH"))
            .map(|p| p.to_owned())
            .unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
        let job_lifetime = cli.job_lifetime.filter(|s| *s > 0).map(Duration::from_secs);
        let sandbox = sandbox_settings(cli, &path, &policy, job_lifetime, jobs);
        compiler_env.push(("PATH".into(), path));
        compiler_env.push(("_DISTCC_SAFEGUARD".into(), safeguard.to_string().into()));
        Ok(Self {
            mode,
            detach: mode == Mode::Daemon && !cli.no_detach && !cli.wizard,
            jobs,
            nice: cli.nice.unwrap_or(5),
            user: cli.user.clone(),
            pid_file: cli.pid_file.clone(),
            listen,
            port: cli.port.unwrap_or(DEFAULT_PORT),
            stats_port: cli
                .stats
                .then(|| cli.stats_port.unwrap_or(DEFAULT_STATS_PORT)),
            access,
            log_level,
            log_target,
            lifetime: cli.lifetime.filter(|s| *s > 0).map(Duration::from_secs),
            oom_score_adj: cli.oom_score_adj,
            zeroconf: cli.zeroconf,
            tls: (cli.tls || cli.tls_required).then(|| TlsSettings {
                dir: cli
                    .tls_dir
                    .clone()
                    .unwrap_or_else(|| crate::tls::keys::DAEMON_DIR.into()),
                required: cli.tls_required,
            }),
            defer_accept: vars.tcp_defer_accept(),
            inherited_listeners: match mode {
                Mode::Daemon => vars.listen_fds(std::process::id()),
                Mode::Inetd => 0,
            },
            job: JobSettings {
                tmpdir: vars.tmpdir(),
                save_temps: vars.save_temps(),
                io_timeout: Duration::from_secs(io_timeout),
                job_lifetime,
                limits: Limits::default(),
                policy,
                compiler_env,
                // One process per connection under inetd: nothing to share.
                header_cache: match mode {
                    Mode::Daemon => cli
                        .header_cache_size
                        .unwrap_or(crate::daemon::hdrstore::DEFAULT_SIZE >> 20)
                        .saturating_mul(1 << 20),
                    Mode::Inetd => 0,
                },
                inetd: mode == Mode::Inetd,
                kept_tree_max: crate::daemon::pumpjob::KEPT_TREE_MAX,
            },
            sandbox,
            warnings,
        })
    }
}

/// Default RLIMIT_FSIZE: a compiler's output larger than this could not
/// be sent back anyway (the reply's limit is 2 GiB), temp files aside.
const DEFAULT_FILE_SIZE_MIB: u64 = 4096;
/// Default RLIMIT_NPROC margin per job slot.
const DEFAULT_PROCESSES_PER_JOB: u64 = 1024;

/// The sandbox's settings from the options (spec: issue #10). 0 turns a
/// limit off; `--job-lifetime` also caps each compiler process's CPU time.
fn sandbox_settings(
    cli: &Cli,
    path: &OsString,
    policy: &Policy,
    job_lifetime: Option<Duration>,
    jobs: u32,
) -> sandbox::Settings {
    let mib = |v: u64| (v > 0).then(|| v.saturating_mul(1 << 20));
    sandbox::Settings {
        confine: !cli.no_sandbox,
        allow: cli.sandbox_allow_path.clone(),
        // The compilers' PATH, and where DISTCC_CMDLIST's compilers live
        // (they are run by their full path).
        path_dirs: std::env::split_paths(path)
            .chain(policy.cmdlist.iter().flat_map(|c| {
                c.entries
                    .iter()
                    .filter_map(|e| Path::new(e).parent().map(Path::to_path_buf))
            }))
            .collect(),
        whitelist_dirs: policy.dirs.clone(),
        // One second more than the wall-clock limit, which normally
        // fires first; the kernel's is for a process that escapes it.
        cpu_secs: job_lifetime.map(|t| t.as_secs() + 1),
        memory_bytes: cli.job_memory_limit.and_then(mib),
        file_bytes: mib(cli.job_file_size_limit.unwrap_or(DEFAULT_FILE_SIZE_MIB)),
        processes: match cli.job_process_limit {
            Some(0) => None,
            Some(n) => Some(n),
            None => Some(DEFAULT_PROCESSES_PER_JOB * u64::from(jobs)),
        },
        landlock_abi_cap: cli.sandbox_landlock_abi,
    }
}

/// 3.4's default: online CPUs + 2.
fn default_jobs() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32) + 2
}

fn resolve_listen(text: &str) -> Result<IpAddr, ConfigError> {
    let text = text.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = text.parse() {
        return Ok(ip);
    }
    (text, 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .map(|a| a.ip())
        .ok_or_else(|| ConfigError {
            message: format!("--listen {text:?}: cannot resolve that address"),
            code: ExitCode::BindFailed,
        })
}

fn allow_list(cli: &Cli) -> Result<Vec<IpNet>, ConfigError> {
    let mut nets = Vec::new();
    for text in &cli.allow {
        match parse_allow(text).map_err(|e| bad(e.to_string()))? {
            AllowSpec::Net(n) => nets.push(n),
            AllowSpec::Host { name, bits } => {
                let addrs = (name.as_str(), 0)
                    .to_socket_addrs()
                    .map_err(|e| bad(format!("bad --allow value {text:?}: {e}")))?;
                for a in addrs {
                    nets.push(
                        net_for(a.ip(), bits)
                            .map_err(|r| bad(format!("bad --allow value {text:?}: {r}")))?,
                    );
                }
            }
        }
    }
    if cli.allow_private {
        nets.extend(private_ranges());
    }
    Ok(nets)
}

fn policy(cli: &Cli, vars: &Vars) -> Result<Policy, ConfigError> {
    let cmdlist = match vars.cmdlist() {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                message: format!("cannot read DISTCC_CMDLIST file {}: {e}", path.display()),
                code: ExitCode::CompilerMissing,
            })?;
            Some(CmdList::parse(&text, vars.cmdlist_numwords()))
        }
    };
    let dirs = if cli.masquerade_dir.is_empty() {
        vec![PathBuf::from(DEFAULT_WHITELIST_DIR)]
    } else {
        cli.masquerade_dir.clone()
    };
    let policy = Policy {
        dirs,
        insecure: cli.enable_tcp_insecure,
        sysroot: cli.sysroot.clone(),
        cmdlist,
    };
    // spec §4.2 step 9: without a readable whitelist directory, no
    // compiler could ever run: say so at start-up (exit 110).
    if !policy.insecure
        && policy.cmdlist.is_none()
        && !policy.dirs.iter().any(|d| std::fs::read_dir(d).is_ok())
    {
        let dirs: Vec<String> = policy
            .dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        return Err(ConfigError {
            message: format!(
                "no compiler whitelist directory can be read ({}): create it with masquerade \
                 links (update-distcc-symlinks, distcc-config) or pass --masquerade-dir",
                dirs.join(", ")
            ),
            code: ExitCode::CompilerMissing,
        });
    }
    // 3.4 meant to refuse an empty whitelist too (its test reads ".", so
    // it never fires; issue 11): a directory without one compiler link
    // would refuse every job, so say so at start-up. `bin -> .` (Gentoo's
    // and Arch's compatibility link) is a directory, not a compiler.
    if !policy.insecure
        && policy.cmdlist.is_none()
        && !policy.dirs.iter().any(|d| has_compiler_link(d))
    {
        let dirs: Vec<String> = policy
            .dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        return Err(ConfigError {
            message: format!(
                "the compiler whitelist ({}) has no compiler links, so every job would be \
                 refused: run distcc-config --update-masquerade (or update-distcc-symlinks), \
                 or pass --masquerade-dir",
                dirs.join(", ")
            ),
            code: ExitCode::CompilerMissing,
        });
    }
    Ok(policy)
}

/// Whether `dir` holds at least one executable file (a masquerade link
/// to distcc, followed), the only kind of entry a job can use.
fn has_compiler_link(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            std::fs::metadata(e.path())
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
