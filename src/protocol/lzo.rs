//! LZO1X bodies for protocols 2 and 3 (spec §1.4).
//!
//! The stream is raw LZO1X with no header and no length prefix, ended by
//! the marker `11 00 00`. A zero-length payload is never compressed: it is
//! sent as length 0 with no body, and decoded as empty without running the
//! decompressor.
//!
//! Compression uses the `lzo1x` crate at level 3 (LZO1X-1 with a 14-bit
//! dictionary), which reproduces 3.4's miniLZO output byte for byte.
//! Decompression is our own: `lzo1x::decompress` needs the exact output
//! size up front, and distcc never sends it, so this decoder grows its
//! output as it goes, under a cap. The same decoding loop can also only
//! count the output ([`decompressed_len`]: a decompression bomb, a few MiB
//! that expand 255-fold, is refused before anything is allocated) or pass
//! it on to a writer holding just the last 48 KiB it may refer back to
//! ([`decompress_to`]: big bodies never sit in memory whole; issue 10).
//! The daemon mostly needs neither: it decodes once into a buffer reserved
//! up front, which the cap keeps the output within ([`decompress_into`]).

use std::fmt;
use std::io::{self, Write};

/// Why a compressed body could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LzoError {
    /// The stream ended before its end marker.
    InputOverrun,
    /// A match refers to bytes before the start of the output.
    LookbehindOverrun,
    /// Bytes follow the end marker (3.4 treats this as an error too).
    TrailingInput(usize),
    /// The output would exceed the cap.
    OutputTooLarge(u64),
    /// The sink of [`decompress_to`] failed (its error is returned instead).
    SinkFailed,
}

impl fmt::Display for LzoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InputOverrun => f.write_str("LZO stream is truncated"),
            Self::LookbehindOverrun => f.write_str("LZO stream refers before its start"),
            Self::TrailingInput(n) => write!(f, "{n} bytes follow the end of the LZO stream"),
            Self::OutputTooLarge(cap) => write!(f, "LZO output exceeds the limit of {cap} bytes"),
            Self::SinkFailed => f.write_str("writing the decompressed output failed"),
        }
    }
}

impl std::error::Error for LzoError {}

/// Compress `data` as distcc does: empty stays empty.
pub fn compress(data: &[u8]) -> Vec<u8> {
    if data.is_empty() {
        return Vec::new();
    }
    lzo1x::compress(data, lzo1x::CompressLevel::new(3))
}

/// Decompress a body; an empty body is an empty file.
pub fn decompress(src: &[u8], max_out: u64) -> Result<Vec<u8>, LzoError> {
    // Never reserve more than the input can expand to under the cap.
    let guess = (src.len() as u64).saturating_mul(3).min(max_out);
    decompress_into(src, max_out, Vec::with_capacity(guess as usize))
}

/// Decompress a body after what `out` holds, at most `max_out` bytes in
/// all: with `out`'s capacity reserved at `max_out`, the one allocation
/// there is, a decompression bomb included (it fails at the cap).
pub fn decompress_into(src: &[u8], max_out: u64, out: Vec<u8>) -> Result<Vec<u8>, LzoError> {
    if src.is_empty() {
        return Ok(out);
    }
    decode(src, max_out, out)
}

/// The size `src` decompresses to, found without producing the output:
/// the whole stream is checked (structure, distances, end marker) and a
/// decompression bomb is refused at the cost of reading its input once.
pub fn decompressed_len(src: &[u8], max_out: u64) -> Result<u64, LzoError> {
    if src.is_empty() {
        return Ok(0);
    }
    decode(src, max_out, Count(0)).map(|c| c.0)
}

/// Decompress into `sink`, holding only a window of the output in memory
/// (a few MiB at most, whatever the output size): for bodies too big to
/// keep in memory. Returns the output size. A malformed stream is an
/// `InvalidData` error wrapping the [`LzoError`].
pub fn decompress_to(src: &[u8], max_out: u64, sink: &mut dyn Write) -> io::Result<u64> {
    if src.is_empty() {
        return Ok(0);
    }
    let mut error = None;
    let out = Window {
        buf: Vec::with_capacity(FLUSH_AT + WINDOW),
        flushed: 0,
        sink,
        error: &mut error,
    };
    match decode(src, max_out, out) {
        Ok(mut w) => w.flush_all(),
        Err(e) => Err(error.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidData, e))),
    }
}

