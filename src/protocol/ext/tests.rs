//! The extension's encodings byte for byte, as docs/extension.md shows
//! them, and their decoders on whole and cut input.

use super::*;
use crate::protocol::Decoded;
use crate::protocol::codec::Codec;
use crate::protocol::token::Header;

fn status() -> Status {
    Status {
        free: Some(3),
        slots: Some(4),
        queued: Some(0),
        load_centi: Some(125),
    }
}

#[test]
fn the_hello_is_a_dist_that_3_4_refuses() {
    let h = hello(VERSION);
    assert_eq!(h, b"DIST78740001");
    let param = Header::decode(&h).unwrap().unwrap().param;
    assert!(param > super::super::MAX_VERSION);
    assert_eq!(hello_version(param), Some(1));
    for v in [0, 1, 2, 3, 0x7874_0000, 0x7875_0001] {
        assert_eq!(hello_version(v), None, "{v:x}");
    }
}

#[test]
fn server_hello_bytes_are_as_documented() {
    let h = ServerHello {
        version: 1,
        caps: cap::ZSTD | cap::HEARTBEAT,
        status: status(),
    };
    let bytes = h.encode();
    assert_eq!(
        bytes,
        b"XTND00000001XCAP00000003XSTA00000030\
          FREE00000003JOBS00000004QUEU00000000LOAD0000007d"
    );
    assert_eq!(
        ServerHello::decode(&bytes).unwrap(),
        Decoded::Done(h, bytes.len())
    );
    for cut in 0..bytes.len() {
        assert!(matches!(
            ServerHello::decode(&bytes[..cut]).unwrap(),
            Decoded::NeedMore(n) if n > cut
        ));
    }
    assert!(ServerHello::decode(b"XTND00000002").is_err());
    assert!(ServerHello::decode(b"DONE00000002").is_err());
}

