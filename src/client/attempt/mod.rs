//! One remote attempt (spec §3.9): take a local cpp slot and start the
//! preprocessor, connect meanwhile, send the header, wait for cpp, send
//! the source, read the reply. The preprocessed file is kept across
//! attempts, so trying a second host does not preprocess again. In pump
//! mode (a `,cpp,lzo` host, [`super::pump`]) there is no local cpp: the
//! source and its headers go out in protocol 3.
//!
//! Here: the states and errors, the plain-mode attempt and its
//! preprocessor; `connect`: the connection and the extension's opening
//! (hello, compiler check) and the wait for the reply; `pump`: the
//! pump-mode attempt; `upgrade`: which plain-mode jobs (`-g`, to a daemon
//! of ours) go in pump form.

mod connect;
mod pump;
mod upgrade;

use std::path::{Path, PathBuf};

use tracing::debug;

use crate::args::os::{line, lossy};
use crate::args::outputs::{output_dir, side_name};
use crate::args::{Job, is_preprocessed, preprocessed_languages, side_outputs, strip_local_args};
use crate::client::bodybase;
use crate::client::compiler_id;
use crate::client::ctx::Ctx;
use crate::client::extension;
use crate::client::local::spawn::{Cpp, CppError, Preprocessed};
use crate::client::pump::PumpState;
use crate::client::race::incoming::Incoming;
use crate::client::race::run::{LocalJob, Source};
use crate::client::sidefiles;
use crate::client::slots::locks::LockDir;
use crate::client::slots::status::Status;
use crate::client::stats;
use crate::client::stats::Counted;
use crate::client::sysheaders::Differs;
use crate::client::transport::remote::{self, RemoteError, Reply};
use crate::hosts::HostSpec;
use crate::protocol::Limits;
use crate::protocol::codec::Codec;
use crate::state::Phase;
use connect::{checked_opening, connect, open, probe, probe_after_success, sent, wait_or_race};

/// Where the preprocessed source stands.
#[derive(Debug)]
pub enum CppState {
    /// The input is already preprocessed: send it as it is.
    Input,
    /// Not started yet (`driver_deps`: see [`crate::args::cpp_argv`]).
    Pending {
        /// `-MD`/`-MMD` were given to the driver itself.
        driver_deps: bool,
    },
    /// Done: the text to send.
    Done(Preprocessed),
}

impl CppState {
    /// The starting state for a job.
    pub fn new(job: &Job, driver_deps: bool) -> Self {
        if is_preprocessed(&job.input) {
            Self::Input
        } else {
            Self::Pending { driver_deps }
        }
    }
}

/// Why an attempt ended without a reply.
#[derive(Debug)]
pub enum AttemptError {
    /// The preprocessor failed with this code: its errors are on stderr
    /// already, and compiling locally would only repeat them (3.4 stops).
    Cpp(i32),
    /// Something on our side failed; no host is to blame.
    Local(String),
    /// The host failed.
    Host(RemoteError),
    /// The host was late and a local compile finished first with this
    /// exit code (its outputs are in place, its messages shown).
    Overtaken(i32),
    /// The host's compiler differs from ours (its identity, `XCMM`) and
    /// it compiled nothing (docs/extension.md §7): not its failure.
    CompilerDiffers(Vec<u8>),
    /// Neither pump mode nor plain mode would give a local compile's
    /// object ([`PumpState::Here`]): compile here, for this reason.
    Here(String),
    /// A job in pump form compiled against other system headers than
    /// this machine's (docs/extension.md §13; how, when the server listed
    /// them): its object was not used. Not the host's failure: the job
    /// goes to it again, preprocessed here.
    SystemHeaders(Option<Differs>),
}

impl From<RemoteError> for AttemptError {
    fn from(e: RemoteError) -> Self {
        match e {
            RemoteError::Output(e) => Self::Local(e.to_string()),
            RemoteError::CompilerDiffers(theirs) => Self::CompilerDiffers(theirs),
            other => Self::Host(other),
        }
    }
}

/// Run the job on `host`. When its request went right behind the hello
/// and the host turned out not to be what was remembered
/// ([`RemoteError::Resend`], docs/extension.md §2.1), it is sent once
/// more, waiting for the offer this time: no failure, no backoff.
#[allow(clippy::too_many_arguments)]
pub fn run(
    ctx: &Ctx,
    job: &Job,
    host: &HostSpec,
    name: &str,
    slot: u32,
    cpp: &mut CppState,
    cpp_locks: Option<(&LockDir, u32)>,
    status: &mut Status,
    pump: &mut PumpState,
) -> Result<Reply, AttemptError> {
    let mut once = |pipeline| {
        let (cpp, status, pump) = (&mut *cpp, &mut *status, &mut *pump);
        run_once(
            ctx, job, host, name, slot, cpp, cpp_locks, status, pump, pipeline,
        )
    };
    match once(true) {
        Err(AttemptError::Host(RemoteError::Resend(why))) => {
            debug!("{}: {why}; sending the job again", host.text);
            once(false)
        }
        other => other,
    }
}

