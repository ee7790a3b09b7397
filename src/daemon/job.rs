//! One connection, one job (spec §4.5, §4.6): read the request, check it,
//! compile, reply. Protocols 1 and 2; protocol 3 (pump) is refused with a
//! logged reason until the pump work lands.
//!
//! Every refusal is a close without a reply, as in 3.4 (spec §1.8): the
//! client sees no DONE and compiles locally. Nothing is left in `$TMPDIR`
//! on any path: all files live in the job's [`JobDir`].
//!
//! The source reaches the compiler on stdin (`-x <language> -`, the
//! language 3.4's temp-file extension would imply) when it is small
//! enough to hold in memory, else through a file as in 3.4; stdout and
//! stderr come back in in-memory files (memfds). Same objects, no file
//! creation on disk for a normal job.
//!
//! Generic over the stream halves so tests can drive it through an
//! in-memory pipe and a fake compiler.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, watch};

use super::exec::{ExecSpec, Finished, Launcher, Running, is_missing};
use super::incoming::{Incoming, ReadError, Source, offload};
use super::jobdir::{JobDir, JobDirs};
use super::policy::Policy;
use super::stats::Stats;
use super::summary::{Category, Summary};
use crate::args::{self, Job, Scan};
use crate::error::ExitCode;
use crate::protocol::{Limits, RequestHead, Response};

/// Per-job settings, fixed at start-up.
#[derive(Clone, Debug)]
pub struct JobSettings {
    /// Where job directories go (`$TMPDIR`).
    pub tmpdir: PathBuf,
    /// `DISTCC_SAVE_TEMPS=1`.
    pub save_temps: bool,
    /// `DISTCC_IO_TIMEOUT`: per read/write on the connection.
    pub io_timeout: Duration,
    /// `--job-lifetime`.
    pub job_lifetime: Option<Duration>,
    /// Caps on lengths in requests.
    pub limits: Limits,
    /// Which compilers and arguments may run.
    pub policy: Policy,
    /// The compilers' environment, without `TMPDIR` (set per job).
    pub compiler_env: Vec<(OsString, OsString)>,
}

/// Everything jobs share.
#[derive(Debug)]
pub struct Shared {
    /// Settings.
    pub settings: JobSettings,
    /// Starts compilers.
    pub launcher: Box<dyn Launcher>,
    /// Counters for `--stats`.
    pub stats: Stats,
    /// The jobs' private directories.
    pub dirs: Arc<JobDirs>,
    /// Set to `true` to stop running compiles now (second SIGTERM).
    pub abort: watch::Sender<bool>,
    /// The `--jobs` compile slots. A job takes one only once its request
    /// has arrived, so a client that is slow to send (a laptop suspended
    /// mid-job, a stalled link) holds a connection, not a compiler.
    pub compile_slots: Semaphore,
}

impl Shared {
    /// Shared state with a fresh abort switch.
    pub fn new(settings: JobSettings, launcher: Box<dyn Launcher>, stats: Stats) -> Self {
        Self {
            dirs: JobDirs::new(&settings.tmpdir, settings.save_temps),
            settings,
            launcher,
            compile_slots: Semaphore::new(stats.max_kids().max(1) as usize),
            stats,
            abort: watch::channel(false).0,
        }
    }
}

/// Sources up to this size reach the compiler from memory; bigger ones
/// through a file in the job directory.
pub const MEMORY_SOURCE_MAX: usize = 32 << 20;

/// The `-x` language of a preprocessed input with this extension (as gcc
/// and clang would infer it from a file name), for feeding it on stdin.
fn stdin_language(ext: &str) -> Option<&'static str> {
    Some(match ext {
        ".i" => "cpp-output",
        ".ii" => "c++-cpp-output",
        ".mi" => "objective-c-cpp-output",
        ".mii" => "objective-c++-cpp-output",
        ".s" => "assembler",
        _ => return None,
    })
}

