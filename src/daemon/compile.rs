//! Running the compiler for a job and sending the reply (spec §4.5 steps
//! 7-8, §4.6): the wait races the compiler against the client hanging up,
//! `--job-lifetime` and the daemon's abort switch; whatever ends it, the
//! compiler's process group is stopped and reaped. Shared by every
//! protocol version ([`super::job`], [`super::pumpjob`]).

use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::exec::{ExecSpec, Finished, Running, is_missing};
use super::incoming::{Incoming, offload};
use super::job::Shared;
use super::jobdir::JobDir;
use super::summary::Category;
use crate::error::ExitCode;
use crate::protocol::Response;
use crate::protocol::codec::Codec;
use crate::protocol::ext;

/// How long a terminated compiler gets before SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// What the compile produced.
pub(super) struct Outcome {
    /// How the job ended, for the summary line.
    pub category: Category,
    /// The wait status to send in STAT.
    pub status: u32,
    /// The compiler's stdout.
    pub stdout: Vec<u8>,
    /// The compiler's stderr.
    pub stderr: Vec<u8>,
}

/// Run the compiler in `cwd` with the job directory as its TMPDIR,
/// watching the client and the clock (spec §4.6).
pub(super) async fn compile<R: AsyncRead + Unpin>(
    argv: &[OsString],
    stdin: Option<Vec<u8>>,
    cwd: &Path,
    dir: &JobDir,
    inc: &mut Incoming<R>,
    shared: &Shared,
) -> io::Result<Outcome> {
    let s = &shared.settings;
    let mut env = s.compiler_env.clone();
    env.push(("TMPDIR".into(), dir.path().into()));
    let spec = ExecSpec {
        argv: argv.to_vec(),
        cwd: cwd.to_path_buf(),
        stdin,
        env,
        job_dir: Some(dir.path().to_path_buf()),
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
                argv[0].to_string_lossy()
            );
            tracing::warn!("failed to exec {}: {e}", argv[0].to_string_lossy());
            return Ok(Outcome {
                category: Category::CompileError,
                status: code.wait_status(),
                stdout: Vec::new(),
                stderr: msg.into_bytes(),
            });
        }
    };
    let started = Instant::now();
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
                argv[0].to_string_lossy()
            );
            let done = stop(&mut *child).await;
            (Category::CliDisconn, ExitCode::IoError.wait_status(), done)
        }
        Event::Lifetime => {
            tracing::warn!(
                "compile exceeded --job-lifetime; killing {}",
                argv[0].to_string_lossy()
            );
            let done = stop(&mut *child).await;
            (
                Category::CompileTimeout,
                ExitCode::Timeout.wait_status(),
                done,
            )
        }
        Event::Abort => {
            tracing::warn!(
                "daemon shutting down; killing {}",
                argv[0].to_string_lossy()
            );
            let done = stop(&mut *child).await;
            (Category::Other, ExitCode::Gone.wait_status(), done)
        }
    };
    tracing::trace!(
        "{} exited with status {status} after {} ms (stdout {} bytes, stderr {} bytes)",
        argv[0].to_string_lossy(),
        started.elapsed().as_millis(),
        done.stdout.len(),
        done.stderr.len()
    );
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

/// Send the reply and close our side, within the IO timeout: `before`
/// (the extension's items before DONE, empty for 3.4 clients), then the
/// 3.4 reply with its bodies in `codec`, then `XOUT` with the `side`
/// files when the client chose `OUTPUTS`.
pub(super) async fn reply<W: AsyncWrite + Unpin>(
    writer: &mut W,
    response: Response,
    codec: Codec,
    before: Vec<u8>,
    side: Option<Vec<(Vec<u8>, Vec<u8>)>>,
    timeout: Duration,
) -> io::Result<()> {
    let side_size: usize = side.iter().flatten().map(|(_, d)| d.len()).sum();
    let size = response.object.len() + response.stderr.len() + response.stdout.len() + side_size;
    let started = Instant::now();
    let what = format!(
        "DONE{:08x} STAT{:08x} SERR {} bytes, SOUT {} bytes, DOTO {} bytes{}",
        response.version,
        response.status,
        response.stderr.len(),
        response.stdout.len(),
        response.object.len(),
        response
            .dotd
            .as_ref()
            .map_or(String::new(), |d| format!(", DOTD {} bytes", d.len()))
    ) + &side.as_ref().map_or(String::new(), |files| {
        let names: Vec<String> = files
            .iter()
            .map(|(n, d)| format!("{} ({} bytes)", String::from_utf8_lossy(n), d.len()))
            .collect();
        format!(", XOUT {}", names.join(" "))
    });
    let encode = move || {
        let mut bytes = before;
        bytes.extend(response.encode_head_with(codec));
        response.encode_object_with(&mut bytes, codec);
        if let Some(files) = &side {
            ext::encode_outputs(files, codec, &mut bytes);
        }
        bytes
    };
    let bytes = offload(size, encode).await?;
    let send = async {
        writer.write_all(&bytes).await?;
        writer.flush().await?;
        writer.shutdown().await
    };
    match tokio::time::timeout(timeout, send).await {
        Ok(Ok(())) => {
            tracing::trace!(
                "sent {what} ({} bytes on the wire) in {} ms",
                bytes.len(),
                started.elapsed().as_millis()
            );
            Ok(())
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("client did not read the reply for {}s", timeout.as_secs()),
        )),
    }
}
