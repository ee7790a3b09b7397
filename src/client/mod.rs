//! `distcc`, the client: runs once per compile, so start-up stays cheap
//! (no tokio; blocking I/O driving the shared protocol codec).
//!
//! Read top-down: [`job`] drives one compile with the [`ctx::Ctx`] read
//! once at start-up; [`attempt`] is one remote try, [`pump`] its pump-mode
//! variant; [`plan`] holds the failure decisions (spec §3.10) and
//! [`invoke`] the invocation modes (spec §3.1-3.2); [`scan`] is
//! `--scan-includes`. Below them, by
//! responsibility:
//!
//! * [`slots`]: host list, 3.4-compatible locks, host choice, state file.
//! * [`transport`]: TCP, SOCKS5 and SSH connections and the wire exchange.
//! * [`local`]: the compiler and preprocessor run here, temp files, output
//!   files, the pump `.d` re-flow, `@file`s.
//! * [`probe`]: what compilers answered once (`-march=native`, cross
//!   triples, default include directories), cached in `$DISTCC_DIR`.
//! * [`stats`]: this compile's counters, one line in `$DISTCC_DIR/stats`.
//! * [`compiler_id`]: this machine's compiler identity for the extension's
//!   check, and the once-per-host warning about a different one.
//! * [`race`]: a late remote job compiled here too, the first result
//!   taken.
//! * [`pumpfiles`], [`pumpcache`]: a pump job's files, read only where
//!   they must travel, and the header cache's exchange.
//! * [`bodybase`]: the earlier body a preprocessed source is sent
//!   against as a delta, in `$DISTCC_DIR/body-base/`.
//! * [`sidefiles`]: the side files (`.dwo`, `.su`, ...) that come back
//!   after a reply in the protocol extension.

pub mod attempt;
pub mod bodybase;
pub mod compiler_id;
pub mod ctx;
pub mod extension;
pub mod invoke;
pub mod job;
pub mod local;
pub mod placement;
pub mod plan;
pub mod probe;
pub mod pump;
pub mod pumpcache;
pub mod pumpfiles;
pub mod race;
pub mod scan;
pub mod sentreqs;
pub mod sidefiles;
pub mod slots;
pub mod stats;
pub mod sysheaders;
pub mod transport;

use std::ffi::OsString;
use std::time::Duration;

use crate::env::Vars;
use crate::error::ExitCode;
use crate::logging::{LogConfig, LogLevel, LogTarget};
use crate::pump::discrepancy::Counter;
use ctx::Ctx;
use invoke::{Guard, Invocation, OwnOption};
use local::spawn::Spawner;
use local::{cleanup, respfile};
use plan::Policy;
use probe::cross;
use slots::hostlist;

/// Entry point of the program.
pub fn main() -> std::process::ExitCode {
    let vars = Vars::from_process();
    // OsString end to end: a file name need not be UTF-8 (issue 10).
    let argv: Vec<OsString> = std::env::args_os().collect();
    let code = run(vars, argv);
    std::process::ExitCode::from(code.clamp(0, 255) as u8)
}

fn init_logging(vars: &Vars) {
    let (target, level) = match (vars.distcc_log(), vars.uncached_err_fd()) {
        (Some(file), _) => (LogTarget::File(file), LogLevel::Info),
        (None, Some(fd)) => (LogTarget::Fd(fd), LogLevel::Warning),
        (None, None) => (LogTarget::Stderr, LogLevel::Warning),
    };
    let level = if vars.verbose() {
        LogLevel::Debug
    } else {
        level
    };
    let _ = crate::logging::init(&LogConfig {
        program: "distcc",
        level,
        target,
    });
}

fn pid() -> u32 {
    std::process::id()
}

