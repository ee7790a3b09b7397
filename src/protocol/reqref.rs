//! Pump requests against earlier ones (docs/extension.md §11): with the
//! extension's `REQUEST_REF` picked, a protocol 3 request's head and
//! manifest travel as one zstd frame (`XREQ`) compressed with earlier
//! requests the server remembers (`XREF`, their SHA-256s) as zstd's
//! dictionary. A job of a build shares nearly all of its flags, paths
//! and digests with the job before it, so it costs the few bytes that
//! differ instead of ~4 KB; a server that lacks a base answers `XMIS` and
//! the client sends the request again without bases. Pure encoders and
//! "need more" decoders, as in [`super::message`].
//!
//! A base only serves to decompress: what the job is made of is the
//! decompressed text, the client's own head and manifest, so no path or
//! file of another request reaches the job unless this client named it.

use super::codec::{self, CodecError};
use super::hdrcache::{self, DIGEST_LEN, Digest, Item};
use super::token::{HEADER_LEN, Header};
use super::{Decoded, HeadDecoder, Limits, ProtocolError, RequestHead};

/// Most bases one request may name.
pub const MAX_BASES: usize = 4;
/// zstd's level for the frame: texts are a few KB, so a slower level
/// than the bodies' costs microseconds and finds the shorter matches
/// (bench/RESULTS.md).
pub const LEVEL: i32 = 9;
/// The server's answer when it lacks a base: the 12 bytes `XMIS00000000`.
pub const MISSING: &[u8; HEADER_LEN] = b"XMIS00000000";

/// A request's text: its 3.4 protocol 3 head as on the wire (`DIST`,
/// `CDIR`, `ARGC`, `ARGV`s), then the manifest's entries (§10,
/// uncompressed). Bases are referenced by its [`Digest`].
pub fn text(head: &RequestHead, items: &[Item]) -> Vec<u8> {
    let mut out = head.encode();
    out.extend_from_slice(&hdrcache::manifest_body(items));
    out
}

/// The dictionary for `bases`: their texts back to back, in order.
pub fn prefix<T: AsRef<[u8]>>(bases: &[T]) -> Vec<u8> {
    bases
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<&[u8]>>()
        .concat()
}

fn put(out: &mut Vec<u8>, token: &[u8; 4], param: u32) {
    out.extend_from_slice(token);
    out.extend_from_slice(format!("{param:08x}").as_bytes());
}

/// Append `XREF` naming `bases` (text, digest) and `XREQ` with `text`
/// compressed against them.
pub fn encode(out: &mut Vec<u8>, bases: &[(Digest, &[u8])], text: &[u8]) {
    assert!(bases.len() <= MAX_BASES, "at most {MAX_BASES} bases");
    put(out, b"XREF", (bases.len() * DIGEST_LEN) as u32);
    for (d, _) in bases {
        out.extend_from_slice(&d.0);
    }
    let texts: Vec<&[u8]> = bases.iter().map(|(_, t)| *t).collect();
    let frame = codec::zstd_with_prefix(text, &prefix(&texts), LEVEL);
    put(out, b"XREQ", frame.len() as u32);
    out.extend_from_slice(&frame);
}

fn expect(buf: &[u8], token: &'static str) -> Result<Option<u32>, ProtocolError> {
    let Some(h) = Header::decode(buf)? else {
        return Ok(None);
    };
    if h.token != *token.as_bytes() {
        return Err(ProtocolError::UnexpectedToken {
            expected: token,
            got: h.token,
        });
    }
    Ok(Some(h.param))
}

fn bad(token: &[u8; 4], what: &'static str) -> ProtocolError {
    ProtocolError::Ext {
        token: *token,
        what,
    }
}

