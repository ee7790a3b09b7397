//! Reading a request off the connection (spec §1.5), driving the pure
//! decoders of [`crate::protocol`] with a growing buffer, under the rules
//! that keep the daemon available (issue 10):
//!
//! * **time**: each part of the request (head, the gap while the client
//!   preprocesses, the body) has a deadline for the whole part, besides
//!   `DISTCC_IO_TIMEOUT` per read ([`pace`]): trickling one byte now and
//!   then holds nothing for ever. (3.4's blocking reads have no timeout at
//!   all, spec §4.6.)
//! * **memory**: every byte buffered is charged to the daemon's budget
//!   for requests being received before it is allocated, and lengths are
//!   checked against [`Limits`] before anything is read ([`budget`]);
//!   what the connection holds is given back when it ends.
//! * **fairness**: each connection has a row in the daemon's table
//!   ([`pending`]) saying how far its request has got; when connections
//!   or memory run short the daemon drops the one that made the least
//!   progress, which ends its read here.
//!
//! The head is decoded incrementally ([`HeadDecoder`]): linear in its
//! size whatever the reads. The source of protocols 1 and 2 is read by
//! the `source` submodule, a protocol 3 request's files by `files`. Our
//! own clients open with the extension's hello ([`hello`]) first.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{Instant, Sleep};

use crate::protocol::head::ITEM_OVERHEAD;
use crate::protocol::token::Token;
use crate::protocol::{Decoded, HeadDecoder, Limits, ProtocolError, RequestHead};

pub mod budget;
mod files;
pub mod hello;
mod manifest;
pub mod pace;
pub mod pending;
mod reqref;
mod source;

use pace::Part;
use pending::{NoMemory, Ticket};
pub use reqref::ByRef;
pub use source::Source;

/// Why a request could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The bytes broke the protocol.
    Protocol(ProtocolError),
    /// The client closed the connection early.
    Truncated {
        /// Bytes received so far.
        have: usize,
        /// Bytes the decoder was waiting for.
        want: usize,
    },
    /// No byte arrived within `DISTCC_IO_TIMEOUT`.
    Timeout(Duration),
    /// A part of the request did not arrive in time ([`pace`]).
    TooSlow {
        /// Which part.
        part: Part,
        /// Its bytes received.
        bytes: u64,
        /// Seconds since it began.
        secs: u64,
        /// The rule, in words.
        rule: String,
    },
    /// The request breaks a limit of the daemon.
    Refused(String),
    /// The daemon dropped the connection to make room for others.
    Dropped(String),
    /// The memory the request needs is not to be had.
    NoMemory(NoMemory),
    /// The socket or the temp file failed.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "{e}"),
            Self::Truncated { have, want } => write!(
                f,
                "client closed the connection after {have} bytes of the request, \
                 in a part that needs {want}"
            ),
            Self::Timeout(t) => write!(f, "client sent nothing for {}s", t.as_secs()),
            Self::TooSlow {
                part,
                bytes,
                secs,
                rule,
            } => write!(
                f,
                "client too slow: {bytes} bytes of the {} in {secs}s ({rule})",
                part.name()
            ),
            Self::Refused(why) | Self::Dropped(why) => f.write_str(why),
            Self::NoMemory(m) => write!(
                f,
                "no memory to receive the request: it needs {} bytes, and {} of the {} bytes \
                 for requests being received are in use",
                m.want, m.used, m.cap
            ),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<ProtocolError> for ReadError {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Sizes above which compression and big writes leave the event loop
/// (the daemon's runtime is one thread: small jobs must not wait behind a
/// 50 MB one).
pub const BIG: usize = 4 << 20;

/// Run `f` on the blocking pool when `size` is big, inline otherwise.
pub async fn offload<T: Send + 'static>(
    size: usize,
    f: impl FnOnce() -> T + Send + 'static,
) -> io::Result<T> {
    if size < BIG {
        return Ok(f());
    }
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)
}

/// A read of the head this small counts towards [`COALESCE_AFTER`].
const SMALL_READ: usize = 4096;
/// Small reads of one head after which the reads are spaced out.
const COALESCE_AFTER: u32 = 16;
/// The spacing.
const COALESCE: Duration = Duration::from_millis(5);
/// Smallest read buffer growth.
const MIN_READ: usize = 8192;
/// Largest read buffer growth at once (a body arrives in steps of this).
const MAX_READ: usize = 1 << 20;