#[cfg(test)]
thread_local! {
    /// Decoding passes run on this thread: the daemon's tests count them.
    pub static PASSES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn decode<O: Out>(src: &[u8], max_out: u64, out: O) -> Result<O, LzoError> {
    #[cfg(test)]
    PASSES.with(|p| p.set(p.get() + 1));
    Decoder {
        src,
        ip: 0,
        out,
        max_out,
    }
    .run()
}

/// Where decoded bytes go: a `Vec`, a counter, or a window flushed to a
/// sink.
trait Out {
    /// Bytes produced so far.
    fn produced(&self) -> u64;
    /// Append literal bytes.
    fn literals(&mut self, bytes: &[u8]) -> Result<(), LzoError>;
    /// Append `len` bytes copied from `distance` bytes back (may overlap);
    /// `distance` is between 1 and the bytes produced.
    fn copy_match(&mut self, distance: usize, len: usize) -> Result<(), LzoError>;
}

impl Out for Vec<u8> {
    fn produced(&self) -> u64 {
        self.len() as u64
    }

    fn literals(&mut self, bytes: &[u8]) -> Result<(), LzoError> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    fn copy_match(&mut self, distance: usize, len: usize) -> Result<(), LzoError> {
        copy_within_vec(self, distance, len);
        Ok(())
    }
}

/// Copy `len` bytes from `distance` back. An overlapping copy repeats the
/// last `distance` bytes: copied in chunks that double, not byte by byte
/// (a 1 MiB run of one byte is 20 copies).
fn copy_within_vec(v: &mut Vec<u8>, distance: usize, len: usize) {
    let start = v.len() - distance;
    let mut left = len;
    while left > 0 {
        // What lies from `start` to the end is a whole number of periods.
        let n = left.min(v.len() - start);
        v.extend_from_within(start..start + n);
        left -= n;
    }
}

/// Counts the output without keeping it.
struct Count(u64);

impl Out for Count {
    fn produced(&self) -> u64 {
        self.0
    }

    fn literals(&mut self, bytes: &[u8]) -> Result<(), LzoError> {
        self.0 += bytes.len() as u64;
        Ok(())
    }

    fn copy_match(&mut self, _distance: usize, len: usize) -> Result<(), LzoError> {
        self.0 += len as u64;
        Ok(())
    }
}

/// The farthest an LZO1X match reaches back (M4: 16384 + 16384 + 16383).
const WINDOW: usize = 49152;
/// Output kept before it is written to the sink.
const FLUSH_AT: usize = 1 << 20;

/// The last [`WINDOW`] bytes of output at least; the rest goes to the sink.
struct Window<'a> {
    buf: Vec<u8>,
    flushed: u64,
    sink: &'a mut dyn Write,
    /// Where a write error goes, for the caller to report.
    error: &'a mut Option<io::Error>,
}

impl Window<'_> {
    fn maybe_flush(&mut self) -> Result<(), LzoError> {
        if self.buf.len() < FLUSH_AT + WINDOW {
            return Ok(());
        }
        let n = self.buf.len() - WINDOW;
        if let Err(e) = self.sink.write_all(&self.buf[..n]) {
            *self.error = Some(e);
            return Err(LzoError::SinkFailed);
        }
        self.buf.drain(..n);
        self.flushed += n as u64;
        Ok(())
    }

    /// Write what is left; the output size.
    fn flush_all(&mut self) -> io::Result<u64> {
        self.sink.write_all(&self.buf)?;
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        Ok(self.flushed)
    }
}

impl Out for Window<'_> {
    fn produced(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    fn literals(&mut self, bytes: &[u8]) -> Result<(), LzoError> {
        self.buf.extend_from_slice(bytes);
        self.maybe_flush()
    }

    fn copy_match(&mut self, distance: usize, len: usize) -> Result<(), LzoError> {
        // The window holds at least WINDOW bytes once anything is flushed.
        debug_assert!(distance <= self.buf.len());
        // A long match is copied in pieces so the window stays bounded.
        let mut left = len;
        while left > 0 {
            let n = left.min(FLUSH_AT);
            copy_within_vec(&mut self.buf, distance, n);
            left -= n;
            self.maybe_flush()?;
        }
        Ok(())
    }
}

struct Decoder<'a, O> {
    src: &'a [u8],
    ip: usize,
    out: O,
    max_out: u64,
}

