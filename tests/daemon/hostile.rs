//! A table of hostile requests against our distccd (issue 10): framing
//! (truncated and wrong tokens, absurd lengths, huge counts, NUL bytes,
//! LZO bombs), stalls (a head that never ends, a source that trickles,
//! half-open connections) and floods (many connections at once). Each row
//! is one [`Act`] and the refusal text the daemon must log; after every
//! row the daemon must answer a valid compile and its TMPDIR must hold no
//! file. One daemon serves a whole table, as it would serve an attacker
//! and real clients in turn.
//!
//! The rows are `const` data walked by [`walk`], so they can join the
//! other categories of the hostile-request corpus as they are.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use distcc::protocol::{Request, RequestHead};

use super::harness::{Daemon, Farm, GOOD_V1, Kind, Opts, exchange, text};

mod framing;
mod stalls;

pub use framing::FRAMING;
pub use stalls::STALLS;

/// What the attacker does on its connection(s).
#[derive(Clone, Copy, Debug)]
pub enum Act {
    /// Send the bytes, close our side, wait for the daemon to close.
    Send(fn() -> Vec<u8>),
    /// Send the bytes and stay connected until the daemon closes.
    Stay(fn() -> Vec<u8>),
    /// Send the first bytes at once, then the second one byte every `ms`,
    /// until the daemon closes.
    Trickle(fn() -> Vec<u8>, fn() -> Vec<u8>, u64),
    /// Send the bytes, then reset the connection.
    Reset(fn() -> Vec<u8>),
    /// `n` connections at once, each doing `Stay`.
    Many(usize, fn() -> Vec<u8>),
    /// `n` connections at once, each doing `Trickle`.
    ManyTrickle(usize, fn() -> Vec<u8>, fn() -> Vec<u8>, u64),
}

/// One row: a name, what is done, and what the daemon logs (one of the
/// `|`-separated texts).
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub act: Act,
    pub expect: &'static str,
}

/// `TOKEN` and 8 hex digits.
pub fn tok(token: &str, n: u32) -> Vec<u8> {
    format!("{token}{n:08x}").into_bytes()
}

