//! How bulk bodies (DOTI, FILE, SERR, SOUT, DOTO, DOTD and the
//! extension's files) travel: raw in protocol 1, LZO in protocols 2 and 3
//! (spec §1.4), zstd when our client and daemon agree on it
//! (docs/extension.md, capability `ZSTD`).
//!
//! Every codec keeps 3.4's rule that an empty body is sent as length 0
//! with nothing after it. A zstd body is one frame that states its
//! decompressed size, so a receiver knows what it will hold before it
//! allocates anything, and refuses a body that would exceed its cap.

use std::fmt;
use std::io::{self, Write};

use super::lzo::{self, LzoError};
use super::{compressed, zstd_body};

/// A body's encoding on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// As is (protocol 1).
    Raw,
    /// LZO1X (protocols 2 and 3).
    Lzo,
    /// One zstd frame with its content size (the extension).
    Zstd,
}

/// Why a body could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodecError {
    /// An LZO body is broken.
    Lzo(LzoError),
    /// A zstd body is broken, or is not one frame with its size.
    Zstd(String),
    /// The body would decompress past the cap.
    TooLarge(u64),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lzo(e) => write!(f, "{e}"),
            Self::Zstd(e) => write!(f, "zstd body: {e}"),
            Self::TooLarge(cap) => write!(f, "body exceeds the limit of {cap} bytes"),
        }
    }
}

impl std::error::Error for CodecError {}

impl From<LzoError> for CodecError {
    fn from(e: LzoError) -> Self {
        Self::Lzo(e)
    }
}

impl Codec {
    /// The codec distcc 3.4 uses for `version` (spec §1.4).
    pub const fn for_version(version: u32) -> Self {
        if compressed(version) {
            Self::Lzo
        } else {
            Self::Raw
        }
    }

    /// The codec of a request in `version` when the extension agreed on
    /// zstd (`zstd`): every compressed protocol switches to zstd.
    pub const fn negotiated(version: u32, zstd: bool) -> Self {
        match Self::for_version(version) {
            Self::Lzo if zstd => Self::Zstd,
            c => c,
        }
    }

    /// Encode a body; empty stays empty.
    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            _ if data.is_empty() => Vec::new(),
            Self::Raw => data.to_vec(),
            Self::Lzo => lzo::compress(data),
            // Compressing from memory into memory cannot fail but for
            // memory itself (the output bound is computed first).
            Self::Zstd => zstd_body::compress(data).expect("zstd compression"),
        }
    }

    /// Decode a body of at most `max` bytes decompressed.
    pub fn decompress(self, src: &[u8], max: u64) -> Result<Vec<u8>, CodecError> {
        match self {
            Self::Raw => Ok(src.to_vec()),
            Self::Lzo => Ok(lzo::decompress(src, max)?),
            Self::Zstd if src.is_empty() => Ok(Vec::new()),
            Self::Zstd => {
                let size = zstd_size(src, max)?;
                let out = zstd_body::decompress(src, size as usize).map_err(CodecError::Zstd)?;
                if out.len() as u64 != size {
                    return Err(CodecError::Zstd(format!(
                        "frame says {size} bytes, holds {}",
                        out.len()
                    )));
                }
                Ok(out)
            }
        }
    }

    /// Decode a body of at most `cap` bytes decompressed into one buffer
    /// allocated up front: `cap` bytes for LZO (whose size is known only
    /// at its end), the stated size for zstd. A body over `cap` fails with
    /// [`CodecError::TooLarge`] having allocated no more, so the daemon
    /// decodes a usual body in one pass and measures only the rest first
    /// ([`Codec::decompressed_len`]).
    pub fn decompress_within(self, src: &[u8], cap: u64) -> Result<Vec<u8>, CodecError> {
        match self {
            Self::Raw if src.len() as u64 > cap => Err(CodecError::TooLarge(cap)),
            Self::Lzo => {
                let out = Vec::with_capacity(if src.is_empty() { 0 } else { cap as usize });
                match lzo::decompress_into(src, cap, out) {
                    Err(LzoError::OutputTooLarge(_)) => Err(CodecError::TooLarge(cap)),
                    other => Ok(other?),
                }
            }
            _ => self.decompress(src, cap),
        }
    }

    /// The decompressed size of a body, found without expanding it in
    /// memory (a decompression bomb is refused before any allocation).
    pub fn decompressed_len(self, src: &[u8], max: u64) -> Result<u64, CodecError> {
        match self {
            Self::Raw => Ok(src.len() as u64),
            Self::Lzo => Ok(lzo::decompressed_len(src, max)?),
            Self::Zstd if src.is_empty() => Ok(0),
            Self::Zstd => zstd_size(src, max),
        }
    }

    /// Decode a body into `sink`, holding only a window in memory.
    pub fn decompress_to(self, src: &[u8], max: u64, sink: &mut dyn Write) -> io::Result<u64> {
        match self {
            Self::Raw => {
                sink.write_all(src)?;
                Ok(src.len() as u64)
            }
            Self::Lzo => lzo::decompress_to(src, max, sink),
            Self::Zstd if src.is_empty() => Ok(0),
            Self::Zstd => {
                let size = zstd_size(src, max).map_err(io::Error::other)?;
                let mut capped = Capped { sink, left: size };
                zstd::stream::copy_decode(src, &mut capped)?;
                if capped.left != 0 {
                    return Err(io::Error::other(CodecError::Zstd(
                        "frame holds fewer bytes than it says".into(),
                    )));
                }
                Ok(size)
            }
        }
    }
}

