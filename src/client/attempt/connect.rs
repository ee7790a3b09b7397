//! The attempt's connection: TCP, SOCKS, SSH or TLS to the host, the
//! extension's opening on it (hello, compiler check, the probe of a host
//! of unknown kind), and the wait for the reply that a local compile may
//! race.

use tracing::debug;

use crate::args::Job;
use crate::client::compiler_id;
use crate::client::ctx::Ctx;
use crate::client::extension;
use crate::client::race::incoming::Incoming;
use crate::client::race::run::{self as race, LocalJob, Waited};
use crate::client::stats;
use crate::client::stats::Counted;
use crate::client::transport::conn::{self, Conn};
use crate::client::transport::remote::{RemoteError, Reply};
use crate::client::transport::tls;
use crate::compiler_id::Mode;
use crate::hosts::{HostKind, HostSpec};

use super::AttemptError;

/// Connect to `host`; a `tls+` host says whether it accepts our key at
/// the first read (`hello_first`: only the extension's hello is written
/// before) or before this returns.
pub(super) fn connect(ctx: &Ctx, host: &HostSpec, hello_first: bool) -> std::io::Result<Conn> {
    match &host.kind {
        HostKind::Tcp { host: h, port } => {
            let tls = if host.tls {
                let dir = ctx.vars.distcc_dir().unwrap_or_default().join("tls");
                Some(tls::prepare(&dir, h, *port)?)
            } else {
                None
            };
            let raw = match ctx.vars.socks_proxy() {
                Some(proxy) => conn::via_socks(&proxy, h, *port, ctx.io_timeout),
                None => conn::tcp(h, *port, ctx.io_timeout),
            };
            let Some(tls) = tls else {
                return raw;
            };
            let verdict = if hello_first {
                tls::Verdict::WithFirstRead
            } else {
                tls::Verdict::Now
            };
            tls::connect(raw?, tls, h, verdict)
        }
        HostKind::Ssh {
            user,
            host: h,
            command,
        } => {
            let argv = conn::ssh_argv(
                &ctx.vars.ssh_command(),
                user.as_deref(),
                h,
                command.as_deref(),
            );
            conn::ssh(&argv, ctx.io_timeout, &ctx.spawner.safeguard)
        }
        HostKind::Local => unreachable!("local hosts are not connected to"),
    }
}

/// Say hello to `host`, of unknown kind, on a connection of its own and
/// remember the answer ([`extension::probe`]).
pub(super) fn probe(ctx: &Ctx, host: &HostSpec) {
    extension::probe(ctx, &host.lock_id(), || connect(ctx, host, false));
}

/// After a job's reply, its connection closed: a job sent in 3.4's
/// protocol to a host of unknown kind that succeeded there is the moment
/// to probe it (docs/extension.md §3).
pub(super) fn probe_after_success(
    ctx: &Ctx,
    host: &HostSpec,
    opening: extension::Opening,
    reply: &Reply,
) {
    if opening == extension::Opening::PlainThenProbe && reply.status == 0 {
        probe(ctx, host);
    }
}

/// The hello's wait: short when the job may be compiled here instead.
pub(super) fn hello_wait(ctx: &Ctx) -> std::time::Duration {
    let racing = ctx.vars.race() && ctx.policy.fallback;
    crate::client::race::policy::hello_wait(ctx.io_timeout, racing)
}

/// How to open the job's connection, and our compiler's identity for the
/// compiler check (docs/extension.md §7). The check needs the extension
/// on a host's first job too: with it on, a host of unknown kind is
/// probed before that job, on a connection of its own. `Err` when the
/// host cannot be connected to, or (with `refuse`) its compiler differed
/// from ours lately ([`compiler_id::known_to_differ`]).
pub(super) fn checked_opening(
    ctx: &Ctx,
    host: &HostSpec,
    job: &Job,
) -> Result<compiler_id::Check, AttemptError> {
    let mode = compiler_id::mode(ctx);
    let mut opening = extension::opening(ctx, host);
    if opening == extension::Opening::PlainThenProbe && mode != Mode::Off {
        let wait = hello_wait(ctx);
        extension::probe_first(ctx, &host.lock_id(), || connect(ctx, host, false), wait)
            .map_err(|e| AttemptError::Host(RemoteError::Io(e)))?;
        opening = extension::opening(ctx, host);
    }
    let ours = (opening.is_hello() && mode != Mode::Off)
        .then(|| compiler_id::ours(ctx, &job.argv[0]))
        .flatten();
    // With refuse, a host whose compiler differed lately is not asked
    // again: like an XCMM answer, without the round trip.
    let differs = ours
        .as_ref()
        .filter(|_| mode == Mode::Refuse)
        .and_then(|id| compiler_id::known_to_differ(ctx, &host.lock_id(), id));
    if let Some(theirs) = differs {
        return Err(AttemptError::CompilerDiffers(theirs));
    }
    Ok(compiler_id::Check {
        opening,
        mode,
        ours,
        system: None,
    })
}

