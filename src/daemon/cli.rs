//! distccd's command line (spec §4.1): the raw options as typed, parsed
//! with clap derive. Validation and defaults live in [`super::config`].
//!
//! Names, short forms and exit codes follow distcc 3.4: `--opt=value` and
//! `--opt value` both work, flags may repeat, and any parse error (unknown
//! option, bad number) exits 101 with `distccd: ERROR: ...` on stderr.
//! Options upstream added after 3.4 (`--sysroot`, `--oom-score-adj`) are
//! accepted, and `--masquerade-dir` is ours (CONTRACTS.md).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgAction, CommandFactory, Parser};

use crate::error::ExitCode;

/// distccd's options, as typed.
#[derive(Debug, Default, Parser)]
#[command(
    name = "distccd",
    about = "distccd: compile jobs for distcc clients (distcc-rs, wire-compatible with distcc 3.4)",
    after_help = "distccd runs either from inetd or as a standalone daemon to compile \
                  files submitted by the distcc client.\n\n\
                  distccd should only run on trusted networks.",
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true
)]
pub struct Cli {
    /// Explain usage and exit.
    #[arg(long, action = ArgAction::SetTrue)]
    pub help: bool,

    /// Show version and exit.
    #[arg(long, action = ArgAction::SetTrue)]
    pub version: bool,

    /// Save the daemon's process id to FILE.
    #[arg(short = 'P', long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,

    /// Lower priority by LEVEL (default 5; 20 = most nice).
    #[arg(short = 'N', long, value_name = "LEVEL", allow_negative_numbers = true)]
    pub nice: Option<i32>,

    /// When started as root, run as USER (default: distcc, distccd or nobody, the first that exists).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Maximum compile jobs at any time (default: CPUs + 2); more clients wait.
    #[arg(short = 'j', long, value_name = "LIMIT")]
    pub jobs: Option<u32>,

    /// Kill a compile after SECONDS (0 = never).
    #[arg(long, value_name = "SECONDS")]
    pub job_lifetime: Option<u64>,

    /// TCP port to listen on (default 3632).
    #[arg(short = 'p', long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    /// IP address to listen on (default: all, IPv4 and IPv6).
    #[arg(long, value_name = "ADDRESS")]
    pub listen: Option<String>,

    /// Allow clients from IP[/BITS] (repeatable; host names are resolved).
    /// Without any --allow, only private and loopback addresses are served.
    #[arg(short = 'a', long, value_name = "IP[/BITS]", action = ArgAction::Append)]
    pub allow: Vec<String>,

    /// Allow private networks and loopback (10/8, 172.16/12, 192.168/16,
    /// 127/8, fe80::/10, fc00::/7, ::1).
    #[arg(long, action = ArgAction::SetTrue)]
    pub allow_private: bool,

    /// GSS-API mutual authentication (not supported in this build).
    #[arg(long, action = ArgAction::SetTrue)]
    pub auth: bool,

    /// GSS-API principal blacklist (not supported in this build).
    #[arg(long, value_name = "FILE")]
    pub blacklist: Option<PathBuf>,

    /// GSS-API principal whitelist (not supported in this build).
    #[arg(long, value_name = "FILE")]
    pub whitelist: Option<PathBuf>,

    /// Show the GSS-API principal (not supported in this build).
    #[arg(long, action = ArgAction::SetTrue)]
    pub show_principal: bool,

    /// Serve statistics over HTTP (text page, and JSON at /json).
    #[arg(long, action = ArgAction::SetTrue)]
    pub stats: bool,

    /// TCP port of the statistics server (default 3633).
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub stats_port: Option<u16>,

    /// Announce this daemon by mDNS/DNS-SD (distcc 3.4's `_distcc._tcp`).
    #[arg(long, action = ArgAction::SetTrue)]
    pub zeroconf: bool,

    /// Log detail: critical, error, warning, notice (default), info, debug.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// Same as --log-level=debug.
    #[arg(long, action = ArgAction::SetTrue)]
    pub verbose: bool,

    /// Don't detach from the parent (for init systems and daemontools).
    #[arg(long, action = ArgAction::SetTrue)]
    pub no_detach: bool,

    /// Append log messages to FILE instead of syslog (reopened on SIGHUP).
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,

    /// Send log messages to stderr.
    #[arg(long, action = ArgAction::SetTrue)]
    pub log_stderr: bool,

    /// Debug mode: --daemon --no-detach --no-fork --log-stderr --verbose.
    #[arg(short = 'W', long, action = ArgAction::SetTrue)]
    pub wizard: bool,

    /// Serve the client connected to stdin/stdout, then exit.
    #[arg(long, action = ArgAction::SetTrue)]
    pub inetd: bool,

    /// Bind and listen on a socket.
    #[arg(long, action = ArgAction::SetTrue)]
    pub daemon: bool,

    /// Serve one connection at a time.
    #[arg(long, action = ArgAction::SetTrue)]
    pub no_fork: bool,

    /// Accepted for compatibility; no effect.
    #[arg(long, action = ArgAction::SetTrue)]
    pub no_fifo: bool,