/// The receiving side of a connection.
#[derive(Debug)]
pub struct Incoming<R> {
    reader: R,
    buf: Vec<u8>,
    /// Bytes consumed from the start of the stream (for messages).
    consumed: usize,
    timeout: Duration,
    /// This connection's row in the daemon's table.
    ticket: Ticket,
    /// The part of the request being read, since when, and its bytes.
    part: Part,
    part_start: Instant,
    part_bytes: u64,
    last_read: Instant,
    /// One timer for all reads, moved only when it fires or must fire
    /// sooner: resetting a timer for every read of a 30,000-argument head
    /// cost more than the reads.
    timer: Pin<Box<Sleep>>,
    timer_at: Instant,
    /// Memory the job keeps besides the buffer (the decoded head, a source
    /// in memory), and memory in passing (arguments being decoded, a body
    /// being decompressed, the last batch of files handed out).
    kept: u64,
    passing: u64,
    /// Protocol 3: entries still to come, and the totals so far.
    files_left: u32,
    files_wire: u64,
    files_out: u64,
    /// The extension agreed on zstd bodies ([`hello`]).
    zstd: bool,
}

impl<R: AsyncRead + Unpin> Incoming<R> {
    /// Wrap a reader, outside any table (tests).
    pub fn new(reader: R, timeout: Duration) -> Self {
        Self::with_ticket(reader, timeout, Ticket::unlimited())
    }

    /// Wrap the reader of the connection that holds `ticket`.
    pub fn with_ticket(reader: R, timeout: Duration, ticket: Ticket) -> Self {
        let now = Instant::now();
        // Far enough never to fire first; tokio caps sleeps at ~2 years.
        let idle = now + Duration::from_secs(365 * 86400);
        Self {
            reader,
            buf: Vec::new(),
            consumed: 0,
            timeout,
            ticket,
            part: Part::Head,
            part_start: now,
            part_bytes: 0,
            last_read: now,
            timer: Box::pin(tokio::time::sleep_until(idle)),
            timer_at: idle,
            kept: 0,
            passing: 0,
            files_left: 0,
            files_wire: 0,
            files_out: 0,
            zstd: false,
        }
    }

    /// Start `part` of the request now.
    fn begin(&mut self, part: Part) {
        self.part = part;
        self.part_start = Instant::now();
        self.part_bytes = 0;
        self.ticket.set_part(part);
    }

    /// The memory this connection uses now.
    fn in_use(&self) -> u64 {
        self.buf.capacity() as u64 + self.kept + self.passing
    }

    /// Charge what the connection uses now plus `extra`, waiting for
    /// memory until the current deadline.
    async fn charge(&mut self, extra: u64) -> Result<(), ReadError> {
        let total = self.in_use() + extra;
        if self.ticket.try_hold(total) {
            return Ok(());
        }
        let until = self.deadline();
        self.ticket
            .hold(total, until)
            .await
            .map_err(|m| match self.ticket.kicked() {
                Some(why) => ReadError::Dropped(why),
                None => ReadError::NoMemory(m),
            })
    }

    /// Bring the charge down to what is used (less always fits).
    fn settle(&mut self) {
        let used = self.in_use();
        if used <= self.ticket.held() {
            self.ticket.try_hold(used);
        }
    }

    /// Give a big buffer back once most of it is consumed.
    fn shrink(&mut self) {
        if self.buf.capacity() > 4 * MIN_READ && self.buf.len() < self.buf.capacity() / 4 {
            self.buf.shrink_to(self.buf.len().max(MIN_READ));
            self.settle();
        }
    }

    /// When the current read must end: the part's deadline, or
    /// `DISTCC_IO_TIMEOUT` after the last byte.
    fn deadline(&self) -> Instant {
        let io = self.last_read + self.timeout;
        pace::allowed(self.part, self.part_bytes, self.timeout)
            .map_or(io, |d| io.min(self.part_start + d))
    }

    fn expired(&self, now: Instant) -> ReadError {
        if now >= self.last_read + self.timeout {
            return ReadError::Timeout(self.timeout);
        }
        ReadError::TooSlow {
            part: self.part,
            bytes: self.part_bytes,
            secs: (now - self.part_start).as_secs(),
            rule: pace::rule(self.part, self.timeout),
        }
    }

    /// Read more, appending to the buffer, which grows towards `want`
    /// bytes (charged first); `Ok(0)` at end of stream.
    async fn read_more(&mut self, want: usize) -> Result<usize, ReadError> {
        let len = self.buf.len();
        let room = want.saturating_sub(len).clamp(MIN_READ, MAX_READ);
        if self.buf.capacity() - len < room {
            // Double (amortised linear), but not past what is wanted.
            let target = (self.buf.capacity() * 2)
                .min(want.max(len + room))
                .max(len + room);
            self.charge((target - self.buf.capacity()) as u64).await?;
            self.buf.reserve_exact(target - len);
            self.settle();
        }
        self.read_some().await
    }

