//! The request right behind the hello (docs/extension.md §2.1): a host
//! remembered with its offer gets the hello, the choice and the request
//! without the client waiting for the offer, one round trip per job as
//! with 3.4; a host that is no longer what was remembered (Debian's 3.4
//! daemon now, or ours offering less) costs the job one resend, no
//! failure and no backoff. Hello, choice and request leave in one TCP
//! segment (`TCP_CORK`) unless `DISTCC_TCP_CORK=0`.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use super::harness::{Daemon, Farm, Kind, assert_ok, assert_same, probes_in_3_4_log, read, text};

/// A relay in front of a daemon that holds the daemon's bytes until the
/// client has sent a request's body (`DOTI`), or for `hold`. Per
/// connection, in order: whether the body came before any byte of the
/// daemon (the request went right behind the hello).
struct Gate {
    port: u16,
    early: Arc<Mutex<Vec<bool>>>,
}

impl Gate {
    fn new(target: u16, hold: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let early = Arc::new(Mutex::new(Vec::new()));
        let all = early.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = TcpStream::connect(("127.0.0.1", target)).unwrap();
                let index = {
                    let mut v = all.lock().unwrap();
                    v.push(false);
                    v.len() - 1
                };
                let seen = Arc::new((Mutex::new(false), Condvar::new()));
                let (c2, s2, seen2) = (
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    seen.clone(),
                );
                thread::spawn(move || upstream(c2, s2, &seen2));
                let all = all.clone();
                thread::spawn(move || {
                    downstream(server, client, &seen, hold, |early| {
                        all.lock().unwrap()[index] = early
                    });
                });
            }
        });
        Self { port, early }
    }

    fn connections(&self) -> Vec<bool> {
        self.early.lock().unwrap().clone()
    }
}

