//! Starting the compiler (spec §4.5 step 7), behind a small trait so the
//! request → compile → reply path can be tested without gcc (style.md,
//! example 14).
//!
//! The real launcher runs the compiler in its own process group (so a
//! timeout or a client disconnect can kill cc1 and as too). Its stdin is
//! /dev/null or an in-memory file (memfd) holding the source; stdout and
//! stderr go to memfds read back when it exits. 3.4 uses temp files for
//! all three: file creation on ext4 costs more than the rest of the
//! daemon's work for a small job, and pipes would need an event-loop
//! round trip each. `_DISTCC_SAFEGUARD` is raised by one so a compiler
//! that is itself a distcc masquerade link runs locally instead of
//! looping.
//!
//! With a [`Sandbox`] (every real daemon), what starts is the sandbox
//! trampoline, which confines itself and then executes the compiler
//! ([`super::sandbox::trampoline`]); still through `posix_spawn`. The
//! compile's process group is announced to the [`Watchdog`], and when the
//! compiler has exited, whatever it left running in its group is killed
//! before it is reaped (the zombie keeps the group's id from being
//! reused).

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::future::Future;
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::unix::AsyncFd;

use super::sandbox::{Sandbox, pidfd, watchdog::Watchdog};

/// What to run.
#[derive(Debug)]
pub struct ExecSpec {
    /// The command line; `argv[0]` is looked up on `path`.
    pub argv: Vec<OsString>,
    /// Working directory (the job's directory).
    pub cwd: PathBuf,
    /// Bytes for the compiler's stdin (None: /dev/null).
    pub stdin: Option<Vec<u8>>,
    /// Environment of the compiler (PATH, TMPDIR, `_DISTCC_SAFEGUARD`, ...).
    pub env: Vec<(OsString, OsString)>,
    /// The job directory, the one place a sandboxed compiler may write.
    pub job_dir: Option<PathBuf>,
}

/// How a compile ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Finished {
    /// The raw wait status (spec §1.6).
    pub status: u32,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

/// A boxed future, so the traits stay object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that starts compilers.
pub trait Launcher: Send + Sync + fmt::Debug {
    /// Start the compile. `Err` means it could not be started at all.
    fn launch(&self, spec: ExecSpec) -> io::Result<Box<dyn Running>>;
}

/// A compile in progress.
pub trait Running: Send {
    /// Wait for it to end and collect its output. If this future is
    /// dropped early, output not yet read is lost.
    fn wait(&mut self) -> BoxFuture<'_, io::Result<Finished>>;
    /// Ask it to stop (SIGTERM to its process group).
    fn terminate(&mut self);
    /// Stop it now (SIGKILL to its process group).
    fn kill(&mut self);
}

/// The real launcher: `tokio::process`. Remembers where it found each
/// compiler on the PATH, so a busy daemon does not search the PATH for
/// every job; a cached path that stops working is looked up again.
#[derive(Debug, Default)]
pub struct ProcessLauncher {
    found: Mutex<HashMap<(OsString, OsString), PathBuf>>,
    sandbox: Option<Arc<Sandbox>>,
    watchdog: Option<Arc<Watchdog>>,
    /// Wait through pidfds (Linux 5.3) rather than tokio's SIGCHLD
    /// handling: one wake-up per compile instead of two, and the exited
    /// compiler's group can be cleaned up before it is reaped.
    pidfds: bool,
}

impl ProcessLauncher {
    /// A launcher that sandboxes every compiler and tells `watchdog` about
    /// it. Compilers must be launched from a thread that lives as long as
    /// the daemon (the runtime's one thread): the parent-death signal
    /// fires when the thread that started the process exits.
    pub fn sandboxed(sandbox: Arc<Sandbox>, watchdog: Option<Arc<Watchdog>>) -> Self {
        Self {
            found: Mutex::default(),
            sandbox: Some(sandbox),
            watchdog,
            pidfds: pidfd::supported(),
        }
    }
}

