//! A fake server of ours for the outputs' failure cases, and the first of
//! them: a server cannot make the client write a file its command does not
//! write.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use distcc::protocol::Response;
use distcc::protocol::codec::Codec;
use distcc::protocol::ext::{self, ServerHello, Status, cap};

use super::{farm, files};
use crate::client::harness::{Farm, assert_ok, text};

/// A fake server of ours on 127.0.0.1 offering `caps`, which the client
/// knows as ours (it says hello on the job's connection): for each
/// connection, after the hello, it reads until the client waits and
/// writes `answer(what it read)`. Its port.
pub(crate) fn fake_ours(
    f: &Farm,
    caps: u32,
    answer: impl Fn(&[u8]) -> Vec<u8> + Send + 'static,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let memory = f.path("ddir/extension");
    std::fs::create_dir_all(&memory).unwrap();
    std::fs::write(memory.join(format!("tcp_127.0.0.1_{port}")), "v1 ours 1\n").unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut hello = [0u8; 12];
            if s.read_exact(&mut hello).is_err() {
                continue;
            }
            let offer = ServerHello {
                version: 1,
                caps,
                status: Status::default(),
            };
            let _ = s.write_all(&offer.encode());
            // The choice and the request, until the client waits.
            s.set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 65536];
            while let Ok(n @ 1..) = s.read(&mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
            let _ = s.write_all(&answer(&got));
        }
    });
    port
}

/// A server that speaks the extension and sends back a file the command
/// does not write (`../evil`): the client refuses the reply, writes
/// nothing of it, and compiles here.
#[test]
fn a_server_cannot_make_the_client_write_another_file() {
    let f = farm("hostile");
    let port = fake_ours(&f, cap::OUTPUTS, |_request| {
        let mut reply = Response {
            version: 2,
            object: b"not an object".to_vec(),
            ..Response::default()
        }
        .encode();
        let evil = [(b"../evil".to_vec(), b"written by the server".to_vec())];
        ext::encode_outputs(&evil, Codec::Lzo, &mut reply);
        reply
    });
    let args = [
        "gcc",
        "-fstack-usage",
        "-c",
        "src/prog.c",
        "-o",
        "obj/prog.o",
    ];
    let out = f.distcc(&format!("127.0.0.1:{port},lzo"), &args, &[]);
    assert_ok(&out, "distcc");
    let err = text(&out.stderr);
    assert!(err.contains("XOUT"), "{err}");
    assert!(!f.work().join("evil").exists(), "the server wrote ../evil");
    let made = files(&f.work().join("obj"));
    assert_eq!(made.keys().collect::<Vec<_>>(), ["prog.o", "prog.su"]);
    assert!(
        made["prog.o"].starts_with(b"\x7fELF"),
        "the server's object was kept"
    );
}
