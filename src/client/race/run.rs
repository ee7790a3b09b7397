//! The mechanics of a race ([`super::policy`] decides): wait for the
//! remote reply; once the job is late, take a local compile slot if one is
//! free right now and start the compile here, in its own process group,
//! with its object (and dependency file) under temp names next to the
//! real ones and its stdout/stderr in temp files. The first to finish
//! wins: the remote reply (the local group is killed and its files
//! removed) or the local compile (its outputs are renamed into place, its
//! messages shown, and the caller drops the connection). The host that
//! lost is charged the time it took ([`hoststate`]), so the placement
//! learns it is slow.

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tracing::{debug, warn};

use crate::args::os::{line, lossy};
use crate::args::{Job, Scan};
use crate::client::ctx::Ctx;
use crate::client::local::cleanup::{self, TempPath, create_temp};
use crate::client::local::output::temp_beside;
use crate::client::local::spawn::status_code;
use crate::client::race::incoming::{Arrival, Incoming};
use crate::client::race::policy::{self, Step};
use crate::client::slots::hostlist::{self, Loaded};
use crate::client::slots::locks::SlotLock;
use crate::client::slots::{hoststate, jobcost};
use crate::client::stats;
use crate::client::transport::remote::RemoteError;
use crate::error::ExitCode;
use crate::hosts::{DEFAULT_LOCALSLOTS, HostSpec};

/// What a raced job compiles.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// A file (the source in pump mode, a `.i` given on the command
    /// line), and its bytes when they were read for sending.
    File(&'a OsStr, &'a [u8]),
    /// The preprocessed text in memory, and its extension: written to a
    /// temp file if a race starts.
    Text(&'a [u8], &'static str),
}

impl Source<'_> {
    /// The bytes to send (empty for a file not read).
    pub fn bytes(&self) -> &[u8] {
        match *self {
            Self::File(_, b) | Self::Text(b, _) => b,
        }
    }
}

/// The compile to run here if the remote one is late.
#[derive(Debug)]
pub struct LocalJob<'a> {
    /// The command, scanned (its input and output are replaced).
    pub job: Job,
    /// The input to compile: the preprocessed text in plain mode, the
    /// source in pump mode.
    pub input: Source<'a>,
    /// The dependency file the remote job would have written, and the
    /// `-MT` target to add (when the command names none).
    pub dotd: Option<(PathBuf, Option<OsString>)>,
}

impl<'a> LocalJob<'a> {
    /// The plain-mode race: the command the server runs (`server_argv`),
    /// on the preprocessed `source`.
    pub fn plain(server_argv: &[OsString], source: Source<'a>) -> Option<Self> {
        match crate::args::scan(server_argv) {
            Scan::Distribute(job) => Some(Self {
                job,
                input: source,
                dotd: None,
            }),
            Scan::Local(_) => None,
        }
    }
}

/// How the wait for a reply ended.
#[derive(Debug)]
pub enum Waited {
    /// The reply is arriving (or the connection ended): read it.
    Reply,
    /// The local compile succeeded first; its outputs are in place and
    /// its messages shown. The exit code is 0, or distcc's when the
    /// outputs could not be renamed into place.
    Overtaken(i32),
    /// No reply within `DISTCC_IO_TIMEOUT`.
    TimedOut,
}

/// A local compile under way. Dropped unfinished (it lost, or waiting
/// failed), it kills its whole group (the driver, cc1, as), reaps the
/// driver and removes its temp files.
struct Running {
    child: Option<Child>,
    _slot: SlotLock,
    outputs: Vec<(TempPath, PathBuf)>,
    stdout: TempPath,
    stderr: TempPath,
    /// The preprocessed text written out for the compiler.
    _input: Option<TempPath>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id();
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
            let _ = child.wait();
            cleanup::remove_group(pid);
        }
    }
}

