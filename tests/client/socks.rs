//! `DISTCC_SOCKS_PROXY` (packaging notes §3.4): Portage's network sandbox
//! gives distcc a SOCKS5 proxy on a UNIX socket. A small SOCKS5 server in
//! this test (no authentication, CONNECT by domain name, as Portage's
//! proxy) relays to a real distccd; jobs must go through it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::harness::{Farm, Kind, assert_ok, assert_same, text};

/// Serve one SOCKS5 client on `s`: greeting, CONNECT, then relay.
fn serve<S: Read + Write + Send + 'static>(
    mut s: S,
    clone: impl FnOnce(&S) -> S,
    connects: Arc<AtomicUsize>,
) {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).unwrap();
    let mut methods = vec![0u8; head[1] as usize];
    s.read_exact(&mut methods).unwrap();
    assert_eq!(head[0], 5);
    assert!(
        methods.contains(&0),
        "client must offer 'no authentication'"
    );
    s.write_all(&[5, 0]).unwrap();
    let mut req = [0u8; 4];
    s.read_exact(&mut req).unwrap();
    assert_eq!(&req[..3], &[5, 1, 0], "CONNECT");
    assert_eq!(
        req[3], 3,
        "address type must be DOMAINNAME (the proxy resolves)"
    );
    let mut len = [0u8; 1];
    s.read_exact(&mut len).unwrap();
    let mut name = vec![0u8; len[0] as usize];
    s.read_exact(&mut name).unwrap();
    let mut port = [0u8; 2];
    s.read_exact(&mut port).unwrap();
    let target = (String::from_utf8(name).unwrap(), u16::from_be_bytes(port));
    let addr = target.to_socket_addrs().unwrap().next().unwrap();
    let Ok(upstream) = TcpStream::connect(addr) else {
        s.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap();
        return;
    };
    connects.fetch_add(1, Ordering::SeqCst);
    s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).unwrap();
    let (mut up_r, mut up_w) = (upstream.try_clone().unwrap(), upstream);
    let mut down_r = clone(&s);
    let mut down_w = s;
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut down_r, &mut up_w);
    });
    let _ = std::io::copy(&mut up_r, &mut down_w);
    let _ = t.join();
}

fn unix_proxy(path: &std::path::Path) -> Arc<AtomicUsize> {
    let listener = UnixListener::bind(path).unwrap();
    let connects = Arc::new(AtomicUsize::new(0));
    let c = connects.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let c = c.clone();
            std::thread::spawn(move || serve(s, |s| s.try_clone().unwrap(), c));
        }
    });
    connects
}

fn tcp_proxy() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connects = Arc::new(AtomicUsize::new(0));
    let c = connects.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let c = c.clone();
            std::thread::spawn(move || serve(s, |s| s.try_clone().unwrap(), c));
        }
    });
    (port, connects)
}

#[test]
fn jobs_go_through_a_socks5_proxy() {
    let f = Farm::with_hello("socks");
    let daemon = f.daemon(Kind::Ours);
    let socket = f.path("socks.sock");
    let via_unix = unix_proxy(&socket);
    let (tcp_port, via_tcp) = tcp_proxy();
    let args = ["gcc", "-O2", "-c", "hello.c", "-o", "hello.o"];
    f.local(&args);
    std::fs::rename(f.work().join("hello.o"), f.work().join("ref.o")).unwrap();
    let cases = [
        (socket.display().to_string(), daemon.host(""), &via_unix),
        (
            socket.display().to_string(),
            format!("localhost:{},lzo", daemon.port),
            &via_unix,
        ),
        (
            format!("127.0.0.1:{tcp_port}"),
            daemon.host(",lzo"),
            &via_tcp,
        ),
    ];
    for (n, (proxy, host, counter)) in cases.iter().enumerate() {
        let before = counter.load(Ordering::SeqCst);
        let out = f.distcc(host, &args, &[("DISTCC_SOCKS_PROXY", proxy)]);
        assert_ok(&out, &format!("via {proxy} to {host}"));
        let err = text(&out.stderr);
        assert!(
            !err.contains("running locally"),
            "{proxy}: fell back:\n{err}"
        );
        // The job's connection, and on a host's first job the protocol
        // extension's one probe (docs/extension.md §3, §7), which must
        // take the proxy too.
        let used = counter.load(Ordering::SeqCst) - before;
        assert!((1..=2).contains(&used), "{proxy}: used {used} times");
        assert_eq!(daemon.wait_compiles(n + 1), n + 1);
        assert_same(&f.work().join("hello.o"), &f.work().join("ref.o"));
    }
    // A proxy that is not there: a clear cause, and a local compile.
    let out = f.distcc(
        &daemon.host(""),
        &args,
        &[("DISTCC_SOCKS_PROXY", "/nonexistent/socks.sock")],
    );
    assert_ok(&out, "missing proxy");
    let err = text(&out.stderr);
    assert!(
        err.contains("SOCKS proxy /nonexistent/socks.sock") && err.contains("running locally"),
        "{err}"
    );
}