/// The whole client; returns the exit code.
pub fn run(vars: Vars, argv: Vec<OsString>) -> i32 {
    init_logging(&vars);
    let argv = respfile::expand(&argv, |name| std::fs::read(name).ok());
    let (argv, masquerade, scan_includes) = match invoke::classify(&argv) {
        Invocation::Own(opt) => return own_option(&vars, opt),
        Invocation::Missing => {
            eprintln!("distcc: missing option/operand\nTry `distcc --help' for more information.");
            return ExitCode::BadArguments.code();
        }
        Invocation::MissingOperand => {
            eprintln!("distcc: missing operand\nTry `distcc --help' for more information.");
            return ExitCode::BadArguments.code();
        }
        Invocation::Compile { argv, masquerade } => (argv, masquerade, false),
        Invocation::ScanIncludes { argv } => (argv, false, true),
    };
    let mut path = vars.path_entries();
    let mut tweaked = false;
    if masquerade {
        let cwd = std::env::current_dir().unwrap_or_default();
        let argv0 = std::env::args_os().next().unwrap_or_default();
        if let Some(trimmed) = invoke::trim_path(&argv0, &cwd, &path, cross::is_executable) {
            path = trimmed;
            tweaked = true;
        }
    }
    let level = vars.safeguard_level();
    let guard = invoke::guard(level, tweaked);
    if guard == Guard::Recursion {
        eprintln!(
            "distcc[{}] (dcc_recursion_safeguard) CRITICAL! distcc seems to have invoked itself recursively!",
            pid()
        );
        return ExitCode::Recursion.code();
    }
    let io_timeout = match vars.io_timeout_secs() {
        Ok(s) => Duration::from_secs(s),
        Err(e) => {
            eprintln!("distcc[{}] ERROR: {e}", pid());
            return ExitCode::BadArguments.code();
        }
    };
    let discrepancies = if vars.pump() {
        match vars.max_discrepancy() {
            Ok(limit) => vars.pump_dir().map(|d| Counter::new(&d, limit)),
            Err(e) => {
                eprintln!("distcc[{}] ERROR: {e}", pid());
                return ExitCode::BadArguments.code();
            }
        }
    } else {
        None
    };
    cleanup::keep_temps(vars.save_temps());
    cleanup::install_signal_handler();
    let spawner = Spawner {
        path,
        set_path: tweaked,
        safeguard: invoke::child_safeguard(level),
    };
    if guard == Guard::LocalOnly && !scan_includes {
        // Called from inside a distcc child: compile here, no locks.
        return match spawner.run(&argv) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("distcc[{}] ERROR: {e}", pid());
                e.exit_code().code()
            }
        };
    }
    let topdir = vars
        .distcc_dir()
        .filter(|d| std::fs::create_dir_all(d).is_ok());
    let ctx = Ctx {
        tmpdir: vars.tmpdir(),
        topdir,
        io_timeout,
        pause: Duration::from_millis(vars.pause_time_msec().max(1)),
        backoff: Duration::from_secs(vars.backoff_period_secs()),
        policy: Policy {
            fallback: vars.fallback(),
            skip_local_retry: vars.skip_local_retry(),
        },
        spawner,
        vars,
        discrepancies,
    };
    if scan_includes {
        return scan::run(&ctx, argv);
    }
    stats::start();
    let code = job::compile(&ctx, argv);
    stats::finish(ctx.topdir.as_deref(), code, ctx.vars.stats_records());
    code
}

fn own_option(vars: &Vars, opt: OwnOption) -> i32 {
    match opt {
        OwnOption::Help => {
            print!("{}", help_text());
            0
        }
        OwnOption::Version => {
            // Portage's `emerge --info` shows the first line.
            println!("{}", crate::version::banner("distcc"));
            0
        }
        OwnOption::ShowHosts | OwnOption::Jobs => match hostlist::load(vars) {
            hostlist::Loaded::List { list, .. } => {
                if opt == OwnOption::Jobs {
                    println!("{}", list.total_slots());
                } else {
                    for h in &list.hosts {
                        println!("{}", h.text);
                    }
                }
                0
            }
            hostlist::Loaded::Empty { message, .. } => {
                // 3.4's two lines; it exits 0 with nothing on stdout, we
                // say "no hosts" in the exit code too.
                tracing::warn!("{message}");
                tracing::error!("failed to get host list");
                ExitCode::NoHosts.code()
            }
            hostlist::Loaded::Unreadable { message, .. } => {
                tracing::error!("{message}");
                tracing::error!("failed to get host list");
                ExitCode::NoHosts.code()
            }
            hostlist::Loaded::Bad { error, origin } => {
                eprintln!("distcc[{}] ERROR: {origin}: {error}", pid());
                error.exit_code().code()
            }
        },
    }
}

fn help_text() -> String {
    // 3.4 opens its usage with the version banner too.
    format!(
        "{}

Usage:
   distcc [COMPILER] [compile options] -o OBJECT -c SOURCE
   distcc [--help|--version|--show-hosts|-j]
   distcc --scan-includes [COMPILER] [compile options] -c SOURCE
   COMPILER [compile options]        (through a masquerade link to distcc)

Options:
   COMPILER                   Defaults to \"cc\".
   --help                     Explain usage, and exit.
   --version                  Show version, and exit.
   --show-hosts               Show host list, and exit.
   -j                         Show the concurrency level (sum of host slots), and exit.
   --scan-includes            Show the files pump mode would send for this compile
                              (under pump, with a ,cpp,lzo host), and exit.

Environment variables (see the README for all of them):
   DISTCC_HOSTS               Host list (else $DISTCC_DIR/hosts, ~/.distcc/hosts, /etc/distcc/hosts).
   DISTCC_VERBOSE=1           Debug messages, including why a job runs locally.
   DISTCC_LOG                 Send messages to this file, not stderr.
   DISTCC_DIR                 Directory for the host list, locks and state (default ~/.distcc).
   DISTCC_FALLBACK=0          Never compile locally when distribution fails.
   DISTCC_SSH                 Command used for @host (SSH) connections.
   DISTCC_SOCKS_PROXY         SOCKS5 proxy: a UNIX socket path or host[:port].
   DISTCC_NATIVE_LOCAL=1      Keep -march=native jobs local (distcc 3.4's behaviour).

Host specifications:
   localhost[/N]              Run here, N at a time.
   HOST[/N][:PORT][,lzo]      TCP connection (port 3632); ,lzo compresses.
   HOST[/N][:PORT],cpp,lzo    The same, in pump mode (when run under pump).
   HOST[/N][:PORT],cpp,lzo    The same, in pump mode (when run under pump).
   [USER]@HOST[/N][:COMMAND]  SSH connection.
",
        crate::version::banner("distcc")
    )
}