/// The content size a zstd body declares, checked: exactly one frame,
/// with its size, within `max`.
fn zstd_size(src: &[u8], max: u64) -> Result<u64, CodecError> {
    let bad = |what: &str| CodecError::Zstd(what.to_owned());
    let frame = zstd::zstd_safe::find_frame_compressed_size(src)
        .map_err(|_| bad("not a complete zstd frame"))?;
    if frame != src.len() {
        return Err(bad("bytes follow the zstd frame"));
    }
    let size = match zstd::zstd_safe::get_frame_content_size(src) {
        Ok(Some(n)) => n,
        _ => return Err(bad("the zstd frame does not state its size")),
    };
    if size > max {
        return Err(CodecError::TooLarge(max));
    }
    Ok(size)
}

/// One zstd frame of `data` (stating its size) compressed at `level` with
/// `prefix` as a raw-content dictionary: zstd finds `data`'s repeats of
/// `prefix` as it finds repeats within `data`. The receiver needs the same
/// prefix ([`unzstd_with_prefix`]).
pub fn zstd_with_prefix(data: &[u8], prefix: &[u8], level: i32) -> Vec<u8> {
    use zstd::zstd_safe::{CCtx, CParameter, compress_bound};
    let mut cctx = CCtx::create();
    let mut out = Vec::with_capacity(compress_bound(data.len()));
    // Setting a valid level, referencing a prefix before a frame and
    // compressing into a buffer of zstd's bound fail only for memory.
    cctx.set_parameter(CParameter::CompressionLevel(level))
        .and_then(|_| cctx.ref_prefix(prefix))
        .and_then(|_| cctx.compress2(&mut out, data))
        .expect("zstd compression with a prefix");
    out
}

/// Decode a frame made by [`zstd_with_prefix`] with the same `prefix`:
/// exactly one frame that states its size, at most `max` bytes.
pub fn unzstd_with_prefix(src: &[u8], prefix: &[u8], max: u64) -> Result<Vec<u8>, CodecError> {
    let size = zstd_size(src, max)?;
    let mut dctx = zstd::zstd_safe::DCtx::create();
    let mut out = Vec::with_capacity(size as usize);
    dctx.ref_prefix(prefix)
        .and_then(|_| dctx.decompress(&mut out, src))
        .map_err(|e| CodecError::Zstd(zstd::zstd_safe::get_error_name(e).to_owned()))?;
    if out.len() as u64 != size {
        return Err(CodecError::Zstd(format!(
            "frame says {size} bytes, holds {}",
            out.len()
        )));
    }
    Ok(out)
}

/// A writer that refuses to take more than the frame announced.
struct Capped<'a> {
    sink: &'a mut dyn Write,
    left: u64,
}

