//! A daemon that stays available (issue 10): idle and trickling clients
//! on a `--jobs 2` daemon must not delay a real compile, and a huge
//! request head must cost little CPU and bounded memory.
//!
//! Before: `2 x --jobs` idle connections stopped the daemon for
//! `DISTCC_IO_TIMEOUT` (a permit per connection), one byte every few
//! seconds kept it stopped for ever (a timeout per read), 30,000 arguments
//! sent one per segment cost 15 s of CPU (the head re-parsed after every
//! read), and 64 arguments of 1 MiB were accepted at the cost of hundreds
//! of MB.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::harness::{DEBIAN_DISTCC, Daemon, Farm, GOOD_V1, Kind, Opts, exchange, text};
use super::hostile::{item, tok, vm_hwm};
use crate::support;

/// A connection to `port` on 127.0.0.1 from the loopback address `from`.
fn connect_from(from: Ipv4Addr, port: u16) -> std::io::Result<TcpStream> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket};
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    bind(
        fd.as_raw_fd(),
        &SockaddrIn::from(SocketAddrV4::new(from, 0)),
    )?;
    let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    connect(fd.as_raw_fd(), &SockaddrIn::from(to))?;
    let s = TcpStream::from(fd);
    s.set_nonblocking(true)?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// Raise this process's open file limit to the hard one: 512 attacking
/// sockets besides what other tests hold.
fn raise_nofile() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
}

/// A head that never ends (at one byte per round): 50,000 one-byte
/// arguments, within every cap old and new.
fn endless_head() -> Vec<u8> {
    let mut v = tok("DIST", 1);
    v.extend_from_slice(&tok("ARGC", 50_000));
    for _ in 0..2000 {
        v.extend_from_slice(&item("ARGV", b"x"));
    }
    v
}