impl Launcher for ProcessLauncher {
    fn launch(&self, spec: ExecSpec) -> io::Result<Box<dyn Running>> {
        let files = Streams::new(spec.stdin.as_deref())?;
        let child = match self.spawn_cached(&spec, &spec.argv[0], &files) {
            Ok(child) => child,
            // 3.4's dcc_execvp: if a path fails, try its basename on PATH.
            Err(e) if e.kind() == io::ErrorKind::NotFound && has_slash(&spec.argv[0]) => {
                let base = crate::args::ext::basename(&spec.argv[0]);
                self.spawn_cached(&spec, base, &files).map_err(|_| e)?
            }
            Err(e) => return Err(e),
        };
        let pid = child.id().map(|p| Pid::from_raw(p as i32));
        let watchdog = self.watchdog.clone();
        if let (Some(w), Some(id)) = (&watchdog, child.id()) {
            w.watch(id);
        }
        Ok(Box::new(Child {
            child,
            pid,
            files,
            watchdog,
        }))
    }
}

impl ProcessLauncher {
    /// Spawn `program`, from the cache of PATH lookups when possible.
    fn spawn_cached(&self, spec: &ExecSpec, program: &OsStr, files: &Streams) -> io::Result<Proc> {
        if has_slash(program) {
            return self.spawn(spec, program, Path::new(program), files);
        }
        let key = (path_of(spec), program.to_os_string());
        let cached = self
            .found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(path) = cached {
            match self.spawn(spec, program, &path, files) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                done => return done,
            }
        }
        let path = resolve(program, &key.0)?;
        let child = self.spawn(spec, program, &path, files)?;
        self.found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, path);
        Ok(child)
    }
}

pub(super) fn has_slash(name: &OsStr) -> bool {
    crate::args::os::bytes(name).contains(&b'/')
}

/// The compilers' PATH.
fn path_of(spec: &ExecSpec) -> OsString {
    spec.env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| OsString::from("/usr/bin:/bin"))
}

impl ProcessLauncher {
    /// Start `resolved`, with `program` as its argv[0]. We resolve names on
    /// the compilers' PATH ourselves: std only uses posix_spawn when it need
    /// not search a PATH it was given.
    fn spawn(
        &self,
        spec: &ExecSpec,
        program: &OsStr,
        resolved: &Path,
        files: &Streams,
    ) -> io::Result<Proc> {
        let stdin = match &files.stdin {
            Some(f) => Stdio::from(f.try_clone()?),
            None => Stdio::null(),
        };
        let mut cmd = match &self.sandbox {
            Some(sandbox) => {
                // The trampoline could only fail to exec it: say so here,
                // as without a sandbox, so that a basename on PATH is
                // tried (see `launch`).
                if !is_executable_file(resolved) {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        "No such file or directory (or not executable)",
                    ));
                }
                sandbox.command(
                    resolved,
                    &program.to_string_lossy(),
                    spec.job_dir.as_deref(),
                )
            }
            None => {
                let mut cmd = std::process::Command::new(resolved);
                cmd.arg0(program);
                cmd
            }
        };
        cmd.args(&spec.argv[1..])
            .current_dir(&spec.cwd)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(stdin)
            .stdout(Stdio::from(files.stdout.try_clone()?))
            .stderr(Stdio::from(files.stderr.try_clone()?))
            .process_group(0);
        if !self.pidfds {
            let mut cmd = tokio::process::Command::from(cmd);
            return Ok(Proc::Tokio(cmd.kill_on_drop(false).spawn()?));
        }
        let mut child = cmd.spawn()?;
        match pidfd::exit_watch(child.id()) {
            Some(exited) => Ok(Proc::Watched { child, exited }),
            None => {
                // Out of descriptors, most likely: do not leave it behind.
                let e = io::Error::last_os_error();
                let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
                let _ = child.wait();
                Err(e)
            }
        }
    }
}

/// The compiler's three standard streams, as memfds.
struct Streams {
    stdin: Option<File>,
    stdout: File,
    stderr: File,
}

