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

/// The framing rows: each is refused at once.
pub const FRAMING: &[Case] = &[
    Case {
        name: "empty connection",
        act: Act::Send(no_bytes),
        expect: "without sending a request",
    },
    Case {
        name: "wrong first token",
        act: Act::Send(|| b"HELO00000001".to_vec()),
        expect: "expected DIST",
    },
    Case {
        name: "lowercase token",
        act: Act::Send(|| b"dist00000001".to_vec()),
        expect: "expected DIST",
    },
    Case {
        name: "NUL in the token",
        act: Act::Send(|| b"DI\0T00000001".to_vec()),
        expect: "expected DIST",
    },
    Case {
        name: "token is a response",
        act: Act::Send(|| b"DONE00000001".to_vec()),
        expect: "expected DIST",
    },
    Case {
        name: "parameter not hex",
        act: Act::Send(|| b"DISTzzzzzzzz".to_vec()),
        expect: "not 8 hex digits",
    },
    Case {
        name: "parameter with a space",
        act: Act::Send(|| b"DIST 0000001".to_vec()),
        expect: "not 8 hex digits",
    },
    Case {
        name: "parameter with 0x",
        act: Act::Send(|| b"DIST0x000001".to_vec()),
        expect: "not 8 hex digits",
    },
    Case {
        name: "parameter with a sign",
        act: Act::Send(|| b"DIST-0000001".to_vec()),
        expect: "not 8 hex digits",
    },
    Case {
        name: "version 4",
        act: Act::Send(|| b"DIST00000004".to_vec()),
        expect: "unsupported protocol version 4",
    },
    Case {
        name: "version 2^32-1",
        act: Act::Send(|| b"DISTffffffff".to_vec()),
        expect: "version 4294967295",
    },
    Case {
        name: "truncated DIST",
        act: Act::Send(|| b"DIST000".to_vec()),
        expect: "closed the connection after 7 bytes",
    },
    Case {
        name: "DOTI instead of ARGC",
        act: Act::Send(|| b"DIST00000001DOTI00000000".to_vec()),
        expect: "expected ARGC",
    },
    Case {
        name: "ARGC 0",
        act: Act::Send(|| b"DIST00000001ARGC00000000".to_vec()),
        expect: "ARGC 0",
    },
    Case {
        name: "ARGC 2^32-1",
        act: Act::Send(|| b"DIST00000002ARGCffffffff".to_vec()),
        expect: "ARGC announces 4294967295 arguments, above the limit of 262144 arguments",
    },
    Case {
        name: "ARGC one over the cap",
        act: Act::Send(|| b"DIST00000001ARGC00040001".to_vec()),
        expect: "ARGC announces 262145 arguments, above the limit of 262144",
    },
    Case {
        name: "ARGC at the cap, then hang up",
        act: Act::Send(|| b"DIST00000001ARGC00040000".to_vec()),
        expect: "closed the connection after 24 bytes",
    },
    Case {
        name: "ARGC not hex",
        act: Act::Send(|| b"DIST00000001ARGC0000000G".to_vec()),
        expect: "not 8 hex digits",
    },
    Case {
        name: "ARGV one over the cap",
        act: Act::Send(|| b"DIST00000001ARGC00000001ARGV00100001".to_vec()),
        expect: "ARGV announces 1048577 bytes, above the limit of 1048576 bytes per string",
    },
    Case {
        name: "ARGV 2^31",
        act: Act::Send(|| b"DIST00000001ARGC00000001ARGV7fffffff".to_vec()),
        expect: "above the limit of 1048576 bytes per string",
    },
    Case {
        name: "head over 16 MiB",
        act: Act::Send(|| {
            let big = vec![b'D'; 1 << 20];
            let mut v = cat(&[b"DIST00000001", &tok("ARGC", 20), &item("ARGV", b"gcc")]);
            for _ in 0..19 {
                v.extend_from_slice(&item("ARGV", &big));
            }
            v
        }),
        expect: "above the limit of 16777216 bytes per head",
    },
    Case {
        name: "ARGV where DOTI belongs",
        act: Act::Send(|| cat(&[&head(1), &item("ARGV", b"x")])),
        expect: "expected DOTI",
    },
    Case {
        name: "DOTI instead of ARGV",
        act: Act::Send(|| b"DIST00000001ARGC00000002ARGV00000003gccDOTI00000000".to_vec()),
        expect: "expected ARGV",
    },
    Case {
        name: "truncated ARGV",
        act: Act::Send(|| b"DIST00000001ARGC00000005ARGV00000003gc".to_vec()),
        expect: "closed the connection after 38 bytes",
    },
    Case {
        name: "NUL in an argument",
        act: Act::Send(|| request_with(&[b"gcc", b"-c", b"hello.c", b"-DX=\0"])),
        expect: "NUL",
    },
    Case {
        name: "a 1 MiB compiler name is cut in the log",
        act: Act::Send(|| request_with(&[&[b'c'; 1 << 20], b"-c", b"hello.c"])),
        expect: "more bytes]",
    },
    Case {
        name: "a 1 MiB file name is cut in the log",
        act: Act::Send(|| {
            let mut name = vec![b'f'; (1 << 20) - 2];
            name.extend_from_slice(b".c");
            request_with(&[b"gcc", b"-c", &name])
        }),
        expect: "more bytes]",
    },
    Case {
        name: "DOTI over 2 GiB",
        act: Act::Send(|| cat(&[&head(1), b"DOTIffffffff"])),
        expect: "DOTI announces 4294967295 bytes, above the limit of 2147483648 bytes per body",
    },
    Case {
        name: "truncated DOTI",
        act: Act::Send(|| cat(&[&head(1), b"DOTI00000100short"])),
        expect: "closed the connection after",
    },
    Case {
        name: "DOTI length not hex",
        act: Act::Send(|| cat(&[&head(1), b"DOTI0000001x"])),
        expect: "not 8 hex digits",
    },
    Case {
        name: "LZO garbage",
        act: Act::Send(|| cat(&[&head(2), &item("DOTI", &[0xff; 8])])),
        expect: "decompression failed",
    },
    Case {
        name: "LZO with trailing bytes",
        act: Act::Send(|| {
            let mut z = distcc::protocol::lzo::compress(b"int x;\nint y;\nint z;\n");
            z.push(0);
            cat(&[&head(2), &item("DOTI", &z)])
        }),
        expect: "follow the end of the LZO stream",
    },
    Case {
        name: "LZO match before the start",
        act: Act::Send(|| cat(&[&head(2), &item("DOTI", &[0x11, 0x04, 0x00, 0x11, 0, 0])])),
        expect: "refers before its start",
    },
    Case {
        name: "LZO bomb over 2 GiB",
        act: Act::Send(|| cat(&[&head(2), &doti_bomb()])),
        expect: "LZO output exceeds the limit of 2147483648 bytes",
    },
    Case {
        name: "a 63 MiB source from 250 KB goes to a file, not memory",
        act: Act::Stay(|| cat(&[&head(2), &item("DOTI", &bomb_of(b'\n', 60))])),
        expect: "COMPILE_OK",
    },
    Case {
        name: "CDIR over the cap",
        act: Act::Send(|| b"DIST00000003CDIR00100001".to_vec()),
        expect: "CDIR announces 1048577 bytes",
    },
    Case {
        name: "CDIR relative",
        act: Act::Send(|| cat(&[b"DIST00000003", &item("CDIR", b"src"), &head(1)[12..]])),
        expect: "is not an absolute path",
    },
    Case {
        name: "CDIR with ..",
        act: Act::Send(|| {
            cat(&[
                b"DIST00000003",
                &item("CDIR", b"/src/../.."),
                &head(1)[12..],
            ])
        }),
        expect: "component",
    },
    Case {
        name: "NFIL 2^32-1",
        act: Act::Send(|| cat(&[&head(3), b"NFILffffffff"])),
        expect: "NFIL announces 4294967295 files, above the limit of 1048576 files",
    },
    Case {
        name: "NAME over the cap",
        act: Act::Send(|| cat(&[&head(3), b"NFIL00000001NAME00100001"])),
        expect: "NAME announces 1048577 bytes",
    },
    Case {
        name: "entry neither FILE nor LINK",
        act: Act::Send(|| {
            cat(&[
                &head(3),
                b"NFIL00000001",
                &item("NAME", b"/src/hello.c"),
                b"DOTI00000000",
            ])
        }),
        expect: "FILE or LINK",
    },
    Case {
        name: "FILE bomb over 2 GiB",
        act: Act::Send(|| {
            let body = bomb(BOMB_MATCHES);
            cat(&[
                &head(3),
                b"NFIL00000001",
                &item("NAME", b"/src/hello.c"),
                &item("FILE", &body),
            ])
        }),
        expect: "LZO output exceeds the limit of 2147483648 bytes",
    },
    Case {
        name: "stray bytes after a request",
        act: Act::Send(|| cat(&[GOOD_V1, b"garbage"])),
        expect: "unexpected bytes",
    },
];

