//! The extension on the server (docs/extension.md): the offer made to a
//! client that says hello, the heartbeats while its job waits for a slot
//! and compiles, and the status sent before the reply. A connection
//! without the hello never reaches this module's writers: 3.4 clients get
//! 3.4's bytes.

use std::future::Future;
use std::io;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::incoming::{Incoming, ReadError};
use super::job::{Shared, Stop, read_stop};
use super::summary::Category;
use super::sysinfo;
use crate::error::ExitCode;
use crate::protocol::ProtocolError;
use crate::protocol::codec::Codec;
use crate::protocol::ext::{self, Before, Choice, ServerHello, Status, cap};
use crate::protocol::token::HEADER_LEN;

/// What this daemon offers.
pub const OFFER: u32 = cap::ZSTD
    | cap::HEARTBEAT
    | cap::STATUS
    | cap::COMPILER_ID
    | cap::OUTPUTS
    | cap::PUMP_OUTPUTS
    | cap::SYSTEM_HEADERS;

/// What this daemon offers now: [`OFFER`], the header cache and
/// requests by reference when its store is on (and bodies against a
/// base, with the base store), and identities by digest
/// unless it serves one connection per process (`--inetd`), where none
/// would be remembered and every job would be asked for its identity.
pub fn offer(shared: &Shared) -> u32 {
    let stored = match shared.headers {
        Some(_) => OFFER | cap::HEADER_CACHE | cap::REQUEST_REF,
        None => OFFER,
    };
    let based = match shared.bases {
        Some(_) => stored | cap::BODY_BASE,
        None => stored,
    };
    if shared.settings.inetd {
        based
    } else {
        based | cap::COMPILER_ID_REF
    }
}

/// One connection's agreement.
#[derive(Clone, Debug)]
pub struct Session {
    /// Extension version in use.
    pub version: u32,
    /// What the client chose.
    pub choice: Choice,
    /// Our compiler's identity, when it differs from the client's and the
    /// client asked for the compile anyway (`XCIW 1`): sent as `XCMM`
    /// before the reply.
    pub mismatch: Option<Vec<u8>>,
}

impl Session {
    /// The codec of bodies in a request of protocol `version`.
    pub fn codec(&self, version: u32) -> Codec {
        Codec::negotiated(version, self.choice.has(cap::ZSTD))
    }

    /// The heartbeat period, if heartbeats were chosen.
    pub fn heartbeat(&self) -> Option<Duration> {
        self.choice.has(cap::HEARTBEAT).then(|| {
            Duration::from_millis(self.choice.heartbeat_ms.max(ext::MIN_HEARTBEAT_MS).into())
        })
    }

    /// What to send before DONE: a compiler mismatch the client accepted,
    /// the status, if chosen.
    pub fn before_done(&self, shared: &Shared) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(ours) = &self.mismatch {
            Before::Mismatch(ours.clone()).encode(&mut out);
        }
        if self.choice.has(cap::STATUS) {
            Before::Status(status(shared)).encode(&mut out);
        }
        out
    }

    /// For the debug log.
    pub fn describe(&self) -> String {
        let names = [
            (cap::ZSTD, "zstd"),
            (cap::HEARTBEAT, "heartbeats"),
            (cap::STATUS, "status"),
            (cap::COMPILER_ID, "compiler check"),
            (cap::OUTPUTS, "outputs"),
            (cap::HEADER_CACHE, "header cache"),
            (cap::PUMP_OUTPUTS, "pump-mode outputs"),
            (cap::REQUEST_REF, "requests by reference"),
            (cap::COMPILER_ID_REF, "compiler identity by digest"),
            (cap::BODY_BASE, "bodies against a base"),
            (cap::SYSTEM_HEADERS, "system headers"),
        ];
        let used: Vec<&str> = names
            .iter()
            .filter(|(bit, _)| self.choice.has(*bit))
            .map(|(_, n)| *n)
            .collect();
        format!("extension {} ({})", self.version, used.join(", "))
    }
}