impl Running {
    /// Whether it has finished, and how.
    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let child = self.child.as_mut().expect("running");
        let status = child.try_wait()?;
        if status.is_some() {
            cleanup::remove_group(child.id());
            self.child = None;
        }
        Ok(status)
    }

    /// The winner: outputs into place (only on success), messages out.
    fn finish(mut self, mut code: i32) -> i32 {
        if code == 0 {
            for (temp, target) in std::mem::take(&mut self.outputs) {
                if let Err(e) = std::fs::rename(temp.path(), &target) {
                    warn!("cannot rename into {}: {e}", target.display());
                    code = ExitCode::IoError.code();
                    break;
                }
                temp.persist();
            }
        }
        let copy = |from: &Path, to: &mut dyn Write| {
            let data = std::fs::read(from)?;
            to.write_all(&data)?;
            to.flush()
        };
        let _ = copy(self.stdout.path(), &mut io::stdout().lock());
        let _ = copy(self.stderr.path(), &mut io::stderr().lock());
        code
    }
}

/// A free local compile slot right now, or none (never waits).
fn free_slot(ctx: &Ctx) -> Option<SlotLock> {
    let dir = ctx.lock_dir()?;
    let slots = match hostlist::load(&ctx.vars) {
        Loaded::List { list, .. } => list.local_slots,
        _ => DEFAULT_LOCALSLOTS,
    };
    (0..slots.max(1)).find_map(|s| dir.try_lock("localhost", s).ok().flatten())
}

/// Start `local` under `slot`.
fn start(ctx: &Ctx, local: &LocalJob, slot: SlotLock) -> io::Result<Running> {
    let target = Path::new(&local.job.output);
    let mut outputs = vec![(temp_beside(target, "distcc-race")?.1, target.to_owned())];
    let (input, written) = match local.input {
        Source::File(name, _) => (name.to_owned(), None),
        Source::Text(text, ext) => {
            let (path, mut file) = create_temp(&ctx.tmpdir, "distcc-race", ext)?;
            file.write_all(text)?;
            (path.path().as_os_str().to_owned(), Some(path))
        }
    };
    let mut argv = local
        .job
        .with_input_output(&input, outputs[0].0.path().as_os_str());
    // A compile that loses is killed (SIGKILL, its whole group): gcc's
    // driver cannot remove its temp assembler file from TMPDIR then.
    // Piped, cc1 and as write none (the object is the same).
    argv.insert(1, OsString::from("-pipe"));
    if let Some((dotd, mt)) = &local.dotd {
        let temp = temp_beside(dotd, "distcc-race")?.1;
        argv.extend([OsString::from("-MF"), temp.path().as_os_str().to_owned()]);
        if let Some(t) = mt {
            argv.extend([OsString::from("-MT"), t.clone()]);
        }
        outputs.push((temp, dotd.clone()));
    }
    let (stdout, out_file) = create_temp(&ctx.tmpdir, "distcc-race", ".out")?;
    let (stderr, err_file) = create_temp(&ctx.tmpdir, "distcc-race", ".err")?;
    debug!("racing locally: {}", line(&argv));
    let mut cmd = ctx.spawner.command(&argv);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(out_file))
        .stderr(Stdio::from(err_file))
        .process_group(0);
    let child = cmd.spawn()?;
    cleanup::add_group(child.id());
    Ok(Running {
        child: Some(child),
        _slot: slot,
        outputs,
        stdout,
        stderr,
        _input: written,
    })
}