/// Our own daemon gets the extension (docs/extension.md): when `host` is
/// known to be ours, say hello on `conn`. A 3.4 one that closes at the
/// hello gets the job on a new connection (put in `conn`, unless
/// `!reconnect`: the job is not for a 3.4 daemon in its form), in 3.4's
/// protocol. With its offer remembered and `pipeline` (not over TLS,
/// whose daemon says whether it accepts our key only with its first
/// byte), the choice goes out at once and the request follows it
/// (docs/extension.md §2.1): the session is then to be confirmed
/// ([`sent`]) before anything is read.
pub(super) fn open(
    ctx: &Ctx,
    host: &HostSpec,
    conn: &mut Conn,
    check: &compiler_id::Check,
    pipeline: bool,
    reconnect: bool,
) -> Result<Option<extension::Session>, RemoteError> {
    let extension::Opening::Hello(known) = check.opening else {
        return Ok(None);
    };
    let wanted = extension::Wanted {
        compiler: check.ours.as_ref().map(|id| (id, check.mode)),
        system: check.system.as_deref(),
    };
    let (lock_id, wait) = (host.lock_id(), hello_wait(ctx));
    if let Some(known) = known.filter(|_| pipeline && !host.tls) {
        let s = extension::pipelined(&mut Counted(conn), ctx, &lock_id, wait, wanted, known)?;
        return Ok(Some(s));
    }
    match extension::hello(&mut Counted(conn), ctx, &lock_id, wait, wanted, known)? {
        extension::Hello::Ours(s) => Ok(Some(s)),
        extension::Hello::Theirs => {
            if reconnect {
                *conn = connect(ctx, host, false)?;
            }
            Ok(None)
        }
    }
}

/// The end of writing a request: with the request behind the hello, the
/// offer is read now ([`extension::confirm`]), and a write that failed
/// is judged by it (a 3.4 server that closed at the hello makes the rest
/// of the request fail to be written): a host that is not what was
/// remembered gets the job again ([`RemoteError::Resend`]), any other
/// failure is the write's.
pub(super) fn sent(
    written: Result<(), RemoteError>,
    conn: &mut Counted<'_, Conn>,
    session: Option<&mut extension::Session>,
    ctx: &Ctx,
) -> Result<(), RemoteError> {
    let Some(session) = session else {
        return written;
    };
    let confirmed = extension::confirm(conn, session, ctx);
    match (written, confirmed) {
        (Err(e), Err(resend @ RemoteError::Resend(_))) => {
            debug!("writing the request failed ({e}), the offer says why");
            Err(resend)
        }
        (Ok(()), Err(e)) | (Err(e), _) => Err(e),
        (Ok(()), Ok(())) => Ok(()),
    }
}

/// Wait for the reply; a late one is raced by a local compile
/// ([`crate::client::race`]; `DISTCC_RACE=0` turns that off).
pub(super) fn wait_or_race<'a>(
    ctx: &Ctx,
    host: &HostSpec,
    conn: &mut Incoming,
    local: impl FnOnce() -> Option<LocalJob<'a>>,
) -> Result<(), AttemptError> {
    // DISTCC_FALLBACK=0 forbids compiling here, racing included.
    if !ctx.vars.race() || !ctx.policy.fallback {
        return Ok(());
    }
    match race::wait_reply(ctx, host, conn, stats::size(), local())? {
        Waited::Reply => Ok(()),
        Waited::Overtaken(code) => Err(AttemptError::Overtaken(code)),
        Waited::TimedOut => Err(AttemptError::Host(RemoteError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "no DONE from the server within DISTCC_IO_TIMEOUT",
        )))),
    }
}