    /// One read into the buffer's spare room, under the deadlines, unless
    /// the daemon drops the connection meanwhile.
    async fn read_some(&mut self) -> Result<usize, ReadError> {
        loop {
            let due = self.deadline();
            if due < self.timer_at {
                self.timer.as_mut().reset(due);
                self.timer_at = due;
            }
            let fired = tokio::select! {
                r = self.reader.read_buf(&mut self.buf) => {
                    let n = r?;
                    if n > 0 {
                        self.last_read = Instant::now();
                        self.part_bytes += n as u64;
                        self.ticket.progress();
                    }
                    return Ok(n);
                }
                why = self.ticket.wait_kicked() => return Err(ReadError::Dropped(why)),
                () = self.timer.as_mut() => Instant::now(),
            };
            // The timer was set for an earlier deadline that reads have
            // since moved, or this one has passed.
            let due = self.deadline();
            if fired >= due {
                return Err(self.expired(fired));
            }
            self.timer.as_mut().reset(due);
            self.timer_at = due;
        }
    }

    /// Make sure the buffer holds at least `n` bytes.
    async fn fill(&mut self, n: usize) -> Result<(), ReadError> {
        while self.buf.len() < n {
            if self.read_more(n).await? == 0 {
                return Err(self.truncated(n));
            }
        }
        Ok(())
    }

    fn truncated(&self, n: usize) -> ReadError {
        ReadError::Truncated {
            have: self.consumed + self.buf.len(),
            want: self.consumed + n,
        }
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.consumed += n;
    }

    /// DIST, (CDIR,) ARGC and the ARGVs, decoded as they arrive: each item
    /// is parsed once, whatever the size of the reads (issue 10).
    pub async fn head(&mut self, limits: &Limits) -> Result<RequestHead, ReadError> {
        let mut decoder = HeadDecoder::new(limits);
        let mut small_reads = 0;
        loop {
            match decoder.decode(&self.buf)? {
                Decoded::Done(head, used) => {
                    self.consume(used);
                    self.passing = 0;
                    self.kept += head_size(&head);
                    self.shrink();
                    self.settle();
                    self.begin(Part::Gap);
                    return Ok(head);
                }
                Decoded::NeedMore(n) => {
                    let held = decoder.held() as u64;
                    if held > self.passing {
                        self.passing = held;
                        self.charge(0).await?;
                    }
                    // A head in many tiny segments (3.4 writes each token
                    // on its own; 30,000 arguments are 60,000 writes):
                    // past a few, let them pile up in the socket rather
                    // than wake up for each one.
                    if small_reads > COALESCE_AFTER {
                        tokio::time::sleep(COALESCE).await;
                    }
                    let before = self.buf.len();
                    self.fill(n).await?;
                    if self.buf.len() - before < SMALL_READ {
                        small_reads += 1;
                    }
                }
            }
        }
    }

    /// The whole request has arrived.
    fn received(&mut self) {
        self.shrink();
        self.begin(Part::Received);
    }

    /// Wait until the client closes its side: 3.4 takes EOF while the
    /// compiler runs as "client gone" (spec §1.5, §4.6). Stray bytes are
    /// logged and ignored, as 3.4 does. Errors count as gone.
    pub async fn closed(&mut self) {
        if !self.buf.is_empty() {
            tracing::warn!(
                "client sent {} unexpected bytes after the request; ignored",
                self.buf.len()
            );
            self.buf.clear();
        }
        let mut byte = [0u8; 1];
        loop {
            match self.reader.read(&mut byte).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    tracing::warn!("client sent an unexpected byte during the compile; ignored")
                }
            }
        }
    }
}

/// The memory a decoded head holds, counted as the decoder counts it.
fn head_size(head: &RequestHead) -> u64 {
    let strings = head.argv.iter().chain(head.cwd.iter());
    strings.map(|a| (a.len() + ITEM_OVERHEAD) as u64).sum()
}

fn too_large(token: Token, len: u32, cap: u64) -> ReadError {
    ProtocolError::TooLarge {
        token,
        len: len.into(),
        cap,
    }
    .into()
}

