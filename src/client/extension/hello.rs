//! The hello on a job's connection: the server's offer, the client's
//! choice, and the [`Session`] they agree for the job.

use std::cell::RefCell;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use tracing::debug;

use super::WANTED;
use super::memory::remember;
use super::probe::read_offer;
use crate::client::ctx::Ctx;
use crate::client::slots::hoststate;
use crate::client::stats::Counted;
use crate::client::transport::conn::Conn;
use crate::client::transport::remote::RemoteError;
use crate::compiler_id::{Identity, Mode};
use crate::protocol::codec::Codec;
use crate::protocol::ext::{self, Choice, cap};

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
/// with the compiler check when `compiler` (our identity and
/// `DISTCC_COMPILER_CHECK`) asks for it and the server offers it.
pub fn hello(
    conn: &mut Counted<'_, Conn>,
    ctx: &Ctx,
    lock_id: &str,
    wait: Duration,
    compiler: Option<(&Identity, Mode)>,
) -> Result<Hello, RemoteError> {
    conn.write_all(&ext::hello(ext::VERSION))?;
    // A stopped server accepts (the kernel does) and then says nothing.
    conn.0.await_readable(wait, "the extension's offer")?;
    let Some(offer) = read_offer(conn)? else {
        return Ok(closed(ctx, lock_id));
    };
    let compiler = compiler.filter(|(_, mode)| *mode != Mode::Off);
    let mut caps = offer.caps & WANTED;
    if compiler.is_none() {
        caps &= !cap::COMPILER_ID;
    }
    if caps & cap::HEADER_CACHE == 0 {
        caps &= !cap::REQUEST_REF;
    }
    let choice = Choice {
        caps,
        heartbeat_ms: heartbeat_ms(ctx.io_timeout),
        compiler_id: compiler
            .filter(|_| caps & cap::COMPILER_ID != 0)
            .map(|(id, _)| id.encode())
            .unwrap_or_default(),
        compile_anyway: compiler.is_some_and(|(_, mode)| mode == Mode::Warn),
    };
    conn.write_all(&choice.encode())?;
    // A queue is written at once, for the clients placing jobs now
    // (placement); the rest comes with the job's figure at its end.
    if let Some(top) = ctx.topdir.as_deref()
        && offer.status.queued.is_some_and(|q| q > 0)
    {
        hoststate::record_status(top, lock_id, &offer.status);
    }
    debug!(
        "{lock_id}: extension {} (offers {:#x}, {}); using {caps:#x}",
        offer.version, offer.caps, offer.status
    );
    Ok(Hello::Ours(Session {
        choice,
        record: ctx.topdir.clone().map(|t| (t, lock_id.to_owned())),
        mismatch: RefCell::new(None),
    }))
}

fn closed(ctx: &Ctx, lock_id: &str) -> Hello {
    debug!("{lock_id} closed the connection at the extension's hello: a 3.4 server");
    if let Some(top) = ctx.topdir.as_deref() {
        remember(top, lock_id, false);
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
