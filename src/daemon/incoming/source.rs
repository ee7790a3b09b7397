//! The preprocessed source of protocols 1 and 2 (DOTI, spec §1.5), kept
//! in memory for the compiler's stdin when it is small enough and memory
//! allows, else written to a file, never held whole in memory twice:
//!
//! * protocol 1: the body is read into memory as it arrives; if it is too
//!   big, or the daemon's budget for requests runs out on the way, what
//!   has arrived goes to the file and the rest is streamed after it;
//! * protocol 2: the compressed body must be whole to be decompressed, so
//!   it is read into memory (charged to the budget, waiting for room if
//!   need be). A usual body is then decoded once into memory
//!   ([`super::expand`]); any other has its decompressed size measured
//!   without expanding it (a bomb is refused at the cost of reading its
//!   input once), and goes to memory or, through a small window, to the
//!   file.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use tokio::io::AsyncRead;

use super::pace::Part;
use super::{Incoming, MAX_READ, ReadError, offload, too_large};
use crate::protocol::codec::Codec;
use crate::protocol::token::{HEADER_LEN, Header, Token};
use crate::protocol::{Limits, ProtocolError};

/// Memory a streaming decompression uses (its window).
const STREAMING: u64 = 5 << 18;

/// Where a received source is.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    /// In memory.
    Memory(Vec<u8>),
    /// In the spill file, this many bytes.
    File(u64),
}