/// How long a terminated compiler gets before SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// An early end of a job: the category and what to log.
struct Stop {
    category: Category,
    ret: ExitCode,
    reason: String,
    /// Logged at info instead of as a warning (nothing was refused).
    quiet: bool,
}

fn refuse(reason: impl Into<String>) -> Stop {
    Stop {
        category: Category::RejBadReq,
        ret: ExitCode::ProtocolError,
        reason: reason.into(),
        quiet: false,
    }
}

/// Serve one connection: `reader`/`writer` are its two halves, `peer` is
/// how the client is named in logs.
pub async fn serve<R, W>(reader: R, writer: W, peer: &str, shared: &Shared) -> Summary
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let start = Instant::now();
    let mut compiler = None;
    let mut input = None;
    let result = run(reader, writer, shared, &mut compiler, &mut input).await;
    let (category, status, ret) = match result {
        Ok((category, status)) => (category, status, 0),
        Err(stop) => {
            if stop.quiet {
                tracing::info!("{peer}: {}", stop.reason);
            } else {
                tracing::warn!("refused request from {peer}: {}", stop.reason);
            }
            (stop.category, 0, stop.ret.code())
        }
    };
    let summary = Summary {
        peer: peer.to_string(),
        category,
        status,
        ret,
        elapsed: start.elapsed(),
        compiler,
        input,
    };
    tracing::info!("{summary}");
    shared.stats.record(&summary);
    summary
}

async fn run<R, W>(
    reader: R,
    mut writer: W,
    shared: &Shared,
    compiler: &mut Option<String>,
    input: &mut Option<String>,
) -> Result<(Category, u32), Stop>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let s = &shared.settings;
    let mut inc = Incoming::new(reader, s.io_timeout);
    let head = inc.head(&s.limits).await.map_err(read_stop)?;
    let argv = check_head(&head)?;
    *compiler = argv.first().cloned();
    // spec §4.5 step 3: the client's scanner decides, as in 3.4.
    let job = match args::scan(&argv) {
        Scan::Distribute(job) => job,
        Scan::Local(why) => return Err(refuse(format!("not a distributable compile: {why}"))),
    };
    *input = Some(job.input.clone());
    let argv = s
        .policy
        .check(job.argv.clone(), is_executable)
        .map_err(|why| Stop {
            category: Category::RejBadReq,
            ret: ExitCode::CompilerMissing,
            reason: why,
            quiet: false,
        })?;
    let job = Job { argv, ..job };
    let dir = shared.dirs.take().map_err(|e| Stop {
        category: Category::Other,
        ret: ExitCode::IoError,
        reason: format!(
            "cannot create a job directory in {}: {e}",
            s.tmpdir.display()
        ),
        quiet: false,
    })?;
    // spec §3.5: the extension (3.4's temp file name) gives the language.
    let ext = args::preprocessed_ext(&job.input).unwrap_or(".tmp");
    let input_name = format!("input{ext}");
    let spill = || dir.create_file(&input_name);
    // DISTCC_SAVE_TEMPS keeps every input as a file, to look at later.
    let memory_max = if s.save_temps { 0 } else { MEMORY_SOURCE_MAX };
    let source = inc
        .source(head.version, &s.limits, memory_max, spill)
        .await
        .map_err(read_stop)?;
    let output = dir.file("output.o").to_string_lossy().into_owned();
    let (argv, stdin) = match (source, stdin_language(ext)) {
        // Small sources go to the compiler's stdin: no file to create.
        (Source::Memory(data), Some(lang)) => {
            let mut argv = job.with_input_output("-", &output);
            argv.splice(job.input_index..job.input_index, ["-x".into(), lang.into()]);
            (argv, Some(data))
        }
        (Source::Memory(data), None) => {
            std::fs::write(dir.file(&input_name), data).map_err(io_stop)?;
            (
                job.with_input_output(&dir.file(&input_name).to_string_lossy(), &output),
                None,
            )
        }
        (Source::File(_), _) => (
            job.with_input_output(&dir.file(&input_name).to_string_lossy(), &output),
            None,
        ),
    };
    let outcome = {
        let _slot = shared
            .compile_slots
            .acquire()
            .await
            .expect("the compile semaphore is never closed");
        compile(&argv, stdin, &dir, &mut inc, shared)
            .await
            .map_err(io_stop)?
    };
    if s.save_temps {
        // 3.4 keeps .stdout/.stderr files; so do we, in the kept directory.
        let _ = std::fs::write(dir.file("stdout"), &outcome.stdout);
        let _ = std::fs::write(dir.file("stderr"), &outcome.stderr);
    }
    let response = Response {
        version: head.version,
        status: outcome.status,
        stderr: outcome.stderr,
        stdout: outcome.stdout,
        object: if outcome.status == 0 {
            read_or_empty(&dir.file("output.o"))
        } else {
            Vec::new()
        },
        dotd: None,
    };
    // Everything is in memory now: clean up before the client hears back.
    drop(dir);
    if let Err(e) = reply(&mut writer, response, s.io_timeout).await {
        if outcome.category == Category::CliDisconn {
            return Ok((outcome.category, outcome.status));
        }
        return Err(Stop {
            category: Category::Other,
            ret: ExitCode::IoError,
            reason: format!("failed to send the reply: {e}"),
            quiet: false,
        });
    }
    Ok((outcome.category, outcome.status))
}