/// Client to daemon, noting when `DOTI` has passed.
fn upstream(mut from: TcpStream, mut to: TcpStream, seen: &(Mutex<bool>, Condvar)) {
    let mut all = Vec::new();
    let mut buf = [0u8; 65536];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
        if all.windows(4).any(|w| w == b"DOTI") {
            *seen.0.lock().unwrap() = true;
            seen.1.notify_all();
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Daemon to client, its first bytes held until `DOTI` passed or `hold`.
fn downstream(
    mut from: TcpStream,
    mut to: TcpStream,
    seen: &(Mutex<bool>, Condvar),
    hold: Duration,
    note: impl FnOnce(bool),
) {
    let mut buf = [0u8; 65536];
    let mut note = Some(note);
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        if let Some(note) = note.take() {
            let held = seen.0.lock().unwrap();
            let (held, _) = seen.1.wait_timeout_while(held, hold, |s| !*s).unwrap();
            note(*held);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// The memory line of `lock_id`.
fn memory(f: &Farm, lock_id: &str) -> String {
    read(&f.path(&format!("ddir/extension/{lock_id}")))
}

fn remember(f: &Farm, lock_id: &str, line: &str) {
    std::fs::create_dir_all(f.path("ddir/extension")).unwrap();
    std::fs::write(f.path(&format!("ddir/extension/{lock_id}")), line).unwrap();
}

/// The offer in an `ours` line: version and capabilities.
fn offer(line: &str) -> (u32, u32) {
    let w: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(w.len(), 5, "{line}");
    assert_eq!(&w[..2], ["v1", "ours"], "{line}");
    (
        w[3].parse().unwrap(),
        u32::from_str_radix(w[4], 16).unwrap(),
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn a_host_remembered_with_its_offer_gets_the_request_behind_the_hello() {
    let f = Farm::with_hello("pipe-ours");
    let d = Daemon::start(&f.daemon_config(Kind::Ours));
    let gate = Gate::new(d.port, Duration::from_millis(1500));
    let host = format!("127.0.0.1:{}", gate.port);
    let lock_id = format!("tcp_127.0.0.1_{}", gate.port);
    f.local(&["gcc", "-c", "hello.c", "-o", "local.o"]);
    // The first job probes the host and learns its offer.
    assert_ok(
        &f.distcc(&host, &["gcc", "-c", "hello.c", "-o", "a.o"], &[]),
        "first",
    );
    let (version, caps) = offer(&memory(&f, &lock_id));
    assert_eq!(version, 1);
    assert_ne!(caps & 1, 0, "zstd offered: {caps:#x}");
    let learnt = gate.connections().len();
    // Now one connection, and the body before any byte of the daemon.
    assert_ok(
        &f.distcc(&host, &["gcc", "-c", "hello.c", "-o", "b.o"], &[]),
        "second",
    );
    assert_eq!(gate.connections()[learnt..], [true]);
    assert_same(&f.work().join("b.o"), &f.work().join("local.o"));
    assert_eq!(d.wait_compiles(2), 2);
    // A line without the offer (an earlier client's): the client waits
    // for the offer, and writes it.
    remember(&f, &lock_id, "v1 ours 1\n");
    assert_ok(
        &f.distcc(&host, &["gcc", "-c", "hello.c", "-o", "c.o"], &[]),
        "third",
    );
    assert_eq!(gate.connections()[learnt + 1..], [false]);
    assert_eq!(offer(&memory(&f, &lock_id)), (version, caps));
    assert_same(&f.work().join("c.o"), &f.work().join("local.o"));
    f.assert_no_backoff();
}

/// A preprocessed source with a comment of incompressible text, so large
/// that the request cannot all be written before a daemon that closed at
/// the hello resets the connection.
fn big_source() -> String {
    // The line marker names the source as the object will, wherever the
    // text is compiled.
    let mut s = String::from("# 1 \"big.c\"\n/* ");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let chars = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-";
    for _ in 0..8_000_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push(chars[(x & 63) as usize] as char);
    }
    s.push_str(" */\nint big(void) { return 42; }\n");
    s
}

#[test]
fn a_remembered_host_now_running_3_4_gets_the_job_again_in_3_4s_protocol() {
    crate::require_tool!(crate::support::distccd::DEBIAN_DISTCCD);
    let f = Farm::with_hello("pipe-debian");
    f.write("big.i", big_source());
    let d = f.daemon(Kind::Debian);
    let host = d.host(",lzo");
    let lock_id = format!("tcp_127.0.0.1_{}", d.port);
    for (i, (src, obj)) in [("hello.c", "a.o"), ("big.i", "big.o")].iter().enumerate() {
        remember(&f, &lock_id, &format!("v1 ours {} 1 df\n", now()));
        let out = f.distcc(
            &host,
            &["gcc", "-c", src, "-o", obj],
            &[("DISTCC_VERBOSE", "1")],
        );
        assert_ok(&out, src);
        let err = text(&out.stderr);
        assert!(
            err.contains("closed at the hello; sending the job again"),
            "{err}"
        );
        assert!(
            memory(&f, &lock_id).starts_with("v1 3.4 "),
            "{}",
            memory(&f, &lock_id)
        );
        assert_eq!(d.wait_count("COMPILE_OK", i + 1), i + 1, "{}", d.log_text());
        f.local(&["gcc", "-c", src, "-o", "local.o"]);
        assert_same(&f.work().join(obj), &f.work().join("local.o"));
    }
    // 3.4 saw two hellos, read as probes, and two jobs.
    assert_eq!(probes_in_3_4_log(&d.log_text()), 2, "{}", d.log_text());
    f.assert_no_backoff();
}

#[test]
fn a_remembered_offer_the_daemon_no_longer_makes_costs_one_resend() {
    let f = Farm::with_hello("pipe-offer");
    let d = Daemon::start(
        &f.daemon_config(Kind::Ours)
            .args(["--header-cache-size", "0"]),
    );
    let host = d.host("");
    let lock_id = format!("tcp_127.0.0.1_{}", d.port);
    assert_ok(
        &f.distcc(&host, &["gcc", "-c", "hello.c", "-o", "a.o"], &[]),
        "first",
    );
    let (version, caps) = offer(&memory(&f, &lock_id));
    let header_cache = 0x40;
    assert_eq!(caps & header_cache, 0, "{caps:#x}");
    // As if the daemon had run with its header cache before.
    remember(
        &f,
        &lock_id,
        &format!("v1 ours {} {version} {:x}\n", now(), caps | header_cache),
    );
    let out = f.distcc(
        &host,
        &["gcc", "-c", "hello.c", "-o", "b.o"],
        &[("DISTCC_VERBOSE", "1")],
    );
    assert_ok(&out, "second");
    let err = text(&out.stderr);
    assert!(
        err.contains("the host's offer changed; sending the job again"),
        "{err}"
    );
    assert_eq!(offer(&memory(&f, &lock_id)), (version, caps));
    assert_eq!(d.wait_compiles(2), 2);
    // The daemon's side of the resend: an info line saying why, not a
    // warning about a refused request (it was a protocol error's).
    let said = "client chose from an earlier offer of this server";
    assert!(d.wait_log(said), "{}", d.log_text());
    let log = d.log_text();
    let line = log.lines().find(|l| l.contains(said)).unwrap();
    assert!(!line.contains("Warning:"), "{line}");
    assert!(!log.contains("refused request"), "{log}");
    f.local(&["gcc", "-c", "hello.c", "-o", "local.o"]);
    assert_same(&f.work().join("b.o"), &f.work().join("local.o"));
    f.assert_no_backoff();
    // The next job goes behind the hello again, at once.
    let out = f.distcc(
        &host,
        &["gcc", "-c", "hello.c", "-o", "c.o"],
        &[("DISTCC_VERBOSE", "1")],
    );
    assert_ok(&out, "third");
    assert!(!text(&out.stderr).contains("sending the job again"));
    assert_eq!(d.wait_compiles(3), 3);
}

/// A relay that counts, per connection, the TCP segments with data the
/// client sent before the daemon's reply began (`ss`'s `data_segs_in` of
/// the relay's end when `DONE` comes: the daemon answers only a whole
/// request, and a job's client writes nothing but its request).
struct Segments {
    port: u16,
    counts: Arc<Mutex<Vec<u64>>>,
}

impl Segments {
    fn new(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let counts = Arc::new(Mutex::new(Vec::new()));
        let all = counts.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let peer = client.peer_addr().unwrap().port();
                let mut server = TcpStream::connect(("127.0.0.1", target)).unwrap();
                let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                thread::spawn(move || {
                    let _ = std::io::copy(&mut client, &mut server);
                    let _ = server.shutdown(Shutdown::Write);
                });
                let all = all.clone();
                thread::spawn(move || {
                    let (mut head, mut counted, mut buf) = (Vec::new(), false, [0u8; 65536]);
                    while let Ok(n @ 1..) = s2.read(&mut buf) {
                        if !counted {
                            head.extend_from_slice(&buf[..n]);
                            if head.windows(4).any(|w| w == b"DONE") {
                                all.lock().unwrap().push(data_segs_in(port, peer));
                                counted = true;
                            }
                        }
                        if c2.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = c2.shutdown(Shutdown::Write);
                });
            }
        });
        Self { port, counts }
    }

    fn counts(&self) -> Vec<u64> {
        self.counts.lock().unwrap().clone()
    }
}

/// `data_segs_in` of the loopback socket from `local` to `peer`.
fn data_segs_in(local: u16, peer: u16) -> u64 {
    let out = std::process::Command::new("ss")
        .args(["-tinH", "state", "all"])
        .arg(format!("src 127.0.0.1:{local} dst 127.0.0.1:{peer}"))
        .output()
        .unwrap();
    let text = text(&out.stdout);
    let field = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("data_segs_in:"));
    field.map_or(0, |n| n.parse().unwrap())
}

#[test]
fn hello_choice_and_request_leave_in_one_segment_unless_uncorked() {
    crate::require_tool!("ss");
    let f = Farm::with_hello("pipe-cork");
    // Preprocessed already: the request follows the hello at once, not
    // after a preprocessor run longer than the cork's 200 ms.
    f.write("small.i", "int small(void) { return 1; }\n");
    let d = Daemon::start(&f.daemon_config(Kind::Ours));
    let relay = Segments::new(d.port);
    let host = format!("127.0.0.1:{}", relay.port);
    let job = |obj: &str, env: &[(&str, &str)]| {
        assert_ok(
            &f.distcc(&host, &["gcc", "-c", "small.i", "-o", obj], env),
            obj,
        );
        relay.counts().last().copied().unwrap()
    };
    // The first job learns the host's offer; the next ones go behind
    // the hello.
    job("learn.o", &[]);
    let uncorked: Vec<u64> = (0..3)
        .map(|i| job(&format!("u{i}.o"), &[("DISTCC_TCP_CORK", "0")]))
        .collect();
    let corked: Vec<u64> = (0..3).map(|i| job(&format!("c{i}.o"), &[])).collect();
    assert_eq!(d.wait_compiles(7), 7);
    // Uncorked: the hello and the choice, then the request (TCP_NODELAY).
    assert!(uncorked.iter().all(|&n| n >= 2), "uncorked {uncorked:?}");
    // Corked: one segment (a job descheduled past the cork's 200 ms on a
    // loaded machine may send two: one of three is enough).
    assert!(
        corked.contains(&1),
        "corked {corked:?}, uncorked {uncorked:?}"
    );
}