impl<R: AsyncRead + Unpin> Incoming<R> {
    /// DOTI: the preprocessed source (decompressed for v2). Up to
    /// `memory_max` bytes it is kept in memory (and handed to the compiler
    /// as an in-memory file); a bigger one goes to the file `spill` opens.
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
        self.begin(Part::Body);
        let len = len as usize;
        let codec = self.codec(version);
        let source = if codec != Codec::Raw && len > 0 {
            self.compressed(codec, len, limits, memory_max, spill)
                .await?
        } else if len <= memory_max && self.fill_in_memory(len).await? {
            let rest = self.buf.split_off(len);
            self.consumed += len;
            let data = std::mem::replace(&mut self.buf, rest);
            self.kept += data.capacity() as u64;
            Source::Memory(data)
        } else {
            self.stream(len, spill()?).await?
        };
        self.received();
        Ok(source)
    }

    /// Take a compressed frame of `len` bytes off the connection, counted
    /// as passing (charged) until its expansion is charged in its place.
    /// Shared by a body and a base (`XBAD`).
    pub(super) async fn take_packed(&mut self, len: usize) -> Result<Vec<u8>, ReadError> {
        self.fill(len).await?;
        let rest = self.buf.split_off(len);
        let packed = std::mem::replace(&mut self.buf, rest);
        self.consumed += len;
        self.passing = packed.capacity() as u64;
        self.settle();
        Ok(packed)
    }

    /// Read until the buffer holds `n` bytes, each step charged without
    /// waiting; `false` as soon as the budget has no room.
    async fn fill_in_memory(&mut self, n: usize) -> Result<bool, ReadError> {
        while self.buf.len() < n {
            let len = self.buf.len();
            if self.buf.capacity() - len < (n - len).min(MAX_READ) {
                let target = (self.buf.capacity() * 2).clamp(len + (n - len).min(MAX_READ), n);
                let total = self.in_use() + (target - self.buf.capacity()) as u64;
                if !self.ticket.try_hold(total) {
                    return Ok(false);
                }
                self.buf.reserve_exact(target - len);
            }
            if self.read_some().await? == 0 {
                return Err(self.truncated(n));
            }
        }
        Ok(true)
    }

    /// A protocol 1 body of `len` bytes (some maybe in the buffer already)
    /// written to `out` as it arrives.
    async fn stream(&mut self, len: usize, out: File) -> Result<Source, ReadError> {
        let mut out = BufWriter::with_capacity(MAX_READ, out);
        let mut left = len;
        while left > 0 {
            if self.buf.is_empty() {
                self.shrink();
                if self.read_more(left).await? == 0 {
                    return Err(self.truncated(left));
                }
            }
            let n = left.min(self.buf.len());
            out.write_all(&self.buf[..n])?;
            self.consume(n);
            left -= n;
        }
        out.flush()?;
        Ok(Source::File(len as u64))
    }

    /// A protocol 2 body: compressed in `codec`, `len` bytes.
    async fn compressed(
        &mut self,
        codec: Codec,
        len: usize,
        limits: &Limits,
        memory_max: usize,
        spill: impl FnOnce() -> io::Result<File>,
    ) -> Result<Source, ReadError> {
        let packed = self.take_packed(len).await?;
        let max = limits.max_body;
        let packed = match self
            .expand_at_once(codec, packed, max.min(memory_max as u64))
            .await?
        {
            Ok(data) => {
                self.kept += data.capacity() as u64;
                self.passing = 0;
                self.settle();
                return Ok(Source::Memory(data));
            }
            Err(packed) => packed,
        };
        let (packed, size) = offload(len, move || {
            let size = codec.decompressed_len(&packed, max);
            (packed, size)
        })
        .await?;
        let size = size.map_err(ProtocolError::from)?;
        let in_memory = size <= memory_max as u64 && self.ticket.try_hold(self.in_use() + size);
        let source = if in_memory {
            self.passing += size;
            let data = offload(len, move || codec.decompress(&packed, max))
                .await?
                .map_err(ProtocolError::from)?;
            self.kept += data.capacity() as u64;
            Source::Memory(data)
        } else {
            self.charge(STREAMING).await?;
            // The window writes about 1 MiB at a time: no BufWriter needed.
            let mut out = spill()?;
            let n = offload(len, move || codec.decompress_to(&packed, max, &mut out)).await??;
            Source::File(n)
        };
        self.passing = 0;
        self.settle();
        Ok(source)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::daemon::incoming::pending::{Caps, Pending};
    use crate::daemon::incoming::test_runtime as rt;
    use crate::protocol::{Request, RequestHead};

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

    /// Receive the source with the given in-memory limit and memory
    /// budget; return it, whether it came through the file, and the most
    /// memory charged on the way.
    fn read_source(
        bytes: Vec<u8>,
        version: u32,
        memory_max: usize,
        budget: u64,
    ) -> Result<(Vec<u8>, bool), ReadError> {
        rt().block_on(async move {
            let pending = std::sync::Arc::new(Pending::new(Caps {
                memory: budget,
                ..Caps::UNLIMITED
            }));
            let ticket = pending.admit(None).unwrap();
            let mut inc = Incoming::with_ticket(&bytes[..], Duration::from_secs(5), ticket);
            let limits = Limits::default();
            let head = inc.head(&limits).await?;
            assert_eq!(head.version, version);
            let path = std::env::temp_dir().join(format!(
                "incoming-{}-{version}-{memory_max}-{budget}",
                std::process::id()
            ));
            let spill = || File::create(&path);
            let got = match inc.source(version, &limits, memory_max, spill).await {
                Ok(Source::Memory(data)) => Ok((data, false)),
                Ok(Source::File(n)) => {
                    let data = std::fs::read(&path)?;
                    assert_eq!(n, data.len() as u64);
                    Ok((data, true))
                }
                Err(e) => Err(e),
            };
            let _ = std::fs::remove_file(&path);
            assert!(pending.budget.used() <= budget);
            drop(inc);
            assert_eq!(pending.budget.used(), 0, "memory given back");
            got
        })
    }

    #[test]
    fn sources_arrive_intact_in_both_versions() {
        let src: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let big = u64::MAX;
        for v in [1, 2] {
            for (max, spilled) in [(usize::MAX, false), (1000, true)] {
                let got = read_source(request(v, &src), v, max, big).unwrap();
                assert_eq!(got, (src.clone(), spilled), "v{v} max {max}");
            }
            let empty = read_source(request(v, b""), v, 1000, big).unwrap();
            assert_eq!(empty, (Vec::new(), false), "v{v} empty");
        }
    }

    /// With little memory for requests, a source that would fit in memory
    /// goes to the file instead (protocol 1: part way through).
    #[test]
    fn a_short_budget_sends_the_source_to_the_file() {
        let src = vec![b'z'; 3 << 20];
        for v in [1, 2] {
            let budget = 2 << 20;
            let got = read_source(request(v, &src), v, usize::MAX, budget).unwrap();
            assert_eq!(got, (src.clone(), true), "v{v}");
        }
    }

    #[test]
    fn truncated_bodies_are_reported() {
        let mut bytes = request(1, &[b'x'; 1000]);
        bytes.truncate(bytes.len() - 10);
        for max in [100, usize::MAX] {
            assert!(matches!(
                read_source(bytes.clone(), 1, max, u64::MAX),
                Err(ReadError::Truncated { .. })
            ));
        }
        let mut bytes = request(2, &[b'y'; 1000]);
        bytes.truncate(bytes.len() - 1);
        assert!(matches!(
            read_source(bytes, 2, usize::MAX, u64::MAX),
            Err(ReadError::Truncated { .. })
        ));
    }

    /// A usual LZO body is decoded once, straight into memory (it used to
    /// be measured first: two passes).
    #[test]
    fn a_usual_compressed_body_is_decoded_once() {
        use crate::protocol::lzo::PASSES;
        let src: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("int v{i} = {};\n", i % 97).into_bytes())
            .collect();
        PASSES.with(|p| p.set(0));
        let got = read_source(request(2, &src), 2, usize::MAX, u64::MAX).unwrap();
        assert_eq!(got, (src, false));
        assert_eq!(PASSES.with(|p| p.get()), 1);
    }

    /// A compressed body that would expand past the cap is refused before
    /// it is expanded.
    #[test]
    fn a_decompression_bomb_is_refused_unexpanded() {
        let mut bomb = vec![18, b'x', 0x20];
        bomb.extend(std::iter::repeat_n(0u8, 200_000)); // 51 MB of output
        bomb.extend_from_slice(&[1, 0, 0, 0x11, 0, 0]);
        let mut bytes = request(2, b"");
        bytes.truncate(bytes.len() - HEADER_LEN);
        crate::protocol::token::encode_header(&mut bytes, Token::Doti, bomb.len() as u32);
        bytes.extend_from_slice(&bomb);
        let err = rt().block_on(async move {
            let mut inc = Incoming::new(&bytes[..], Duration::from_secs(5));
            let limits = Limits {
                max_body: 10 << 20,
                ..Limits::default()
            };
            inc.head(&limits).await.unwrap();
            let spill = || -> io::Result<File> { panic!("nothing may be written") };
            inc.source(2, &limits, usize::MAX, spill).await.unwrap_err()
        });
        assert!(
            err.to_string()
                .contains("LZO output exceeds the limit of 10485760 bytes"),
            "{err}"
        );
    }
}