/// Version and argv checks that need no file system.
fn check_head(head: &RequestHead) -> Result<Vec<String>, Stop> {
    if head.version >= 3 {
        return Err(refuse(
            "protocol 3 (pump mode) is not supported by this distccd yet; \
             clients fall back to compiling locally",
        ));
    }
    head.argv
        .iter()
        .enumerate()
        .map(|(i, a)| {
            if a.contains(&0) {
                return Err(refuse(format!("argument {i} contains a NUL byte")));
            }
            String::from_utf8(a.clone()).map_err(|_| {
                refuse(format!(
                    "argument {i} is not valid UTF-8: {:?}",
                    String::from_utf8_lossy(a)
                ))
            })
        })
        .collect()
}

fn read_stop(e: ReadError) -> Stop {
    match e {
        ReadError::Io(e) => Stop {
            category: Category::Other,
            ret: ExitCode::IoError,
            reason: format!("reading the request failed: {e}"),
            quiet: false,
        },
        // Connected and hung up without a byte: a port probe (lsdistcc,
        // a monitoring check) or a client whose preprocessor failed before
        // it wrote anything. 3.4 counts these as OTHER; not worth a warning.
        ReadError::Truncated { have: 0, .. } => Stop {
            category: Category::Other,
            ret: ExitCode::Truncated,
            reason: "client closed the connection without sending a request".into(),
            quiet: true,
        },
        ReadError::Truncated { .. } => Stop {
            category: Category::RejBadReq,
            ret: ExitCode::Truncated,
            reason: e.to_string(),
            quiet: false,
        },
        ReadError::Timeout(_) => Stop {
            category: Category::RejBadReq,
            ret: ExitCode::Timeout,
            reason: e.to_string(),
            quiet: false,
        },
        ReadError::Protocol(p) => refuse(p.to_string()),
    }
}

fn io_stop(e: io::Error) -> Stop {
    Stop {
        category: Category::Other,
        ret: ExitCode::IoError,
        reason: format!("job failed on this server: {e}"),
        quiet: false,
    }
}

fn is_executable(path: &Path) -> bool {
    nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
}