/// Idle and trickling connections, kept up by a thread until dropped.
struct Attack {
    stop: Arc<AtomicBool>,
    /// Connections the daemon closed (and, with `reconnect`, reopened).
    closed: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

/// One attacking connection: idle, or trickling one byte of
/// [`endless_head`] per round.
struct Conn {
    stream: TcpStream,
    from: Ipv4Addr,
    next: usize,
    trickles: bool,
}

impl Attack {
    /// `idle` connections from `idle_from` and `trickling` ones (one byte
    /// every 300 ms) from `trickle_from`; with `reconnect`, each one the
    /// daemon closes is opened again.
    fn start(
        port: u16,
        (idle, idle_from): (usize, Ipv4Addr),
        (trickling, trickle_from): (usize, Ipv4Addr),
        reconnect: bool,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let closed = Arc::new(AtomicUsize::new(0));
        let mut conns = Vec::new();
        for (n, from, trickles) in [(idle, idle_from, false), (trickling, trickle_from, true)] {
            for _ in 0..n {
                let stream = connect_from(from, port).expect("attacker connects");
                conns.push(Conn {
                    stream,
                    from,
                    next: 0,
                    trickles,
                });
            }
        }
        let (s, c) = (stop.clone(), closed.clone());
        let thread = std::thread::spawn(move || {
            let head = endless_head();
            while !s.load(Ordering::Relaxed) {
                for conn in &mut conns {
                    let mut gone = is_closed(&conn.stream);
                    if !gone && conn.trickles {
                        let b = head[conn.next % head.len()];
                        gone = (&conn.stream).write(&[b]).is_err();
                        conn.next += 1;
                    }
                    if gone {
                        c.fetch_add(1, Ordering::Relaxed);
                        if !reconnect {
                            continue;
                        }
                        if let Ok(fresh) = connect_from(conn.from, port) {
                            conn.stream = fresh;
                            conn.next = 0;
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        Self {
            stop,
            closed,
            thread: Some(thread),
        }
    }
}

impl Drop for Attack {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether the daemon has closed a non-blocking socket.
fn is_closed(s: &TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match (&*s).read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

/// Run a distcc client (ours or Debian's) in the farm's sources, as
/// `harness::distcc` does for Debian's.
fn client(farm: &Farm, program: &Path, port: u16, tag: &str) -> Output {
    let dir = farm.path(&format!("clients/{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = format!("{}:/usr/bin:/bin", farm.path("cbin").display());
    Command::new(program)
        .args(["gcc", "-c", "hello.c", "-o", &format!("{tag}.o")])
        .current_dir(farm.src())
        .env_clear()
        .env("PATH", path)
        .env("HOME", farm.path("home"))
        .env("DISTCC_DIR", &dir)
        .env("TMPDIR", farm.path("ctmp"))
        .env("DISTCC_HOSTS", format!("127.0.0.1:{port}"))
        // Fail fast (and compile locally) if the daemon does not answer.
        .env("DISTCC_IO_TIMEOUT", "5")
        .output()
        .expect("run distcc")
}

/// The `time:` of the last `COMPILE_OK` summary line after byte `mark`.
fn last_compile_ms(d: &Daemon, mark: usize) -> Option<u64> {
    let log = d.log_text();
    let line = log
        .get(mark..)?
        .lines()
        .rev()
        .find(|l| l.contains(" COMPILE_OK "))?;
    let t = line.split(" time:").nth(1)?;
    t.split("ms").next()?.parse().ok()
}

/// A real compile, answered within 1 s: raw 3.4 bytes (timed from connect
/// to reply), then our client and Debian's (timed by the daemon, from
/// accept to reply).
#[track_caller]
fn real_compiles_are_answered_at_once(farm: &Farm, d: &Daemon) {
    let started = Instant::now();
    let reply = exchange(d.port, GOOD_V1, false);
    let took = started.elapsed();
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
    // The summary line follows the reply: count once it is there.
    let mut before = 0;
    support::eventually(|| {
        before = d.count("COMPILE_OK");
        before > 0
    });
    let ours = support::bin("distcc");
    let clients = [
        ("ours", ours.as_path()),
        ("debian", Path::new(DEBIAN_DISTCC)),
    ];
    for (before, (tag, program)) in (before..).zip(clients) {
        let mark = d.log_text().len();
        let out = client(farm, program, d.port, tag);
        assert!(out.status.success(), "{tag}: {out:?}");
        assert!(farm.src().join(format!("{tag}.o")).exists());
        assert_eq!(
            d.wait_count("COMPILE_OK", before + 1),
            before + 1,
            "{tag}'s job did not reach the daemon:\n{}",
            text(&out.stderr)
        );
        let ms = last_compile_ms(d, mark).expect("a summary line");
        assert!(ms < 1000, "{tag}: the daemon took {ms} ms");
    }
}

/// A `--jobs 2` daemon, with every loopback address allowed.
fn daemon(farm: &Farm, nofile: Option<u64>) -> Daemon {
    raise_nofile();
    farm.write_src("hello.c", "int main(void) { return 0; }\n");
    let opts = Opts {
        allow: vec!["127.0.0.0/8".into()],
        args: vec!["--jobs".into(), "2".into()],
        nofile,
        ..Opts::default()
    };
    farm.daemon(Kind::Ours, &opts)
}

/// Wait until the daemon has accepted `n` connections.
fn wait_accepted(d: &Daemon, n: usize) {
    let accepted = || d.log_text().matches("connection from").count();
    assert!(
        support::eventually(|| accepted() >= n),
        "{} connections accepted",
        accepted()
    );
}

/// After the attack: still serving, and nothing left behind once stopped.
fn afterwards(farm: &Farm, mut d: Daemon) {
    let reply = exchange(d.port, GOOD_V1, false);
    assert!(reply.starts_with(b"DONE00000001STAT00000000"));
    assert!(farm.daemon_temp_files().is_empty());
    d.stop();
    assert_eq!(farm.daemon_temp_entries(), 0, "a job directory is left");
}

fn flood(tag: &str, idle_from: Ipv4Addr, trickle_from: Ipv4Addr) {
    crate::require_tool!("gcc");
    crate::require_tool!(DEBIAN_DISTCC);
    let farm = Farm::new(tag);
    let d = daemon(&farm, None);
    let attack = Attack::start(d.port, (256, idle_from), (256, trickle_from), false);
    wait_accepted(&d, 512);
    // Let the trickling clients get going.
    std::thread::sleep(Duration::from_secs(1));
    real_compiles_are_answered_at_once(&farm, &d);
    assert_eq!(
        attack.closed.load(Ordering::Relaxed),
        0,
        "nothing was dropped"
    );
    drop(attack);
    afterwards(&farm, d);
}

#[test]
fn idle_and_trickling_clients_elsewhere_do_not_delay_a_compile() {
    flood(
        "flood-other",
        Ipv4Addr::new(127, 0, 0, 2),
        Ipv4Addr::new(127, 0, 0, 3),
    );
}

#[test]
fn idle_and_trickling_clients_on_the_same_address_do_not_delay_a_compile() {
    flood("flood-same", Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST);
}

/// With 400 descriptors the daemon takes 324 connections, 81 per address
/// without a complete request: 512 attackers that reconnect whenever
/// dropped fill both caps, and the stalest connections make room for the
/// real ones.
#[test]
fn at_the_caps_the_stalest_connections_make_room() {
    crate::require_tool!("gcc");
    crate::require_tool!(DEBIAN_DISTCC);
    crate::require_tool!("prlimit");
    let farm = Farm::new("flood-caps");
    let d = daemon(&farm, Some(400));
    let same = Ipv4Addr::LOCALHOST;
    let other = Ipv4Addr::new(127, 0, 0, 2);
    let attack = Attack::start(d.port, (256, same), (256, other), true);
    assert!(
        d.wait_log("dropped to make room for a newer connection from the same address"),
        "{}",
        super::hostile::tail(&d.log_text())
    );
    real_compiles_are_answered_at_once(&farm, &d);
    let seen = support::eventually(|| attack.closed.load(Ordering::Relaxed) > 0);
    let log = d.log_text();
    assert!(
        seen,
        "{} drops logged, {} connections, attacker saw {} closed",
        log.matches("dropped to make room").count(),
        log.matches("connection from").count(),
        attack.closed.load(Ordering::Relaxed)
    );
    drop(attack);
    afterwards(&farm, d);
}

/// Nanoseconds on CPU of all the daemon's threads.
fn cpu_ns(pid: i32) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .flatten()
        .map(|t| {
            let s = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}

/// Send `items` one segment each, `gap` apart (3.4 writes every token on
/// its own), then read the reply.
fn send_slowly(port: u16, items: &[Vec<u8>], gap: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    for it in items {
        if s.write_all(it).is_err() {
            break;
        }
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
    }
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    reply
}

/// 30,000 arguments, each its own segment: parsed in under a second of
/// daemon CPU (it took 15 s when the head was re-parsed after every read)
/// with memory bounded by the caps.
#[test]
fn a_head_of_30000_arguments_costs_under_a_second_of_cpu() {
    crate::require_tool!("gcc");
    let farm = Farm::new("head-30000");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let args: Vec<Vec<u8>> = ["gcc", "-c", "hello.c", "-o", "hello.o"]
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .chain((0..30_000).map(|i| format!("-DA{i}").into_bytes()))
        .collect();
    let mut items = vec![[tok("DIST", 1), tok("ARGC", args.len() as u32)].concat()];
    items.extend(args.iter().map(|a| item("ARGV", a)));
    items.push(item("DOTI", b"int main(void) { return 0; }\n"));
    let (cpu0, hwm0) = (cpu_ns(d.pid()), vm_hwm(d.pid()));
    let reply = send_slowly(d.port, &items, Duration::from_micros(100));
    // gcc itself cannot pass 30,000 options to cc1 (one environment
    // variable holds them all): a compile error, but a reply.
    assert!(reply.starts_with(b"DONE00000001STAT"), "{:?}", text(&reply));
    let cpu = Duration::from_nanos(cpu_ns(d.pid()) - cpu0);
    let grew = vm_hwm(d.pid()).saturating_sub(hwm0);
    eprintln!(
        "30,000 arguments: {cpu:?} of daemon CPU, peak memory +{} KiB",
        grew >> 10
    );
    assert!(cpu < Duration::from_secs(1), "{cpu:?} of daemon CPU");
    assert!(grew < 48 << 20, "peak memory grew by {grew} bytes");
}

/// 64 arguments of 1 MiB (each within the per-argument cap): refused at
/// the 16 MiB head cap, quickly and in bounded memory, and the next
/// request is served.
#[test]
fn a_head_over_the_cap_is_refused_in_bounded_memory() {
    crate::require_tool!("gcc");
    let farm = Farm::new("head-64mib");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let big = vec![b'D'; 1 << 20];
    let mut items = vec![[tok("DIST", 1), tok("ARGC", 65), item("ARGV", b"gcc")].concat()];
    items.extend((0..64).map(|_| item("ARGV", &big)));
    let (cpu0, hwm0) = (cpu_ns(d.pid()), vm_hwm(d.pid()));
    let reply = send_slowly(d.port, &items, Duration::ZERO);
    assert!(reply.is_empty(), "{:?}", text(&reply));
    assert!(
        d.wait_log("makes the request head at least"),
        "{}",
        super::hostile::tail(&d.log_text())
    );
    assert!(
        d.log_text()
            .contains("above the limit of 16777216 bytes per head")
    );
    let cpu = Duration::from_nanos(cpu_ns(d.pid()) - cpu0);
    let grew = vm_hwm(d.pid()).saturating_sub(hwm0);
    assert!(cpu < Duration::from_secs(1), "{cpu:?} of daemon CPU");
    assert!(grew < 48 << 20, "peak memory grew by {grew} bytes");
    let reply = exchange(d.port, GOOD_V1, false);
    assert!(reply.starts_with(b"DONE00000001STAT00000000"));
    assert!(farm.daemon_temp_files().is_empty());
}