/// `XREF` at the front of `buf`: the bases' digests, at most
/// [`MAX_BASES`].
pub fn decode_refs(buf: &[u8]) -> Result<Decoded<Vec<Digest>>, ProtocolError> {
    let Some(len) = expect(buf, "XREF")? else {
        return Ok(Decoded::NeedMore(HEADER_LEN));
    };
    let len = len as usize;
    if len % DIGEST_LEN != 0 || len > MAX_BASES * DIGEST_LEN {
        return Err(bad(b"XREF", "not 0 to 4 digests of 32 bytes"));
    }
    if buf.len() < HEADER_LEN + len {
        return Ok(Decoded::NeedMore(HEADER_LEN + len));
    }
    let refs = buf[HEADER_LEN..HEADER_LEN + len]
        .chunks(DIGEST_LEN)
        .map(|c| Digest(c.try_into().expect("32 bytes")))
        .collect();
    Ok(Decoded::Done(refs, HEADER_LEN + len))
}

/// The length of the `XREQ` frame at the front of `buf`, at most `cap`.
pub fn decode_len(buf: &[u8], cap: u32) -> Result<Decoded<u32>, ProtocolError> {
    let Some(len) = expect(buf, "XREQ")? else {
        return Ok(Decoded::NeedMore(HEADER_LEN));
    };
    if len > cap {
        return Err(ProtocolError::ExtTooLarge {
            token: *b"XREQ",
            len,
            cap,
        });
    }
    Ok(Decoded::Done(len, HEADER_LEN))
}

/// The text in `frame`, decompressed with the bases' `prefix`, at most
/// `limits.max_head` bytes.
pub fn decompress(frame: &[u8], prefix: &[u8], limits: &Limits) -> Result<Vec<u8>, CodecError> {
    codec::unzstd_with_prefix(frame, prefix, limits.max_head)
}

/// The head and manifest of a text: a protocol 3 head under `limits`,
/// then the entries (at most `limits.max_files`).
pub fn decode_text(
    text: &[u8],
    limits: &Limits,
) -> Result<(RequestHead, Vec<Item>), ProtocolError> {
    let (head, used) = match HeadDecoder::new(limits).decode(text)? {
        Decoded::Done(head, used) => (head, used),
        Decoded::NeedMore(_) => return Err(bad(b"XREQ", "a head cut short")),
    };
    if head.version != 3 {
        return Err(bad(b"XREQ", "a head that is not protocol 3"));
    }
    let items = hdrcache::decode_items(&text[used..], limits)?;
    Ok((head, items))
}

/// What the server answered a request by reference.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// `XWNT` follows (its header is the 12 bytes read).
    Want,
    /// `XMIS`: a base is unknown; send the request again without bases.
    Missing,
}

