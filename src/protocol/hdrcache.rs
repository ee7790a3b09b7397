//! The header cache's exchange (docs/extension.md §10): with the
//! extension's `HEADER_CACHE` picked, a protocol 3 request lists its files
//! by the SHA-256 of their contents (`XMAN` instead of `NFIL`), the server
//! answers which contents it lacks (`XWNT`, a bitmap), and the client
//! sends only those (`FILE`, in the agreed codec). Pure encoders and
//! "need more" decoders, as in [`super::message`].
//!
//! The server keys its store by content only; which path a content is
//! seen under is whatever *this* request's manifest says, so one client's
//! file never appears under another client's path.

use std::fmt;

use super::codec::Codec;
use super::ext::{bad, put};
use super::token::{HEADER_LEN, Header, Token, encode_header};
use super::{Decoded, Limits, ProtocolError};

/// Bytes in a digest (SHA-256).
pub const DIGEST_LEN: usize = 32;

/// The SHA-256 of a file's contents.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; DIGEST_LEN]);

impl Digest {
    /// The digest of `data` (ring's SHA-256, with the CPU's SHA
    /// instructions where there are some).
    pub fn of(data: &[u8]) -> Self {
        let d = ring::digest::digest(&ring::digest::SHA256, data);
        let mut out = [0u8; DIGEST_LEN];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        f.write_str("…")
    }
}

/// What a manifest entry names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// A regular file with these contents (`XDIG`).
    File(Digest),
    /// A symbolic link with this target (`LINK`, as in protocol 3).
    Link(Vec<u8>),
}

/// One entry of a manifest: the client's absolute path and what is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The absolute path on the client (`NAME`).
    pub name: Vec<u8>,
    /// Its contents' digest, or a link target.
    pub content: Content,
}

/// Append `XMAN <len>` and the manifest: the entries back to back
/// (`NAME`, then `XDIG` with the 32-byte digest or `LINK` with the
/// target), as one body in `codec` (its paths share long prefixes).
pub fn encode_manifest(out: &mut Vec<u8>, items: &[Item], codec: Codec) {
    let body = codec.compress(&manifest_body(items));
    put(out, b"XMAN", body.len() as u32);
    out.extend_from_slice(&body);
}

/// The manifest's entries back to back, uncompressed (what `XMAN`'s body
/// decompresses to, and the second part of a request text,
/// [`super::reqref`]).
pub fn manifest_body(items: &[Item]) -> Vec<u8> {
    let mut body = Vec::new();
    for item in items {
        encode_header(&mut body, Token::Name, item.name.len() as u32);
        body.extend_from_slice(&item.name);
        match &item.content {
            Content::File(d) => {
                put(&mut body, b"XDIG", DIGEST_LEN as u32);
                body.extend_from_slice(&d.0);
            }
            Content::Link(target) => {
                encode_header(&mut body, Token::Link, target.len() as u32);
                body.extend_from_slice(target);
            }
        }
    }
    body
}

/// The length of the `XMAN` body at the front of `buf`, at most `cap`.
pub fn decode_len(buf: &[u8], cap: u32) -> Result<Decoded<u32>, ProtocolError> {
    let Some(h) = Header::decode(buf)? else {
        return Ok(Decoded::NeedMore(HEADER_LEN));
    };
    if &h.token != b"XMAN" {
        return Err(ProtocolError::UnexpectedToken {
            expected: "XMAN",
            got: h.token,
        });
    }
    if h.param > cap {
        return Err(ProtocolError::ExtTooLarge {
            token: h.token,
            len: h.param,
            cap,
        });
    }
    Ok(Decoded::Done(h.param, HEADER_LEN))
}

/// Every entry of a decompressed manifest body, at most
/// `limits.max_files` of them.
pub fn decode_items(body: &[u8], limits: &Limits) -> Result<Vec<Item>, ProtocolError> {
    let mut items = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        if items.len() >= limits.max_files as usize {
            return Err(bad(b"XMAN", "more entries than the NFIL limit"));
        }
        match decode_item(&body[pos..], limits)? {
            Decoded::Done(item, used) => {
                items.push(item);
                pos += used;
            }
            Decoded::NeedMore(_) => return Err(bad(b"XMAN", "an entry cut short")),
        }
    }
    Ok(items)
}

