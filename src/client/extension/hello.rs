//! The hello on a job's connection: the server's offer, the client's
//! choice, and the [`Session`] they agree for the job. With the host's
//! offer remembered, the choice and the request go right behind the hello
//! ([`pipelined`]) and the offer is read once they are out ([`confirm`],
//! docs/extension.md §2.1): one network round trip per job, as in 3.4.

use std::cell::RefCell;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use tracing::debug;

use super::WANTED;
use super::memory::{Offer, remember};
use super::probe::read_offer;
use crate::client::ctx::Ctx;
use crate::client::slots::hoststate;
use crate::client::stats::Counted;
use crate::client::sysheaders::Received;
use crate::client::transport::conn::Conn;
use crate::client::transport::remote::RemoteError;
use crate::compiler_id::{Identity, Mode};
use crate::protocol::codec::Codec;
use crate::protocol::ext::{self, Choice, ServerHello, cap};
use crate::protocol::hdrcache::Digest;

/// One connection's agreement.
#[derive(Clone, Debug)]
pub struct Session {
    /// The choice sent.
    pub choice: Choice,
    /// Where to record the server's status (`$DISTCC_DIR`, lock id).
    pub record: Option<(PathBuf, String)>,
    /// The server's identity, when it said its compiler differs and
    /// compiled anyway (`XCIW 1`).
    pub mismatch: RefCell<Option<Vec<u8>>>,
    /// The choice went out before the offer came ([`pipelined`]): the
    /// offer remembered, and how long to wait for the real one.
    pub unconfirmed: Option<(Offer, Duration)>,
    /// The base the body was sent against (`XBAS`), for `XBAQ`.
    pub base: RefCell<Option<crate::client::bodybase::Base>>,
    /// What the server said of the system headers its compile read
    /// (`XSYS`, `XSYL`), once it said it.
    pub system: RefCell<Option<Received>>,
}

/// What a job's choice asks for beyond the offer's bits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wanted<'a> {
    /// The compiler check: our identity and `DISTCC_COMPILER_CHECK`.
    pub compiler: Option<(&'a Identity, Mode)>,
    /// The system headers' list (a pump-form job): the lists verified
    /// here lately.
    pub system: Option<&'a [Digest]>,
}

impl Session {
    /// The codec of bodies in a request of protocol `version`.
    pub fn codec(&self, version: u32) -> Codec {
        Codec::negotiated(version, self.choice.has(cap::ZSTD))
    }
}

/// What the hello found.
#[derive(Debug)]
pub enum Hello {
    /// Our daemon: the job goes on in the extension.
    Ours(Session),
    /// A 3.4 daemon closed the connection: open another, in 3.4's protocol.
    Theirs,
}

/// The heartbeat period to ask for: a quarter of the IO timeout, so that
/// a lost heartbeat or two is not yet a timeout.
fn heartbeat_ms(io_timeout: Duration) -> u32 {
    (io_timeout.as_millis() / 4).clamp(250, 60_000) as u32
}

fn timed_out(what: &str) -> RemoteError {
    RemoteError::Io(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no {what} from the server within DISTCC_IO_TIMEOUT"),
    ))
}

pub(crate) fn io_error(e: io::Error, what: &'static str) -> RemoteError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => timed_out(what),
        io::ErrorKind::UnexpectedEof => RemoteError::Eof(what),
        _ => RemoteError::Io(e),
    }
}

/// Say hello on `conn` and, if the server answers, send the choice:
/// with the compiler check and the system headers' list when `wanted`
/// asks for them and the server offers them. The offer is remembered
/// when it is not `known`.
pub fn hello(
    conn: &mut Counted<'_, Conn>,
    ctx: &Ctx,
    lock_id: &str,
    wait: Duration,
    wanted: Wanted<'_>,
    known: Option<Offer>,
) -> Result<Hello, RemoteError> {
    conn.write_all(&ext::hello(ext::VERSION))?;
    // A stopped server accepts (the kernel does) and then says nothing.
    conn.0.await_readable(wait, "the extension's offer")?;
    let Some(offer) = read_offer(conn)? else {
        return Ok(closed(ctx, lock_id));
    };
    let choice = choose(ctx, offer.caps, wanted);
    conn.write_all(&choice.encode())?;
    noted(ctx, lock_id, &offer, known);
    debug!(
        "{lock_id}: extension {} (offers {:#x}, {}); using {:#x}",
        offer.version, offer.caps, offer.status, choice.caps
    );
    Ok(Hello::Ours(session(ctx, lock_id, choice, None)))
}

