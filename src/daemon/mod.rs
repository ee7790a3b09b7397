//! `distccd`: the daemon (spec §4).
//!
//! Start-up order (style.md example 12; spec §4.2), all before any thread
//! exists: parse → early stderr logging → config → nice/OOM score →
//! resolve the user → bind → open the log file → detach → pid file → drop
//! root → chdir → remove stale job directories → fork the compilers'
//! watchdog → prepare (and try) the sandbox → build the tokio runtime by
//! hand → serve. The same binary is also the sandbox's trampoline
//! (`distccd --internal-sandbox-exec ...`), recognised first thing.
//!
//! The log file is opened *before* dropping root, on purpose: 3.4 opens
//! it afterwards and then cannot write to root-owned paths such as
//! `/var/log/distccd.log`.
//!
//! Modules:
//! * [`cli`] options as typed; [`config`] validated settings;
//! * [`serve`] accept loop; [`job`] one request → compile → reply, reading
//!   through [`incoming`] ([`plain`]: protocols 1 and 2, [`bodybase`]: a
//!   body sent against a base), running compilers through [`exec`] and
//!   [`compile`] in a [`jobdir`]; [`policy`] which compilers and arguments
//!   may run (the argument scan itself is the client's,
//!   [`crate::args::scan`], as in 3.4); [`extension`] our client's
//!   extras, [`compiler_id`] its compiler check;
//! * pump mode (protocol 3): [`pumpjob`] drives it, [`mirror`] and
//!   [`pumpargs`] are its pure rules, [`tree`] writes the client's files;
//! * [`summary`], [`stats`], [`sysinfo`], [`iorate`], [`stats_server`]
//!   for logs and `--stats`; [`inetd`] for stdin mode;
//! * [`os`] and [`privileges`] for the operating-system steps, `signals`
//!   for SIGTERM, SIGINT and SIGHUP;
//!   [`sandbox`] confines every compiler (issue #10).

pub mod bodybase;
pub mod cli;
pub mod compile;
pub mod compiler_id;
pub mod config;
pub mod exec;
pub mod extension;
pub mod hdrstore;
pub mod incoming;
pub mod inetd;
pub mod iorate;
pub mod job;
pub mod jobdir;
pub mod mirror;
pub mod os;
pub mod plain;
pub mod policy;
pub mod privileges;
pub mod pumpargs;
pub mod pumpcache;
pub mod pumpjob;
pub mod reqref;
pub mod sandbox;
pub mod serve;
mod signals;
pub mod stats;
pub mod stats_server;
pub mod summary;
pub mod sysinfo;
pub mod syslist;
pub mod tlsgate;
pub mod tree;

#[cfg(test)]
mod job_tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use self::cli::Early;
use self::config::{Config, Mode};
use self::exec::ProcessLauncher;
use self::job::Shared;
use self::sandbox::Sandbox;
use self::sandbox::watchdog::Watchdog;
use self::stats::Stats;
use crate::env::Vars;
use crate::error::ExitCode;
use crate::logging::{self, LogConfig, LogHandle, LogLevel, LogTarget};

/// Entry point of the program.
pub fn main() -> std::process::ExitCode {
    // The sandbox trampoline (see `sandbox::trampoline`): before anything
    // else, as it runs once per compile.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == sandbox::plan::MAGIC)
    {
        return sandbox::trampoline::main(std::env::args_os().collect());
    }
    let vars = Vars::from_process();
    let argv0 = std::env::args().next().unwrap_or_else(|| "distccd".into());
    let cli = match cli::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(Early::Done) => return std::process::ExitCode::SUCCESS,
        Err(Early::Failed(code)) => return code.into(),
    };
    let early_level = if cli.verbose || cli.wizard {
        LogLevel::Debug
    } else {
        cli.log_level
            .as_deref()
            .and_then(LogLevel::parse)
            .unwrap_or(LogLevel::Notice)
    };
    // Start-up messages go to stderr, unless stderr is a socket (inetd:
    // it is the client's connection), as 3.4 does.
    let early_target = if os::stderr_is_socket() {
        LogTarget::Syslog
    } else {
        LogTarget::Stderr
    };
    let log = match logging::init(&LogConfig {
        program: "distccd",
        level: early_level,
        target: early_target,
    }) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("distccd: ERROR: cannot set up logging: {e}");
            return ExitCode::Failed.into();
        }
    };
    let config = match Config::build(&cli, &vars, os::stdin_is_socket()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("{}", e.message);
            return e.code.into();
        }
    };
    match start(config, &log, &argv0) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(code) => std::process::ExitCode::from(code as u8),
    }
}