impl<O: Out> Decoder<'_, O> {
    fn byte(&mut self) -> Result<usize, LzoError> {
        let b = *self.src.get(self.ip).ok_or(LzoError::InputOverrun)?;
        self.ip += 1;
        Ok(usize::from(b))
    }

    /// A run length continued in zero bytes: each 0 adds 255, then the
    /// first non-zero byte is added to `base`.
    fn long_length(&mut self, base: usize) -> Result<usize, LzoError> {
        let mut t = 0usize;
        loop {
            let b = self.byte()?;
            if b != 0 {
                return Ok(t + base + b);
            }
            t += 255;
        }
    }

    fn room(&self, n: usize) -> Result<(), LzoError> {
        if self.out.produced() + n as u64 > self.max_out {
            Err(LzoError::OutputTooLarge(self.max_out))
        } else {
            Ok(())
        }
    }

    fn literals(&mut self, n: usize) -> Result<(), LzoError> {
        let end = self.ip.checked_add(n).filter(|&e| e <= self.src.len());
        let end = end.ok_or(LzoError::InputOverrun)?;
        self.room(n)?;
        self.out.literals(&self.src[self.ip..end])?;
        self.ip = end;
        Ok(())
    }

    /// Copy `len` bytes starting `distance` bytes back (may overlap).
    fn copy_match(&mut self, distance: usize, len: usize) -> Result<(), LzoError> {
        if distance == 0 || distance as u64 > self.out.produced() {
            return Err(LzoError::LookbehindOverrun);
        }
        self.room(len)?;
        self.out.copy_match(distance, len)
    }

    /// Two offset bytes (little endian, low 2 bits are the next state).
    fn offset16(&mut self) -> Result<(usize, usize), LzoError> {
        let lo = self.byte()?;
        let hi = self.byte()?;
        Ok(((lo >> 2) + (hi << 6), lo & 3))
    }

    /// The LZO1X decoding loop (state machine of lzo1x_d.ch, written from
    /// the format description in the Linux kernel's `lzo.rst`).
    fn run(mut self) -> Result<O, LzoError> {
        // `state` = number of literals (0-3) that follow the last match;
        // after a long literal run it is 4, which changes how a small
        // instruction (< 16) is read.
        let mut state: usize;
        let first = self.byte()?;
        if first > 17 {
            let n = first - 17;
            self.literals(n)?;
            state = if n < 4 { n } else { 4 };
        } else {
            self.ip -= 1;
            state = 0;
        }
        loop {
            let t = self.byte()?;
            let next_state;
            if t >= 64 {
                // M2: 3-8 bytes, distance 1-2048.
                let b = self.byte()?;
                let distance = 1 + ((t >> 2) & 7) + (b << 3);
                self.copy_match(distance, (t >> 5) + 1)?;
                next_state = t & 3;
            } else if t >= 32 {
                // M3: distance 1-16384.
                let len = match t & 31 {
                    0 => self.long_length(31)?,
                    n => n,
                } + 2;
                let (off, s) = self.offset16()?;
                self.copy_match(off + 1, len)?;
                next_state = s;
            } else if t >= 16 {
                // M4: distance 16385-49151, or the end marker.
                let high = (t & 8) << 11;
                let len = match t & 7 {
                    0 => self.long_length(7)?,
                    n => n,
                } + 2;
                let (off, s) = self.offset16()?;
                let distance = high + off;
                if distance == 0 {
                    return self.finish();
                }
                self.copy_match(distance + 0x4000, len)?;
                next_state = s;
            } else if state == 0 {
                // A literal run of 4 or more bytes.
                let n = match t {
                    0 => self.long_length(15)?,
                    n => n,
                } + 3;
                self.literals(n)?;
                state = 4;
                continue;
            } else if state == 4 {
                // 3-byte match right after a literal run, distance 2049-3072.
                let b = self.byte()?;
                self.copy_match(1 + 0x800 + (t >> 2) + (b << 2), 3)?;
                next_state = t & 3;
            } else {
                // M1: 2-byte match, distance 1-1024.
                let b = self.byte()?;
                self.copy_match(1 + (t >> 2) + (b << 2), 2)?;
                next_state = t & 3;
            }
            if next_state > 0 {
                self.literals(next_state)?;
            }
            state = next_state;
        }
    }

    fn finish(self) -> Result<O, LzoError> {
        match self.src.len() - self.ip {
            0 => Ok(self.out),
            n => Err(LzoError::TrailingInput(n)),
        }
    }
}

#[cfg(test)]
#[path = "lzo_tests.rs"]
mod tests;