impl Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(io::Error::other(CodecError::Zstd(
                "frame holds more bytes than it says".into(),
            )));
        }
        self.sink.write_all(buf)?;
        self.left -= buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One allocation of `cap` bytes, whatever the body: a bomb stops at
    /// its end.
    #[test]
    fn decompress_within_allocates_the_cap_and_no_more() {
        let data = vec![7u8; 1 << 20];
        for codec in [Codec::Lzo, Codec::Zstd, Codec::Raw] {
            let packed = codec.compress(&data);
            let cap = data.len() as u64;
            let out = codec.decompress_within(&packed, cap).unwrap();
            assert_eq!(out, data, "{codec:?}");
            assert_eq!(
                codec.decompress_within(&packed, cap - 1),
                Err(CodecError::TooLarge(cap - 1)),
                "{codec:?}"
            );
        }
        let out = Codec::Lzo.decompress_within(&[], 100).unwrap();
        assert!(out.is_empty());
    }
    use crate::protocol::zstd_body::{LEVEL as ZSTD_LEVEL, SMALL as ZSTD_SMALL};

    fn sample() -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..5000 {
            v.extend_from_slice(format!("extern int f{i}(int x, const char *s);\n").as_bytes());
        }
        v
    }

    #[test]
    fn every_codec_round_trips_and_keeps_empty_empty() {
        let data = sample();
        for c in [Codec::Raw, Codec::Lzo, Codec::Zstd] {
            assert!(c.compress(b"").is_empty(), "{c:?}");
            assert_eq!(c.decompress(b"", 10).unwrap(), b"", "{c:?}");
            let packed = c.compress(&data);
            assert_eq!(c.decompress(&packed, 1 << 30).unwrap(), data, "{c:?}");
            assert_eq!(
                c.decompressed_len(&packed, 1 << 30).unwrap(),
                data.len() as u64
            );
            let mut out = Vec::new();
            c.decompress_to(&packed, 1 << 30, &mut out).unwrap();
            assert_eq!(out, data, "{c:?}");
        }
    }

    #[test]
    fn small_and_large_zstd_bodies_are_single_frames_with_their_size() {
        let small = sample();
        let mut large = Vec::new();
        while large.len() <= ZSTD_SMALL {
            large.extend_from_slice(&small);
        }
        assert!(small.len() <= ZSTD_SMALL);
        for data in [small, large] {
            let packed = Codec::Zstd.compress(&data);
            assert_eq!(
                zstd::zstd_safe::get_frame_content_size(&packed).ok(),
                Some(Some(data.len() as u64))
            );
            assert_eq!(Codec::Zstd.decompress(&packed, 1 << 30).unwrap(), data);
        }
    }

    #[test]
    fn small_bodies_compress_better_than_at_level_1() {
        // Real text rather than the repetitive sample: this crate's own
        // sources, about 55 KB.
        let data = [
            include_str!("codec.rs"),
            include_str!("lzo.rs"),
            include_str!("message/mod.rs"),
            include_str!("message/encode.rs"),
            include_str!("message/decode.rs"),
            include_str!("message/tests.rs"),
            include_str!("token.rs"),
        ]
        .concat()
        .into_bytes();
        let level1 = zstd::bulk::compress(&data, ZSTD_LEVEL).unwrap();
        assert!(
            Codec::Zstd.compress(&data).len() < level1.len(),
            "the double-fast settings must pay for themselves"
        );
    }

    #[test]
    fn zstd_is_smaller_than_lzo_on_source_text() {
        let data = sample();
        let (z, l) = (Codec::Zstd.compress(&data), Codec::Lzo.compress(&data));
        assert!(
            z.len() * 10 < l.len() * 7,
            "zstd {} lzo {}",
            z.len(),
            l.len()
        );
    }

    #[test]
    fn zstd_bodies_over_the_cap_or_broken_are_refused() {
        let data = sample();
        let packed = Codec::Zstd.compress(&data);
        let cap = data.len() as u64 - 1;
        assert_eq!(
            Codec::Zstd.decompress(&packed, cap),
            Err(CodecError::TooLarge(cap))
        );
        assert!(Codec::Zstd.decompressed_len(&packed, cap).is_err());
        assert!(
            Codec::Zstd
                .decompress_to(&packed, cap, &mut Vec::new())
                .is_err()
        );
        for cut in [1, 5, packed.len() / 2, packed.len() - 1] {
            assert!(Codec::Zstd.decompress(&packed[..cut], 1 << 30).is_err());
        }
        let mut trailing = packed.clone();
        trailing.push(0);
        assert!(Codec::Zstd.decompress(&trailing, 1 << 30).is_err());
        assert!(Codec::Zstd.decompress(b"not zstd at all", 1 << 30).is_err());
    }

    #[test]
    fn versions_map_to_3_4_codecs_unless_zstd_was_agreed() {
        assert_eq!(Codec::for_version(1), Codec::Raw);
        assert_eq!(Codec::for_version(2), Codec::Lzo);
        assert_eq!(Codec::for_version(3), Codec::Lzo);
        assert_eq!(Codec::negotiated(1, true), Codec::Raw);
        assert_eq!(Codec::negotiated(2, true), Codec::Zstd);
        assert_eq!(Codec::negotiated(3, false), Codec::Lzo);
    }
}