/// Start-up failures carry their exit status.
type Started<T> = Result<T, i32>;

fn fail(code: ExitCode, msg: impl std::fmt::Display) -> i32 {
    tracing::error!("{msg}");
    code.code()
}

fn start(config: Config, log: &LogHandle, argv0: &str) -> Started<()> {
    // A SIGHUP (logrotate) between binding the port and the runtime's
    // handler would kill the daemon: hold it until the handler is there
    // (`signals`), or for inetd mode, the runtime.
    signals::hold_sighup(true);
    if let Err(e) = os::renice(config.nice) {
        tracing::warn!("cannot change priority by {}: {e}", config.nice);
    }
    if let Some(n) = config.oom_score_adj {
        if let Err(e) = os::set_oom_score_adj(n) {
            tracing::warn!("cannot set oom_score_adj to {n}: {e}");
        }
    }
    let identity = privileges::resolve(config.user.as_deref()).map_err(|e| fail(e.code(), e))?;
    let listeners = match config.mode {
        Mode::Inetd => None,
        Mode::Daemon => Some(bind_all(&config)?),
    };
    // Opened while still root: see the module comment.
    if config.log_target != LogTarget::Stderr {
        if let Err(e) = log.retarget(&config.log_target) {
            tracing::error!(
                "failed to open {}: {}; using syslog",
                config.log_target,
                logging::os_error_text(&e)
            );
            let _ = log.retarget(&LogTarget::Syslog);
        }
    }
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    if config.access.is_default() {
        let ranges = crate::access::PRIVATE_RANGES.join(", ");
        let msg = "no --allow option given: serving only private networks and loopback";
        // Under inetd every job is a new process: say it once per daemon
        // in daemon mode, quietly per job in inetd mode.
        match config.mode {
            Mode::Daemon => tracing::warn!("{msg} ({ranges})"),
            Mode::Inetd => tracing::debug!("{msg} ({ranges})"),
        }
    }
    let mut ready = if config.detach {
        os::detach().map_err(|e| fail(ExitCode::Failed, format!("cannot detach: {e}")))?
    } else {
        if config.mode == Mode::Daemon {
            os::own_process_group();
        }
        os::Ready::none()
    };
    let result = run(config, listeners, identity, log, argv0, &mut ready);
    ready.report(result.err().unwrap_or(0) as u8);
    result
}

/// The listening sockets of daemon mode.
struct Listeners {
    main: std::net::TcpListener,
    stats: Option<std::net::TcpListener>,
}

fn bind_all(config: &Config) -> Started<Listeners> {
    let inherit = |fd: i32| os::inherited_listener(fd).map_err(|e| fail(ExitCode::BindFailed, e));
    let bind = |port| {
        os::bind(config.listen, port, config.defer_accept).map_err(|e| {
            let at = config.listen.map_or("*".into(), |a| a.to_string());
            fail(
                ExitCode::BindFailed,
                format!("cannot listen on {at} port {port}: {e}"),
            )
        })
    };
    // Socket activation: systemd bound the port (ListenStream=) and passes
    // it as fd 3, a second socket (the stats port) as fd 4.
    let n = config.inherited_listeners;
    let main = if n >= 1 {
        inherit(os::LISTEN_FDS_START)?
    } else {
        bind(config.port)?
    };
    let stats = match config.stats_port {
        Some(_) if n >= 2 => Some(inherit(os::LISTEN_FDS_START + 1)?),
        port => port.map(bind).transpose()?,
    };
    Ok(Listeners { main, stats })
}