/// A header with a body of at most `cap` bytes at `buf[pos..]`: the token,
/// and where the body starts and ends; `Err(Ok(n))` when `n` bytes are
/// needed first.
fn sized(
    buf: &[u8],
    pos: usize,
    cap: u32,
) -> Result<([u8; 4], usize, usize), Result<usize, ProtocolError>> {
    let Some(h) = Header::decode(&buf[pos..]).map_err(Err)? else {
        return Err(Ok(pos + HEADER_LEN));
    };
    if h.param > cap {
        return Err(Err(ProtocolError::ExtTooLarge {
            token: h.token,
            len: h.param,
            cap,
        }));
    }
    let start = pos + HEADER_LEN;
    let end = start + h.param as usize;
    if buf.len() < end {
        return Err(Ok(end));
    }
    Ok((h.token, start, end))
}

/// One manifest entry from the front of `buf`.
pub fn decode_item(buf: &[u8], limits: &Limits) -> Result<Decoded<Item>, ProtocolError> {
    let step = || -> Result<(Item, usize), Result<usize, ProtocolError>> {
        let (token, start, end) = sized(buf, 0, limits.max_string)?;
        if &token != b"NAME" {
            return Err(Err(ProtocolError::UnexpectedToken {
                expected: "NAME",
                got: token,
            }));
        }
        let name = buf[start..end].to_vec();
        let (token, start, next) = sized(buf, end, limits.max_string)?;
        let content = match &token {
            b"XDIG" if next - start == DIGEST_LEN => {
                Content::File(Digest(buf[start..next].try_into().expect("32 bytes")))
            }
            b"XDIG" => return Err(Err(bad(b"XDIG", "a digest that is not 32 bytes"))),
            b"LINK" => Content::Link(buf[start..next].to_vec()),
            _ => {
                return Err(Err(ProtocolError::UnexpectedToken {
                    expected: "XDIG or LINK",
                    got: token,
                }));
            }
        };
        Ok((Item { name, content }, next))
    };
    match step() {
        Ok((item, used)) => Ok(Decoded::Done(item, used)),
        Err(Ok(n)) => Ok(Decoded::NeedMore(n)),
        Err(Err(e)) => Err(e),
    }
}

/// Bytes of the `XWNT` bitmap for a manifest of `n` entries.
pub const fn want_len(n: u32) -> usize {
    n.div_ceil(8) as usize
}

/// `XWNT` for a manifest of `n` entries: bit `i % 8` of byte `i / 8` is
/// set when entry `i`'s contents must be sent. `wanted` is ascending.
pub fn encode_want(out: &mut Vec<u8>, n: u32, wanted: &[u32]) {
    let mut bits = vec![0u8; want_len(n)];
    for &i in wanted {
        bits[i as usize / 8] |= 1 << (i % 8);
    }
    put(out, b"XWNT", bits.len() as u32);
    out.extend_from_slice(&bits);
}

