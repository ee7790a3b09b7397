//! The client's own counters for a build (issue 15): for each compile,
//! where it ran and why, the bytes sent to and received from servers, and
//! the time of each phase, appended as one line to
//! `$DISTCC_DIR/stats/jobs` when the client exits. The line's format is
//! [`crate::state::record`]; `distccmon-text --summary` and
//! `distccmon-tui` read it.
//!
//! Cheap and safe under many concurrent clients: one `open(O_APPEND)`,
//! one `write(2)` of at most [`MAX_LINE`] bytes (kept whole between
//! concurrent appenders), one `fstat`, one `close`, at exit; no lock, and
//! nothing held during the compile. When the file passes [`ROTATE_AT`]
//! the writer that notices renames it to `jobs.1` (replacing the older
//! one), so the two files never hold more than about 8 MiB (some 60,000
//! jobs). `DISTCC_STATS=0` turns the records off. 3.4's lock and state
//! files are untouched.
//!
//! One client process runs one compile, so the counters are process-wide,
//! like the state file (3.4 keeps that in a global too): the job flow
//! calls one-line hooks ([`phase`] from the state-file writer; [`remote`],
//! [`local`], [`nowhere`] and [`host_failed`] from the job driver;
//! [`Counted`] around the connection) and [`finish`] writes the line. The bookkeeping is [`Recorder`], pure and tested.

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::args::LocalReason;
use crate::client::slots::{homes, hoststate, jobcost};
use crate::state::Phase;
use crate::state::record::{JobRecord, MAX_LINE, Ran};

/// The records' directory under the top directory.
pub const DIR: &str = "stats";
/// The file appended to.
pub const FILE: &str = "jobs";
/// The previous file, after a rotation.
pub const OLD_FILE: &str = "jobs.1";
/// Size past which the file is rotated.
pub const ROTATE_AT: u64 = 4 << 20;

/// The counters of one compile. Pure: every time is passed in.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    started: Option<Instant>,
    current: Option<(usize, Instant)>,
    phase: [Duration; 5],
    ran: Option<Ran>,
    why: String,
    host: String,
    failed: Vec<String>,
    file: String,
}

/// The index in [`crate::state::record::PHASES`] of a monitor phase.
fn phase_index(p: Phase) -> Option<usize> {
    match p {
        Phase::Connect => Some(0),
        Phase::Preprocess => Some(1),
        Phase::Send => Some(2),
        Phase::Compile => Some(3),
        Phase::Receive => Some(4),
        Phase::Startup | Phase::Blocked | Phase::Done => None,
    }
}

impl Recorder {
    /// An empty recorder (usable in a `static`).
    pub const fn new() -> Self {
        Self {
            started: None,
            current: None,
            phase: [Duration::ZERO; 5],
            ran: None,
            why: String::new(),
            host: String::new(),
            failed: Vec::new(),
            file: String::new(),
        }
    }

    /// The source file's name (an empty name keeps the one known).
    pub fn file(&mut self, name: &str) {
        if !name.is_empty() {
            self.file = name.to_owned();
        }
    }

    /// The compile starts.
    pub fn start(&mut self, now: Instant) {
        self.started = Some(now);
    }

    /// The job entered `p` (the state file's phase).
    pub fn phase(&mut self, p: Phase, now: Instant) {
        self.close(now);
        self.current = phase_index(p).map(|i| (i, now));
    }

    fn close(&mut self, now: Instant) {
        if let Some((i, since)) = self.current.take() {
            self.phase[i] += now.saturating_duration_since(since);
        }
    }

    /// Where the compiler runs and why (`why` empty for a remote job),
    /// on which host (a lock id; empty for none). The last call wins: a
    /// remote compile that failed and is retried here says so twice.
    pub fn ran(&mut self, ran: Ran, why: &str, host: &str) {
        self.ran = Some(ran);
        self.why = why.to_owned();
        if !host.is_empty() {
            self.host = host.to_owned();
        }
    }

    /// A host failed during this job.
    pub fn host_failed(&mut self, host: &str) {
        self.failed.push(host.to_owned());
        self.host = host.to_owned();
    }