impl Streams {
    fn new(input: Option<&[u8]>) -> io::Result<Self> {
        let stdin = match input {
            Some(data) => {
                let mut f = memfd(c"distccd-stdin")?;
                f.write_all(data)?;
                f.rewind()?;
                Some(f)
            }
            None => None,
        };
        Ok(Self {
            stdin,
            stdout: memfd(c"distccd-stdout")?,
            stderr: memfd(c"distccd-stderr")?,
        })
    }
}

fn memfd(name: &std::ffi::CStr) -> io::Result<File> {
    use nix::sys::memfd::{MemFdCreateFlag, memfd_create};
    Ok(File::from(memfd_create(
        name,
        MemFdCreateFlag::MFD_CLOEXEC,
    )?))
}

/// Everything written to `f` (its offset is wherever the writer left it).
fn contents(f: &mut File) -> Vec<u8> {
    let mut buf = Vec::new();
    // A read error leaves what was read; the status still tells the story.
    if f.rewind().is_ok() {
        let _ = f.read_to_end(&mut buf);
    }
    buf
}

/// Whether `path` is a file with an execute bit (following links).
pub(super) fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// execvp's search: the first executable regular file of that name in
/// `path`.
pub(super) fn resolve(program: &OsStr, path: &OsString) -> io::Result<PathBuf> {
    for dir in std::env::split_paths(path) {
        let candidate = dir.join(program);
        if is_executable_file(&candidate) {
            return Ok(candidate);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "No such file or directory (not found on the daemon's PATH)",
    ))
}

/// A started compiler, and how its end is noticed.
enum Proc {
    /// Through tokio's SIGCHLD handling (kernels without pidfd, tests).
    Tokio(tokio::process::Child),
    /// Through a pidfd, readable once it has exited (not yet reaped).
    Watched {
        child: std::process::Child,
        exited: AsyncFd<std::os::fd::OwnedFd>,
    },
}

impl Proc {
    fn id(&self) -> Option<u32> {
        match self {
            Proc::Tokio(c) => c.id(),
            Proc::Watched { child, .. } => Some(child.id()),
        }
    }
}

struct Child {
    child: Proc,
    pid: Option<Pid>,
    files: Streams,
    watchdog: Option<Arc<Watchdog>>,
}

impl Child {
    fn signal(&mut self, sig: Signal) {
        if let Some(pid) = self.pid {
            // The group may already be gone: nothing to do then.
            let _ = killpg(pid, sig);
        }
    }
}

impl Running for Child {
    fn wait(&mut self) -> BoxFuture<'_, io::Result<Finished>> {
        Box::pin(async move {
            if let Proc::Watched { exited, .. } = &self.child {
                // Exited but not reaped: its group id is still reserved,
                // so what it left behind (a background process) can be
                // killed without hitting anyone else.
                let _ = exited.readable().await?;
                self.signal(Signal::SIGKILL);
            }
            let pgid = self.pid.map(|p| p.as_raw() as u32);
            if let (Some(w), Some(pgid)) = (&self.watchdog, pgid) {
                w.unwatch(pgid);
            }
            let status = match &mut self.child {
                Proc::Tokio(c) => c.wait().await?,
                // A zombie by now: this does not block.
                Proc::Watched { child, .. } => child.wait()?,
            };
            // Once reaped the pid may be reused: never signal it again.
            self.pid = None;
            Ok(Finished {
                status: status.into_raw() as u32,
                stdout: contents(&mut self.files.stdout),
                stderr: contents(&mut self.files.stderr),
            })
        })
    }

    fn terminate(&mut self) {
        self.signal(Signal::SIGTERM);
    }

    fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
    }
}

/// Whether a spawn error means "no such compiler" (3.4: the child exits
/// 110) rather than a resource problem (3.4: fork failure, 105).
pub fn is_missing(e: &io::Error) -> bool {
    !matches!(
        e.raw_os_error(),
        Some(code) if code == nix::errno::Errno::EAGAIN as i32 || code == nix::errno::Errno::ENOMEM as i32
    )
}
