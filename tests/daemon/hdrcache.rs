//! The header cache on our daemon, byte by byte (docs/extension.md §10):
//! a hand-driven client says hello, picks the header cache, sends a
//! manifest and the bodies asked for. A body whose digest is not its
//! entry's is refused and never stored; a right one is stored and not
//! asked for again; `--header-cache-size 0` offers no header cache.
//! Requests by reference (§11): a base the daemon lacks gets `XMIS`,
//! then the request whole; a client that insists is refused.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use distcc::protocol::codec::Codec;
use distcc::protocol::ext::{self, Choice, ServerHello, cap};
use distcc::protocol::hdrcache::{self, Content, Digest, Item};
use distcc::protocol::message::put_bulk_with;
use distcc::protocol::reqref;
use distcc::protocol::{Decoded, Limits, RequestHead, Token, decode_response};

use super::harness::{Daemon, Farm, Kind, Opts, text};

const OK_C: &[u8] = b"int ok = 1;\n";

/// Connect and say hello; the offer's capabilities.
fn hello(port: u16) -> (TcpStream, u32) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(&ext::hello(ext::VERSION)).unwrap();
    let mut buf = Vec::new();
    loop {
        if let Decoded::Done(h, _) = ServerHello::decode(&buf).unwrap() {
            return (s, h.caps);
        }
        let mut b = [0u8; 256];
        let n = s.read(&mut b).unwrap();
        assert!(n > 0, "closed at the hello");
        buf.extend_from_slice(&b[..n]);
    }
}