/// A single-threaded runtime for the readers' unit tests (real time).
#[cfg(test)]
fn test_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::io::AsyncWriteExt;

    use super::pending::{Caps, Pending};
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap()
    }

    const HEAD: &[u8] = b"DIST00000001ARGC00000001ARGV00000003gcc";

    /// A client writing `bytes` one at a time, `every` apart, then staying
    /// connected; what reading the head gives, and when.
    async fn trickled(bytes: &'static [u8], every: Duration, io: u64) -> (ReadError, Duration) {
        let (mut w, r) = tokio::io::duplex(64);
        tokio::spawn(async move {
            for b in bytes {
                if w.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(every).await;
            }
            std::future::pending::<()>().await;
        });
        let started = Instant::now();
        let mut inc = Incoming::new(r, Duration::from_secs(io));
        let err = inc.head(&Limits::default()).await.unwrap_err();
        (err, started.elapsed())
    }

    /// One byte every 5 s kept a connection for ever with a timeout per
    /// read; the head's deadline ends it after 30 s.
    #[test]
    fn a_trickled_head_ends_at_its_deadline() {
        rt().block_on(async {
            let (err, took) = trickled(HEAD, Duration::from_secs(5), 300).await;
            assert!(
                matches!(
                    err,
                    ReadError::TooSlow {
                        part: Part::Head,
                        bytes: 6 | 7,
                        secs: 30,
                        ..
                    }
                ),
                "{err}"
            );
            assert!(took >= Duration::from_secs(30) && took < Duration::from_secs(31));
            assert!(
                err.to_string().contains("bytes of the request head in 30s"),
                "{err}"
            );
        });
    }

    #[test]
    fn silence_is_still_a_timeout_per_read() {
        rt().block_on(async {
            let (err, took) = trickled(b"DIST", Duration::from_secs(100), 20).await;
            assert!(matches!(err, ReadError::Timeout(_)), "{err}");
            assert_eq!(took.as_secs(), 20);
        });
    }

    /// After the head, the client may preprocess for up to the IO timeout;
    /// then the source must flow.
    #[test]
    fn the_gap_and_the_body_have_their_own_deadlines() {
        rt().block_on(async {
            let (mut w, r) = tokio::io::duplex(1 << 16);
            let mut inc = Incoming::new(r, Duration::from_secs(300));
            w.write_all(HEAD).await.unwrap();
            inc.head(&Limits::default()).await.unwrap();
            let t = Instant::now();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(250)).await;
                w.write_all(b"DOTI00100000").await.unwrap();
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if w.write_all(b"x").await.is_err() {
                        return;
                    }
                }
            });
            let spill = || -> io::Result<std::fs::File> { panic!("small source") };
            let err = inc
                .source(1, &Limits::default(), 1 << 30, spill)
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    ReadError::TooSlow {
                        part: Part::Body,
                        ..
                    }
                ),
                "{err}"
            );
            assert_eq!(
                t.elapsed().as_secs(),
                280,
                "250 s of preprocessing, then 30 s"
            );
        });
    }

    #[test]
    fn a_dropped_connection_stops_reading_at_once() {
        rt().block_on(async {
            let pending = Arc::new(Pending::new(Caps {
                per_address: 1,
                ..Caps::UNLIMITED
            }));
            let (_w, r) = tokio::io::duplex(64);
            let mut inc =
                Incoming::with_ticket(r, Duration::from_secs(300), pending.admit(None).unwrap());
            let newcomer = pending.admit(None).unwrap();
            let err = inc.head(&Limits::default()).await.unwrap_err();
            assert!(matches!(err, ReadError::Dropped(_)), "{err}");
            assert!(err.to_string().contains("(cap 1)"), "{err}");
            drop(newcomer);
        });
    }

    /// The head's buffer and arguments are charged while they arrive, and
    /// given back when the connection ends.
    #[test]
    fn the_head_is_charged_to_the_budget() {
        rt().block_on(async {
            let pending = Arc::new(Pending::new(Caps {
                memory: 64 << 20,
                ..Caps::UNLIMITED
            }));
            let arg = vec![b'a'; 1 << 20];
            let head = RequestHead {
                version: 1,
                cwd: None,
                argv: vec![arg; 8],
            }
            .encode();
            let mut inc = Incoming::with_ticket(
                &head[..],
                Duration::from_secs(5),
                pending.admit(None).unwrap(),
            );
            inc.head(&Limits::default()).await.unwrap();
            let used = pending.budget.used();
            assert!((8 << 20..20 << 20).contains(&used), "{used}");
            drop(inc);
            assert_eq!(pending.budget.used(), 0);
            // With less memory than the head needs, it is refused.
            pending.set_caps(Caps {
                memory: 4 << 20,
                ..Caps::UNLIMITED
            });
            let mut inc = Incoming::with_ticket(
                &head[..],
                Duration::from_secs(5),
                pending.admit(None).unwrap(),
            );
            let err = inc.head(&Limits::default()).await.unwrap_err();
            assert!(matches!(err, ReadError::NoMemory(_)), "{err}");
        });
    }
}
