//! One connection, one job (spec §4.5, §4.6): read the request, check it,
//! compile, reply. Only what is received and how the compile is set up
//! depend on the protocol: [`super::plain`] for 1 and 2, [`super::pumpjob`]
//! for 3 (pump mode). The checks before, and the compile and reply after
//! ([`super::compile`]), are the same for every version.
//!
//! Every refusal is a close without a reply, as in 3.4 (spec §1.8): the
//! client sees no DONE and compiles locally. Nothing is left in `$TMPDIR`
//! on any path: all files live in the job's [`JobDir`].
//!
//! The compiler's stdout and stderr come back in in-memory files
//! (memfds), so a normal job creates no file besides its output.
//!
//! At `--log-level debug` (`--verbose`, `--wizard`) every step is logged,
//! as 3.4 does: the request (protocol, arguments), what was received and
//! how long it took, the command run, the compiler's status and time, the
//! reply sent. The info level is unchanged: the connection and the summary.
//!
//! Generic over the stream halves so tests can drive it through an
//! in-memory pipe and a fake compiler.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, watch};
use tracing::trace;

use super::compile::{compile, reply};
use super::compiler_id;
use super::exec::Launcher;
use super::extension::{self, Session};
use super::hdrstore::HeaderStore;
use super::incoming::pending::{Caps, Pending, Ticket};
use super::incoming::{Incoming, ReadError};
use super::jobdir::{JobDir, JobDirs};
use super::mirror::ClientPath;
use super::plain;
use super::policy::Policy;
use super::pumpargs;
use super::pumpjob;
use super::stats::Stats;
use super::summary::{Category, Summary};
use crate::args::os::line;
use crate::args::{self, Job, Scan};
use crate::error::ExitCode;
use crate::logging::{REASON_MAX, clip, clip_to};
use crate::protocol::codec::Codec;
use crate::protocol::ext::cap;
use crate::protocol::token::HEADER_LEN;
use crate::protocol::{Limits, RequestHead, Response, server_cpp};

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
    /// `--header-cache-size` in bytes (0: no header cache).
    pub header_cache: u64,
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
    /// The open connections and the memory their requests use (caps set
    /// by the accept loop).
    pub pending: Arc<Pending>,
    /// Jobs received and waiting for a compile slot (the extension's
    /// status).
    pub waiting: AtomicU32,
    /// The extension's header cache, if on.
    pub headers: Option<HeaderStore>,
    /// The compilers' identities (the extension's compiler check).
    pub compiler_ids: compiler_id::Known,
}

impl Shared {
    /// Shared state with a fresh abort switch.
    pub fn new(settings: JobSettings, launcher: Box<dyn Launcher>, stats: Stats) -> Self {
        Self {
            dirs: JobDirs::new(&settings.tmpdir, settings.save_temps),
            headers: (settings.header_cache > 0).then(|| HeaderStore::new(settings.header_cache)),
            settings,
            launcher,
            compile_slots: Semaphore::new(stats.max_kids().max(1) as usize),
            pending: Arc::new(Pending::new(Caps::UNLIMITED)),
            stats,
            abort: watch::channel(false).0,
            waiting: AtomicU32::new(0),
            compiler_ids: compiler_id::Known::default(),
        }
    }
}

/// An early end of a job: the category and what to log.
pub(super) struct Stop {
    pub category: Category,
    pub ret: ExitCode,
    pub reason: String,
    /// Logged at info instead of as a warning (nothing was refused).
    pub quiet: bool,
}

/// Reading the part of a request that follows its head (the source, or
/// the file count) failed. A client that hangs up right there, before a
/// byte of it, has given up on the job (its preprocessor failed, spec
/// §1.5): 3.4 counts that as OTHER, not as a bad request (issue 11).
pub(super) fn read_stop_after_head(e: ReadError, what: &str) -> Stop {
    match e {
        ReadError::Truncated { have, want } if want - have == HEADER_LEN => Stop {
            category: Category::Other,
            ret: ExitCode::Truncated,
            reason: format!(
                "client closed the connection instead of sending {what} \
                 (its preprocessor failed, or it gave up)"
            ),
            quiet: true,
        },
        e => read_stop(e),
    }
}

/// A bad request: no reply, REJ_BAD_REQ.
pub(super) fn refuse(reason: impl Into<String>) -> Stop {
    Stop {
        category: Category::RejBadReq,
        ret: ExitCode::ProtocolError,
        reason: reason.into(),
        quiet: false,
    }
}

