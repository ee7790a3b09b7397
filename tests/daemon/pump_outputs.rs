//! Side outputs of pump-mode jobs on our daemon, byte by byte
//! (docs/extension.md §8, `PUMP_OUTPUTS`): a hand-driven client picks
//! `OUTPUTS` and `PUMP_OUTPUTS` and sends a protocol 3 request; the `.su`
//! comes back in `XOUT`. The compiler writes the client's `-o` value in
//! the mirror, so a file the client sent where an output goes (here a
//! link to this server's own file of that path, which the include
//! server's rules allow) refuses the job: nothing is written through it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use distcc::protocol::codec::Codec;
use distcc::protocol::ext::{self, Choice, ServerHello, cap};
use distcc::protocol::{
    Decoded, FileEntry, FileKind, Limits, Request, RequestHead, decode_response,
};

use super::harness::{Farm, Kind, Opts, text};

const OK_C: &[u8] = b"int f(int x)\n{\n    return x * 3;\n}\n";

/// Say hello, pick `caps`, send `gcc -fstack-usage -c ok.c -o obj/ok.o`
/// from the farm's sources with ok.c and `extra` files; the whole answer.
fn pump_job(port: u16, farm: &Farm, caps: u32, extra: Vec<FileEntry>) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(&ext::hello(ext::VERSION)).unwrap();
    let mut buf = Vec::new();
    let offer = loop {
        if let Decoded::Done(h, _) = ServerHello::decode(&buf).unwrap() {
            break h.caps;
        }
        let mut b = [0u8; 256];
        let n = s.read(&mut b).unwrap();
        assert!(n > 0, "closed at the hello");
        buf.extend_from_slice(&b[..n]);
    };
    assert_eq!(offer & caps, caps, "offer {offer:#x}");
    let src = farm.src();
    let mut files = vec![FileEntry {
        name: src.join("ok.c").to_str().unwrap().as_bytes().to_vec(),
        kind: FileKind::File(OK_C.to_vec()),
    }];
    files.extend(extra);
    let mut out = Choice {
        caps,
        ..Choice::default()
    }
    .encode();
    out.extend(
        Request {
            head: RequestHead {
                version: 3,
                cwd: Some(src.to_str().unwrap().as_bytes().to_vec()),
                argv: ["gcc", "-fstack-usage", "-c", "ok.c", "-o", "obj/ok.o"]
                    .iter()
                    .map(|a| a.as_bytes().to_vec())
                    .collect(),
            },
            source: Vec::new(),
            files,
        }
        .encode(),
    );
    s.write_all(&out).unwrap();
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    reply
}

/// The files of the `XOUT` after the reply, decompressed (LZO).
fn outputs(reply: &[u8]) -> Vec<(String, Vec<u8>)> {
    let n = match decode_response(reply, &Limits::default(), true) {
        Ok(Decoded::Done(r, n)) => {
            assert_eq!(r.status, 0, "{}", text(&r.stderr));
            n
        }
        other => panic!("bad reply {other:?}: {:?}", text(reply)),
    };
    let mut rest = &reply[n..];
    fn header(rest: &mut &[u8], token: &[u8]) -> usize {
        assert_eq!(&rest[..4], token, "{:?}", text(rest));
        let v = usize::from_str_radix(std::str::from_utf8(&rest[4..12]).unwrap(), 16).unwrap();
        *rest = &rest[12..];
        v
    }
    let count = header(&mut rest, b"XOUT");
    let mut files = Vec::new();
    for _ in 0..count {
        let len = header(&mut rest, b"NAME");
        let name = String::from_utf8(rest[..len].to_vec()).unwrap();
        rest = &rest[len..];
        let len = header(&mut rest, b"FILE");
        let body = Codec::Lzo.decompress(&rest[..len], 1 << 20).unwrap();
        rest = &rest[len..];
        files.push((name, body));
    }
    assert!(rest.is_empty(), "{:?}", text(rest));
    files
}

#[test]
fn pump_jobs_send_their_side_files_back_and_write_through_no_link() {
    crate::require_tool!("gcc");
    let farm = Farm::new("pump-outputs");
    farm.write_src("ok.c", OK_C);
    let d = farm.daemon(
        Kind::Ours,
        &Opts {
            args: vec!["--log-level".into(), "debug".into()],
            ..Opts::default()
        },
    );
    let both = cap::OUTPUTS | cap::PUMP_OUTPUTS;
    let got = outputs(&pump_job(d.port, &farm, both, Vec::new()));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "ok.su");
    let su = String::from_utf8_lossy(&got[0].1);
    assert!(su.starts_with("ok.c:1:5:f\t"), "{su}");
    // OUTPUTS alone (an older client): XOUT comes, empty, as before.
    assert!(outputs(&pump_job(d.port, &farm, cap::OUTPUTS, Vec::new())).is_empty());

    // A link at obj/ok.su to this server's own <src>/obj/ok.su.
    let real = farm.src().join("obj/ok.su");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    let name = real.to_str().unwrap().as_bytes().to_vec();
    let mut target = "../".repeat(80).into_bytes();
    target.extend_from_slice(&name[1..]);
    let link = FileEntry {
        name,
        kind: FileKind::Link(target),
    };
    let reply = pump_job(d.port, &farm, both, vec![link]);
    assert!(reply.is_empty(), "{:?}", text(&reply));
    assert!(d.wait_log("where the compiler writes an output"));
    assert!(
        !real.exists(),
        "the compiler wrote through the client's link"
    );
    assert_eq!(d.wait_count("COMPILE_OK", 2), 2, "{}", d.log_text());
}