/// Say hello and send the choice at once, from the offer `known` the
/// host made last (docs/extension.md §2.1): the request follows without
/// waiting, and [`confirm`] reads the offer once it is out.
pub fn pipelined(
    conn: &mut Counted<'_, Conn>,
    ctx: &Ctx,
    lock_id: &str,
    wait: Duration,
    wanted: Wanted<'_>,
    known: Offer,
) -> Result<Session, RemoteError> {
    let known = Offer {
        version: known.version.min(ext::VERSION),
        ..known
    };
    let choice = choose(ctx, known.caps, wanted);
    let mut out = ext::hello(known.version);
    out.extend(choice.encode());
    // One segment for the hello, the choice and the request (or as much
    // of it as is written within 200 ms): uncorked in [`confirm`], before
    // anything is read (DISTCC_TCP_CORK=0: a segment per write).
    if ctx.vars.tcp_cork() {
        conn.0.cork(true);
    }
    conn.write_all(&out)?;
    debug!(
        "{lock_id}: extension {}, request behind the hello (offered {:#x} before); using {:#x}",
        known.version, known.caps, choice.caps
    );
    Ok(session(ctx, lock_id, choice, Some((known, wait))))
}

/// Read the offer of a [`pipelined`] session, once the request (or what
/// could be written of it) is out. `Err(RemoteError::Resend)` when the
/// host is not what was remembered: it closed at the hello (a 3.4 server
/// now: remembered so), or its offer lacks a chosen bit or states another
/// version (its new offer remembered; it closes at our choice). Any other
/// error is the host's, as for any job.
pub fn confirm(
    conn: &mut Counted<'_, Conn>,
    session: &mut Session,
    ctx: &Ctx,
) -> Result<(), RemoteError> {
    let Some((known, wait)) = session.unconfirmed.take() else {
        return Ok(());
    };
    conn.0.cork(false);
    let lock_id = session.record.as_ref().map_or("", |(_, id)| id.as_str());
    conn.0.await_readable(wait, "the extension's offer")?;
    let Some(offer) = read_offer(conn)? else {
        closed(ctx, lock_id);
        return Err(RemoteError::Resend("the host closed at the hello"));
    };
    noted(ctx, lock_id, &offer, Some(known));
    if offer.version != known.version || session.choice.caps & !offer.caps != 0 {
        debug!(
            "{lock_id} offers extension {} {:#x} now, not {} {:#x}",
            offer.version, offer.caps, known.version, known.caps
        );
        return Err(RemoteError::Resend("the host's offer changed"));
    }
    debug!("{lock_id}: offer as remembered ({})", offer.status);
    Ok(())
}

/// What the client takes of the capabilities `offered`.
fn choose(ctx: &Ctx, offered: u32, wanted: Wanted<'_>) -> Choice {
    let compiler = wanted.compiler.filter(|(_, mode)| *mode != Mode::Off);
    let mut caps = offered & WANTED;
    if wanted.system.is_none() {
        caps &= !cap::SYSTEM_HEADERS;
    }
    if compiler.is_none() {
        caps &= !cap::COMPILER_ID;
    }
    if caps & cap::COMPILER_ID == 0 {
        caps &= !cap::COMPILER_ID_REF;
    }
    if caps & cap::HEADER_CACHE == 0 {
        caps &= !cap::REQUEST_REF;
    }
    if caps & cap::ZSTD == 0 {
        caps &= !cap::BODY_BASE;
    }
    Choice {
        caps,
        heartbeat_ms: heartbeat_ms(ctx.io_timeout),
        compiler_id: compiler
            .filter(|_| caps & cap::COMPILER_ID != 0)
            .map(|(id, _)| id.encode())
            .unwrap_or_default(),
        compile_anyway: compiler.is_some_and(|(_, mode)| mode == Mode::Warn),
        compiler_digest: None,
        sys_known: wanted.system.unwrap_or_default().to_vec(),
    }
}

fn session(
    ctx: &Ctx,
    lock_id: &str,
    choice: Choice,
    unconfirmed: Option<(Offer, Duration)>,
) -> Session {
    Session {
        choice,
        record: ctx.topdir.clone().map(|t| (t, lock_id.to_owned())),
        mismatch: RefCell::new(None),
        base: RefCell::new(None),
        unconfirmed,
        system: RefCell::new(None),
    }
}

/// Note what an offer says: the offer itself when it is not the one
/// `known`, and a queue at once, for the clients placing jobs now
/// (placement); the rest of its status comes with the job's figure at
/// its end.
fn noted(ctx: &Ctx, lock_id: &str, offer: &ServerHello, known: Option<Offer>) {
    let Some(top) = ctx.topdir.as_deref() else {
        return;
    };
    let now = Offer {
        version: offer.version,
        caps: offer.caps,
    };
    if known != Some(now) {
        remember(top, lock_id, Some(now));
    }
    if offer.status.queued.is_some_and(|q| q > 0) {
        hoststate::record_status(top, lock_id, &offer.status);
    }
}

fn closed(ctx: &Ctx, lock_id: &str) -> Hello {
    debug!("{lock_id} closed the connection at the extension's hello: a 3.4 server");
    if let Some(top) = ctx.topdir.as_deref() {
        remember(top, lock_id, None);
    }
    Hello::Theirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_are_asked_for_well_within_the_timeout() {
        assert_eq!(heartbeat_ms(Duration::from_secs(300)), 60_000);
        assert_eq!(heartbeat_ms(Duration::from_secs(2)), 500);
        assert_eq!(heartbeat_ms(Duration::from_millis(100)), 250);
    }
}
