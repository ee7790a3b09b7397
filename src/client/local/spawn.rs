//! Running things on this machine: the compiler itself (local jobs and
//! fallbacks, stdio untouched) and the preprocessor of a remote job
//! (spec §3.6 step 1: stdin `/dev/null`; its stdout is read through a
//! pipe into memory, where 3.4 uses a temp file).
//!
//! Children get `_DISTCC_SAFEGUARD` raised (spec §3.2) and, in masquerade
//! mode, the trimmed PATH, so a compiler that finds our masquerade link
//! again cannot loop.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};

use crate::args::{Job, cpp_argv, preprocessed_ext};
use crate::client::local::cleanup::{self, TempPath, create_temp};
use crate::client::local::cppfast;
use crate::client::probe::cross::find_on_path;
use crate::error::{ExitCode, critique_status};

/// How to start children.
#[derive(Clone, Debug)]
pub struct Spawner {
    /// PATH used to find compilers (trimmed in masquerade mode).
    pub path: Vec<PathBuf>,
    /// Whether PATH was trimmed and must be passed on.
    pub set_path: bool,
    /// The `_DISTCC_SAFEGUARD` value for children.
    pub safeguard: String,
}

/// A compiler that could not be started (3.4: exit 110).
#[derive(Debug)]
pub struct SpawnError {
    /// The program.
    pub program: String,
    /// Why.
    pub error: io::Error,
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot run {}: {}", self.program, self.error)
    }
}

impl SpawnError {
    /// 110 when the compiler does not exist, 100 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        match self.error.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => ExitCode::CompilerMissing,
            _ => ExitCode::Failed,
        }
    }
}

impl Spawner {
    /// A command for `argv`, found on our PATH but showing `argv[0]` to the
    /// program (gcc looks at its own name).
    pub fn command(&self, argv: &[OsString]) -> Command {
        let program = find_on_path(&argv[0], &self.path).unwrap_or_else(|| PathBuf::from(&argv[0]));
        let mut cmd = Command::new(program);
        cmd.arg0(&argv[0]).args(&argv[1..]);
        cmd.env("_DISTCC_SAFEGUARD", &self.safeguard);
        if self.set_path {
            if let Ok(p) = std::env::join_paths(&self.path) {
                cmd.env("PATH", p);
            }
        }
        cmd
    }

    fn spawn(&self, cmd: &mut Command, argv0: &OsStr) -> Result<Child, SpawnError> {
        let child = cmd.spawn().map_err(|error| SpawnError {
            program: argv0.to_string_lossy().into_owned(),
            error,
        })?;
        cleanup::add_child(child.id());
        Ok(child)
    }

    /// Run the compiler here with our stdio; returns its critique status
    /// (exit code, or 128+signal).
    pub fn run(&self, argv: &[OsString]) -> Result<i32, SpawnError> {
        let mut child = self.spawn(&mut self.command(argv), &argv[0])?;
        let status = wait(&mut child);
        Ok(status_code(status))
    }

    /// Start the preprocessor for `job` (`driver_deps`: see [`cpp_argv`]),
    /// its output into a pipe that [`Cpp::wait`] reads; with
    /// `direct_cache`, `cc1` is started without the driver when
    /// [`cppfast`] knows how.
    pub fn start_cpp(
        &self,
        job: &Job,
        driver_deps: bool,
        direct_cache: Option<Option<&Path>>,
    ) -> Result<Cpp, CppError> {
        let ext = preprocessed_ext(&job.input).unwrap_or(".i");
        let argv = cpp_argv(job, driver_deps);
        let direct = direct_cache.and_then(|cache| {
            // The direct start fills a text template: only for UTF-8 names.
            let text: Vec<String> = argv
                .iter()
                .map(|a| a.to_str().map(str::to_owned))
                .collect::<Option<_>>()?;
            let compiler = find_on_path(&argv[0], &self.path)?;
            let names = cppfast::Names::new(job.input.to_str()?, job.output.to_str()?);
            cppfast::direct(&compiler, &text, &names, cache, &self.safeguard)
        });
        let mut cmd = match direct {
            Some(d) => {
                let mut c = Command::new(&d.program);
                c.args(&d.args).env("_DISTCC_SAFEGUARD", &self.safeguard);
                if self.set_path {
                    if let Ok(p) = std::env::join_paths(&self.path) {
                        c.env("PATH", p);
                    }
                }
                c
            }
            None => self.command(&argv),
        };
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        let mut child = self.spawn(&mut cmd, &argv[0]).map_err(CppError::Spawn)?;
        let out = child.stdout.take().expect("piped");
        // Room for a whole preprocessed file of most jobs, so cpp runs on
        // while we connect and send the request head (spec §3.9) instead
        // of stopping at the default 64 KiB. Best effort: the limit is
        // /proc/sys/fs/pipe-max-size.
        let _ = nix::fcntl::fcntl(
            out.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE),
        );
        Ok(Cpp { child, out, ext })
    }
}

/// The pipe size asked for cpp's output (Linux's default maximum).
const PIPE_SIZE: i32 = 1 << 20;

fn wait(child: &mut Child) -> ExitStatus {
    let status = loop {
        match child.wait() {
            Ok(s) => break s,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // Cannot happen for our own child; report it as a failure.
            Err(_) => break ExitStatus::from_raw(ExitCode::Failed.wait_status() as i32),
        }
    };
    cleanup::remove_child(child.id());
    status
}

/// The critique status of a local exit status.
pub fn status_code(status: ExitStatus) -> i32 {
    critique_status(status.into_raw() as u32)
}

/// Why the preprocessor could not be started.
#[derive(Debug)]
pub enum CppError {
    /// No process.
    Spawn(SpawnError),
}

impl std::fmt::Display for CppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Spawn(e) => write!(f, "{e}"),
        }
    }
}

/// A running preprocessor.
#[derive(Debug)]
pub struct Cpp {
    child: Child,
    out: ChildStdout,
    ext: &'static str,
}

/// A preprocessed source, in memory: it is sent from there (and kept for
/// a second host), so no temp file is created, written, read back and
/// deleted per job.
#[derive(Debug)]
pub struct Preprocessed {
    /// The text.
    pub bytes: Vec<u8>,
    /// Its extension (`.i`, `.ii`, ...), for a file made of it.
    pub ext: &'static str,
    /// With `DISTCC_SAVE_TEMPS=1`, the copy kept in `$TMPDIR` (3.4 keeps
    /// its `.i` files then).
    pub saved: Option<TempPath>,
}

impl Cpp {
    /// Read its output to the end and wait for it: the critique status
    /// and the text (`Err` when the pipe cannot be read; the child is
    /// then reaped all the same). With `save_in`, a copy is written there.
    pub fn wait(mut self, save_in: Option<&Path>) -> (i32, io::Result<Preprocessed>) {
        let mut bytes = Vec::new();
        let read = self.out.read_to_end(&mut bytes);
        drop(self.out);
        let status = wait(&mut self.child);
        let code = status_code(status);
        let text = read.and_then(|_| {
            let saved = match save_in {
                Some(dir) => {
                    let (path, mut file) = create_temp(dir, "distcc", self.ext)?;
                    file.write_all(&bytes)?;
                    Some(path)
                }
                None => None,
            };
            Ok(Preprocessed {
                bytes,
                ext: self.ext,
                saved,
            })
        });
        (code, text)
    }
}