fn run(
    config: Config,
    listeners: Option<Listeners>,
    identity: Option<privileges::Identity>,
    log: &LogHandle,
    argv0: &str,
    ready: &mut os::Ready,
) -> Started<()> {
    let _pid_file = match &config.pid_file {
        Some(p) => Some(os::PidFile::write(p).map_err(|e| {
            fail(
                ExitCode::Failed,
                format!("cannot write pid file {}: {e}", p.display()),
            )
        })?),
        None => None,
    };
    // The key is root's: read it before dropping privileges.
    let gate = match (&config.tls, &listeners) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(fail(
                ExitCode::BadArguments,
                "--tls and --tls-required need daemon mode, not --inetd",
            ));
        }
        (Some(t), Some(_)) => {
            Some(Arc::new(tlsgate::Gate::load(t).map_err(|e| {
                fail(ExitCode::Failed, format!("--tls: {e}"))
            })?))
        }
    };
    if let Some(who) = &identity {
        privileges::drop_to(who).map_err(|e| fail(e.code(), e))?;
    }
    let tmpdir = config.job.tmpdir.clone();
    if let Err(e) = std::env::set_current_dir(&tmpdir) {
        tracing::warn!("cannot chdir to {}: {e}", tmpdir.display());
    }
    if config.detach {
        let _ = os::quiet_stdio(config.log_target == LogTarget::Stderr);
    }
    let stats = Stats::new(config.jobs, argv0);
    let launcher = prepare_compilers(&config);
    let shared = Arc::new(Shared::new(config.job.clone(), Box::new(launcher), stats));
    let access = Arc::new(config.access.clone());
    let Some(listeners) = listeners else {
        let rt = runtime()?;
        signals::hold_sighup(false);
        ready.report(0);
        let code = rt.block_on(inetd::serve_stdin(&shared, &access));
        return if code == 0 { Ok(()) } else { Err(code) };
    };
    // After the last fork (the watchdog's): mdns-sd runs a thread. Dropped
    // when the daemon stops, which says goodbye on the network.
    let _announcer = if config.zeroconf {
        let port = listeners
            .main
            .local_addr()
            .map_or(config.port, |a| a.port());
        let dirs: Vec<&Path> = config
            .sandbox
            .path_dirs
            .iter()
            .map(PathBuf::as_path)
            .collect();
        crate::zeroconf::announce_daemon(port, config.jobs, &dirs)
    } else {
        None
    };
    // One thread: the daemon waits on sockets and children; the
    // CPU work is the compilers'. Cross-thread wake-ups of a multi-thread
    // runtime cost more than they save here; the rare big LZO or file
    // operations go to the blocking pool (incoming::offload).
    let rt = runtime()?;
    let log = log.clone();
    rt.block_on(async move {
        let main = tokio::net::TcpListener::from_std(listeners.main)
            .map_err(|e| fail(ExitCode::BindFailed, e))?;
        let (shutdown, force) = signals::signals(log, config.lifetime, gate.clone())
            .map_err(|e| fail(ExitCode::Failed, format!("cannot set up signals: {e}")))?;
        if let Some(s) = listeners.stats {
            let s =
                tokio::net::TcpListener::from_std(s).map_err(|e| fail(ExitCode::BindFailed, e))?;
            tracing::debug!(
                "stats server listening on {}",
                s.local_addr().map_or("?".into(), |a| a.to_string())
            );
            let task = stats_server::serve_stats(s, access.clone(), shared.clone(), tmpdir);
            tokio::spawn(task);
        }
        tracing::info!(
            "distccd {} (distcc {} {}) listening on {}, {} job slots",
            crate::version::VERSION,
            crate::version::COMPAT_VERSION,
            crate::version::PROTOCOLS,
            main.local_addr().map_or("?".into(), |a| a.to_string()),
            config.jobs
        );
        ready.report(0);
        let main = serve::Listener { main, tls: gate };
        serve::serve(main, access, shared, config.jobs, shutdown, force).await;
        tracing::info!("distccd stopped");
        Ok(())
    })
}

/// The steps for compilers, as the daemon's user and before any thread
/// exists: remove job directories a dead daemon left in TMPDIR, fork the
/// watchdog that kills compilers if we die, prepare the sandbox. Problems
/// here are warnings: the daemon still serves.
fn prepare_compilers(config: &Config) -> ProcessLauncher {
    // Under inetd every connection starts a daemon: say things once per
    // daemon in daemon mode, quietly per job in inetd mode.
    let say = |msg: &str| match config.mode {
        Mode::Daemon => tracing::warn!("{msg}"),
        Mode::Inetd => tracing::debug!("{msg}"),
    };
    let cleanup = jobdir::remove_stale(&config.job.tmpdir);
    for path in &cleanup.removed {
        tracing::info!("removed the stale job directory {}", path.display());
    }
    let watchdog = match Watchdog::start() {
        Ok(w) => {
            tracing::debug!("compilers' watchdog is pid {}", w.pid());
            Some(Arc::new(w))
        }
        Err(e) => {
            say(&format!(
                "cannot start the watchdog ({e}): if distccd is killed, its compilers' \
                 children may outlive it"
            ));
            None
        }
    };
    let (sandbox, warnings) = Sandbox::prepare(&config.sandbox);
    for w in warnings {
        say(&w);
    }
    tracing::debug!("compiler sandbox: {}", sandbox.describe());
    ProcessLauncher::sandboxed(Arc::new(sandbox), watchdog)
}

fn runtime() -> Started<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("distccd")
        .build()
        .map_err(|e| fail(ExitCode::Failed, format!("cannot start the runtime: {e}")))
}
