//! The end of every job, whatever its protocol: take a compile slot,
//! compile (with heartbeats in the extension), clean up, reply.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};
use tracing::trace;

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
use crate::protocol::ext::cap;

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

fn read_or_empty(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}
