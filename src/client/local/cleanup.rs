//! Temp files of the client (spec §3.13) and their removal at exit and on
//! SIGINT/SIGTERM/SIGHUP.
//!
//! Every file the client creates that must not outlive it (cpp output, the
//! half-written object, the monitor state file) is registered here. Normal
//! exits remove them through [`TempPath`]'s `Drop`; a signal is handled by
//! one thread that reads it from signal-hook's self-pipe (so no code of
//! ours runs in a signal handler), removes everything registered, stops
//! the children, and then dies of the same signal so the exit status says
//! what happened, as 3.4 does.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    paths: Vec::new(),
    children: Vec::new(),
    groups: Vec::new(),
    keep: false,
});

struct Registry {
    /// Registered paths, and whether they go even with `DISTCC_SAVE_TEMPS`.
    paths: Vec<(PathBuf, bool)>,
    children: Vec<u32>,
    /// Process groups of their own (a local compile racing a remote one,
    /// [`crate::client::race`]): the terminal's Ctrl-C does not reach them.
    groups: Vec<u32>,
    keep: bool,
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// `DISTCC_SAVE_TEMPS=1`: keep temp files for debugging.
pub fn keep_temps(keep: bool) {
    registry().keep = keep;
}

/// Remember a child process to stop if we are interrupted.
pub fn add_child(pid: u32) {
    registry().children.push(pid);
}

/// Forget a child process (it has been waited for).
pub fn remove_child(pid: u32) {
    registry().children.retain(|&p| p != pid);
}

/// Remember a process group (led by `pgid`) to stop if we are interrupted.
pub fn add_group(pgid: u32) {
    registry().groups.push(pgid);
}

/// Forget a process group (its leader has been waited for).
pub fn remove_group(pgid: u32) {
    registry().groups.retain(|&p| p != pgid);
}

/// `cmd.output()` for the short probes the client runs (`gcc -###`,
/// `-dumpmachine`), registered like every other child so that a signal
/// stops a probe that hangs instead of leaving it behind.
pub fn probe_output(cmd: &mut std::process::Command) -> io::Result<std::process::Output> {
    let child = cmd.spawn()?;
    let pid = child.id();
    add_child(pid);
    let out = child.wait_with_output();
    remove_child(pid);
    out
}

/// A registered path, removed when dropped (unless temps are kept or it
/// was [`TempPath::persist`]ed).
#[derive(Debug)]
pub struct TempPath {
    path: PathBuf,
    always_remove: bool,
}

impl TempPath {
    /// Register `path` (which the caller has just created).
    pub fn register(path: PathBuf) -> Self {
        registry().paths.push((path.clone(), false));
        Self {
            path,
            always_remove: false,
        }
    }

    /// Register a path that is removed even with `DISTCC_SAVE_TEMPS`
    /// (the monitor state file, half-written outputs).
    pub fn register_always(path: PathBuf) -> Self {
        registry().paths.push((path.clone(), true));
        Self {
            path,
            always_remove: true,
        }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keep the file (it was renamed into place); just unregister it.
    pub fn persist(mut self) {
        unregister(&self.path);
        self.path = PathBuf::new();
    }
}

fn unregister(path: &Path) {
    registry().paths.retain(|(p, _)| p != path);
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.path.as_os_str().is_empty() {
            return;
        }
        unregister(&self.path);
        if self.always_remove || !registry().keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Create `$TMPDIR/<prefix>_XXXXXXXX<suffix>` with `O_EXCL`, mode 0600
/// (3.4's naming: the hex mixes pid and time, 7777 added on collision).
pub fn create_temp(tmpdir: &Path, prefix: &str, suffix: &str) -> io::Result<(TempPath, File)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut n: u32 =
        (std::process::id() << 16) ^ (now.subsec_micros() << 16) ^ (now.as_secs() as u32);
    for _ in 0..1000 {
        let path = tmpdir.join(format!("{prefix}_{n:08x}{suffix}"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => return Ok((TempPath::register(path), f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n = n.wrapping_add(7777),
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot create a temp file in {}: {e}", tmpdir.display()),
                ));
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free temp file name in {}", tmpdir.display()),
    ))
}

/// Catch SIGINT/SIGTERM/SIGHUP and start the thread that handles them.
///
/// The handler only writes to a pipe (signal-hook's self-pipe); the thread
/// reading it does the work, so no code of ours runs in a signal handler.
/// Signals are deliberately not blocked (`sigwait` would need that): a
/// blocked mask is inherited through exec, and a compiler started with
/// SIGINT blocked would outlive Ctrl-C. Handlers, unlike masks, are reset
/// to the default in every child.
pub fn install_signal_handler() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let Some(sig) = signals.forever().next() else {
                return;
            };
            {
                let reg = registry();
                if let Ok(s) = Signal::try_from(sig) {
                    for &pid in &reg.children {
                        let _ = kill(Pid::from_raw(pid as i32), s);
                    }
                    for &pgid in &reg.groups {
                        let _ = nix::sys::signal::killpg(Pid::from_raw(pgid as i32), s);
                    }
                }
                for (p, always) in &reg.paths {
                    if *always || !reg.keep {
                        let _ = std::fs::remove_file(p);
                    }
                }
            }
            // Die of the same signal, as 3.4 does, so the exit status says
            // what happened.
            let _ = signal_hook::low_level::emulate_default_handler(sig);
            std::process::exit(128 + sig);
        });
}
