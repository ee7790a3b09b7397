//! Property tests of the request and response decoders (issue 10): on
//! arbitrary bytes, on token soup (well-formed headers in any order, with
//! any lengths), and on valid requests cut at arbitrary points, every
//! decoder
//!
//! * never panics;
//! * gives the same answer whatever the read boundaries: a value or an
//!   error found on a prefix is the answer on the whole, "need more" always
//!   asks for more than it has, and the incremental head decoder fed piece
//!   by piece agrees with one pass;
//! * respects the caps: nothing decoded exceeds them, and the head decoder
//!   never asks for more than `max_head` bytes.
//!
//! Proptest runs on stable Rust, so this is the project's fuzzer.

use std::fmt;

use proptest::prelude::*;

use super::*;

/// Small caps, so generated input reaches them.
const SMALL: Limits = Limits {
    max_body: 300,
    max_string: 40,
    max_argc: 12,
    max_head: 400,
    max_files: 6,
};

const TOKENS: [&[u8; 4]; 17] = [
    b"DIST", b"ARGC", b"ARGV", b"CDIR", b"DOTI", b"NFIL", b"NAME", b"FILE", b"LINK", b"DONE",
    b"STAT", b"SERR", b"SOUT", b"DOTO", b"DOTD", b"dist", b"XXXX",
];

/// Headers with plausible tokens and parameters, bodies of the announced
/// length (or not), now and then a stray byte.
fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    let item = (
        0..TOKENS.len(),
        prop_oneof![0u32..4, 0u32..60, any::<u32>()],
        proptest::collection::vec(any::<u8>(), 0..50),
        0u8..10,
    );
    proptest::collection::vec(item, 0..30).prop_map(|items| {
        let mut out = Vec::new();
        for (t, param, body, quirk) in items {
            let token = TOKENS[t];
            let len = if quirk < 6 { body.len() as u32 } else { param };
            out.extend_from_slice(token);
            out.extend_from_slice(format!("{len:08x}").as_bytes());
            if quirk < 7 {
                out.extend_from_slice(&body);
            }
            if quirk == 9 {
                out.push(body.first().copied().unwrap_or(b'!'));
            }
        }
        out
    })
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..400), token_soup()]
}

fn valid_request() -> impl Strategy<Value = Request> {
    let arg = proptest::collection::vec(any::<u8>(), 0..30);
    let file = (
        proptest::collection::vec(any::<u8>(), 1..20),
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..200),
    );
    (
        0u32..=3,
        proptest::collection::vec(arg, 1..10),
        proptest::collection::vec(any::<u8>(), 0..500),
        proptest::collection::vec(file, 0..4),
    )
        .prop_map(|(version, argv, source, files)| {
            let v3 = server_cpp(version);
            Request {
                head: RequestHead {
                    version,
                    cwd: v3.then(|| b"/src".to_vec()),
                    argv,
                },
                source: if v3 { Vec::new() } else { source },
                files: if v3 {
                    files
                        .into_iter()
                        .map(|(name, link, data)| FileEntry {
                            name,
                            kind: if link {
                                FileKind::Link(data)
                            } else {
                                FileKind::File(data)
                            },
                        })
                        .collect()
                } else {
                    Vec::new()
                },
            }
        })
}

/// Cut points within `len`, sorted, ending with `len`.
fn cuts(len: usize, raw: &[usize]) -> Vec<usize> {
    let mut c: Vec<usize> = raw.iter().map(|r| r % (len + 1)).collect();
    c.push(len);
    c.sort_unstable();
    c.dedup();
    c
}

type Answer<T> = Result<Decoded<T>, ProtocolError>;

/// A decoder that starts over on every call answers on each prefix either
/// "need more" (for more than it has) or what it answers on the whole.
fn prefix_stable<T: PartialEq + fmt::Debug>(
    bytes: &[u8],
    cut_at: &[usize],
    decode: impl Fn(&[u8]) -> Answer<T>,
) -> Answer<T> {
    let whole = decode(bytes);
    for &cut in cut_at {
        match decode(&bytes[..cut]) {
            Ok(Decoded::NeedMore(n)) => assert!(n > cut, "need {n} with {cut}"),
            other => assert_eq!(other, whole, "at {cut} of {}", bytes.len()),
        }
    }
    whole
}

