//! The end of every job, whatever its protocol: take a compile slot,
//! compile (with heartbeats in the extension), clean up, reply.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};
use tracing::{debug, trace};

use super::{Shared, Stop, io_stop};
use crate::args;
use crate::args::os::line;
use crate::daemon::compile::{compile, reply};
use crate::daemon::extension::{self, Session};
use crate::daemon::incoming::Incoming;
use crate::daemon::jobdir::JobDir;
use crate::daemon::pumpjob;
use crate::daemon::summary::Category;
use crate::error::ExitCode;
use crate::protocol::Response;
use crate::protocol::codec::Codec;
use crate::protocol::ext::{Before, cap};

/// A received job, ready to compile.
pub(in crate::daemon) struct Prepared {
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
pub(in crate::daemon) const OUTPUT: &str = "output.o";

/// Every version: take a compile slot, compile, clean up, reply.
pub(in crate::daemon) async fn finish<R, W>(
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
    let raw = match &job.dotd {
        // spec §1.5: DOTD only on success.
        Some(plan) if ok => Some(plan.read().map_err(|e| Stop {
            category: Category::Other,
            ret: ExitCode::IoError,
            reason: format!("cannot read the compiler's dependency file: {e}"),
            quiet: false,
        })?),
        _ => None,
    };
    let dotd = job
        .dotd
        .as_ref()
        .zip(raw.as_deref())
        .map(|(p, r)| p.reply(r));
    let system = match (&session, &job.dotd, &raw) {
        (Some(x), Some(plan), Some(raw)) if x.choice.has(cap::SYSTEM_HEADERS) => {
            system_list(plan, raw, x, version, shared)
        }
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
    let (codec, mut before) = match &session {
        Some(x) => (x.codec(version), x.before_done(shared)),
        None => (Codec::for_version(version), Vec::new()),
    };
    if let Some(item) = system {
        item.encode(&mut before);
    }
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

/// The system headers the compile read (docs/extension.md §13), for a
/// client that asked: `None` when no list can be made (its `-MMD` left
/// them out of the dependency file, or a header is gone), which the
/// client takes as a list that differs.
fn system_list(
    plan: &pumpjob::Dotd,
    raw: &[u8],
    session: &Session,
    version: u32,
    shared: &Shared,
) -> Option<Before> {
    let Some((deps, root, cwd)) = plan.listing(raw) else {
        debug!("no list of system headers: the client's -MMD leaves them out");
        return None;
    };
    let known = &session.choice.sys_known;
    let codec = session.codec(version);
    match shared.system_headers.item(deps, root, cwd, known, codec) {
        Ok(item) => Some(item),
        Err(e) => {
            debug!("no list of system headers: {e}");
            None
        }
    }
}

fn read_or_empty(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}