    /// The record of the finished job; `None` when nothing was decided
    /// (the client never got to compiling).
    pub fn record(
        &mut self,
        now: Instant,
        end_ms: u64,
        exit: i32,
        bytes: (u64, u64),
    ) -> Option<JobRecord> {
        self.close(now);
        let ran = self.ran?;
        let ms = |d: Duration| d.as_millis() as u64;
        Some(JobRecord {
            end_ms,
            pid: std::process::id(),
            ran: Some(ran),
            why: self.why.clone(),
            host: if ran == Ran::Local && self.host.is_empty() {
                "localhost".into()
            } else {
                self.host.clone()
            },
            failed: self.failed.clone(),
            sent: bytes.0,
            received: bytes.1,
            phase_ms: self.phase.map(ms),
            total_ms: self
                .started
                .map_or(0, |s| ms(now.saturating_duration_since(s))),
            exit,
            file: self.file.clone(),
        })
    }
}

static JOB: Mutex<Recorder> = Mutex::new(Recorder::new());
static SENT: AtomicU64 = AtomicU64::new(0);
static RECEIVED: AtomicU64 = AtomicU64::new(0);
static SIZE: AtomicU64 = AtomicU64::new(0);
static COST_KEY: AtomicU64 = AtomicU64::new(0);
static STATUS: Mutex<Option<(String, crate::protocol::ext::Status)>> = Mutex::new(None);

fn with(f: impl FnOnce(&mut Recorder)) {
    f(&mut JOB.lock().unwrap_or_else(|e| e.into_inner()));
}

/// The compile starts (the total time runs from here).
pub fn start() {
    with(|r| r.start(Instant::now()));
}

/// The source file's name (no directory), as the state file shows it.
pub fn file(name: &str) {
    with(|r| r.file(name));
}

/// The job entered phase `p` (called by the state-file writer).
pub fn phase(p: Phase) {
    with(|r| r.phase(p, Instant::now()));
}

/// The compile runs remotely on `host` (a lock id).
pub fn remote(host: &str) {
    with(|r| r.ran(Ran::Remote, "", host));
}

/// The compile runs here, because of `why` (a fallback of
/// [`crate::state::record::FALLBACKS`], or why the job belongs here).
pub fn local(why: &str) {
    with(|r| r.ran(Ran::Local, why, ""));
}

/// No compiler runs: `why` (the preprocessor failed).
pub fn nowhere(why: &str) {
    with(|r| r.ran(Ran::Nowhere, why, ""));
}

/// `host` (a lock id) failed during this job.
pub fn host_failed(host: &str) {
    with(|r| r.host_failed(host));
}

/// The reason word of a job the argument scan keeps here.
pub fn local_reason(reason: &LocalReason) -> &'static str {
    match reason {
        LocalReason::PreprocessOnly => "preprocess-only",
        LocalReason::DependencyOnly(_) => "dependency-only",
        LocalReason::Native(_) => "native",
        LocalReason::Lto => "lto",
        LocalReason::AssemblerListing(_) => "assembler-listing",
        LocalReason::Specs(_) => "specs",
        LocalReason::Profile(_) => "profile",
        LocalReason::Repo => "repo",
        LocalReason::Language(_) => "language",
        LocalReason::RtlDump(_) => "rtl-dump",
        LocalReason::NotCompiling => "not-compiling",
        LocalReason::NoInput => "no-input",
        LocalReason::TwoInputs(..) => "two-inputs",
        LocalReason::TwoOutputs(..) => "two-outputs",
        LocalReason::MissingOutput => "missing-output",
        LocalReason::Conftest(_) => "conftest",
        LocalReason::OutputToStdout => "output-to-stdout",
        LocalReason::Refused { .. } => "refused-option",
        LocalReason::Query(_) => "query",
        LocalReason::ExtraWord(_) => "extra-word",
        LocalReason::MissingValue(_) => "missing-value",
        LocalReason::TooLarge(_) => "too-large",
        LocalReason::SideOutput(_) => "side-output",
    }
}

/// The bytes sent to servers so far.
pub fn sent() -> u64 {
    SENT.load(Ordering::Relaxed)
}

/// Note the size of the job's input as the compiler sees it: the
/// preprocessed text, or in pump mode the source and every header. Speed
/// figures and racing measure compile time against this, not against the
/// bytes on the wire, which zstd, LZO and the header cache shrink by
/// different factors for the same work.
pub fn set_size(bytes: u64) {
    SIZE.store(bytes, Ordering::Relaxed);
}

