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

use std::io;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{Instant, Sleep};

use crate::protocol::head::ITEM_OVERHEAD;
use crate::protocol::token::Token;
use crate::protocol::{Decoded, HeadDecoder, Limits, ProtocolError, RequestHead};

mod based;
pub mod budget;
mod error;
mod expand;
mod files;
pub mod hello;
mod manifest;
pub mod pace;
pub mod pending;
mod reqref;
mod source;

pub use error::ReadError;
use pace::Part;
use pending::Ticket;
pub use reqref::ByRef;
pub use source::Source;

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

    /// Bytes taken from the stream so far.
    pub fn consumed(&self) -> usize {
        self.consumed
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
mod tests;
