//! Golden bytes: real distcc 3.4 exchanges (Debian's client against
//! Debian's daemon, captured through a logging proxy, spec §1.9) decoded by
//! our codec and reproduced by our encoder.

use distcc::protocol::{Decoded, Limits, Request, Response, decode_request, decode_response};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/proto/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn request(name: &str) -> Request {
    let bytes = fixture(name);
    match decode_request(&bytes, &Limits::default()).expect(name) {
        Decoded::Done(r, used) => {
            assert_eq!(used, bytes.len(), "{name}: trailing bytes");
            r
        }
        Decoded::NeedMore(n) => panic!("{name}: incomplete, needs {n}"),
    }
}

fn response(name: &str) -> Response {
    let bytes = fixture(name);
    match decode_response(&bytes, &Limits::default(), true).expect(name) {
        Decoded::Done(r, used) => {
            assert_eq!(used, bytes.len(), "{name}: trailing bytes");
            r
        }
        Decoded::NeedMore(n) => panic!("{name}: incomplete, needs {n}"),
    }
}

fn argv(r: &Request) -> Vec<String> {
    r.head
        .argv
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[test]
fn v1_request_matches_spec_worked_example() {
    let r = request("v1-hello.req");
    assert_eq!(r.head.version, 1);
    assert_eq!(argv(&r), ["gcc", "-c", "hello.c", "-o", "hello.o"]);
    assert_eq!(r.source.len(), 0x9d, "157 bytes of cpp output");
    assert!(r.source.ends_with(b"int main(void) { return 0; }\n"));
    assert_eq!(
        r.encode(),
        fixture("v1-hello.req"),
        "encoder reproduces 3.4 byte for byte"
    );
}

#[test]
fn v1_response_carries_the_object() {
    let r = response("v1-hello.resp");
    assert_eq!((r.version, r.status), (1, 0));
    assert!(r.stderr.is_empty() && r.stdout.is_empty());
    assert_eq!(r.object.len(), 0x450);
    assert_eq!(&r.object[..4], b"\x7fELF");
    assert_eq!(r.encode(), fixture("v1-hello.resp"));
}

#[test]
fn v2_request_and_response_decompress_to_the_v1_payloads() {
    let (v1, v2) = (request("v1-hello.req"), request("v2-hello.req"));
    assert_eq!(v2.head.version, 2);
    assert_eq!(argv(&v2), ["gcc", "-c", "hello.c", "-o", "hello2.o"]);
    assert_eq!(v2.source, v1.source);
    let (o1, o2) = (response("v1-hello.resp"), response("v2-hello.resp"));
    assert_eq!(o2.version, 2);
    assert_eq!(o2.object, o1.object, "same object through LZO");
}

#[test]
fn v2_encoding_is_byte_identical_to_minilzo() {
    // LZO1X-1 at level 3 is what miniLZO produces, so even the compressed
    // request and response are reproduced exactly.
    assert_eq!(request("v2-hello.req").encode(), fixture("v2-hello.req"));
    assert_eq!(response("v2-hello.resp").encode(), fixture("v2-hello.resp"));
}

#[test]
fn failed_compiles_send_stat_serr_and_empty_doto() {
    for name in ["v1-syntax-error.resp", "v2-syntax-error.resp"] {
        let r = response(name);
        assert_eq!(r.status, 0x100, "{name}: exit 1");
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(stderr.contains("error: ‘x’ undeclared"), "{name}: {stderr}");
        assert!(r.object.is_empty());
        assert!(fixture(name).ends_with(b"DOTO00000000"));
        assert_eq!(r.encode(), fixture(name), "{name}");
    }
}

proptest! {
    #[test]
    fn any_request_round_trips(
        version in 0u32..=2,
        args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..12),
        source in proptest::collection::vec(any::<u8>(), 0..4000),
    ) {
        let r = Request {
            head: distcc::protocol::RequestHead { version, cwd: None, argv: args },
            source,
            files: Vec::new(),
        };
        let bytes = r.encode();
        prop_assert_eq!(decode_request(&bytes, &Limits::default()).unwrap(), Decoded::Done(r, bytes.len()));
    }

    #[test]
    fn any_response_round_trips(
        version in 1u32..=3,
        status in any::<u32>(),
        stderr in proptest::collection::vec(any::<u8>(), 0..500),
        object in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let ok = status == 0;
        let r = Response {
            version,
            status,
            stderr,
            stdout: Vec::new(),
            object: if ok { object } else { Vec::new() },
            dotd: (ok && version == 3).then(|| b"x.o: x.c\n".to_vec()),
        };
        let bytes = r.encode();
        prop_assert_eq!(decode_response(&bytes, &Limits::default(), false).unwrap(), Decoded::Done(r, bytes.len()));
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_request(&bytes, &Limits::default());
        let _ = decode_response(&bytes, &Limits::default(), true);
    }
}