#[allow(clippy::too_many_arguments)]
fn run_once(
    ctx: &Ctx,
    job: &Job,
    host: &HostSpec,
    name: &str,
    slot: u32,
    cpp: &mut CppState,
    cpp_locks: Option<(&LockDir, u32)>,
    status: &mut Status,
    pump: &mut PumpState,
    pipeline: bool,
) -> Result<Reply, AttemptError> {
    probe_for_side_outputs(ctx, host, job);
    if let PumpState::Files(p) = pump {
        p.sent = false;
    }
    if let CppState::Pending { driver_deps } = *cpp {
        let mut pump_mode =
            host.protover >= 3 && ctx.vars.pump() && !side_outputs_need_plain(ctx, host, job);
        if let Some(why) = pump_mode
            .then(|| pump::system_headers_need_plain(ctx, host, job))
            .flatten()
        {
            // As when the analysis cannot send it: plain mode, unless
            // that would not give a local compile's object either.
            if let Some(differs) = crate::client::pump::plain_differs(ctx, job) {
                return Err(AttemptError::Here(format!("{why}, and {differs}")));
            }
            debug!("{why}: preprocessing it here");
            pump_mode = false;
        }
        let upgraded = !ctx.vars.pump() && upgrade::wanted(ctx, host, job);
        if pump_mode || upgraded {
            if let Some(pumped) = pump.get(ctx, job, driver_deps) {
                let form = pump::Form { pumped, upgraded };
                if let Some(reply) =
                    pump::run_pump(ctx, job, host, name, slot, form, status, pipeline)?
                {
                    if let PumpState::Files(p) = pump {
                        p.sent = true;
                    }
                    return Ok(reply);
                }
            }
            if let PumpState::Here(why) = pump {
                return Err(AttemptError::Here(why.clone()));
            }
        }
    }
    // What only pump mode makes as here is not sent in plain mode: in
    // plain mode it is compiled here, as when no host is ours.
    if let Some(why) = side_outputs(job).ok().and_then(|s| s.needs_pump) {
        if !ctx.vars.pump() {
            return Err(AttemptError::Here(format!(
                "{why}, and {} does not take it in pump form",
                host.text
            )));
        }
        return Err(AttemptError::Local(format!(
            "{why}, and {} does not take this job in pump mode",
            host.text
        )));
    }
    // Start cpp first so that it runs while we connect (spec §3.9).
    let mut running: Option<(Cpp, Option<crate::client::slots::locks::SlotLock>)> = None;
    let direct_cache = ctx.vars.cpp_direct().then(|| {
        ctx.topdir
            .as_deref()
            .map(crate::client::local::cppfast::cache_dir)
    });
    if let CppState::Pending { driver_deps } = *cpp {
        let lock = match cpp_locks {
            Some((dir, n)) => {
                status.set(Phase::Preprocess, "localhost", 0);
                dir.lock_local(n, ctx.pause).ok()
            }
            None => None,
        };
        let child = ctx
            .spawner
            .start_cpp(
                job,
                driver_deps,
                direct_cache.as_ref().map(|c| c.as_deref()),
            )
            .map_err(|e: CppError| AttemptError::Local(e.to_string()))?;
        running = Some((child, lock));
    }
    status.set(Phase::Connect, name, slot);
    let check = match checked_opening(ctx, host, job) {
        Ok(c) => c,
        Err(e) => {
            finish_cpp(ctx, cpp, running.take(), status)?;
            return Err(e);
        }
    };
    let opening = check.opening;
    let connected = connect(ctx, host, opening.is_hello());
    // Even when the connection fails, let cpp finish: the next host (or
    // the local fallback decision) may use its output.
    let mut conn = match connected {
        Ok(c) => Some(c),
        Err(e) => {
            finish_cpp(ctx, cpp, running.take(), status)?;
            return Err(AttemptError::Host(RemoteError::Io(e)));
        }
    };
    let mut session = match open(
        ctx,
        host,
        conn.as_mut().expect("connected"),
        &check,
        pipeline,
        true,
    ) {
        Ok(s) => s,
        Err(e) => {
            finish_cpp(ctx, cpp, running.take(), status)?;
            return Err(AttemptError::Host(e));
        }
    };
    // zstd needs a compressed protocol: with the extension, always 2.
    let version = if host.protover >= 2 || session.is_some() {
        2
    } else {
        1
    };
    let codec = session
        .as_ref()
        .map_or(Codec::for_version(version), |s| s.codec(version));
    let mut server_argv = strip_local_args(&job.argv);
    if !matches!(cpp, CppState::Input) {
        server_argv = preprocessed_languages(&server_argv);
    }
    debug!(
        "sending {} to {} (protocol {version}): {}",
        lossy(&job.input),
        host.text,
        line(&server_argv)
    );
    status.set(Phase::Send, name, slot);
    let c = &mut Counted(conn.as_mut().expect("connected"));
    let head = remote::send_head(c, version, &server_argv);
    finish_cpp(ctx, cpp, running.take(), status)?;
    let input;
    let source: Source = match &*cpp {
        CppState::Input => {
            input = std::fs::read(&job.input).map_err(RemoteError::Io)?;
            Source::File(&job.input, &input)
        }
        CppState::Done(p) => Source::Text(&p.bytes, p.ext),
        CppState::Pending { .. } => unreachable!("cpp finished above"),
    };
    stats::set_size(source.bytes().len() as u64);
    stats::set_job(job);
    let ext = match &source {
        Source::Text(_, ext) => Some(*ext),
        Source::File(..) => None,
    };
    let top = ctx.topdir.as_deref();
    let written = head
        .and_then(|()| bodybase::send(c, top, session.as_ref(), ext, codec, source.bytes()))
        .map_err(RemoteError::Io);
    sent(written, c, session.as_mut(), ctx)?;
    status.set(Phase::Compile, name, slot);
    let local = || LocalJob::plain(&server_argv, source);
    let mut incoming = Incoming::new(c, session.as_ref());
    let waited = wait_or_race(ctx, host, &mut incoming, local);
    let done = incoming.done();
    let read = done.as_ref().map_or(&[][..], |d| &d[..]);
    let limits = Limits::default();
    let side = side_files(
        job,
        match &*cpp {
            CppState::Done(p) => Some(p),
            _ => None,
        },
    );
    let mut stdout = std::io::stdout().lock();
    let received = waited.and_then(|()| {
        extension::receive(
            c,
            session.as_ref(),
            read,
            version,
            Path::new(&job.output),
            None,
            Some(&side),
            &mut stdout,
            &limits,
            || status.set(Phase::Receive, name, slot),
        )
        .map_err(AttemptError::from)
    });
    let reply = compiler_id::settle(ctx, host, &check, session.as_ref(), received)?;
    drop(conn);
    probe_after_success(ctx, host, opening, &reply);
    Ok(reply)
}