#[test]
fn unknown_status_items_are_skipped() {
    let mut bytes = Vec::new();
    put(&mut bytes, b"XSTA", 24);
    bytes.extend_from_slice(b"WHAT00000009FREE00000002");
    let Decoded::Done(Some(Before::Status(s)), n) = Before::decode(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(n, bytes.len());
    assert_eq!(s.free, Some(2));
    assert_eq!(s.slots, None);
    assert!(Before::decode(b"XSTA00000005FREE0").is_err());
}

#[test]
fn the_choice_carries_what_its_bits_say() {
    let c = Choice {
        caps: cap::HEARTBEAT | cap::COMPILER_ID | cap::ZSTD,
        heartbeat_ms: 2500,
        compiler_id: b"gcc 12".to_vec(),
        compile_anyway: true,
        ..Choice::default()
    };
    let bytes = c.encode();
    assert_eq!(
        bytes,
        b"XCAP0000000bXHBT000009c4XCID00000006gcc 12XCIW00000001"
    );
    assert_eq!(
        Choice::decode(&bytes, cap::KNOWN).unwrap(),
        Decoded::Done(c, bytes.len())
    );
    assert!(Choice::decode(&bytes, cap::ZSTD).is_err(), "not offered");
    let mut two = bytes.clone();
    two.truncate(two.len() - 1);
    two.push(b'2');
    assert!(Choice::decode(&two, cap::KNOWN).is_err(), "XCIW 2");
    let plain = Choice::default().encode();
    assert_eq!(plain, b"XCAP00000000");
}

#[test]
fn the_identity_goes_by_digest_and_whole_when_asked() {
    use crate::protocol::hdrcache::Digest;
    let c = Choice {
        caps: cap::COMPILER_ID | cap::COMPILER_ID_REF,
        compiler_id: b"gcc 12".to_vec(),
        ..Choice::default()
    };
    let bytes = c.encode();
    let digest = Digest::of(b"gcc 12");
    let mut want = b"XCAP00000208XCIR00000020".to_vec();
    want.extend_from_slice(&digest.0);
    want.extend_from_slice(b"XCIW00000000");
    assert_eq!(bytes, want);
    // The server gets the digest; encoded again, the same bytes.
    let Decoded::Done(got, n) = Choice::decode(&bytes, cap::KNOWN).unwrap() else {
        panic!()
    };
    assert_eq!(n, bytes.len());
    assert_eq!(got.compiler_digest, Some(digest));
    assert!(got.compiler_id.is_empty());
    assert_eq!(got.encode(), bytes);
    // A digest of another length is refused.
    let mut short = b"XCAP00000208XCIR0000001f".to_vec();
    short.extend_from_slice(&[0; 31]);
    short.extend_from_slice(b"XCIW00000000");
    assert!(Choice::decode(&short, cap::KNOWN).is_err());
    // Without COMPILER_ID the bit changes nothing.
    let lone = Choice {
        caps: cap::COMPILER_ID_REF,
        compiler_id: b"gcc 12".to_vec(),
        ..Choice::default()
    };
    assert_eq!(lone.encode(), b"XCAP00000200");
    // The question and the answer.
    let mut q = Vec::new();
    Before::IdentityWanted.encode(&mut q);
    assert_eq!(q, b"XCIQ00000000");
    assert!(Before::decode(b"XCIQ00000001").is_err());
    let answer = encode_identity(b"gcc 12");
    assert_eq!(answer, b"XCID00000006gcc 12");
    assert_eq!(
        decode_identity(&answer).unwrap(),
        Decoded::Done(b"gcc 12".to_vec(), answer.len())
    );
    assert_eq!(
        decode_identity(&answer[..13]).unwrap(),
        Decoded::NeedMore(18)
    );
    assert!(decode_identity(b"XCID00001001").is_err());
}

#[test]
fn outputs_bytes_are_as_documented() {
    let mut out = Vec::new();
    let files = [(b"x.su".to_vec(), b"x.c:1:5:main\t16\tstatic\n".to_vec())];
    encode_outputs(&files, Codec::Raw, &mut out);
    assert_eq!(
        out,
        b"XOUT00000001NAME00000004x.suFILE00000017x.c:1:5:main\t16\tstatic\n"
    );
    // docs/extension.md §8's example.
    let mut zstd = Vec::new();
    let su = b"src/x.c:1:5:main\t16\tstatic\n".to_vec();
    encode_outputs(&[(b"x.su".to_vec(), su.clone())], Codec::Zstd, &mut zstd);
    assert_eq!(&zstd[..40], b"XOUT00000001NAME00000004x.suFILE00000024");
    assert_eq!(Codec::Zstd.decompress(&zstd[40..], 100).unwrap(), su);
    let mut none = Vec::new();
    encode_outputs(&[], Codec::Zstd, &mut none);
    assert_eq!(none, b"XOUT00000000");
}

#[test]
fn before_done_items_round_trip_and_done_is_left_alone() {
    for b in [
        Before::Heartbeat(7),
        Before::Status(status()),
        Before::Mismatch(b"gcc 13".to_vec()),
        Before::IdentityWanted,
        Before::BaseWanted,
    ] {
        let mut bytes = Vec::new();
        b.encode(&mut bytes);
        assert_eq!(
            Before::decode(&bytes).unwrap(),
            Decoded::Done(Some(b), bytes.len())
        );
    }
    assert_eq!(
        Before::decode(b"DONE00000002").unwrap(),
        Decoded::Done(None, 0)
    );
    assert_eq!(Before::decode(b"DON").unwrap(), Decoded::NeedMore(12));
    assert!(Before::decode(b"XCMMffffffff").is_err());
}

#[test]
fn system_headers_items_are_as_documented() {
    let known = crate::protocol::hdrcache::Digest([0x5a; 32]);
    let c = Choice {
        caps: cap::SYSTEM_HEADERS,
        sys_known: vec![known],
        ..Choice::default()
    };
    let bytes = c.encode();
    let mut want = b"XCAP00000800XSYK00000020".to_vec();
    want.extend([0x5a; 32]);
    assert_eq!(bytes, want);
    assert_eq!(
        Choice::decode(&bytes, cap::KNOWN).unwrap(),
        Decoded::Done(c, bytes.len())
    );
    assert!(matches!(
        Choice::decode(&bytes[..30], cap::KNOWN).unwrap(),
        Decoded::NeedMore(_)
    ));
    let odd = [&b"XCAP00000800XSYK00000021"[..], &[0; 33]].concat();
    assert!(Choice::decode(&odd, cap::KNOWN).is_err());
    assert!(Choice::decode(b"XCAP00000800XSYK000000a0", cap::KNOWN).is_err());
    // None known: an empty XSYK.
    let none = Choice {
        caps: cap::SYSTEM_HEADERS,
        ..Choice::default()
    };
    assert_eq!(none.encode(), b"XCAP00000800XSYK00000000");
    // Before DONE: the index of a known list, or the list itself.
    for (item, wire) in [
        (Before::SystemKnown(1), b"XSYS00000001".to_vec()),
        (
            Before::SystemList(b"ab".to_vec()),
            b"XSYL00000002ab".to_vec(),
        ),
    ] {
        let mut out = Vec::new();
        item.encode(&mut out);
        assert_eq!(out, wire);
        assert_eq!(
            Before::decode(&wire).unwrap(),
            Decoded::Done(Some(item), wire.len())
        );
    }
    assert!(Before::decode(b"XSYS00000004").is_err());
}