/// The entries wanted, ascending, from `XWNT` at the front of `buf`,
/// answering the manifest `items`: only `XDIG` entries may be asked for,
/// and the bitmap is exactly as long as the manifest needs.
pub fn decode_want(buf: &[u8], items: &[Item]) -> Result<Decoded<Vec<u32>>, ProtocolError> {
    let n = items.len() as u32;
    let len = want_len(n);
    let Some(h) = Header::decode(buf)? else {
        return Ok(Decoded::NeedMore(HEADER_LEN));
    };
    if &h.token != b"XWNT" {
        return Err(ProtocolError::UnexpectedToken {
            expected: "XWNT",
            got: h.token,
        });
    }
    if h.param as usize != len {
        return Err(bad(b"XWNT", "a bitmap of the wrong length"));
    }
    if buf.len() < HEADER_LEN + len {
        return Ok(Decoded::NeedMore(HEADER_LEN + len));
    }
    let bits = &buf[HEADER_LEN..HEADER_LEN + len];
    let mut wanted = Vec::new();
    for (byte, b) in bits.iter().enumerate() {
        for bit in 0..8 {
            if b & (1 << bit) == 0 {
                continue;
            }
            let i = byte as u32 * 8 + bit;
            match items.get(i as usize).map(|it| &it.content) {
                Some(Content::File(_)) => wanted.push(i),
                Some(Content::Link(_)) => return Err(bad(b"XWNT", "a link's bit set")),
                None => return Err(bad(b"XWNT", "a bit past the manifest's end")),
            }
        }
    }
    Ok(Decoded::Done(wanted, HEADER_LEN + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<Item> {
        vec![
            Item {
                name: b"/src/x.c".to_vec(),
                content: Content::File(Digest::of(b"int x;\n")),
            },
            Item {
                name: b"/src/l.h".to_vec(),
                content: Content::Link(b"x.h".to_vec()),
            },
            Item {
                name: b"/src/x.h".to_vec(),
                content: Content::File(Digest::of(b"")),
            },
        ]
    }

    #[test]
    fn sha_256_as_everyone_computes_it() {
        let d = Digest::of(b"abc");
        assert_eq!(d.0[..4], [0xba, 0x78, 0x16, 0xbf], "FIPS 180-2's example");
        assert_eq!(format!("{d:?}"), "ba7816bf8f01cfea…");
    }

    #[test]
    fn manifest_bytes_are_as_documented_and_round_trip() {
        let items = items();
        let limits = Limits::default();
        let mut raw = Vec::new();
        encode_manifest(&mut raw, &items, Codec::Raw);
        assert!(raw.starts_with(b"XMAN000000a3NAME00000008/src/x.cXDIG00000020"));
        assert_eq!(decode_len(&raw, 1000).unwrap(), Decoded::Done(0xa3, 12));
        assert_eq!(decode_items(&raw[12..], &limits).unwrap(), items);
        for cut in 0..raw.len() - 12 {
            assert!(
                matches!(
                    decode_item(&raw[12..12 + cut], &limits).unwrap(),
                    Decoded::NeedMore(n) if n > cut
                ) || decode_item(&raw[12..12 + cut], &limits).is_ok()
            );
        }
        assert!(
            decode_items(&raw[12..raw.len() - 1], &limits).is_err(),
            "cut short"
        );
        for codec in [Codec::Lzo, Codec::Zstd] {
            let mut bytes = Vec::new();
            encode_manifest(&mut bytes, &items, codec);
            let Decoded::Done(len, 12) = decode_len(&bytes, 1000).unwrap() else {
                panic!("no length");
            };
            let body = codec
                .decompress(&bytes[12..12 + len as usize], 1000)
                .unwrap();
            assert_eq!(decode_items(&body, &limits).unwrap(), items);
        }
        let few = Limits {
            max_files: 2,
            ..limits
        };
        assert!(decode_items(&raw[12..], &few).is_err());
        assert!(decode_len(&raw, 100).is_err(), "above the cap");
        assert!(decode_len(b"NFIL00000001", 100).is_err());
        assert!(decode_item(b"NAME00000001xXDIG00000002ab", &limits).is_err());
        assert!(decode_item(b"NAME00000001xFILE00000000", &limits).is_err());
    }

    #[test]
    fn the_want_bitmap_asks_only_for_files_in_the_manifest() {
        let items = items();
        let mut bytes = Vec::new();
        encode_want(&mut bytes, 3, &[0, 2]);
        assert_eq!(bytes, b"XWNT00000001\x05");
        assert_eq!(
            decode_want(&bytes, &items).unwrap(),
            Decoded::Done(vec![0, 2], 13)
        );
        assert_eq!(
            decode_want(&bytes[..12], &items).unwrap(),
            Decoded::NeedMore(13)
        );
        let mut none = Vec::new();
        encode_want(&mut none, 3, &[]);
        assert_eq!(
            decode_want(&none, &items).unwrap(),
            Decoded::Done(vec![], 13)
        );
        for bad in [
            &b"XWNT00000001\x02"[..],
            b"XWNT00000001\x08",
            b"XWNT00000002\x01\x00",
        ] {
            assert!(decode_want(bad, &items).is_err(), "{bad:?}");
        }
        let mut empty = Vec::new();
        encode_want(&mut empty, 0, &[]);
        assert_eq!(empty, b"XWNT00000000");
        assert_eq!(decode_want(&empty, &[]).unwrap(), Decoded::Done(vec![], 12));
    }
}