/// Serve one connection: `reader`/`writer` are its two halves, `peer` is
/// how the client is named in logs, `ticket` its row in the daemon's
/// table of connections.
pub async fn serve<R, W>(
    reader: R,
    writer: W,
    peer: &str,
    ticket: Ticket,
    shared: &Shared,
) -> Summary
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let start = Instant::now();
    let mut compiler = None;
    let mut input = None;
    let result = run(reader, writer, ticket, shared, &mut compiler, &mut input).await;
    let (category, status, ret) = match result {
        Ok((category, status)) => (category, status, 0),
        Err(stop) => {
            // The reason may quote the client's bytes: cut (issue 10).
            let reason = clip_to(&stop.reason, REASON_MAX);
            if stop.quiet {
                tracing::info!("{peer}: {reason}");
            } else {
                tracing::warn!("refused request from {peer}: {reason}");
            }
            (stop.category, 0, stop.ret.code())
        }
    };
    let compiler = compiler.map(|c| clip(&c).to_string());
    let input = input.map(|i| clip(&i).to_string());
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
    ticket: Ticket,
    shared: &Shared,
    compiler: &mut Option<String>,
    input: &mut Option<String>,
) -> Result<(Category, u32), Stop>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let s = &shared.settings;
    let mut inc = Incoming::with_ticket(reader, s.io_timeout, ticket);
    let session = extension::open(&mut inc, &mut writer, shared).await?;
    if let Some(session) = &session {
        trace!("client speaks {}", session.describe());
    }
    let head = inc.head(&s.limits).await.map_err(read_stop)?;
    let (argv, cwd) = check_head(&head)?;
    trace!(
        "request: protocol {}, {} arguments: {}{}",
        head.version,
        argv.len(),
        line(&argv).escape_debug(),
        cwd.as_ref()
            .map_or(String::new(), |c| format!("; client's directory {c}"))
    );
    let argv = if cwd.is_some() {
        pumpargs::drop_client_mf(argv)
    } else {
        argv
    };
    *compiler = argv.first().map(|c| c.to_string_lossy().into_owned());
    // spec §4.5 step 3, through the option table the client reads too: a
    // job our client sends is never refused here for its arguments.
    let sysroot = s.policy.sysroot.as_deref().map(Path::as_os_str);
    let job = match args::scan_with(&argv, sysroot) {
        Scan::Distribute(job) => job,
        Scan::Local(why) => return Err(refuse(format!("not a distributable compile: {why}"))),
    };
    *input = Some(job.input.to_string_lossy().into_owned());
    let policy_stop = |why| Stop {
        category: Category::RejBadReq,
        ret: ExitCode::CompilerMissing,
        reason: why,
        quiet: false,
    };
    let job = match &cwd {
        // Pump mode runs the preprocessor here: what it may read is checked.
        Some(cwd) => {
            pumpargs::check(&job.argv, cwd.depth()).map_err(refuse)?;
            job
        }
        // Protocols 1 and 2: the input is preprocessed and preprocessor
        // options are inert; they are dropped, so none can matter.
        None => args::without_preprocessor_options(&job),
    };
    let argv = s
        .policy
        .check(job.argv.clone(), is_executable)
        .map_err(policy_stop)?;
    trace!("compiler allowed: {}", argv[0].to_string_lossy());
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
    trace!("job directory {}", dir.path().display());
    let prepared = match cwd {
        Some(cwd) => {
            // With the header cache, the files come by digest and the
            // daemon answers which it lacks, on the same connection.
            let cached = shared
                .headers
                .as_ref()
                .filter(|_| {
                    session
                        .as_ref()
                        .is_some_and(|x| x.choice.has(cap::HEADER_CACHE))
                })
                .map(|store| (store, &mut writer));
            pumpjob::receive(&mut inc, head.version, &cwd, &job, &dir, s, cached).await?
        }
        None => {
            let outputs = session.as_ref().is_some_and(|x| x.choice.has(cap::OUTPUTS));
            plain::receive(&mut inc, head.version, &job, &dir, s, outputs).await?
        }
    };
    // Only now, with the whole request read, so a client refused here
    // is not writing into a closed connection.
    let session = match session {
        Some(x) if x.choice.has(cap::COMPILER_ID) => {
            Some(compiler_id::apply(x, &job.argv[0], &mut writer, shared).await?)
        }
        x => x,
    };
    finish(prepared, head.version, dir, inc, writer, shared, session).await
}

/// A received job, ready to compile.
pub(super) struct Prepared {
    /// The compiler's command line.
    pub argv: Vec<OsString>,
    /// Its stdin (None: /dev/null).
    pub stdin: Option<Vec<u8>>,
    /// Its working directory.
    pub cwd: PathBuf,
    /// Protocol 3: how to make the DOTD reply.
    pub dotd: Option<pumpjob::Dotd>,
    /// Where the compiler writes the object.
    pub output: PathBuf,
    /// The side files to send back in `XOUT` (the extension's `OUTPUTS`):
    /// their names for the client and where the compiler writes them.
    pub side: Vec<(OsString, PathBuf)>,
}