/// Rows that stall or flood: the daemon runs with `DISTCC_IO_TIMEOUT=2`.
pub const STALLS: &[Case] = &[
    Case {
        name: "connect and send nothing",
        act: Act::Stay(no_bytes),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "half a head, then silence",
        act: Act::Stay(|| head(1)[..30].to_vec()),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "a head that never ends",
        act: Act::Trickle(no_bytes, || head(1).repeat(20), 100),
        expect: "bytes of the request head in 2s",
    },
    Case {
        name: "an endless stream of arguments",
        act: Act::Trickle(
            || b"DIST00000001ARGC00040000".to_vec(),
            || item("ARGV", b"x").repeat(1000),
            50,
        ),
        expect: "bytes of the request head in 2s",
    },
    Case {
        name: "the head, then silence",
        act: Act::Stay(|| head(1)),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "the head, then DOTI byte by byte",
        act: Act::Trickle(|| head(1), || b"DOTI00001000".to_vec(), 400),
        expect: "bytes of the source header in 2s",
    },
    Case {
        name: "a source that trickles",
        act: Act::Trickle(
            || cat(&[&head(1), b"DOTI00100000"]),
            || vec![b' '; 1000],
            100,
        ),
        expect: "bytes of the source in 2s",
    },
    Case {
        name: "half a source, then silence",
        act: Act::Stay(|| cat(&[&head(1), b"DOTI00000100int x;"])),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "pump files that trickle",
        act: Act::Trickle(
            || cat(&[&head(3), b"NFIL00000002"]),
            || item("NAME", b"/src/hello.c").repeat(100),
            100,
        ),
        expect: "bytes of the source in 2s",
    },
    Case {
        name: "half-close after the head",
        act: Act::Send(|| head(1)),
        expect: "instead of sending its source",
    },
    Case {
        name: "reset in the head",
        act: Act::Reset(|| head(1)[..20].to_vec()),
        expect: "closed the connection after|reset by peer",
    },
    Case {
        name: "reset in the source",
        act: Act::Reset(|| cat(&[&head(1), b"DOTI00001000int"])),
        expect: "closed the connection after|reset by peer",
    },
    Case {
        name: "300 idle connections",
        act: Act::Many(300, no_bytes),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "200 half heads",
        act: Act::Many(200, || head(2)[..40].to_vec()),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "100 heads waiting for their sources",
        act: Act::Many(100, || head(1)),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "100 trickling heads",
        act: Act::ManyTrickle(100, no_bytes, || head(1).repeat(20), 200),
        expect: "bytes of the request head in 2s",
    },
];

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