/// The daemon's load now.
pub fn status(shared: &Shared) -> Status {
    Status {
        free: Some(shared.compile_slots.available_permits() as u32),
        slots: Some(shared.stats.max_kids().max(1)),
        queued: Some(shared.waiting.load(Ordering::Relaxed)),
        load_centi: sysinfo::load1().map(|l| (l * 100.0).round().clamp(0.0, 1e9) as u32),
    }
}

/// If the client says hello: make the offer and read its choice. `None`
/// for a 3.4 client (nothing was read beyond what the head needs). A
/// client that closes after the offer was probing (docs/extension.md
/// §3): that ends quietly, like a port probe.
pub(super) async fn open<R, W>(
    inc: &mut Incoming<R>,
    writer: &mut W,
    shared: &Shared,
) -> Result<Option<Session>, Stop>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let Some(theirs) = inc.hello().await.map_err(read_stop)? else {
        return Ok(None);
    };
    let version = theirs.min(ext::VERSION);
    let caps = offer(shared);
    let offer = ServerHello {
        version,
        caps,
        status: status(shared),
    };
    send(writer, &offer.encode(), shared.settings.io_timeout)
        .await
        .map_err(|e| read_stop(ReadError::Io(e)))?;
    let choice = match inc.choice(caps).await {
        Ok(c) => c,
        Err(ReadError::Truncated { have, want }) if want - have == HEADER_LEN => {
            return Err(Stop {
                category: Category::Other,
                ret: ExitCode::Truncated,
                reason: "client probed for the extension and closed".into(),
                quiet: true,
            });
        }
        // Not the client's mistake: it chose from what it remembers of an
        // earlier offer, and sends the job again once it has read this
        // one (docs/extension.md §2.1). Worth an info line, not a warning.
        Err(ReadError::Protocol(ProtocolError::Ext { token, what }))
            if &token == b"XCAP" && what == ext::NOT_OFFERED =>
        {
            return Err(Stop {
                category: Category::Other,
                ret: ExitCode::ProtocolError,
                reason: format!(
                    "client chose from an earlier offer of this server (now {caps:#x}); \
                     it sends the job again after reading this one"
                ),
                quiet: true,
            });
        }
        Err(e) => return Err(read_stop(e)),
    };
    Ok(Some(Session {
        version,
        choice,
        mismatch: None,
    }))
}

/// Write `bytes` within `timeout`.
pub async fn send<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    timeout: Duration,
) -> io::Result<()> {
    let write = async {
        writer.write_all(bytes).await?;
        writer.flush().await
    };
    match tokio::time::timeout(timeout, write).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("client did not read for {}s", timeout.as_secs()),
        )),
    }
}

/// Run `work` (waiting for a slot, compiling), sending a heartbeat every
/// `period` meanwhile. A heartbeat that cannot be written stops the
/// heartbeats, not the work: a client that went away is noticed by the
/// compile's own watch on the connection.
pub async fn beating<W, T>(
    period: Option<Duration>,
    writer: &mut W,
    timeout: Duration,
    work: impl Future<Output = T>,
) -> T
where
    W: AsyncWrite + Unpin,
{
    let Some(period) = period else {
        return work.await;
    };
    let started = tokio::time::Instant::now();
    let mut work = std::pin::pin!(work);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut alive = true;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = ticks.tick(), if alive => {
                let mut beat = Vec::new();
                Before::Heartbeat(started.elapsed().as_secs() as u32).encode(&mut beat);
                // Written here, not raced against the work: a heartbeat is
                // never cut in half on the wire.
                alive = send(writer, &beat, timeout).await.is_ok();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_flow_while_the_work_runs_and_stop_with_it() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let mut out = Vec::new();
            let work = tokio::time::sleep(Duration::from_millis(3500));
            beating(
                Some(Duration::from_secs(1)),
                &mut out,
                Duration::from_secs(5),
                work,
            )
            .await;
            assert_eq!(out, b"XBEA00000001XBEA00000002XBEA00000003");
            let mut out = Vec::new();
            beating(None, &mut out, Duration::from_secs(5), async {}).await;
            assert!(out.is_empty());
        });
    }
}