fn read_or_empty(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// What the compile produced.
struct Outcome {
    category: Category,
    status: u32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Run the compiler, watching the client and the clock (spec §4.6).
async fn compile<R: AsyncRead + Unpin>(
    argv: &[String],
    stdin: Option<Vec<u8>>,
    dir: &JobDir,
    inc: &mut Incoming<R>,
    shared: &Shared,
) -> io::Result<Outcome> {
    let s = &shared.settings;
    let mut env = s.compiler_env.clone();
    env.push(("TMPDIR".into(), dir.path().into()));
    let spec = ExecSpec {
        argv: argv.to_vec(),
        cwd: dir.path().to_path_buf(),
        stdin,
        env,
    };
    let mut child = match shared.launcher.launch(spec) {
        Ok(c) => c,
        Err(e) => {
            // 3.4's child reports this in SERR and exits 110 (spec §1.8).
            let code = if is_missing(&e) {
                ExitCode::CompilerMissing
            } else {
                ExitCode::OutOfMemory
            };
            let msg = format!(
                "distccd[{}] (exec) ERROR: failed to exec {}: {e}\n",
                std::process::id(),
                argv[0]
            );
            tracing::warn!("failed to exec {}: {e}", argv[0]);
            return Ok(Outcome {
                category: Category::CompileError,
                status: code.wait_status(),
                stdout: Vec::new(),
                stderr: msg.into_bytes(),
            });
        }
    };
    let mut abort = shared.abort.subscribe();
    let lifetime = async {
        match s.job_lifetime {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    let event = tokio::select! {
        status = child.wait() => Event::Exited(status?),
        () = inc.closed() => Event::ClientGone,
        () = lifetime => Event::Lifetime,
        _ = abort.wait_for(|a| *a) => Event::Abort,
    };
    let (category, status, done) = match event {
        Event::Exited(done) if done.status == 0 => (Category::CompileOk, 0, done),
        Event::Exited(done) => (Category::CompileError, done.status, done),
        Event::ClientGone => {
            tracing::warn!(
                "client disconnected during the compile; killing {}",
                argv[0]
            );
            let done = stop(&mut *child).await;
            (Category::CliDisconn, ExitCode::IoError.wait_status(), done)
        }
        Event::Lifetime => {
            tracing::warn!("compile exceeded --job-lifetime; killing {}", argv[0]);
            let done = stop(&mut *child).await;
            (
                Category::CompileTimeout,
                ExitCode::Timeout.wait_status(),
                done,
            )
        }
        Event::Abort => {
            tracing::warn!("daemon shutting down; killing {}", argv[0]);
            let done = stop(&mut *child).await;
            (Category::Other, ExitCode::Gone.wait_status(), done)
        }
    };
    Ok(Outcome {
        category,
        status,
        stdout: done.stdout,
        stderr: done.stderr,
    })
}

/// What ended the wait for the compiler.
enum Event {
    Exited(Finished),
    ClientGone,
    Lifetime,
    Abort,
}

/// SIGTERM the compiler's group, then SIGKILL if it lingers; always reap.
/// What it printed after the interruption (usually nothing) is returned.
async fn stop(child: &mut dyn Running) -> Finished {
    child.terminate();
    match tokio::time::timeout(KILL_GRACE, child.wait()).await {
        Ok(r) => r.unwrap_or_default(),
        Err(_) => {
            child.kill();
            child.wait().await.unwrap_or_default()
        }
    }
}

async fn reply<W: AsyncWrite + Unpin>(
    writer: &mut W,
    response: Response,
    timeout: Duration,
) -> io::Result<()> {
    let size = response.object.len() + response.stderr.len() + response.stdout.len();
    let encode = move || {
        let mut bytes = response.encode_head();
        response.encode_object(&mut bytes);
        bytes
    };
    let bytes = offload(size, encode).await?;
    let send = async {
        writer.write_all(&bytes).await?;
        writer.flush().await?;
        writer.shutdown().await
    };
    match tokio::time::timeout(timeout, send).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("client did not read the reply for {}s", timeout.as_secs()),
        )),
    }
}
