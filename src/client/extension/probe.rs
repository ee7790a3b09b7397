//! The probe: a hello on a connection of its own, to a host of unknown
//! kind, and its answer remembered.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use tracing::debug;

use super::memory::{Known, Offer, remember, remembered};
use super::{DIR, io_error};
use crate::client::ctx::Ctx;
use crate::client::slots::hoststate;
use crate::client::transport::conn::Conn;
use crate::client::transport::remote::RemoteError;
use crate::protocol::Decoded;
use crate::protocol::ext::{self, ServerHello};

/// After a job in 3.4's protocol succeeded on a host of unknown kind: say
/// hello on a connection of its own, note the answer, close. One client
/// at a time probes a host (a non-blocking `flock`); the others skip it.
/// Failures are not the host's: nothing is noted, the next job tries.
pub fn probe<C: Read + Write>(ctx: &Ctx, lock_id: &str, connect: impl FnOnce() -> io::Result<C>) {
    let _ = probe_with(
        ctx,
        lock_id,
        connect,
        |_| Ok(()),
        FlockArg::LockExclusiveNonblock,
    );
}

/// Before the first job on a host of unknown kind, when the compiler
/// check is on (docs/extension.md §7: the first job is checked too): the
/// same probe, but a client that finds another probing waits for its
/// answer, and an answer is awaited for `wait` (the hello's wait) only:
/// a host silent at the hello gets the job in 3.4's protocol, unchecked,
/// as before the probe. `Err` only when the host cannot be connected to,
/// which the job's own connection would find too.
pub fn probe_first(
    ctx: &Ctx,
    lock_id: &str,
    connect: impl FnOnce() -> io::Result<Conn>,
    wait: Duration,
) -> io::Result<()> {
    probe_with(
        ctx,
        lock_id,
        connect,
        |c| c.await_readable(wait, "the extension's offer"),
        FlockArg::LockExclusive,
    )
}

fn probe_with<C: Read + Write>(
    ctx: &Ctx,
    lock_id: &str,
    connect: impl FnOnce() -> io::Result<C>,
    ready: impl FnOnce(&C) -> io::Result<()>,
    how: FlockArg,
) -> io::Result<()> {
    let Some(top) = ctx.topdir.as_deref() else {
        return Ok(());
    };
    let _ = fs::create_dir_all(top.join(DIR));
    let lock = File::create(top.join(DIR).join(format!("{lock_id}.probe")))
        .ok()
        .and_then(|f| Flock::lock(f, how).ok());
    // Another client is probing, or has just probed.
    if lock.is_none() || remembered(top, lock_id) != Known::Unknown {
        return Ok(());
    }
    let mut conn = connect()?;
    let answer = conn
        .write_all(&ext::hello(ext::VERSION))
        .and_then(|()| ready(&conn))
        .map_err(RemoteError::Io)
        .and_then(|()| read_offer(&mut conn));
    match answer {
        Ok(Some(offer)) => {
            debug!(
                "{lock_id} speaks the extension {} (offers {:#x}; {})",
                offer.version, offer.caps, offer.status
            );
            remember(
                top,
                lock_id,
                Some(Offer {
                    version: offer.version,
                    caps: offer.caps,
                }),
            );
            hoststate::record_status(top, lock_id, &offer.status);
        }
        Ok(None) => {
            debug!("{lock_id} closed the connection at the extension's hello: a 3.4 server");
            remember(top, lock_id, None);
        }
        Err(e) => debug!("probing {lock_id} for the extension failed: {e}"),
    }
    Ok(())
}

/// Read the server's answer to the hello: its offer, or `None` when it
/// closed the connection without a byte (a 3.4 server). Not a byte more:
/// behind a request sent right after the hello, what follows the offer
/// (`XWNT`, heartbeats, the reply) may have come already.
pub(super) fn read_offer(conn: &mut impl Read) -> Result<Option<ServerHello>, RemoteError> {
    let mut buf = Vec::new();
    loop {
        let want = match ServerHello::decode(&buf).map_err(RemoteError::Protocol)? {
            Decoded::Done(h, _) => return Ok(Some(h)),
            Decoded::NeedMore(n) => n - buf.len(),
        };
        let mut chunk = [0u8; 256];
        match conn.read(&mut chunk[..want.min(256)]) {
            Ok(0) if buf.is_empty() => return Ok(None),
            Ok(0) => return Err(RemoteError::Eof("the extension's offer")),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // A 3.4 server that closes with our hello unread resets.
            Err(e) if buf.is_empty() && e.kind() == io::ErrorKind::ConnectionReset => {
                return Ok(None);
            }
            Err(e) => return Err(io_error(e, "answer to the extension's hello")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ext::{Status, cap};

    #[test]
    fn the_offer_is_read_and_not_a_byte_more() {
        let offer = ServerHello {
            version: 1,
            caps: cap::ZSTD | cap::HEADER_CACHE,
            status: Status {
                free: Some(2),
                ..Status::default()
            },
        };
        let mut bytes = offer.encode();
        bytes.extend_from_slice(b"XWNT00000001\x01");
        let mut r = &bytes[..];
        assert_eq!(read_offer(&mut r).unwrap(), Some(offer));
        assert_eq!(r, b"XWNT00000001\x01");
        assert_eq!(read_offer(&mut &b""[..]).unwrap(), None);
        assert!(matches!(
            read_offer(&mut &b"XTND00000001XCAP"[..]),
            Err(RemoteError::Eof(_))
        ));
    }
}
