//! LZO1X bodies for protocols 2 and 3 (spec §1.4).
//!
//! The stream is raw LZO1X with no header and no length prefix, ended by
//! the marker `11 00 00`. A zero-length payload is never compressed: it is
//! sent as length 0 with no body, and decoded as empty without running the
//! decompressor.
//!
//! Compression uses the `lzo1x` crate at level 3 (LZO1X-1 with a 14-bit
//! dictionary), which reproduces 3.4's miniLZO output byte for byte. Decompression is our own: `lzo1x::decompress` needs
//! the exact output size up front, and distcc never sends it, so this
//! decoder grows its output as it goes, under a cap.

use std::fmt;

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
}

impl fmt::Display for LzoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InputOverrun => f.write_str("LZO stream is truncated"),
            Self::LookbehindOverrun => f.write_str("LZO stream refers before its start"),
            Self::TrailingInput(n) => write!(f, "{n} bytes follow the end of the LZO stream"),
            Self::OutputTooLarge(cap) => write!(f, "LZO output exceeds the limit of {cap} bytes"),
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
    if src.is_empty() {
        return Ok(Vec::new());
    }
    Decoder {
        src,
        ip: 0,
        out: Vec::with_capacity(src.len().saturating_mul(3)),
        max_out,
    }
    .run()
}

struct Decoder<'a> {
    src: &'a [u8],
    ip: usize,
    out: Vec<u8>,
    max_out: u64,
}

impl Decoder<'_> {
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
        if (self.out.len() + n) as u64 > self.max_out {
            Err(LzoError::OutputTooLarge(self.max_out))
        } else {
            Ok(())
        }
    }

    fn literals(&mut self, n: usize) -> Result<(), LzoError> {
        let end = self.ip.checked_add(n).filter(|&e| e <= self.src.len());
        let end = end.ok_or(LzoError::InputOverrun)?;
        self.room(n)?;
        self.out.extend_from_slice(&self.src[self.ip..end]);
        self.ip = end;
        Ok(())
    }

    /// Copy `len` bytes starting `distance` bytes back (may overlap).
    fn copy_match(&mut self, distance: usize, len: usize) -> Result<(), LzoError> {
        if distance == 0 || distance > self.out.len() {
            return Err(LzoError::LookbehindOverrun);
        }
        self.room(len)?;
        let start = self.out.len() - distance;
        if distance >= len {
            self.out.extend_from_within(start..start + len);
        } else {
            for i in 0..len {
                let b = self.out[start + i];
                self.out.push(b);
            }
        }
        Ok(())
    }

    /// Two offset bytes (little endian, low 2 bits are the next state).
    fn offset16(&mut self) -> Result<(usize, usize), LzoError> {
        let lo = self.byte()?;
        let hi = self.byte()?;
        Ok(((lo >> 2) + (hi << 6), lo & 3))
    }

    /// The LZO1X decoding loop (state machine of lzo1x_d.ch, written from
    /// the format description in the Linux kernel's `lzo.rst`).
    fn run(mut self) -> Result<Vec<u8>, LzoError> {
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

    fn finish(self) -> Result<Vec<u8>, LzoError> {
        match self.src.len() - self.ip {
            0 => Ok(self.out),
            n => Err(LzoError::TrailingInput(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: u64 = 1 << 30;

    #[test]
    fn empty_is_never_compressed() {
        assert!(compress(b"").is_empty());
        assert_eq!(decompress(b"", CAP).unwrap(), b"");
    }

    #[test]
    fn round_trips_assorted_inputs() {
        let mut inputs: Vec<Vec<u8>> = vec![
            b"a".to_vec(),
            b"hello, world".to_vec(),
            vec![0xaa; 100],
            vec![0; 70_000],
            (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect(),
        ];
        let text: Vec<u8> = (0..5000)
            .flat_map(|i| format!("int f{i}(void) {{ return {i}; }}\n").into_bytes())
            .collect();
        inputs.push(text);
        for input in inputs {
            let c = compress(&input);
            assert_eq!(&c[c.len() - 3..], &[0x11, 0, 0], "end marker");
            assert_eq!(decompress(&c, CAP).unwrap(), input);
        }
    }

    #[test]
    fn decodes_what_lzo1x_crate_decodes() {
        let data: Vec<u8> = b"abcabcabcabcXYZ".repeat(1000);
        for level in 1..=13 {
            let c = lzo1x::compress(&data, lzo1x::CompressLevel::new(level));
            assert_eq!(decompress(&c, CAP).unwrap(), data, "level {level}");
        }
    }

    #[test]
    fn truncated_stream_is_an_error() {
        let c = compress(&b"some text that compresses, some text that compresses".repeat(20));
        for cut in [1, 2, 3, c.len() / 2] {
            assert!(decompress(&c[..c.len() - cut], CAP).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut c = compress(b"payload payload payload");
        c.push(0);
        assert_eq!(decompress(&c, CAP), Err(LzoError::TrailingInput(1)));
    }

    #[test]
    fn output_cap_is_enforced() {
        let c = compress(&vec![7u8; 1 << 20]);
        assert_eq!(decompress(&c, 1000), Err(LzoError::OutputTooLarge(1000)));
    }

    #[test]
    fn garbage_never_panics() {
        for seed in 0..2000u32 {
            let junk: Vec<u8> = (0..(seed % 64))
                .map(|i| (seed.wrapping_mul(2654435761) >> (i % 24)) as u8)
                .collect();
            let _ = decompress(&junk, 1 << 16);
        }
    }
}