/// Tell `XMIS` from the start of `XWNT` in the 12 bytes `buf`.
pub fn decode_answer(buf: &[u8; HEADER_LEN]) -> Result<Answer, ProtocolError> {
    if buf == MISSING {
        return Ok(Answer::Missing);
    }
    match Header::decode(buf)? {
        Some(h) if &h.token == b"XWNT" => Ok(Answer::Want),
        Some(h) => Err(ProtocolError::UnexpectedToken {
            expected: "XWNT or XMIS",
            got: h.token,
        }),
        None => unreachable!("12 bytes make a header"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::hdrcache::Content;

    fn job(src: &str, extra: &str, common: &[u8]) -> (RequestHead, Vec<Item>) {
        let mut argv: Vec<Vec<u8>> = ["gcc", "-O2", "-pipe", "-fno-plt", "-fexceptions"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        for i in 0..20 {
            argv.push(format!("-DHAVE_FEATURE_NUMBER_{i}=1").into_bytes());
        }
        argv.extend([b"-c".to_vec(), format!("src/{src}.c").into_bytes()]);
        argv.extend([b"-o".to_vec(), format!("src/{src}.o").into_bytes()]);
        let head = RequestHead {
            version: 3,
            cwd: Some(b"/home/someone/projects/xz-5.2/src/liblzma".to_vec()),
            argv,
        };
        let file = |name: &str, body: &[u8]| Item {
            name: format!("/home/someone/projects/xz-5.2/src/liblzma/{name}").into_bytes(),
            content: Content::File(Digest::of(body)),
        };
        let mut items = vec![file(&format!("src/{src}.c"), src.as_bytes())];
        items.push(file(&format!("src/{extra}.h"), extra.as_bytes()));
        items.push(file("common/common.h", common));
        for i in 0..30 {
            items.push(file(&format!("api/lzma/h{i}.h"), &[i]));
        }
        (head, items)
    }

    fn framed(bases: &[&[u8]], text: &[u8]) -> Vec<u8> {
        let refs: Vec<(Digest, &[u8])> = bases.iter().map(|t| (Digest::of(t), *t)).collect();
        let mut out = Vec::new();
        encode(&mut out, &refs, text);
        out
    }

    /// Parse `bytes` as XREF + XREQ and decompress with `bases`.
    fn unframe(bytes: &[u8], bases: &[&[u8]]) -> (RequestHead, Vec<Item>) {
        let limits = Limits::default();
        let Decoded::Done(refs, used) = decode_refs(bytes).unwrap() else {
            panic!("refs cut short")
        };
        assert_eq!(
            refs,
            bases.iter().map(|t| Digest::of(t)).collect::<Vec<_>>()
        );
        let Decoded::Done(len, n) = decode_len(&bytes[used..], 1 << 20).unwrap() else {
            panic!("no XREQ")
        };
        let frame = &bytes[used + n..used + n + len as usize];
        assert_eq!(used + n + len as usize, bytes.len());
        let text = decompress(frame, &prefix(bases), &limits).unwrap();
        decode_text(&text, &limits).unwrap()
    }

    #[test]
    fn a_job_against_earlier_ones_costs_only_what_differs() {
        let (h1, i1) = job("alpha", "x", b"v1");
        let (h2, i2) = job("beta", "y", b"v1");
        let (h3, i3) = job("gamma", "y", b"v2");
        let (t1, t2, t3) = (text(&h1, &i1), text(&h2, &i2), text(&h3, &i3));
        assert!(t3.starts_with(b"DIST00000003CDIR00000029/home/someone"));
        let alone = framed(&[], &t3);
        assert_eq!(&alone[..12], b"XREF00000000");
        assert_eq!(unframe(&alone, &[]), (h3.clone(), i3.clone()));
        let against = framed(&[&t1, &t2], &t3);
        assert_eq!(&against[..12], b"XREF00000040");
        assert_eq!(unframe(&against, &[&t1, &t2]), (h3, i3));
        // The changed source's and common.h's digests and names, not the
        // 30 other entries' nor the flags.
        assert!(
            against.len() < 200,
            "{} bytes against bases, {} alone, text {}",
            against.len(),
            alone.len(),
            t3.len()
        );
        assert!(alone.len() > 1000, "{}", alone.len());
    }

    #[test]
    fn a_wrong_base_or_a_bad_frame_is_an_error_not_a_request() {
        let (h1, i1) = job("alpha", "x", b"v1");
        let (h2, i2) = job("beta", "y", b"v1");
        let (t1, t2) = (text(&h1, &i1), text(&h2, &i2));
        let bytes = framed(&[&t1], &t2);
        let frame = &bytes[12 + 32 + 12..];
        let limits = Limits::default();
        // Without its base, or with another, the frame does not give t2.
        match decompress(frame, &t2, &limits) {
            Ok(text) => assert_ne!(text, t2),
            Err(e) => assert!(e.to_string().contains("zstd"), "{e}"),
        }
        assert!(decompress(&frame[..frame.len() - 1], &t1, &limits).is_err());
        let small = Limits {
            max_head: 100,
            ..limits
        };
        assert!(
            decompress(frame, &t1, &small).is_err(),
            "above the head limit"
        );
        assert!(
            decode_text(&t2[..t2.len() - 3], &limits).is_err(),
            "cut short"
        );
        let mut v2 = t2.clone();
        v2[11] = b'2';
        assert!(decode_text(&v2, &limits).is_err(), "protocol 2");
        for bad in [&b"XREF00000010"[..], b"XREF000000a0", b"XREQ00000000"] {
            assert!(decode_refs(bad).is_err(), "{bad:?}");
        }
        assert_eq!(decode_refs(b"XREF00000020").unwrap(), Decoded::NeedMore(44));
        assert!(decode_len(b"XREQ00000200", 0x100).is_err());
        assert_eq!(decode_answer(MISSING).unwrap(), Answer::Missing);
        assert_eq!(decode_answer(b"XWNT00000004").unwrap(), Answer::Want);
        assert!(decode_answer(b"DONE00000002").is_err());
    }
}
