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
use super::hostile::{item, tok};
use crate::support;

mod head;

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

/// The real compiles, each answered: raw 3.4 bytes (timed from connect
/// to reply), then our client and Debian's (timed by the daemon, from
/// accept to reply). How long each took; `round` names their objects.
#[track_caller]
fn real_compiles(farm: &Farm, d: &Daemon, round: &str) -> [Duration; 3] {
    let done = d.count("COMPILE_OK");
    let started = Instant::now();
    let reply = exchange(d.port, GOOD_V1, false);
    let raw = started.elapsed();
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    // The summary line follows the reply: count once it is there.
    let mut before = 0;
    support::eventually(|| {
        before = d.count("COMPILE_OK");
        before > done
    });
    let ours = support::bin("distcc");
    let clients = [
        ("ours", ours.as_path()),
        ("debian", Path::new(DEBIAN_DISTCC)),
    ];
    let mut took = [raw; 3];
    for ((before, (who, program)), slot) in (before..).zip(clients).zip(&mut took[1..]) {
        let tag = format!("{who}-{round}");
        let mark = d.log_text().len();
        let out = client(farm, program, d.port, &tag);
        assert!(out.status.success(), "{tag}: {out:?}");
        assert!(farm.src().join(format!("{tag}.o")).exists());
        assert_eq!(
            d.wait_count("COMPILE_OK", before + 1),
            before + 1,
            "{tag}'s job did not reach the daemon:\n{}",
            text(&out.stderr)
        );
        *slot = Duration::from_millis(last_compile_ms(d, mark).expect("a summary line"));
    }
    took
}

/// How long a real compile may take under attack, `baseline` being what
/// the same compile took on the same daemon before it: three times that
/// and half a second, at least 1 s (a compile that took 100 ms is not
/// late at 400 ms: the machine may be busy, issue 10's figure was
/// seconds), and at most 4 s. A daemon that serialises behind idle
/// clients holds a compile for their whole grace (30 s), and the clients
/// here give up after `DISTCC_IO_TIMEOUT=5`: under 4 s, none was waited
/// for. A fixed 1 s flaked on a machine at load 20 (1.2 s).
fn bound(baseline: Duration) -> Duration {
    (baseline * 3 + Duration::from_millis(500))
        .clamp(Duration::from_secs(1), Duration::from_secs(4))
}

/// The real compiles, answered at once under attack: each within
/// [`bound`] of the `baseline` measured before the attack.
#[track_caller]
fn real_compiles_are_answered_at_once(farm: &Farm, d: &Daemon, baseline: [Duration; 3]) {
    let took = real_compiles(farm, d, "attacked");
    let what = ["raw 3.4 bytes", "our client", "Debian's client"];
    for ((what, took), base) in what.into_iter().zip(took).zip(baseline) {
        assert!(
            took < bound(base),
            "{what}: {took:?} under attack, {base:?} before (bound {:?})",
            bound(base)
        );
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

/// Connections the daemon has accepted.
fn accepted(d: &Daemon) -> usize {
    d.log_text().matches("connection from").count()
}

/// Wait until the daemon has accepted `n` connections.
fn wait_accepted(d: &Daemon, n: usize) {
    assert!(
        support::eventually(|| accepted(d) >= n),
        "{} connections accepted",
        accepted(d)
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
    let baseline = real_compiles(&farm, &d, "baseline");
    let before = accepted(&d);
    let attack = Attack::start(d.port, (256, idle_from), (256, trickle_from), false);
    wait_accepted(&d, before + 512);
    // Let the trickling clients get going.
    std::thread::sleep(Duration::from_secs(1));
    real_compiles_are_answered_at_once(&farm, &d, baseline);
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
    let baseline = real_compiles(&farm, &d, "baseline");
    let same = Ipv4Addr::LOCALHOST;
    let other = Ipv4Addr::new(127, 0, 0, 2);
    let attack = Attack::start(d.port, (256, same), (256, other), true);
    assert!(
        d.wait_log("dropped to make room for a newer connection from the same address"),
        "{}",
        super::hostile::tail(&d.log_text())
    );
    real_compiles_are_answered_at_once(&farm, &d, baseline);
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