/// Whether something came on `conn` within `wait`.
fn readable(conn: &mut Incoming, wait: std::time::Duration) -> io::Result<bool> {
    if conn.buffered() {
        return Ok(true);
    }
    let ms = wait.as_millis().min(i32::MAX as u128) as i32;
    let mut fds = [PollFd::new(conn.fd(), PollFlags::POLLIN)];
    match poll(
        &mut fds,
        PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
    ) {
        Ok(n) => Ok(n > 0),
        Err(nix::errno::Errno::EINTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Wait for the reply of a job sent to `host` on `conn` (`size` bytes of
/// request), racing it with `local` once it is late (`local` is `None`
/// when racing is off or the job cannot be raced). Heartbeats restart
/// the silence timer only: lateness counts from the request.
pub fn wait_reply(
    ctx: &Ctx,
    host: &HostSpec,
    conn: &mut Incoming,
    size: u64,
    local: Option<LocalJob>,
) -> Result<Waited, RemoteError> {
    let lock_id = host.lock_id();
    let local = local.filter(|l| {
        let refused = policy::refusal(&l.job.argv);
        // `-o /dev/null` and fifos are written in place, never renamed.
        let special = std::fs::metadata(&l.job.output).is_ok_and(|m| !m.is_file());
        if let Some(why) = &refused {
            debug!("not racing {}: {why}", lossy(&l.job.input));
        }
        refused.is_none() && !special
    });
    // A job known to be long is late only by its own length.
    let cost = local
        .as_ref()
        .and(ctx.topdir.as_deref())
        .and_then(|t| jobcost::known(t, stats::cost_key()))
        .unwrap_or(1.0);
    let mut late = local.as_ref().map(|_| {
        let speed = ctx
            .topdir
            .as_deref()
            .and_then(|t| hoststate::speed(t, &lock_id));
        policy::late_after(policy::expected(speed, size).map(|e| e.mul_f64(cost)))
    });
    let since = Instant::now();
    let mut alive = since;
    let mut tried: Option<Instant> = None;
    loop {
        let step = policy::step(
            since.elapsed(),
            alive.elapsed(),
            late,
            tried.map(|t| t.elapsed()),
            ctx.io_timeout,
        );
        let wait = match step {
            Step::Wait(d) => d,
            Step::TimedOut => return Ok(Waited::TimedOut),
            Step::TryLocal => {
                tried = Some(Instant::now());
                let Some(slot) = free_slot(ctx) else {
                    continue;
                };
                let job = local.as_ref().expect("late only when racing");
                let raced = match start(ctx, job, slot) {
                    Ok(running) => race(ctx, &lock_id, conn, size, since, &mut alive, running)?,
                    Err(e) => {
                        warn!("cannot race {} locally: {e}", lossy(&job.job.input));
                        None
                    }
                };
                match raced {
                    Some(done) => return Ok(done),
                    // Wait for the reply as without racing.
                    None => late = None,
                }
                continue;
            }
        };
        if readable(conn, wait)? {
            match conn.arrived()? {
                Arrival::Alive => {
                    debug!(
                        "{lock_id} is alive after {} ms",
                        since.elapsed().as_millis()
                    );
                    alive = Instant::now();
                }
                Arrival::Reply => return Ok(Waited::Reply),
            }
        }
    }
}

/// Both run: the first to finish wins. A local compile that fails is no
/// answer (the compiler here may be missing or different; the server's
/// verdict, or the usual local retry after it, decides): `None`, wait on.
/// A heartbeat is no answer either: it only restarts `alive`.
fn race(
    ctx: &Ctx,
    lock_id: &str,
    conn: &mut Incoming,
    size: u64,
    since: Instant,
    alive: &mut Instant,
    mut running: Running,
) -> Result<Option<Waited>, RemoteError> {
    debug!(
        "{lock_id} is late after {} ms: compiling here too",
        since.elapsed().as_millis()
    );
    loop {
        if readable(conn, policy::TICK)? {
            if conn.arrived()? == Arrival::Alive {
                debug!(
                    "{lock_id} is alive after {} ms",
                    since.elapsed().as_millis()
                );
                *alive = Instant::now();
                continue;
            }
            debug!("the server answered first: stopping the local compile");
            drop(running);
            return Ok(Some(Waited::Reply));
        }
        if let Some(status) = running.try_wait()? {
            let code = status_code(status);
            if code != 0 {
                debug!("the local compile failed (exit {code}): waiting for the server");
                return Ok(None);
            }
            let waited = since.elapsed();
            debug!(
                "the local compile finished first, after {} ms",
                waited.as_millis()
            );
            if let Some(top) = ctx.topdir.as_deref() {
                hoststate::record(top, lock_id, policy::charged_ms(waited), size, None);
            }
            return Ok(Some(Waited::Overtaken(running.finish(code))));
        }
    }
}