/// A string item.
pub fn item(token: &str, bytes: &[u8]) -> Vec<u8> {
    let mut v = tok(token, bytes.len() as u32);
    v.extend_from_slice(bytes);
    v
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `gcc -c hello.c -o hello.o`, version `v` (v3: in /src).
pub fn head(v: u32) -> Vec<u8> {
    RequestHead {
        version: v,
        cwd: (v > 2).then(|| b"/src".to_vec()),
        argv: ["gcc", "-c", "hello.c", "-o", "hello.o"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect(),
    }
    .encode()
}

fn request_with(argv: &[&[u8]]) -> Vec<u8> {
    Request {
        head: RequestHead {
            version: 1,
            cwd: None,
            argv: argv.iter().map(|a| a.to_vec()).collect(),
        },
        source: b"int main(void) { return 0; }\n".to_vec(),
        files: Vec::new(),
    }
    .encode()
}

/// An LZO stream of `matches` matches of about 1 MiB each (4 KiB apiece):
/// a bomb of 2,000 of them is 8 MB that expand to 2 GiB, and a decoder
/// that checks only each match against the cap allocates it all.
pub fn bomb(matches: usize) -> Vec<u8> {
    bomb_of(b'x', matches)
}

/// [`bomb`], repeating `byte`.
pub fn bomb_of(byte: u8, matches: usize) -> Vec<u8> {
    let mut b = vec![18, byte]; // one literal
    for _ in 0..matches {
        // M3, its length spelled out in zero bytes (255 each), distance 1
        b.push(0x20);
        b.resize(b.len() + 4112, 0);
        b.extend_from_slice(&[1, 0, 0]);
    }
    b.extend_from_slice(&[0x11, 0, 0]); // end marker
    b
}

/// Matches of [`bomb`] that make more than 2 GiB.
const BOMB_MATCHES: usize = 2100;

/// A v2 DOTI whose body expands past the 2 GiB cap.
fn doti_bomb() -> Vec<u8> {
    item("DOTI", &bomb(BOMB_MATCHES))
}

fn no_bytes() -> Vec<u8> {
    Vec::new()
}

/// Connect, do `act`, and return once the daemon has closed every
/// connection (at most 30 s).
pub fn perform(port: u16, act: Act) {
    match act {
        Act::Send(bytes) => {
            let mut s = connect(port);
            let _ = s.write_all(&bytes());
            let _ = s.shutdown(Shutdown::Write);
            wait_closed(&mut s);
        }
        Act::Stay(bytes) => stay(port, &bytes()),
        Act::Trickle(first, rest, ms) => trickle(port, &first(), &rest(), ms),
        Act::Reset(bytes) => {
            let s = connect(port);
            let _ = (&s).write_all(&bytes());
            std::thread::sleep(Duration::from_millis(50));
            // SO_LINGER 0: close sends a reset.
            nix::sys::socket::setsockopt(
                &s,
                nix::sys::socket::sockopt::Linger,
                &libc::linger {
                    l_onoff: 1,
                    l_linger: 0,
                },
            )
            .unwrap();
            drop(s);
        }
        Act::Many(n, bytes) => {
            let b = bytes();
            let socks: Vec<TcpStream> = (0..n)
                .map(|_| {
                    let mut s = connect(port);
                    let _ = s.write_all(&b);
                    s
                })
                .collect();
            let deadline = Instant::now() + Duration::from_secs(30);
            for mut s in socks {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                s.set_read_timeout(Some(left)).unwrap();
                wait_closed(&mut s);
            }
        }
        Act::ManyTrickle(n, first, rest, ms) => {
            let threads: Vec<_> = (0..n)
                .map(|_| {
                    let (f, r) = (first(), rest());
                    std::thread::spawn(move || trickle(port, &f, &r, ms))
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
        }
    }
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

fn stay(port: u16, bytes: &[u8]) {
    let mut s = connect(port);
    let _ = s.write_all(bytes);
    wait_closed(&mut s);
}

/// Read until the daemon closes (or 30 s pass).
fn wait_closed(s: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            return;
        }
    }
}

fn trickle(port: u16, first: &[u8], rest: &[u8], ms: u64) {
    let mut s = connect(port);
    s.set_nodelay(true).unwrap();
    if s.write_all(first).is_err() {
        return;
    }
    s.set_read_timeout(Some(Duration::from_millis(ms))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 64];
    for b in rest.iter().cycle() {
        if Instant::now() > deadline || s.write_all(&[*b]).is_err() {
            return;
        }
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// How much more memory than at start-up the daemon may ever use over a
/// table (the largest row is a 16 MiB head: its buffer and its decoded
/// arguments).
const PEAK_GROWTH: u64 = 64 << 20;

/// A process's peak resident memory, in bytes.
pub fn vm_hwm(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<u64>().ok());
    kb.unwrap_or(0) * 1024
}

/// Whether the daemon logged one of `expect` (`|`-separated) after byte
/// `mark` of its log, within 20 s.
fn logged_since(d: &Daemon, mark: usize, expect: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = d.log_text();
        let new = log.get(mark..).unwrap_or("");
        if expect.split('|').any(|e| new.contains(e)) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Walk `cases` against one daemon of ours: each row done, its refusal
/// logged, then a valid compile answered and nothing left in TMPDIR. All
/// rows run; the failures are listed together.
pub fn walk(tag: &str, io_timeout: u32, cases: &[Case]) {
    crate::require_tool!("gcc");
    let farm = Farm::new(tag);
    let opts = Opts {
        env: vec![("DISTCC_IO_TIMEOUT".into(), io_timeout.to_string())],
        args: vec!["--jobs".into(), "2".into()],
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    let base = vm_hwm(d.pid());
    let mut failures = Vec::new();
    let mut over = false;
    for case in cases {
        let mark = d.log_text().len();
        let started = Instant::now();
        perform(d.port, case.act);
        if !logged_since(&d, mark, case.expect) {
            let log = d.log_text();
            let new = log.get(mark..).unwrap_or("");
            failures.push(format!(
                "{}: {:?} not logged; new log lines:\n{}",
                case.name,
                case.expect,
                tail(new)
            ));
        }
        let reply = exchange(d.port, GOOD_V1, false);
        if !reply.starts_with(b"DONE00000001STAT00000000") {
            failures.push(format!(
                "{}: no valid compile afterwards: {:?}",
                case.name,
                text(&reply)
            ));
        }
        let left = farm.daemon_temp_files();
        if !left.is_empty() {
            failures.push(format!("{}: files left in TMPDIR: {left:?}", case.name));
        }
        // No row may make the daemon allocate what it was told to: a
        // bomb's output, a 2 GiB body, re-parsed copies of a huge head.
        let peak = vm_hwm(d.pid());
        if !over && peak > base + PEAK_GROWTH {
            over = true;
            failures.push(format!(
                "{}: the daemon's peak memory grew by {} MiB",
                case.name,
                (peak - base) >> 20
            ));
        }
        eprintln!("{}: {:?}", case.name, started.elapsed());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The last lines of a log, each cut short (a refusal may quote 1 MiB).
pub fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let from = lines.len().saturating_sub(8);
    lines[from..]
        .iter()
        .map(|l| l.chars().take(300).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn hostile_framing() {
    assert!(FRAMING.len() + STALLS.len() >= 40);
    walk("hostile-framing", 300, FRAMING);
}

#[test]
fn hostile_stalls_and_floods() {
    walk("hostile-stalls", 2, STALLS);
}
