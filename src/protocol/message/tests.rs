//! Requests and responses through the encoders and back, cut anywhere.

use super::*;
use crate::protocol::token::Token;
use crate::protocol::{Decoded, Limits, ProtocolError};

fn req(version: u32, argv: &[&str], source: &[u8]) -> Request {
    Request {
        head: RequestHead {
            version,
            cwd: (version > 2).then(|| b"/src".to_vec()),
            argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        },
        source: source.to_vec(),
        files: Vec::new(),
    }
}

#[test]
fn every_prefix_of_a_request_needs_more() {
    let r = req(2, &["gcc", "-c", "x.c", "-o", "x.o"], b"int x;\n");
    let bytes = r.encode();
    let limits = Limits::default();
    for cut in 0..bytes.len() {
        match decode_request(&bytes[..cut], &limits).unwrap() {
            Decoded::NeedMore(n) => assert!(n > cut && n <= bytes.len(), "cut {cut} n {n}"),
            Decoded::Done(..) => panic!("complete at {cut}"),
        }
    }
    assert_eq!(
        decode_request(&bytes, &limits).unwrap(),
        Decoded::Done(r, bytes.len())
    );
}

#[test]
fn head_decodes_before_the_body_arrives() {
    let r = req(1, &["gcc", "-c", "x.c"], &[b'x'; 1000]);
    let bytes = r.encode();
    let head_len = r.head.encode().len();
    let got = decode_request_head(&bytes[..head_len], &Limits::default()).unwrap();
    assert_eq!(got, Decoded::Done(r.head.clone(), head_len));
}

#[test]
fn huge_lengths_are_refused_without_waiting_for_them() {
    let limits = Limits {
        max_body: 1000,
        ..Limits::default()
    };
    let mut bytes = req(1, &["gcc"], b"").head.encode();
    bytes.extend_from_slice(b"DOTIffffffff");
    assert!(matches!(
        decode_request(&bytes, &limits),
        Err(ProtocolError::TooLarge {
            token: Token::Doti,
            ..
        })
    ));
    let bytes = b"DIST00000001ARGC7fffffff";
    assert!(matches!(
        decode_request(bytes, &limits),
        Err(ProtocolError::TooLarge {
            token: Token::Argc,
            ..
        })
    ));
}

#[test]
fn argc_zero_and_bad_versions_are_errors() {
    let l = Limits::default();
    assert_eq!(
        decode_request(b"DIST00000001ARGC00000000", &l),
        Err(ProtocolError::EmptyArgv)
    );
    assert_eq!(
        decode_request(b"DIST00000004", &l),
        Err(ProtocolError::BadVersion(4))
    );
    // 3.4 quirk kept: DIST 0 is served like v1.
    assert!(decode_request_head(b"DIST00000000ARGC00000001ARGV00000001x", &l).is_ok());
}

#[test]
fn v3_round_trip_with_files_and_links() {
    let mut r = req(3, &["gcc", "-c", "p.c"], b"");
    r.files = vec![
        FileEntry {
            name: b"/src/p.c".to_vec(),
            kind: FileKind::File(b"int p;\n".to_vec()),
        },
        FileEntry {
            name: b"/usr/include".to_vec(),
            kind: FileKind::Link(b"../../..".to_vec()),
        },
    ];
    let bytes = r.encode();
    assert_eq!(
        decode_request(&bytes, &Limits::default()).unwrap(),
        Decoded::Done(r, bytes.len())
    );
}

#[test]
fn v3_entry_must_be_file_or_link() {
    let mut bytes = req(3, &["gcc"], b"").head.encode();
    bytes.extend_from_slice(b"NFIL00000001NAME00000002/xDOTI00000000");
    assert!(matches!(
        decode_request(&bytes, &Limits::default()),
        Err(ProtocolError::UnexpectedToken {
            expected: "FILE or LINK",
            ..
        })
    ));
}

#[test]
fn failed_response_sends_empty_doto_and_no_dotd() {
    let r = Response {
        version: 3,
        status: 0x100,
        stderr: b"error".to_vec(),
        object: b"ignored".to_vec(),
        ..Response::default()
    };
    let bytes = r.encode();
    assert!(bytes.ends_with(b"DOTO00000000"));
    let Decoded::Done(got, n) = decode_response(&bytes, &Limits::default(), false).unwrap() else {
        panic!("incomplete")
    };
    assert_eq!(n, bytes.len());
    assert_eq!(got.object, b"");
    assert_eq!(got.dotd, None);
    assert_eq!(got.stderr, b"error");
}

#[test]
fn v3_success_without_dotd_is_accepted_only_at_eof() {
    let r = Response {
        version: 3,
        object: b"obj".to_vec(),
        ..Response::default()
    };
    let mut bytes = r.encode_head();
    put_bulk(&mut bytes, Token::Doto, 3, &r.object);
    let l = Limits::default();
    assert!(matches!(
        decode_response(&bytes, &l, false).unwrap(),
        Decoded::NeedMore(_)
    ));
    let Decoded::Done(got, _) = decode_response(&bytes, &l, true).unwrap() else {
        panic!("not accepted at eof")
    };
    assert_eq!(got.dotd, None);
    assert_eq!(got.object, b"obj");
}