/// `gcc -c ok.c` in the farm's sources: the head and the manifest.
fn ok_request(farm: &Farm) -> (RequestHead, [Item; 1]) {
    let src = farm.src();
    let head = RequestHead {
        version: 3,
        cwd: Some(src.to_str().unwrap().as_bytes().to_vec()),
        argv: ["gcc", "-c", "ok.c", "-o", "ok.o"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect(),
    };
    let items = [Item {
        name: src.join("ok.c").to_str().unwrap().as_bytes().to_vec(),
        content: Content::File(Digest::of(OK_C)),
    }];
    (head, items)
}

/// Pick the header cache alone (LZO bodies), send `gcc -c ok.c` from the
/// farm's sources with ok.c's digest, read XWNT: the entries asked for.
fn manifest(farm: &Farm, port: u16) -> (TcpStream, Vec<u32>) {
    let (mut s, caps) = hello(port);
    assert_ne!(caps & cap::HEADER_CACHE, 0, "offer {caps:#x}");
    let choice = Choice {
        caps: cap::HEADER_CACHE,
        ..Choice::default()
    };
    let mut out = choice.encode();
    let (head, items) = ok_request(farm);
    out.extend(head.encode());
    hdrcache::encode_manifest(&mut out, &items, Codec::Lzo);
    s.write_all(&out).unwrap();
    let mut want = [0u8; 13];
    s.read_exact(&mut want).unwrap();
    let Decoded::Done(wanted, _) = hdrcache::decode_want(&want, &items).unwrap() else {
        panic!("short XWNT");
    };
    (s, wanted)
}

fn send_body(s: &mut TcpStream, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put_bulk_with(&mut out, Token::File, Codec::Lzo, body);
    s.write_all(&out).unwrap();
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    reply
}

fn compiled(reply: &[u8]) {
    match decode_response(reply, &Limits::default(), true) {
        Ok(Decoded::Done(r, _)) => assert_eq!(r.status, 0, "{}", text(&r.stderr)),
        other => panic!("bad reply {other:?}: {:?}", text(reply)),
    }
}

/// Our daemon logging at debug level.
fn debug_daemon(farm: &Farm) -> Daemon {
    farm.daemon(
        Kind::Ours,
        &Opts {
            args: vec!["--log-level".into(), "debug".into()],
            ..Opts::default()
        },
    )
}

#[test]
fn the_daemon_keeps_only_contents_whose_digest_is_right() {
    crate::require_tool!("gcc");
    let farm = Farm::new("hdrcache");
    farm.write_src("ok.c", OK_C);
    let d = debug_daemon(&farm);
    // Other bytes than the digest names: refused, no reply.
    let (mut s, wanted) = manifest(&farm, d.port);
    assert_eq!(wanted, [0]);
    let reply = send_body(&mut s, b"int evil = 1;\n");
    assert!(reply.is_empty(), "{:?}", text(&reply));
    assert!(d.wait_log("do not have the digest its manifest entry names"));
    assert_eq!(d.wait_count("REJ_BAD_REQ", 1), 1, "{}", d.log_text());
    // Not stored: asked for again; the right bytes compile.
    let (mut s, wanted) = manifest(&farm, d.port);
    assert_eq!(wanted, [0]);
    compiled(&send_body(&mut s, OK_C));
    // Stored: not asked for; the request ends with the manifest.
    let (mut s, wanted) = manifest(&farm, d.port);
    assert_eq!(wanted, Vec::<u32>::new());
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    compiled(&reply);
    assert_eq!(d.wait_count("COMPILE_OK", 2), 2, "{}", d.log_text());
    // Off: not offered.
    let off = Daemon::start(&distcc_config(&farm).args(["--header-cache-size", "0"]));
    let (_, caps) = hello(off.port);
    assert_eq!(caps & cap::HEADER_CACHE, 0, "offer {caps:#x}");
}

fn distcc_config(farm: &Farm) -> crate::support::distccd::Config {
    crate::support::distccd::Config::new(Kind::Ours, farm.path("off.log"))
        .home(farm.path("home"))
        .tmpdir(farm.path("dtmp"))
        .listen(Some("127.0.0.1"))
        .allow(["127.0.0.1"])
        .masquerade_dir(farm.path("masq"))
}

/// Pick the header cache and requests by reference (LZO bodies), send
/// `gcc -c ok.c` as `XREF` naming `bases` and `XREQ`; the 12 bytes of
/// the answer.
fn by_ref(s: &mut TcpStream, farm: &Farm, bases: &[&[u8]], pick: bool) -> ([u8; 12], Vec<u8>) {
    let (head, items) = ok_request(farm);
    let text = reqref::text(&head, &items);
    let mut out = Vec::new();
    if pick {
        out = Choice {
            caps: cap::HEADER_CACHE | cap::REQUEST_REF,
            ..Choice::default()
        }
        .encode();
    }
    let refs: Vec<(Digest, &[u8])> = bases.iter().map(|t| (Digest::of(t), *t)).collect();
    reqref::encode(&mut out, &refs, &text);
    s.write_all(&out).unwrap();
    let mut answer = [0u8; 12];
    s.read_exact(&mut answer).unwrap();
    (answer, text)
}

/// A request by reference to a text the daemon does not hold gets `XMIS`
/// and is then taken whole; the text is kept and serves as a base; a
/// client that names unknown bases again is refused with a reason.
#[test]
fn a_base_the_daemon_lacks_costs_a_round_trip_not_the_job() {
    crate::require_tool!("gcc");
    let farm = Farm::new("reqref");
    farm.write_src("ok.c", OK_C);
    let d = debug_daemon(&farm);
    let (mut s, caps) = hello(d.port);
    assert_ne!(caps & cap::REQUEST_REF, 0, "offer {caps:#x}");
    let unknown: &[u8] = b"DIST00000003 a text this daemon never saw";
    let (answer, first) = by_ref(&mut s, &farm, &[unknown], true);
    assert_eq!(&answer, reqref::MISSING);
    let (answer, _) = by_ref(&mut s, &farm, &[], false);
    assert_eq!(&answer, b"XWNT00000001");
    let mut bit = [0u8; 1];
    s.read_exact(&mut bit).unwrap();
    assert_eq!(bit, [1], "ok.c is asked for");
    compiled(&send_body(&mut s, OK_C));
    // The text is a base now: the same request against it, not asked
    // for again, nothing sent after the frame.
    let (mut s, _) = hello(d.port);
    let (answer, _) = by_ref(&mut s, &farm, &[&first], true);
    assert_eq!(&answer, b"XWNT00000001");
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert_eq!(rest[0], 0, "nothing wanted");
    compiled(&rest[1..]);
    // Unknown bases after XMIS: refused, with the reason in the log.
    let (mut s, _) = hello(d.port);
    let (answer, _) = by_ref(&mut s, &farm, &[unknown], true);
    assert_eq!(&answer, reqref::MISSING);
    let mut out = Vec::new();
    reqref::encode(&mut out, &[(Digest::of(unknown), unknown)], b"DIST00000003");
    s.write_all(&out).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{:?}", text(&rest));
    assert!(d.wait_log("names bases this daemon does not hold"));
    // A frame that is no request text: refused too.
    let (mut s, _) = hello(d.port);
    let mut out = Choice {
        caps: cap::HEADER_CACHE | cap::REQUEST_REF,
        ..Choice::default()
    }
    .encode();
    reqref::encode(&mut out, &[], b"DIST00000002ARGC00000001ARGV00000003gcc");
    s.write_all(&out).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{:?}", text(&rest));
    assert!(d.wait_log("a head that is not protocol 3"));
    assert_eq!(d.wait_count("COMPILE_OK", 2), 2, "{}", d.log_text());
}
