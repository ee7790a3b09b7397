//! Reading a request off the connection (spec §1.5), driving the pure
//! decoders of [`crate::protocol`] with a growing buffer.
//!
//! Every read has the `DISTCC_IO_TIMEOUT` deadline. 3.4's blocking reads
//! ignore it, so a client that stops mid-request holds a 3.4 child for
//! ever (spec §4.6); we drop it after the timeout. Lengths are checked
//! against [`Limits`] before anything is allocated. A source is kept in
//! memory (for the compiler's stdin) up to a size; above it a v1 body is
//! streamed to a file, and a v2 body (read whole: it must be, to be
//! decompressed) is written there decompressed. A v3 request's files are
//! read by the `files` submodule.

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::protocol::token::{HEADER_LEN, Header, Token};
use crate::protocol::{Decoded, HeadDecoder, Limits, ProtocolError, RequestHead, compressed, lzo};

mod files;

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

/// Where a received source is.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    /// In memory.
    Memory(Vec<u8>),
    /// In the spill file, this many bytes.
    File(u64),
}

/// The receiving side of a connection.
#[derive(Debug)]
pub struct Incoming<R> {
    reader: R,
    buf: Vec<u8>,
    /// Bytes consumed from the start of the stream (for messages).
    consumed: usize,
    timeout: Duration,
}

impl<R: AsyncRead + Unpin> Incoming<R> {
    /// Wrap a reader.
    pub fn new(reader: R, timeout: Duration) -> Self {
        Self {
            reader,
            buf: Vec::with_capacity(8192),
            consumed: 0,
            timeout,
        }
    }

    /// Read more, appending to the buffer; `Ok(0)` at end of stream.
    async fn read_more(&mut self, want: usize) -> Result<usize, ReadError> {
        let room = want.saturating_sub(self.buf.len()).clamp(8192, 1 << 20);
        self.buf.reserve(room);
        match tokio::time::timeout(self.timeout, self.reader.read_buf(&mut self.buf)).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(ReadError::Timeout(self.timeout)),
        }
    }

    /// Make sure the buffer holds at least `n` bytes.
    async fn fill(&mut self, n: usize) -> Result<(), ReadError> {
        while self.buf.len() < n {
            if self.read_more(n).await? == 0 {
                return Err(ReadError::Truncated {
                    have: self.consumed + self.buf.len(),
                    want: self.consumed + n,
                });
            }
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.consumed += n;
    }

    /// DIST, (CDIR,) ARGC and the ARGVs, decoded as they arrive: each item
    /// is parsed once, whatever the size of the reads (issue 10).
    pub async fn head(&mut self, limits: &Limits) -> Result<RequestHead, ReadError> {
        let mut decoder = HeadDecoder::new(limits);
        loop {
            match decoder.decode(&self.buf)? {
                Decoded::Done(head, used) => {
                    self.consume(used);
                    return Ok(head);
                }
                Decoded::NeedMore(n) => self.fill(n).await?,
            }
        }
    }

    /// DOTI: the preprocessed source (decompressed for v2). Up to
    /// `memory_max` bytes it is kept in memory (and handed to the compiler
    /// as an in-memory file); a bigger one goes to the file `spill` opens, streamed
    /// there in protocol 1, so a huge source never sits in memory twice.
    pub async fn source(
        &mut self,
        version: u32,
        limits: &Limits,
        memory_max: usize,
        spill: impl FnOnce() -> io::Result<File>,
    ) -> Result<Source, ReadError> {
        self.fill(HEADER_LEN).await?;
        let len = Header::expect(&self.buf, Token::Doti)?.expect("header complete");
        if u64::from(len) > limits.max_body {
            return Err(too_large(Token::Doti, len, limits.max_body));
        }
        self.consume(HEADER_LEN);
        let len = len as usize;
        if compressed(version) && len > 0 {
            self.fill(len).await?;
            let rest = self.buf.split_off(len);
            let packed = std::mem::replace(&mut self.buf, rest);
            self.consumed += len;
            let max = limits.max_body;
            let data = offload(len, move || lzo::decompress(&packed, max))
                .await?
                .map_err(ProtocolError::from)?;
            if data.len() <= memory_max {
                return Ok(Source::Memory(data));
            }
            let (n, mut out) = (data.len(), spill()?);
            offload(n, move || out.write_all(&data)).await??;
            return Ok(Source::File(n as u64));
        }
        if len <= memory_max {
            self.fill(len).await?;
            let rest = self.buf.split_off(len);
            self.consumed += len;
            return Ok(Source::Memory(std::mem::replace(&mut self.buf, rest)));
        }
        // A big protocol 1 body: stream it to the file.
        let mut out = spill()?;
        let mut left = len;
        while left > 0 {
            if self.buf.is_empty() && self.read_more(left).await? == 0 {
                return Err(ReadError::Truncated {
                    have: self.consumed,
                    want: self.consumed + left,
                });
            }
            let n = left.min(self.buf.len());
            out.write_all(&self.buf[..n])?;
            self.consume(n);
            left -= n;
        }
        Ok(Source::File(len as u64))
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

fn too_large(token: Token, len: u32, cap: u64) -> ReadError {
    ProtocolError::TooLarge {
        token,
        len: len.into(),
        cap,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Request, RequestHead};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn request(version: u32, source: &[u8]) -> Vec<u8> {
        Request {
            head: RequestHead {
                version,
                cwd: None,
                argv: vec![b"gcc".to_vec(), b"-c".to_vec(), b"x.c".to_vec()],
            },
            source: source.to_vec(),
            files: Vec::new(),
        }
        .encode()
    }

    /// Receive the source with the given in-memory limit; return it and
    /// whether it came through the file.
    fn read_source(
        bytes: Vec<u8>,
        version: u32,
        memory_max: usize,
    ) -> Result<(Vec<u8>, bool), ReadError> {
        rt().block_on(async move {
            let mut inc = Incoming::new(&bytes[..], Duration::from_secs(5));
            let limits = Limits::default();
            let head = inc.head(&limits).await?;
            assert_eq!(head.version, version);
            let path = std::env::temp_dir().join(format!(
                "incoming-{}-{version}-{memory_max}",
                std::process::id()
            ));
            let spill = || File::create(&path);
            match inc.source(version, &limits, memory_max, spill).await? {
                Source::Memory(data) => Ok((data, false)),
                Source::File(n) => {
                    let data = std::fs::read(&path)?;
                    std::fs::remove_file(&path)?;
                    assert_eq!(n, data.len() as u64);
                    Ok((data, true))
                }
            }
        })
    }

    #[test]
    fn sources_arrive_intact_in_both_versions() {
        let src: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for v in [1, 2] {
            for (max, spilled) in [(usize::MAX, false), (1000, true)] {
                let got = read_source(request(v, &src), v, max).unwrap();
                assert_eq!(got, (src.clone(), spilled), "v{v} max {max}");
            }
            let empty = read_source(request(v, b""), v, 1000).unwrap();
            assert_eq!(empty, (Vec::new(), false), "v{v} empty");
        }
    }

    #[test]
    fn truncated_bodies_are_reported() {
        let mut bytes = request(1, &[b'x'; 1000]);
        bytes.truncate(bytes.len() - 10);
        for max in [100, usize::MAX] {
            assert!(matches!(
                read_source(bytes.clone(), 1, max),
                Err(ReadError::Truncated { .. })
            ));
        }
        let mut bytes = request(2, &[b'y'; 1000]);
        bytes.truncate(bytes.len() - 1);
        assert!(matches!(
            read_source(bytes, 2, usize::MAX),
            Err(ReadError::Truncated { .. })
        ));
    }
}