/// Side outputs come back only through the extension: before a job with
/// some goes to a host of unknown kind, the host is probed (the probe a
/// success there would make, made first; docs/extension.md §3).
fn probe_for_side_outputs(ctx: &Ctx, host: &HostSpec, job: &Job) {
    // The pure check first: most jobs have no side outputs, and the
    // opening reads a file.
    if side_outputs(job).is_ok_and(|s| !s.is_empty())
        && extension::opening(ctx, host) == extension::Opening::PlainThenProbe
    {
        probe(ctx, host);
    }
}

/// A job that keeps its preprocessed text (`-save-temps` on a source)
/// goes to a host known to be ours in plain mode: in pump mode the text is
/// made on the server, under its paths. Its other side outputs come back
/// in pump mode too (docs/extension.md §8).
fn side_outputs_need_plain(ctx: &Ctx, host: &HostSpec, job: &Job) -> bool {
    let need = side_outputs(job).is_ok_and(|s| s.keeps_preprocessed)
        && extension::opening(ctx, host).is_hello();
    if need {
        debug!("preprocessing here: -save-temps keeps the text preprocessed here");
    }
    need
}

/// What may come back beside the object when the server carries side
/// files back (`OUTPUTS`), and the one made here: `-save-temps`' copy of
/// the preprocessed text, which is what cpp gave us.
pub(super) fn side_files<'a>(job: &Job, cpp: Option<&'a Preprocessed>) -> sidefiles::Side<'a> {
    // The scan kept a job whose side files a server cannot reproduce here.
    let planned = side_outputs(job).unwrap_or_default();
    let own = match cpp {
        Some(p) if planned.keeps_preprocessed => {
            vec![(side_name(job, p.ext), &p.bytes[..])]
        }
        _ => Vec::new(),
    };
    sidefiles::Side {
        dir: PathBuf::from(output_dir(job)),
        allowed: planned.compiler,
        own,
    }
}

/// Wait for a running cpp and record its output.
fn finish_cpp(
    ctx: &Ctx,
    cpp: &mut CppState,
    running: Option<(Cpp, Option<crate::client::slots::locks::SlotLock>)>,
    status: &mut Status,
) -> Result<(), AttemptError> {
    let Some((child, lock)) = running else {
        return Ok(());
    };
    status.set(
        Phase::Preprocess,
        "localhost",
        lock.as_ref().map_or(0, |l| l.slot),
    );
    let (code, out) = child.wait(ctx.vars.save_temps().then_some(ctx.tmpdir.as_path()));
    drop(lock);
    if code != 0 {
        return Err(AttemptError::Cpp(code));
    }
    let out =
        out.map_err(|e| AttemptError::Local(format!("reading the preprocessor's output: {e}")))?;
    *cpp = CppState::Done(out);
    Ok(())
}