    /// Exit after SECONDS (used by test suites).
    #[arg(long, value_name = "SECONDS", hide = true)]
    pub lifetime: Option<u64>,

    /// Disable the compiler whitelist: run any compiler a client names.
    /// Dangerous (CVE-2004-2687).
    #[arg(long, alias = "make-me-a-botnet", action = ArgAction::SetTrue)]
    pub enable_tcp_insecure: bool,

    /// Allow -specs= files under DIR.
    #[arg(long, value_name = "DIR")]
    pub sysroot: Option<PathBuf>,

    /// Write N (-1000..1000) to /proc/self/oom_score_adj at start-up.
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = clap::value_parser!(i32).range(-1000..=1000))]
    pub oom_score_adj: Option<i32>,

    /// Compiler whitelist directory, instead of /usr/lib/distcc
    /// (repeatable): a compiler NAME may run if DIR/NAME is executable.
    #[arg(long, value_name = "DIR", action = ArgAction::Append)]
    pub masquerade_dir: Vec<PathBuf>,

    /// Also serve TLS 1.3 clients (`tls+HOST` in their host lists) on the
    /// same port, authenticated by the keys in --tls-dir (docs/tls.md);
    /// distcc 3.4 clients are still served in the clear.
    #[arg(long, action = ArgAction::SetTrue)]
    pub tls: bool,

    /// Serve only TLS clients whose keys are in authorized_clients: the
    /// clear protocols (every distcc 3.4 client) are refused, with the
    /// reason logged. Implies --tls.
    #[arg(long, action = ArgAction::SetTrue)]
    pub tls_required: bool,

    /// Where the daemon's key and authorized_clients are (default
    /// /etc/distcc/tls).
    #[arg(long, value_name = "DIR")]
    pub tls_dir: Option<PathBuf>,

    /// Run compilers without the sandbox (Landlock, seccomp,
    /// no_new_privs): for setups that need it, e.g. ccache with remote
    /// storage. Resource limits still apply.
    #[arg(long, action = ArgAction::SetTrue)]
    pub no_sandbox: bool,

    /// Give sandboxed compilers full access beneath DIR (repeatable): a
    /// ccache directory, a toolchain outside /usr.
    #[arg(long, value_name = "DIR", action = ArgAction::Append)]
    pub sandbox_allow_path: Vec<PathBuf>,

    /// Cap each compiler process's memory (heap and private mappings,
    /// RLIMIT_DATA) at MIB mebibytes (0 = no cap, the default).
    #[arg(long, value_name = "MIB")]
    pub job_memory_limit: Option<u64>,

    /// Largest file a compiler may write, in mebibytes (RLIMIT_FSIZE;
    /// default 4096, 0 = no cap).
    #[arg(long, value_name = "MIB")]
    pub job_file_size_limit: Option<u64>,

    /// How many more processes the daemon's user may have, beyond those it
    /// has at start-up, before a compiler's fork fails (RLIMIT_NPROC;
    /// default 1024 per job slot, 0 = no cap). Bounds a fork bomb.
    #[arg(long, value_name = "N")]
    pub job_process_limit: Option<u64>,

    /// Keep up to MIB mebibytes of pump-mode headers in memory for our
    /// clients, by content (docs/extension.md; default 256, 0 = off).
    #[arg(long, value_name = "MIB")]
    pub header_cache_size: Option<u64>,

    /// Tests only: use at most this Landlock ABI (0: act as if the kernel
    /// had no Landlock).
    #[arg(long, value_name = "N", hide = true)]
    pub sandbox_landlock_abi: Option<i32>,
}

/// What `parse` decided besides a set of options.
#[derive(Debug, PartialEq, Eq)]
pub enum Early {
    /// Printed help or version: exit 0.
    Done,
    /// Bad command line, already reported: exit with this code.
    Failed(ExitCode),
}

/// clap's view of the options (for `--help`, man pages and completions).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parse argv (including `argv[0]`). Help and version are printed here, as
/// are errors, the way 3.4 prints them.
pub fn parse<I, T>(args: I) -> Result<Cli, Early>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            match (e.kind(), e.get(ContextKind::InvalidArg)) {
                // 3.4's wording (spec §4.1): "distccd: ERROR: --x: unknown option".
                (ErrorKind::UnknownArgument, Some(ContextValue::String(arg))) => {
                    let opt = arg.split('=').next().unwrap_or(arg);
                    eprintln!("distccd: ERROR: {opt}: unknown option");
                }
                _ => eprintln!("distccd: ERROR: {}", first_line(&e.to_string())),
            }
            eprintln!("Try 'distccd --help' for more information.");
            return Err(Early::Failed(ExitCode::BadArguments));
        }
    };
    if cli.help {
        print!("{}\n\n", version_text());
        println!("{}", command().render_help());
        return Err(Early::Done);
    }
    if cli.version {
        println!("{}", version_text());
        return Err(Early::Done);
    }
    Ok(cli)
}

fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or(text);
    line.strip_prefix("error: ").unwrap_or(line)
}

/// `--version` text: 3.4's first lines, then ours ([`crate::version::banner`]).
pub fn version_text() -> String {
    crate::version::banner("distccd")
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