/// The incremental decoder fed the prefixes in turn; checks it against a
/// single pass and the caps.
fn head_in_pieces(bytes: &[u8], cut_at: &[usize], limits: &Limits) -> Answer<RequestHead> {
    let once = HeadDecoder::new(limits).decode(bytes);
    let mut d = HeadDecoder::new(limits);
    let mut got = None;
    for &cut in cut_at {
        match d.decode(&bytes[..cut]) {
            Ok(Decoded::NeedMore(n)) => {
                assert!(n > cut, "need {n} with {cut}");
                assert!(n as u64 <= limits.max_head, "asks for {n} bytes");
                got = Some(Ok(Decoded::NeedMore(n)));
            }
            other => {
                got = Some(other);
                break;
            }
        }
    }
    let got = got.expect("at least one call");
    assert_eq!(got, once, "pieces and one pass differ");
    if let Ok(Decoded::Done(h, used)) = &got {
        assert!(*used as u64 <= limits.max_head);
        assert!(h.argv.len() as u64 <= u64::from(limits.max_argc));
        let strings = h.argv.iter().chain(h.cwd.iter());
        assert!(
            strings
                .clone()
                .all(|a| a.len() as u64 <= u64::from(limits.max_string))
        );
    }
    got
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_decoder_on_any_input(bytes in any_input(), raw_cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let at = cuts(bytes.len(), &raw_cuts);
        for limits in [SMALL, Limits::default()] {
            let _ = head_in_pieces(&bytes, &at, &limits);
            let _ = prefix_stable(&bytes, &at, |b| decode_request_head(b, &limits));
            let _ = prefix_stable(&bytes, &at, |b| decode_raw_file_entry(b, &limits));
            if let Ok(Decoded::Done(r, _)) = prefix_stable(&bytes, &at, |b| decode_request(b, &limits)) {
                prop_assert!(r.source.len() as u64 <= limits.max_body);
                prop_assert!(r.files.len() as u64 <= u64::from(limits.max_files));
            }
            let _ = prefix_stable(&bytes, &at, |b| decode_response(b, &limits, false));
            let _ = decode_response(&bytes, &limits, true);
        }
    }

    #[test]
    fn valid_requests_in_any_pieces(r in valid_request(), raw_cuts in proptest::collection::vec(any::<usize>(), 0..12)) {
        let bytes = r.encode();
        let head_len = r.head.encode().len();
        let limits = Limits::default();
        let at = cuts(bytes.len(), &raw_cuts);
        prop_assert_eq!(
            head_in_pieces(&bytes, &at, &limits),
            Ok(Decoded::Done(r.head.clone(), head_len))
        );
        prop_assert_eq!(
            prefix_stable(&bytes, &at, |b| decode_request(b, &limits)),
            Ok(Decoded::Done(r.clone(), bytes.len()))
        );
        // Under small caps: refused or accepted, the same in any pieces.
        let _ = head_in_pieces(&bytes, &at, &SMALL);
        let _ = prefix_stable(&bytes, &at, |b| decode_request(b, &SMALL));
    }

    #[test]
    fn valid_responses_in_any_pieces(
        version in 1u32..=3,
        status in prop_oneof![Just(0u32), any::<u32>()],
        stderr in proptest::collection::vec(any::<u8>(), 0..200),
        object in proptest::collection::vec(any::<u8>(), 0..400),
        raw_cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let ok = status == 0;
        let r = Response {
            version,
            status,
            stderr,
            stdout: b"out".to_vec(),
            object: if ok { object } else { Vec::new() },
            dotd: (ok && server_cpp(version)).then(|| b"x.o: x.c\n".to_vec()),
        };
        let bytes = r.encode();
        let at = cuts(bytes.len(), &raw_cuts);
        let limits = Limits::default();
        prop_assert_eq!(
            prefix_stable(&bytes, &at, |b| decode_response(b, &limits, false)),
            Ok(Decoded::Done(r, bytes.len()))
        );
    }
}
