//! One remote job's reply read from bytes: protocols 1 to 3, dependency
//! files, and a wrong token as a protocol error.

use super::*;
use crate::protocol::Response;

fn reply(version: u32, status: u32, object: &[u8]) -> Vec<u8> {
    Response {
        version,
        status,
        stderr: b"warning: x\n".to_vec(),
        stdout: b"out\n".to_vec(),
        object: object.to_vec(),
        dotd: None,
    }
    .encode()
}

#[test]
fn receives_v1_and_v2_replies() {
    let dir = std::env::temp_dir().join(format!("distcc-remote-{}", std::process::id()));
    let out = dir.join("x.o");
    for v in [1, 2] {
        let bytes = reply(v, 0, &[7u8; 100_000]);
        let mut stdout = Vec::new();
        let mut seen = false;
        let r = receive(
            &mut &bytes[..],
            v,
            &out,
            None,
            &mut stdout,
            &Limits::default(),
            || seen = true,
        )
        .unwrap();
        assert!(seen);
        assert_eq!(r.status, 0);
        assert_eq!(r.stderr, b"warning: x\n");
        assert_eq!(stdout, b"out\n");
        assert_eq!(std::fs::read(&out).unwrap(), vec![7u8; 100_000]);
        std::fs::remove_file(&out).unwrap();
    }
    let bytes = reply(1, 0x100, b"");
    let r = receive(
        &mut &bytes[..],
        1,
        &out,
        None,
        &mut Vec::new(),
        &Limits::default(),
        || {},
    )
    .unwrap();
    assert_eq!(r.status, 0x100);
    assert!(!out.exists(), "no output on failure");
    let bytes = reply(1, 0, b"0123456789");
    for cut in [0, 5, 12, 30, bytes.len() - 1] {
        let e = receive(
            &mut &bytes[..cut],
            1,
            &out,
            None,
            &mut Vec::new(),
            &Limits::default(),
            || {},
        )
        .unwrap_err();
        assert!(matches!(e, RemoteError::Eof(_)), "cut {cut}: {e:?}");
        assert!(!out.exists(), "cut {cut}: no partial output");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn v3_dependency_files_are_written_rewrapped_or_refused() {
    let dir = std::env::temp_dir().join(format!("distcc-remote3-{}", std::process::id()));
    let (out, dotd) = (dir.join("x.o"), dir.join("x.d"));
    let reply = |d: &[u8]| {
        Response {
            version: 3,
            object: b"obj".to_vec(),
            dotd: Some(d.to_vec()),
            ..Response::default()
        }
        .encode()
    };
    let recv = |bytes: Vec<u8>, dotd: Option<&Path>| {
        receive(
            &mut &bytes[..],
            3,
            &out,
            dotd,
            &mut Vec::new(),
            &Limits::default(),
            || {},
        )
    };
    let r = recv(reply(b"x.o: \\\n x.c x.h\n"), Some(&dotd)).unwrap();
    assert_eq!(r.status, 0);
    assert_eq!(std::fs::read(&dotd).unwrap(), b"x.o: x.c x.h\n");
    std::fs::remove_file(&dotd).unwrap();
    // Not asked for: read and dropped.
    recv(reply(b"x.o: x.c\n"), None).unwrap();
    assert!(!dotd.exists());
    let e = recv(reply(b"garbage\n"), Some(&dotd)).unwrap_err();
    assert!(matches!(e, RemoteError::BadReply(_)), "{e:?}");
    assert!(!dotd.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_wrong_token_is_a_protocol_error() {
    let e = receive(
        &mut &b"HTTP/1.1 400 Bad"[..],
        1,
        Path::new("/nonexistent/x.o"),
        None,
        &mut Vec::new(),
        &Limits::default(),
        || {},
    )
    .unwrap_err();
    assert!(matches!(e, RemoteError::Protocol(_)), "{e:?}");
    assert_eq!(e.exit_code(), ExitCode::ProtocolError);
}