/// Note which job this is (its [`jobcost::key`]: its cost is looked up
/// to judge it late and noted when it compiled remotely).
pub fn set_job(job: &crate::args::Job) {
    let key = std::env::current_dir().map_or(0, |cwd| jobcost::key(&cwd, job));
    COST_KEY.store(key, Ordering::Relaxed);
}

/// The key noted by [`set_job`] (0: none).
pub fn cost_key() -> u64 {
    COST_KEY.load(Ordering::Relaxed)
}

/// Note the status `lock_id`'s daemon sent before its reply (the
/// extension's `XSTA`), written with the job's speed figure at the end:
/// one write of the host's line per job, not one per item.
pub fn set_status(lock_id: &str, status: crate::protocol::ext::Status) {
    *STATUS.lock().unwrap_or_else(|e| e.into_inner()) = Some((lock_id.to_owned(), status));
}

/// The size noted by [`set_size`] (0 before a job was sent).
pub fn size() -> u64 {
    SIZE.load(Ordering::Relaxed)
}

/// A connection that counts the bytes through it.
#[derive(Debug)]
pub struct Counted<'a, T>(pub &'a mut T);

impl<T: Read> Read for Counted<'_, T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        RECEIVED.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<T: Write> Write for Counted<'_, T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.0.write(buf)?;
        SENT.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let n = self.0.write_vectored(bufs)?;
        SENT.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// The records' files under `topdir`: the current one and the previous.
pub fn files(topdir: &Path) -> [PathBuf; 2] {
    let dir = topdir.join(DIR);
    [dir.join(OLD_FILE), dir.join(FILE)]
}

/// Append the record of this compile, which exits with `exit`, to
/// `$DISTCC_DIR/stats/jobs` (when `topdir` is known and a record is
/// due). Errors are ignored: counting must never fail a compile.
///
/// A successful remote compile also teaches the placement its host's
/// speed ([`crate::client::slots::hoststate`]), the job's cost
/// ([`jobcost`]) and, for a pump job, its source's home ([`homes`]),
/// records or not.
pub fn finish(topdir: Option<&Path>, exit: i32, write_record: bool) {
    let Some(topdir) = topdir else { return };
    let end_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let bytes = (
        SENT.load(Ordering::Relaxed),
        RECEIVED.load(Ordering::Relaxed),
    );
    let mut rec = JOB.lock().unwrap_or_else(|e| e.into_inner());
    let Some(record) = rec.record(Instant::now(), end_ms, exit, bytes) else {
        return;
    };
    // The status goes with the figure when both are this host's; else
    // (a failed job, a host left for another) on its own.
    let status = STATUS.lock().unwrap_or_else(|e| e.into_inner()).take();
    let succeeded = record.ran == Some(Ran::Remote) && exit == 0;
    let (with_figure, alone) = match status {
        Some((id, s)) if succeeded && id == record.host => (Some(s), None),
        other => (None, other),
    };
    if let Some((id, s)) = alone {
        hoststate::record_status(topdir, &id, &s);
    }
    if succeeded {
        // The host's sample within reach of its figure, and the job's
        // cost by that figure.
        let (sample, cost) = jobcost::learn(
            record.phase_ms[3] as f64,
            size(),
            hoststate::speed(topdir, &record.host),
        );
        hoststate::record(topdir, &record.host, sample, size(), with_figure.as_ref());
        if let Some(cost) = cost {
            jobcost::note(topdir, cost_key(), cost);
        }
        homes::finish(topdir, &record.host, record.phase_ms[3]);
    }
    if write_record {
        let _ = append(&topdir.join(DIR), &record.encode());
    }
}

/// One `write(2)` to `dir/jobs` (created 0777 and 0666 less the umask, like
/// 3.4's lock and state files), then rotate it when it has grown too big.
pub fn append(dir: &Path, line: &str) -> io::Result<()> {
    debug_assert!(line.len() <= MAX_LINE);
    let path = dir.join(FILE);
    let mut f = match OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o666)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o777)
                .create(dir)?;
            OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o666)
                .open(&path)?
        }
        Err(e) => return Err(e),
    };
    f.write_all(line.as_bytes())?;
    let meta = f.metadata()?;
    if meta.len() >= ROTATE_AT {
        // Only the file we wrote to: another client may have rotated it
        // already, and the new one must not go at once.
        let same = std::fs::metadata(&path).is_ok_and(|m| m.ino() == meta.ino());
        if same {
            std::fs::rename(&path, dir.join(OLD_FILE))?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
