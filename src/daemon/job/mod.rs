//! One connection, one job (spec §4.5, §4.6): read the request, check it,
//! compile, reply. Only what is received and how the compile is set up
//! depend on the protocol: [`super::plain`] for 1 and 2, [`super::pumpjob`]
//! for 3 (pump mode). The checks before, and the compile and reply after
//! ([`super::compile`]), are the same for every version.
//!
//! Every refusal is a close without a reply, as in 3.4 (spec §1.8): the
//! client sees no DONE and compiles locally. Nothing is left in `$TMPDIR`
//! on any path: all files live in the job's [`JobDir`](super::jobdir::JobDir).
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
//!
//! Here: the shared state, the request's intake and checks. By
//! responsibility below: `finish` (the compile slot, the compile and the
//! reply) and `stop` (the early ends and how they are counted).

mod finish;
mod stop;

use finish::finish;
pub(super) use finish::{OUTPUT, Prepared};
pub(super) use stop::{Stop, io_stop, read_stop, read_stop_after_head, refuse};

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, watch};
use tracing::trace;

use super::bodybase;
use super::compiler_id;
use super::exec::Launcher;
use super::extension;
use super::hdrstore::HeaderStore;
use super::incoming::pending::{Caps, Pending, Ticket};
use super::incoming::{Incoming, ReadError};
use super::jobdir::JobDirs;
use super::mirror::ClientPath;
use super::plain;
use super::policy::Policy;
use super::pumpargs;
use super::pumpjob;
use super::reqref;
use super::stats::Stats;
use super::summary::{Category, Summary};
use crate::args::os::line;
use crate::args::{self, Job, Scan};
use crate::error::ExitCode;
use crate::logging::{REASON_MAX, clip, clip_to};
use crate::protocol::ext::cap;
use crate::protocol::{Limits, RequestHead, server_cpp};

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
    /// `--inetd`: one process per connection, so nothing learnt from one
    /// client (the identities of its compilers) is there for the next.
    pub inetd: bool,
    /// The largest pump mirror kept for the next pump job, in bytes as
    /// [`super::pumpjob`] counts them (its files plus a block per entry);
    /// a bigger one is removed when its job ends.
    pub kept_tree_max: u64,
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
    /// Texts of pump requests, the bases of requests by reference (on
    /// with the header cache).
    pub requests: Option<HeaderStore>,
    /// Bases of protocol 2 bodies sent as deltas (on with the header
    /// cache, not with `--inetd`).
    pub bases: Option<HeaderStore>,
    /// The compilers' identities (the extension's compiler check).
    pub compiler_ids: compiler_id::Known,
    /// The digests of the system headers pump jobs read (the extension's
    /// `SYSTEM_HEADERS`).
    pub system_headers: crate::daemon::syslist::Digests,
}

impl Shared {
    /// Shared state with a fresh abort switch.
    pub fn new(settings: JobSettings, launcher: Box<dyn Launcher>, stats: Stats) -> Self {
        Self {
            dirs: JobDirs::new(&settings.tmpdir, settings.save_temps),
            headers: (settings.header_cache > 0).then(|| HeaderStore::new(settings.header_cache)),
            requests: (settings.header_cache > 0)
                .then(|| HeaderStore::new(settings.header_cache / reqref::SHARE)),
            bases: (settings.header_cache > 0 && !settings.inetd)
                .then(|| HeaderStore::new(settings.header_cache / bodybase::SHARE)),
            settings,
            launcher,
            compile_slots: Semaphore::new(stats.max_kids().max(1) as usize),
            pending: Arc::new(Pending::new(Caps::UNLIMITED)),
            stats,
            abort: watch::channel(false).0,
            waiting: AtomicU32::new(0),
            compiler_ids: compiler_id::Known::default(),
            system_headers: Default::default(),
        }
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
        // Our client may leave after its choice, before a request, and
        // send the job on another connection (docs/extension.md §8): a
        // close there is no refusal.
        let chosen = inc.consumed();
        inc.next_token().await.map_err(|e| match e {
            ReadError::Truncated { have, .. } if have == chosen => Stop {
                category: Category::Other,
                ret: ExitCode::Truncated,
                reason: "client closed after its choice, before a request".into(),
                quiet: true,
            },
            e => read_stop(e),
        })?;
    }
    // A pump request by reference brings its manifest with its head.
    let by_ref = match (&session, &shared.requests) {
        (Some(x), Some(store))
            if x.choice.has(cap::REQUEST_REF) && x.choice.has(cap::HEADER_CACHE) =>
        {
            let next = inc.next_token().await.map_err(read_stop)?;
            match &next {
                b"XREF" => Some(reqref::receive(&mut inc, &mut writer, store, s).await?),
                _ => None,
            }
        }
        _ => None,
    };
    let (head, items) = match by_ref {
        Some(r) => (r.head, Some(r.items)),
        None => (inc.head(&s.limits).await.map_err(read_stop)?, None),
    };
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
    let dir = shared.dirs.take(cwd.is_some()).map_err(|e| Stop {
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
            let cached = cached.map(|(store, w)| (store, w, items));
            let outputs = session
                .as_ref()
                .is_some_and(|x| x.choice.has(cap::OUTPUTS) && x.choice.has(cap::PUMP_OUTPUTS));
            let system = session
                .as_ref()
                .is_some_and(|x| x.choice.has(cap::SYSTEM_HEADERS));
            pumpjob::receive(
                &mut inc,
                head.version,
                &cwd,
                &job,
                &dir,
                s,
                cached,
                outputs,
                system,
            )
            .await?
        }
        None => {
            let outputs = session.as_ref().is_some_and(|x| x.choice.has(cap::OUTPUTS));
            let based = shared
                .bases
                .as_ref()
                .filter(|_| {
                    session
                        .as_ref()
                        .is_some_and(|x| x.choice.has(cap::BODY_BASE) && x.choice.has(cap::ZSTD))
                })
                .map(|store| (store, &mut writer));
            plain::receive(&mut inc, head.version, &job, &dir, s, outputs, based).await?
        }
    };
    // Only now, with the whole request read, so a client refused here
    // is not writing into a closed connection.
    let session = match session {
        Some(x) if x.choice.has(cap::COMPILER_ID) => {
            Some(compiler_id::apply(x, &job.argv[0], &mut inc, &mut writer, shared).await?)
        }
        x => x,
    };
    finish(prepared, head.version, dir, inc, writer, shared, session).await
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

fn is_executable(path: &Path) -> bool {
    nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
}