/// The compiler's output file in the job directory.
pub(super) const OUTPUT: &str = "output.o";

/// Every version: take a compile slot, compile, clean up, reply.
async fn finish<R, W>(
    job: Prepared,
    version: u32,
    dir: JobDir,
    mut inc: Incoming<R>,
    mut writer: W,
    shared: &Shared,
    session: Option<Session>,
) -> Result<(Category, u32), Stop>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let s = &shared.settings;
    let work = async {
        let waited = Instant::now();
        shared.waiting.fetch_add(1, Ordering::Relaxed);
        let slot = shared.compile_slots.acquire().await;
        shared.waiting.fetch_sub(1, Ordering::Relaxed);
        let _slot = slot.expect("the compile semaphore is never closed");
        trace!(
            "compile slot taken after {} ms; compile command (in {}): {}",
            waited.elapsed().as_millis(),
            job.cwd.display(),
            line(&job.argv)
        );
        compile(&job.argv, job.stdin, &job.cwd, &dir, &mut inc, shared).await
    };
    let beat = session.as_ref().and_then(Session::heartbeat);
    let outcome = extension::beating(beat, &mut writer, s.io_timeout, work)
        .await
        .map_err(io_stop)?;
    if s.save_temps {
        // 3.4 keeps .stdout/.stderr files; so do we, in the kept directory.
        let _ = std::fs::write(dir.file("stdout"), &outcome.stdout);
        let _ = std::fs::write(dir.file("stderr"), &outcome.stderr);
    }
    let ok = outcome.status == 0;
    let dotd = match &job.dotd {
        // spec §1.5: DOTD only on success.
        Some(plan) if ok => Some(plan.read().map_err(|e| Stop {
            category: Category::Other,
            ret: ExitCode::IoError,
            reason: format!("cannot read the compiler's dependency file: {e}"),
            quiet: false,
        })?),
        _ => None,
    };
    let response = Response {
        version,
        status: outcome.status,
        stderr: outcome.stderr,
        stdout: outcome.stdout,
        object: if ok {
            read_or_empty(&job.output)
        } else {
            Vec::new()
        },
        dotd,
    };
    // With OUTPUTS, XOUT follows every reply: what the compiler made of
    // the expected names, nothing on failure.
    let wants_side = session.as_ref().is_some_and(|x| x.choice.has(cap::OUTPUTS));
    let side = wants_side.then(|| {
        job.side
            .iter()
            .filter(|_| ok)
            .filter_map(|(name, path)| {
                let data = std::fs::read(path).ok()?;
                Some((args::os::bytes(name).to_vec(), data))
            })
            .collect::<Vec<_>>()
    });
    // Everything is in memory now: clean up before the client hears back.
    drop(dir);
    let (codec, before) = match &session {
        Some(x) => (x.codec(version), x.before_done(shared)),
        None => (Codec::for_version(version), Vec::new()),
    };
    if let Err(e) = reply(&mut writer, response, codec, before, side, s.io_timeout).await {
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

/// Version and argv checks that need no file system; for protocol 3 also
/// the client's working directory.
fn check_head(head: &RequestHead) -> Result<(Vec<OsString>, Option<ClientPath>), Stop> {
    let cwd = match &head.cwd {
        Some(cwd) if server_cpp(head.version) => {
            Some(ClientPath::parse("CDIR", cwd).map_err(refuse)?)
        }
        _ => None,
    };
    let argv = head
        .argv
        .iter()
        .enumerate()
        .map(|(i, a)| {
            // Any bytes but NUL: file names need not be UTF-8 (issue 10).
            if a.contains(&0) {
                return Err(refuse(format!("argument {i} contains a NUL byte")));
            }
            Ok(args::os::os_string(a.clone()))
        })
        .collect::<Result<_, _>>()?;
    Ok((argv, cwd))
}

pub(super) fn read_stop(e: ReadError) -> Stop {
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
        ReadError::Timeout(_) | ReadError::TooSlow { .. } => Stop {
            category: Category::RejBadReq,
            ret: ExitCode::Timeout,
            reason: e.to_string(),
            quiet: false,
        },
        // The daemon, not the request, is short of room (3.4's category
        // for "too busy", which 3.4 itself never uses).
        ReadError::Dropped(_) | ReadError::NoMemory(_) => Stop {
            category: Category::RejOverload,
            ret: ExitCode::Busy,
            reason: e.to_string(),
            quiet: false,
        },
        ReadError::Refused(why) => refuse(why),
        ReadError::Protocol(p) => refuse(p.to_string()),
    }
}

pub(super) fn io_stop(e: io::Error) -> Stop {
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
